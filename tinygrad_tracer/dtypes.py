"""JAX's dtype rules: 32-bit defaults, weak Python scalars, the promotion lattice.

With x64 disabled (the default, as in JAX) float64 becomes float32 and int64
becomes int32. A Python scalar is *weakly typed*: it takes the dtype of the
array it meets, so `arange(3) + 1.5` is float32 and `ones(3, int8) * 2` stays
int8.

    >>> result_type(np.int32, 1.5)
    dtype('float32')

bfloat16 and the float8 types come from `ml_dtypes`, whose import costs more
than the rest of the package together, so it is imported the first time one of
them is named (`dtypes.bfloat16`, `jnp.bfloat16`, the string 'bfloat16') or an
array of one arrives. Until then no array can have such a dtype.
"""
import numpy as np

from .settings import config

bool_ = np.dtype(np.bool_)
int8, int16, int32, int64 = (np.dtype(t) for t in (np.int8, np.int16, np.int32, np.int64))
uint8, uint16, uint32, uint64 = (np.dtype(t) for t in (np.uint8, np.uint16, np.uint32, np.uint64))
float16, float32, float64 = (np.dtype(t) for t in (np.float16, np.float32, np.float64))

# Every dtype an array can have, with the short name jaxprs print (bfloat16 joins
# when ml_dtypes is loaded).
_SHORT = {bool_: 'bool', int8: 'i8', int16: 'i16', int32: 'i32', int64: 'i64',
          uint8: 'u8', uint16: 'u16', uint32: 'u32', uint64: 'u64',
          float16: 'f16', float32: 'f32', float64: 'f64'}

# The dtypes ml_dtypes provides that we name. float8 types have a name (and finfo)
# but arrays cannot have them: canonicalize_dtype says so.
ML_DTYPE_NAMES = ('bfloat16', 'float8_e4m3fn', 'float8_e5m2')


def load_ml_dtypes():
    """Import ml_dtypes once, and make its dtypes module attributes (bfloat16 computable)."""
    import ml_dtypes
    if 'bfloat16' not in globals():
        globals().update({name: np.dtype(getattr(ml_dtypes, name)) for name in ML_DTYPE_NAMES})
        _SHORT[globals()['bfloat16']] = 'bf16'
        _FROM_SHORT['bf16'] = globals()['bfloat16']
    return ml_dtypes


def __getattr__(name):
    """`dtypes.bfloat16` (and the float8 names) import ml_dtypes on first use."""
    if name in ML_DTYPE_NAMES:
        load_ml_dtypes()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def as_dtype(dtype):
    """np.dtype(dtype), also for the ml_dtypes names before ml_dtypes is loaded.

        >>> as_dtype('bfloat16')
        dtype(bfloat16)
    """
    if isinstance(dtype, str) and dtype in ML_DTYPE_NAMES:
        return __getattr__(dtype)
    dtype = np.dtype(dtype)
    if dtype.kind == 'V' and dtype.name in ML_DTYPE_NAMES:   # made by a user's own ml_dtypes
        load_ml_dtypes()
    return dtype


def is_bfloat16(dtype):
    """Is this bfloat16? (Compares names, so a float32 never loads ml_dtypes.)"""
    return as_dtype(dtype).name == 'bfloat16'

# The tangent dtype of integer and boolean values (they cannot be perturbed), as in JAX.
float0 = np.dtype([('float0', np.void, 0)])


def short_name(dtype):
    """'f32' for float32, as jaxprs print dtypes."""
    dtype = as_dtype(dtype)
    return 'float0' if dtype == float0 else _SHORT.get(dtype, str(dtype))


def canonicalize_dtype(dtype):
    """The dtype JAX actually uses: 64-bit types shrink to 32 bits unless x64 is on.
    A dtype we cannot compute with (complex, float8, object, ...) raises here, rather
    than becoming another dtype or failing later inside an operation."""
    try:   # the common case, a dtype already seen: one dict lookup (every new Array asks)
        return _CANONICAL[config.jax_enable_x64][dtype]
    except (KeyError, TypeError):   # TypeError: an unhashable argument
        pass
    dtype = as_dtype(dtype)
    if dtype == float0:
        raise TypeError("float0 (the tangent dtype of integer and bool values) has no data to "
                        "compute with: float0 arrays are NumPy arrays of zeros, not Arrays. "
                        "Use np.zeros(shape, float0) where a float0 value is needed, and "
                        "leave it out of arithmetic.")
    if dtype not in _SHORT:
        raise TypeError(f"tinygrad_tracer does not support dtype {dtype.name}: arrays can be "
                        "bool, int8 to int64, uint8 to uint64, float16, bfloat16, float32 or "
                        "float64. Pick one of these (convert data of another dtype first, "
                        "e.g. np.asarray(data, np.float32)).")
    x64 = config.jax_enable_x64
    canon = dtype if x64 else {int64: int32, uint64: uint32, float64: float32}.get(dtype, dtype)
    _CANONICAL[x64][dtype] = canon
    return canon


# canonicalize_dtype's answers, by x64 setting, keyed by np.dtype objects only.
_CANONICAL = {False: {}, True: {}}


def default_float():
    return float64 if config.jax_enable_x64 else float32


def default_int():
    return int64 if config.jax_enable_x64 else int32


def is_float(dtype):
    return np.dtype(dtype).kind == 'f' or is_bfloat16(dtype)   # bfloat16's kind is 'V'


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
    key = (tuple(dtypes_and_weak), config.jax_enable_x64)
    out = _PROMOTED.get(key)
    if out is None:   # each combination is joined once: eager ops promote on every call
        out = _PROMOTED[key] = _promote(key[0])
    return out


_PROMOTED = {}


def _promote(dtypes_and_weak):
    if any(d == float0 for d, _ in dtypes_and_weak):
        raise TypeError("an operation got a float0 value (the tangent of an integer or bool "
                        "value): float0 values carry no data, so nothing computes with them. "
                        "Leave them out of arithmetic; np.zeros(shape, dtype) makes real zeros "
                        "of the shape if you need some.")
    if all(w for _, w in dtypes_and_weak):
        # All weak (as JAX): join their own dtypes, and stay weak. Two weak float16
        # arrays stay float16; a Python float meets them as the default float.
        return _promote([(d, False) for d, _ in dtypes_and_weak])[0], True
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
    weak = getattr(x, 'weak_type', None)   # an Array or a tracer (without making an aval)
    if weak is not None:
        return x.dtype, weak
    aval = getattr(x, 'aval', None)
    if aval is not None:
        return aval.dtype, aval.weak_type
    if isinstance(x, (list, tuple)):   # np.result_type would read a list as a dtype spec
        x = np.asarray(x)
    dtype = np.result_type(x)
    if dtype == float0:   # a tangent of an int or bool value: a type, not one to compute with
        return float0, False
    return canonicalize_dtype(dtype), False


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
