"""Generated code for what used to run through NumPy inside a jitted function.

gather, dynamic_slice, dynamic_update_slice, concatenate and pad are fused
reads at computed indices (`loop_nests.READ_RULES`), cumsum and cumprod fused
running totals (`loop_nests.SCANS`); the scatters and sort are loop kernels
(`loop_kernels`). Both compiling backends
run the same descriptions: each case runs on the Numba CPU backend and on the
CUDA backend (under the simulator, conftest.py), against eager execution (the
primitives' NumPy impls, the reference), and leaves no host fallback.
"""
import numpy as np
import pytest

import tinygrad_tracer as jax
import tinygrad_tracer.numpy as jnp
from tinygrad_tracer import lax, settings

BACKENDS = ['numba', 'cuda']


def compiled(f, *args, backend='numba'):
    return jax.jit(f, backend=backend).lower(*args).compile()


def agree(f, *args, backend, rtol=1e-6):
    """jit(f, backend) gives eager's dtypes, shapes and values, with no host fallback."""
    args = [jnp.asarray(a) for a in args]
    got, want = jax.jit(f, backend=backend)(*args), f(*args)
    got, want = jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want)
    for g, w in zip(got, want):
        assert (g.dtype, g.shape) == (w.dtype, w.shape)
        if np.issubdtype(w.dtype, np.floating):
            np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=rtol, atol=1e-6)
        else:
            np.testing.assert_array_equal(np.asarray(g), np.asarray(w))
    exe = compiled(f, *args, backend=backend)
    assert exe.fallbacks == []
    return exe


rng = np.random.default_rng(0)


def floats(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def ints(*shape, low=-5, high=5):
    return rng.integers(low, high, shape).astype(np.int32)


def bools(*shape):
    return rng.random(shape) < 0.5


# (name, function, arguments): small shapes, as the simulator runs a Python thread per GPU thread.
CASES = [
    # gather: indices out of bounds and negative clamp into range (the impl's mode)
    ('gather rows', lambda x, i: lax.gather(x, i, (0,)), (floats(4, 3), np.array([[0], [3], [-2], [9], [1]]))),
    ('gather middle axis', lambda x, i: lax.gather(x, i, (1,)), (ints(2, 5, 3), np.array([[4], [-1], [7]]))),
    ('gather two axes', lambda x, i: lax.gather(x, i, (0, 2)),
     (floats(3, 2, 4), np.array([[[0, 3], [2, -1]], [[5, 1], [1, 9]]]))),
    ('gather bool', lambda x, i: lax.gather(x, i, (1,)), (bools(3, 4), np.array([[1], [3], [0]]))),
    ('x[i] fused', lambda x, i: jnp.tanh(x[i] * 2.0) + x[0], (floats(5, 3), np.array([4, -1, 0, 2]))),
    ('take_along_axis', lambda x, i: jnp.take_along_axis(x, i, axis=1), (floats(3, 4), ints(3, 2, low=0, high=4))),
    ('gather empty', lambda x, i: lax.gather(x, i, (0,)), (floats(4, 3), np.zeros((0, 1), np.int32))),
    # scatters: repeated indices combine in order, out-of-bounds updates are dropped
    ('scatter-add repeats', lambda x, i, u: lax.scatter_add(x, i, u, (0,)),
     (floats(4, 3), np.array([[1], [1], [-1], [4], [0], [1]]), floats(6, 3))),
    ('scatter-add int axis 1', lambda x, i, u: lax.scatter_add(x, i, u, (1,)),
     (ints(2, 4), np.array([[3], [3], [0], [7]]), ints(4, 2))),
    ('scatter-add one past the end', lambda x, i, u: lax.scatter_add(x, i, u, (1,)),   # (r, 4) is (r + 1, 0) in memory
     (floats(3, 4), np.array([[4], [0], [4]]), floats(3, 3))),
    ('scatter', lambda x, i, u: lax.scatter(x, i, u, (0,)),
     (floats(5), np.array([[2], [4], [-3], [5], [2]]), floats(5))),
    ('scatter-mul', lambda x, i, u: lax.scatter_mul(x, i, u, (1,)),
     (floats(2, 3), np.array([[2], [2], [0], [-1]]), floats(4, 2))),
    ('scatter-min nan', lambda x, i, u: lax.scatter_min(x, i, u, (0,)),
     (np.array([1.0, np.nan, 3.0, -2.0], np.float32), np.array([[0], [2], [2], [3]]),
      np.array([0.5, 1.0, np.nan, -1.0], np.float32))),
    ('scatter-max int', lambda x, i, u: lax.scatter_max(x, i, u, (0,)),
     (ints(4), np.array([[0], [0], [3], [8]]), ints(4))),
    ('scatter-max bool', lambda x, i, u: lax.scatter_max(x, i, u, (0,)),
     (bools(4), np.array([[0], [1], [1]]), bools(3))),
    ('scatter two axes', lambda x, i, u: lax.scatter_add(x, i, u, (0, 2)),
     (floats(3, 2, 4), np.array([[0, 3], [2, -1], [0, 3], [1, 1]]), floats(4, 2))),
    ('.at[].add histogram', lambda i: jnp.zeros(6, jnp.int32).at[i].add(1), (ints(20, low=-1, high=7),)),
    ('.at[].set', lambda x, i: x.at[i].set(x[i] * 2.0), (floats(6), np.array([5, 0, 2]))),
    ('scatter no updates', lambda x, i, u: lax.scatter_add(x, i, u, (0,)),
     (floats(3), np.zeros((0, 1), np.int32), floats(0))),
    # dynamic slices: start indices clamp so the window stays inside
    ('dynamic_slice', lambda x, i, j: lax.dynamic_slice(x, (i, j), (2, 3)), (floats(4, 5), np.int32(1), np.int32(4))),
    ('dynamic_slice negative', lambda x, i: lax.dynamic_slice(x, (i,), (3,)), (ints(6), np.int32(-2))),
    ('dynamic_slice far below', lambda x, i: lax.dynamic_slice(x, (i, 0), (2, 2)), (floats(3, 2), np.int32(-9))),
    ('dynamic_update_slice', lambda x, u, i, j: lax.dynamic_update_slice(x, u, (i, j)),
     (floats(4, 5), floats(2, 2), np.int32(3), np.int32(-1))),
    ('dynamic_update_slice bool', lambda x, u, i: lax.dynamic_update_slice(x, u, (i,)),
     (bools(5), bools(2), np.int32(7))),
    ('dynamic_update_slice scalar', lambda x, u: lax.dynamic_update_slice(x, u, ()), (floats(), floats())),
    # concatenate, pad
    ('concatenate axis 0', lambda x, y: lax.concatenate([x, y, x], 0), (floats(2, 3), floats(1, 3))),
    ('concatenate axis 1 empty', lambda x, y, z: lax.concatenate([x, y, z], 1), (ints(2, 2), ints(2, 0), ints(2, 3))),
    ('concatenate bool', lambda x, y: jnp.concatenate([x, y]), (bools(3), bools(2))),
    ('pad interior', lambda x, v: lax.pad(x, v, ((1, 2, 1), (0, 1, 2))), (floats(3, 2), floats())),
    ('pad negative', lambda x, v: lax.pad(x, v, ((-1, -2, 0), (-1, 1, 1))), (ints(5, 3), np.int32(7))),
    ('pad literal', lambda x: jnp.pad(x, 2) + 1.0, (floats(3),)),
    # running sums and products, along every axis, both ways
    ('cumsum axis 0', lambda x: lax.cumsum(x, 0), (floats(3, 4),)),
    ('cumsum axis 1 reverse', lambda x: lax.cumsum(x, 1, reverse=True), (floats(2, 3, 4),)),
    ('cumsum axis 2 int', lambda x: lax.cumsum(x, 2), (ints(2, 3, 4),)),
    ('cumprod reverse', lambda x: lax.cumprod(x, 0, reverse=True), (floats(4, 2),)),
    ('cumprod int wraps', lambda x: lax.cumprod(x, 0), (np.full(40, 3, np.int32),)),
    ('cumsum empty', lambda x: lax.cumsum(x, 1), (floats(0, 3),)),
    ('cumsum fused', lambda x: jnp.exp(jnp.cumsum(x * 0.5, axis=0)) - 1.0, (floats(5),)),
    # sorts: stable, NaN last, several operands, two keys
    ('sort nan', lambda x: jnp.sort(x), (np.array([3.0, np.nan, -1.0, 2.0, np.nan, -0.0, 0.0], np.float32),)),
    ('sort axis 0', lambda x: lax.sort(x, dimension=0), (floats(5, 3),)),
    ('sort int', lambda x: lax.sort(x, dimension=1), (ints(2, 7),)),
    ('sort bool', lambda x: jnp.sort(x), (bools(6),)),
    ('argsort stable', lambda x: jnp.argsort(x), (ints(9, low=0, high=3),)),
    ('sort two keys', lambda k, j, v: lax.sort((k, j, v), dimension=0, num_keys=2),
     (ints(8, low=0, high=2), ints(8, low=0, high=3), floats(8))),
    ('sort empty', lambda x: jnp.sort(x, axis=0), (floats(0, 2),)),
]


# The simulator runs int32 arithmetic on NumPy scalars, which warn when they wrap around
# (as the kernel means them to: 'cumprod int wraps').
@pytest.mark.filterwarnings('ignore:overflow encountered in scalar:RuntimeWarning')
@pytest.mark.parametrize('backend', BACKENDS)
@pytest.mark.parametrize('name,f,args', CASES, ids=[c[0] for c in CASES])
def test_generated_code_matches_the_numpy_impls(name, f, args, backend):
    agree(f, *args, backend=backend)


def test_every_case_runs_as_generated_code_of_its_kind():
    """The reads and running totals are fused members; the scatters and sorts loop kernels."""
    for name, f, args in CASES:
        exe = compiled(f, *[jnp.asarray(a) for a in args])
        prims = {exe.plan.eqns[m].primitive.name: k.loop is not None
                 for k in exe.plan.kernels for m in k.members}
        for prim, loop in prims.items():
            if prim == 'sort' or prim.startswith('scatter'):
                assert loop, (name, prim)
            elif prim in ('gather', 'dynamic_slice', 'dynamic_update_slice', 'concatenate', 'pad',
                          'cumsum', 'cumprod'):
                assert not loop, (name, prim)


@pytest.mark.parametrize('backend', BACKENDS)
def test_a_cumsum_fuses_with_the_work_before_and_after_it(backend):
    """One kernel: the scanned axis is its innermost loop, run in order (from the end,
    reversed), the elementwise work on each element inside it."""
    def f(x):
        return jnp.exp(lax.cumsum(x * 0.5, 0, reverse=True)) - lax.cumprod(x, 0, reverse=True)
    exe = agree(f, floats(4, 3), backend=backend, rtol=1e-5)
    (k,) = exe.kernels
    assert k.kernel.scan == (0, True)
    assert ("for i0 in range(n0 - 1, -1, -1):" if backend == 'numba'
            else "for i0 in range(3, -1, -1):") in k.source


def test_gather_fuses_with_the_elementwise_work_around_it():
    """The gather's operand comes from an earlier kernel (no host round trip), and the
    gathered rows feed the elementwise work of the same kernel."""
    def f(x, i):
        return jnp.tanh(jnp.exp(x)[i] * 2.0)
    x, i = jnp.asarray(floats(5, 3)), jnp.asarray(np.array([4, 0, 2, 2]))
    exe = agree(f, x, i, backend='numba')
    (last,) = [k for k in exe.kernels if 'gather' in k.source]
    assert {'gather', 'tanh', 'mul'} <= {exe.plan.eqns[m].primitive.name for m in last.kernel.members}
    assert all(s.kind == 'kernel' for s in exe.plan.steps)


def test_clamped_gather_source():
    exe = compiled(lambda x, i: lax.gather(x, i, (0,)), jnp.asarray(floats(4, 3)), jnp.asarray(np.array([[5]])))
    assert "min(max(np.int64(" in exe.kernels[0].source and "), 0), 3)" in exe.kernels[0].source


def test_cuda_scatter_add_uses_atomics_and_scatter_runs_in_order():
    x, i, u = jnp.asarray(floats(4)), jnp.asarray(np.array([[1], [1]])), jnp.asarray(floats(2))
    add = compiled(lambda x, i, u: lax.scatter_add(x, i, u, (0,)), x, i, u, backend='cuda')
    assert "_cuda.atomic.add(" in add.kernels[0].source
    setter = compiled(lambda x, i, u: lax.scatter(x, i, u, (0,)), x, i, u, backend='cuda')
    assert "atomic" not in setter.kernels[0].source   # the last of repeated updates wins


def test_a_loop_updating_a_buffer_compiles_whole():
    """dynamic_update_slice, cumsum and .at[].add in a fori_loop body: every step is a
    kernel, so the loop runs in one Numba function, with no Python between steps."""
    def f(x):
        def body(i, buf):
            row = jnp.cumsum(x * i.astype(jnp.float32))
            return lax.dynamic_update_slice(buf, row[None], (i, 0)).at[i % 3, 0].add(1.0)
        return lax.fori_loop(0, 4, body, jnp.zeros((4, 5)))
    x = jnp.asarray(floats(5))
    exe = agree(f, x, backend='numba')
    assert len(exe.compiled_loops) == 1 and not exe.subexecutables


def test_a_sort_too_long_for_a_cuda_thread_runs_on_the_host():
    from tinygrad_tracer.backends import loop_kernels, numba_cuda
    x = jnp.zeros(loop_kernels.CUDA_SORT_MAX + 1)
    assert numba_cuda.compile(jax.make_jaxpr(jnp.sort)(x), 'sort').fallbacks == ['sort']
    assert numba_cuda.compile(jax.make_jaxpr(jnp.sort)(x[1:]), 'sort').fallbacks == []


def test_debug_1_reports_each_remaining_host_fallback(monkeypatch, capsys):
    monkeypatch.setattr(settings, 'DEBUG', 1)
    x = jnp.asarray(floats(6))

    def f(x):
        w = lax.reduce_window(x, 0.0, lax.add, (2,), (1,), 'VALID')
        return jnp.sort(jnp.cumsum(x))[1:] + w
    exe = compiled(f, x)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if 'no code generation' in line]
    assert lines == ["[tinygrad_tracer] numba: no code generation for reduce_window_sum; it runs "
                     "through its NumPy impl on the host"]
    assert "1 host fallback(s), fallbacks: reduce_window_sum" in exe.as_text()
    # one in a loop body run from Python counts too
    g = lambda x: lax.fori_loop(0, 2, lambda i, c: f(c)[:1].sum() + c, x)   # noqa: E731
    exe = compiled(g, x)
    assert exe.host_fallbacks == ['reduce_window_sum'] and not exe.fallbacks
    assert "1 host fallback(s), fallbacks: reduce_window_sum" in exe.as_text().splitlines()[0]


# --- a minibatch-SGD epoch of the digits MLP, compiled whole ------------------------------------------

def epoch(params, x, y, order, lr=0.1, batch=8):
    """One epoch of minibatch SGD: a fori_loop over batches, each gathered by index;
    also a histogram of the labels (`.at[].add`), a scan RNN cell and a cumsum."""
    def loss(params, xb, yb):
        (w1, b1), (w2, b2) = params
        h = jnp.tanh(xb @ w1 + b1)
        logits = h @ w2 + b2
        logp = logits - jax.nn.logsumexp(logits, axis=1, keepdims=True)
        return -jnp.mean(jnp.sum(logp * jax.nn.one_hot(yb, 10), axis=1))

    def step(b, params):
        idx = lax.dynamic_slice(order, (b * batch,), (batch,))
        grads = jax.grad(loss)(params, x[idx], y[idx])
        return jax.tree_util.tree_map(lambda p, g: p - lr * g, params, grads)
    params = lax.fori_loop(0, order.shape[0] // batch, step, params)
    counts = jnp.zeros(10, jnp.int32).at[y].add(1)

    def cell(h, xt):
        h = jnp.tanh(h * 0.5 + xt)
        return h, h.sum()
    _, hs = lax.scan(cell, jnp.zeros(x.shape[1]), x[:5])
    return params, counts, hs, jnp.cumsum(counts)


def _digits(n=32, features=16):
    r = np.random.default_rng(1)
    params = [(r.normal(0, 0.1, (features, 12)).astype(np.float32), np.zeros(12, np.float32)),
              (r.normal(0, 0.1, (12, 10)).astype(np.float32), np.zeros(10, np.float32))]
    return (jax.tree_util.tree_map(jnp.asarray, params), jnp.asarray(r.normal(size=(n, features)).astype(np.float32)),
            jnp.asarray(r.integers(0, 10, n).astype(np.int32)), jnp.asarray(r.permutation(n).astype(np.int32)))


def test_a_jitted_sgd_epoch_has_no_host_fallback_left():
    args = _digits()
    exe = compiled(epoch, *args)
    assert exe.host_fallbacks == [] and "0 host fallback(s)" in exe.as_text()
    got, want = jax.jit(epoch, backend='numba')(*args), epoch(*args)
    for g, w in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want)):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-5, atol=1e-6)


# --- random shapes, axes and dtypes ---------------------------------------------------------------

DTYPES = [np.float32, np.int32, np.uint8, np.int8, np.bool_]


def _random_program(seed):
    """(function, arguments): a gather, a scatter, a pad, a concatenate, a cumulative op and
    a sort of random shapes, axes and dtype, indices partly out of bounds."""
    r = np.random.default_rng(seed)
    dtype = DTYPES[seed % len(DTYPES)]
    shape = tuple(int(n) for n in r.integers(1, 4, r.integers(1, 4)))
    x = (r.standard_normal(shape) * 3).astype(dtype) if dtype != np.bool_ else r.random(shape) < 0.5
    axis = int(r.integers(0, len(shape)))
    axes = tuple(sorted(r.choice(len(shape), int(r.integers(1, len(shape) + 1)), replace=False).tolist()))
    idx = r.integers(-2, max(shape) + 2, (int(r.integers(0, 5)), len(axes))).astype(np.int32)
    rest = [n for a, n in enumerate(shape) if a not in axes]
    upd = (r.standard_normal((len(idx), *rest)) * 3).astype(dtype) if dtype != np.bool_ \
        else r.random((len(idx), *rest)) < 0.5
    config = tuple((int(r.integers(-1, 3)), int(r.integers(-1, 3)), int(r.integers(0, 3))) for _ in shape)
    scatter = [lax.scatter, lax.scatter_add, lax.scatter_max, lax.scatter_min, lax.scatter_mul][seed % 5]
    if dtype == np.bool_ and scatter in (lax.scatter_add, lax.scatter_mul):
        scatter = lax.scatter_max

    def f(x, idx, upd):
        outs = [lax.gather(x, idx, axes), scatter(x, idx, upd, axes), lax.concatenate([x, x[::-1]], axis),
                lax.sort(x, dimension=axis), lax.rev(x, (axis,))]
        if all(lo + hi + n + (n - 1) * i >= 0 for (lo, hi, i), n in zip(config, shape)):
            outs.append(lax.pad(x, x.reshape(-1)[0], config))
        if dtype != np.bool_:
            outs += [lax.cumsum(x, axis, reverse=seed % 2 == 0), lax.cumprod(x, axis)]
        return outs
    return f, (x, idx, upd)


@pytest.mark.parametrize('seed', range(20))
def test_random_programs_match_the_numpy_impls(seed):
    f, args = _random_program(seed)
    agree(f, *args, backend='numba')
    if seed < 6:   # the simulator is slow: a few
        agree(f, *args, backend='cuda')


@pytest.mark.parametrize('backend', BACKENDS)
def test_64_bit_dtypes(x64, backend):
    x, i = jnp.asarray(np.linspace(-2, 2, 12).reshape(4, 3)), jnp.asarray(np.array([[3], [3], [-1], [0]]))
    n = jnp.asarray(np.arange(-6, 6, dtype=np.int64).reshape(4, 3) * (1 << 40))
    agree(lambda x, i, n: (jnp.cumsum(x, 0), lax.gather(x, i, (0,)), lax.scatter_add(n, i, n, (0,)),
                           lax.scatter_max(n, i, -n, (0,)), jnp.sort(n * 3, axis=0), jnp.cumprod(n % 7, 1)),
          x, i, n, backend=backend)
