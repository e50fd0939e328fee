"""Division rounds as JAX's compiled programs do, on every backend and eagerly.

XLA computes a float x / y as x * (1 / y) where y is known when compiling or is a
broadcast (`lax.divides_by_reciprocal`); that rounds differently in about a third
of the elements. Which one JAX gives depends on the program, never on how the
divisor sits in memory. Each case below says what JAX 0.10.2 gives eagerly and
under jit ('recip' or 'exact'); the expected bits are computed with NumPy, and
`test_the_table_is_what_jax_gives` checks the table itself against JAX.
"""
import numpy as np
import pytest

import tinygrad_tracer as jax
import tinygrad_tracer.numpy as jnp
from tinygrad_tracer import dtypes, lax

BACKENDS = ['interpret', 'numba', 'cuda']   # cuda: the simulator (tests/conftest.py)

X = np.random.default_rng(0).normal(size=600).astype(np.float32)
W = np.random.default_rng(1).normal(size=600).astype(np.float32)
FULL = np.full(X.shape, 3.0, np.float32)


def which(got, x=X, divisor=3.0):
    """'recip' if got == x * (1 / divisor) bit for bit, 'exact' if got == x / divisor."""
    got, x = np.asarray(got), np.asarray(x)
    d = np.asarray(divisor, x.dtype)
    recip, exact = x * (np.ones((), x.dtype) / d), x / d
    assert not np.array_equal(recip, exact), "pick values where the two round differently"
    return 'recip' if np.array_equal(got, recip) else 'exact' if np.array_equal(got, exact) else 'other'


def cases(jnp, lax):
    """name -> (function of X, what JAX gives eagerly, what it gives under jit). The
    same code runs with JAX's modules (test_the_table_is_what_jax_gives)."""
    full = jnp.asarray(FULL)
    return {
        'x / 3.0': (lambda x: x / 3.0, 'recip', 'recip'),
        'jnp.divide(x, 3.0)': (lambda x: jnp.divide(x, 3.0), 'recip', 'recip'),
        'x / np.float32(3)': (lambda x: x / np.float32(3), 'recip', 'recip'),
        # a materialized divisor: exact eagerly; jit sees the broadcast (or the constant)
        'lax.div(x, broadcast_in_dim(3.0))':
            (lambda x: lax.div(x, lax.broadcast_in_dim(np.float32(3), x.shape, ())), 'exact', 'recip'),
        'lax.div(x, full array)': (lambda x: lax.div(x, full), 'exact', 'recip'),
        'x / full array': (lambda x: x / full, 'exact', 'recip'),
        'lax.div(x, jnp.ones * 3)': (lambda x: lax.div(x, jnp.ones(x.shape) * 3.0), 'exact', 'recip'),
        # control-flow bodies are compiled with their division
        'cond': (lambda x: lax.cond(x[0] < 100, lambda x: x / 3.0, lambda x: x, x), 'recip', 'recip'),
        'fori_loop': (lambda x: lax.fori_loop(0, 1, lambda i, x: x / 3.0, x), 'recip', 'recip'),
        'scan': (lambda x: lax.scan(lambda c, _: (c / 3.0, None), x, None, length=1)[0], 'recip', 'recip'),
    }


CASES = cases(jnp, lax)


@pytest.mark.parametrize('name', CASES)
def test_eager(name):
    f, eager, _ = CASES[name]
    assert which(f(jnp.asarray(X))) == eager


@pytest.mark.parametrize('backend', BACKENDS)
@pytest.mark.parametrize('name', CASES)
def test_jit(name, backend):
    f, _, jitted = CASES[name]
    assert which(jax.jit(f, backend=backend)(X)) == jitted


@pytest.mark.parametrize('backend', BACKENDS)
def test_the_divisor_as_an_argument(backend):
    """A scalar argument is broadcast inside (rewritten); a full array is not."""
    f = jax.jit(lambda x, y: x / y, backend=backend)
    assert which(f(X, np.float32(3))) == 'recip'
    assert which(f(X, FULL)) == 'exact'


@pytest.mark.parametrize('backend', BACKENDS)
def test_scalars(backend):
    """0-d: eagerly nothing is broadcast nor constant in jnp.divide; under jit 3.0 is a literal."""
    a = X[np.argmax(X * (np.float32(1) / np.float32(3)) != X / np.float32(3))]   # rounds both ways
    assert which(jnp.asarray(a) / 3.0, a) == 'exact'
    assert which(jax.jit(lambda a: a / 3.0, backend=backend)(a), a) == 'recip'


def test_mean_divides_by_its_count_as_a_constant():
    x = np.random.default_rng(0).normal(size=13).astype(np.float32)
    total = np.asarray(jnp.sum(jnp.asarray(x)))
    assert which(jnp.mean(jnp.asarray(x)), total, 13.0) == 'recip'
    assert which(jax.jit(jnp.mean)(x), total, 13.0) == 'recip'


def test_derivatives_divide_like_their_primal():
    """Eager grad of x / 3.0 (JAX: jnp.divide's compiled derivative) is reciprocal-multiplied."""
    f = lambda x: jnp.sum(jnp.asarray(W) * (x / 3.0))
    assert which(jax.grad(f)(X), W) == 'recip'
    assert which(jax.vjp(lambda x: x / 3.0, X)[1](jnp.asarray(W))[0], W) == 'recip'


def test_impl_depends_on_values_not_strides():
    """The same divisor, as a broadcast view (zero strides) or materialized."""
    view = np.broadcast_to(np.float32(3), X.shape)
    assert view.strides == (0,)
    for y in (view, np.ascontiguousarray(view)):
        assert which(lax.div_p.impl(jnp.asarray(X), jnp.asarray(y))) == 'exact'
        assert which(lax.div_p.impl(jnp.asarray(X), jnp.asarray(y), reciprocal=True)) == 'recip'


def test_the_jaxpr_prints_div_and_the_kernel_shows_the_rewrite():
    assert 'div a 3.0:f32[] in' in str(jax.make_jaxpr(lambda x: x / 3.0)(X))
    assert 'reciprocal' not in str(jax.make_jaxpr(jax.grad(lambda x: jnp.sum(x / 3.0)))(X))
    text = jax.jit(lambda x: x / 3.0).lower(X).as_text()
    assert '# b:f32[600] = div[reciprocal=True] a c\n' in text   # c: the 3.0, spread
    assert 'b = a * (np.float32(1.0) / c)\n' in text


def test_the_rule():
    rule = lax.divides_by_reciprocal
    assert rule(np.float32, False, True, False) and rule(np.float32, False, False, True)
    assert rule(np.float16, False, True, False) and rule(np.float64, False, False, True)
    assert not rule(np.float32, False, False, False)   # two computed arrays
    assert not rule(np.float32, True, True, True)      # a constant quotient is folded, exactly
    assert not rule(np.int32, False, True, True)       # integers round toward zero
    assert not rule(dtypes.bfloat16, False, True, True)   # XLA:CPU divides bfloat16 in float32


def test_float16_rewrites_in_float16():
    x = X.astype(np.float16)
    assert which(jax.jit(lambda x: x / 3.0)(x), x) == 'recip'
    assert which(jnp.asarray(x) / 3.0, x) == 'recip'


def test_the_table_is_what_jax_gives(real_jax):
    import jax.numpy as jjnp
    from jax import lax as jlax
    for name, (f, eager, jitted) in cases(jjnp, jlax).items():
        assert (which(f(jjnp.asarray(X))), which(real_jax.jit(f)(X))) == (eager, jitted), name
