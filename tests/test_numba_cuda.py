"""The CUDA backend against eager execution, under the CUDA simulator.

conftest.py sets NUMBA_ENABLE_CUDASIM=1 before Numba is imported. The
simulator runs every GPU thread in Python, so the shapes are tiny.
"""

import os
import re
import subprocess
import sys

import numpy as np
import pytest
from numba import config as numba_config, cuda

import tinygrad_tracer as jax
import tinygrad_tracer.numpy as jnp
from tinygrad_tracer import lax
from tinygrad_tracer.backends import numba_cuda
from functions import CASES, CASE_IDS

# conftest.py turns the simulator on before Numba is imported, so this always holds
# under pytest; were it not, these tests should fail (a required dependency is broken),
# not skip.
if not numba_config.ENABLE_CUDASIM and not cuda.is_available():
    raise RuntimeError("numba.cuda has neither a GPU nor the CUDA simulator: run the tests "
                       "through pytest (tests/conftest.py sets NUMBA_ENABLE_CUDASIM=1 before "
                       "Numba is imported) or set NUMBA_ENABLE_CUDASIM=1 yourself.")

rng = np.random.default_rng(0)


def arr(*shape):
    return jnp.asarray(rng.standard_normal(shape).astype(np.float32))


def check(f, *args, rtol=1e-6):
    """jit(f, backend='cuda') gives eager's values; returns its lowered text."""
    out = jax.jit(f, backend='cuda')(*args)
    expected = f(*args)
    for o, e in zip(out if isinstance(out, tuple) else (out,),
                    expected if isinstance(expected, tuple) else (expected,)):
        assert o.shape == e.shape and o.dtype == e.dtype
        np.testing.assert_allclose(np.asarray(o), np.asarray(e), rtol=rtol, atol=1e-6)
    return jax.jit(f, backend='cuda').lower(*args)


def compiled(f, *args):
    return numba_cuda.compile(jax.make_jaxpr(f)(*args), f.__name__)


def selu(x):
    return 1.05 * jnp.where(x > 0, x, 1.67 * jnp.exp(x) - 1.67)


# --- every primitive: the shared table of test functions (tests/functions.py) ------------------------

@pytest.mark.parametrize('case', CASES, ids=CASE_IDS)
def test_every_case_of_the_table_matches_the_cpu_backend(case):
    """Forward, and the gradient of a differentiable case: the simulator runs each kernel
    (and each host step) of the CUDA backend against the Numba CPU backend."""
    args = tuple(jnp.asarray(a) for a in case.make_args(np.random.default_rng(0)))
    programs = [case.fn]
    floats = [i for i, a in enumerate(args) if np.issubdtype(a.dtype, np.floating)]
    if case.differentiable and floats:
        def loss(*xs):
            return sum(jnp.sum(o.astype(jnp.float32)) for o in jax.tree_util.tree_leaves(case.fn(*xs)))
        programs.append(jax.grad(loss, argnums=tuple(floats)))
    for f in programs:
        with np.errstate(all='ignore'):
            got, want = jax.jit(f, backend='cuda')(*args), jax.jit(f, backend='numba')(*args)
        for g, w in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want)):
            assert (g.dtype, g.shape) == (w.dtype, w.shape)
            if np.issubdtype(w.dtype, np.floating):   # (a GPU reduction adds in another order)
                np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=2e-5, atol=1e-5)
            else:
                np.testing.assert_array_equal(np.asarray(g), np.asarray(w))


def test_simulator_is_on():
    assert numba_config.ENABLE_CUDASIM == 1   # conftest set it before numba was imported


def test_selu_is_one_kernel_with_the_fused_ops_as_comments():
    x = jnp.asarray(np.linspace(-3, 3, 64, dtype=np.float32))
    text = check(selu, x).as_text()
    exe = compiled(selu, x)
    assert [k.name for k in exe.kernels] == ['selu_k0']
    assert exe.kernels[0].eqn_indices == list(range(6))
    assert exe.fallbacks == []
    src = exe.kernels[0].source
    assert src.startswith("@_cuda.jit\ndef selu_k0(A, G):\n"
                          "    for _t in range(_cuda.grid(1), 64, _cuda.gridsize(1)):\n")
    # the rank-0 0.0 of `gt a 0.0:f32[]` is spread (broadcast) first: a kernel reads every operand alike
    assert "        # h:f32[64] = broadcast_in_dim 0.0:f32[]\n        h = np.float32(0.0)\n" in src
    assert "        # b:bool[64] = gt a h\n        b = a > h\n" in src
    assert "        # c:f32[64] = exp a\n        c = exp_f32(a)\n" in src
    assert "        f = (a if b else e)\n" in src   # a select, not a branch
    assert "        G[i0] = g\n" in src
    assert "cuda.jit" in text and "jit(selu) on the CUDA backend: 1 kernel(s)" in text


def test_broadcast_add_reads_the_row_by_index():
    a, b = arr(4, 8), arr(8)
    check(lambda a, b: a + b, a, b)
    src = compiled(lambda a, b: a + b, a, b).kernels[0].source
    assert "        i0 = _t // 8\n        i1 = _t % 8\n" in src
    assert "        c = B[i1]\n" in src


def test_transpose_then_add_reads_through_the_transpose():
    a, c = arr(4, 8), arr(8, 4)

    def f(a, c):
        return a.T + c
    check(f, a, c)
    src = compiled(f, a, c).kernels[0].source
    assert "# c:f32[8,4] = transpose[permutation=(1, 0)] a\n        c = A[i1, i0]\n" in src


def test_reductions_merge_their_threads_with_warp_shuffles():
    a = arr(4, 8)

    def f(a):
        return a.sum(axis=1), jnp.max(a, axis=0), a.sum(), jnp.argmax(a, axis=1)
    check(f, a, rtol=1e-5)
    exe = compiled(f, a)
    kernels = exe.kernels
    assert len(kernels) == 3   # the row sum and the argmax share a loop
    rows = kernels[0].source
    assert "shared" not in rows   # one warp (8 threads): shuffles only
    assert ("    for _o in range(_cuda.blockIdx.x, 4, _cuda.gridDim.x):   # a result per block\n"
            "        i0 = _o\n        acc_b = np.float32(0.0)\n") in rows
    assert "        for _r in range(_tid, 8, 8):   # this thread's share\n            i1 = _r\n" in rows
    # rounds n = 4, 2, 1 over a warp of 8 lanes (mask 0xff); argmax moves its value and index
    for n in (4, 2, 1):
        assert (f"        acc_b_other = _cuda.shfl_down_sync(0xff, acc_b, {n})\n"
                f"        acc_e_other = _cuda.shfl_down_sync(0xff, acc_e, {n})\n"
                f"        idx_e_other = _cuda.shfl_down_sync(0xff, idx_e, {n})\n"
                "        acc_b = acc_b + acc_b_other\n") in rows
    assert "        if _tid == 0:\n            b = np.float32(acc_b)\n" in rows
    assert "            B[i0] = b\n            E[i0] = e\n" in rows
    assert "  f_k0: eqns 0, 3, 4 block(s) x 8 thread(s)" in exe.as_text()
    whole = kernels[2].source   # a sum of all 32 elements: one block, 16 threads
    assert "        for _r in range(_tid, 32, 16):   # this thread's share\n            i0 = _r // 8\n" in whole
    assert "_cuda.shfl_down_sync(0xffff, acc_d, 8)" in whole
    assert "            D[0] = d\n" in whole


@pytest.mark.parametrize('dtype', [np.float32, np.float64, np.int8, np.uint16, np.uint32, np.uint64,
                                   np.int64, np.bool_])
def test_blocks_of_several_warps_merge_the_warps_totals_in_shared_memory(monkeypatch, dtype):
    from tinygrad_tracer.backends import cuda_kernels
    monkeypatch.setattr(cuda_kernels, 'REDUCE_BLOCK', 64)   # two warps (the simulator's default is 16 threads)
    x = rng.standard_normal((2, 70)) * 50
    x = jnp.asarray(x > 20 if dtype is np.bool_ else x.astype(dtype))

    def f(x):
        return x.sum(axis=1), jnp.max(x, axis=1), jnp.argmin(x, axis=1)
    exe = compiled(f, x)
    src = exe.kernels[0].source
    carrier = {np.bool_: 'np.int32', np.int8: 'np.int32', np.uint16: 'np.int32', np.uint32: 'np.int64',
               np.uint64: 'np.int64'}.get(dtype)
    sent = r"acc_(\w)" if carrier is None else fr"{carrier}\(acc_(\w)\)"
    moved = fr"_cuda\.shfl_down_sync\(0xffffffff, {sent}, 16\)"
    received = (moved if carrier is None else fr"\({moved} != 0\)" if dtype is np.bool_
                else fr"np\.{np.dtype(dtype).name}\({moved}\)")
    # the max accumulates in the input's dtype: a small one travels as its carrier
    match = re.search(fr"\n        acc_(\w)_other = {received}\n", src)
    assert match and match.group(1) == match.group(2), src
    assert "_lane = _tid % 32" in src and "if _lane == 0:" in src and "S_acc_c[_tid // 32] = " in src
    # n = 1 twice: last within each warp, then between the 2 warps' totals
    assert len(re.findall(r"_cuda\.shfl_down_sync\(0xffffffff, idx_\w, 1\)", src)) == 2
    assert "block(s) x 64 thread(s)" in exe.as_text()
    out, cpu = jax.jit(f, backend='cuda')(x), jax.jit(f, backend='numba')(x)
    for o, c in zip(out, cpu):
        assert o.dtype == c.dtype
        np.testing.assert_allclose(np.asarray(o).astype(float), np.asarray(c).astype(float), rtol=1e-5)


def test_the_simulators_shuffle_keeps_to_the_hardwares_rules():
    @cuda.jit
    def wrong_mask(out):   # a block of 8 threads names 32 lanes: a GPU would hang or misbehave
        out[cuda.threadIdx.x] = cuda.shfl_down_sync(0xffffffff, 1.0, 1)

    @cuda.jit
    def shuffle(out, n):
        t = cuda.threadIdx.x
        out[t] = cuda.shfl_down_sync(0xff, np.float32(t), n)
    out = cuda.device_array(8, np.float32)
    with pytest.raises(RuntimeError, match="mask must name exactly the lanes that call it"):
        wrong_mask[1, 8](out)
    shuffle[1, 8](out, 2)
    # lanes 6 and 7 read lanes 8 and 9, which are not in the warp: undefined on a GPU, NaN here
    np.testing.assert_array_equal(out.copy_to_host(), [2, 3, 4, 5, 6, 7, np.nan, np.nan])
    out = cuda.device_array(64, np.float32)

    @cuda.jit
    def past_the_warp(out):
        t = cuda.threadIdx.x
        out[t] = cuda.shfl_down_sync(0xffffffff, np.float32(t), 16)
    past_the_warp[1, 64](out)
    # lane l < 16 gets lane l + 16 of its own warp; past lane 31 a lane keeps its own value
    expected = [t + 16 if t % 32 < 16 else t for t in range(64)]
    np.testing.assert_array_equal(out.copy_to_host(), expected)


@pytest.mark.parametrize('reduce', [jnp.sum, jnp.prod, jnp.max, jnp.min, jnp.argmax, jnp.argmin,
                                    jnp.any, jnp.all])
@pytest.mark.parametrize('shape,axis', [((3, 37), 1), ((37, 3), 0), ((2, 3, 5), (0, 2)), ((40,), None)])
def test_block_reductions_agree_with_the_cpu_backend(reduce, shape, axis):
    if reduce in (jnp.argmax, jnp.argmin) and isinstance(axis, tuple):
        axis = 2
    x = jnp.asarray(np.round(rng.standard_normal(shape), 1).astype(np.float32))   # ties
    if reduce in (jnp.any, jnp.all):
        x = x > 0.5 if reduce is jnp.any else x > -1.5
    if reduce is jnp.prod:
        x = jnp.asarray(rng.uniform(0.9, 1.1, shape).astype(np.float32))

    def f(x):
        return reduce(x, axis=axis)
    out, cpu = jax.jit(f, backend='cuda')(x), jax.jit(f, backend='numba')(x)
    assert out.dtype == cpu.dtype and out.shape == cpu.shape
    np.testing.assert_allclose(np.asarray(out), np.asarray(cpu), rtol=1e-5)


def test_reduction_fuses_with_its_elementwise_input_and_output():
    a = arr(4, 8)

    def softmax_denominator(a):
        return jnp.log(jnp.exp(a).sum(axis=1)) * 2.0
    check(softmax_denominator, a, rtol=1e-5)
    assert len(compiled(softmax_denominator, a).kernels) == 1


@pytest.mark.parametrize('m,k,n', [(8, 8, 8), (5, 7, 3)])
def test_matmul_kernel(m, k, n):
    x, w = arr(m, k), arr(k, n)
    text = check(lambda x, w: x @ w, x, w, rtol=1e-5).as_text()
    assert "  matmul kernel: c:f32[" in text
    assert "# dot_general: tiled shared-memory kernel cuda_kernels.MATMUL" in text


def test_mlp_layer_forward():
    x, w, b = arr(8, 8), arr(8, 8), arr(8)

    def layer(x, w, b):
        return jnp.tanh(x @ w + b)
    check(layer, x, w, b, rtol=1e-5)
    exe = compiled(layer, x, w, b)
    assert len(exe.kernels) == 1 and exe.fallbacks == []
    assert "        g = tanh_f32(f)\n" in exe.kernels[0].source


def test_transposed_batched_and_float64_matmuls_are_kernels_other_dots_run_on_the_host(x64):
    x, w = arr(8, 4), arr(8, 3)

    def contract_first_axes(x, w):    # x.T @ w, as in a backward pass
        return lax.dot_general(x, w, (((0,), (0,)), ((), ())))

    def contract_last_axes(x, w):     # x @ w.T
        return lax.dot_general(x.T, w.T, (((1,), (1,)), ((), ())))

    def batched(a, b):
        return lax.dot_general(a, b, (((2,), (1,)), ((0,), (0,))))
    for f, args in [(contract_first_axes, (x, w)), (contract_last_axes, (x, w)),
                    (batched, (arr(2, 3, 4), arr(2, 4, 5))),
                    (lambda a, b: a @ b, (jnp.asarray(rng.standard_normal((9, 5))), jnp.asarray(rng.standard_normal((5, 11)))))]:
        check(f, *args, rtol=1e-5)
        assert compiled(f, *args).fallbacks == []
    i, j = jnp.arange(6, dtype=jnp.int32).reshape(2, 3), jnp.arange(12, dtype=jnp.int32).reshape(3, 4)

    def int_matmul(i, j):
        return i @ j
    check(int_matmul, i, j)
    exe = compiled(int_matmul, i, j)
    assert exe.fallbacks == ['dot_general'] and exe.kernels == []
    assert "  host: c:i32[2,4] = dot_general[" in exe.as_text()


def test_fallbacks_run_their_numpy_impl_and_are_logged(capsys, monkeypatch):
    monkeypatch.setattr(jax.settings, 'DEBUG', 1)
    x = arr(16)

    def f(x):
        return lax.reduce_window(x, 0.0, lax.add, (2,), (1,), 'SAME') * 2.0 + jnp.cumsum(x)
    exe = compiled(f, x)
    err = capsys.readouterr().err
    assert ("cuda: no code generation for reduce_window_sum; it runs through its NumPy impl "
            "on the host") in err
    assert "cumsum" not in err   # a device kernel
    assert exe.fallbacks == ['reduce_window_sum']
    assert "1 host step(s) (reduce_window_sum)" in exe.as_text()
    assert "  host: b:f32[16] = reduce_window_sum[" in exe.as_text()
    check(f, x, rtol=1e-5)


def test_control_flow_bodies_are_compiled_and_run_on_the_device():
    x = arr(8)

    def f(x):
        y = lax.fori_loop(0, 3, lambda i, c: c * 2.0 + jnp.sum(c), jnp.sin(x))
        return lax.cond(y[0] > 0, lambda y: jnp.cumsum(y), lambda y: y * jnp.max(y), y)
    check(f, x, rtol=1e-6)
    exe = compiled(f, x)
    assert exe.fallbacks == [] and exe.host_steps == []
    assert [s.name for s in exe.subexecutables] == ['scan_body', 'cond_branch', 'cond_branch']
    # every kernel of every body is in the list a PTX compile takes
    assert [name for name, _, _ in exe.launches()] == [
        'f_k0', 'f_k1',                                     # sin; the predicate y[0] > 0
        'scan_body_k0', 'scan_body_k1', 'scan_body_k2',     # i + 1; sum(c); c * 2 + sum
        'cond_branch_k0', 'cond_branch_k1',                 # max(y); y * max(y)
        'cond_branch_k0']                                   # cumsum(y)


def test_scalars_and_integers():
    def f(x, s):
        return (x * s + 3) % 5, (x * s).sum()
    check(f, jnp.arange(12, dtype=jnp.int32).reshape(3, 4), jnp.int32(7))


def test_gpu_devices_under_the_simulator():
    assert repr(jax.devices('gpu')) == '[CudaDevice(id=0)]'


def test_argmax_across_threads_takes_the_first_extreme_or_nan():
    x = np.zeros((2, 40), np.float32)
    x[0, [5, 21, 37]] = 3.0           # ties held by different threads: the first wins
    x[1, [9, 30]] = np.nan            # the first nan wins over everything
    x[1, 3] = 7.0
    for f in (lambda x: jnp.argmax(x, axis=1), lambda x: jnp.argmin(-x, axis=1),
              lambda x: jnp.max(x, axis=1)):
        np.testing.assert_array_equal(np.asarray(jax.jit(f, backend='cuda')(jnp.asarray(x))),
                                      np.asarray(f(jnp.asarray(x))))


@pytest.mark.parametrize('name,f', [
    ('gather', lambda x, i: lax.gather(x, i, (1,))),
    ('gather 2 axes, clamped', lambda x, i: lax.gather(x, jnp.stack([i[:, 0] * 3 - 4, i[:, 0]], 1), (0, 2))),
    ('scatter-add, repeats', lambda x, i: lax.scatter_add(x, i, jnp.ones((6, 3, 5), jnp.float32) * 0.5, (1,))),
    ('scatter-add out of bounds', lambda x, i: lax.scatter_add(x, i + 2, x[:, :1].transpose(1, 0, 2).repeat(6, 0), (1,))),
    ('cumsum', lambda x, i: jnp.cumsum(x, axis=1)),
    ('cumsum reverse', lambda x, i: lax.cumsum(x, axis=2, reverse=True)),
    ('cumsum int', lambda x, i: jnp.cumsum(i, axis=0)),
])
def test_gather_scatter_cumsum_kernels_agree_with_the_cpu_backend(name, f):
    x = arr(3, 4, 5)
    i = jnp.asarray(np.array([[0], [3], [1], [3], [3], [2]], np.int32))
    out, cpu = jax.jit(f, backend='cuda')(x, i), jax.jit(f, backend='numba')(x, i)
    assert out.dtype == cpu.dtype and out.shape == cpu.shape
    np.testing.assert_allclose(np.asarray(out), np.asarray(cpu), rtol=1e-6)
    exe = compiled(f, x, i)
    assert not {'gather', 'scatter-add', 'cumsum'} & set(exe.fallbacks)


def test_an_mlp_step_keeps_every_intermediate_on_the_device(monkeypatch):
    from ptx_kernels import mlp_step, mlp_step_args   # benchmarks/bench_cuda.py's step
    params, x, y = mlp_step_args(np.random.default_rng(0), batch=5, hidden=4)
    step = jax.jit(mlp_step, backend='cuda')
    step(params, x, y)   # compiles; constants go to the device once
    assert compiled(mlp_step, params, x, y).fallbacks == []   # every dot_general is a matmul kernel

    counts = {'to_device': 0, 'to_host': 0}
    to_device, device_array_type = cuda.to_device, type(cuda.device_array(1, np.float32))
    copy_to_host = device_array_type.copy_to_host

    def counting_to_device(*a, **k):
        counts['to_device'] += 1
        return to_device(*a, **k)

    def counting_copy_to_host(self, *a, **k):
        counts['to_host'] += 1
        return copy_to_host(self, *a, **k)
    monkeypatch.setattr(cuda, 'to_device', counting_to_device)
    monkeypatch.setattr(device_array_type, 'copy_to_host', counting_copy_to_host)
    out = step(params, x, y)
    assert counts == {'to_device': 6, 'to_host': 0}   # the 6 arguments in; results stay on the device
    for o, e in zip(jax.tree_util.tree_leaves(out), jax.tree_util.tree_leaves(mlp_step(params, x, y))):
        np.testing.assert_allclose(np.asarray(o), np.asarray(e), rtol=1e-5, atol=1e-6)


def test_no_gpu_and_no_simulator_is_one_clear_error():
    """In a process without NUMBA_ENABLE_CUDASIM: compiling works (no GPU needed), the
    first call without a GPU says how to run under the simulator."""
    import os
    import subprocess
    import sys
    code = ("import numpy as np, tinygrad_tracer as jax, tinygrad_tracer.numpy as jnp\n"
            "from numba import cuda\n"
            "if cuda.is_available(): print('GPU'); raise SystemExit\n"
            "f = jax.jit(lambda x: jnp.exp(x) + 1.0, backend='cuda')\n"
            "x = jnp.ones(4)\n"
            "assert 'def lambda__k0' in f.lower(x).as_text()\n"
            "try:\n    f(x)\nexcept RuntimeError as e:\n    print('ERROR', e)\n")
    env = {k: v for k, v in os.environ.items() if k != 'NUMBA_ENABLE_CUDASIM'}
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    if out.stdout.startswith('GPU'):
        pytest.skip("this machine has a GPU: there is no error to see")
    assert out.stdout.startswith("ERROR jit(..., backend='cuda') found no CUDA GPU")
    assert "NUMBA_ENABLE_CUDASIM=1" in out.stdout and out.stdout.count('\n') == 1


def test_the_gpu_benchmark_runs_under_the_simulator_and_says_its_figures_mean_nothing():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    run = subprocess.run([sys.executable, os.path.join('benchmarks', 'bench_cuda.py'), '--quick'],
                         cwd=root, capture_output=True, text=True, timeout=600,
                         env={**os.environ, 'NUMBA_ENABLE_CUDASIM': '1'})
    assert run.returncode == 0, run.stderr[-3000:]
    out = run.stdout
    assert "UNDER THE CUDA SIMULATOR" in out and "MEAN NOTHING" in out
    for row in ("selu, ", "row sum", "matmul", "digits MLP SGD step", "scan RNN, 3 steps"):
        assert row in out, out
    assert out.count("  tt jit cuda ") == 5 and out.count("  tt jit numba (CPU) ") == 5, out
