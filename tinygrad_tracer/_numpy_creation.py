"""jax.numpy, part 2: making arrays. Filled arrays (`zeros`, `full_like`, ...),
ranges (`arange`, `linspace`), identity matrices and index grids; arrays from
data are in the base (`asarray`). Re-exported by `tinygrad_tracer.numpy`.
"""
import builtins
import math
import operator

import numpy as np

from . import dtypes, lax, xla_math
from ._numpy_base import (PY_SCALARS, asarray, astype, broadcast, broadcast_to, is_array,
                          shape_tuple)
from ._numpy_shape import moveaxis
from .array import Array
from .core import Tracer
from .device_array import place
from .dtypes import canonicalize_dtype, result_type

__all__ = ['full', 'zeros', 'ones', 'empty', 'full_like', 'zeros_like', 'ones_like', 'empty_like',
           'arange', 'linspace', 'logspace', 'eye', 'identity', 'tri', 'tril_indices',
           'triu_indices', 'diag_indices', 'indices']


def full(shape, fill_value, dtype=None, *, device=None):
    """An array of `shape` filled with `fill_value` (weakly typed for a Python scalar).

        >>> full((2,), 7)
        Array([7, 7], dtype=int32, weak_type=True)
    """
    shape = shape_tuple(shape)
    fill = asarray(fill_value)
    if dtype is not None and isinstance(fill, Tracer):
        fill = astype(fill, dtype)
    elif dtype is not None:   # a known value converts now: JAX prints `1.0:f32[]`, no convert
        fill = lax.convert_element_type_p.impl(fill, new_dtype=canonicalize_dtype(dtype), weak_type=False)
    # Broadcast even a known value: under make_jaxpr this records
    # `broadcast_in_dim 1.0:f32[]`, as JAX does (not an array constant).
    return place(broadcast_to(fill, shape), device)


def zeros(shape, dtype=None, *, device=None):
    return full(shape, 0, dtype or dtypes.default_float(), device=device)


def ones(shape, dtype=None, *, device=None):
    return full(shape, 1, dtype or dtypes.default_float(), device=device)


def empty(shape, dtype=None, *, device=None):
    """Zeros: arrays are immutable, so there is nothing to leave uninitialized."""
    return zeros(shape, dtype, device=device)


def _like(a, dtype, shape_):
    """(shape, dtype, weak_type) of a `*_like` result."""
    aval_dt, weak = dtypes.dtype_of(a) if is_array(a) or isinstance(a, PY_SCALARS) else (result_type(a), False)
    return (np.shape(a) if shape_ is None and not is_array(a) else a.shape if shape_ is None else shape_,
            aval_dt if dtype is None else canonicalize_dtype(dtype), weak and dtype is None)


def full_like(a, fill_value, dtype=None, shape=None, *, device=None):
    """An array like `a` (shape and dtype) filled with `fill_value`."""
    if device is None and isinstance(a, Array) and a.committed:
        device = a.device   # as in JAX: like a committed array, on its device
    shape_, dt, weak = _like(a, dtype, shape)
    out = full(shape_, fill_value, dt)
    return place(lax.convert_element_type(out, dt, weak) if out.weak_type != weak else out, device)


def zeros_like(a, dtype=None, shape=None, *, device=None):
    return full_like(a, 0, dtype, shape, device=device)


def ones_like(a, dtype=None, shape=None, *, device=None):
    return full_like(a, 1, dtype, shape, device=device)


def empty_like(a, dtype=None, shape=None, *, device=None):
    return zeros_like(a, dtype, shape, device=device)


def arange(start, stop=None, step=None, dtype=None, *, device=None):
    """Evenly spaced values in [start, stop). The bounds must be concrete.

        >>> arange(1, 7, 2)
        Array([1, 3, 5], dtype=int32)
    """
    if device is not None:   # made on the CPU, then committed where asked
        return place(arange(start, stop, step, dtype), device)
    for v in (start, stop, step):
        if isinstance(v, Tracer):
            v.aval.to_scalar(v, int)   # raises the concretization error under jit
    start, stop, step = (v.item() if isinstance(v, Array) else v for v in (start, stop, step))
    if stop is None:
        start, stop = 0, start
    dtype = canonicalize_dtype(dtype or result_type(start, stop, *([] if step is None else [step])))
    # Built from lax.iota, as JAX does: a jaxpr shows `iota`, and the digits are JAX's.
    known = lambda v, dt: Array(np.asarray(v, dt))
    if step is None and start == 0:
        return lax.iota(dtype, builtins.max(0, math.ceil(stop)))
    if step is None:
        return lax.add(known(start, dtype), lax.iota(dtype, builtins.max(0, math.ceil(stop - start))))
    # float16 and bfloat16 count in float32, then round once
    work = np.dtype(np.float32) if dtypes.is_float(dtype) and dtype.itemsize < 4 else dtype
    size = builtins.max(0, math.ceil((stop - start) / step))
    out = lax.add(known(start, work), lax.mul(known(step, work), lax.iota(work, size)))
    return lax.convert_element_type(out, dtype)


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, *, device=None):
    """`num` evenly spaced values from start to stop.

    As in JAX, value i is start * (1 - t) + stop * t with t = i / (num - 1) in
    float32, so the end points are exact; between concrete scalar bounds the
    digits are those of XLA's fused loop (`_linspace_as_xla`), as JAX prints them.

        >>> linspace(0, 10, 1000)[3].item()   # 0.030030030757188797 op by op
        0.030030028894543648
    """
    if device is not None:
        return place(linspace(start, stop, num, endpoint, retstep, dtype, axis), device)
    num = operator.index(num)
    if num < 0:
        raise ValueError(f"Number of samples, {num}, must be non-negative.")
    start, stop = asarray(start), asarray(stop)
    dt = canonicalize_dtype(dtype) if dtype is not None else result_type(start, stop, 1.0)
    cdt = dt if dtypes.is_float(dt) else dtypes.default_float()
    start, stop = broadcast(astype(start, cdt), astype(stop, cdt))
    div = num - 1 if endpoint else num
    if num > 1:   # (`/` is jnp.true_divide: it rounds as JAX's division does)
        step = (stop - start) / Array(np.asarray(div, cdt))
        if endpoint and cdt == np.float32 and start.ndim == 0 and not isinstance(start, Tracer) \
                and not isinstance(stop, Tracer):
            out = Array(_linspace_as_xla(np.asarray(start), np.asarray(stop), div))
        else:
            t = lax.broadcasted_iota(cdt, (div,) + start.shape, 0) / Array(np.asarray(div, cdt))
            out = start * (1 - t) + stop * t
        if endpoint:
            out = lax.concatenate([out, lax.expand_dims(stop, (0,))], 0)
    else:
        step = full((), np.nan, cdt) if endpoint or num == 0 else stop - start
        out = broadcast_to(start, (num,) + start.shape)
    out = moveaxis(out, 0, axis)
    if dtypes.is_int(dt):
        out = lax.floor(out)
    out = astype(out, dt)
    return (out, step) if retstep else out


def _linspace_as_xla(start, stop, div):
    """The first `div` float32 values of linspace between scalars, as XLA:CPU computes them.

    JAX compiles linspace into one fused loop, whose last digits differ from the
    formula evaluated op by op. Measured against JAX 0.10.2: XLA divides by
    multiplying with r = 1 / div, rewrites stop * (i * r) as i * (stop * r) and
    contracts that with the add into a fused multiply-add,
    fma(i, stop * r, start * (1 - i * r)). That is every digit for start 0 (the
    common case) and for most ranges tried; for some other starts XLA's kernel
    still differs by an ulp in a few values (e.g. 21 of linspace(0.5, 3.3, 500)),
    and without the end point (no concatenate after it) or with array bounds
    XLA fuses otherwise (then the formula op by op is JAX's result).
    """
    i = np.arange(div, dtype=np.float32)
    r = np.float32(1) / np.float32(div)
    return xla_math.fma(i, stop * r, start * (np.float32(1) - i * r))


def logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    """base ** linspace(start, stop)."""
    exponents = linspace(start, stop, num, endpoint, axis=axis)
    out = astype(asarray(base), exponents.dtype) ** exponents
    return out if dtype is None else astype(out, dtype)


def eye(N, M=None, k=0, dtype=None, *, device=None):
    """A 2-d array with ones on the k-th diagonal."""
    return place(Array(np.eye(N, M, k, dtype=canonicalize_dtype(dtype or dtypes.default_float()))),
                 device)


def identity(n, dtype=None):
    return eye(n, dtype=dtype)


def tri(N, M=None, k=0, dtype=None):
    """Ones at and below the k-th diagonal."""
    return Array(np.tri(N, M, k, dtype=canonicalize_dtype(dtype or dtypes.default_float())))


def _index_arrays(np_arrays):
    return tuple(Array(np.asarray(i, dtypes.default_int())) for i in np_arrays)


def tril_indices(n, k=0, m=None):
    return _index_arrays(np.tril_indices(n, k, m))


def triu_indices(n, k=0, m=None):
    return _index_arrays(np.triu_indices(n, k, m))


def diag_indices(n, ndim=2):
    return _index_arrays(np.diag_indices(n, ndim))


def indices(dimensions, dtype=None, sparse=False):
    """Index grids: out[i] varies along axis i (see numpy.indices)."""
    out = np.indices(tuple(dimensions), dtype=canonicalize_dtype(dtype or dtypes.default_int()), sparse=sparse)
    return tuple(Array(o) for o in out) if sparse else Array(out)
