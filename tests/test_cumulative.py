"""lax.cumsum, cumprod, cummax, cummin, cumlogsumexp and associative_scan: values,
derivatives (with JAX's tie-breaking), vmap, jaxprs, and compiled scan kernels on
the Numba backend and the CUDA simulator. tests/functions.py runs each of them
through every transformation as well."""
import numpy as np
import pytest

import tinygrad_tracer as tt
import tinygrad_tracer.numpy as tnp
from tinygrad_tracer import lax

OPS = ['cumsum', 'cumprod', 'cummax', 'cummin', 'cumlogsumexp']
X = np.array([[0.5, -1.0, 2.0, 30.0, -0.25], [1.0, 80.0, -90.0, 3.0, 3.0], [2.0, 2.0, -1.0, 0.0, 7.0]],
             np.float32)
TIES = [[1.0, 1.0, 1.0, 1.0], [3.0, 1.0, 3.0, 2.0, 3.0], [1.0, 2.0, 2.0, 1.0, 2.0, 2.0, 2.0]]


def op(name):
    return getattr(lax, name)


@pytest.mark.parametrize('name', OPS)
@pytest.mark.parametrize('axis, reverse', [(0, False), (1, False), (0, True), (1, True)])
def test_values_match_jax(name, axis, reverse, real_jax):
    ours = op(name)(tnp.asarray(X), axis, reverse)
    theirs = getattr(real_jax.lax, name)(real_jax.numpy.asarray(X), axis, reverse)
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=1e-6)


@pytest.mark.parametrize('name', ['cummax', 'cummin', 'cumsum'])
def test_integers_match_jax(name, real_jax):
    i = np.array([[3, -7, 5], [9, 2, -8], [1, 1, 4]], np.int32)
    ours, theirs = op(name)(tnp.asarray(i), 1, True), getattr(real_jax.lax, name)(i, 1, True)
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))


def test_nan_and_infinities_match_jax(real_jax):
    x = np.array([-np.inf, -np.inf, 1.0, np.nan, 2.0, np.inf, np.inf], np.float32)
    for name in ['cummax', 'cummin', 'cumlogsumexp']:
        f = lambda v: op(name)(v, 0)
        for run in [f, tt.jit(f, backend='numba')]:
            np.testing.assert_array_equal(np.asarray(run(tnp.asarray(x))),
                                          np.asarray(getattr(real_jax.lax, name)(x, 0)), err_msg=name)


def test_cummax_gradient_splits_ties_as_jax_does():
    """Written down from JAX 0.10.2 (its jvp runs through associative_scan and max's
    half-and-half rule at ties), so it holds without JAX installed too."""
    J = tt.jacfwd(lambda x: lax.cummax(x))(tnp.asarray([1.0, 1.0, 1.0, 1.0]))
    np.testing.assert_array_equal(J, [[1, 0, 0, 0], [.5, .5, 0, 0], [.25, .25, .5, 0], [.25, .25, .25, .25]])
    J = tt.jacrev(lambda x: lax.cummax(x, reverse=True))(tnp.asarray([1.0, 1.0, 1.0]))
    np.testing.assert_array_equal(J, [[.5, .25, .25], [0, .5, .5], [0, 0, 1]])


@pytest.mark.parametrize('name', ['cummax', 'cummin'])
@pytest.mark.parametrize('reverse', [False, True])
@pytest.mark.parametrize('jac', ['jacfwd', 'jacrev'])
@pytest.mark.parametrize('x', TIES, ids=[str(len(t)) for t in TIES])
def test_gradients_with_ties_match_jax(name, reverse, jac, x, real_jax):
    x = np.asarray(x, np.float32)
    ours = getattr(tt, jac)(lambda v: op(name)(v, 0, reverse))(tnp.asarray(x))
    theirs = getattr(real_jax, jac)(lambda v: getattr(real_jax.lax, name)(v, 0, reverse))(x)
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))


@pytest.mark.parametrize('name', OPS)
@pytest.mark.parametrize('axis, reverse', [(1, False), (0, True)])
def test_grad_and_vmap_match_jax(name, axis, reverse, real_jax):
    weights = np.linspace(-1, 1, X.size, dtype=np.float32).reshape(X.shape)
    x = X / 10   # cumprod stays moderate

    def loss(m):
        return lambda v: (getattr(m.lax, name)(v, axis, reverse) * weights).sum()
    np.testing.assert_allclose(np.asarray(tt.grad(loss(tt))(tnp.asarray(x))),
                               np.asarray(real_jax.grad(loss(real_jax))(x)), rtol=2e-6, atol=1e-7)
    batched = lambda m: m.vmap(m.grad(lambda v: getattr(m.lax, name)(v, 0, reverse).sum()), in_axes=axis)
    np.testing.assert_allclose(np.asarray(batched(tt)(tnp.asarray(x))), np.asarray(batched(real_jax)(x)),
                               rtol=2e-6, atol=1e-7)


@pytest.mark.parametrize('name', ['cummax', 'cumlogsumexp'])
def test_second_derivatives_match_jax(name, real_jax):
    x, w = np.float32([0.5, -1.0, 2.0, 3.0]), np.float32([1.0, -2.0, 0.5, 3.0])
    loss = lambda m: (lambda v: (getattr(m.lax, name)(v, 0, True) * w).sum())
    np.testing.assert_allclose(np.asarray(tt.hessian(loss(tt))(tnp.asarray(x))),
                               np.asarray(real_jax.hessian(loss(real_jax))(x)), rtol=1e-5, atol=1e-7)


def test_cumlogsumexp_gradient_is_finite_where_exp_overflows():
    g = tt.grad(lambda v: lax.cumlogsumexp(v)[-1])(tnp.asarray([100.0, 100.0, -100.0]))
    np.testing.assert_allclose(np.asarray(g), [0.5, 0.5, 0.0], rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize('name', ['cummax', 'cummin', 'cumlogsumexp'])
def test_jaxpr_prints_as_jax(name, real_jax):
    f = lambda m: (lambda v: getattr(m.lax, name)(v, axis=1, reverse=True))
    assert str(tt.make_jaxpr(f(tt))(X)) == str(real_jax.make_jaxpr(f(real_jax))(X))


@pytest.mark.parametrize('name', OPS)
def test_numba_compiles_a_scan_kernel_fused_with_its_neighbours(name):
    f = lambda v: op(name)(tnp.sin(v) * 3.0, 1, True) + 1.0
    exe = tt.jit(f, backend='numba').lower(X).compile()
    assert exe.host_fallbacks == [] and len(exe.kernels) == 1
    assert "acc_" in exe.kernels[0].source and "range(n1 - 1, -1, -1)" in exe.kernels[0].source
    # (atol: the kernel fuses sin(v) * 3 into the running sum with one rounding, as XLA contracts)
    np.testing.assert_allclose(np.asarray(tt.jit(f, backend='numba')(X)), np.asarray(f(X)), rtol=1e-6,
                               atol=1e-6)


@pytest.mark.parametrize('name', OPS)
def test_cuda_simulator_runs_the_same_scan_kernels(name):
    f = lambda v: op(name)(v, 0)
    exe = tt.jit(f, backend='cuda').lower(X).compile()
    assert exe.fallbacks == []
    np.testing.assert_allclose(np.asarray(tt.jit(f, backend='cuda')(X)),
                               np.asarray(tt.jit(f, backend='numba')(X)), rtol=1e-6)


def test_compiled_gradient_of_cummax_has_no_host_fallbacks():
    f = tt.jit(tt.grad(lambda v: lax.cummax(v, 1).sum()), backend='numba')
    assert f.lower(X).compile().host_fallbacks == []
    np.testing.assert_array_equal(np.asarray(f(X)), np.asarray(tt.grad(lambda v: lax.cummax(v, 1).sum())(X)))


@pytest.mark.parametrize('reverse', [False, True])
@pytest.mark.parametrize('n', [1, 2, 5, 8])
def test_associative_scan_matches_jax(reverse, n, real_jax):
    x = np.arange(1, 2 * n + 1, dtype=np.float32).reshape(2, n) % 5
    pair = lambda m: (lambda a, b: (m.lax.add(a[0], b[0]), m.lax.max(a[1], b[1])))
    ours = lax.associative_scan(pair(tt), (tnp.asarray(x), tnp.asarray(-x)), reverse, axis=1)
    theirs = real_jax.lax.associative_scan(pair(real_jax), (x, -x), reverse, axis=1)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    bools = np.array([False, True, False, False, True])
    np.testing.assert_array_equal(np.asarray(lax.associative_scan(lax.bitwise_or, tnp.asarray(bools))),
                                  [False, True, True, True, True])


@pytest.mark.parametrize('call, error, message', [
    (lambda: lax.cummax(tnp.asarray([True, False])), TypeError, "cummax does not accept dtype bool"),
    (lambda: lax.cumlogsumexp(tnp.arange(3)), TypeError, "cumlogsumexp does not accept dtype int32"),
    (lambda: lax.cummin(tnp.ones((2, 3)), 2), ValueError, r"axis 2 is out of bounds .* pass axis % x.ndim"),
    (lambda: lax.cumsum(tnp.ones(3), -1), ValueError, r"axis -1 is out of bounds"),
    (lambda: lax.associative_scan(lax.add, (tnp.ones(2), tnp.ones(3))), ValueError, "same length"),
])
def test_errors_say_what_to_do(call, error, message):
    with pytest.raises(error, match=message):
        call()
