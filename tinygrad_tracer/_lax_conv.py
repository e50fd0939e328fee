"""Convolution and window reductions: `conv_general_dilated`, `reduce_window`.

A convolution slides a kernel over the spatial axes of its input. In XLA's
general form (which `lax.conv_general_dilated` exposes, and the gradients
need) both operands may be dilated, the input is padded, and the features
may be split into groups:

    out[n, o, y] = sum_{i, k} lhs'[n, g(o)*I + i, y*stride + k] * rhs'[o, i, k]

where lhs' is lhs with `lhs_dilation - 1` zeros between elements and then
`padding` added, and rhs' is the kernel with `rhs_dilation - 1` zeros between
taps. `dimension_numbers` says which axis of each operand is the batch (N),
feature (C / I / O) and spatial one, e.g. ('NHWC', 'HWIO', 'NHWC'), the
layout Flax uses. The NumPy implementation below cuts the input into
patches (im2col) and multiplies them with the kernel as one matrix product.

The rules live with the other rules: the JVP in jvp.py (conv is bilinear),
the transposes in transpose.py (the two gradient convolutions), the batching
rule in batching.py. Like JAX's `lax`, this module knows no transformation.
"""
from typing import NamedTuple

import numpy as np

from . import _lax_elementwise as elementwise
from . import dtypes
from .core import ShapedArray, bind
from ._lax_elementwise import def_primitive

__all__ = ['ConvDimensionNumbers', 'conv_dimension_numbers', 'padtype_to_pads',
           'conv_general_dilated', 'conv_general_dilated_p', 'conv_vjp_lhs_padding',
           'conv_vjp_rhs_padding', 'dilate_shape', 'reduce_window', 'reduce_window_sum',
           'reduce_window_max', 'reduce_window_min', 'reduce_window_sum_p', 'reduce_window_max_p',
           'reduce_window_min_p']


class ConvDimensionNumbers(NamedTuple):
    """Axis indices: lhs (batch, feature, *spatial), rhs (out feature, in feature,
    *spatial), out (batch, feature, *spatial); the spatial axes in the same order."""
    lhs_spec: tuple
    rhs_spec: tuple
    out_spec: tuple


def conv_dimension_numbers(lhs_ndim, dimension_numbers):
    """From None (NC..., OI..., NC...), a ConvDimensionNumbers, or three layout
    strings like ('NHWC', 'HWIO', 'NHWC')."""
    if dimension_numbers is None:
        spec = tuple(range(lhs_ndim))
        return ConvDimensionNumbers(spec, spec, spec)
    if isinstance(dimension_numbers, ConvDimensionNumbers):
        return dimension_numbers
    lhs, rhs, out = dimension_numbers
    if not isinstance(lhs, str):
        return ConvDimensionNumbers(tuple(lhs), tuple(rhs), tuple(out))
    spatial = [c for c in rhs if c not in 'OI']
    if sorted(lhs) != sorted('NC' + ''.join(spatial)) or sorted(out) != sorted(lhs):
        raise TypeError(f"conv: inconsistent dimension_numbers {dimension_numbers}")
    return ConvDimensionNumbers(
        (lhs.index('N'), lhs.index('C')) + tuple(lhs.index(c) for c in spatial),
        (rhs.index('O'), rhs.index('I')) + tuple(rhs.index(c) for c in spatial),
        (out.index('N'), out.index('C')) + tuple(out.index(c) for c in spatial))


def dilate_shape(shape, dilation):
    """Sizes after putting dilation - 1 zeros between neighbours."""
    return tuple(0 if s == 0 else 1 + d * (s - 1) for s, d in zip(shape, dilation))


def padtype_to_pads(in_shape, window_shape, strides, padding):
    """'VALID' (no padding), 'SAME' (output size ceil(in / stride), padding split
    low-first), or explicit (low, high) pairs."""
    if not isinstance(padding, str):
        return tuple((int(lo), int(hi)) for lo, hi in padding)
    if padding.upper() == 'VALID':
        return ((0, 0),) * len(in_shape)
    if padding.upper() in ('SAME', 'SAME_LOWER'):
        pads = []
        for n, k, s in zip(in_shape, window_shape, strides):
            total = max(0, (-(-n // s) - 1) * s + k - n)
            low = total // 2 if padding.upper() == 'SAME' else -(-total // 2)
            pads.append((low, total - low))
        return tuple(pads)
    raise ValueError(f"unknown padding {padding!r}: use 'SAME', 'VALID' or (low, high) pairs")


# --- the NumPy implementation ------------------------------------------------------------

def _dilate_and_pad(x, dilation, padding, value=0):
    """x (leading axes kept, last len(dilation) axes spatial) with zeros between
    elements and (low, high) padding; negative padding crops."""
    lead = x.ndim - len(dilation)
    spread_shape = x.shape[:lead] + dilate_shape(x.shape[lead:], dilation)
    spread = np.full(spread_shape, value, x.dtype)
    spread[(slice(None),) * lead + tuple(slice(None, None, d) for d in dilation)] = x
    crop = tuple(slice(max(-lo, 0), n - max(-hi, 0)) for n, (lo, hi) in zip(spread.shape[lead:], padding))
    spread = spread[(slice(None),) * lead + crop]
    widths = [(0, 0)] * lead + [(max(lo, 0), max(hi, 0)) for lo, hi in padding]
    return np.pad(spread, widths, constant_values=value)


def _conv_shape(lhs_shape, rhs_shape, window_strides, padding, lhs_dilation, rhs_dilation, dn,
                feature_group_count):
    """The output shape, in out_spec's layout."""
    n, c = lhs_shape[dn.lhs_spec[0]], lhs_shape[dn.lhs_spec[1]]
    o, i = rhs_shape[dn.rhs_spec[0]], rhs_shape[dn.rhs_spec[1]]
    if c != i * feature_group_count or o % feature_group_count:
        raise TypeError(f"conv: {c} input features, kernel expects {i} x {feature_group_count} groups "
                        f"and {o} outputs (must divide by the groups)")
    in_sizes = dilate_shape([lhs_shape[d] for d in dn.lhs_spec[2:]], lhs_dilation)
    k_sizes = dilate_shape([rhs_shape[d] for d in dn.rhs_spec[2:]], rhs_dilation)
    spatial = [max(0, (m + lo + hi - k) // s + 1) if m + lo + hi >= k else 0
               for m, k, s, (lo, hi) in zip(in_sizes, k_sizes, window_strides, padding)]
    shape = [0] * len(lhs_shape)
    for axis, size in zip(dn.out_spec, [n, o] + spatial):
        shape[axis] = size
    return tuple(shape)


def _conv_aval(lhs, rhs, *, window_strides, padding, lhs_dilation, rhs_dilation,
               dimension_numbers, feature_group_count):
    if lhs.dtype != rhs.dtype or not dtypes.is_float(lhs.dtype):
        raise TypeError(f"conv_general_dilated needs two float operands of one dtype, got "
                        f"{lhs.dtype} and {rhs.dtype}")
    return ShapedArray(_conv_shape(lhs.shape, rhs.shape, window_strides, padding, lhs_dilation,
                                   rhs_dilation, dimension_numbers, feature_group_count), lhs.dtype)


def _conv_impl(lhs, rhs, *, window_strides, padding, lhs_dilation, rhs_dilation,
               dimension_numbers, feature_group_count):
    dn, groups = dimension_numbers, feature_group_count
    x = np.transpose(lhs, dn.lhs_spec)          # (N, C, *spatial)
    w = np.transpose(rhs, dn.rhs_spec)          # (O, I, *kernel)
    w = _dilate_and_pad(w, rhs_dilation, [(0, 0)] * len(rhs_dilation))
    x = _dilate_and_pad(x, lhs_dilation, padding)
    n, c = x.shape[:2]
    o, i, *k = w.shape
    out_spatial = [(m - kk) // s + 1 for m, kk, s in zip(x.shape[2:], k, window_strides)]
    # im2col: every window as a row of C*prod(k) values, strided by window_strides
    windows = np.lib.stride_tricks.sliding_window_view(x, k, axis=tuple(range(2, x.ndim)))
    windows = windows[(slice(None), slice(None)) + tuple(slice(None, s * (m - 1) + 1, s)
                                                         for s, m in zip(window_strides, out_spatial))]
    p = int(np.prod(out_spatial))
    kk = int(np.prod(k))
    # (N, G, I, *out, *k) -> (G, N * out, I * k)
    windows = windows.reshape((n, groups, i, p, kk)).transpose(1, 0, 3, 2, 4).reshape(groups, n * p, i * kk)
    kernel = w.reshape(groups, o // groups, i * kk)
    out = np.matmul(windows, kernel.transpose(0, 2, 1))          # (G, N * out, O / G)
    out = out.reshape(groups, n, p, o // groups).transpose(1, 0, 3, 2).reshape([n, o] + out_spatial)
    return np.transpose(out, np.argsort(dn.out_spec)).astype(lhs.dtype)


conv_general_dilated_p = def_primitive(
    'conv_general_dilated', _conv_impl, _conv_aval,
    "a convolution with strides, padding, input and kernel dilation, and feature groups")


def conv_vjp_lhs_padding(in_shape, window_dimensions, window_strides, out_shape, padding,
                         lhs_dilation, rhs_dilation):
    """The padding of the convolution that carries the output cotangent back to lhs."""
    lhs_d = np.array(dilate_shape(in_shape, lhs_dilation))
    rhs_d = np.array(dilate_shape(window_dimensions, rhs_dilation))
    out_d = np.array(dilate_shape(out_shape, window_strides))
    before = rhs_d - np.array([lo for lo, _ in padding]) - 1
    after = lhs_d + rhs_d - 1 - out_d - before
    return tuple(zip(before.tolist(), after.tolist()))


def conv_vjp_rhs_padding(in_shape, window_dimensions, window_strides, out_shape, padding,
                         lhs_dilation, rhs_dilation):
    """The padding of the convolution of lhs with the output cotangent that gives rhs's."""
    lhs_d = np.array(dilate_shape(in_shape, lhs_dilation))
    rhs_d = np.array(dilate_shape(window_dimensions, rhs_dilation))
    out_d = np.array(dilate_shape(out_shape, window_strides))
    lows = np.array([lo for lo, _ in padding])
    highs = (out_d - lhs_d) + (rhs_d - lows - 1)
    return tuple(zip(lows.tolist(), highs.tolist()))


def conv_general_dilated(lhs, rhs, window_strides, padding, lhs_dilation=None, rhs_dilation=None,
                         dimension_numbers=None, feature_group_count=1, batch_group_count=1,
                         precision=None, preferred_element_type=None):
    """The general convolution (see the module docstring); `padding` is 'SAME',
    'VALID' or (low, high) per spatial axis."""
    if batch_group_count != 1:
        raise NotImplementedError("conv_general_dilated: batch_group_count > 1 is not implemented")
    lhs_shape, rhs_shape = np.shape(lhs), np.shape(rhs)
    dn = conv_dimension_numbers(len(lhs_shape), dimension_numbers)
    n = len(lhs_shape) - 2
    lhs_dilation = tuple(lhs_dilation or (1,) * n)
    rhs_dilation = tuple(rhs_dilation or (1,) * n)
    window_strides = tuple(window_strides)
    if isinstance(padding, str):
        in_sizes = dilate_shape([lhs_shape[d] for d in dn.lhs_spec[2:]], lhs_dilation)
        k_sizes = dilate_shape([rhs_shape[d] for d in dn.rhs_spec[2:]], rhs_dilation)
        padding = padtype_to_pads(in_sizes, k_sizes, window_strides, padding)
    return bind(conv_general_dilated_p, lhs, rhs, window_strides=window_strides,
                padding=tuple(tuple(p) for p in padding), lhs_dilation=lhs_dilation,
                rhs_dilation=rhs_dilation, dimension_numbers=dn,
                feature_group_count=feature_group_count)


# --- window reductions -----------------------------------------------------------------------

def _window_aval(x, *, window_dimensions, window_strides, padding):
    if not (len(window_dimensions) == len(window_strides) == len(padding) == x.ndim):
        raise TypeError(f"reduce_window: window {window_dimensions}, strides {window_strides} and "
                        f"padding {padding} need one entry per axis of shape {x.shape}")
    shape = [(n + lo + hi - k) // s + 1 for n, k, s, (lo, hi) in
             zip(x.shape, window_dimensions, window_strides, padding)]
    if any(s < 0 for s in shape):
        raise TypeError(f"reduce_window: window {window_dimensions} larger than the padded {x.shape}")
    return ShapedArray(shape, x.dtype, x.weak_type)


def _window_reduction(name, np_reduce, identity):
    def impl(x, *, window_dimensions, window_strides, padding):
        fill = identity(x.dtype)
        x = _dilate_and_pad(x, (1,) * x.ndim, padding, fill)
        windows = np.lib.stride_tricks.sliding_window_view(x, window_dimensions)
        windows = windows[tuple(slice(None, None, s) for s in window_strides)]
        out_shape = _window_aval(ShapedArray(x.shape, x.dtype), window_dimensions=window_dimensions,
                                 window_strides=window_strides, padding=((0, 0),) * x.ndim).shape
        windows = windows[tuple(slice(0, m) for m in out_shape)]
        return np_reduce(windows, axis=tuple(range(x.ndim, 2 * x.ndim))).astype(x.dtype)
    return def_primitive(name, impl, _window_aval, f"{name.split('_')[-1]} over each window")


def _lowest(dtype):
    return -np.inf if np.issubdtype(dtype, np.floating) else np.iinfo(dtype).min


def _highest(dtype):
    return np.inf if np.issubdtype(dtype, np.floating) else np.iinfo(dtype).max


reduce_window_sum_p = _window_reduction('reduce_window_sum', np.sum, lambda dtype: 0)
reduce_window_max_p = _window_reduction('reduce_window_max', np.max, _lowest)
reduce_window_min_p = _window_reduction('reduce_window_min', np.min, _highest)


def _window_params(x, window_dimensions, window_strides, padding):
    window_strides = tuple(window_strides or (1,) * len(window_dimensions))
    return dict(window_dimensions=tuple(window_dimensions), window_strides=window_strides,
                padding=padtype_to_pads(np.shape(x), window_dimensions, window_strides, padding))


def reduce_window_sum(operand, window_dimensions, window_strides=None, padding='VALID'):
    return bind(reduce_window_sum_p, operand, **_window_params(operand, window_dimensions,
                                                              window_strides, padding))


def reduce_window_max(operand, window_dimensions, window_strides=None, padding='VALID'):
    return bind(reduce_window_max_p, operand, **_window_params(operand, window_dimensions,
                                                              window_strides, padding))


def reduce_window_min(operand, window_dimensions, window_strides=None, padding='VALID'):
    return bind(reduce_window_min_p, operand, **_window_params(operand, window_dimensions,
                                                              window_strides, padding))


def reduce_window(operand, init_value, computation, window_dimensions, window_strides=None,
                  padding='VALID'):
    """Reduce each window with `computation` (lax.add, lax.max or lax.min), starting
    from `init_value`; padding cells hold the computation's identity."""
    reducers = {elementwise.add: (reduce_window_sum, lambda dtype: 0),
                elementwise.max: (reduce_window_max, _lowest),
                elementwise.min: (reduce_window_min, _highest)}
    if computation not in reducers:
        raise NotImplementedError("reduce_window: computation must be lax.add, lax.max or lax.min")
    reduce, identity = reducers[computation]
    out = reduce(operand, window_dimensions, window_strides, padding)
    init = np.asarray(init_value)   # a concrete number, as the seeds pass
    if init == identity(out.dtype):
        return out
    return computation(out, elementwise.convert_element_type(np.full(out.shape, init), out.dtype))
