"""JAX's dtype rules: 32-bit defaults, weak Python scalars, the promotion lattice.

With x64 disabled (the default, as in JAX) float64 becomes float32 and int64
becomes int32. A Python scalar is *weakly typed*: it takes the dtype of the
array it meets, so `arange(3) + 1.5` is float32 and `ones(3, int8) * 2` stays
int8.

    >>> result_type(np.int32, 1.5)
    dtype('float32')
"""
import ml_dtypes   # bfloat16 (a required dependency, as for JAX)
import numpy as np

from .settings import config

bool_ = np.dtype(np.bool_)
int8, int16, int32, int64 = (np.dtype(t) for t in (np.int8, np.int16, np.int32, np.int64))
uint8, uint16, uint32, uint64 = (np.dtype(t) for t in (np.uint8, np.uint16, np.uint32, np.uint64))
float16, float32, float64 = (np.dtype(t) for t in (np.float16, np.float32, np.float64))
bfloat16 = np.dtype(ml_dtypes.bfloat16)

# Every dtype an array can have, with the short name jaxprs print.
_SHORT = {bool_: 'bool', int8: 'i8', int16: 'i16', int32: 'i32', int64: 'i64',
          uint8: 'u8', uint16: 'u16', uint32: 'u32', uint64: 'u64',
          float16: 'f16', bfloat16: 'bf16', float32: 'f32', float64: 'f64'}

# The tangent dtype of integer and boolean values (they cannot be perturbed), as in JAX.
float0 = np.dtype([('float0', np.void, 0)])


def short_name(dtype):
    """'f32' for float32, as jaxprs print dtypes."""
    return _SHORT.get(np.dtype(dtype), str(np.dtype(dtype)))


def canonicalize_dtype(dtype):
    """The dtype JAX actually uses: 64-bit types shrink to 32 bits unless x64 is on.
    A dtype we cannot compute with (complex, float8, object, ...) raises here, rather
    than becoming another dtype or failing later inside an operation."""
    dtype = np.dtype(dtype)
    if dtype not in _SHORT:
        raise TypeError(f"tinygrad_tracer does not support dtype {dtype.name}: arrays can be "
                        "bool, int8 to int64, uint8 to uint64, float16, bfloat16, float32 or "
                        "float64. Pick one of these (convert data of another dtype first, "
                        "e.g. np.asarray(data, np.float32)).")
    if config.jax_enable_x64:
        return dtype
    return {int64: int32, uint64: uint32, float64: float32}.get(dtype, dtype)


def default_float():
    return float64 if config.jax_enable_x64 else float32


def default_int():
    return int64 if config.jax_enable_x64 else int32


def is_float(dtype):
    return np.dtype(dtype).kind == 'f' or np.dtype(dtype) == bfloat16   # bfloat16's kind is 'V'


def is_int(dtype):
    return np.dtype(dtype).kind in 'iu'


def is_bool(dtype):
    return np.dtype(dtype) == bool_


# --- promotion -------------------------------------------------------------
# The lattice of JAX's type promotion (the JAX docs draw it as a graph). The
# weak kinds 'i*' and 'f*' stand for Python ints and floats: they sit below
# every concrete int (resp. float) type so that a scalar never widens an array.
_LATTICE = {
    'bool': ['i*'],
    'i*': ['u8', 'i8'],
    'u8': ['u16', 'i16'], 'u16': ['u32', 'i32'], 'u32': ['u64', 'i64'], 'u64': ['f*'],
    'i8': ['i16'], 'i16': ['i32'], 'i32': ['i64'], 'i64': ['f*'],
    'f*': ['bf16', 'f16'], 'bf16': ['f32'], 'f16': ['f32'], 'f32': ['f64'], 'f64': [],
}


def _upper_bounds():
    ub = {}
    def visit(n):
        if n not in ub:
            ub[n] = {n}.union(*[visit(m) for m in _LATTICE[n]])
        return ub[n]
    for n in _LATTICE:
        visit(n)
    return ub


_UB = _upper_bounds()
_FROM_SHORT = {v: k for k, v in _SHORT.items()}


def _node(dtype, weak):
    if weak:
        if is_float(dtype):
            return 'f*'
        if is_int(dtype):
            return 'i*'
    return short_name(dtype)


def _join(nodes):
    common = set.intersection(*(_UB[n] for n in nodes))
    # The least upper bound is the one whose own bounds contain all the others.
    return next(n for n in common if _UB[n] >= common)


def promote(dtypes_and_weak):
    """Join (dtype, weak_type) pairs; returns (dtype, weak_type) of the result."""
    node = _join([_node(d, w) for d, w in dtypes_and_weak])
    if node == 'f*':
        return default_float(), True
    if node == 'i*':
        return default_int(), True
    return canonicalize_dtype(_FROM_SHORT[node]), False


def dtype_of(x):
    """(dtype, weak_type) of an array-like or Python scalar."""
    if type(x) is bool:
        return bool_, False
    if type(x) is int:
        return default_int(), True
    if type(x) is float:   # np.float64 subclasses float but is not weakly typed
        return default_float(), True
    if isinstance(x, complex):
        raise TypeError("tinygrad_tracer does not support complex numbers.")
    aval = getattr(x, 'aval', None)
    if aval is not None:
        return aval.dtype, aval.weak_type
    if isinstance(x, (list, tuple)):   # np.result_type would read a list as a dtype spec
        x = np.asarray(x)
    return canonicalize_dtype(np.result_type(x)), False


def result_type(*args):
    """The dtype NumPy-style functions promote their arguments to (ignoring weakness).

        >>> result_type(np.arange(3, dtype=np.int32), 1.5)
        dtype('float32')
    """
    return promote([_dtype_or_scalar(a) for a in args])[0]


def _dtype_or_scalar(a):
    if isinstance(a, (np.dtype, type)) and not isinstance(a, (bool, int, float)):
        return canonicalize_dtype(a), False
    if isinstance(a, str):
        return canonicalize_dtype(a), False
    return dtype_of(a)
