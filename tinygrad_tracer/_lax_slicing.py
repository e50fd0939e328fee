"""The slicing primitives: static and dynamic windows, gather and scatter.

What `x[1:3]`, `x[i]` and `x.at[idx].add(v)` lower to (see `_indexing`).
Like JAX's `lax.slicing`, these sit on the elementwise primitives; `lax`
re-exports them.
"""
import builtins   # `slice` below is lax.slice; the impls use Python's

import numpy as np

from . import _lax_xla, dtypes
from ._lax_elementwise import add, convert_element_type, def_primitive, lt, select
from .array import Array
from .core import ShapedArray, bind, get_aval


# --- windows ---------------------------------------------------------------------

def _slice_aval(x, start_indices, limit_indices, strides=None):
    strides = strides or (1,) * x.ndim
    if len(start_indices) != x.ndim or any(
            not 0 <= s <= l <= n for s, l, n in zip(start_indices, limit_indices, x.shape)):
        raise TypeError(f"slice: start {start_indices} / limit {limit_indices} out of bounds "
                        f"for shape {x.shape}")
    shape = [-(-(l - s) // st) for s, l, st in zip(start_indices, limit_indices, strides)]
    return ShapedArray(shape, x.dtype, x.weak_type)


slice_p = def_primitive(
    'slice', lambda x, start_indices, limit_indices, strides=None: x[tuple(
        builtins.slice(s, l, st) for s, l, st in zip(start_indices, limit_indices, strides or (1,) * x.ndim))],
    _slice_aval, "a static strided window")


def _dynamic_slice(x, *starts, slice_sizes):
    starts = _lax_xla.clamp_starts(starts, slice_sizes, x.shape)
    return x[tuple(builtins.slice(s, s + k) for s, k in zip(starts, slice_sizes))]


def _check_starts(name, x, starts):
    if len(starts) != x.ndim or any(s.shape != () or not dtypes.is_int(s.dtype) for s in starts):
        raise TypeError(f"{name} needs one scalar integer start index per axis of shape {x.shape}")


def _dynamic_slice_aval(x, *starts, slice_sizes):
    _check_starts('dynamic_slice', x, starts)
    if any(not 0 <= k <= n for k, n in zip(slice_sizes, x.shape)):
        raise TypeError(f"dynamic_slice: slice_sizes {slice_sizes} do not fit shape {x.shape}")
    return ShapedArray(slice_sizes, x.dtype, x.weak_type)


dynamic_slice_p = def_primitive('dynamic_slice', _dynamic_slice, _dynamic_slice_aval,
                                "a window at traced start indices (clamped into bounds)")


def _dynamic_update_slice(x, update, *starts):
    starts = _lax_xla.clamp_starts(starts, update.shape, x.shape)
    out = x.copy()
    out[tuple(builtins.slice(s, s + k) for s, k in zip(starts, update.shape))] = update
    return out


def _dynamic_update_slice_aval(x, update, *starts):
    _check_starts('dynamic_update_slice', x, starts)
    if update.ndim != x.ndim or any(k > n for k, n in zip(update.shape, x.shape)) or update.dtype != x.dtype:
        raise TypeError(f"dynamic_update_slice: update {update.str_short()} does not fit "
                        f"operand {x.str_short()}")
    return ShapedArray(x.shape, x.dtype, x.weak_type)


dynamic_update_slice_p = def_primitive(
    'dynamic_update_slice', _dynamic_update_slice, _dynamic_update_slice_aval,
    "overwrite a window at traced start indices (clamped into bounds)")


# --- gather and scatter ------------------------------------------------------------
# Our gather and scatter are a readable special case of XLA's: `indices` has
# shape (*batch, k) and picks one element along each of the k operand axes
# `axes`; every other axis is kept whole. The result has shape
# batch + (the operand's shape without `axes`). NumPy's integer-array indexing
# (`x[idx]`, `x[:, i, j]`) lowers to this.

def _gather_parts(x_shape, idx_shape, axes):
    if idx_shape[-1:] != (len(axes),):
        raise TypeError(f"gather/scatter: indices shape {idx_shape} must end in len(axes)={len(axes)}")
    rest = [n for i, n in enumerate(x_shape) if i not in axes]
    return list(idx_shape[:-1]) + rest


def _index_tuple(x_shape, idx, axes, clamp):
    idx = idx.astype(np.int64)
    index = [builtins.slice(None)] * len(x_shape)
    batch = idx.shape[:-1]
    nb, nrest = len(batch), len(x_shape) - len(axes)
    for j, a in enumerate(axes):
        i = idx[..., j]
        i = np.clip(i, 0, x_shape[a] - 1) if clamp else i
        index[a] = i.reshape(i.shape + (1,) * nrest)   # broadcast against the kept axes
    # NumPy puts the broadcast index dims first when index arrays are separated by
    # slices; make the kept axes explicit aranges so the layout is always batch + rest.
    k = 0
    for a in range(len(x_shape)):
        if a not in axes:
            shape = [1] * (nb + nrest)
            shape[nb + k] = x_shape[a]
            index[a] = np.arange(x_shape[a]).reshape(shape)
            k += 1
    return tuple(index), batch


def _gather(x, idx, axes):
    index, _ = _index_tuple(x.shape, idx, axes, clamp=True)
    return x[index]


def _gather_aval(x, idx, axes):
    if not dtypes.is_int(idx.dtype):
        raise TypeError(f"gather indices must be integers, got {idx.dtype.name}")
    return ShapedArray(_gather_parts(x.shape, idx.shape, axes), x.dtype, x.weak_type)


gather_p = def_primitive('gather', _gather, _gather_aval,
                         "x at integer indices along `axes` (out-of-bounds indices clamp)")


def _scatter_impl(combine):
    def impl(x, idx, updates, axes):
        out = x.copy()
        index, batch = _index_tuple(x.shape, idx, axes, clamp=False)
        inb = np.all((idx >= 0) & (idx < np.array([x.shape[a] for a in axes])), axis=-1)
        inb = inb.reshape(inb.shape + (1,) * (x.ndim - len(axes)))
        # Out-of-bounds updates are dropped: point them at a scratch row of the result.
        full = np.broadcast_shapes(*[np.shape(i) for i in index])
        keep = np.broadcast_to(inb, full)
        sel = tuple(np.broadcast_to(i, full)[keep] for i in index)
        combine(out, sel, np.broadcast_to(updates, full)[keep])
        return out
    return impl


def _scatter_aval(x, idx, updates, axes):
    expected = _gather_parts(x.shape, idx.shape, axes)
    if list(updates.shape) != expected or updates.dtype != x.dtype:
        raise TypeError(f"scatter: updates {updates.str_short()} must have shape "
                        f"{tuple(expected)} and dtype {x.dtype.name}")
    return ShapedArray(x.shape, x.dtype, x.weak_type)


def _set(out, sel, upd):
    out[sel] = upd


scatter_p = def_primitive('scatter', _scatter_impl(_set), _scatter_aval,
                          "x with x[indices] = updates (out-of-bounds dropped)")
scatter_add_p = def_primitive('scatter-add', _scatter_impl(np.add.at), _scatter_aval,
                              "x with x[indices] += updates (repeats accumulate)")
scatter_mul_p = def_primitive('scatter-mul', _scatter_impl(np.multiply.at), _scatter_aval,
                              "x with x[indices] *= updates")
scatter_min_p = def_primitive('scatter-min', _scatter_impl(np.minimum.at), _scatter_aval,
                              "x with x[indices] = min(x[indices], updates)")
scatter_max_p = def_primitive('scatter-max', _scatter_impl(np.maximum.at), _scatter_aval,
                              "x with x[indices] = max(x[indices], updates)")


# --- wrappers, mirroring jax.lax ----------------------------------------------------

def slice(operand, start_indices, limit_indices, strides=None):
    """operand[start:limit:stride] along every axis, with static bounds."""
    return bind(slice_p, operand, start_indices=tuple(int(i) for i in start_indices),
                limit_indices=tuple(int(i) for i in limit_indices),
                strides=None if strides is None or all(s == 1 for s in strides)
                else tuple(int(s) for s in strides))


def _start_indices(indices, shape):
    """Start indices as scalars, negative ones counted from the end as in JAX (the
    primitives only clamp: a transform that rebinds them must not count twice)."""
    out = []
    for i, n in zip(indices, shape):
        if isinstance(i, (int, np.integer)):
            out.append(Array(np.asarray(i + n if i < 0 else i, dtypes.int32)))
        else:
            negative = lt(i, 0)
            # a weakly typed index is made strong for the sum (JAX's jaxpr shows the convert)
            out.append(select(negative, add(convert_element_type(i, get_aval(i).dtype), n), i))
    return out


def dynamic_slice(operand, start_indices, slice_sizes):
    """The window of `slice_sizes` at `start_indices` (negative ones count from the
    end; a window that would run off the array is moved back inside)."""
    starts = _start_indices(start_indices, get_aval(operand).shape)
    return bind(dynamic_slice_p, operand, *starts, slice_sizes=tuple(int(s) for s in slice_sizes))


def dynamic_update_slice(operand, update, start_indices):
    """operand with the window at `start_indices` replaced by `update` (starts as in
    dynamic_slice)."""
    starts = _start_indices(start_indices, get_aval(operand).shape)
    return bind(dynamic_update_slice_p, operand, update, *starts)


def gather(operand, indices, axes):
    """operand[indices[..., 0], indices[..., 1], ...] along `axes` (see the note above)."""
    return bind(gather_p, operand, indices, axes=tuple(int(a) for a in axes))


def _scatterer(prim):
    def scatter(operand, indices, updates, axes):
        return bind(prim, operand, indices, updates, axes=tuple(int(a) for a in axes))
    scatter.__doc__ = prim.__doc__
    return scatter


scatter, scatter_add, scatter_mul, scatter_min, scatter_max = map(
    _scatterer, (scatter_p, scatter_add_p, scatter_mul_p, scatter_min_p, scatter_max_p))
