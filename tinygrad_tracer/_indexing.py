"""NumPy indexing (`x[i]`, `x.at[i].set(v)`) and the operators of Array and Tracer.

`x[idx]` lowers in steps, so jaxprs stay readable:
  1. static ints and slices become `slice` (+ `rev` for negative steps, `squeeze`);
  2. traced ints (0-d integer arrays) become one `dynamic_slice`;
  3. integer arrays become one `gather` over the axes they index.
`x.at[idx].op(v)` turns every index into an integer array and binds one scatter.
Out-of-bounds reads clamp; out-of-bounds writes are dropped (as in JAX). Which
of slice and gather JAX uses shows in the gradient of an out-of-bounds read
(see `_sliceable`), so we choose as JAX does.
"""
import numpy as np

from . import dtypes, lax
from . import _numpy_elementwise, _numpy_reduce   # (their round, sum, max, ... would hide Python's)
from ._numpy_arrange import fill_value_for, repeat, stack, take
from ._numpy_base import asarray, astype, broadcast_shapes, broadcast_to
from ._numpy_elementwise import (absolute, add, bitwise_and, bitwise_or, bitwise_xor, clip, equal,
                                 floor_divide, greater, greater_equal, invert, left_shift, less,
                                 less_equal, multiply, negative, not_equal, positive, power,
                                 reciprocal, remainder, right_shift, subtract, true_divide, where)
from ._numpy_linalg import dot, matmul
from ._numpy_reduce import argmax, argmin, argsort, cumprod, cumsum, mean, nonzero, prod, sort, std, var
from ._numpy_shape import matrix_transpose, ravel, reshape, squeeze, swapaxes, transpose
from .array import Array
from .core import Tracer, untraced_value
from .errors import NonConcreteBooleanIndexError


def _entry(e):
    """One index entry, checked: None, Ellipsis, slice, int, or an int/bool array.
    A number or array of the wrong type is a TypeError, anything else an IndexError
    (as in JAX)."""
    if isinstance(e, (float, complex, str, np.floating, np.complexfloating)):
        raise TypeError(f"Indices must be integers or booleans, got {e!r} of type "
                        f"{type(e).__name__}: use int(i), or an integer array.")
    if isinstance(e, (list, np.ndarray)) or (isinstance(e, (Array, Tracer)) and (
            e.ndim > 0 or dtypes.is_bool(e.dtype))):
        e = Array(e) if isinstance(e, np.ndarray) else asarray(e)
        if not (dtypes.is_int(e.dtype) or dtypes.is_bool(e.dtype)):
            raise TypeError(f"Indexing with arrays of dtype {e.dtype.name} is not allowed: "
                            "indices must be integers or booleans (idx.astype(jnp.int32)).")
        if dtypes.is_bool(e.dtype) and isinstance(e, Tracer):
            raise NonConcreteBooleanIndexError(
                "Array boolean indices must be concrete: under jit the mask's number "
                "of True values, and so the result's shape, is unknown. Use "
                "jnp.where(mask, x, 0) (or x * mask) to keep the shape fixed.")
        return e
    if isinstance(e, (Array, Tracer)):   # 0-d int array: traced or concrete
        if not dtypes.is_int(e.dtype):
            raise TypeError(f"Indices must be integers, got an array of dtype {e.dtype.name} "
                            "(idx.astype(jnp.int32)).")
        return e
    if isinstance(e, (bool, np.bool_)):   # a 0-d mask, not the integer 1 or 0
        return Array(np.asarray(e))
    if isinstance(e, np.integer):
        return int(e)
    if e is None or e is Ellipsis or isinstance(e, (slice, int)):
        return e
    raise IndexError(f"Only integers, slices (`:`), ellipsis (`...`), None and integer or "
                     f"boolean arrays are valid indices; got {e!r}.")


def _is_mask(e):
    return isinstance(e, Array) and dtypes.is_bool(e.dtype)


def _expand(shape, idx):
    """Normalize `idx` to one entry per axis of a (possibly reshaped) operand.

    Returns (shape with size-1 axes for each None, entries) where each entry is
    a slice, a Python int, or an integer array (a boolean mask becomes the
    integer arrays of its True positions)."""
    if isinstance(idx, list):
        raise TypeError("Using a non-tuple sequence for multidimensional indexing is not "
                        "allowed (JAX follows NumPy's deprecation): write x[jnp.array(seq)] "
                        "to index with an array, or x[tuple(seq)] for one index per axis.")
    flat = [_entry(e) for e in (idx if isinstance(idx, tuple) else (idx,))]
    used = sum(e.ndim if _is_mask(e) else 1 for e in flat if e is not None and e is not Ellipsis)
    if used > len(shape):
        raise IndexError(f"Too many indices for array: array is {len(shape)}-dimensional, but "
                         f"{used} were indexed.")
    if sum(e is Ellipsis for e in flat) > 1:
        raise IndexError("An index can only have a single ellipsis ('...').")
    fill = [slice(None)] * (len(shape) - used)
    ell = [k for k, e in enumerate(flat) if e is Ellipsis]
    if ell:
        flat[ell[0]:ell[0] + 1] = fill
    else:
        flat += fill
    new_shape, entries, dim = [], [], 0
    for e in flat:
        if e is None:
            new_shape.append(1)
            entries.append(slice(None))
        elif _is_mask(e) and e.ndim == 0:   # x[True] adds an axis of length 1 (0 for False)
            new_shape.append(1)
            entries.append(Array(np.arange(int(e), dtype=np.int32)))
        elif _is_mask(e):
            if e.shape != tuple(shape[dim:dim + e.ndim]):
                raise IndexError(f"boolean index did not match the shape of the indexed array: "
                                 f"mask shape {e.shape}, indexed axes {tuple(shape[dim:dim + e.ndim])}")
            new_shape.extend(shape[dim:dim + e.ndim])
            entries.extend(Array(i.astype(np.int32)) for i in np.nonzero(np.asarray(e)))
            dim += e.ndim
        else:
            new_shape.append(shape[dim])
            entries.append(e)
            dim += 1
    return tuple(new_shape), entries


def _advanced_block(entries):
    """Where NumPy puts the broadcast shape of the array indices in the result:
    in place when they are adjacent, else in front."""
    adv = [d for d, e in enumerate(entries) if not isinstance(e, slice)]
    adjacent = adv == list(range(adv[0], adv[-1] + 1)) if adv else True
    return adv, (adv[0] if adv and adjacent else 0)


def _normalize_index(i, n):
    """An int32 index array with negative indices counted from the end."""
    if isinstance(i, int):
        return Array(np.asarray(i + n if i < 0 else i, np.int32))
    i = asarray(i)
    i = astype(i, np.int32) if i.dtype != np.int32 else i
    if isinstance(i, Array):
        v = np.asarray(i)
        return Array(np.where(v < 0, v + n, v).astype(np.int32))
    return where(i < 0, i + n, i)


def _sliceable(shape, entries):
    """Whether x[idx] is read with slices (dynamic_slice for 0-d index arrays), as JAX
    does when it can: no index arrays of rank > 0, and either every int is static and
    in bounds or every slice has step 1 or -1. Both ways clamp out-of-bounds reads;
    the difference shows in the gradient: a clamped slice's goes to the clamped
    element, a gather's drops out-of-bounds indices (its transpose is a scatter-add)."""
    scalars = [(e, n) for e, n in zip(entries, shape) if not isinstance(e, slice)]
    if any(not isinstance(e, int) and e.ndim for e, _ in scalars):
        return False
    static_in_bounds = all(isinstance(e, int) and -n <= e < n for e, n in scalars)
    unit_steps = all(e.step in (None, 1, -1) for e in entries if isinstance(e, slice))
    return static_in_bounds or unit_steps


def getitem(x, idx, clamp=False):
    """x[idx]; `clamp` (x.at[idx].get(mode='clip')) also clamps the gather's indices,
    so that its gradient goes to the clamped elements."""
    shape, entries = _expand(x.shape, idx)
    x = lax.reshape(x, shape)
    sliced = _sliceable(shape, entries)
    # Step 1: static slices (and static ints when the index is read with slices).
    start, limit, stride, flip, squeeze = [], [], [], [], []
    for d, (e, n) in enumerate(zip(entries, shape)):
        if isinstance(e, slice):
            s, stop, step = e.indices(n)
            if step < 0:   # walk forward over the same elements, then reverse
                count = len(range(s, stop, step))
                s, stop, step = s + (count - 1) * step if count else 0, s + 1 if count else 0, -step
                flip.append(d)
            start.append(s)
            limit.append(max(stop, s))
            stride.append(step)
        elif isinstance(e, int) and sliced:
            i = min(max(e + n if e < 0 else e, 0), n - 1)   # clamp, as JAX's slices do
            start.append(i)
            limit.append(i + 1)
            stride.append(1)
            squeeze.append(d)
        else:
            start.append(0)
            limit.append(n)
            stride.append(1)
    if (start, limit, stride) != ([0] * len(shape), list(shape), [1] * len(shape)):
        x = lax.slice(x, start, limit, stride)
    if flip:
        x = lax.rev(x, flip)
    # Step 2: 0-d index arrays (traced ints) when sliceable: one dynamic_slice.
    scalars = [d for d, e in enumerate(entries) if sliced and not isinstance(e, (slice, int))]
    if scalars:
        starts = [astype(entries[d], np.int32) if d in scalars else 0 for d in range(len(shape))]
        x = lax.dynamic_slice(x, starts, [1 if d in scalars else n for d, n in enumerate(x.shape)])
        squeeze = sorted(squeeze + scalars)
    if squeeze:
        x = lax.squeeze(x, squeeze)
    if sliced:
        return x
    # Step 3: one gather over the axes indexed by arrays (and ints).
    adv, pos = _advanced_block(entries)
    idx_arrays = [_normalize_index(entries[d], shape[d]) for d in adv]
    if clamp:
        idx_arrays = [clip(i, 0, shape[d] - 1) for i, d in zip(idx_arrays, adv)]
    batch = broadcast_shapes(*(i.shape for i in idx_arrays))
    indices = stack([broadcast_to(i, batch) for i in idx_arrays], axis=-1)
    out = lax.gather(x, indices, adv)
    nb, kept = len(batch), x.ndim - len(adv)
    if pos:   # gather puts the batch axes first; move them to where NumPy wants them
        perm = list(range(nb, nb + pos)) + list(range(nb)) + list(range(nb + pos, nb + kept))
        out = lax.transpose(out, perm)
    return out


def _scatter(x, idx, updates, prim):
    shape, entries = _expand(x.shape, idx)
    adv, pos = _advanced_block(entries)
    adv_arrays = [_normalize_index(entries[d], shape[d]) for d in adv]
    batch = broadcast_shapes(*(i.shape for i in adv_arrays)) if adv else ()
    # The result shape of x[idx]: slice axes, with the batch block inserted at `pos`.
    slice_dims = [d for d, e in enumerate(entries) if isinstance(e, slice)]
    ranges = [np.arange(*entries[d].indices(shape[d])) for d in slice_dims]
    out_shape = [len(r) for r in ranges]
    out_shape[pos:pos] = batch
    # One integer index array per operand axis, each broadcast to out_shape.
    per_axis = {}
    for k, (d, r) in enumerate(zip(slice_dims, ranges)):
        slot = k if k < pos else k + len(batch)
        per_axis[d] = Array(r.astype(np.int32).reshape([-1 if j == slot else 1 for j in range(len(out_shape))]))
    for d, i in zip(adv, adv_arrays):
        per_axis[d] = reshape(broadcast_to(i, batch),
                                  [1] * pos + list(batch) + [1] * (len(out_shape) - pos - len(batch)))
    indices = stack([broadcast_to(per_axis[d], out_shape) for d in range(len(shape))], axis=-1)
    updates = asarray(updates)
    updates = lax.convert_element_type(updates, x.dtype, x.weak_type) if updates.dtype != x.dtype else updates
    try:
        updates = broadcast_to(updates, out_shape)
    except ValueError:
        raise ValueError(f"Cannot broadcast updates of shape {updates.shape} to the indexed "
                         f"shape {tuple(out_shape)}.") from None
    out = prim(lax.reshape(x, shape), indices, updates, tuple(range(len(shape))))
    return lax.reshape(out, x.shape)


class _IndexUpdateHelper:
    """`x.at[idx]`: functional versions of `x[idx] = y`, `x[idx] += y`, ..."""
    __slots__ = ('array',)

    def __init__(self, array):
        self.array = array

    def __getitem__(self, idx):
        return _IndexUpdateRef(self.array, idx)


def _check_options(method, mode=None, fill_value=None, **hints):
    """`indices_are_sorted` / `unique_indices` are hints we may ignore; a `mode`
    we do not implement must not be ignored silently."""
    reading = method == 'get'
    allowed = (None, 'clip', 'fill', 'promise_in_bounds') if reading else (None, 'drop', 'promise_in_bounds')
    if mode not in allowed or (fill_value is not None and mode != 'fill'):
        raise ValueError(
            f"x.at[idx].{method}(mode={mode!r}{', fill_value=...' if fill_value is not None else ''}) "
            f"is not supported: " + ("reads take mode=None or 'clip' (clamp out-of-bounds "
                                     "indices) or 'fill' (with fill_value)." if reading else
                                     "out-of-bounds updates are dropped (mode='drop')."))


def _filled_getitem(x, idx, fill_value):
    """x[idx] where out-of-bounds integer indices read `fill_value`: each axis indexed
    by an integer or array gets one extra element holding the fill, and the
    indices that are out of bounds point at it."""
    shape, entries = _expand(x.shape, idx)
    x = lax.reshape(x, shape)
    fill = fill_value_for(x.dtype) if fill_value is None else fill_value
    pads, new = [], []
    for e, n in zip(entries, shape):
        if isinstance(e, slice):
            pads.append((0, 0, 0))
            new.append(e)
            continue
        i = asarray(e)
        pads.append((0, 1, 0))
        new.append(where((i >= -n) & (i < n), where(i < 0, i + n, i), n))
    padded = lax.pad(x, asarray(fill, dtype=x.dtype), pads)
    return getitem(padded, tuple(new))


class _IndexUpdateRef:
    """`x.at[idx]`; each method returns a new array (out-of-bounds reads clamp,
    out-of-bounds updates are dropped)."""
    __slots__ = ('array', 'index')

    def __init__(self, array, index):
        self.array, self.index = array, index

    def get(self, **options):
        """x[idx]; `mode='clip'` clamps out-of-bounds indices (the default),
        `mode='fill'` reads `fill_value` there (nan for floats when not given)."""
        _check_options('get', **options)
        if options.get('mode') == 'fill':
            return _filled_getitem(self.array, self.index, options.get('fill_value'))
        return getitem(self.array, self.index, clamp=options.get('mode') == 'clip')

    def _update(self, method, prim, values, options):
        _check_options(method, **options)
        return _scatter(self.array, self.index, values, prim)

    def set(self, values, **options):
        """A copy of x with x[idx] = values (with repeated indices, one of them wins)."""
        return self._update('set', lax.scatter, values, options)

    def add(self, values, **options):
        """A copy of x with x[idx] += values (repeated indices accumulate)."""
        return self._update('add', lax.scatter_add, values, options)

    def subtract(self, values, **options):
        """A copy of x with x[idx] -= values."""
        return self._update('subtract', lax.scatter_add, -asarray(values), options)

    def multiply(self, values, **options):
        """A copy of x with x[idx] *= values."""
        return self._update('multiply', lax.scatter_mul, values, options)

    mul = multiply

    def divide(self, values, **options):
        """A copy of x with x[idx] /= values (as a multiplication by 1 / values)."""
        return self._update('divide', lax.scatter_mul, reciprocal(values), options)

    def power(self, values, **options):
        """A copy of x with x[idx] **= values."""
        _check_options('power', **options)
        return self.set(power(self.get(), values))

    def min(self, values, **options):
        """A copy of x with x[idx] = minimum(x[idx], values)."""
        return self._update('min', lax.scatter_min, values, options)

    def max(self, values, **options):
        """A copy of x with x[idx] = maximum(x[idx], values)."""
        return self._update('max', lax.scatter_max, values, options)


def _index_text(idx):
    def one(e):
        if isinstance(e, slice):
            parts = ['' if v is None else str(v) for v in (e.start, e.stop, e.step)]
            return ':'.join(parts[:2] if e.step is None else parts)
        if e is Ellipsis:
            return '...'
        return repr(e) if isinstance(e, (int, type(None))) else 'idx'
    return ', '.join(one(e) for e in idx) if isinstance(idx, tuple) else one(idx)


def setitem(self, idx, value):
    val = repr(value) if isinstance(value, (int, float, bool)) else 'y'
    raise TypeError(
        f"'{type(self).__name__}' object does not support item assignment. JAX arrays are "
        f"immutable. Instead of `x[{_index_text(idx)}] = {val}`, use "
        f"`x = x.at[{_index_text(idx)}].set({val})` (or .add, .multiply, .min, .max for "
        "`+=`, `*=`, ...): it returns a new array.")


# --- operators and methods shared by Array and Tracer --------------------------------

def _swap(f):
    return lambda self, other: f(other, self)


def _method(f):
    return lambda self, *args, **kwargs: f(self, *args, **kwargs)


def _reshape_method(self, *shape, order='C'):
    return reshape(self, shape[0] if len(shape) == 1 and not isinstance(shape[0], int) else shape)


def _transpose_method(self, *axes):
    return transpose(self, axes[0] if len(axes) == 1 and not isinstance(axes[0], int) else (axes or None))


def _item(self, *args):
    """`x.item()`: an integer or bool tracer only reads its value (like `int(x)`,
    fine under grad); a float one hands a Python float to code no transformation
    sees, so it refuses like `float(x)`. (JAX lets the float case through under
    grad and returns a zero derivative; a silent wrong number is worse than an error.)"""
    if not isinstance(self, Tracer):
        return self._value.item(*args)
    if np.issubdtype(self.dtype, np.inexact):
        return untraced_value(self, ".item()").item(*args)
    return self.aval.to_numpy(self, "conversion to a Python scalar (.item())").item(*args)


_OPERATORS = {
    '__add__': add, '__radd__': _swap(add),
    '__sub__': subtract, '__rsub__': _swap(subtract),
    '__mul__': multiply, '__rmul__': _swap(multiply),
    '__truediv__': true_divide, '__rtruediv__': _swap(true_divide),
    '__floordiv__': floor_divide, '__rfloordiv__': _swap(floor_divide),
    '__mod__': remainder, '__rmod__': _swap(remainder),
    '__pow__': power, '__rpow__': _swap(power),
    '__matmul__': matmul, '__rmatmul__': _swap(matmul),
    '__and__': bitwise_and, '__rand__': _swap(bitwise_and),
    '__or__': bitwise_or, '__ror__': _swap(bitwise_or),
    '__xor__': bitwise_xor, '__rxor__': _swap(bitwise_xor),
    '__lshift__': left_shift, '__rshift__': right_shift,
    '__eq__': equal, '__ne__': not_equal, '__lt__': less, '__le__': less_equal,
    '__gt__': greater, '__ge__': greater_equal,
    '__neg__': negative, '__pos__': positive, '__abs__': absolute, '__invert__': invert,
    '__divmod__': lambda a, b: (floor_divide(a, b), remainder(a, b)),
    '__getitem__': getitem, '__setitem__': setitem,
    'reshape': _reshape_method, 'transpose': _transpose_method, 'item': _item,
    'astype': astype, 'sum': _numpy_reduce.sum, 'mean': mean, 'prod': prod,
    'max': _numpy_reduce.max, 'min': _numpy_reduce.min, 'argmax': argmax, 'argmin': argmin,
    'all': _numpy_reduce.all, 'any': _numpy_reduce.any, 'var': var, 'std': std,
    'cumsum': cumsum, 'cumprod': cumprod, 'clip': clip, 'round': _numpy_elementwise.round,
    'ravel': ravel, 'flatten': ravel, 'squeeze': squeeze, 'swapaxes': swapaxes, 'dot': dot,
    'take': take, 'sort': sort, 'argsort': argsort, 'repeat': repeat, 'nonzero': nonzero,
    'copy': lambda self: self, 'conj': lambda self: self, 'conjugate': lambda self: self,
}

for _cls in (Array, Tracer):
    for _name, _fn in _OPERATORS.items():
        setattr(_cls, _name, _method(_fn) if not _name.startswith('__') else _fn)
    _cls.T = property(lambda self: transpose(self))
    _cls.mT = property(matrix_transpose)
    _cls.at = property(_IndexUpdateHelper)
    _cls.real = property(lambda self: self)
