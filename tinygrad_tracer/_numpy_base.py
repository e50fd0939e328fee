"""jax.numpy, the base: what an array is, making arrays, promotion, broadcasting.

Every other part of the numpy surface stands on these. A function there turns
its inputs into arrays (`asarray`), promotes them to one dtype with JAX's
rules (`promote`: Python scalars stay weakly typed), broadcasts them to one
shape (`broadcast`) and binds a lax primitive. The names in `__all__` are
jax.numpy's (re-exported by `tinygrad_tracer.numpy`); the others are the
helpers the parts share.
"""
import abc
import operator

import numpy as np

from . import dtypes, lax
from .array import Array
from .core import Tracer
from .device_array import place
from .dtypes import canonicalize_dtype, result_type

__all__ = ['pi', 'e', 'inf', 'nan', 'euler_gamma', 'newaxis', 'ndarray', 'asarray', 'array',
           'astype', 'broadcast_shapes', 'broadcast_to', 'broadcast_arrays']

pi, e, inf, nan, euler_gamma = np.pi, np.e, np.inf, np.nan, np.euler_gamma
newaxis = None
PY_SCALARS = (bool, int, float)


class ndarray(abc.ABC):
    """`isinstance(x, jnp.ndarray)` is True for Arrays and for traced values,
    as in JAX (use `tinygrad_tracer.Array` to ask for a concrete array)."""


ndarray.register(Array)
ndarray.register(Tracer)


# --- turning things into arrays -------------------------------------------------

ARRAY_TYPES = (Array, Tracer)


def is_array(x):
    """Is `x` an Array or a traced value (not a Python scalar, list or NumPy array)?"""
    return isinstance(x, ARRAY_TYPES)


def asarray(a, dtype=None, order=None, *, copy=None, device=None):
    """An Array from an array, a scalar or a (nested) list; arrays pass through.

        >>> asarray([1, 2])
        Array([1, 2], dtype=int32)
    """
    if device is not None:   # made as without it, then committed there (as device_put does)
        return place(asarray(a, dtype, order, copy=copy), device)
    if is_array(a):
        return a if dtype is None else astype(a, dtype)
    if isinstance(a, (list, tuple)) and any(is_array(v) or isinstance(v, (list, tuple)) for v in a):
        parts = [asarray(v) for v in a]
        dtype = dtype or result_type(*_nested_leaves(a))   # JAX's promotion, not NumPy's
        # traced elements, or elements committed to a device: stack with lax (where they are)
        if any(isinstance(p, Tracer) or p.committed for p in parts):
            parts = [astype(p, dtype) for p in parts]
            shapes = {p.shape for p in parts}
            if len(shapes) > 1:
                raise ValueError(f"All input arrays must have the same shape, got {sorted(shapes)}.")
            return lax.concatenate([lax.expand_dims(p, (0,)) for p in parts], 0)
        a = [np.asarray(p) for p in parts]
    if dtype is not None:
        return Array(np.asarray(a, canonicalize_dtype(dtype)))
    if isinstance(a, PY_SCALARS):
        dt, weak = dtypes.dtype_of(a)   # jnp.asarray(1.0) stays weakly typed, as in JAX
        return Array(np.asarray(a, dt), weak)
    val = np.asarray(a)
    # ml_dtypes' types have kind 'V' too: Array() accepts bfloat16 and says why not float8
    if val.dtype == object or val.dtype.kind in 'USVc' and val.dtype.name not in dtypes.ML_DTYPE_NAMES:
        raise TypeError(f"Cannot make an array from {type(a).__name__} {a!r}: use numbers, "
                        "arrays or (nested) lists of them (complex numbers and strings are "
                        "not supported).")
    return Array(val)


def check_arraylike(name, *args):
    """Refuse a list or tuple where `name` takes an array, as JAX does.

    NumPy converts `[1, 2, 3]` silently; JAX refuses it in its functions (all
    but `array`, `asarray` and the few that take sequences of arrays, like
    `stack`), because under `jit` each element of a list is a separate traced
    value, and a list where an array was meant is often a mistake::

        >>> sum([1, 2, 3])
        Traceback (most recent call last):
        TypeError: jnp.sum requires arrays or scalars, but argument 0 is a list: ...
    """
    for i, a in enumerate(args):
        if isinstance(a, (list, tuple)):
            raise TypeError(f"jnp.{name} requires arrays or scalars, but argument {i} is a "
                            f"{type(a).__name__}: convert it first, jnp.{name}(jnp.asarray(...)).")


def _nested_leaves(a):
    """The scalars and arrays inside nested lists (Python scalars stay weak)."""
    if isinstance(a, (list, tuple)):
        return [leaf for v in a for leaf in _nested_leaves(v)]
    return [a]


def array(object, dtype=None, copy=True, order='K', ndmin=0, *, device=None):
    """A new Array (see `asarray`); `ndmin` adds leading axes of size 1."""
    out = asarray(object, dtype, device=device)
    if out.ndim < ndmin:
        out = lax.reshape(out, (1,) * (ndmin - out.ndim) + out.shape)
    return out


def astype(x, dtype, /, *, copy=False, device=None):
    """x converted to `dtype` (as `x.astype(dtype)`)."""
    if device is not None:
        return place(astype(x, dtype, copy=copy), device)
    x = x if is_array(x) else asarray(x)
    return lax.convert_element_type(x, canonicalize_dtype(dtype))


def weak_scalar(x, dtype):
    """The Python scalar `x` as a weakly typed 0-d Array of `dtype`."""
    return Array(np.asarray(x, dtype), True)


def shape_tuple(shape, allow_minus_one=False):
    """`shape` (an int or a sequence of them) as a tuple of Python ints, with the
    error JAX gives for a shape that depends on traced values."""
    if isinstance(shape, (int, np.integer)) or (is_array(shape) and shape.ndim == 0):
        shape = (shape,)
    try:
        out = tuple(operator.index(s) for s in shape)
    except TypeError as e:
        raise TypeError(f"Shapes must be sequences of Python ints; got {shape!r}. Under jit, "
                        "a shape may not depend on traced values: pass it as a static "
                        "argument (jit(f, static_argnums=...)).") from e
    if any(s < 0 and not (allow_minus_one and s == -1) for s in out):
        raise ValueError(f"negative dimensions are not allowed: {out}")
    return out


# --- promotion -------------------------------------------------------------------

def promote(*args):
    """Promote arguments to one dtype with JAX's rules; Python scalars stay weak."""
    dt = getattr(args[0], 'dtype', None)
    if all(type(a) is Array and a.dtype == dt and not a.weak_type for a in args) and \
            dt == canonicalize_dtype(dt):
        return list(args)   # the eager common case: arrays of one strong dtype already
    args = [a if type(a) in PY_SCALARS or isinstance(a, ARRAY_TYPES) else asarray(a) for a in args]
    dt, weak = dtypes.promote([dtypes.dtype_of(a) for a in args])
    out = []
    for a in args:
        if type(a) in PY_SCALARS:   # (np.float64 is a float subclass, but not weak)
            out.append(weak_scalar(a, dt) if weak else asarray(a, dt))
        else:
            out.append(lax.convert_element_type(a, dt, weak) if (a.dtype, a.weak_type) != (dt, weak) else a)
    return out


def promote_numeric(*args):
    """Like `promote`, but booleans become integers (for -, //, %, ** and shifts)."""
    args = promote(*args)
    if dtypes.is_bool(args[0].dtype):
        args = [lax.convert_element_type(a, dtypes.default_int()) for a in args]
    return args


# --- broadcasting ----------------------------------------------------------------

def broadcast_shapes(*shapes):
    """The shape NumPy broadcasting gives; a clear error when there is none."""
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        raise ValueError(f"Incompatible shapes for broadcasting: shapes={[tuple(s) for s in shapes]}. "
                         "Each axis, aligned from the right, must be equal or 1.") from None


def broadcast_to(array, shape):
    """`array` repeated along new leading axes and along its axes of size 1."""
    x = asarray(array)
    shape = shape_tuple(shape)
    if x.shape == shape:
        return x
    if len(shape) < x.ndim or broadcast_shapes(x.shape, shape) != shape:
        raise ValueError(f"Cannot broadcast array of shape {x.shape} to shape {shape}: "
                         "aligned from the right, each axis must be equal or 1.")
    return _expand(x, shape)


def _expand(x, shape):
    """x broadcast to `shape`, a tuple of ints known to be a broadcast of x's shape."""
    lead = len(shape) - x.ndim
    squeezed = [i for i, n in enumerate(x.shape) if n == 1 and shape[lead + i] != 1]
    if squeezed:
        x = lax.reshape(x, [n for i, n in enumerate(x.shape) if i not in squeezed])
    dims = [lead + i for i in range(len(shape) - lead) if i not in squeezed]
    return lax.broadcast_in_dim(x, shape, dims)


def broadcast_arrays(*args):
    """All arguments broadcast to their common shape."""
    args = [asarray(a) for a in args]
    shape = broadcast_shapes(*(a.shape for a in args))
    return [a if a.shape == shape else _expand(a, shape) for a in args]


def broadcast(*args, rank0=False):
    """The operands of an operation, broadcast to one shape. Two operands of the same
    rank that do not broadcast raise TypeError, as in JAX (which hands them to lax
    unchanged, whose shape check fails); other mismatches raise ValueError.
    With `rank0` (the operands of one lax elementwise primitive), rank-0 operands
    beside operands of one shape stay rank 0: the primitive spreads them, and the
    jaxpr reads `mul a 3.0:f32[]`, as JAX's does."""
    if rank0 and len({a.shape for a in args if a.ndim}) <= 1:
        return list(args)
    shape = args[0].shape
    if all(a.shape == shape for a in args):   # the common case: nothing to broadcast
        return args
    if len(args) == 2 and args[0].ndim == args[1].ndim:
        try:
            return broadcast_arrays(*args)
        except ValueError as e:
            raise TypeError(str(e)) from None
    return broadcast_arrays(*args)


# --- axes ------------------------------------------------------------------------

def canon_axis(axis, nd, name='axis'):
    """`axis` of an array of rank `nd` as a non-negative int (an error names it if out of range)."""
    axis = operator.index(axis)
    if not -nd <= axis < max(nd, 1):
        raise ValueError(f"{name} {axis} is out of bounds for array of dimension {nd}")
    return axis % max(nd, 1)


def canon_axes(axis, nd):
    """A sorted tuple of non-negative axes (all of them for None); repeats are an error."""
    if axis is None:
        return tuple(range(nd))
    axes = [canon_axis(a, nd) for a in ((axis,) if isinstance(axis, (int, np.integer)) else axis)]
    if len(set(axes)) != len(axes):
        raise ValueError(f"repeated axis in {axis!r}")
    return tuple(sorted(axes))
