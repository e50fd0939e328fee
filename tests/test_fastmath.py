"""The Numba kernels' float32 math (backends/_fastmath.py) against NumPy, over the
whole float32 range: a regular sample of all 2**32 bit patterns (every sign,
exponent and many mantissas, subnormals included) plus inf, nan, +-0 and the
edges of exp's range. Errors are counted in units in the last place (ulp).

Each function runs inside a real kernel: `jit(lax.exp, backend='numba')` on a
float32 vector compiles to a loop calling `exp_f32` (and the kernel cache
makes later runs fast)."""
import numpy as np
import pytest

import tinygrad_tracer as tt
from tinygrad_tracer import lax, xla_math
from tinygrad_tracer.backends import _fastmath

EDGES = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45, -1e-45, 1.1754942e-38, 1.0, -1.0,
                  88.72283, 88.72284, 89.0, -87.33654, -103.97208, -104.0, 0.625, -0.625,
                  9.0, -9.0, 0.99999994, -0.99999994, 3.8325, 1e-30, -1e30], np.float32)


def all_floats(step):
    bits = np.arange(0, 2 ** 32, step, dtype=np.uint64).astype(np.uint32)
    return np.concatenate([bits.view(np.float32), EDGES])


def apply(name, x):
    f = tt.jit(getattr(lax, name), backend='numba')
    source = f.lower(x).compile().kernels[0].source
    assert f"{_fastmath.FUNCTIONS[name].__name__}(a)" in source, source
    return np.asarray(f(x))


def ulp_distance(a, b):
    """How many float32 values lie between a and b (0 when both are nan)."""
    def ordered(v):
        i = v.view(np.int32).astype(np.int64)
        return np.where(i < 0, -(i & 0x7FFFFFFF), i)
    same = (np.isnan(a) & np.isnan(b)) | (a == b)
    return np.where(same, 0, np.abs(ordered(a) - ordered(b)))


def correctly_rounded(fn):
    """The float32 rounding of fn computed in float64 (what eager execution gives)."""
    return lambda x: fn(x.astype(np.float64)).astype(np.float32)


def _logistic(x):
    """XLA's sigmoid: 1 / (1 + exp(-x)) on its float32 exp (0 where exp(-x) overflows)."""
    return np.float32(1) / (np.float32(1) + xla_math.exp(-x))


# name, reference, the most ulp allowed anywhere, sampling step over the bit patterns
ACCURACY = [
    # These follow XLA's algorithm step for step, as eager execution does: bit for bit.
    # (The NumPy reference emulates XLA's fused multiply-adds, slowly: a sparser sample.)
    ('logistic', _logistic, 0, 16411),
    ('exp', xla_math.exp, 0, 16411),
    ('tanh', xla_math.tanh, 0, 16411),
    ('log', xla_math.log, 0, 16411),
    ('log1p', xla_math.log1p, 0, 16411),
    ('erf', xla_math.erf, 0, 16411),
    ('erf_inv', xla_math.erf_inv, 0, 16411),
]


@pytest.mark.parametrize('name, reference, max_ulp, step', ACCURACY, ids=[a[0] for a in ACCURACY])
def test_accuracy_over_all_float32(name, reference, max_ulp, step):
    floats = all_floats(step)
    with np.errstate(all='ignore'):
        want = reference(floats)
    got = apply(name, floats)
    err = ulp_distance(got, want)
    worst = int(err.argmax())
    assert err.max() <= max_ulp, (f"{name}({floats[worst]!r}) = {got[worst]!r}, expected "
                                  f"{want[worst]!r}: {err.max()} ulp")
    # nan exactly where the reference has nan
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))


def test_special_values():
    x = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 1e-45, 100.0, -200.0], np.float32)
    with np.errstate(all='ignore'):
        np.testing.assert_array_equal(apply('exp', x), [np.inf, 0, np.nan, 1, 1, 1, np.inf, 0])
        np.testing.assert_array_equal(apply("tanh", x), np.float32([1, -1, np.nan, 0, -0.0, 1e-45, 1, -1]))
        np.testing.assert_array_equal(apply('logistic', x), [1, 0, np.nan, 0.5, 0.5, 0.5, 1, 0])
        # XLA flushes subnormals: log(1e-45) is -inf, as in eager execution and JAX
        np.testing.assert_array_equal(apply('log', x)[:6],
                                      [np.inf, np.nan, np.nan, -np.inf, -np.inf, -np.inf])
    assert np.signbit(apply('tanh', np.array([-0.0], np.float32))[0])


def test_exp_subnormal_results_round_correctly():
    # exp(-100) ~ 3.7e-44 is subnormal: the two-step scaling must round once.
    x = np.linspace(-103.9, -87.4, 4001, dtype=np.float32)
    want = correctly_rounded(np.exp)(x)
    assert ulp_distance(apply('exp', x), want).max() <= 1


@pytest.mark.parametrize('name', ['exp', 'tanh', 'log', 'log1p', 'erf'])
def test_xla_math_gives_jaxs_bits(name, real_jax):
    """Eager float32 math prints JAX's digits: xla_math against XLA:CPU itself, on a
    regular sample of all float32 bit patterns plus exp's and tanh's edges."""
    floats = np.concatenate([all_floats(997), np.linspace(-110, 95, 100001, dtype=np.float32)])
    with np.errstate(all='ignore'):
        ours = getattr(xla_math, name)(floats)
    fn = real_jax.scipy.special.erf if name == 'erf' else getattr(real_jax.numpy, name)
    theirs = np.asarray(fn(floats))
    differ = ~((ours == theirs) | (np.isnan(ours) & np.isnan(theirs)))
    if name == 'exp':   # XLA flushes subnormal results to 0; we keep them (README)
        differ &= ~((theirs == 0) & (np.abs(ours) < np.finfo(np.float32).tiny))
    assert not differ.any(), (name, floats[differ][:5], ours[differ][:5], theirs[differ][:5])


def test_eager_exp_and_tanh_follow_xla():
    x = np.array([-3.0, 3.0, 0.4, 88.4], np.float32)
    # jnp.tanh(3.) is 0.9950547 in JAX; np.tanh rounds correctly to 0.9950548
    np.testing.assert_array_equal(np.asarray(tt.numpy.tanh(x[:2])), np.float32([-0.9950547, 0.9950547]))
    np.testing.assert_array_equal(np.asarray(tt.numpy.exp(x)), xla_math.exp(x))
    assert np.asarray(tt.numpy.exp(x))[2] == np.float32(1.4918246)   # JAX's; rounded exactly: 1.4918247


def test_fma_rounds_once_where_float64_would_round_twice():
    # a * b = 2**-24 (1 - 2**-46): c + a*b lies just below the float32 midpoint
    # c + 2**-24, but its float64 rounding is that midpoint, which ties to even.
    a, b, c = np.float32(1 + 2 ** -23), np.float32((1 - 2 ** -23) * 2 ** -24), np.float32(1 + 2 ** -23)
    twice = np.float32(np.float64(a) * np.float64(b) + np.float64(c))
    assert twice == np.float32(1 + 2 ** -22)
    assert xla_math.fma(a, b, c) == c
    many = xla_math.fma(np.full(5, a), np.float32([b, 0, b, 1, b]), np.full(5, c))
    np.testing.assert_array_equal(many, np.float32([c, c, c, 2 + 2 ** -22, c]))
