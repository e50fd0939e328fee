"""Edge cases where we once gave a silent wrong answer, or an error JAX does not give.

Expected values come from JAX 0.10.2 on CPU (hard-coded, so these tests run
without JAX). Each is checked eagerly and, where it applies, under
jit(backend='interpret'), jit(backend='numba') and vmap.
"""
import ml_dtypes
import numpy as np
import pytest

import tinygrad_tracer as tt
import tinygrad_tracer.numpy as jnp
from tinygrad_tracer import dtypes, lax

BACKENDS = ['interpret', 'numba']
X = jnp.array([1., 2., 3., 4.])


def assert_array(got, want, dtype=np.float32, weak_type=False):
    """`got` is an Array with this value, dtype and weak type (never a NumPy array)."""
    assert isinstance(got, tt.Array), type(got)
    assert (got.dtype, got.weak_type) == (np.dtype(dtype), weak_type), (got.dtype, got.weak_type)
    np.testing.assert_array_equal(np.asarray(got), want)


def every_way(f, *args):
    """f(*args) eagerly and under both jit backends."""
    return [f(*args)] + [tt.jit(f, backend=b)(*args) for b in BACKENDS]


# --- 1. gradients of out-of-bounds reads -----------------------------------------------

# grad(lambda x: sum(x[jnp.array([i])]))(X) in JAX 0.10.2: the gather clamps the read, its
# transpose (a scatter-add) drops the out-of-bounds cotangent. -6 counts from the end to -2.
GATHER_GRADS = {5: [0, 0, 0, 0], -6: [0, 0, 0, 0], 4: [0, 0, 0, 0], -5: [0, 0, 0, 0],
                3: [0, 0, 0, 1], -1: [0, 0, 0, 1]}


@pytest.mark.parametrize('i', GATHER_GRADS)
def test_grad_of_an_out_of_bounds_index_array_is_zero(i):
    f = lambda x: jnp.sum(x[jnp.array([i])])
    assert f(X).item() == (4.0 if i in (5, 4, 3, -1) else 1.0)   # the read clamps
    for g in every_way(tt.grad(f), X):
        assert_array(g, GATHER_GRADS[i])


def test_grad_of_out_of_bounds_reads_under_vmap():
    f = lambda x: jnp.sum(x[jnp.array([5, -6, 1])])
    assert_array(tt.grad(f)(X), [0, 1, 0, 0])   # JAX 0.10.2
    assert_array(tt.vmap(tt.grad(f))(jnp.stack([X, 2 * X])), [[0, 1, 0, 0]] * 2)
    per_example = lambda x, i: jnp.sum(x[jnp.stack([i, 1])])
    for backend in BACKENDS:
        got = tt.jit(tt.vmap(tt.grad(per_example), (None, 0)), backend=backend)(X, jnp.array([5, -6, 2, -1]))
        assert_array(got, [[0, 1, 0, 0], [0, 1, 0, 0], [0, 1, 1, 0], [0, 1, 0, 1]])


def test_scalar_indices_are_slices_whose_gradient_clamps():
    # JAX reads x[i] (static or traced int) with a (dynamic) slice: the gradient
    # goes to the element the clamped read used.
    for g in every_way(tt.grad(lambda x, i: x[i]), X, 5):
        assert_array(g, [0, 0, 0, 1])
    for g in every_way(tt.grad(lambda x, i: x[i]), X, -6):
        assert_array(g, [1, 0, 0, 0])
    assert_array(tt.grad(lambda x: x[5])(X), [0, 0, 0, 1])
    got = tt.vmap(tt.grad(lambda x, i: x[i]), (None, 0))(X, jnp.array([5, -6, 2, -1]))
    assert_array(got, [[0, 0, 0, 1], [1, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
    assert 'dynamic_slice' in str(tt.make_jaxpr(lambda x, i: x[i])(X, 1))


# x[idx] on arange(12.).reshape(3, 4): value and grad of sum(x[idx]), from JAX 0.10.2.
# A strided slice next to an out-of-range int makes JAX use a gather (the gradient
# drops); otherwise slices (the gradient goes to the clamped elements).
I9 = jnp.array(9)
MIXED = [
    (lambda y: y[::2, 9], [3., 11.], [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]),
    (lambda y: y[::2, I9], [3., 11.], [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]),
    (lambda y: y[-9, ::2], [0., 2.], [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]),
    (lambda y: y[1:, 9], [7., 11.], [[0, 0, 0, 0], [0, 0, 0, 1], [0, 0, 0, 1]]),
    (lambda y: y[2:0:-1, I9], [11., 7.], [[0, 0, 0, 0], [0, 0, 0, 1], [0, 0, 0, 1]]),
    (lambda y: y[I9, None], [[8., 9., 10., 11.]], [[0, 0, 0, 0], [0, 0, 0, 0], [1, 1, 1, 1]]),
    (lambda y: y[..., 9], [3., 7., 11.], [[0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 1]]),
    (lambda y: y[I9, I9], 11., [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 1]]),
    (lambda y: y[5, jnp.array([0, 1])], [8., 9.], [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]),
    (lambda y: y[jnp.array([True, False, True]), 7], [3., 11.], [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]),
]


@pytest.mark.parametrize('k', range(len(MIXED)))
def test_mixed_out_of_bounds_indices_match_jax(k):
    f, value, grad = MIXED[k]
    y = jnp.arange(12.).reshape(3, 4)
    assert_array(f(y), value)
    for g in every_way(tt.grad(lambda y: jnp.sum(f(y))), y):
        assert_array(g, grad)


def test_gather_modes_and_take():
    # JAX 0.10.2: mode='clip' clamps the indices first, so the gradient goes there.
    idx = jnp.array([5])
    cases = [(lambda x: x.at[idx].get(), [0, 0, 0, 0]),
             (lambda x: x.at[idx].get(mode='clip'), [0, 0, 0, 1]),
             (lambda x: x.at[jnp.array([-6])].get(mode='clip'), [1, 0, 0, 0]),
             (lambda x: jnp.take(x, idx), [0, 0, 0, 0]),
             (lambda x: jnp.take(x, idx, mode='clip'), [0, 0, 0, 1]),
             (lambda x: jnp.take_along_axis(x, idx, 0), [0, 0, 0, 0])]
    for f, grad in cases:
        assert_array(tt.grad(lambda x: jnp.sum(f(x)))(X), grad)


def test_forward_mode_passes_the_clamped_tangent_as_jax_does():
    # Out of bounds, JAX's jvp reads the clamped element's tangent while its vjp drops
    # it: jacfwd and jacrev disagree there (an index out of bounds breaks a promise).
    f = lambda x: x[jnp.array([5, 1])]
    _, t = tt.jvp(f, (X,), (jnp.array([1., 10., 100., 1000.]),))
    assert_array(t, [1000., 10.])
    assert_array(tt.jacfwd(f)(X), [[0, 0, 0, 1], [0, 1, 0, 0]])
    assert_array(tt.jacrev(f)(X), [[0, 0, 0, 0], [0, 1, 0, 0]])


# lax.dynamic_slice(X, (s,), (2,)) and dynamic_update_slice(X, [9.], (s,)) in JAX 0.10.2:
# negative starts count from the end, then the window is clamped into the array.
DYNAMIC = {-1: ([3., 4.], [0, 0, 1, 1], [1., 2., 3., 9.]),
           -3: ([2., 3.], [0, 1, 1, 0], [1., 9., 3., 4.]),
           -7: ([1., 2.], [1, 1, 0, 0], [9., 2., 3., 4.]),
           10: ([3., 4.], [0, 0, 1, 1], [1., 2., 3., 9.])}


@pytest.mark.parametrize('s', DYNAMIC)
def test_dynamic_slice_counts_negative_starts_from_the_end(s):
    window, grad, updated = DYNAMIC[s]
    nine = jnp.array([9.])
    for got in every_way(lambda x, s: lax.dynamic_slice(x, (s,), (2,)), X, s):
        assert_array(got, window)
    for g in every_way(tt.grad(lambda x, s: jnp.sum(lax.dynamic_slice(x, (s,), (2,)))), X, s):
        assert_array(g, grad)
    for got in every_way(lambda x, s: lax.dynamic_update_slice(x, nine, (s,)), X, s):
        assert_array(got, updated)
    assert_array(lax.dynamic_slice(X, (s,), (2,)), window)   # a static start, too


def test_dynamic_slice_negative_starts_under_vmap():
    starts = jnp.array([-1, -7, 10])
    assert_array(tt.vmap(lambda i: lax.dynamic_slice(X, (i,), (2,)))(starts), [[3., 4.], [1., 2.], [3., 4.]])
    grads = tt.vmap(tt.grad(lambda x, i: jnp.sum(lax.dynamic_slice(x, (i,), (2,)))), (None, 0))(X, starts)
    assert_array(grads, [[0, 0, 1, 1], [1, 1, 0, 0], [0, 0, 1, 1]])
    updated = tt.vmap(lambda i: lax.dynamic_update_slice(X, jnp.array([9.]), (i,)))(starts)
    assert_array(updated, [[1., 2., 3., 9.], [9., 2., 3., 4.], [1., 2., 3., 9.]])
    # An unbatched start under vmap is rebound as it is, not counted from the end twice.
    assert_array(tt.vmap(lambda x: lax.dynamic_slice(x, (-7,), (2,)))(jnp.stack([X, X])), [[1., 2.]] * 2)


# --- 2. dtypes ----------------------------------------------------------------------------

def test_bfloat16_is_ml_dtypes_bfloat16():
    assert jnp.bfloat16 == ml_dtypes.bfloat16 and dtypes.bfloat16 == np.dtype(ml_dtypes.bfloat16)
    assert_array(jnp.array([1.5, 2.], jnp.bfloat16), [1.5, 2.], ml_dtypes.bfloat16)
    assert_array(jnp.ones(2, 'bfloat16') + 1, [2., 2.], ml_dtypes.bfloat16)


@pytest.mark.parametrize('dtype', [ml_dtypes.float8_e4m3fn, 'float8_e5m2', ml_dtypes.int4,
                                   np.complex64, object, 'U3'])
def test_a_dtype_we_cannot_honour_raises(dtype):
    with pytest.raises(TypeError, match=r'does not support dtype .*: arrays can be bool, int8'):
        jnp.array([1.5, 2.], dtype)
    with pytest.raises(TypeError, match='does not support dtype'):
        jnp.ones(2).astype(dtype)


# --- 3. subnormal inputs of log -----------------------------------------------------------

def test_log_reads_subnormals_as_zero():
    # JAX 0.10.2 for a scalar (and 1, 2, 4, 8, ... elements): XLA:CPU flushes subnormal
    # inputs, so log(1e-45) is -inf and log1p(1e-40) is 0 (see xla_math's docstring).
    x = np.array([1e-45, 1e-40, -1e-40, 2 ** -126, 0.], np.float32)
    for got in every_way(jnp.log, x):
        assert_array(got, np.array([-np.inf, -np.inf, -np.inf, -87.3365478515625, -np.inf], np.float32))
    for got in every_way(jnp.log1p, x):
        assert_array(got, np.array([0., 0., -0., 1.1754943508222875e-38, 0.], np.float32))


# --- 4. integer_pow -------------------------------------------------------------------------

@pytest.mark.parametrize('y', [1.5, 2.7, np.float32(2.5), jnp.array(2)])
def test_integer_pow_rejects_a_non_integer_exponent(y):
    with pytest.raises(TypeError, match=r'exponent y must be a Python int.*use lax.pow'):
        lax.integer_pow(jnp.float32(3.), y)


def test_integer_pow_takes_integral_exponents():
    for y in (2, 2.0, np.int32(2)):   # JAX 0.10.2 accepts an integral float too
        assert_array(lax.integer_pow(jnp.float32(3.), y), 9.)


# --- 5. control flow always returns Arrays --------------------------------------------------

A64 = np.arange(3.)
# (result, value, dtype, weak_type), from JAX 0.10.2.
LOOPS = [
    (lambda: lax.fori_loop(0, 0, lambda i, c: c + 1, A64), [0., 1., 2.], np.float32, False),
    (lambda: lax.fori_loop(0, 0, lambda i, c: c + 1, 1.0), 1., np.float32, True),
    (lambda: lax.fori_loop(0, 0, lambda i, c: c + 1, 1), 1, np.int32, True),
    (lambda: lax.fori_loop(0, 0, lambda i, c: c + 1, np.float32(2)), 2., np.float32, False),
    (lambda: lax.fori_loop(0, 0, lambda i, c: c + jnp.float32(1), 1.0), 1., np.float32, False),
    (lambda: lax.fori_loop(jnp.int32(0), jnp.int32(0), lambda i, c: c + 1, A64), [0., 1., 2.], np.float32, False),
    (lambda: lax.fori_loop(0, 3, lambda i, c: c, A64), [0., 1., 2.], np.float32, False),
    (lambda: lax.while_loop(lambda c: False, lambda c: c + 1, A64), [0., 1., 2.], np.float32, False),
    (lambda: lax.while_loop(lambda c: False, lambda c: c + 1, 1.0), 1., np.float32, True),
    (lambda: lax.scan(lambda c, x: (c + x, x), A64, jnp.zeros((0, 3)))[0], [0., 1., 2.], np.float32, False),
    (lambda: lax.scan(lambda c, x: (c + 1, c), 1, None, length=0)[0], 1, np.int32, True),
    (lambda: lax.scan(lambda c, x: (c, x), A64, np.ones((2, 3)))[0], [0., 1., 2.], np.float32, False),
    (lambda: lax.cond(True, lambda x: x, lambda x: x, A64), [0., 1., 2.], np.float32, False),
    (lambda: lax.cond(True, lambda x: x, lambda x: x, 1.0), 1., np.float32, True),
    (lambda: lax.cond(True, lambda: A64, lambda: A64), [0., 1., 2.], np.float32, False),
    (lambda: lax.switch(1, [lambda x: x, lambda x: x], A64), [0., 1., 2.], np.float32, False),
]


@pytest.mark.parametrize('k', range(len(LOOPS)))
def test_control_flow_returns_arrays(k):
    f, value, dtype, weak = LOOPS[k]
    assert_array(f(), value, dtype, weak)
    for backend in BACKENDS:
        assert_array(tt.jit(f, backend=backend)(), value, dtype, weak)


def test_grad_through_a_loop_keeps_weak_types():
    # JAX 0.10.2: the gradient w.r.t. a Python float the body closes over stays weak,
    # also when the loop runs zero times (its accumulated cotangent starts at zero).
    for n, dx1 in ((0, 2.), (3, 33.75)):
        f = lambda x0, x1: lax.fori_loop(0, n, lambda i, c: c * x1, x0 + x1) * 2.
        for g0, g1 in every_way(tt.grad(f, argnums=(0, 1)), jnp.float32(0.5), 1.5):
            assert_array(g0, 2. if n == 0 else 6.75)
            assert_array(g1, dx1, weak_type=True)


def test_zero_trip_loop_under_vmap():
    got = tt.vmap(lambda x: lax.fori_loop(0, 0, lambda i, c: c + x, A64))(jnp.ones(2))
    assert_array(got, [[0., 1., 2.]] * 2)


# --- 6. .at[].multiply gradients --------------------------------------------------------------

def _central_differences(f, u, eps=1e-6):
    g = np.zeros_like(u)
    for k in range(u.size):
        d = np.zeros_like(u)
        d.flat[k] = eps
        g.flat[k] = (float(f(jnp.asarray(u + d))) - float(f(jnp.asarray(u - d)))) / (2 * eps)
    return g


@pytest.mark.parametrize('idx, u', [([0, 2], [5., 6.]),          # unique
                                    ([1, 1], [5., 6.]),          # repeated
                                    ([1, 1, 1], [0., 6., 7.]),   # repeated, one update zero
                                    ([1, 1, 1], [0., 0., 7.]),   # two zeros: no gradient
                                    ([1, 5, 1, -9], [2., 3., 4., 5.])])   # out of bounds dropped
def test_multiply_gradient_wrt_updates_matches_finite_differences(x64, idx, u):
    # JAX 0.10.2 raises NotImplementedError here unless unique_indices=True (and then
    # gives 2. for each of the repeated [1, 1] updates, instead of 12. and 10.).
    x, idx, u = jnp.array([1., 2., 3., 4.]), jnp.array(idx), np.array(u)
    f = lambda u: jnp.sum(jnp.sin(x.at[idx].multiply(u)))
    want = _central_differences(f, u)
    for g in every_way(tt.grad(f), jnp.asarray(u)):
        np.testing.assert_allclose(np.asarray(g), want, rtol=1e-7, atol=1e-8)
    got = tt.vmap(tt.grad(f))(jnp.stack([jnp.asarray(u), 2 * jnp.asarray(u)]))
    np.testing.assert_allclose(np.asarray(got[0]), want, rtol=1e-7, atol=1e-8)


def test_multiply_gradients_where_jax_gives_them():
    # JAX 0.10.2 (grad w.r.t. the operand; w.r.t. updates with unique indices).
    x, u = jnp.array([1., 2., 3., 4.]), jnp.array([5., 6.])
    assert_array(tt.grad(lambda x: jnp.sum(x.at[jnp.array([0, 2])].multiply(u)))(x), [5, 1, 6, 1])
    assert_array(tt.grad(lambda x: jnp.sum(x.at[jnp.array([1, 1])].multiply(u)))(x), [1, 30, 1, 1])
    assert_array(tt.grad(lambda u: jnp.sum(x.at[jnp.array([0, 2])].mul(u, unique_indices=True)))(u), [1, 3])
    assert_array(tt.grad(lambda u: jnp.sum(x.at[1:3].multiply(u)))(u), [2, 3])
    assert_array(tt.grad(lambda u: jnp.sum(x.at[1].multiply(u)))(3.), 2., weak_type=True)


def test_multiply_gradient_in_a_2d_operand(x64):
    x = jnp.arange(1., 7.).reshape(3, 2)
    u = np.array([[1.5, 0.], [2., 3.], [0.5, 0.25]])
    for f in (lambda u: jnp.sum(jnp.cos(x.at[jnp.array([0, 0, 2])].multiply(u))),
              lambda u: jnp.sum(jnp.cos(x.at[:, jnp.array([1, 1])].multiply(u)))):
        np.testing.assert_allclose(np.asarray(tt.grad(f)(jnp.asarray(u))), _central_differences(f, u),
                                   rtol=1e-7, atol=1e-8)


# --- 7. errors JAX does not raise, or raises with another class -------------------------------

def test_vjp_of_an_integer_output_accepts_any_cotangent():
    # JAX 0.10.2: the cotangent of an integer output is ignored, whatever its dtype.
    _, f_vjp = tt.vjp(jnp.argmin, X)
    for ct in (jnp.float32(1.), 1, 1.0, jnp.int32(1), np.zeros((), dtypes.float0)):
        (g,) = f_vjp(ct)
        assert_array(g, [0, 0, 0, 0])
    for backend in BACKENDS:
        assert_array(tt.jit(lambda x: tt.vjp(jnp.argmin, x)[1](jnp.float32(1.))[0], backend=backend)(X), [0] * 4)
    _, f_vjp = tt.vjp(lambda x: x.astype(jnp.int32), X)
    with pytest.raises(ValueError, match=r'has type float32\[2\].*float0\[4\]'):
        f_vjp(jnp.ones(2))   # the shape still has to match


def test_broadcasting_error_classes_match_jax():
    a, b = jnp.ones(3), jnp.ones(4)
    # JAX 0.10.2: two operands of one rank reach lax's shape check (TypeError) ...
    for f in (lambda: a + b, lambda: jnp.maximum(a, b), lambda: a < b, lambda: jnp.arctan2(a, b),
              lambda: a % b, lambda: jnp.clip(a, b, 2.), lambda: a + np.ones(4),
              lambda: tt.jit(lambda a, b: a * b)(a, b),
              lambda: tt.vmap(lambda x, y: x + y)(jnp.ones((2, 3)), jnp.ones((2, 4)))):
        with pytest.raises(TypeError, match=r'Incompatible shapes for broadcasting: shapes=\[\(.\,\), \(.\,\)\]'):
            f()
    with pytest.raises(TypeError, match='except for the concatenation axis'):
        jnp.concatenate([jnp.ones((2, 3)), jnp.ones((2, 4))])
    # ... other broadcasting failures are ValueErrors.
    for f in (lambda: jnp.outer(a, b) + a, lambda: jnp.where(a > 0, a, b), lambda: jnp.broadcast_to(a, (4,)),
              lambda: jnp.broadcast_arrays(a, b), lambda: jnp.broadcast_shapes((3,), (4,))):
        with pytest.raises(ValueError, match='broadcast'):
            f()


@pytest.mark.parametrize('index', [1.0, np.float32(1), jnp.array(1.0), jnp.array([1.0]),
                                   np.array([1.0]), (1.0,), 'a', 1j])
def test_a_float_indexer_is_a_type_error(index):
    with pytest.raises(TypeError, match='[Ii]ndic.* must be integers'):
        X[index]
    with pytest.raises(TypeError, match='[Ii]ndic.* must be integers'):
        X.at[index].set(2.)


def test_float_index_errors_under_jit_and_take():
    with pytest.raises(TypeError, match='Indices must be integers, got an array of dtype float32'):
        tt.jit(lambda x, i: x[i])(X, 1.0)
    with pytest.raises(ValueError, match='take: indices must be integers'):   # as JAX
        jnp.take(X, jnp.array([1.0]))
    with pytest.raises(IndexError, match='Only integers, slices'):   # not a number: IndexError
        X[object()]
