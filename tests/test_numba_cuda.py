"""The CUDA backend against eager execution, under the CUDA simulator.

conftest.py sets NUMBA_ENABLE_CUDASIM=1 before Numba is imported. The
simulator runs every GPU thread in Python, so the shapes are tiny.
"""

import numpy as np
import pytest
from numba import config as numba_config, cuda

import tinygrad_tracer as jax
import tinygrad_tracer.numpy as jnp
from tinygrad_tracer import lax
from tinygrad_tracer.backends import numba_cuda

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


def test_simulator_is_on():
    assert numba_config.ENABLE_CUDASIM == 1   # conftest set it before numba was imported


def test_selu_is_one_kernel_with_the_fused_ops_as_comments():
    x = jnp.asarray(np.linspace(-3, 3, 64, dtype=np.float32))
    text = check(selu, x).as_text()
    exe = compiled(selu, x)
    assert [k.name for k in exe.kernels] == ['selu_k0']
    assert exe.kernels[0].eqn_indices == list(range(10))
    assert exe.fallbacks == []
    src = exe.kernels[0].source
    assert src.startswith("@_cuda.jit\ndef selu_k0(A, K):\n    _t = _cuda.grid(1)\n    if _t < 64:\n")
    assert "        # c:bool[64] = gt a b\n        c = a > b\n" in src
    assert "        # d:f32[64] = exp a\n        d = exp_f32(a)\n" in src
    assert "        i = (a if c else h)\n" in src   # a select, not a branch
    assert "        K[i0] = k\n" in src
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


def test_reductions_loop_per_output_element():
    a = arr(4, 8)

    def f(a):
        return a.sum(axis=1), jnp.max(a, axis=0), a.sum(), jnp.argmax(a, axis=1)
    check(f, a, rtol=1e-5)
    kernels = compiled(f, a).kernels
    assert len(kernels) == 3   # the row sum and the argmax share a loop
    rows = kernels[0].source
    assert ("    if _t < 4:\n        i0 = _t\n        acc_b = np.float32(0.0)\n"
            "        acc_e = np.float32(-np.inf)\n        idx_e = np.int64(0)\n"
            "        for i1 in range(8):\n            a = A[i0, i1]\n") in rows
    assert "        B[i0] = b\n        E[i0] = e\n" in rows
    assert "    if _t < 8:\n        i1 = _t\n" in kernels[1].source      # one thread per column
    assert "        for i0 in range(4):\n            for i1 in range(8):\n" in kernels[2].source
    assert "    if _t < 1:\n" in kernels[2].source and "D[0] = d\n" in kernels[2].source


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
    assert "# dot_general: tiled shared-memory kernel cuda_kernels.matmul" in text


def test_mlp_layer_forward():
    x, w, b = arr(8, 8), arr(8, 8), arr(8)

    def layer(x, w, b):
        return jnp.tanh(x @ w + b)
    check(layer, x, w, b, rtol=1e-5)
    exe = compiled(layer, x, w, b)
    assert len(exe.kernels) == 1 and exe.fallbacks == []
    assert "        g = tanh_f32(f)\n" in exe.kernels[0].source


def test_other_dot_generals_run_on_the_host():
    x, w = arr(8, 4), arr(8, 3)

    def contract_first_axes(x, w):
        return lax.dot_general(x, w, (((0,), (0,)), ((), ())))
    check(contract_first_axes, x, w, rtol=1e-5)
    exe = compiled(contract_first_axes, x, w)
    assert exe.fallbacks == ['dot_general'] and exe.kernels == []
    assert "  host: c:f32[4,3] = dot_general[" in exe.as_text()


def test_fallbacks_run_their_numpy_impl_and_are_logged(capsys, monkeypatch):
    monkeypatch.setattr(jax.settings, 'DEBUG', 1)
    x = arr(16)

    def f(x):
        return jnp.sort(x) * 2.0 + jnp.cumsum(x)
    exe = compiled(f, x)
    err = capsys.readouterr().err
    assert "cuda: no code generation for sort; it runs through its NumPy impl on the host" in err
    assert "cuda: no code generation for cumsum; it runs through its NumPy impl on the host" in err
    assert exe.fallbacks == ['sort', 'cumsum']
    assert "  host: b:f32[16] = sort[dimension=0 is_stable=True num_keys=1] a\n" in exe.as_text()
    check(f, x, rtol=1e-5)


def test_control_flow_runs_on_the_host():
    x = arr(8)

    def f(x):
        return lax.fori_loop(0, 3, lambda i, c: c * 2.0, jnp.sin(x))
    check(f, x, rtol=1e-6)
    assert compiled(f, x).fallbacks == ['scan']   # fori_loop with static bounds


def test_scalars_and_integers():
    def f(x, s):
        return (x * s + 3) % 5, (x * s).sum()
    check(f, jnp.arange(12, dtype=jnp.int32).reshape(3, 4), jnp.int32(7))


def test_gpu_devices_under_the_simulator():
    assert repr(jax.devices('gpu')) == '[CudaDevice(id=0)]'
