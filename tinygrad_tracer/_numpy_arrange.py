"""jax.numpy, part 5: joining, splitting, tiling, padding, flipping, taking.

Everything here rearranges elements without computing new values, so it
lowers to `concatenate`, `slice`, `rev`, `broadcast_in_dim`, `reshape`,
`pad` and `gather`. Re-exported by `tinygrad_tracer.numpy`.
"""
import builtins
import operator

import numpy as np

from . import dtypes, lax
from ._numpy_base import asarray, astype, broadcast_to, canon_axes, canon_axis, is_array, promote
from ._numpy_elementwise import clip, where
from ._numpy_shape import atleast_1d, atleast_2d, atleast_3d, expand_dims, ravel, reshape, swapaxes
from .array import Array
from .core import Tracer

__all__ = ['concatenate', 'concat', 'stack', 'hstack', 'vstack', 'dstack', 'column_stack',
           'append', 'split', 'array_split', 'hsplit', 'vsplit', 'dsplit', 'unstack', 'tile',
           'repeat', 'pad', 'flip', 'fliplr', 'flipud', 'roll', 'rot90', 'diff', 'take',
           'take_along_axis', 'meshgrid']


# --- joining -------------------------------------------------------------------------

def concatenate(arrays, axis=0, dtype=None):
    """Join arrays along an existing axis (flattened first when axis is None).

        >>> concatenate([zeros(2), ones(1)])
        Array([0., 0., 1.], dtype=float32)
    """
    arrays = [asarray(a) for a in arrays]
    if not arrays:
        raise ValueError("Need at least one array to concatenate.")
    if axis is None:
        arrays, axis = [ravel(a) for a in arrays], 0
    arrays = promote(*arrays) if dtype is None else [astype(a, dtype) for a in arrays]
    if builtins.any(a.ndim == 0 for a in arrays):
        raise ValueError("Zero-dimensional arrays cannot be concatenated.")
    if len({a.ndim for a in arrays}) > 1:   # TypeError for shape mismatches, as in JAX
        raise TypeError(f"All input arrays must have the same number of dimensions, got "
                        f"shapes {[a.shape for a in arrays]}.")
    axis = canon_axis(axis, arrays[0].ndim)
    if len({a.shape[:axis] + a.shape[axis + 1:] for a in arrays}) > 1:
        raise TypeError(f"All input array dimensions except for the concatenation axis "
                        f"({axis}) must match exactly, got shapes {[a.shape for a in arrays]}.")
    return lax.concatenate(arrays, axis)


concat = concatenate


def stack(arrays, axis=0, dtype=None):
    """Join arrays of one shape along a new axis."""
    arrays = [asarray(a) for a in arrays]
    if not arrays:
        raise ValueError("Need at least one array to stack.")
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise ValueError(f"All input arrays must have the same shape, got {sorted(shapes)}.")
    axis = canon_axis(axis, arrays[0].ndim + 1)
    return concatenate([expand_dims(a, axis) for a in arrays], axis, dtype)


def _as_list(x):
    return [x] if is_array(x) and x.ndim == 0 else list(x)


def hstack(tup, dtype=None):
    """Join along axis 1 (axis 0 for 1-d inputs)."""
    arrs = [atleast_1d(a) for a in _as_list(tup)]
    return concatenate(arrs, 0 if arrs[0].ndim == 1 else 1, dtype)


def vstack(tup, dtype=None):
    """Join along axis 0, treating 1-d inputs as rows."""
    return concatenate([atleast_2d(a) for a in _as_list(tup)], 0, dtype)


def dstack(tup, dtype=None):
    """Join along axis 2 (depth)."""
    return concatenate([atleast_3d(a) for a in _as_list(tup)], 2, dtype)


def column_stack(tup):
    """1-d arrays become columns of a 2-d array."""
    return concatenate([reshape(a, (-1, 1)) if asarray(a).ndim < 2 else a for a in tup], 1)


def append(arr, values, axis=None):
    """`values` joined to the end of `arr` (both flattened when axis is None)."""
    if axis is None:
        return concatenate([ravel(arr), ravel(values)])
    return concatenate([arr, values], axis)


# --- splitting -------------------------------------------------------------------------

def _slice_axis(a, axis, lo, hi, step=1):
    start, limit, strides = [0] * a.ndim, list(a.shape), [1] * a.ndim
    start[axis], limit[axis], strides[axis] = lo, builtins.max(hi, lo), step
    return lax.slice(a, start, limit, strides)


def _split(name, ary, indices_or_sections, axis, equal):
    ary = asarray(ary)
    axis = canon_axis(axis, ary.ndim)
    n = ary.shape[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        sections = operator.index(indices_or_sections)
        if sections <= 0:
            raise ValueError(f"{name}: number of sections must be larger than 0, got {sections}")
        if equal and n % sections:
            raise ValueError(f"array split does not result in an equal division: {n} into "
                             f"{sections}")
        q, r = builtins.divmod(n, sections)
        bounds = np.cumsum([0] + [q + 1] * r + [q] * (sections - r)).tolist()
    else:
        bounds = [0] + [builtins.min(builtins.max(int(i) + (n if i < 0 else 0), 0), n)
                        for i in indices_or_sections] + [n]
    return [_slice_axis(ary, axis, lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:])]


def split(ary, indices_or_sections, axis=0):
    """Equal sections (an int) or pieces between the given indices (a list).

        >>> split(arange(6), [2, 3])
        [Array([0, 1], dtype=int32), Array([2], dtype=int32), Array([3, 4, 5], dtype=int32)]
    """
    return _split('split', ary, indices_or_sections, axis, equal=True)


def array_split(ary, indices_or_sections, axis=0):
    """Like `split`, but an int need not divide the axis evenly."""
    return _split('array_split', ary, indices_or_sections, axis, equal=False)


def hsplit(ary, indices_or_sections):
    return split(ary, indices_or_sections, 0 if asarray(ary).ndim == 1 else 1)


def vsplit(ary, indices_or_sections):
    return split(ary, indices_or_sections, 0)


def dsplit(ary, indices_or_sections):
    return split(ary, indices_or_sections, 2)


def unstack(x, /, *, axis=0):
    """The slices of x along `axis`, as a tuple."""
    x = asarray(x)
    axis = canon_axis(axis, x.ndim)
    return tuple(lax.squeeze(_slice_axis(x, axis, i, i + 1), (axis,)) for i in range(x.shape[axis]))


# --- repeating and padding -----------------------------------------------------------------

def tile(A, reps):
    """A repeated `reps` times along each axis."""
    A = asarray(A)
    reps = (reps,) if isinstance(reps, int) else tuple(reps)
    nd = builtins.max(A.ndim, len(reps))
    A = reshape(A, (1,) * (nd - A.ndim) + A.shape)
    reps = (1,) * (nd - len(reps)) + reps
    # Broadcast a new axis before each axis, then merge the pairs.
    expanded = broadcast_to(reshape(A, [x for n in A.shape for x in (1, n)]),
                            [x for r, n in zip(reps, A.shape) for x in (r, n)])
    return reshape(expanded, [r * n for r, n in zip(reps, A.shape)])


def repeat(a, repeats, axis=None, *, total_repeat_length=None):
    """Each element repeated `repeats` times (an int, or one count per element).

        >>> repeat(array([1, 2]), 2)
        Array([1, 1, 2, 2], dtype=int32)
    """
    a = asarray(a)
    if axis is None:
        a, axis = ravel(a), 0
    axis = canon_axis(axis, a.ndim)
    if isinstance(repeats, Tracer):
        raise TypeError("jnp.repeat with traced `repeats` would have a data-dependent shape; "
                        "pass the counts as a concrete (NumPy) array or a Python int.")
    reps = np.asarray(repeats)
    if reps.ndim == 0:
        shape = list(a.shape)
        b = broadcast_to(expand_dims(a, axis + 1), shape[:axis + 1] + [int(reps)] + shape[axis + 1:])
        shape[axis] *= int(reps)
        return reshape(b, shape)
    if reps.shape != (a.shape[axis],):
        raise ValueError(f"repeat: `repeats` has shape {reps.shape}, but axis {axis} of the array "
                         f"has {a.shape[axis]} elements (give one count per element, or an int).")
    idx = np.repeat(np.arange(a.shape[axis]), reps).astype(np.int32)
    return take(a, Array(idx), axis=axis)


def pad(array, pad_width, mode='constant', *, constant_values=0):
    """Pad each axis by (before, after) elements.

    Modes: 'constant' (with `constant_values`), 'edge' (repeat the border),
    'wrap' (continue periodically), 'reflect' (mirror, border not repeated)
    and 'symmetric' (mirror, border repeated).

        >>> pad(array([1, 2]), (1, 2))
        Array([0, 1, 2, 0, 0], dtype=int32)
    """
    array = asarray(array)
    widths = _pad_widths(pad_width, array.ndim)
    if mode == 'constant':
        value = asarray(constant_values)
        if value.ndim:
            raise ValueError("jnp.pad: only scalar constant_values are supported.")
        return lax.pad(array, astype(value, array.dtype), [(lo, hi, 0) for lo, hi in widths])
    if mode not in _PAD_SOURCES:
        raise ValueError(f"jnp.pad: unsupported mode {mode!r}; choose one of "
                         f"'constant', {', '.join(repr(m) for m in _PAD_SOURCES)}.")
    for axis, (lo, hi) in enumerate(widths):
        if lo or hi:
            array = _pad_axis(array, axis, lo, hi, mode)
    return array


def _pad_widths(pad_width, nd):
    pw = np.asarray(pad_width)
    if not np.issubdtype(pw.dtype, np.integer) or pw.size == 0:
        raise TypeError(f"jnp.pad: pad_width must be integers, got {pad_width!r}")
    try:
        pw = np.broadcast_to(pw.reshape(-1, 2) if pw.ndim == 2 or pw.size == 2 else pw.reshape(-1, 1), (nd, 2))
    except ValueError:
        raise ValueError(f"jnp.pad: pad_width {pad_width!r} does not fit an array of {nd} "
                         "dimensions: give one int, one (before, after) pair, or one pair "
                         "per axis.") from None
    if (pw < 0).any():
        raise ValueError(f"jnp.pad: pad_width must be non-negative, got {pad_width!r}")
    return [(int(lo), int(hi)) for lo, hi in pw]


# For each non-constant mode: the source index (into an axis of length n) of
# padded position p, for p < 0 (before) or p >= n (after).
def _wrap_index(p, n):
    return p % n


def _reflect_index(p, n):
    period = 2 * (n - 1) if n > 1 else 1
    p = p % period
    return np.minimum(p, period - p) if n > 1 else np.zeros_like(p)


def _symmetric_index(p, n):
    p = p % (2 * n)
    return np.where(p < n, p, 2 * n - 1 - p)


_PAD_SOURCES = {
    'edge': lambda p, n: np.clip(p, 0, n - 1),
    'wrap': _wrap_index,
    'reflect': _reflect_index,
    'symmetric': _symmetric_index,
}


def _pad_axis(a, axis, lo, hi, mode):
    n = a.shape[axis]
    if n == 0:
        raise ValueError(f"jnp.pad mode={mode!r} cannot pad an empty axis (axis {axis}).")
    # Every output position reads one input position: a static gather.
    src = _PAD_SOURCES[mode](np.arange(-lo, n + hi), n).astype(np.int32)
    return take(a, Array(src), axis=axis, mode='clip')


def flip(m, axis=None):
    """m with the order of elements reversed along `axis` (all axes for None)."""
    m = asarray(m)
    axes = canon_axes(axis, m.ndim)
    return lax.rev(m, axes) if axes else m


def fliplr(m):
    return flip(m, 1)


def flipud(m):
    return flip(m, 0)


def roll(a, shift, axis=None):
    """Elements shifted (cyclically) by `shift` along `axis` (the flat array for None)."""
    a = asarray(a)
    if axis is None:
        return reshape(roll(ravel(a), shift, 0), a.shape)
    shifts = (shift,) if isinstance(shift, (int, np.integer)) else tuple(shift)
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    shifts, axes = np.broadcast_arrays(np.asarray(shifts), np.asarray(axes))
    for s, ax in zip(shifts.ravel(), axes.ravel()):
        ax = canon_axis(int(ax), a.ndim)
        n = a.shape[ax]
        if n:
            s = int(s) % n
            a = concatenate([_slice_axis(a, ax, n - s, n), _slice_axis(a, ax, 0, n - s)], ax)
    return a


def rot90(m, k=1, axes=(0, 1)):
    """m rotated by 90 degrees k times, from the first of `axes` towards the second."""
    m = asarray(m)
    ax0, ax1 = (canon_axis(a, m.ndim) for a in axes)
    if ax0 == ax1:
        raise ValueError("rot90: the two axes must be different.")
    k %= 4
    if k == 0:
        return m
    if k == 2:
        return flip(m, (ax0, ax1))
    if k == 1:
        return swapaxes(flip(m, ax1), ax0, ax1)
    return flip(swapaxes(m, ax0, ax1), ax1)


def diff(a, n=1, axis=-1, prepend=None, append=None):
    """The n-th discrete difference a[i+1] - a[i] along `axis`."""
    a = asarray(a)
    axis = canon_axis(axis, a.ndim)
    parts = []
    for extra in (prepend, append):
        if extra is not None:
            extra = asarray(extra)
            if extra.ndim == 0:
                shape = list(a.shape)
                shape[axis] = 1
                extra = broadcast_to(extra, shape)
        parts.append(extra)
    a = concatenate([p for p in (parts[0], a, parts[1]) if p is not None], axis)
    for _ in range(n):
        m = a.shape[axis]
        hi, lo = _slice_axis(a, axis, 1, m), _slice_axis(a, axis, 0, m - 1)
        a = (hi != lo) if dtypes.is_bool(a.dtype) else hi - lo
    return a


# --- taking ---------------------------------------------------------------------------------

def fill_value_for(dtype):
    """The value JAX's `take(mode='fill')` (and `x.at[i].get(mode='fill')`) puts at
    out-of-bounds indices: nan, True, or the integer type's most negative (unsigned:
    largest) value."""
    if dtypes.is_float(dtype):
        return np.nan
    if dtypes.is_bool(dtype):
        return True
    info = np.iinfo(dtype)
    return info.max if dtype.kind == 'u' else info.min


def _bounded_indices(idx, n, mode):
    """(indices made valid for a clamping gather, mask of in-bounds positions or None)."""
    idx = asarray(idx)
    if not dtypes.is_int(idx.dtype):
        raise ValueError(f"take: indices must be integers, got dtype {idx.dtype.name}")
    idx = astype(idx, np.int32)
    if mode == 'wrap':
        return idx % builtins.max(n, 1), None
    if mode in ('clip', 'promise_in_bounds'):   # -1 clamps to 0 here, as in JAX
        return clip(idx, 0, n - 1), None
    if mode in (None, 'fill'):
        idx = where(idx < 0, idx + n, idx)   # Python-style negative indices
        return idx, (idx >= 0) & (idx < n)
    raise ValueError(f"take: mode must be one of None, 'fill', 'clip', 'wrap' or "
                     f"'promise_in_bounds', got {mode!r}")


def take(a, indices, axis=None, out=None, mode=None, unique_indices=False,
         indices_are_sorted=False, fill_value=None):
    """Elements of `a` at `indices` along `axis` (of the flattened array for None).

    Out-of-bounds indices follow `mode`: 'fill' (the default, as in JAX) gives
    `fill_value` (nan for floats, the smallest int, ...); 'clip' clamps them;
    'wrap' counts them modulo the axis length.

        >>> take(array([1., 2., 3.]), array([0, 2, 5]))
        Array([ 1.,  3., nan], dtype=float32)
    """
    if out is not None:
        raise ValueError("jnp.take does not support out=: arrays are immutable.")
    a = asarray(a)
    if axis is None:
        a, axis = ravel(a), 0
    axis = canon_axis(axis, a.ndim)
    idx, ok = _bounded_indices(indices, a.shape[axis], mode)
    result = a[(slice(None),) * axis + (idx,)]
    if ok is None:
        return result
    ok = reshape(ok, (1,) * axis + ok.shape + (1,) * (a.ndim - axis - 1))
    return where(ok, result, fill_value_for(a.dtype) if fill_value is None else fill_value)


def take_along_axis(arr, indices, axis, mode=None, fill_value=None):
    """arr[..., indices, ...] matched element by element along `axis` (the inverse
    of argsort: `take_along_axis(x, argsort(x, axis), axis)` is `sort(x, axis)`)."""
    arr, indices = asarray(arr), asarray(indices)
    if axis is None:
        return take(ravel(arr), ravel(indices), mode=mode, fill_value=fill_value)
    axis = canon_axis(axis, arr.ndim)
    if indices.ndim != arr.ndim:
        raise ValueError(f"take_along_axis: indices and arr must have the same number of "
                         f"dimensions, got {indices.shape} and {arr.shape}")
    idx, ok = _bounded_indices(indices, arr.shape[axis], mode)
    shape = [builtins.max(n, m) if i != axis else m
             for i, (n, m) in enumerate(zip(arr.shape, idx.shape))]
    grid = []
    for i in range(arr.ndim):
        if i == axis:
            grid.append(idx)
        else:   # every other axis indexes itself, broadcast against the indices
            iota = np.arange(arr.shape[i], dtype=np.int32).reshape([-1 if j == i else 1 for j in range(arr.ndim)])
            grid.append(Array(iota) if arr.shape[i] == shape[i] else Array(np.zeros((1,) * arr.ndim, np.int32)))
    result = arr[tuple(grid)]
    if ok is None:
        return result
    return where(ok, result, fill_value_for(arr.dtype) if fill_value is None else fill_value)


def meshgrid(*xi, copy=True, sparse=False, indexing='xy'):
    """Coordinate grids from 1-d arrays ('xy': the first two outputs are swapped
    to Cartesian order; 'ij': matrix order)."""
    if indexing not in ('xy', 'ij'):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    xi = [asarray(x) for x in xi]
    if builtins.any(x.ndim != 1 for x in xi):
        raise ValueError(f"meshgrid needs 1-d arrays, got shapes {[x.shape for x in xi]}")
    shape = [x.shape[0] for x in xi]
    if indexing == 'xy' and len(xi) > 1:
        shape[0], shape[1] = shape[1], shape[0]
    out = []
    for i, x in enumerate(xi):
        axis = {0: 1, 1: 0}.get(i, i) if indexing == 'xy' and len(xi) > 1 else i
        view = [1] * len(xi)
        view[axis] = x.shape[0]
        x = reshape(x, view)
        out.append(x if sparse else broadcast_to(x, shape))
    return out
