"""Property tests: every jnp function against NumPy on drawn shapes, dtypes and values.

NumPy computes the reference on the inputs cast to the dtype JAX computes in
(int8 + uint8 is int16, int / int is float32, ...); the result must have that
dtype and NumPy's values.
"""
import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings, HealthCheck, strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_tracer.numpy as jnp
from tinygrad_tracer import dtypes, Array

PROP = settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
NUMERIC = [np.float32, np.int32, np.int8, np.uint8, np.int16, np.float16]
ALL = NUMERIC + [np.bool_]


def elements(dtype, lo=-10, hi=10):
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return st.booleans()
    if dtype.kind == 'f':   # bounds rounded to the dtype, as hypothesis requires
        lo, hi = (float(np.asarray(v, dtype)) for v in (lo, hi))
        return st.floats(lo, hi, width=8 * dtype.itemsize, allow_subnormal=False)
    lo, hi = int(np.ceil(lo)), int(np.floor(hi))
    return st.integers(max(lo, 0) if dtype.kind == 'u' else lo, hi)


@st.composite
def arrays(draw, dtypes_=ALL, shape=None, min_dims=0, max_dims=3, min_side=1, max_side=4, lo=-10, hi=10):
    dtype = np.dtype(draw(st.sampled_from(dtypes_)))
    if shape is None:
        shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side))
    return draw(hnp.arrays(dtype, shape, elements=elements(dtype, lo, hi)))


def promoted(*dts):
    return dtypes.promote([(np.dtype(d), False) for d in dts])[0]


def floated(dt):
    return np.dtype(dt) if np.dtype(dt).kind == 'f' else np.dtype(np.float32)


def tol(dt):
    return {np.dtype(np.float16): 2e-3}.get(np.dtype(dt), 2e-6)


def assert_matches(actual, expected, dtype=None, rtol=None, atol=0):
    assert isinstance(actual, Array), type(actual)
    expected = np.asarray(expected)
    dtype = np.dtype(dtype if dtype is not None else expected.dtype)
    assert actual.dtype == dtype, (actual.dtype, dtype)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    if dtype.kind == 'f':
        rtol = tol(dtype) if rtol is None else rtol
        np.testing.assert_allclose(np.asarray(actual, np.float64), expected.astype(np.float64),
                                   rtol=rtol, atol=atol, equal_nan=True)
    else:
        np.testing.assert_array_equal(np.asarray(actual), expected.astype(dtype))


# --- elementwise ----------------------------------------------------------------------------

UNARY_FLOAT = {   # name: (numpy function, lo, hi) -- the domain keeps NumPy finite
    'sin': (np.sin, -10, 10), 'cos': (np.cos, -10, 10), 'tan': (np.tan, -1.5, 1.5),
    'arcsin': (np.arcsin, -1, 1), 'arccos': (np.arccos, -1, 1), 'arctan': (np.arctan, -10, 10),
    'sinh': (np.sinh, -5, 5), 'cosh': (np.cosh, -5, 5), 'tanh': (np.tanh, -10, 10),
    'arcsinh': (np.arcsinh, -10, 10), 'arccosh': (np.arccosh, 1, 10), 'arctanh': (np.arctanh, -0.9, 0.9),
    'exp': (np.exp, -10, 10), 'expm1': (np.expm1, -5, 5), 'exp2': (np.exp2, -10, 10),
    'log': (np.log, 0.1, 10), 'log1p': (np.log1p, -0.5, 10), 'log2': (np.log2, 0.1, 10),
    'log10': (np.log10, 0.1, 10), 'sqrt': (np.sqrt, 0, 10), 'cbrt': (np.cbrt, -10, 10),
    'deg2rad': (np.deg2rad, -10, 10), 'rad2deg': (np.rad2deg, -10, 10), 'rint': (np.rint, -10, 10),
}


@pytest.mark.parametrize('name', sorted(UNARY_FLOAT))
@PROP
@given(data=st.data())
def test_unary_float_functions(name, data):
    np_fn, lo, hi = UNARY_FLOAT[name]
    x = data.draw(arrays([np.float32, np.float16, np.int32, np.int8], lo=lo, hi=hi))
    dt = floated(x.dtype)
    with np.errstate(all='ignore'):
        expected = np_fn(x.astype(np.float64))
    assert_matches(getattr(jnp, name)(x), expected.astype(dt) if dt == np.float16 else expected, dt,
          rtol=1e-2 if dt == np.float16 else 4e-6, atol=1e-6 if dt == np.float32 else 1e-2)


UNARY_SAME = {'negative': np.negative, 'absolute': np.absolute, 'sign': np.sign, 'square': np.square,
              'floor': np.floor, 'ceil': np.ceil, 'trunc': np.trunc, 'positive': np.positive}


@pytest.mark.parametrize('name', sorted(UNARY_SAME))
@PROP
@given(x=arrays(NUMERIC))
def test_unary_same_dtype(name, x):
    with np.errstate(all='ignore'):
        expected = UNARY_SAME[name](x)
    assert_matches(getattr(jnp, name)(x), expected, x.dtype)   # floor of an int stays an int


@PROP
@given(x=arrays([np.int32, np.int8, np.uint8, np.bool_]))
def test_bitwise_not_and_logical_not(x):
    assert_matches(jnp.invert(x), np.invert(x))
    assert_matches(jnp.logical_not(x), np.logical_not(x))


@PROP
@given(x=arrays([np.float32], lo=-1e3, hi=1e3), decimals=st.integers(0, 3))
def test_round_halves_to_even(x, decimals):
    assert_matches(jnp.round(x, decimals), np.round(x, decimals), rtol=1e-6)
    assert_matches(jnp.round(np.array([0.5, 1.5, 2.5, -0.5, -2.5], np.float32)), np.array([0., 2., 2., -0., -2.]), np.float32)


BINARY = {
    'add': np.add, 'subtract': np.subtract, 'multiply': np.multiply, 'maximum': np.maximum,
    'minimum': np.minimum, 'equal': np.equal, 'not_equal': np.not_equal, 'less': np.less,
    'less_equal': np.less_equal, 'greater': np.greater, 'greater_equal': np.greater_equal,
    'logical_and': np.logical_and, 'logical_or': np.logical_or, 'logical_xor': np.logical_xor,
}


@st.composite
def array_pairs(draw, dtypes_=ALL, lo=-10, hi=10):
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=4))
    x = draw(arrays(dtypes_, shape=shapes.input_shapes[0], lo=lo, hi=hi))
    y = draw(arrays(dtypes_, shape=shapes.input_shapes[1], lo=lo, hi=hi))
    return x, y


@pytest.mark.parametrize('name', sorted(BINARY))
@PROP
@given(pair=array_pairs())
def test_binary_promotes_like_jax(name, pair):
    x, y = pair
    dt = promoted(x.dtype, y.dtype)
    assume(not (name == 'subtract' and dt == np.bool_))
    with np.errstate(all='ignore'):
        expected = BINARY[name](x.astype(dt), y.astype(dt))
    assert_matches(getattr(jnp, name)(x, y), expected)


def test_subtracting_booleans_is_an_error():
    with pytest.raises(TypeError, match='sub does not accept dtype bool'):
        jnp.subtract(jnp.array([True]), jnp.array([False]))


@pytest.mark.parametrize('name', ['true_divide', 'arctan2', 'hypot', 'logaddexp', 'copysign',
                                  'float_power', 'fmax', 'fmin'])
@PROP
@given(pair=array_pairs([np.float32, np.int32, np.int8, np.bool_], lo=-5, hi=5))
def test_binary_float_functions(name, pair):
    x, y = pair
    if name in ('fmax', 'fmin'):   # these keep integers
        dt = promoted(x.dtype, y.dtype)
    else:
        dt = floated(promoted(x.dtype, y.dtype))
    assume(name != 'true_divide' or np.all(y != 0))
    assume(name != 'float_power' or np.all(x.astype(np.float64) > 0))
    with np.errstate(all='ignore'):
        expected = getattr(np, name)(x.astype(np.float64), y.astype(np.float64))
    assert_matches(getattr(jnp, name)(x, y), expected.astype(dt), dt, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('name', ['floor_divide', 'remainder', 'fmod'])
@PROP
@given(pair=array_pairs([np.float32, np.int32, np.int8, np.uint8]))
def test_integer_division_family(name, pair):
    x, y = pair
    dt = promoted(x.dtype, y.dtype)
    assume(np.all(y != 0))
    with np.errstate(all='ignore'):
        expected = getattr(np, name)(x.astype(dt), y.astype(dt))
    assert_matches(getattr(jnp, name)(x, y), expected, dt, rtol=1e-5, atol=1e-5)
    q, r = jnp.divmod(x, y)
    assert_matches(q, np.floor_divide(x.astype(dt), y.astype(dt)), dt, rtol=1e-5)


def test_division_by_zero_follows_jax():
    x, y = jnp.array([5, -5, 0, 7]), jnp.array([0, 0, 0, -2])
    assert jnp.floor_divide(x, y).tolist() == [-2, -2, -1, -4]
    assert jnp.remainder(x, y).tolist() == [0, 0, 0, -1]
    assert jnp.fmod(x, y).tolist() == [0, 0, 0, 1]
    assert np.isnan(np.asarray(jnp.remainder(1.0, jnp.zeros(2)))).all()
    assert jnp.floor_divide(1.0, jnp.zeros(1)).tolist() == [np.inf]


@PROP
@given(pair=array_pairs([np.int32, np.int8, np.uint8, np.bool_]))
def test_bitwise_functions(pair):
    x, y = pair
    dt = promoted(x.dtype, y.dtype)
    for name in ('bitwise_and', 'bitwise_or', 'bitwise_xor'):
        assert_matches(getattr(jnp, name)(x, y), getattr(np, name)(x.astype(dt), y.astype(dt)))


@PROP
@given(pair=array_pairs([np.int32, np.int8, np.float32], lo=-4, hi=4), exponent=st.integers(0, 5))
def test_power(pair, exponent):
    x, y = pair
    dt = promoted(x.dtype, y.dtype)
    y = np.abs(y)   # NumPy refuses negative integer powers
    with np.errstate(all='ignore'):
        expected = np.power(x.astype(dt), y.astype(dt))
    assert_matches(jnp.power(x, y), expected, dt, rtol=1e-5)
    assert_matches(jnp.power(x, exponent), np.power(x, exponent), x.dtype, rtol=1e-6)   # integer_pow
    assert_matches(jnp.asarray(x) ** 2, x ** 2, x.dtype)


@PROP
@given(x=arrays([np.float32, np.int32, np.int8, np.uint8, np.bool_]),
       scalar=st.one_of(st.integers(0, 5), st.floats(-3, 3, width=32), st.booleans()))
def test_python_scalars_promote_weakly(x, scalar):
    kind = (np.float32 if type(scalar) is float else np.int32 if type(scalar) is int else np.bool_)
    dt, weak = dtypes.promote([(x.dtype, False), (np.dtype(kind), type(scalar) is not bool)])
    assume(not (x.dtype == np.bool_ and type(scalar) is bool))
    expected = np.add(x.astype(dt), np.asarray(scalar).astype(dt))
    out = jnp.add(x, scalar)
    assert_matches(out, expected, dt, rtol=1e-6)
    assert out.weak_type is weak


@PROP
@given(x=arrays([np.float32], lo=-1e3, hi=1e3))
def test_classification_and_cleanup(x):
    x = x.copy().reshape(-1)
    x[::3] = np.nan
    x[1::5] = np.inf
    x[2::7] = -np.inf
    for name in ('isnan', 'isinf', 'isfinite', 'signbit', 'isposinf', 'isneginf'):
        assert_matches(getattr(jnp, name)(x), getattr(np, name)(x))
    assert_matches(jnp.nan_to_num(x), np.nan_to_num(x))
    assert_matches(jnp.nan_to_num(x, nan=1.5, posinf=2.0, neginf=-3.0), np.nan_to_num(x, nan=1.5, posinf=2.0, neginf=-3.0))


@PROP
@given(pair=array_pairs([np.float32], lo=-2, hi=2), rtol=st.sampled_from([1e-5, 1e-2]))
def test_isclose_allclose(pair, rtol):
    x, y = pair
    assert_matches(jnp.isclose(x, y, rtol=rtol), np.isclose(x, y, rtol=rtol))
    near = x * np.float32(1 + 3e-6)   # close for rtol=1e-5, not for a tighter one
    assert_matches(jnp.isclose(x, near, rtol=rtol), np.isclose(x, near, rtol=rtol))
    assert_matches(jnp.isclose(x, near, rtol=1e-7, atol=0), np.isclose(x, near, rtol=1e-7, atol=0))
    assert bool(jnp.allclose(x, y, rtol=rtol)) == np.allclose(x, y, rtol=rtol)
    specials = np.array([np.nan, np.inf, -np.inf, 1.0, np.nan], np.float32)
    other = np.array([np.nan, np.inf, np.inf, np.inf, 1.0], np.float32)
    for equal_nan in (False, True):
        assert_matches(jnp.isclose(specials, other, equal_nan=equal_nan), np.isclose(specials, other, equal_nan=equal_nan))


@PROP
@given(x=arrays(), lo=st.integers(-5, 0), hi=st.integers(0, 5))
def test_where_and_clip(x, lo, hi):
    cond = np.arange(x.size).reshape(x.shape) % 2 == 0
    dt = np.dtype(np.int32) if x.dtype == np.bool_ else x.dtype   # bool and a Python int: int32
    assert_matches(jnp.where(cond, x, 0), np.where(cond, x.astype(dt), 0).astype(dt), dt)
    assert_matches(jnp.where(cond[..., None], x[..., None], np.flip(x)[..., None]),
          np.where(cond[..., None], x[..., None], np.flip(x)[..., None]))
    if x.dtype != np.bool_:
        lo = 0 if x.dtype.kind == 'u' else lo   # -5 does not fit a uint8 (OverflowError, as JAX)
        assert_matches(jnp.clip(x, lo, hi), np.clip(x, lo, hi).astype(x.dtype))
        assert_matches(jnp.clip(x, max=hi), np.minimum(x, hi).astype(x.dtype))


# --- reductions ---------------------------------------------------------------------------------

@st.composite
def axis_args(draw, x):
    if x.ndim == 0:
        return draw(st.sampled_from([None, ()]))
    return draw(st.one_of(st.none(), st.integers(-x.ndim, x.ndim - 1),
                          st.lists(st.integers(0, x.ndim - 1), unique=True, max_size=x.ndim).map(tuple)))


def summed_dtype(dt):
    dt = np.dtype(dt)
    if dt == np.bool_ or (dt.kind == 'i' and dt.itemsize < 4):
        return np.dtype(np.int32)
    if dt.kind == 'u' and dt.itemsize < 4:
        return np.dtype(np.uint32)
    return dt


@pytest.mark.parametrize('name', ['sum', 'prod', 'max', 'min', 'all', 'any', 'count_nonzero'])
@PROP
@given(data=st.data(), keepdims=st.booleans())
def test_reductions(name, data, keepdims):
    x = data.draw(arrays(lo=-3, hi=3))
    axis = data.draw(axis_args(x))
    if name in ('sum', 'prod'):
        dt = summed_dtype(x.dtype)
        acc = np.float32 if dt == np.float16 else dt   # float16 accumulates in float32, as XLA
        expected = getattr(np, name)(x.astype(acc), axis=axis, keepdims=keepdims, dtype=acc).astype(dt)
    elif name == 'count_nonzero':
        expected = np.count_nonzero(x, axis=axis, keepdims=keepdims).astype(np.int32)
        if axis is None and keepdims:
            expected = expected.reshape((1,) * x.ndim)
    else:
        expected = getattr(np, name)(x, axis=axis, keepdims=keepdims)
    assert_matches(getattr(jnp, name)(x, axis=axis, keepdims=keepdims), expected, rtol=1e-5)


@pytest.mark.parametrize('name', ['mean', 'var', 'std'])
@PROP
@given(data=st.data(), keepdims=st.booleans(), ddof=st.integers(0, 1))
def test_statistics(name, data, keepdims, ddof):
    x = data.draw(arrays([np.float32, np.int32, np.int8, np.bool_], min_side=2))
    axis = data.draw(axis_args(x))
    kw = {} if name == 'mean' else {'ddof': ddof}
    with np.errstate(all='ignore'), warnings.catch_warnings():
        warnings.simplefilter('ignore')
        expected = getattr(np, name)(x.astype(np.float64), axis=axis, keepdims=keepdims, **kw)
    assert_matches(getattr(jnp, name)(x, axis=axis, keepdims=keepdims, **kw), expected.astype(np.float32),
          np.float32, rtol=1e-4, atol=1e-5)


def test_statistics_edge_cases():
    assert np.isnan(float(jnp.var(jnp.ones(1), ddof=1)))
    assert repr(jnp.mean(jnp.array([1, 2]))) == 'Array(1.5, dtype=float32)'
    x = jnp.array([[1., 2.], [3., 4.]])
    assert jnp.mean(x, axis=1, where=jnp.array([[True, False], [True, True]])).tolist() == [1.0, 3.5]
    assert jnp.sum(x, initial=10.0).item() == 20.0
    assert jnp.max(jnp.zeros((0, 2)), axis=0, initial=-1.0).tolist() == [-1.0, -1.0]
    with pytest.raises(ValueError, match='zero-size array to reduction operation max'):
        jnp.max(jnp.zeros((0,)))
    with pytest.raises(ValueError, match='does not support out='):
        jnp.sum(x, out=x)
    with pytest.raises(ValueError, match='repeated axis'):
        jnp.sum(x, axis=(0, 0))
    with pytest.raises(ValueError, match='axis 2 is out of bounds for array of dimension 2'):
        jnp.sum(x, axis=2)


@pytest.mark.parametrize('name', ['argmax', 'argmin'])
@PROP
@given(data=st.data(), keepdims=st.booleans())
def test_argmax_argmin(name, data, keepdims):
    x = data.draw(arrays(lo=-3, hi=3))
    axis = data.draw(st.none() | st.integers(-max(x.ndim, 1), max(x.ndim, 1) - 1)) if x.ndim else None
    assert_matches(getattr(jnp, name)(x, axis=axis, keepdims=keepdims),
          getattr(np, name)(x, axis=axis, keepdims=keepdims), np.int32)


@pytest.mark.parametrize('name', ['cumsum', 'cumprod'])
@PROP
@given(data=st.data())
def test_cumulative(name, data):
    x = data.draw(arrays(lo=-3, hi=3))
    axis = data.draw(st.none() | st.integers(-x.ndim, x.ndim - 1)) if x.ndim else None
    dt = np.dtype(np.int32) if x.dtype == np.bool_ else x.dtype   # JAX keeps int8 as int8
    assert_matches(getattr(jnp, name)(x, axis=axis), getattr(np, name)(x, axis=axis, dtype=dt), dt, rtol=1e-4)


@PROP
@given(x=arrays([np.float32], min_dims=1, min_side=1), q=st.integers(0, 8).map(lambda k: k / 8), method=st.sampled_from(
    ['linear', 'lower', 'higher', 'nearest', 'midpoint']))
def test_quantiles(x, q, method):
    axis = -1
    assert_matches(jnp.quantile(x, q, axis=axis, method=method), np.quantile(x, q, axis=axis, method=method).astype(np.float32),
          np.float32, rtol=1e-5, atol=1e-5)
    assert_matches(jnp.median(x), np.median(x).astype(np.float32), np.float32, rtol=1e-5, atol=1e-6)
    assert_matches(jnp.percentile(x, [10, 90]), np.percentile(x, [10, 90]).astype(np.float32), np.float32, rtol=1e-5, atol=1e-5)


@PROP
@given(x=arrays([np.float32, np.int32], min_dims=1))
def test_other_statistics(x):
    assert_matches(jnp.ptp(x, axis=0), np.ptp(x, axis=0))
    w = np.arange(1, x.shape[0] + 1).astype(np.float32)
    assert_matches(jnp.average(x, axis=0, weights=w), np.average(x.astype(np.float64), axis=0, weights=w).astype(np.float32),
          np.float32, rtol=1e-5, atol=1e-5)
    y = x.astype(np.float32).copy().reshape(-1)
    y[::2] = np.nan
    with np.errstate(all='ignore'), warnings.catch_warnings():
        warnings.simplefilter('ignore')
        for name in ('nansum', 'nanmean', 'nanmax', 'nanmin'):
            assert_matches(getattr(jnp, name)(y), getattr(np, name)(y).astype(np.float32), np.float32, rtol=1e-5, atol=1e-6)


# --- shapes ------------------------------------------------------------------------------------

@PROP
@given(x=arrays(min_dims=1), data=st.data())
def test_shape_functions(x, data):
    assert_matches(jnp.ravel(x), np.ravel(x))
    assert_matches(jnp.reshape(x, (-1, 1)), np.reshape(x, (-1, 1)))
    assert_matches(jnp.reshape(x, x.shape[::-1], order='F'), np.reshape(x, x.shape[::-1], order='F'))
    perm = data.draw(st.permutations(range(x.ndim)))
    assert_matches(jnp.transpose(x, perm), np.transpose(x, perm))
    assert_matches(jnp.transpose(x), np.transpose(x))
    i, j = data.draw(st.integers(-x.ndim, x.ndim - 1)), data.draw(st.integers(-x.ndim, x.ndim - 1))
    assert_matches(jnp.swapaxes(x, i, j), np.swapaxes(x, i, j))
    assert_matches(jnp.moveaxis(x, i, j), np.moveaxis(x, i, j))
    assert_matches(jnp.expand_dims(x, i), np.expand_dims(x, i))
    assert_matches(jnp.squeeze(jnp.expand_dims(x, 0), 0), x)
    assert_matches(jnp.squeeze(x), np.squeeze(x))
    assert_matches(jnp.broadcast_to(x, (2,) + x.shape), np.broadcast_to(x, (2,) + x.shape))
    assert_matches(jnp.atleast_3d(x), np.atleast_3d(x))


@PROP
@given(xs=st.integers(1, 3).flatmap(lambda n: st.tuples(*[arrays(shape=(2, 3)) for _ in range(n)])),
       axis=st.integers(-2, 1))
def test_concatenate_and_stack(xs, axis):
    dt = promoted(*[x.dtype for x in xs])
    cast = [x.astype(dt) for x in xs]
    assert_matches(jnp.concatenate(xs, axis), np.concatenate(cast, axis))
    assert_matches(jnp.concat(xs, axis=axis), np.concatenate(cast, axis))
    assert_matches(jnp.concatenate(xs, axis=None), np.concatenate(cast, axis=None))
    assert_matches(jnp.stack(xs, axis), np.stack(cast, axis))
    assert_matches(jnp.stack(xs, -1), np.stack(cast, -1))
    assert_matches(jnp.hstack(xs), np.hstack(cast))
    assert_matches(jnp.vstack(xs), np.vstack(cast))
    assert_matches(jnp.dstack(xs), np.dstack(cast))
    dt2 = promoted(xs[0].dtype, xs[-1].dtype)
    assert_matches(jnp.append(xs[0], xs[-1]), np.append(xs[0].astype(dt2), xs[-1].astype(dt2)))


@PROP
@given(x=arrays(min_dims=1, max_side=6), data=st.data())
def test_split(x, data):
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    n = x.shape[axis]
    sections = data.draw(st.sampled_from([d for d in range(1, n + 1) if n % d == 0]))
    for got, want in zip(jnp.split(x, sections, axis), np.split(x, sections, axis)):
        assert_matches(got, want)
    cuts = sorted(data.draw(st.lists(st.integers(0, n), max_size=3)))
    parts = jnp.split(x, cuts, axis)
    assert len(parts) == len(cuts) + 1
    for got, want in zip(parts, np.split(x, cuts, axis)):
        assert_matches(got, want)
    for got, want in zip(jnp.array_split(x, 3, axis), np.array_split(x, 3, axis)):
        assert_matches(got, want)
    assert_matches(jnp.stack(jnp.unstack(x, axis=axis), axis), x)


def test_split_errors():
    with pytest.raises(ValueError, match='array split does not result in an equal division: 5 into 2'):
        jnp.split(jnp.arange(5), 2)
    with pytest.raises(ValueError, match='All input arrays must have the same shape'):
        jnp.stack([jnp.ones(2), jnp.ones(3)])
    with pytest.raises(ValueError, match='Zero-dimensional arrays cannot be concatenated'):
        jnp.concatenate([jnp.ones(()), jnp.ones(())])
    with pytest.raises(TypeError, match=r'except for the concatenation axis \(0\)'):
        jnp.concatenate([jnp.ones((2, 2)), jnp.ones((2, 3))])


@PROP
@given(x=arrays(max_dims=2), reps=st.lists(st.integers(1, 3), min_size=1, max_size=3),
       repeats=st.integers(0, 3), data=st.data())
def test_tile_and_repeat(x, reps, repeats, data):
    assert_matches(jnp.tile(x, reps), np.tile(x, reps))
    assert_matches(jnp.tile(x, reps[0]), np.tile(x, reps[0]))
    assert_matches(jnp.repeat(x, repeats), np.repeat(x, repeats))
    if x.ndim:
        axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
        counts = data.draw(st.lists(st.integers(0, 3), min_size=x.shape[axis], max_size=x.shape[axis]))
        assert_matches(jnp.repeat(x, repeats, axis=axis), np.repeat(x, repeats, axis=axis))
        assert_matches(jnp.repeat(x, np.array(counts), axis=axis), np.repeat(x, counts, axis=axis))


@pytest.mark.parametrize('mode', ['constant', 'edge', 'wrap', 'reflect', 'symmetric'])
@PROP
@given(x=arrays(min_dims=1, max_dims=2), data=st.data())
def test_pad(mode, x, data):
    width = data.draw(st.one_of(st.integers(0, 3), st.tuples(st.integers(0, 3), st.integers(0, 3)),
                                st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)),
                                         min_size=x.ndim, max_size=x.ndim)))
    assert_matches(jnp.pad(x, width, mode=mode), np.pad(x, width, mode=mode))
    if mode == 'constant':
        assert_matches(jnp.pad(x, width, constant_values=1), np.pad(x, width, constant_values=1))


def test_pad_errors():
    with pytest.raises(ValueError, match="unsupported mode 'mean'"):
        jnp.pad(jnp.ones(2), 1, mode='mean')
    with pytest.raises(ValueError, match='pad_width must be non-negative'):
        jnp.pad(jnp.ones(2), -1)


@PROP
@given(x=arrays(min_dims=1), data=st.data())
def test_flip_roll_rot90(x, data):
    axis = data.draw(st.none() | st.integers(-x.ndim, x.ndim - 1))
    assert_matches(jnp.flip(x, axis), np.flip(x, axis))
    shift = data.draw(st.integers(-5, 5))
    assert_matches(jnp.roll(x, shift, axis), np.roll(x, shift, axis))
    if x.ndim >= 2:
        k = data.draw(st.integers(-1, 5))
        assert_matches(jnp.rot90(x, k), np.rot90(x, k))
        assert_matches(jnp.roll(x, (1, -2), (0, 1)), np.roll(x, (1, -2), (0, 1)))
        assert_matches(jnp.fliplr(x), np.fliplr(x))
    assert_matches(jnp.flipud(x), np.flipud(x))
    if x.dtype != np.bool_:
        assert_matches(jnp.diff(x, axis=-1), np.diff(x, axis=-1))
        zero = np.zeros((), x.dtype)   # (a Python 0 would make NumPy compute in float64)
        assert_matches(jnp.diff(x, n=2, axis=0, prepend=0), np.diff(x, n=2, axis=0, prepend=zero))


# --- sorting, searching, taking ------------------------------------------------------------------

@PROP
@given(x=arrays(min_dims=1, lo=-3, hi=3), data=st.data())
def test_sort_and_argsort(x, data):
    axis = data.draw(st.none() | st.integers(-x.ndim, x.ndim - 1))
    assert_matches(jnp.sort(x, axis=axis), np.sort(x, axis=axis))
    assert_matches(jnp.argsort(x, axis=axis), np.argsort(x, axis=axis, kind='stable'), np.int32)
    if axis is not None:
        # Descending keeps ties in their original order.
        flipped = np.flip(np.argsort(np.flip(x, axis), axis=axis, kind='stable'), axis)
        assert_matches(jnp.argsort(x, axis=axis, descending=True), x.shape[axis] - 1 - flipped, np.int32)
        assert_matches(jnp.sort(x, axis=axis, descending=True), np.flip(np.sort(x, axis=axis), axis))


def test_sort_puts_nan_last():
    x = np.array([3.0, np.nan, 1.0, -np.inf], np.float32)
    assert_matches(jnp.sort(x), np.sort(x))
    assert_matches(jnp.argsort(x), np.argsort(x, kind='stable'), np.int32)
    assert jnp.argsort(x, descending=True).tolist() == [1, 0, 2, 3]
    keys = (np.array([1, 1, 0, 0]), np.array([0, 1, 0, 1]))
    assert_matches(jnp.lexsort(keys), np.lexsort(keys), np.int32)


@PROP
@given(a=arrays([np.float32, np.int32], min_dims=1, max_dims=1), v=arrays([np.float32, np.int32], max_dims=2),
       side=st.sampled_from(['left', 'right']))
def test_searchsorted_and_digitize(a, v, side):
    a = np.sort(a)
    dt = promoted(a.dtype, v.dtype)
    assert_matches(jnp.searchsorted(a, v, side=side), np.searchsorted(a.astype(dt), v.astype(dt), side=side), np.int32)
    bins = np.unique(a)
    assert_matches(jnp.digitize(v, bins), np.digitize(v.astype(dt), bins.astype(dt)), np.int32)
    nan_probe = np.array([np.nan, 0.0], np.float32)
    assert_matches(jnp.searchsorted(np.array([1., 2.], np.float32), nan_probe), np.searchsorted(np.array([1., 2.]), nan_probe), np.int32)


@PROP
@given(x=arrays(min_dims=1, lo=-2, hi=2), size=st.integers(0, 5))
def test_nonzero_argwhere_unique(x, size):
    for got, want in zip(jnp.nonzero(x), np.nonzero(x)):
        assert_matches(got, want, np.int32)
    assert_matches(jnp.argwhere(x), np.argwhere(x), np.int32)
    assert_matches(jnp.flatnonzero(x), np.flatnonzero(x), np.int32)
    padded = jnp.nonzero(x, size=size, fill_value=-1)
    for got, want in zip(padded, np.nonzero(x)):
        want = np.concatenate([want[:size], np.full(max(size - len(want), 0), -1)])
        assert_matches(got, want, np.int32)
    assert_matches(jnp.unique(x), np.unique(x))
    assert_matches(jnp.count_nonzero(x), np.count_nonzero(x), np.int32)
    if x.ndim == 1:
        assert_matches(jnp.where(x)[0], np.nonzero(x)[0], np.int32)


@PROP
@given(x=arrays(min_dims=1), data=st.data(), mode=st.sampled_from([None, 'clip', 'wrap', 'fill']))
def test_take(x, data, mode):
    axis = data.draw(st.none() | st.integers(-x.ndim, x.ndim - 1))
    n = x.size if axis is None else x.shape[axis]
    idx = np.array(data.draw(st.lists(st.integers(-2 * n, 2 * n), max_size=5)), np.int32)
    got = jnp.take(x, idx, axis=axis, mode=mode)
    if mode in ('clip', 'wrap'):
        assert_matches(got, np.take(x, idx, axis=axis, mode=mode))
    else:   # 'fill' (the default): out-of-bounds positions get the fill value
        inb = (idx >= -n) & (idx < n)
        want = np.take(x, np.where(inb, idx, 0), axis=axis)
        ax = 0 if axis is None else axis % x.ndim
        mask = inb.reshape((1,) * ax + idx.shape + (1,) * (0 if axis is None else x.ndim - ax - 1))
        fill = {'f': np.nan, 'b': True, 'u': np.iinfo(x.dtype).max if x.dtype.kind == 'u' else 0,
                'i': np.iinfo(x.dtype).min if x.dtype.kind == 'i' else 0}[x.dtype.kind]
        assert_matches(got, np.where(mask, want, np.asarray(fill).astype(x.dtype)), x.dtype)


@PROP
@given(x=arrays(min_dims=1, lo=-3, hi=3), data=st.data())
def test_take_along_axis(x, data):
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    order = np.argsort(x, axis=axis, kind='stable')
    assert_matches(jnp.take_along_axis(x, order, axis), np.take_along_axis(x, order, axis))
    assert_matches(jnp.take_along_axis(x, jnp.argsort(x, axis=axis), axis), np.sort(x, axis=axis))
    picked = np.zeros(x.shape[:axis % x.ndim] + (1,) + x.shape[axis % x.ndim + 1:], np.int32)
    assert_matches(jnp.take_along_axis(x, picked, axis), np.take_along_axis(x, picked, axis))


# --- products ------------------------------------------------------------------------------------

LETTERS = 'abcd'


@st.composite
def einsum_problems(draw):
    sizes = {c: draw(st.integers(1, 3)) for c in LETTERS}
    spec_a = ''.join(draw(st.permutations(LETTERS))[:draw(st.integers(0, 3))])
    spec_b = ''.join(draw(st.permutations(LETTERS))[:draw(st.integers(0, 3))])
    used = sorted(set(spec_a + spec_b))
    out = ''.join(draw(st.permutations(used))[:draw(st.integers(0, len(used)))])
    a = draw(arrays([np.float32, np.int32], shape=tuple(sizes[c] for c in spec_a), lo=-3, hi=3))
    b = draw(arrays([np.float32, np.int32], shape=tuple(sizes[c] for c in spec_b), lo=-3, hi=3))
    return f'{spec_a},{spec_b}->{out}', a, b


@PROP
@given(problem=einsum_problems())
def test_einsum_two_operands(problem):
    spec, a, b = problem
    dt = promoted(a.dtype, b.dtype)
    assert_matches(jnp.einsum(spec, a, b), np.einsum(spec, a.astype(dt), b.astype(dt)), rtol=1e-5, atol=1e-5)
    implicit = spec.split('->')[0]
    assert_matches(jnp.einsum(implicit, a, b), np.einsum(implicit, a.astype(dt), b.astype(dt)), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('spec, shapes', [
    ('ij,jk->ik', [(2, 3), (3, 4)]), ('ii->i', [(3, 3)]), ('ii', [(3, 3)]), ('ij->', [(2, 3)]),
    ('ij->ji', [(2, 3)]), ('bij,bjk->bik', [(2, 3, 4), (2, 4, 5)]), ('i,ij,j->', [(2,), (2, 3), (3,)]),
    ('...ij,...jk->...ik', [(5, 2, 3), (5, 3, 4)]), ('...ij,jk', [(1, 2, 3), (3, 4)]),
    ('i...,i...->...', [(2, 3, 4), (2, 1, 4)]), ('iij->j', [(2, 2, 3)]), ('ab,cd->abcd', [(2, 3), (4, 5)]),
    ('i,i,i->', [(3,), (3,), (3,)]), ('ijk,ikl->jl', [(2, 3, 4), (2, 4, 5)]),
])
def test_einsum_cases(spec, shapes):
    ops = [np.arange(np.prod(s), dtype=np.float32).reshape(s) - 3 for s in shapes]
    assert_matches(jnp.einsum(spec, *ops), np.einsum(spec, *ops), rtol=1e-6)


def test_einsum_errors():
    with pytest.raises(ValueError, match="names 2 operands but 1 were given"):
        jnp.einsum('ij,jk', jnp.ones((2, 2)))
    with pytest.raises(ValueError, match="has 2 labels but 3 dimensions"):
        jnp.einsum('ij', jnp.ones((2, 2, 2)))
    with pytest.raises(ValueError, match="label 'j' has sizes 3 and 4"):
        jnp.einsum('ij,jk', jnp.ones((2, 3)), jnp.ones((4, 5)))


@st.composite
def tensordot_problems(draw):
    a = draw(arrays([np.float32, np.int32], min_dims=1, lo=-3, hi=3))
    k = draw(st.integers(0, a.ndim))
    a_axes = draw(st.permutations(range(a.ndim)))[:k]
    extra = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
    b_shape = [a.shape[i] for i in a_axes] + list(extra)
    order = draw(st.permutations(range(len(b_shape))))
    b = draw(arrays([np.float32, np.int32], shape=tuple(b_shape[i] for i in order), lo=-3, hi=3))
    b_axes = [order.index(i) for i in range(k)]
    return a, b, (list(a_axes), b_axes)


@PROP
@given(problem=tensordot_problems())
def test_tensordot(problem):
    a, b, axes = problem
    dt = promoted(a.dtype, b.dtype)
    assert_matches(jnp.tensordot(a, b, axes), np.tensordot(a.astype(dt), b.astype(dt), axes), rtol=1e-5, atol=1e-5)


@PROP
@given(shapes=st.sampled_from([((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
                               ((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)), ((1, 2, 3), (5, 3, 2)),
                               ((3,), (5, 3, 2))]), data=st.data())
def test_dot_matmul_inner_outer(shapes, data):
    a = data.draw(arrays([np.float32, np.int32], shape=shapes[0], lo=-3, hi=3))
    b = data.draw(arrays([np.float32, np.int32], shape=shapes[1], lo=-3, hi=3))
    dt = promoted(a.dtype, b.dtype)
    a_, b_ = a.astype(dt), b.astype(dt)
    assert_matches(jnp.matmul(a, b), np.matmul(a_, b_), rtol=1e-5, atol=1e-5)
    assert_matches(jnp.asarray(a) @ b, a_ @ b_, rtol=1e-5, atol=1e-5)
    assert_matches(jnp.dot(a, b), np.dot(a_, b_), rtol=1e-5, atol=1e-5)
    assert_matches(jnp.outer(a, b), np.outer(a_, b_), rtol=1e-5)
    if a.shape[-1] == b.shape[-1]:
        assert_matches(jnp.inner(a, b), np.inner(a_, b_), rtol=1e-5, atol=1e-5)
    assert_matches(jnp.vdot(a, a), np.vdot(a, a), rtol=1e-5)
    assert_matches(jnp.kron(a, b), np.kron(a_, b_), rtol=1e-5)


def test_product_errors():
    with pytest.raises(TypeError, match=r'contracting dimensions must have the same size, got 3 \(axis 1 of \(2, 3\)\) and 4'):
        jnp.matmul(jnp.ones((2, 3)), jnp.ones((4, 5)))
    with pytest.raises(ValueError, match='matmul: operands must have at least one dimension'):
        jnp.matmul(jnp.ones(()), jnp.ones(3))


@PROP
@given(x=arrays([np.float32, np.int32], shape=(3, 4)), k=st.integers(-3, 3))
def test_diagonals(x, k):
    assert_matches(jnp.diagonal(x, k), np.diagonal(x, k))
    assert_matches(jnp.trace(x, k), np.trace(x, k).astype(x.dtype))
    assert_matches(jnp.diag(x, k), np.diag(x, k))
    assert_matches(jnp.diag(x[0], k), np.diag(x[0], k))
    assert_matches(jnp.tril(x, k), np.tril(x, k))
    assert_matches(jnp.triu(x, k), np.triu(x, k))
    assert_matches(jnp.diagonal(np.stack([x, x]), k, 1, 2), np.diagonal(np.stack([x, x]), k, 1, 2))


@PROP
@given(x=arrays([np.float32], min_dims=1, max_dims=2, lo=-5, hi=5),
       ord=st.sampled_from([None, 1, 2, np.inf, -np.inf, 0, 3]))
def test_linalg_norm_vectors(x, ord):
    v = x.reshape(-1)
    with np.errstate(all='ignore'):
        assert_matches(jnp.linalg.norm(v, ord), np.linalg.norm(v.astype(np.float64), ord).astype(np.float32), np.float32, rtol=1e-5, atol=1e-6)
    if x.ndim == 2 and ord in (None, 1, np.inf, -np.inf):
        assert_matches(jnp.linalg.norm(x, ord if ord else 'fro'), np.linalg.norm(x, ord if ord else 'fro').astype(np.float32),
              np.float32, rtol=1e-5)
        assert_matches(jnp.linalg.norm(x, axis=1, keepdims=True), np.linalg.norm(x, axis=1, keepdims=True), np.float32, rtol=1e-5)


MATRIX_ORDS = [None, 'fro', 1, -1, np.inf, -np.inf]


@pytest.mark.parametrize('ord', MATRIX_ORDS, ids=str)
@pytest.mark.parametrize('axis', [None, (0, 1), (1, 0), (-1, -2), (0, 2), (2, 0)], ids=str)
@pytest.mark.parametrize('keepdims', [False, True])
def test_linalg_norm_matrices(ord, axis, keepdims):
    """Every matrix ord against NumPy, with the axes in either order (axis=(1, 0) makes
    axis 1 the rows, so ord=1 then sums along it), on a matrix whose row and column
    sums all differ: max and min, rows and columns cannot be confused."""
    x = np.random.default_rng(3).normal(size=(3, 4, 5)).astype(np.float32)
    if axis is None:
        x = x[0]
    want = np.linalg.norm(x.astype(np.float64), ord, axis, keepdims).astype(np.float32)
    assert_matches(jnp.linalg.norm(x, ord, axis, keepdims), want, np.float32, rtol=1e-5)


def test_linalg_norm_matrix_ords_named_by_hand():
    x = np.array([[1., -2., 3.], [-4., 5., -6.5]], np.float32)   # |x|: column sums 5, 7, 9.5
    assert float(jnp.linalg.norm(x, 1)) == 9.5 and float(jnp.linalg.norm(x, -1)) == 5.0
    assert float(jnp.linalg.norm(x, np.inf)) == 15.5 and float(jnp.linalg.norm(x, -np.inf)) == 6.0
    assert float(jnp.linalg.norm(x, 'fro')) == pytest.approx(np.sqrt(97.25), rel=1e-6)


@pytest.mark.parametrize('ord', ['nuc', 2, -2, 3, 'bad'], ids=str)
def test_linalg_norm_matrix_ords_without_support_say_so(ord):
    # the spectral and nuclear norms need singular values: no SVD primitive yet
    with pytest.raises(ValueError, match=rf"linalg.norm: matrix ord={ord!r} is not supported \(use None, "
                                         r"'fro', 1, -1, inf or -inf; the 2-norm needs an SVD\)"):
        jnp.linalg.norm(np.ones((2, 3), np.float32), ord)


def test_linalg_norm_errors():
    with pytest.raises(ValueError, match="invalid order 'fro' for a vector norm"):
        jnp.linalg.norm(np.ones(3, np.float32), 'fro')
    with pytest.raises(ValueError, match=r"axis must name 1 or 2 axes, got \(0, 1, 2\)"):
        jnp.linalg.norm(np.ones((2, 2, 2), np.float32), 1, axis=(0, 1, 2))
    with pytest.raises(ValueError, match="repeated axis"):
        jnp.linalg.norm(np.ones((2, 2), np.float32), 1, axis=(1, 1))


# --- creation ------------------------------------------------------------------------------------

@PROP
@given(shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3),
       dtype=st.sampled_from(ALL), fill=st.integers(0, 3))
def test_creation(shape, dtype, fill):
    assert_matches(jnp.zeros(shape, dtype), np.zeros(shape, dtype))
    assert_matches(jnp.ones(shape, dtype), np.ones(shape, dtype))
    assert_matches(jnp.empty(shape, dtype), np.zeros(shape, dtype))
    assert_matches(jnp.full(shape, fill, dtype), np.full(shape, fill, dtype))
    x = np.ones(shape, dtype)
    for name in ('zeros_like', 'ones_like', 'empty_like'):
        assert_matches(getattr(jnp, name)(x), np.full(shape, name == 'ones_like', dtype))
    assert_matches(jnp.full_like(x, fill), np.full_like(x, fill))
    assert_matches(jnp.zeros_like(x, dtype=np.float32, shape=(2,)), np.zeros(2, np.float32))
    assert_matches(jnp.zeros(shape), np.zeros(shape, np.float32))


@PROP
@given(start=st.integers(-5, 5), stop=st.integers(-5, 10), step=st.integers(1, 3),
       num=st.integers(0, 7), endpoint=st.booleans())
def test_ranges(start, stop, step, num, endpoint):
    assert_matches(jnp.arange(stop), np.arange(stop).astype(np.int32))
    assert_matches(jnp.arange(start, stop, step), np.arange(start, stop, step).astype(np.int32))
    assert_matches(jnp.arange(start, stop, -step), np.arange(start, stop, -step).astype(np.int32))
    assert_matches(jnp.arange(start / 2, stop / 2, step / 4), np.arange(start / 2, stop / 2, step / 4, dtype=np.float32))
    assert_matches(jnp.linspace(start, stop, num, endpoint=endpoint),
          np.linspace(start, stop, num, endpoint=endpoint).astype(np.float32), np.float32, rtol=1e-6, atol=1e-6)
    assert_matches(jnp.logspace(0, 2, num), np.logspace(0, 2, num).astype(np.float32), np.float32, rtol=1e-5)
    assert_matches(jnp.eye(abs(start) + 1, num, k=step - 2), np.eye(abs(start) + 1, num, k=step - 2, dtype=np.float32))
    assert_matches(jnp.identity(num, dtype=jnp.int32), np.identity(num, dtype=np.int32))
    assert_matches(jnp.tri(num, abs(start), k=step - 2), np.tri(num, abs(start), k=step - 2, dtype=np.float32))


def test_linspace_digits_match_jax():
    # t = i / (num - 1) is a multiplication by the reciprocal in XLA: 5 / 6 -> 0.8333334.
    assert repr(jnp.linspace(0, 1, 7)) == ('Array([0.        , 0.16666667, 0.33333334, 0.5       , '
                                           '0.6666667 ,\n       0.8333334 , 1.        ], dtype=float32)')
    # Integer outputs floor that float32 formula, so they can be one below NumPy's (as in JAX).
    assert jnp.linspace(1, -2, 4, dtype=jnp.int32).tolist() == [1, -1, -1, -2]
    assert jnp.linspace(0, 10, 5, dtype=jnp.int32).tolist() == [0, 2, 5, 7, 10]
    vals, step = jnp.linspace(0, 10, 9, retstep=True)
    assert repr(step) == 'Array(1.25, dtype=float32)'
    assert jnp.linspace(jnp.array([0., 5.]), jnp.array([5., 10.]), 3, axis=1).tolist() == [[0., 2.5, 5.], [5., 7.5, 10.]]


@PROP
@given(nx=st.integers(1, 4), ny=st.integers(1, 4), indexing=st.sampled_from(['xy', 'ij']), sparse=st.booleans())
def test_meshgrid_and_indices(nx, ny, indexing, sparse):
    x, y = np.arange(nx), np.arange(ny) * 2.0
    for got, want in zip(jnp.meshgrid(x, y, indexing=indexing, sparse=sparse),
                         np.meshgrid(x, y, indexing=indexing, sparse=sparse)):
        assert_matches(got, want.astype(got.dtype))
    assert_matches(jnp.indices((nx, ny)), np.indices((nx, ny)).astype(np.int32))
    for got, want in zip(jnp.tril_indices(nx), np.tril_indices(nx)):
        assert_matches(got, want, np.int32)
    for got, want in zip(jnp.broadcast_arrays(x[:, None], y), np.broadcast_arrays(x[:, None], y)):
        assert_matches(got, want.astype(got.dtype))


@PROP
@given(x=arrays(), y=arrays())
def test_array_equality(x, y):
    assert bool(jnp.array_equal(x, x)) and bool(jnp.array_equal(x, x.copy()))
    assert bool(jnp.array_equal(x, y)) == np.array_equal(x.astype(promoted(x.dtype, y.dtype)), y.astype(promoted(x.dtype, y.dtype)))
    assert bool(jnp.array_equiv(x, x[None])) == np.array_equiv(x, x[None])


@PROP
@given(x=arrays([np.int32], max_dims=1, lo=0, hi=6), test=arrays([np.int32], max_dims=1, lo=0, hi=6))
def test_isin_bincount_select(x, test):
    assert_matches(jnp.isin(x, test), np.isin(x, test))
    assert_matches(jnp.isin(x, test, invert=True), np.isin(x, test, invert=True))
    if x.ndim == 1:
        assert_matches(jnp.bincount(x), np.bincount(x).astype(np.int32))
        w = np.linspace(0, 1, x.size, dtype=np.float32)
        assert_matches(jnp.bincount(x, w, minlength=8), np.bincount(x, w, minlength=8).astype(np.float32), np.float32, rtol=1e-6)
    conds = [x < 2, x > 4]
    assert_matches(jnp.select(conds, [x, -x], 7), np.select(conds, [x, -x], 7))


# --- under transformations ------------------------------------------------------------------------

TRACEABLE = {   # functions whose shapes do not depend on values: they must work under jit/grad/vmap
    'pad_reflect': lambda x: jnp.pad(x, 2, mode='reflect').sum(),
    'quantile': lambda x: jnp.quantile(x, 0.3, axis=1).sum(),
    'einsum': lambda x: jnp.einsum('ij,kj->ik', x, x).sum(),
    'take_fill': lambda x: jnp.take(x, jnp.array([0, 20]), mode='fill', fill_value=0.0).sum(),
    'take_along_axis': lambda x: jnp.take_along_axis(x, jnp.argsort(-x, axis=1), axis=1)[:, 0].sum(),
    'var': lambda x: jnp.var(x, axis=0, ddof=1).sum(),
    'linspace': lambda x: jnp.linspace(x[0, 0], x[2, 3], 5).sum(),
    'norm': lambda x: jnp.linalg.norm(x),
    'roll_diff': lambda x: (jnp.roll(x, 1, axis=1) * jnp.diff(x, axis=0, prepend=0.0)).sum(),
    'logaddexp_hypot': lambda x: (jnp.logaddexp(x, 1.0) + jnp.hypot(x, 2.0)).sum(),
    'sort_descending': lambda x: jnp.sort(x, axis=0, descending=True)[0].sum(),
    'nan_to_num': lambda x: jnp.nan_to_num(x / (x - 3)).sum(),
    'power_kron_trace': lambda x: jnp.power(x, jnp.arange(4)).sum() + jnp.kron(x, x).sum() + jnp.trace(x),
    'nonzero_with_size': lambda x: jnp.where(jnp.nonzero(x > 3, size=5)[1] > 1, x[0, 0], x[1, 1]).sum(),
}


@pytest.mark.parametrize('name', sorted(TRACEABLE))
def test_functions_work_under_transformations(name):
    import tinygrad_tracer as tt
    f = TRACEABLE[name]
    x = jnp.arange(12.0).reshape(3, 4)
    with np.errstate(all='ignore'):
        np.testing.assert_allclose(np.asarray(tt.jit(f)(x)), np.asarray(f(x)), rtol=1e-5)
        assert tt.grad(f)(x).shape == (3, 4)
        batched = tt.vmap(f)(jnp.stack([x, x + 1]))
        np.testing.assert_allclose(np.asarray(batched), [np.asarray(f(x)), np.asarray(f(x + 1))], rtol=1e-5)


def _x_for_gradients():
    """arange(12) plus noise, as float64: values distinct (sort, quantile and argsort have
    one derivative), some above 3 and none near it (nan_to_num's pole), none zero."""
    rng = np.random.default_rng(0)
    return (np.arange(12.0) + rng.uniform(0.2, 0.8, 12)).reshape(3, 4)


def _central_differences(f, x, eps=1e-6):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[i] = eps
        grad[i] = (float(f(x + step)) - float(f(x - step))) / (2 * eps)
    return grad


@pytest.mark.parametrize('name', sorted(TRACEABLE))
def test_gradients_match_finite_differences(x64, name):
    """The gradient's values, not only its shape: central differences in float64."""
    import tinygrad_tracer as tt
    f = TRACEABLE[name]
    x = _x_for_gradients()
    got = tt.grad(f)(jnp.asarray(x))
    assert got.dtype == np.float64 and got.shape == x.shape
    want = _central_differences(lambda v: f(jnp.asarray(v)), x)
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-6, atol=1e-6)
    assert np.any(want != 0)


PIECEWISE_CONSTANT = {   # derivative zero wherever it exists: grad must be exactly zero
    'floor_round_sign_trunc': lambda x: (jnp.floor(x) + jnp.round(x) + jnp.sign(x) + jnp.trunc(x)).sum(),
    'argmax_argsort': lambda x: (jnp.argmax(x, axis=1).sum() + jnp.argsort(x, axis=0)[0].sum()
                                 + jnp.argmin(x)).astype(x.dtype),
    'comparisons': lambda x: jnp.where(x > 2.0, 1.0, 0.0).sum() + jnp.count_nonzero(x > 5.0).astype(x.dtype),
    'searchsorted': lambda x: jnp.searchsorted(jnp.sort(x.ravel()), x[0]).sum().astype(x.dtype),
}


@pytest.mark.parametrize('name', sorted(PIECEWISE_CONSTANT))
def test_piecewise_constant_functions_have_zero_gradient(x64, name):
    import tinygrad_tracer as tt
    f = PIECEWISE_CONSTANT[name]
    x = _x_for_gradients()
    got = np.asarray(tt.grad(f)(jnp.asarray(x)))
    assert got.shape == x.shape
    np.testing.assert_array_equal(got, np.zeros_like(x))
    np.testing.assert_array_equal(got, _central_differences(lambda v: f(jnp.asarray(v)), x))
