"""The Numba backend (backends/numba_cpu.py): every primitive against eager, the
kernel partition, the disk cache across processes, fallbacks, control flow and
what `as_text()` shows.

Compiling a kernel costs a few tenths of a second, so the tests keep shapes
fixed and draw *values* (hypothesis) for kernels compiled once; kernels live
in the disk cache (TT_CACHE_DIR), so a second run of this file loads them.
"""
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp
import threadpoolctl

import tinygrad_tracer as jax
import tinygrad_tracer.numpy as jnp
from tinygrad_tracer import lax, random, tree_util
from tinygrad_tracer.backends import numba_cpu
from functions import CASES, CASE_IDS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def numba_jit(f, **kwargs):
    return jax.jit(f, backend='numba', **kwargs)


def compiled(f, *args):
    return f.lower(*args).compile()


def assert_matches(got, want, rtol=2e-6, atol=1e-6):
    """Same structure, dtypes, shapes and weak types; floats within a few ulp, the rest exact."""
    assert tree_util.tree_structure(got) == tree_util.tree_structure(want)
    for n, (g, w) in enumerate(zip(tree_util.tree_leaves(got), tree_util.tree_leaves(want))):
        path = f"leaf {n}" + (f" ({sorted(want)[n]})" if isinstance(want, dict) else "")
        assert (g.dtype, g.shape, g.weak_type) == (w.dtype, w.shape, w.weak_type), path
        if np.issubdtype(w.dtype, np.floating):
            np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=rtol, atol=atol, err_msg=path)
        else:
            np.testing.assert_array_equal(np.asarray(g), np.asarray(w), err_msg=path)


# --- every primitive: the shared table of test functions ----------------------------------------

@pytest.mark.parametrize('case', CASES, ids=CASE_IDS)
def test_case_matches_eager(case):
    args = [jnp.asarray(a) for a in case.make_args(np.random.default_rng(0))]
    assert_matches(numba_jit(case.fn)(*args), case.fn(*args))


def test_every_primitive_of_the_table_compiles_or_falls_back_by_name():
    """Which primitives have code generation: all but the data-movement ones, and
    convolutions and window reductions (NumPy's im2col + matmul on the host)."""
    fallbacks = set()
    for case in CASES:
        args = [jnp.asarray(a) for a in case.make_args(np.random.default_rng(0))]
        fallbacks.update(compiled(numba_jit(case.fn), *args).fallbacks)
    assert fallbacks == {'conv_general_dilated', 'reduce_window_sum', 'reduce_window_max',
                         'reduce_window_min'}


# --- values drawn by hypothesis, shapes fixed (each kernel compiles once) --------------------------

def _float_ops(x, y):
    return dict(exp=lax.exp(x), log=lax.log(x), log1p=lax.log1p(x), expm1=lax.expm1(x),
                tanh=lax.tanh(x), logistic=lax.logistic(x), sqrt=lax.sqrt(x), rsqrt=lax.rsqrt(x),
                sin=lax.sin(x), erf=lax.erf(x), abs=lax.abs(x), sign=lax.sign(x),
                floor=lax.floor(x), round=lax.round(x), round_even=lax.round(x, 1),
                is_finite=lax.is_finite(x), cube=lax.integer_pow(x, 3),
                inv_square=lax.integer_pow(x, -2), max=lax.max(x, y), min=lax.min(x, y),
                div=lax.div(x, y), rem=lax.rem(x, y), pow=lax.pow(x, y), atan2=lax.atan2(x, y),
                lt=lax.lt(x, y), eq=lax.eq(x, y), select=lax.select(x > y, x, y),
                to_int=lax.convert_element_type(x, np.int32),
                to_uint8=lax.convert_element_type(x, np.uint8),
                bits=lax.bitcast_convert_type(x, np.int32))


_float32s = hnp.arrays(np.float32, (16,), elements=st.floats(width=32))   # inf, nan, subnormals


@settings(max_examples=25, deadline=None)
@given(x=_float32s, y=_float32s)
def test_float_elementwise_special_values(x, y):
    x, y = jnp.asarray(x), jnp.asarray(y)
    got, want = numba_jit(_float_ops)(x, y), _float_ops(x, y)
    for name in want:
        g, w = np.asarray(got[name]), np.asarray(want[name])
        assert g.dtype == w.dtype, name
        if w.dtype.kind == 'f':   # within 4 ulp (relative), or both tiny
            np.testing.assert_allclose(g, w, rtol=5e-7, atol=1e-37, err_msg=name)
        else:
            np.testing.assert_array_equal(g, w, err_msg=name)


def _int_ops(x, y):
    return dict(add=x + y, sub=x - y, mul=x * y, div=lax.div(x, y), rem=lax.rem(x, y),
                neg=-x, abs=lax.abs(x), max=lax.max(x, y), min=lax.min(x, y),
                and_=x & y, or_=x | y, xor=x ^ y, not_=~x, shl=lax.shift_left(x, y & 63),
                shr=lax.shift_right_logical(x, y & 63), sar=lax.shift_right_arithmetic(x, y & 63),
                ge=x >= y, to_f32=lax.convert_element_type(x, np.float32),
                to_i8=lax.convert_element_type(x, np.int8), to_u32=lax.convert_element_type(x, np.uint32),
                to_bool=lax.convert_element_type(x, np.bool_), sum=lax.reduce_sum(x, (0,)))


_int32s = hnp.arrays(np.int32, (12,), elements=st.one_of(st.integers(-2 ** 31, 2 ** 31 - 1),
                                                         st.sampled_from([0, -1, 1, -2 ** 31])))


@settings(max_examples=25, deadline=None)
@given(x=_int32s, y=_int32s)
def test_int32_ops_wrap_like_xla(x, y):
    x, y = jnp.asarray(x), jnp.asarray(y)
    assert_matches(numba_jit(_int_ops)(x, y), _int_ops(x, y))


def _uint32_ops(x, y):   # what threefry2x32 is made of
    return (x + y, x * y, x ^ y, lax.shift_left(x, y % 37), lax.shift_right_logical(x, y % 37),
            lax.shift_right_arithmetic(x, y % 37), x | (y >> 3), lax.div(x, y), lax.rem(x, y),
            lax.convert_element_type(x, np.int32), lax.convert_element_type(x, np.float32), x > y)


@settings(max_examples=25, deadline=None)
@given(x=hnp.arrays(np.uint32, (12,)), y=hnp.arrays(np.uint32, (12,)))
def test_uint32_ops(x, y):
    x, y = jnp.asarray(x), jnp.asarray(y)
    assert_matches(numba_jit(_uint32_ops)(x, y), _uint32_ops(x, y))


def _reductions(x):
    return [op(x, axes) for axes in ((0,), (1,), (0, 1))
            for op in (lax.reduce_max, lax.reduce_min, lax.reduce_sum)] + \
        [lax.argmax(x, 0), lax.argmax(x, 1), lax.argmin(x, 0), lax.argmin(x, 1)]


@settings(max_examples=25, deadline=None)
@given(x=hnp.arrays(np.float32, (3, 5), elements=st.one_of(
    st.floats(-10, 10, width=32), st.sampled_from([np.nan, np.inf, -np.inf]))))
def test_reductions_with_nan_and_inf(x):
    """nan wins max/min; argmax/argmin pick the first nan, else the first extreme.
    Axis 0 runs the column order (a row of accumulators), axis 1 the row order."""
    x = jnp.asarray(x)
    assert_matches(numba_jit(_reductions)(x), _reductions(x), rtol=1e-5, atol=1e-5)


def test_prng_is_bit_identical_to_eager():
    """threefry2x32 (uint32 adds, rotates, xors) fuses into one kernel per draw."""
    key = random.PRNGKey(42)
    f = lambda k: (random.normal(k, (100,)), random.uniform(k, (3, 4)), random.bits(k, (5,)))
    got, want = numba_jit(f)(key), f(key)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype
        np.testing.assert_array_equal(np.asarray(g), np.asarray(w))


@pytest.mark.parametrize('fn', [jnp.exp, jnp.log, jnp.tanh, lax.logistic, lax.erf, jnp.sin],
                         ids=['exp', 'log', 'tanh', 'logistic', 'erf', 'sin'])
def test_float64_uses_numpys_math(x64, fn):
    x = jnp.asarray(np.linspace(0.1, 3.0, 7))
    assert x.dtype == np.float64
    assert_matches(numba_jit(fn)(x), fn(x), rtol=1e-14, atol=0)


# --- the partition --------------------------------------------------------------------------------

def selu(x, alpha=1.67, lmbda=1.05):
    return lmbda * jnp.where(x > 0, x, alpha * jnp.exp(x) - alpha)


def test_selu_is_one_kernel_with_every_equation():
    x = jnp.asarray(np.linspace(-3, 3, numba_cpu.PARALLEL_MIN, dtype=np.float32))
    f = numba_jit(selu)
    exe = compiled(f, x)
    n_eqns = len(f.lower(x).jaxpr.eqns)
    (k,) = exe.kernels
    assert k.eqn_indices == list(range(n_eqns)) and k.name == 'selu_k0'
    assert k.kernel.parallel and 'for i0 in prange(n0):' in k.source   # big enough for every core
    assert f'# c:f32[{x.size}] = exp a\n' in k.source and 'c = exp_f32(a)' in k.source
    assert_matches(f(x), selu(x))


def test_small_kernels_stay_serial():
    (k,) = compiled(numba_jit(selu), jnp.ones(10)).kernels
    assert not k.kernel.parallel and 'prange(' not in k.source


def test_softmax_partition():
    """Max pass, exp-and-sum pass, then the normalization: each pass reads the result
    of the one before through a broadcast, so they cannot share a loop."""
    def softmax(x):
        e = jnp.exp(x - x.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)
    f = numba_jit(softmax)
    x = jnp.asarray(np.random.default_rng(0).normal(size=(4, 6)).astype(np.float32))
    kernels = compiled(f, x).kernels
    assert [(k.kernel.domain, k.kernel.reduced) for k in kernels] == [((4, 6), (1,)), ((4, 6), (1,)), ((4, 6), ())]
    np.testing.assert_allclose(np.asarray(f(x)).sum(1), np.ones(4), rtol=1e-6)


def test_layout_ops_are_index_maps():
    x = jnp.asarray(np.arange(20, dtype=np.float32).reshape(4, 5))
    f = numba_jit(lambda x: x.T[1:, ::2] + 1.0)
    (k,) = compiled(f, x).kernels
    assert 'c = A[2 * i1, 1 + i0]' in k.source
    assert_matches(f(x), x.T[1:, ::2] + 1.0)


def test_column_reduction_reads_rows_in_order():
    """Summing over axis 0 (a bias gradient) keeps a row of accumulators."""
    x = jnp.asarray(np.random.default_rng(0).normal(size=(7, 5)).astype(np.float32))
    f = numba_jit(lambda x: jnp.tanh(x).sum(0) * 2.0)
    (k,) = compiled(f, x).kernels
    assert 'acc_c = np.empty((n1,), np.float32)' in k.source
    assert 'for i0 in range(n0):\n        for i1 in range(n1):' in k.source
    assert_matches(f(x), jnp.tanh(x).sum(0) * 2.0, rtol=1e-6)


def test_float_sums_add_in_xlas_order():
    """Up to 32 elements: one after another in float32, as XLA (and eager execution):
    the same bits. Longer: a float64 accumulator."""
    x = jnp.asarray(np.random.default_rng(0).normal(size=(6, 32)).astype(np.float32) * 1e3)
    f = numba_jit(lambda x: (x.sum(1), x.sum()))
    short, long = compiled(f, x).kernels[0].source, compiled(f, x).kernels[-1].source
    assert 'acc_b = np.float32(0.0)' in short and 'np.float64(0.0)' in long
    got, want = f(x), (x.sum(1), x.sum())
    np.testing.assert_array_equal(np.asarray(got[0]), np.asarray(want[0]))
    np.testing.assert_allclose(np.asarray(got[1]), np.asarray(want[1]), rtol=1e-6)


def test_nested_jit_is_inlined_and_fused():
    inner = jax.jit(lambda x: jnp.sin(x) + 1.0)
    f = numba_jit(lambda x: inner(x) * inner(2.0 * x))
    x = jnp.linspace(0, 1, 5)
    assert len(compiled(f, x).kernels) == 1
    assert_matches(f(x), inner(x) * inner(2.0 * x))


def _mlp_step():
    def loss(params, x, y):
        h = x
        for w, b in params[:-1]:
            h = selu(h @ w + b)
        w, b = params[-1]
        logits = h @ w + b
        m = lax.stop_gradient(logits.max(1, keepdims=True))
        logp = logits - m - jnp.log(jnp.exp(logits - m).sum(1, keepdims=True))
        return -jnp.mean(jnp.sum(logp * y, axis=1))

    def step(params, x, y):
        grads = jax.grad(loss)(params, x, y)
        return [(w - 0.01 * gw, b - 0.01 * gb) for (w, b), (gw, gb) in zip(params, grads)]
    rng = np.random.default_rng(0)
    sizes = [8, 6, 6, 3]
    params = [(jnp.asarray(rng.normal(size=(m, n)).astype(np.float32)), jnp.zeros(n))
              for m, n in zip(sizes[:-1], sizes[1:])]
    x = jnp.asarray(rng.normal(size=(5, 8)).astype(np.float32))
    y = jnp.asarray(np.eye(3, dtype=np.float32)[rng.integers(0, 3, 5)])
    return step, (params, x, y)


def test_mlp_sgd_step_partition():
    """Forward: a kernel per layer's bias + selu, two for the log-softmax; backward: a
    kernel per layer fusing the selu derivative with its bias gradient (a column sum)
    and that bias's SGD update; one SGD update per weight. Matmuls go to BLAS."""
    step, args = _mlp_step()
    f = numba_jit(step)
    exe = compiled(f, *args)
    assert len(exe.kernels) == 10
    assert sum(s.kind == 'dot' for s in exe.plan.steps) == 8 and not exe.fallbacks
    assert_matches(f(*args), step(*args), rtol=1e-5, atol=1e-6)


# --- fallbacks -------------------------------------------------------------------------------------

def test_fallback_runs_the_numpy_impl_and_is_logged(monkeypatch, capsys):
    monkeypatch.setattr(jax.settings, 'DEBUG', 1)
    def g(x):
        return lax.reduce_window(x * 2.0, 0.0, lax.add, (2,), (1,), 'VALID') + 1.0
    f = numba_jit(g)
    x = jnp.asarray(np.array([3.0, -1.0, 2.0], np.float32))
    exe = compiled(f, x)
    assert exe.fallbacks == ['reduce_window_sum'] and len(exe.kernels) == 2
    assert ("numba: no code generation for reduce_window_sum; it runs through its NumPy impl"
            in capsys.readouterr().err)
    assert "1 host fallback(s), fallbacks: reduce_window_sum" in f.lower(x).as_text()
    assert_matches(f(x), g(x))


def test_unsupported_dtype_falls_back(x64):
    x = jnp.asarray(np.array([0.1, -0.5, 0.9]))   # float64: no polynomial erf_inv
    f = numba_jit(lax.erf_inv)
    assert compiled(f, x).fallbacks == ['erf_inv']
    assert_matches(f(x), lax.erf_inv(x), rtol=1e-15)


# --- control flow --------------------------------------------------------------------------------

def _control(x, n):
    y = lax.fori_loop(0, n, lambda i, c: c * 0.5 + jnp.sin(c) + i, x)
    z = lax.cond(y.sum() > 0, lambda a: a * 2.0, lambda a: -a, y)
    w = lax.while_loop(lambda c: c < 100.0, lambda c: c * 3.0, jnp.abs(x[0, 0]) + 1.0)
    c, ys = lax.scan(lambda c, xi: (c + xi, c * xi), jnp.zeros(x.shape[1:]), x)
    s, ss = lax.scan(lambda c, xi: (c + xi, c * xi), 0.0, x[:, 0])   # 0-d slices and results
    return z, w, c, ys, s, ss


def test_loops_run_in_compiled_code():
    x = jnp.asarray(np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32))
    f = numba_jit(_control, static_argnums=1)
    exe = compiled(f, x, 5)
    assert len(exe.compiled_loops) == 4   # fori_loop (a scan), while_loop, two scans
    assert [s.name for s in exe.subexecutables] == ['cond_branch', 'cond_branch']
    assert "def loop(x0):\n    x0, = x0.copy(),   # writable, like the body's results\n" \
        "    while while_cond(x0)[0][()]:" in exe.as_text()
    assert_matches(f(x, 5), _control(x, 5), rtol=1e-5)


def test_loop_with_a_float_matrix_product_compiles_whole():
    w = jnp.asarray(np.eye(3, dtype=np.float32) * 0.5)
    f = numba_jit(lambda x: lax.fori_loop(0, 3, lambda i, c: jnp.tanh(c @ w), x))
    x = jnp.ones((2, 3))
    exe = compiled(f, x)
    assert len(exe.compiled_loops) == 1 and not exe.subexecutables
    assert " = np.ascontiguousarray(" in exe.compiled_loops[0]
    assert_matches(f(x), lax.fori_loop(0, 3, lambda i, c: jnp.tanh(c @ w), x))


def test_loop_with_an_integer_matrix_product_runs_in_python():
    w = jnp.asarray(np.eye(3, dtype=np.int32) * 2)
    f = numba_jit(lambda x: lax.fori_loop(0, 3, lambda i, c: c @ w - 1, x))
    x = jnp.ones((2, 3), jnp.int32)
    exe = compiled(f, x)
    assert not exe.compiled_loops and [s.name for s in exe.subexecutables] == ['scan_body']
    assert_matches(f(x), lax.fori_loop(0, 3, lambda i, c: c @ w - 1, x))


def _scan_reference(xs, step, reverse):
    """lax.scan(step, zeros, xs, reverse=reverse) in NumPy: a Python loop."""
    c, ys = np.zeros(xs.shape[1], np.float32), [None] * len(xs)
    for i in (reversed(range(len(xs))) if reverse else range(len(xs))):
        c, ys[i] = step(c, xs[i])
    return c, np.stack(ys)


@pytest.mark.parametrize('reverse', [False, True])
@pytest.mark.parametrize('path', ['compiled', 'compiled_matmul', 'python_fallback'])
def test_scan_reverse_on_every_loop_path(path, reverse):
    """reverse=True walks xs from the end and writes ys[i] where x[i] was, whichever
    way the Numba backend runs the loop: compiled whole (a float matrix product in it
    or not), or from Python calling the compiled body (a primitive with no code
    generation in it)."""
    rng = np.random.default_rng(0)
    xs = rng.normal(size=(5, 3)).astype(np.float32)
    w = (rng.normal(size=(3, 3)) * 0.5).astype(np.float32)
    d = np.diag(w).copy()
    np_step, jnp_step = {
        'compiled': (lambda c, x: (np.tanh(c * d + x), c * x),
                     lambda c, x: (jnp.tanh(c * jnp.asarray(d) + x), c * x)),
        'compiled_matmul': (lambda c, x: (np.tanh(c @ w + x), c * x),
                          lambda c, x: (jnp.tanh(c @ jnp.asarray(w) + x), c * x)),
        'python_fallback': (lambda c, x: (np.tanh((c + np.append(c[1:], 0)) * 0.5 + x), c * x),
                            lambda c, x: (jnp.tanh(lax.reduce_window(c, 0.0, lax.add, (2,), (1,), 'SAME')
                                                   * 0.5 + x), c * x)),
    }[path]

    def f(xs):
        return lax.scan(jnp_step, jnp.zeros(3), xs, reverse=reverse)
    x = jnp.asarray(xs)
    exe = compiled(numba_jit(f), x)
    if path.startswith('compiled'):
        assert len(exe.compiled_loops) == 1 and not exe.subexecutables
    else:
        assert not exe.compiled_loops and [s.name for s in exe.subexecutables] == ['scan_body']
    got = numba_jit(f)(x)
    assert_matches(got, jax.jit(f, backend='interpret')(x), rtol=1e-5)
    assert_matches(got, f(x), rtol=1e-5)
    for g, want in zip(got, _scan_reference(xs, np_step, reverse)):
        np.testing.assert_allclose(np.asarray(g), want, rtol=1e-5, atol=1e-6)


# --- the executable --------------------------------------------------------------------------------

def test_outputs_inputs_literals_and_constants():
    const = np.arange(3, dtype=np.float32)
    f = numba_jit(lambda x, i: (x, 2.0, jnp.asarray(const), x * 2, x * 2, i))
    x, i = jnp.ones(3), jnp.asarray(np.int32(7))
    assert_matches(f(x, i), (x, jnp.asarray(2.0), jnp.asarray(const), x * 2, x * 2, i))
    assert f(1.5, 3)[0].weak_type


def _two_layers(x, w):
    h = jnp.tanh(x @ w + 1.0)
    return (h @ w.T).sum(1) * 2.0


def test_intermediates_are_reused_but_results_are_not():
    """Intermediates live in a per-executable arena; results are fresh arrays."""
    rng = np.random.default_rng(0)
    w = jnp.asarray(rng.normal(size=(4, 4)).astype(np.float32))
    xs = [jnp.asarray(rng.normal(size=(3, 4)).astype(np.float32)) for _ in range(3)]
    f = numba_jit(_two_layers)
    assert 'out=_arena_' in f.lower(xs[0], w).as_text()
    outs = [f(x, w) for x in xs]   # each call overwrites the arena, not earlier results
    for x, out in zip(xs, outs):
        assert_matches(out, _two_layers(x, w), rtol=1e-5)


def test_calls_from_several_threads():
    """A call that finds the arena busy (another thread is in the middle of a
    call) allocates fresh intermediates instead."""
    import threading
    rng = np.random.default_rng(1)
    w = jnp.asarray(rng.normal(size=(4, 4)).astype(np.float32))
    xs = [jnp.asarray(rng.normal(size=(3, 4)).astype(np.float32)) for _ in range(8)]
    f = numba_jit(_two_layers)
    want = [_two_layers(x, w) for x in xs]
    errors = []

    def work(i):
        for _ in range(25):
            if not np.allclose(np.asarray(f(xs[i], w)), np.asarray(want[i]), rtol=1e-5):
                errors.append(i)
    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)   # switch threads as often as possible
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert not errors


def test_threads_follow_the_free_cores(monkeypatch):
    """While other programs keep the cores busy, kernels and BLAS run on one thread."""
    import numba
    from tinygrad_tracer.backends import threads
    seen = []

    def probe():
        seen.append(numba.get_num_threads())
    run = threads.limit_threads(probe, parallel_kernels=True, blas=True)
    before = numba.get_num_threads()
    for others in (threads.CORES, 0):   # /proc/loadavg: `others` programs running besides us
        monkeypatch.setattr(threads, '_read_loadavg', lambda: f"{others}.0 0 0 {others + 1}/80 1")
        monkeypatch.setattr(threads.budget, 'checked', -1e9)   # look again now
        run()
    assert seen == [1, min(threads.CORES, numba.config.NUMBA_NUM_THREADS)]
    assert numba.get_num_threads() == before


def test_blas_thread_setting_is_restored():
    before = threadpoolctl.threadpool_info()
    numba_jit(_two_layers)(jnp.ones((3, 4)), jnp.ones((4, 4)))
    assert threadpoolctl.threadpool_info() == before


def test_non_contiguous_inputs():
    x = jnp.asarray(np.arange(12, dtype=np.float32).reshape(3, 4)).T   # an eager transpose
    f = numba_jit(lambda x: jnp.exp(x) * 2.0)
    assert_matches(f(x), jnp.exp(x) * 2.0)


def test_results_are_immutable():
    out = numba_jit(lambda x: x + 1.0)(jnp.ones(3))
    with pytest.raises(ValueError):
        np.asarray(out)[0] = 5.0


def test_as_text_shows_partition_driver_and_kernels():
    text = numba_jit(selu).lower(jnp.ones(8)).as_text()
    assert "jit(selu) on the Numba backend: 1 kernel(s), 0 BLAS call(s)" in text
    assert "  selu_k0: eqns 0-5 (gt, exp, mul, sub, select_n); loop over (8,)" in text
    assert "def jit_selu(x0):" in text and "    selu_k0(8, a, g)   # eqns 0-5" in text
    assert ("@njit(cache=True, parallel=False, error_model='numpy', fastmath={'contract'})\n"
            "def selu_k0(n0, A, G):") in text


def test_debug_2_prints_each_kernel_with_its_compile_time(monkeypatch, capsys):
    monkeypatch.setattr(jax.settings, 'DEBUG', 2)
    numba_jit(lambda x: x * 3.0 - 1.0)(jnp.ones(4))
    err = capsys.readouterr().err
    assert re.search(r"numba: kernel lambda__k0 (compiled|loaded from the disk cache) in \d+\.\d{3} s", err)
    assert "def lambda__k0(n0, A, C):" in err


# --- the disk cache ---------------------------------------------------------------------------------

_CHILD = """
import json
import tinygrad_tracer as jax, tinygrad_tracer.numpy as jnp
from tinygrad_tracer.backends import numba_cpu
f = jax.jit(lambda x: jnp.tanh(x) * 41.0 + 1.0, backend='numba')
out = f(jnp.arange(3.0))
print(json.dumps(dict(stats=numba_cpu.stats, out=[float(v) for v in out])))
"""


def test_a_second_process_loads_kernels_from_the_disk_cache(tmp_path, monkeypatch):
    monkeypatch.setenv('TT_CACHE_DIR', str(tmp_path))
    f = numba_jit(lambda x: jnp.tanh(x) * 41.0 + 1.0)
    before = dict(numba_cpu.stats)
    want = f(jnp.arange(3.0))
    assert numba_cpu.stats['compiled'] == before['compiled'] + 1
    (path,) = (tmp_path / 'kernels').glob('k_*.py')
    assert 'b = tanh_f32(a)' in path.read_text()
    env = dict(os.environ, TT_CACHE_DIR=str(tmp_path), PYTHONPATH=ROOT)
    result = json.loads(subprocess.run([sys.executable, '-c', _CHILD], env=env, check=True,
                                       capture_output=True, text=True).stdout)
    assert result['stats'] == {'compiled': 0, 'loaded': 1, 'reused': 0}
    assert result['out'] == [float(v) for v in want]


def test_overlapping_calls_restore_the_blas_setting(monkeypatch):
    """BLAS's thread count is one setting per process: two threads' calls overlapping
    (A in, B in, A out, B out) must leave it as it was before either."""
    import threading
    from tinygrad_tracer.backends import threads

    class FakeBlas:
        n = 4

        def get_num_threads(self):
            return self.n

        def set_num_threads(self, n):
            self.n = n
    blas = FakeBlas()
    monkeypatch.setattr(threads.budget, 'blas', blas)
    monkeypatch.setattr(threads.budget, 'free_cores', lambda: 1)
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    run_a = threads.limit_threads(lambda: (a_in.set(), b_in.wait(5)), False, True)
    run_b = threads.limit_threads(lambda: (b_in.set(), a_out.wait(5)), False, True)
    ta = threading.Thread(target=lambda: (run_a(), a_out.set()))
    tb = threading.Thread(target=run_b)
    ta.start()
    a_in.wait(5)
    tb.start()
    ta.join()
    tb.join()
    assert blas.n == 4
