"""Eager and jit reductions agree, on every axis.

The rule (tinygrad_tracer/_lax_xla.py, `in_order`; backends/codegen.py, `_acc_dtype`):
a float reduction of up to 32 elements adds them one after another in its own
precision (XLA:CPU's order, so JAX's digits); a longer one accumulates in float64
and rounds once. NumPy's float32 `sum` is pairwise only along the contiguous axis
and adds row after row along any other, so `X.mean(0)` of a tall float32 array used
to err 30 times more eagerly than under jit (issue 16, item 4).
"""
import numpy as np
import pytest

import tinygrad_tracer as tt
import tinygrad_tracer.numpy as jnp

ULP_BOUND = 2   # eager vs jit, and each vs the float64 result rounded to float32

SHAPES = [(100000, 3), (3, 100000), (40, 50, 60), (1000, 7, 13)]


def _ulps(a, b):
    """|a - b| in units of float32 spacing at b (float32 arrays)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float32)
    return np.abs(a - b.astype(np.float64)) / np.spacing(np.abs(b).astype(np.float32)).astype(np.float64)


def _data(shape):
    # an offset makes rounding errors visible: every partial sum is large
    return (np.random.default_rng(sum(shape)).normal(size=shape) + 3.0).astype(np.float32)


def _cases(shape):
    axes = [(a,) for a in range(len(shape))] + [tuple(range(len(shape)))]
    if len(shape) == 3:
        axes += [(0, 2), (0, 1), (1, 2)]
    return axes


@pytest.mark.parametrize('shape', SHAPES, ids=str)
def test_eager_jit_and_float64_agree_on_every_axis(shape):
    x = _data(shape)
    for axes in _cases(shape):
        fn = lambda v: (v.sum(axis=axes), v.mean(axis=axes))
        count = int(np.prod([shape[a] for a in axes]))
        # up to 32 elements add one after another in float32, as XLA:CPU: an ulp per addition
        bound = ULP_BOUND if count > 32 else count
        for name, eager, jitted in zip(['sum', 'mean'], fn(jnp.asarray(x)), tt.jit(fn)(x)):
            exact = getattr(x.astype(np.float64), name)(axis=axes).astype(np.float32)
            assert _ulps(eager, jitted).max() <= ULP_BOUND, (name, axes, 'eager vs jit')
            assert _ulps(eager, exact).max() <= bound, (name, axes, 'eager vs float64')
            assert _ulps(jitted, exact).max() <= bound, (name, axes, 'jit vs float64')


@pytest.mark.parametrize('shape', [(100000, 3), (3, 100000)], ids=str)
def test_var_and_std_agree(shape):
    x = _data(shape)
    for axis in range(2):
        for name in ['var', 'std']:
            fn = lambda v: getattr(v, name)(axis=axis)
            exact = getattr(x.astype(np.float64), name)(axis=axis)
            eager, jitted = np.asarray(fn(jnp.asarray(x))), np.asarray(tt.jit(fn)(x))
            # a few roundings after the sums (square, subtract, divide, sqrt): a few ulp
            assert _ulps(eager, jitted).max() <= 4, (name, axis)
            np.testing.assert_allclose(eager, exact, rtol=1e-6)


def test_cumsum_eager_matches_jit_bit_for_bit():
    x = _data((3000, 4))
    for axis in range(2):
        eager = np.asarray(jnp.cumsum(jnp.asarray(x), axis))
        np.testing.assert_array_equal(eager, np.asarray(tt.jit(lambda v: jnp.cumsum(v, axis))(x)))


def test_issue_norm_example():
    """Issue 16: the eager normalization and the jitted one agree to 1e-6, as JAX's do."""
    X = np.random.default_rng(1).uniform(size=(10000, 10)).astype(np.float32)

    def norm(X):
        X = X - X.mean(0)
        return X / X.std(0)

    assert np.allclose(norm(jnp.asarray(X)), tt.jit(norm)(X), atol=1e-6)
    err = np.abs(np.asarray(jnp.asarray(X).mean(0)) - X.astype(np.float64).mean(0)).max()
    assert err < 1e-7   # JAX: 4.4e-8; NumPy's float32 row-by-row sum: 1.4e-6
