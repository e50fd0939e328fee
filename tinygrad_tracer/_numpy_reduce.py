"""jax.numpy, part 6: reductions, cumulative ops, statistics, sorting, searching,
comparisons of whole arrays. Re-exported by `tinygrad_tracer.numpy`.

As in JAX, reductions return strongly typed results (`jnp.sum(1.5)` is a plain
float32) and sum/prod widen small integers and booleans to 32 bits.
"""
import builtins

import numpy as np

from . import dtypes, lax
from ._numpy_arrange import concatenate, stack, take
from ._numpy_base import (asarray, astype, broadcast, broadcast_to, canon_axes, canon_axis, check_arraylike, promote,
                          weak_scalar)
from ._numpy_creation import arange, full, zeros
from ._numpy_elementwise import (absolute, ceil, divide_as_compiled, elementwise, equal, floor, isinf,
                                 isnan, sqrt, true_divide)
from ._numpy_elementwise import where as _where   # (`where=` is an argument of the reductions)
from ._numpy_shape import expand_dims, moveaxis, ravel, reshape
from .array import Array
from .core import Tracer

__all__ = ['sum', 'prod', 'max', 'min', 'amax', 'amin', 'all', 'any', 'mean', 'var', 'std',
           'average', 'ptp', 'argmax', 'argmin', 'cumsum', 'cumprod', 'cumulative_sum',
           'cumulative_prod', 'nansum', 'nanprod', 'nanmax', 'nanmin', 'nanmean', 'nanvar',
           'nanstd', 'nancumsum', 'nanargmax', 'nanargmin', 'count_nonzero', 'median',
           'quantile', 'percentile', 'nanmedian', 'sort', 'argsort', 'lexsort', 'searchsorted',
           'digitize', 'where', 'nonzero', 'flatnonzero', 'argwhere', 'unique', 'bincount', 'isin',
           'isclose', 'allclose', 'array_equal', 'array_equiv']


def _keep(out, axes, shape):
    """Put the reduced axes back as size-1 axes (keepdims=True)."""
    return lax.reshape(out, [1 if i in axes else n for i, n in enumerate(shape)])


def _strong(a):
    return lax.convert_element_type(a, a.dtype, False) if a.weak_type else a


def _widen_small_ints(a):
    """bool, int8/16 -> int32, uint8/16 -> uint32 (sum and prod, as in JAX)."""
    if dtypes.is_bool(a.dtype) or (dtypes.is_int(a.dtype) and a.dtype.itemsize < 4):
        return astype(a, dtypes.default_int() if a.dtype.kind != 'u' else dtypes.uint32)
    return a


_COMBINE = {'sum': lax.add, 'prod': lax.mul, 'max': lax.max, 'min': lax.min}


def _reduction(lax_fn, name, identity, widen):
    def reduce(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None,
               promote_integers=True):
        if out is not None:
            raise ValueError(f"jnp.{name} does not support out=: arrays are immutable; "
                             "use the return value.")
        check_arraylike(name, a)
        a = _strong(asarray(a))
        if dtype is not None:
            a = astype(a, dtype)
        elif widen and promote_integers:
            a = _widen_small_ints(a)
        axes = canon_axes(axis, a.ndim)
        if where is not None:
            fill = identity(a.dtype) if initial is None else initial
            if fill is None:
                raise ValueError(f"jnp.{name} with where= needs initial= (the value masked "
                                 "elements count as).")
            a = _where(where, a, fill)
        if identity(a.dtype) is None and initial is None and builtins.any(a.shape[i] == 0 for i in axes):
            raise ValueError(f"zero-size array to reduction operation {name} which has no "
                             "identity; pass initial=...")
        result = lax_fn(a, axes)
        if initial is not None:
            result = elementwise(_COMBINE[name], result, initial)
        return _keep(result, axes, a.shape) if keepdims else result
    reduce.__name__ = name
    example = {'sum': '[4., 6.]', 'prod': '[3., 8.]', 'max': '[3., 4.]', 'min': '[1., 2.]'}[name]
    reduce.__doc__ = (f"{name} over `axis` (all axes when None), as numpy.{name}.\n\n"
                      f"        >>> {name}(array([[1., 2.], [3., 4.]]), axis=0)\n"
                      f"        Array({example}, dtype=float32)\n")
    return reduce


sum = _reduction(lax.reduce_sum, 'sum', lambda dt: 0, widen=True)
prod = _reduction(lax.reduce_prod, 'prod', lambda dt: 1, widen=True)
max = _reduction(lax.reduce_max, 'max', lambda dt: None, widen=False)
min = _reduction(lax.reduce_min, 'min', lambda dt: None, widen=False)
amax, amin = max, min


def _bool_reduction(lax_fn, name, identity):
    def reduce(a, axis=None, out=None, keepdims=False, *, where=None):
        check_arraylike(name, a)
        a = astype(a, dtypes.bool_)
        if where is not None:
            a = _where(where, a, identity)
        axes = canon_axes(axis, a.ndim)
        result = lax_fn(a, axes)
        return _keep(result, axes, a.shape) if keepdims else result
    reduce.__name__ = name
    reduce.__doc__ = f"True where {name} of the elements along `axis` are true."
    return reduce


all = _bool_reduction(lax.reduce_and, 'all', True)
any = _bool_reduction(lax.reduce_or, 'any', False)


def _count(a, axis, keepdims, where):
    """How many elements each mean averages (a Python number when static)."""
    if where is None:
        return int(np.prod([a.shape[i] for i in canon_axes(axis, a.ndim)]))
    return sum(broadcast_to(where, a.shape), axis, dtype=dtypes.int32, keepdims=keepdims)


def _float_for_stats(a, dtype):
    if dtype is not None:
        return astype(a, dtype)
    return a if dtypes.is_float(a.dtype) else astype(a, dtypes.default_float())


def mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=None):
    """The average over `axis`; integers average in float32.

        >>> mean(array([1, 2]))
        Array(1.5, dtype=float32)
    """
    check_arraylike('mean', a)
    a = _float_for_stats(_strong(asarray(a)), dtype)
    total = sum(a, axis, keepdims=keepdims, where=where)
    n = _count(a, axis, keepdims, where)
    if isinstance(n, (Array, Tracer)):   # counted where `where` is true
        return true_divide(total, astype(n, a.dtype))
    return divide_as_compiled(total, Array(np.asarray(n, a.dtype)), constant_divisor=True)


def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None, correction=None):
    """The variance: mean squared deviation, divided by n - ddof (nan if that is <= 0)."""
    ddof = ddof if correction is None else correction
    check_arraylike('var', a)
    a = _float_for_stats(_strong(asarray(a)), dtype)
    centered = a - mean(a, axis, keepdims=True, where=where)
    n = _count(a, axis, keepdims, where)
    squares = sum(lax.integer_pow(centered, 2), axis, keepdims=keepdims, where=where)
    constant = isinstance(n, int)
    n = Array(np.asarray(n - ddof, a.dtype)) if constant else astype(n, a.dtype) - ddof
    return _where(n > 0, divide_as_compiled(squares, n, constant_divisor=constant), np.nan)


def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None, correction=None):
    """The standard deviation: sqrt(var)."""
    return sqrt(var(a, axis, dtype, None, ddof, keepdims, where=where, correction=correction))



def average(a, axis=None, weights=None, returned=False, keepdims=False):
    """The mean, or the weighted mean sum(a * w) / sum(w) along `axis`."""
    a = asarray(a)
    if weights is None:
        avg = mean(a, axis, keepdims=keepdims)
        total = full(avg.shape, _count(a, axis, keepdims, None), avg.dtype)
    else:
        a, w = promote(a, asarray(weights))
        a, w = _float_for_stats(a, None), _float_for_stats(w, None)
        if w.shape != a.shape:
            if axis is None or w.ndim != 1:
                raise ValueError(f"average: weights of shape {w.shape} must match a {a.shape}, "
                                 "or be 1-d along the given axis.")
            ax = canon_axis(axis, a.ndim)
            w = reshape(w, [w.shape[0] if i == ax else 1 for i in range(a.ndim)])
            w = broadcast_to(w, a.shape)
        total = sum(w, axis, keepdims=keepdims)
        avg = true_divide(sum(a * w, axis, keepdims=keepdims), total)
    return (avg, total) if returned else avg


def ptp(a, axis=None, out=None, keepdims=False):
    """max - min (peak to peak)."""
    return max(a, axis, keepdims=keepdims) - min(a, axis, keepdims=keepdims)


def _argreduce(lax_fn, name):
    def fn(a, axis=None, out=None, keepdims=False):
        check_arraylike(name, a)
        a = asarray(a)
        if axis is None:
            result = fn(ravel(a), 0)
            return reshape(result, (1,) * a.ndim) if keepdims else result
        axis = canon_axis(axis, a.ndim)
        if a.shape[axis] == 0:
            raise ValueError(f"attempt to get {name} of an empty sequence")
        result = lax_fn(a, axis)
        return expand_dims(result, axis) if keepdims else result
    fn.__name__ = name
    fn.__doc__ = f"Index of the {name[3:]}imum along `axis` (of the flattened array for None); nan wins."
    return fn


argmax = _argreduce(lax.argmax, 'argmax')
argmin = _argreduce(lax.argmin, 'argmin')


def _cumulative(lax_fn, name):
    def fn(a, axis=None, dtype=None, out=None):
        check_arraylike(name, a)
        a = _strong(asarray(a))
        if axis is None:
            a, axis = ravel(a), 0
        if dtype is not None:
            a = astype(a, dtype)
        elif dtypes.is_bool(a.dtype):
            a = astype(a, dtypes.default_int())
        return lax_fn(a, canon_axis(axis, a.ndim))
    fn.__name__ = name
    fn.__doc__ = f"Running {name[3:]} along `axis` (of the flattened array for None)."
    return fn


cumsum = _cumulative(lax.cumsum, 'cumsum')
cumprod = _cumulative(lax.cumprod, 'cumprod')


def _array_api_cumulative(fn, identity):
    def cumulative(x, /, *, axis=None, dtype=None, include_initial=False):
        x = asarray(x)
        if axis is None:
            if x.ndim > 1:
                raise ValueError("axis must be given for arrays with more than one dimension.")
            axis = 0
        out = fn(x, axis, dtype)
        if include_initial:
            axis = canon_axis(axis, out.ndim)
            shape = list(out.shape)
            shape[axis] = 1
            out = concatenate([full(shape, identity, out.dtype), out], axis)
        return out
    return cumulative


cumulative_sum = _array_api_cumulative(cumsum, 0)
cumulative_prod = _array_api_cumulative(cumprod, 1)


# --- ignoring nan -------------------------------------------------------------------------

def _nan_replaced(a, value):
    a = asarray(a)
    return _where(isnan(a), value, a) if dtypes.is_float(a.dtype) else a


def nansum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    return sum(_nan_replaced(a, 0), axis, dtype, None, keepdims, initial, where)


def nanprod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    return prod(_nan_replaced(a, 1), axis, dtype, None, keepdims, initial, where)


def _nan_extreme(reducer, fill):
    def fn(a, axis=None, out=None, keepdims=False, initial=None, where=None):
        a = asarray(a)
        if not dtypes.is_float(a.dtype):
            return reducer(a, axis, keepdims=keepdims, initial=initial, where=where)
        result = reducer(_nan_replaced(a, fill), axis, keepdims=keepdims, initial=initial, where=where)
        return _where(all(isnan(a), axis, keepdims=keepdims), np.nan, result)
    return fn


nanmax = _nan_extreme(max, -np.inf)
nanmin = _nan_extreme(min, np.inf)


def nanmean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=None):
    """The mean of the elements that are not nan."""
    a = asarray(a)
    valid = ~isnan(a) if where is None else (~isnan(a)) & where
    return mean(a, axis, dtype, None, keepdims, where=valid)


def nanvar(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None):
    a = asarray(a)
    valid = ~isnan(a) if where is None else (~isnan(a)) & where
    return var(_nan_replaced(a, 0), axis, dtype, None, ddof, keepdims, where=valid)


def nanstd(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None):
    return sqrt(nanvar(a, axis, dtype, None, ddof, keepdims, where=where))


def nancumsum(a, axis=None, dtype=None, out=None):
    return cumsum(_nan_replaced(a, 0), axis, dtype)


def nanargmax(a, axis=None, out=None, keepdims=False):
    return argmax(_nan_replaced(a, -np.inf), axis, keepdims=keepdims)


def nanargmin(a, axis=None, out=None, keepdims=False):
    return argmin(_nan_replaced(a, np.inf), axis, keepdims=keepdims)


def count_nonzero(a, axis=None, keepdims=False):
    """How many elements along `axis` are not zero (int32)."""
    return sum(astype(a, dtypes.bool_), axis, dtype=dtypes.default_int(), keepdims=keepdims)


# --- order statistics ----------------------------------------------------------------------

_QUANTILE_METHODS = ('linear', 'lower', 'higher', 'nearest', 'midpoint')


def quantile(a, q, axis=None, out=None, overwrite_input=False, method='linear', keepdims=False):
    """The q-th quantiles (0 <= q <= 1) along `axis`; the result's leading axes are q's.

        >>> quantile(array([1., 2., 3., 4.]), 0.5)
        Array(2.5, dtype=float32)
    """
    if method not in _QUANTILE_METHODS:
        raise ValueError(f"quantile: method must be one of {_QUANTILE_METHODS}, got {method!r}")
    a = _float_for_stats(asarray(a), None)
    q = astype(asarray(q), a.dtype)
    axes = canon_axes(axis, a.ndim)
    kept = [i for i in range(a.ndim) if i not in axes]
    # Move the reduced axes to the end and merge them into one.
    flat = reshape(moveaxis(a, axes, range(len(kept), a.ndim)), [a.shape[i] for i in kept] + [-1])
    n = flat.shape[-1]
    srt = sort(flat, axis=-1)
    pos = q * (n - 1)
    lo, hi = floor(pos), ceil(pos)
    if method == 'lower':
        hi = lo
    elif method == 'higher':
        lo = hi
    elif method == 'nearest':
        lo = hi = lax.round(pos, 1)
    frac = {'linear': pos - lo, 'midpoint': _where(hi > lo, 0.5, 0.0)}.get(method, zeros(pos.shape, a.dtype))

    def at(i):   # srt[..., i] for each quantile, with the quantile axes first
        picked = take(srt, astype(i, np.int32), axis=-1, mode='clip')
        return moveaxis(picked, tuple(range(srt.ndim - 1, picked.ndim)), tuple(range(q.ndim)))
    frac = reshape(frac, q.shape + (1,) * (flat.ndim - 1))
    result = at(lo) * (1 - frac) + at(hi) * frac
    result = _where(any(isnan(flat), axis=-1), np.nan, result)
    if keepdims:
        result = reshape(result, q.shape + tuple(1 if i in axes else n_ for i, n_ in enumerate(a.shape)))
    return result


def percentile(a, q, axis=None, out=None, overwrite_input=False, method='linear', keepdims=False):
    """The q-th percentiles (0 <= q <= 100) along `axis`."""
    return quantile(a, true_divide(q, 100), axis, None, overwrite_input, method, keepdims)


def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """The middle value (the mean of the two middle values for even counts)."""
    return quantile(a, 0.5, axis, keepdims=keepdims)


def nanmedian(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """The median of the elements that are not nan (concrete arrays only: the count varies)."""
    a = asarray(a)
    if isinstance(a, Tracer):
        a.aval.to_numpy(a)   # raises: which elements remain depends on the values
    return asarray(np.nanmedian(np.asarray(a), axis=axis, keepdims=keepdims).astype(a.dtype))


# --- sorting and searching -------------------------------------------------------------------

def sort(a, axis=-1, *, kind=None, order=None, stable=True, descending=False):
    """Sorted copy along `axis` (nan last; first for descending=True).

        >>> sort(array([3, 1, 2]))
        Array([1, 2, 3], dtype=int32)
    """
    a = asarray(a)
    if axis is None:
        a, axis = ravel(a), 0
    axis = canon_axis(axis, a.ndim)
    out = lax.sort(a, dimension=axis)
    return lax.rev(out, (axis,)) if descending else out


def argsort(a, axis=-1, *, kind=None, order=None, stable=True, descending=False):
    """The indices that sort `a` along `axis` (ties keep their order, also when descending)."""
    a = asarray(a)
    if axis is None:
        a, axis = ravel(a), 0
    axis = canon_axis(axis, a.ndim)
    if descending:   # sort the reversed array ascending, then read it backwards
        n = a.shape[axis]
        perm = argsort(lax.rev(a, (axis,)), axis)
        return (n - 1) - lax.rev(perm, (axis,))
    iota = lax.broadcasted_iota(dtypes.int32, a.shape, axis)
    _, perm = lax.sort((a, iota), dimension=axis, num_keys=1)
    return perm


def lexsort(keys, axis=-1):
    """Indices that sort by the last key, then the one before, ... (as numpy.lexsort)."""
    keys = broadcast(*[asarray(k) for k in keys])   # keys may differ in dtype
    axis = canon_axis(axis, keys[0].ndim)
    iota = lax.broadcasted_iota(dtypes.int32, keys[0].shape, axis)
    return lax.sort(tuple(keys[::-1]) + (iota,), dimension=axis, num_keys=len(keys))[-1]


def _sorts_before(x, y, or_equal):
    """x < y (or x <= y) in sort order, where nan is larger than everything."""
    if not dtypes.is_float(x.dtype):
        return x <= y if or_equal else x < y
    x_nan, y_nan = isnan(x), isnan(y)
    if or_equal:
        return y_nan | (~x_nan & (x <= y))
    return ~x_nan & (y_nan | (x < y))


def searchsorted(a, v, side='left', sorter=None, *, method='scan'):
    """Where to insert v into the sorted 1-d a to keep it sorted (int32 indices)."""
    if side not in ('left', 'right'):
        raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
    a, v = promote(asarray(a), asarray(v))
    if a.ndim != 1:
        raise ValueError(f"searchsorted: a must be 1-d, got shape {a.shape}")
    if sorter is not None:
        a = a[asarray(sorter)]
    # Count the entries of a that sort before each v.
    a_col = reshape(a, a.shape + (1,) * v.ndim)
    return sum(astype(_sorts_before(a_col, v, side == 'right'), dtypes.int32), axis=0,
               dtype=dtypes.int32)


def digitize(x, bins, right=False):
    """Index of the bin of each x (bins increasing): bins[i-1] <= x < bins[i]."""
    return searchsorted(bins, x, side='left' if right else 'right')


def where(condition, x=None, y=None, /, *, size=None, fill_value=None):
    """x where condition else y (with broadcasting). The one-argument form
    (indices of True values) is `nonzero`: it only works outside jit unless
    `size` is given."""
    if x is None and y is None:
        return nonzero(condition, size=size, fill_value=fill_value)
    if x is None or y is None:
        raise ValueError("Either both or neither of x and y should be given to jnp.where.")
    return _where(condition, x, y)


def nonzero(a, *, size=None, fill_value=None):
    """Indices of the non-zero elements, one int32 array per axis.

    The count depends on the values, so under jit pass `size` (the result is
    cut or padded with `fill_value`, default 0, to that length)."""
    a = asarray(a)
    if a.ndim == 0:
        raise ValueError("Calling nonzero on 0d arrays is not allowed; use atleast_1d(a) first.")
    mask = ravel(a != 0) if not dtypes.is_bool(a.dtype) else ravel(a)
    if size is None:
        if isinstance(a, Tracer):
            a.aval.to_numpy(a)   # raises: the output shape would depend on the values
        size = int(np.count_nonzero(np.asarray(a)))
    n = mask.shape[0]
    # The k-th true element goes to slot k: a scatter with out-of-range slots dropped.
    slot = _where(mask, cumsum(mask) - 1, size)
    flat = full((size,), 0, dtypes.int32).at[slot].set(arange(n, dtype=dtypes.int32), mode='drop')
    valid = arange(size) < sum(mask)
    out, stride = [], n
    for dim in a.shape:
        stride //= builtins.max(dim, 1)
        idx = (flat // builtins.max(stride, 1)) % builtins.max(dim, 1)
        out.append(_where(valid, idx, 0 if fill_value is None else fill_value))
    return tuple(out)


def flatnonzero(a, *, size=None, fill_value=None):
    return nonzero(ravel(a), size=size, fill_value=fill_value)[0]


def argwhere(a, *, size=None, fill_value=None):
    """Indices of the non-zero elements as rows of a 2-d array."""
    a = asarray(a)
    if a.ndim == 0:   # as NumPy: one (empty) row if a is non-zero
        return Array(np.zeros((int(builtins.bool(a)), 0), np.int32))
    return stack(nonzero(a, size=size, fill_value=fill_value), axis=1)


def unique(ar, return_index=False, return_inverse=False, return_counts=False, axis=None,
           *, equal_nan=True, size=None, fill_value=None):
    """The sorted unique values (concrete arrays only: their number varies)."""
    ar = asarray(ar)
    if isinstance(ar, Tracer):
        ar.aval.to_numpy(ar)   # raises: the output shape would depend on the values
    outs = np.unique(np.asarray(ar), return_index, return_inverse, return_counts, axis,
                     equal_nan=equal_nan)
    if not isinstance(outs, tuple):
        return Array(outs)
    return tuple(Array(o if i == 0 else o.astype(dtypes.default_int())) for i, o in enumerate(outs))


def bincount(x, weights=None, minlength=0, *, length=None):
    """How often each value 0, 1, ... occurs in the non-negative ints x (or the
    sum of their weights). Under jit give `length` (the output size)."""
    x = asarray(x)
    if not dtypes.is_int(x.dtype) or x.ndim != 1:
        raise TypeError(f"bincount needs a 1-d array of integers, got {x.dtype.name}{list(x.shape)}")
    if length is None:
        if isinstance(x, Tracer):
            x.aval.to_numpy(x)
        length = builtins.max(minlength, int(np.max(np.asarray(x), initial=-1)) + 1)
    w = full(x.shape, 1, dtypes.default_int()) if weights is None else asarray(weights)
    return zeros(length, w.dtype).at[_where(x < 0, length, x)].add(w, mode='drop')


def isin(element, test_elements, assume_unique=False, invert=False):
    """True where an element of `element` occurs in `test_elements`."""
    element, test = promote(asarray(element), ravel(asarray(test_elements)))
    found = any(equal(expand_dims(element, -1), test), axis=-1)
    return ~found if invert else found


# --- comparing whole arrays ----------------------------------------------------------------

def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|a - b| <= atol + rtol * |b|, elementwise (infinities only match themselves)."""
    a, b = broadcast(*promote(a, b))
    if not dtypes.is_float(a.dtype):
        return equal(a, b)
    rtol, atol = weak_scalar(rtol, a.dtype), weak_scalar(atol, a.dtype)
    close = absolute(a - b) <= atol + rtol * absolute(b)
    finite = ~isinf(a) & ~isinf(b)
    out = (close & finite) | (a == b)
    if equal_nan:
        out = out | (isnan(a) & isnan(b))
    return out


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True when `isclose` holds everywhere."""
    return all(isclose(a, b, rtol, atol, equal_nan))


def array_equal(a1, a2, equal_nan=False):
    """True when the shapes match and every element is equal."""
    a1, a2 = asarray(a1), asarray(a2)
    if a1.shape != a2.shape:
        return Array(np.asarray(False))
    eq = equal(a1, a2)
    if equal_nan:
        eq = eq | (isnan(a1) & isnan(a2))
    return all(eq)


def array_equiv(a1, a2):
    """True when the arrays broadcast together and are equal everywhere."""
    a1, a2 = asarray(a1), asarray(a2)
    try:
        np.broadcast_shapes(a1.shape, a2.shape)
    except ValueError:
        return Array(np.asarray(False))
    return all(equal(a1, a2))
