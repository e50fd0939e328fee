"""`jax.numpy` on top of lax: NumPy semantics, JAX dtypes, immutable arrays.

Every function here does the NumPy part (turn inputs into arrays, promote
dtypes with JAX's rules, broadcast shapes) and then calls a lax primitive.
That is why `jnp.sin(x) * 2` shows up in a jaxpr as `sin` then `mul`.

    >>> import tinygrad_tracer.numpy as jnp
    >>> jnp.arange(3) + 1.5
    Array([1.5, 2.5, 3.5], dtype=float32)

The surface is split over a few files, all re-exported here:
  numpy.py            arrays from data, promotion, broadcasting, shapes, creation,
                      dtypes as functions
  _numpy_elementwise.py  elementwise math, where, clip
  _numpy_arrange.py   joining, splitting, tiling, padding, flipping, take, meshgrid
  _numpy_reduce.py    reductions, cumulative ops, sorting and searching, comparisons
  _numpy_linalg.py    dot, matmul, tensordot, einsum, diagonals, `jnp.linalg.norm`
  _indexing.py        `x[idx]`, `x.at[idx]`, and the operators of Array and Tracer
"""
import abc
import builtins
import operator

import numpy as np

from . import dtypes, lax
from .array import Array, check_device
from .core import Tracer, get_aval
from .dtypes import (bool_, int8, int16, int32, int64, uint8, uint16, uint32, uint64,
                     float16, float32, float64, bfloat16, result_type, canonicalize_dtype)

pi, e, inf, nan, euler_gamma = np.pi, np.e, np.inf, np.nan, np.euler_gamma
newaxis = None
_PY_SCALARS = (builtins.bool, int, float)


class ndarray(abc.ABC):
    """`isinstance(x, jnp.ndarray)` is True for Arrays and for traced values,
    as in JAX (use `tinygrad_tracer.Array` to ask for a concrete array)."""


ndarray.register(Array)
ndarray.register(Tracer)


# --- turning things into arrays -------------------------------------------------

def _is_array(x):
    return isinstance(x, (Array, Tracer))


def asarray(a, dtype=None, order=None, *, copy=None, device=None):
    """An Array from an array, a scalar or a (nested) list; arrays pass through.

        >>> asarray([1, 2])
        Array([1, 2], dtype=int32)
    """
    check_device(device)
    if _is_array(a):
        return a if dtype is None else astype(a, dtype)
    if isinstance(a, (list, tuple)) and builtins.any(_is_array(v) or isinstance(v, (list, tuple)) for v in a):
        parts = [asarray(v) for v in a]
        dtype = dtype or result_type(*_nested_leaves(a))   # JAX's promotion, not NumPy's
        if builtins.any(isinstance(p, Tracer) for p in parts):   # traced elements: build with lax
            return stack([astype(p, dtype) for p in parts])
        a = [np.asarray(p) for p in parts]
    if dtype is not None:
        return Array(np.asarray(a, canonicalize_dtype(dtype)))
    if isinstance(a, _PY_SCALARS):
        dt, weak = dtypes.dtype_of(a)   # jnp.asarray(1.0) stays weakly typed, as in JAX
        return Array(np.asarray(a, dt), weak)
    val = np.asarray(a)
    if val.dtype == object or val.dtype.kind in 'USVc':
        raise TypeError(f"Cannot make an array from {type(a).__name__} {a!r}: use numbers, "
                        "arrays or (nested) lists of them (complex numbers and strings are "
                        "not supported).")
    return Array(val)


def _nested_leaves(a):
    """The scalars and arrays inside nested lists (Python scalars stay weak)."""
    if isinstance(a, (list, tuple)):
        return [leaf for v in a for leaf in _nested_leaves(v)]
    return [a]


def array(object, dtype=None, copy=True, order='K', ndmin=0, *, device=None):
    """A new Array (see `asarray`); `ndmin` adds leading axes of size 1."""
    out = asarray(object, dtype, device=device)
    if out.ndim < ndmin:
        out = reshape(out, (1,) * (ndmin - out.ndim) + out.shape)
    return out


def _weak_scalar(x, dtype):
    return Array(np.asarray(x, dtype), True)


def _promote(*args):
    """Promote arguments to one dtype with JAX's rules; Python scalars stay weak."""
    args = [a if type(a) in _PY_SCALARS or _is_array(a) else asarray(a) for a in args]
    dt, weak = dtypes.promote([dtypes.dtype_of(a) for a in args])
    out = []
    for a in args:
        if type(a) in _PY_SCALARS:   # (np.float64 is a float subclass, but not weak)
            out.append(_weak_scalar(a, dt) if weak else asarray(a, dt))
        else:
            out.append(lax.convert_element_type(a, dt, weak) if (a.dtype, a.weak_type) != (dt, weak) else a)
    return out


def _promote_numeric(*args):
    """Like `_promote`, but booleans become integers (for -, //, %, ** and shifts)."""
    args = _promote(*args)
    if dtypes.is_bool(args[0].dtype):
        args = [lax.convert_element_type(a, dtypes.default_int()) for a in args]
    return args


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
    shape = _shape_tuple(shape)
    if x.shape == shape:
        return x
    if len(shape) < x.ndim or broadcast_shapes(x.shape, shape) != shape:
        raise ValueError(f"Cannot broadcast array of shape {x.shape} to shape {shape}: "
                         "aligned from the right, each axis must be equal or 1.")
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
    return [broadcast_to(a, shape) for a in args]


def _broadcast(*args):
    """The operands of an operation, broadcast to one shape. Two operands of the same
    rank that do not broadcast raise TypeError, as in JAX (which hands them to lax
    unchanged, whose shape check fails); other mismatches raise ValueError."""
    if len(args) == 2 and args[0].ndim == args[1].ndim:
        try:
            return broadcast_arrays(*args)
        except ValueError as e:
            raise TypeError(str(e)) from None
    return broadcast_arrays(*args)


def astype(x, dtype, /, *, copy=False, device=None):
    """x converted to `dtype` (as `x.astype(dtype)`)."""
    check_device(device)
    x = x if _is_array(x) else asarray(x)
    return lax.convert_element_type(x, canonicalize_dtype(dtype))


# --- shape and size ----------------------------------------------------------------

def shape(a):
    return tuple(get_aval(a).shape) if _is_array(a) else np.shape(a)


def ndim(a):
    return len(shape(a))


def size(a, axis=None):
    s = shape(a)
    return int(np.prod(s)) if axis is None else s[axis]


def isscalar(element):
    """True for Python and NumPy scalars and 0-d arrays."""
    return np.isscalar(element) or (_is_array(element) and element.ndim == 0)


def iscomplexobj(x):
    return False


def _canon_axis(axis, nd, name='axis'):
    axis = operator.index(axis)
    if not -nd <= axis < builtins.max(nd, 1):
        raise ValueError(f"{name} {axis} is out of bounds for array of dimension {nd}")
    return axis % builtins.max(nd, 1)


def _axes(axis, nd):
    """A sorted tuple of non-negative axes (all of them for None); repeats are an error."""
    if axis is None:
        return tuple(range(nd))
    axes = [_canon_axis(a, nd) for a in ((axis,) if isinstance(axis, (int, np.integer)) else axis)]
    if len(set(axes)) != len(axes):
        raise ValueError(f"repeated axis in {axis!r}")
    return tuple(sorted(axes))


def reshape(a, shape=None, order='C', *, newshape=None, copy=None):
    """Same elements in a new shape; one entry may be -1.

        >>> reshape(arange(6), (2, -1))
        Array([[0, 1, 2],
               [3, 4, 5]], dtype=int32)
    """
    shape = newshape if shape is None else shape
    a = asarray(a)
    if order == 'F':   # column-major: reverse the axes on both sides
        return transpose(reshape(transpose(a), _shape_tuple(shape, allow_minus_one=True)[::-1]))
    if order != 'C':
        raise ValueError(f"reshape: order must be 'C' or 'F', got {order!r}")
    new = list(_shape_tuple(shape, allow_minus_one=True))
    if new.count(-1) > 1:
        raise ValueError("can only specify one unknown dimension (-1) in reshape")
    if -1 in new:
        known = int(np.prod([n for n in new if n != -1]))
        if known == 0 or a.size % known:
            raise TypeError(f"cannot reshape array of shape {a.shape} (size {a.size}) into "
                            f"shape {tuple(new)}")
        new[new.index(-1)] = a.size // known
    return lax.reshape(a, new)


def ravel(a, order='C'):
    return reshape(a, (-1,), order)


def transpose(a, axes=None):
    """The axes of `a` permuted (reversed when `axes` is None)."""
    a = asarray(a)
    if axes is None:
        return lax.transpose(a, tuple(range(a.ndim))[::-1])
    perm = tuple(_canon_axis(i, a.ndim) for i in axes)
    if sorted(perm) != list(range(a.ndim)):
        raise ValueError(f"axes {tuple(axes)} is not a permutation of the {a.ndim} axes of {a.shape}")
    return lax.transpose(a, perm)


permute_dims = transpose


def matrix_transpose(x, /):
    """Swap the last two axes."""
    x = asarray(x)
    if x.ndim < 2:
        raise ValueError(f"matrix_transpose needs at least 2 dimensions, got shape {x.shape}")
    return swapaxes(x, -1, -2)


def swapaxes(a, axis1, axis2):
    a = asarray(a)
    perm = list(range(a.ndim))
    i, j = _canon_axis(axis1, a.ndim), _canon_axis(axis2, a.ndim)
    perm[i], perm[j] = perm[j], perm[i]
    return lax.transpose(a, perm)


def moveaxis(a, source, destination):
    """`a` with the axes `source` moved to positions `destination`."""
    a = asarray(a)
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    if len(src) != len(dst):
        raise ValueError("moveaxis: source and destination must have the same number of elements")
    src = [_canon_axis(s, a.ndim) for s in src]
    dst = [_canon_axis(d, a.ndim) for d in dst]
    perm = [i for i in range(a.ndim) if i not in src]
    for d, s in sorted(zip(dst, src)):
        perm.insert(d, s)
    return lax.transpose(a, perm)


def expand_dims(a, axis):
    a = asarray(a)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    return lax.expand_dims(a, _axes(axes, a.ndim + len(axes)))


def squeeze(a, axis=None):
    """`a` without its axes of size 1 (or only those in `axis`)."""
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


def atleast_1d(*arys):
    out = [reshape(x, (1,)) if ndim(x) == 0 else asarray(x) for x in arys]
    return out[0] if len(out) == 1 else out


def atleast_2d(*arys):
    out = [reshape(x, (1,) * (2 - ndim(x)) + shape(x)) if ndim(x) < 2 else asarray(x) for x in arys]
    return out[0] if len(out) == 1 else out


def atleast_3d(*arys):
    def one(x):
        x = asarray(x)
        return {0: lambda: reshape(x, (1, 1, 1)), 1: lambda: reshape(x, (1, -1, 1)),
                2: lambda: expand_dims(x, -1)}.get(x.ndim, lambda: x)()
    out = [one(x) for x in arys]
    return out[0] if len(out) == 1 else out


# --- creation -------------------------------------------------------------------------

def _shape_tuple(shape, allow_minus_one=False):
    if isinstance(shape, (int, np.integer)) or (_is_array(shape) and shape.ndim == 0):
        shape = (shape,)
    try:
        out = tuple(operator.index(s) for s in shape)
    except TypeError as e:
        raise TypeError(f"Shapes must be sequences of Python ints; got {shape!r}. Under jit, "
                        "a shape may not depend on traced values: pass it as a static "
                        "argument (jit(f, static_argnums=...)).") from e
    if builtins.any(s < 0 and not (allow_minus_one and s == -1) for s in out):
        raise ValueError(f"negative dimensions are not allowed: {out}")
    return out


def full(shape, fill_value, dtype=None, *, device=None):
    """An array of `shape` filled with `fill_value` (weakly typed for a Python scalar).

        >>> full((2,), 7)
        Array([7, 7], dtype=int32, weak_type=True)
    """
    check_device(device)
    shape = _shape_tuple(shape)
    fill = asarray(fill_value)
    if dtype is not None:
        fill = astype(fill, dtype)
    if isinstance(fill, Tracer):
        return broadcast_to(fill, shape)
    return Array(np.broadcast_to(np.asarray(fill), shape).copy(), fill.weak_type)


def zeros(shape, dtype=None, *, device=None):
    return full(shape, 0, dtype or dtypes.default_float(), device=device)


def ones(shape, dtype=None, *, device=None):
    return full(shape, 1, dtype or dtypes.default_float(), device=device)


def empty(shape, dtype=None, *, device=None):
    """Zeros: arrays are immutable, so there is nothing to leave uninitialized."""
    return zeros(shape, dtype, device=device)


def _like(a, dtype, shape_):
    """(shape, dtype, weak_type) of a `*_like` result."""
    aval_dt, weak = dtypes.dtype_of(a) if _is_array(a) or isinstance(a, _PY_SCALARS) else (result_type(a), False)
    return (np.shape(a) if shape_ is None and not _is_array(a) else a.shape if shape_ is None else shape_,
            aval_dt if dtype is None else canonicalize_dtype(dtype), weak and dtype is None)


def full_like(a, fill_value, dtype=None, shape=None, *, device=None):
    """An array like `a` (shape and dtype) filled with `fill_value`."""
    check_device(device)
    shape_, dt, weak = _like(a, dtype, shape)
    out = full(shape_, fill_value, dt)
    return lax.convert_element_type(out, dt, weak) if out.weak_type != weak else out


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
    check_device(device)
    for v in (start, stop, step):
        if isinstance(v, Tracer):
            v.aval.to_scalar(v, int)   # raises the concretization error under jit
    start, stop, step = (v.item() if isinstance(v, Array) else v for v in (start, stop, step))
    if stop is None:
        start, stop = 0, start
    step = 1 if step is None else step
    if dtype is None:
        dtype = result_type(start, stop, step)
    return Array(np.arange(start, stop, step, dtype=canonicalize_dtype(dtype)))


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, *, device=None):
    """`num` evenly spaced values from start to stop.

    As in JAX, value i is start * (1 - t) + stop * t with t = i / (num - 1) in
    float32, so the end points are exact (and the digits match JAX's).
    """
    check_device(device)
    num = operator.index(num)
    if num < 0:
        raise ValueError(f"Number of samples, {num}, must be non-negative.")
    start, stop = asarray(start), asarray(stop)
    dt = canonicalize_dtype(dtype) if dtype is not None else result_type(start, stop, 1.0)
    cdt = dt if dtypes.is_float(dt) else dtypes.default_float()
    start, stop = _broadcast(astype(start, cdt), astype(stop, cdt))
    div = num - 1 if endpoint else num
    if num > 1:
        step = true_divide(stop - start, Array(np.asarray(div, cdt)))
        t = true_divide(lax.broadcasted_iota(cdt, (div,) + start.shape, 0), Array(np.asarray(div, cdt)))
        out = start * (1 - t) + stop * t
        if endpoint:
            out = concatenate([out, expand_dims(stop, 0)])
    else:
        step = full((), np.nan, cdt) if endpoint or num == 0 else stop - start
        out = broadcast_to(start, (num,) + start.shape)
    out = moveaxis(out, 0, axis)
    if dtypes.is_int(dt):
        out = floor(out)
    out = astype(out, dt)
    return (out, step) if retstep else out


def logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    """base ** linspace(start, stop)."""
    exponents = linspace(start, stop, num, endpoint, axis=axis)
    out = power(astype(asarray(base), exponents.dtype), exponents)
    return out if dtype is None else astype(out, dtype)


def eye(N, M=None, k=0, dtype=None, *, device=None):
    """A 2-d array with ones on the k-th diagonal."""
    check_device(device)
    return Array(np.eye(N, M, k, dtype=canonicalize_dtype(dtype or dtypes.default_float())))


def identity(n, dtype=None):
    return eye(n, dtype=dtype)


def tri(N, M=None, k=0, dtype=None):
    """Ones at and below the k-th diagonal."""
    return Array(np.tri(N, M, k, dtype=canonicalize_dtype(dtype or dtypes.default_float())))


def tril(m, k=0):
    """`m` with the entries above the k-th diagonal zeroed (on the last two axes)."""
    m = asarray(m)
    return where(Array(np.tri(m.shape[-2], m.shape[-1], k, dtype=bool)), m, zeros_like(m))


def triu(m, k=0):
    """`m` with the entries below the k-th diagonal zeroed (on the last two axes)."""
    m = asarray(m)
    return where(Array(np.tri(m.shape[-2], m.shape[-1], k - 1, dtype=bool)), zeros_like(m), m)


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


# --- dtypes as functions -------------------------------------------------------------

class _ScalarType:
    """`jnp.float32(1.0)` makes an array; `jnp.float32` also works wherever a dtype does.

        >>> float32(-1)
        Array(-1., dtype=float32)
    """

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
                 'uint64', 'float16', 'bfloat16', 'float32', 'float64'):
        g[name] = _ScalarType(g[name])


_install_scalar_types()
bool = bool_
float_, int_, uint = float64, int64, uint64   # canonicalized (to 32 bits) when used
dtype = np.dtype
integer, floating, number, signedinteger, unsignedinteger, inexact, generic = (
    np.integer, np.floating, np.number, np.signedinteger, np.unsignedinteger, np.inexact, np.generic)
iinfo = np.iinfo
can_cast = np.can_cast


def finfo(dtype):
    return np.finfo(np.dtype(dtype))


def issubdtype(arg1, arg2):
    if np.dtype(arg1) == bfloat16:   # ml_dtypes' bfloat16 is a float to us, not to NumPy
        return arg2 in (np.floating, np.inexact, np.number, np.generic) or np.dtype(arg2) == bfloat16
    return np.issubdtype(np.dtype(arg1), arg2)


def promote_types(a, b):
    """The dtype JAX promotes a and b to (with x64 off: at most 32 bits)."""
    return dtypes.promote([(np.dtype(a), False), (np.dtype(b), False)])[0]


# The rest of the surface, and the operators (which use everything above).
from ._numpy_elementwise import *  # noqa: E402,F401,F403
from ._numpy_arrange import *  # noqa: E402,F401,F403
from ._numpy_reduce import *   # noqa: E402,F401,F403
from ._numpy_linalg import *   # noqa: E402,F401,F403
from . import _indexing        # noqa: E402,F401
