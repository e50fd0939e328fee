"""`jax.numpy` on top of lax: NumPy semantics, JAX dtypes, immutable arrays.

Every function here does the NumPy part (turn inputs into arrays, promote
dtypes with JAX's rules, broadcast shapes) and then calls a lax primitive.
That is why `jnp.sin(x) * 2` shows up in a jaxpr as `sin` then `mul`.

    >>> import tinygrad_tracer.numpy as jnp
    >>> jnp.arange(3) + 1.5
    Array([1.5, 2.5, 3.5], dtype=float32)

This module also installs the operators (`+`, `@`, `x[i]`, `.sum()`, `.at`)
on `Array` and on every `Tracer`.
"""
import builtins
import math

import numpy as np

from . import dtypes, lax
from .array import Array
from .core import Tracer, get_aval
from .dtypes import (bool_, int8, int16, int32, int64, uint8, uint16, uint32, uint64,
                     float16, float32, float64, bfloat16, result_type, canonicalize_dtype)

ndarray = Array
pi, e, inf, nan = np.pi, np.e, np.inf, np.nan
newaxis = None
_PY_SCALARS = (builtins.bool, int, float)


# --- turning things into arrays -------------------------------------------------

def _is_array(x):
    return isinstance(x, (Array, Tracer))


def asarray(a, dtype=None, copy=None):
    """An Array from an array, a scalar or a (nested) list; arrays pass through.

        >>> asarray([1, 2])
        Array([1, 2], dtype=int32)
    """
    if _is_array(a):
        return a if dtype is None else astype(a, dtype)
    if isinstance(a, (list, tuple)) and builtins.any(_is_array(v) or isinstance(v, (list, tuple)) for v in a):
        parts = [asarray(v) for v in a]
        if builtins.any(isinstance(p, Tracer) for p in parts):   # traced elements: build with lax
            dt = dtype or result_type(*parts)
            return stack([astype(p, dt) for p in parts])
        a = [np.asarray(p) for p in parts]
    if dtype is not None:
        return Array(np.asarray(a, dtypes.canonicalize_dtype(dtype)))
    if isinstance(a, _PY_SCALARS):
        dt, weak = dtypes.dtype_of(a)   # jnp.asarray(1.0) stays weakly typed, as in JAX
        return Array(np.asarray(a, dt), weak)
    val = np.asarray(a)
    if val.dtype == object:
        raise TypeError(f"Cannot make an array from {type(a).__name__} {a!r}: use numbers, "
                        "arrays or (nested) lists of them.")
    return Array(val)


def array(object, dtype=None, copy=True, ndmin=0):
    """A new Array (see `asarray`)."""
    out = asarray(object, dtype)
    if ndim(out) < ndmin:
        out = reshape(out, (1,) * (ndmin - ndim(out)) + shape(out))
    return out


def _weak_scalar(x, dtype):
    return Array(np.asarray(x, dtype), True)


def _promote(*args):
    """Promote arguments to one dtype with JAX's rules; Python scalars stay weak."""
    dt, weak = dtypes.promote([dtypes.dtype_of(a) for a in args])
    out = []
    for a in args:
        if isinstance(a, _PY_SCALARS) and not _is_array(a):
            out.append(_weak_scalar(a, dt) if weak or not isinstance(a, builtins.bool) else asarray(a, dt))
        else:
            a = a if _is_array(a) else asarray(a)
            out.append(lax.convert_element_type(a, dt, weak) if (a.dtype, a.weak_type) != (dt, weak) else a)
    return out


def broadcast_shapes(*shapes):
    """The shape NumPy broadcasting gives; a clear error when there is none."""
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        raise ValueError(f"Incompatible shapes for broadcasting: shapes={[tuple(s) for s in shapes]}. "
                         "Each axis, aligned from the right, must be equal or 1.") from None


def broadcast_to(x, shape):
    x = asarray(x)
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if x.shape == shape:
        return x
    if broadcast_shapes(x.shape, shape) != shape:
        raise ValueError(f"Cannot broadcast array of shape {x.shape} to shape {shape}.")
    lead = len(shape) - x.ndim
    squeezed = [i for i, n in enumerate(x.shape) if n == 1 and shape[lead + i] != 1]
    if squeezed:
        x = lax.reshape(x, [n for i, n in enumerate(x.shape) if i not in squeezed])
    dims = [lead + i for i in range(len(shape) - lead) if i not in squeezed]
    return lax.broadcast_in_dim(x, shape, dims)


def _broadcast(*args):
    shape = broadcast_shapes(*(a.shape for a in args))
    return [broadcast_to(a, shape) for a in args]


def _elementwise(lax_fn, *args, kind=None):
    args = _promote(*args)
    if kind == 'float' and not dtypes.is_float(args[0].dtype):
        args = [lax.convert_element_type(a, dtypes.default_float(), a.weak_type) for a in args]
    return lax_fn(*_broadcast(*args))


def _unary_float(lax_fn, name):
    def fn(x):
        return _elementwise(lax_fn, x, kind='float')
    fn.__name__ = name
    fn.__doc__ = f"Elementwise {name} (integers are converted to float first)."
    return fn


def _binary(lax_fn, name, kind=None):
    def fn(x1, x2):
        return _elementwise(lax_fn, x1, x2, kind=kind)
    fn.__name__ = name
    fn.__doc__ = f"Elementwise {name}, with broadcasting and dtype promotion."
    return fn


sin, cos, tan = _unary_float(lax.sin, 'sin'), _unary_float(lax.cos, 'cos'), _unary_float(lax.tan, 'tan')
arcsin, arccos, arctan = (_unary_float(f, n) for f, n in
                          ((lax.asin, 'arcsin'), (lax.acos, 'arccos'), (lax.atan, 'arctan')))
sinh, cosh, tanh = _unary_float(lax.sinh, 'sinh'), _unary_float(lax.cosh, 'cosh'), _unary_float(lax.tanh, 'tanh')
arcsinh, arccosh, arctanh = (_unary_float(f, n) for f, n in
                             ((lax.asinh, 'arcsinh'), (lax.acosh, 'arccosh'), (lax.atanh, 'arctanh')))
exp, log, log1p, expm1 = (_unary_float(f, n) for f, n in
                          ((lax.exp, 'exp'), (lax.log, 'log'), (lax.log1p, 'log1p'), (lax.expm1, 'expm1')))
sqrt = _unary_float(lax.sqrt, 'sqrt')
asin, acos, atan, asinh, acosh, atanh = arcsin, arccos, arctan, arcsinh, arccosh, arctanh
add, subtract, multiply = _binary(lax.add, 'add'), _binary(lax.sub, 'subtract'), _binary(lax.mul, 'multiply')
maximum, minimum = _binary(lax.max, 'maximum'), _binary(lax.min, 'minimum')
equal, not_equal = _binary(lax.eq, 'equal'), _binary(lax.ne, 'not_equal')
less, less_equal = _binary(lax.lt, 'less'), _binary(lax.le, 'less_equal')
greater, greater_equal = _binary(lax.gt, 'greater'), _binary(lax.ge, 'greater_equal')
bitwise_and, bitwise_or, bitwise_xor = (_binary(f, n) for f, n in (
    (lax.bitwise_and, 'bitwise_and'), (lax.bitwise_or, 'bitwise_or'), (lax.bitwise_xor, 'bitwise_xor')))
left_shift, right_shift = _binary(lax.shift_left, 'left_shift'), _binary(lax.shift_right_arithmetic, 'right_shift')
arctan2 = atan2 = _binary(lax.atan2, 'arctan2', kind='float')
power_float = _binary(lax.pow, 'power', kind='float')


def true_divide(x1, x2):
    """x1 / x2, always floating point."""
    return _elementwise(lax.div, x1, x2, kind='float')


divide = true_divide


def floor_divide(x1, x2):
    """x1 // x2 rounding toward -inf, as Python does."""
    x1, x2 = _broadcast(*_promote(x1, x2))
    if dtypes.is_float(x1.dtype):
        return floor(lax.div(x1, x2))
    q = lax.div(x1, x2)   # rounds toward zero: step down where the signs differ
    r = lax.rem(x1, x2)
    fix = (r != 0) & ((r < 0) != (x2 < 0))
    return where(fix, q - 1, q)


def remainder(x1, x2):
    """x1 % x2 with the sign of x2, as Python does."""
    x1, x2 = _broadcast(*_promote(x1, x2))
    r = lax.rem(x1, x2)
    fix = (r != 0) & ((r < 0) != (x2 < 0))
    return where(fix, r + x2, r)


mod = remainder


def fmod(x1, x2):
    return _elementwise(lax.rem, x1, x2)


def power(x1, x2):
    """x1 ** x2. A Python int exponent becomes `integer_pow` (exact, as in JAX)."""
    if isinstance(x2, int) and not isinstance(x2, builtins.bool):
        x1 = asarray(x1) if not _is_array(x1) else x1
        return lax.integer_pow(x1, x2)
    x1, x2 = _promote(x1, x2)
    if dtypes.is_int(x1.dtype):
        raise TypeError("Integer powers with an array exponent are not supported; cast to float.")
    return lax.pow(*_broadcast(x1, x2))


pow = power


def negative(x):
    return lax.neg(asarray(x))


def positive(x):
    return asarray(x)


def absolute(x):
    x = asarray(x)
    return x if dtypes.is_bool(x.dtype) or dtypes.is_int(x.dtype) and x.dtype.kind == 'u' else lax.abs(x)


abs = absolute
fabs = absolute


def sign(x):
    return lax.sign(asarray(x))


def square(x):
    return lax.integer_pow(asarray(x), 2)


def reciprocal(x):
    return true_divide(1, x)


def rsqrt(x):
    return _elementwise(lax.rsqrt, x, kind='float')


def cbrt(x):
    x = _promote(asarray(x), 1.0)[0]
    return sign(x) * power(absolute(x), 1 / 3)


def _rounder(lax_fn, name):
    def fn(x):
        x = asarray(x)
        return lax_fn(x) if dtypes.is_float(x.dtype) else x
    fn.__name__ = name
    return fn


floor, ceil = _rounder(lax.floor, 'floor'), _rounder(lax.ceil, 'ceil')
trunc = _rounder(lambda x: where(x < 0, lax.ceil(x), lax.floor(x)), 'trunc')
fix = trunc


def round(a, decimals=0):
    """Round half to even, like NumPy."""
    a = asarray(a)
    if not dtypes.is_float(a.dtype):
        return a
    if decimals == 0:
        return lax.round(a, 1)
    f = 10.0 ** decimals
    return lax.round(a * f, 1) / f


around = round
rint = round


def logical_not(x):
    return lax.bitwise_not(astype(x, bool_))


def _logical(lax_fn, name):
    def fn(x1, x2):
        return lax_fn(*_broadcast(astype(x1, bool_), astype(x2, bool_)))
    fn.__name__ = name
    return fn


logical_and = _logical(lax.bitwise_and, 'logical_and')
logical_or = _logical(lax.bitwise_or, 'logical_or')
logical_xor = _logical(lax.bitwise_xor, 'logical_xor')


def invert(x):
    return lax.bitwise_not(asarray(x))


bitwise_not = invert


def isfinite(x):
    x = asarray(x)
    return lax.is_finite(x) if dtypes.is_float(x.dtype) else full(x.shape, True)


def isnan(x):
    x = asarray(x)
    return lax.ne(x, x) if dtypes.is_float(x.dtype) else full(x.shape, False)


def isinf(x):
    x = asarray(x)
    return lax.eq(lax.abs(x), _weak_scalar(np.inf, x.dtype)) if dtypes.is_float(x.dtype) else full(x.shape, False)


def signbit(x):
    x = asarray(x)
    return x < 0


def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    x = asarray(x)
    if not dtypes.is_float(x.dtype):
        return x
    info = np.finfo(x.dtype)
    x = where(isnan(x), nan, x)
    x = where(x == np.inf, info.max if posinf is None else posinf, x)
    return where(x == -np.inf, info.min if neginf is None else neginf, x)


def where(condition, x=None, y=None):
    """x where condition else y (with broadcasting). The one-argument form
    (indices of True values) only works outside jit, like in JAX."""
    if x is None and y is None:
        return nonzero(condition)
    if x is None or y is None:
        raise ValueError("Either both or neither of x and y should be given to jnp.where.")
    condition = astype(condition, bool_)
    x, y = _promote(x, y)
    condition, x, y = _broadcast(condition, x, y)
    return lax.select(condition, x, y)


_where = where


def clip(a, a_min=None, a_max=None, *, min=None, max=None):
    """a limited to [min, max]."""
    lo = a_min if min is None else min
    hi = a_max if max is None else max
    a = asarray(a)
    if lo is not None:
        a = maximum(a, lo)
    if hi is not None:
        a = minimum(a, hi)
    return a


def astype(x, dtype):
    x = x if _is_array(x) else asarray(x)
    return lax.convert_element_type(x, dtypes.canonicalize_dtype(dtype))


# --- shape and size ----------------------------------------------------------------

def shape(a):
    return tuple(get_aval(a).shape) if _is_array(a) else np.shape(a)


def ndim(a):
    return len(shape(a))


def size(a, axis=None):
    s = shape(a)
    return int(np.prod(s)) if axis is None else s[axis]


def _canon_axis(axis, nd, name='axis'):
    if not -nd <= axis < builtins.max(nd, 1):
        raise ValueError(f"{name} {axis} is out of bounds for array of dimension {nd}")
    return axis % builtins.max(nd, 1)


def _axes(axis, nd):
    if axis is None:
        return tuple(range(nd))
    if isinstance(axis, int):
        axis = (axis,)
    return tuple(sorted(_canon_axis(a, nd) for a in axis))


def reshape(a, newshape=None, order='C', *, shape=None):
    """Same elements in a new shape; one entry may be -1."""
    newshape = shape if newshape is None else newshape
    a = asarray(a)
    if isinstance(newshape, int):
        newshape = (newshape,)
    newshape = [int(n) for n in newshape]
    if newshape.count(-1) > 1:
        raise ValueError("can only specify one unknown dimension (-1) in reshape")
    if -1 in newshape:
        known = int(np.prod([n for n in newshape if n != -1]))
        if known == 0 or a.size % known:
            raise TypeError(f"cannot reshape array of shape {a.shape} (size {a.size}) into shape {tuple(newshape)}")
        newshape[newshape.index(-1)] = a.size // known
    return lax.reshape(a, newshape)


def ravel(a):
    return reshape(a, (-1,))


def transpose(a, axes=None):
    a = asarray(a)
    axes = tuple(range(a.ndim))[::-1] if axes is None else tuple(_canon_axis(i, a.ndim) for i in axes)
    return lax.transpose(a, axes)


def matrix_transpose(x):
    x = asarray(x)
    return swapaxes(x, -1, -2)


def swapaxes(a, axis1, axis2):
    a = asarray(a)
    perm = list(range(a.ndim))
    i, j = _canon_axis(axis1, a.ndim), _canon_axis(axis2, a.ndim)
    perm[i], perm[j] = perm[j], perm[i]
    return lax.transpose(a, perm)


def moveaxis(a, source, destination):
    a = asarray(a)
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    src = [_canon_axis(s, a.ndim) for s in src]
    dst = [_canon_axis(d, a.ndim) for d in dst]
    perm = [i for i in range(a.ndim) if i not in src]
    for d, s in sorted(zip(dst, src)):
        perm.insert(d, s)
    return lax.transpose(a, perm)


def expand_dims(a, axis):
    a = asarray(a)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    nd = a.ndim + len(axes)
    return lax.expand_dims(a, [_canon_axis(x, nd) for x in axes])


def squeeze(a, axis=None):
    a = asarray(a)
    if axis is None:
        axes = [i for i, n in enumerate(a.shape) if n == 1]
    else:
        axes = _axes(axis, a.ndim)
        bad = [i for i in axes if a.shape[i] != 1]
        if bad:
            raise ValueError(f"cannot select an axis to squeeze out which has size not equal "
                             f"to one: axis {bad[0]} of shape {a.shape}")
    return lax.squeeze(a, axes) if axes else a


def atleast_1d(x):
    x = asarray(x)
    return reshape(x, (1,)) if x.ndim == 0 else x


def atleast_2d(x):
    x = asarray(x)
    return reshape(x, (1,) * (2 - x.ndim) + x.shape) if x.ndim < 2 else x


# --- creation -------------------------------------------------------------------------

def _shape_tuple(shape):
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    try:
        return tuple(int(s) for s in shape)
    except TypeError as e:
        raise TypeError(f"Shapes must be sequences of Python ints; got {shape!r}. Under jit, "
                        "a shape may not depend on traced values: pass it as a static "
                        "argument (jit(f, static_argnums=...)).") from e


def full(shape, fill_value, dtype=None):
    """An array of `shape` filled with `fill_value`."""
    shape = _shape_tuple(shape)
    if _is_array(fill_value):
        dt = dtype or fill_value.dtype
        return broadcast_to(astype(fill_value, dt), shape)
    dt = dtypes.canonicalize_dtype(dtype) if dtype is not None else dtypes.dtype_of(fill_value)[0]
    return Array(np.full(shape, fill_value, dt))


def zeros(shape, dtype=None):
    return full(shape, 0, dtype or dtypes.default_float())


def ones(shape, dtype=None):
    return full(shape, 1, dtype or dtypes.default_float())


def empty(shape, dtype=None):
    return zeros(shape, dtype)


def _like(fn):
    def like(a, dtype=None, shape=None):
        a_shape = shape if shape is not None else np.shape(a) if not _is_array(a) else a.shape
        return fn(a_shape, dtype or result_type(a))
    like.__name__ = fn.__name__ + '_like'
    return like


zeros_like, ones_like, empty_like = _like(zeros), _like(ones), _like(empty)


def full_like(a, fill_value, dtype=None, shape=None):
    return full(a.shape if shape is None else shape, fill_value, dtype or result_type(a))


def arange(start, stop=None, step=None, dtype=None):
    """Evenly spaced values in [start, stop). The bounds must be concrete."""
    for v in (start, stop, step):
        if isinstance(v, Tracer):
            v.aval.to_scalar(v, int)   # raises the concretization error under jit
    start, stop, step = (v.item() if isinstance(v, Array) else v for v in (start, stop, step))
    if stop is None:
        start, stop = 0, start
    step = 1 if step is None else step
    if dtype is None:
        dtype = result_type(*[v for v in (start, stop, step)])
    return Array(np.arange(start, stop, step, dtype=dtypes.canonicalize_dtype(dtype)))


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    dtype = dtypes.canonicalize_dtype(dtype or dtypes.default_float())
    vals = np.linspace(np.asarray(start, np.float64), np.asarray(stop, np.float64), num,
                       endpoint=endpoint, retstep=retstep, axis=axis)
    if retstep:
        return Array(vals[0].astype(dtype)), vals[1]
    return Array(vals.astype(dtype))


def eye(N, M=None, k=0, dtype=None):
    return Array(np.eye(N, M, k, dtype=dtypes.canonicalize_dtype(dtype or dtypes.default_float())))


def identity(n, dtype=None):
    return eye(n, dtype=dtype)


def tri(N, M=None, k=0, dtype=None):
    return Array(np.tri(N, M, k, dtype=dtypes.canonicalize_dtype(dtype or dtypes.default_float())))


def tril(m, k=0):
    m = asarray(m)
    return where(Array(np.tri(m.shape[-2], m.shape[-1], k, dtype=bool)), m, zeros_like(m))


def triu(m, k=0):
    m = asarray(m)
    return where(Array(np.tri(m.shape[-2], m.shape[-1], k - 1, dtype=bool)), zeros_like(m), m)


# --- reductions ----------------------------------------------------------------------

def _reduction(lax_fn, name, identity=None, upcast_bool=True):
    def reduce(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
        if out is not None:
            raise ValueError(f"jnp.{name} does not support out=: arrays are immutable; "
                             "use the return value.")
        a = asarray(a)
        if dtype is not None:
            a = astype(a, dtype)
        elif upcast_bool and (dtypes.is_bool(a.dtype) or (dtypes.is_int(a.dtype) and a.dtype.itemsize < 4)):
            a = astype(a, dtypes.default_int() if a.dtype.kind != 'u' else uint32)
        axes = _axes(axis, a.ndim)
        if where is not None:
            if identity is None:
                raise ValueError(f"jnp.{name} with where= needs initial=")
            a = _where(where, a, identity if initial is None else initial)
        if identity is None and builtins.any(a.shape[i] == 0 for i in axes) and initial is None:
            raise ValueError(f"zero-size array to reduction operation {name} which has no identity")
        out_ = lax_fn(a, axes)
        if initial is not None:
            out_ = _elementwise({'sum': lax.add, 'prod': lax.mul, 'max': lax.max, 'min': lax.min}[name],
                                out_, initial)
        if keepdims:
            out_ = lax.reshape(out_, [1 if i in axes else n for i, n in enumerate(a.shape)])
        return out_
    reduce.__name__ = name
    reduce.__doc__ = f"{name} over `axis` (all axes when None), as numpy.{name}."
    return reduce


sum = _reduction(lax.reduce_sum, 'sum', 0)
prod = _reduction(lax.reduce_prod, 'prod', 1)
max = _reduction(lax.reduce_max, 'max', upcast_bool=False)
min = _reduction(lax.reduce_min, 'min', upcast_bool=False)
amax, amin = max, min


def _bool_reduction(lax_fn, name):
    def reduce(a, axis=None, keepdims=False):
        a = astype(a, bool_)
        axes = _axes(axis, a.ndim)
        out = lax_fn(a, axes)
        return lax.reshape(out, [1 if i in axes else n for i, n in enumerate(a.shape)]) if keepdims else out
    reduce.__name__ = name
    return reduce


all = _bool_reduction(lax.reduce_and, 'all')
any = _bool_reduction(lax.reduce_or, 'any')


def mean(a, axis=None, dtype=None, keepdims=False, where=None):
    """The average over `axis`; integers average in float32."""
    a = asarray(a)
    if dtype is None and not dtypes.is_float(a.dtype):
        dtype = dtypes.default_float()
    n = np.prod([a.shape[i] for i in _axes(axis, a.ndim)]) if where is None else sum(
        broadcast_to(where, a.shape), axis, keepdims=keepdims)
    return true_divide(sum(a, axis, dtype=dtype, keepdims=keepdims, where=where), n)


def var(a, axis=None, dtype=None, ddof=0, keepdims=False):
    a = asarray(a)
    if not dtypes.is_float(a.dtype):
        a = astype(a, dtype or dtypes.default_float())
    centered = a - mean(a, axis, keepdims=True)
    n = np.prod([a.shape[i] for i in _axes(axis, a.ndim)])
    return true_divide(sum(centered * centered, axis, keepdims=keepdims), builtins.max(n - ddof, 0))


def std(a, axis=None, dtype=None, ddof=0, keepdims=False):
    return sqrt(var(a, axis, dtype, ddof, keepdims))


def _argreduce(lax_fn, name):
    def fn(a, axis=None, keepdims=False):
        a = asarray(a)
        if axis is None:
            a, axis = ravel(a), 0
        axis = _canon_axis(axis, a.ndim)
        if a.shape[axis] == 0:
            raise ValueError(f"attempt to get {name} of an empty sequence")
        out = lax_fn(a, axis)
        return expand_dims(out, axis) if keepdims else out
    fn.__name__ = name
    return fn


argmax = _argreduce(lax.argmax, 'argmax')
argmin = _argreduce(lax.argmin, 'argmin')


def _cumulative(lax_fn, name):
    def fn(a, axis=None, dtype=None):
        a = asarray(a)
        if axis is None:
            a, axis = ravel(a), 0
        if dtype is not None:
            a = astype(a, dtype)
        elif dtypes.is_bool(a.dtype) or (dtypes.is_int(a.dtype) and a.dtype.itemsize < 4):
            a = astype(a, dtypes.default_int())
        return lax_fn(a, _canon_axis(axis, a.ndim))
    fn.__name__ = name
    return fn


cumsum = _cumulative(lax.cumsum, 'cumsum')
cumprod = _cumulative(lax.cumprod, 'cumprod')


def count_nonzero(a, axis=None, keepdims=False):
    return sum(astype(a, bool_), axis, dtype=dtypes.default_int(), keepdims=keepdims)


def logsumexp(a, axis=None, keepdims=False):
    a = asarray(a)
    m = lax.stop_gradient(max(a, axis, keepdims=True))
    m = where(isfinite(m), m, 0)
    out = log(sum(exp(a - m), axis, keepdims=True)) + m
    return out if keepdims else squeeze(out, _axes(axis, a.ndim))


# --- linear algebra -----------------------------------------------------------------------

def matmul(a, b):
    """Matrix product with NumPy's rules for 1-d and batched (>2-d) operands."""
    a, b = _promote(a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("matmul: operands must have at least one dimension; use * for scalars")
    if b.ndim == 1:   # contract a's last axis with the vector, no reshapes needed
        if a.shape[-1] != b.shape[0]:
            raise TypeError(f"dot_general requires contracting dimensions to have the same "
                            f"shape, got {(a.shape[-1],)} and {(b.shape[0],)} (matmul of "
                            f"{a.shape} and {b.shape}).")
        return lax.dot_general(a, b, (((a.ndim - 1,), (0,)), ((), ())))
    if a.ndim == 1 and b.ndim == 2:
        if a.shape[0] != b.shape[0]:
            raise TypeError(f"dot_general requires contracting dimensions to have the same "
                            f"shape, got {(a.shape[0],)} and {(b.shape[0],)} (matmul of "
                            f"{a.shape} and {b.shape}).")
        return lax.dot_general(a, b, (((0,), (0,)), ((), ())))
    va, vb = a.ndim == 1, b.ndim == 1
    a = reshape(a, (1,) + a.shape) if va else a
    b = reshape(b, b.shape + (1,)) if vb else b
    if a.shape[-1] != b.shape[-2]:
        raise TypeError(f"dot_general requires contracting dimensions to have the same shape, "
                        f"got {(a.shape[-1],)} and {(b.shape[-2],)} (matmul of {a.shape} and {b.shape}).")
    batch = broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = broadcast_to(a, batch + a.shape[-2:])
    b = broadcast_to(b, batch + b.shape[-2:])
    nb = len(batch)
    out = lax.dot_general(a, b, (((nb + 1,), (nb,)), (tuple(range(nb)), tuple(range(nb)))))
    if va:
        out = squeeze(out, -2)
    if vb:
        out = squeeze(out, -1)
    return out


def dot(a, b):
    """NumPy's dot: sums over a's last axis and b's second-to-last."""
    a, b = _promote(a, b)
    if a.ndim == 0 or b.ndim == 0:
        return multiply(a, b)
    if b.ndim <= 2:
        return matmul(a, b)
    return tensordot(a, b, ((a.ndim - 1,), (b.ndim - 2,)))


def vdot(a, b):
    return dot(ravel(a), ravel(b))


def inner(a, b):
    a, b = _promote(a, b)
    if a.ndim == 0 or b.ndim == 0:
        return multiply(a, b)
    return tensordot(a, b, ((a.ndim - 1,), (b.ndim - 1,)))


def outer(a, b):
    a, b = ravel(asarray(a)), ravel(asarray(b))
    return multiply(reshape(a, (-1, 1)), reshape(b, (1, -1)))


def tensordot(a, b, axes=2):
    a, b = _promote(a, b)
    if isinstance(axes, int):
        la, lb = tuple(range(a.ndim - axes, a.ndim)), tuple(range(axes))
    else:
        la, lb = axes
        la = (la,) if isinstance(la, int) else tuple(la)
        lb = (lb,) if isinstance(lb, int) else tuple(lb)
    la = tuple(_canon_axis(i, a.ndim) for i in la)
    lb = tuple(_canon_axis(i, b.ndim) for i in lb)
    return lax.dot_general(a, b, ((la, lb), ((), ())))


def einsum(subscripts, *operands):
    """Einstein summation, done as a chain of two-operand contractions.

        >>> einsum('ij,jk->ik', a, b)   # matmul
    """
    ops = [asarray(o) for o in operands]
    ops = _promote(*ops) if len(ops) > 1 else ops
    if '->' in subscripts:
        ins, out = subscripts.replace(' ', '').split('->')
    else:
        ins = subscripts.replace(' ', '')
        letters = ''.join(ins.split(','))
        out = ''.join(sorted(c for c in set(letters) if letters.count(c) == 1))
    ins = ins.split(',')
    if len(ins) != len(ops):
        raise ValueError(f"einsum: {len(ins)} operand specs for {len(ops)} operands")
    if builtins.any('.' in s for s in ins + [out]):
        raise ValueError("einsum: ellipsis ('...') is not supported; name every axis")
    ops = [_einsum_diag_and_sum(o, s, out, ins[:i] + ins[i + 1:]) for i, (o, s) in enumerate(zip(ops, ins))]
    terms = [(o, _unique(s)) for o, s in ops]
    x, xs = terms[0]
    for y, ys in terms[1:]:
        later = out + ''.join(s for _, s in terms[terms.index((y, ys)) + 1:])
        batch = [c for c in xs if c in ys and c in later]
        contract = [c for c in xs if c in ys and c not in later]
        x = lax.dot_general(x, y, ((tuple(xs.index(c) for c in contract), tuple(ys.index(c) for c in contract)),
                                   (tuple(xs.index(c) for c in batch), tuple(ys.index(c) for c in batch))))
        xs = ''.join(batch) + ''.join(c for c in xs if c not in batch and c not in contract) + \
            ''.join(c for c in ys if c not in batch and c not in contract)
    gone = [i for i, c in enumerate(xs) if c not in out]
    if gone:
        x = lax.reduce_sum(x, gone)
        xs = ''.join(c for c in xs if c in out)
    return lax.transpose(x, [xs.index(c) for c in out])


def _unique(s):
    return ''.join(dict.fromkeys(s))


def _einsum_diag_and_sum(x, spec, out, others):
    # Repeated letters in one operand take a diagonal; letters used nowhere else sum away.
    if len(set(spec)) != len(spec):
        for c in _unique(spec):
            while spec.count(c) > 1:
                i, j = spec.index(c), spec.index(c, spec.index(c) + 1)
                n = x.shape[i]
                mask = Array(np.eye(n, dtype=bool).reshape([n if k in (i, j) else 1 for k in range(x.ndim)]))
                x = sum(where(mask, x, zeros_like(x)), axis=j)
                spec = spec[:j] + spec[j + 1:]
    keep = set(out) | set(''.join(others))
    gone = [i for i, c in enumerate(spec) if c not in keep]
    if gone:
        x = lax.reduce_sum(x, gone)
        spec = ''.join(c for c in spec if c in keep)
    return x, spec


def trace(a, offset=0, axis1=0, axis2=1):
    a = asarray(a)
    n, m = a.shape[axis1], a.shape[axis2]
    mask = Array(np.eye(n, m, offset, dtype=bool))
    a = moveaxis(a, (axis1, axis2), (-2, -1))
    return sum(where(mask, a, zeros_like(a)), axis=(-2, -1))


def diagonal(a, offset=0, axis1=0, axis2=1):
    a = moveaxis(asarray(a), (axis1, axis2), (-2, -1))
    n, m = a.shape[-2], a.shape[-1]
    rows = np.arange(builtins.max(0, -offset), builtins.min(n, m - offset))
    return a[..., Array(rows.astype(np.int32)), Array((rows + offset).astype(np.int32))]


def diag(v, k=0):
    """The k-th diagonal of a 2-d array, or a 2-d array with v on its k-th diagonal."""
    v = asarray(v)
    if v.ndim != 1:
        return diagonal(v, k)
    n = v.shape[0] + builtins.abs(k)
    # Row i, column j holds vpad[j] when j - i == k: pad v so its entries sit in columns.
    vpad = pad(v, (builtins.max(k, 0), builtins.max(-k, 0)))
    return where(Array(np.eye(n, n, k, dtype=bool)), broadcast_to(vpad, (n, n)), zeros((n, n), v.dtype))


# --- joining and splitting -------------------------------------------------------------

def concatenate(arrays, axis=0, dtype=None):
    arrays = [asarray(a) for a in arrays]
    if not arrays:
        raise ValueError("Need at least one array to concatenate.")
    if axis is None:
        arrays, axis = [ravel(a) for a in arrays], 0
    arrays = _promote(*arrays) if dtype is None else [astype(a, dtype) for a in arrays]
    if builtins.any(a.ndim == 0 for a in arrays):
        raise ValueError("Zero-dimensional arrays cannot be concatenated.")
    return lax.concatenate(arrays, _canon_axis(axis, arrays[0].ndim))


concat = concatenate


def stack(arrays, axis=0, dtype=None):
    arrays = [asarray(a) for a in arrays]
    if not arrays:
        raise ValueError("Need at least one array to stack.")
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise ValueError(f"All input arrays must have the same shape, got {sorted(shapes)}.")
    axis = _canon_axis(axis, arrays[0].ndim + 1)
    return concatenate([expand_dims(a, axis) for a in arrays], axis, dtype)


def hstack(tup):
    arrs = [atleast_1d(a) for a in tup]
    return concatenate(arrs, 0 if arrs[0].ndim == 1 else 1)


def vstack(tup):
    return concatenate([atleast_2d(a) for a in tup], 0)


def column_stack(tup):
    return concatenate([reshape(a, (-1, 1)) if asarray(a).ndim < 2 else a for a in tup], 1)


def split(ary, indices_or_sections, axis=0):
    ary = asarray(ary)
    axis = _canon_axis(axis, ary.ndim)
    n = ary.shape[axis]
    if isinstance(indices_or_sections, int):
        if n % indices_or_sections:
            raise ValueError(f"array split does not result in an equal division: {n} into "
                             f"{indices_or_sections}")
        step = n // indices_or_sections
        bounds = list(range(0, n + 1, step))
    else:
        bounds = [0] + [int(i) for i in indices_or_sections] + [n]
    return [_slice_axis(ary, axis, lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:])]


def array_split(ary, indices_or_sections, axis=0):
    ary = asarray(ary)
    n = ary.shape[axis]
    if isinstance(indices_or_sections, int):
        q, r = divmod(n, indices_or_sections)
        sizes = [q + 1] * r + [q] * (indices_or_sections - r)
        indices_or_sections = np.cumsum(sizes)[:-1].tolist()
    return split(ary, indices_or_sections, axis)


def _slice_axis(a, axis, lo, hi):
    lo, hi = builtins.min(lo, a.shape[axis]), builtins.min(hi, a.shape[axis])
    start = [0] * a.ndim
    limit = list(a.shape)
    start[axis], limit[axis] = lo, builtins.max(hi, lo)
    return lax.slice(a, start, limit)


def tile(A, reps):
    A = asarray(A)
    reps = (reps,) if isinstance(reps, int) else tuple(reps)
    nd = builtins.max(A.ndim, len(reps))
    A = reshape(A, (1,) * (nd - A.ndim) + A.shape)
    reps = (1,) * (nd - len(reps)) + reps
    # Broadcast a new axis before each axis, then merge the pairs.
    expanded = broadcast_to(reshape(A, [x for n in A.shape for x in (1, n)]),
                            [x for r, n in zip(reps, A.shape) for x in (r, n)])
    return reshape(expanded, [r * n for r, n in zip(reps, A.shape)])


def repeat(a, repeats, axis=None, total_repeat_length=None):
    a = asarray(a)
    if axis is None:
        a, axis = ravel(a), 0
    axis = _canon_axis(axis, a.ndim)
    if isinstance(repeats, int):
        shape = list(a.shape)
        b = broadcast_to(expand_dims(a, axis + 1), shape[:axis + 1] + [repeats] + shape[axis + 1:])
        shape[axis] *= repeats
        return reshape(b, shape)
    reps = np.asarray(repeats)
    idx = np.repeat(np.arange(a.shape[axis]), reps).astype(np.int32)
    return take(a, Array(idx), axis=axis)


def pad(array, pad_width, mode='constant', constant_values=0):
    """Pad with a constant (the only mode supported)."""
    if mode != 'constant':
        raise ValueError(f"jnp.pad mode={mode!r}: only mode='constant' is supported")
    array = asarray(array)
    pw = np.broadcast_to(np.asarray(pad_width, dtype=np.int64).reshape(-1, 2) if np.ndim(pad_width) else
                         np.asarray([[pad_width, pad_width]]), (array.ndim, 2))
    value = astype(asarray(constant_values), array.dtype)
    return lax.pad(array, value, [(int(lo), int(hi), 0) for lo, hi in pw])


def flip(m, axis=None):
    m = asarray(m)
    slices = [slice(None)] * m.ndim
    for ax in _axes(axis, m.ndim):
        slices[ax] = slice(None, None, -1)
    return m[tuple(slices)]


def fliplr(m):
    return flip(m, 1)


def flipud(m):
    return flip(m, 0)


def roll(a, shift, axis=None):
    a = asarray(a)
    if axis is None:
        return reshape(roll(ravel(a), shift, 0), a.shape)
    axis = _canon_axis(axis, a.ndim)
    n = a.shape[axis]
    if n == 0:
        return a
    s = int(shift) % n
    return concatenate([_slice_axis(a, axis, n - s, n), _slice_axis(a, axis, 0, n - s)], axis)


# --- sorting and searching ------------------------------------------------------------

def sort(a, axis=-1, kind=None, order=None, stable=True, descending=False):
    a = asarray(a)
    if axis is None:
        a, axis = ravel(a), 0
    out = lax.sort(a, dimension=_canon_axis(axis, a.ndim))
    return flip(out, axis) if descending else out


def argsort(a, axis=-1, kind=None, order=None, stable=True, descending=False):
    a = asarray(a)
    if axis is None:
        a, axis = ravel(a), 0
    axis = _canon_axis(axis, a.ndim)
    iota = lax.broadcasted_iota(dtypes.int32, a.shape, axis)
    key = -a if descending and not dtypes.is_bool(a.dtype) else a
    _, perm = lax.sort((key, iota), dimension=axis, num_keys=1)
    return perm


def nonzero(a, size=None, fill_value=None):
    a = asarray(a)
    if isinstance(a, Tracer) and size is None:
        a.aval.to_numpy(a)   # raises: the output shape would depend on values
    idx = np.nonzero(np.asarray(a))
    if size is not None:
        fill = 0 if fill_value is None else fill_value
        idx = tuple(np.concatenate([i[:size], np.full(builtins.max(size - len(i), 0), fill)]) for i in idx)
    return tuple(Array(i.astype(np.int32)) for i in idx)


def argwhere(a):
    return stack(nonzero(a), axis=1) if ndim(a) else reshape(Array(np.zeros((int(builtins.bool(a)), 0), np.int32)), (-1, 0))


def unique(ar):
    if isinstance(ar, Tracer):
        ar.aval.to_numpy(ar)
    return Array(np.unique(np.asarray(ar)))


def searchsorted(a, v, side='left'):
    a, v = asarray(a), asarray(v)
    cmp = (lambda x, y: x <= y) if side == 'right' else (lambda x, y: x < y)
    return sum(astype(cmp(expand_dims(a, tuple(range(1, v.ndim + 1))) if v.ndim else a, v), int32), axis=0)


# --- comparison helpers ----------------------------------------------------------------

def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    a, b = _promote(a, b)
    if not dtypes.is_float(a.dtype):
        return equal(a, b)
    out = absolute(a - b) <= atol + rtol * absolute(b)
    out = out | ((a == b) & isinf(a))
    if equal_nan:
        out = out | (isnan(a) & isnan(b))
    return out


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    return all(isclose(a, b, rtol, atol, equal_nan))


def array_equal(a1, a2, equal_nan=False):
    a1, a2 = asarray(a1), asarray(a2)
    if a1.shape != a2.shape:
        return Array(np.asarray(False))
    eq = a1 == a2
    if equal_nan:
        eq = eq | (isnan(a1) & isnan(a2))
    return all(eq)


# --- indexing helpers (the indexing itself lives in _indexing.py) ------------------------

def take(a, indices, axis=None, mode=None, fill_value=None):
    a = asarray(a)
    if axis is None:
        a, axis = ravel(a), 0
    axis = _canon_axis(axis, a.ndim)
    idx = (slice(None),) * axis + (asarray(indices),)
    return a[idx]


def take_along_axis(arr, indices, axis):
    arr, indices = asarray(arr), asarray(indices)
    if axis is None:
        return take(ravel(arr), ravel(indices))
    axis = _canon_axis(axis, arr.ndim)
    idx = []
    for i in range(arr.ndim):
        if i == axis:
            idx.append(indices)
        else:
            shape = [1] * arr.ndim
            shape[i] = arr.shape[i]
            idx.append(Array(np.arange(arr.shape[i], dtype=np.int32).reshape(shape)))
    return arr[tuple(idx)]


# --- dtypes as functions -------------------------------------------------------------------

class _ScalarType:
    """`jnp.float32(1.0)` makes an array; `jnp.float32` also works wherever a dtype does."""

    def __init__(self, np_type):
        self.dtype = np.dtype(np_type)
        self.__name__ = self.dtype.name

    def __call__(self, x):
        return astype(asarray(x), self.dtype)

    def __repr__(self):
        return f"<class 'jax.numpy.{self.dtype.name}'>"

    def __eq__(self, other):
        try:
            return self.dtype == np.dtype(other)
        except TypeError:
            return False

    def __hash__(self):
        return hash(self.dtype)


def _install_scalar_types():
    g = globals()
    for name in ('bool_', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32',
                 'uint64', 'float16', 'float32', 'float64'):
        g[name] = _ScalarType(g[name])
    if bfloat16 is not None:
        g['bfloat16'] = _ScalarType(bfloat16)


_install_scalar_types()
bool = bool_
dtype = np.dtype
integer, floating, number, signedinteger, unsignedinteger, inexact = (
    np.integer, np.floating, np.number, np.signedinteger, np.unsignedinteger, np.inexact)
iinfo = np.iinfo


def finfo(dtype):
    return np.finfo(np.dtype(dtype))


def issubdtype(arg1, arg2):
    return np.issubdtype(np.dtype(arg1), arg2)


def promote_types(a, b):
    return dtypes.promote([(np.dtype(a), False), (np.dtype(b), False)])[0]


from . import _indexing  # noqa: E402  (installs the operators; it uses the functions above)
