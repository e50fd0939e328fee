"""jax.numpy, part 3: dtypes. `jnp.float32` is a dtype wherever one is
expected and makes an array when called (`jnp.float32(1)`); the dtype
questions (`finfo`, `issubdtype`, `promote_types`, `result_type`) answer with
JAX's rules. Re-exported by `tinygrad_tracer.numpy`.
"""
import functools

import numpy as np

from . import dtypes
from ._numpy_base import asarray, astype, is_array
from .dtypes import result_type

__all__ = ['bool_', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64',
           'float16', 'bfloat16', 'float8_e4m3fn', 'float8_e5m2', 'float32', 'float64', 'bool', 'float_', 'int_', 'uint', 'dtype',
           'integer', 'floating', 'number', 'signedinteger', 'unsignedinteger', 'inexact',
           'generic', 'iinfo', 'can_cast', 'finfo', 'issubdtype', 'promote_types', 'result_type']


class _ScalarType:
    """`jnp.float32(1.0)` makes an array; `jnp.float32` also works wherever a dtype does.

        >>> float32(-1)
        Array(-1., dtype=float32)
    """

    def __init__(self, np_type):
        # ml_dtypes' types are named, not made, here: they load on first use (see dtypes.py)
        self.__name__ = np_type if isinstance(np_type, str) else np.dtype(np_type).name

    @functools.cached_property
    def dtype(self):
        return dtypes.as_dtype(self.__name__)

    def __call__(self, x):
        # a Python scalar or NumPy value converts now, as in JAX (no convert equation)
        return astype(x, self.dtype) if is_array(x) else asarray(x, self.dtype)

    def __repr__(self):
        return f"<class 'jax.numpy.{self.__name__}'>"

    def __eq__(self, other):
        try:
            return self.dtype == dtypes.as_dtype(other)
        except TypeError:
            return False

    def __hash__(self):
        return hash(self.dtype)


bool_ = _ScalarType(dtypes.bool_)
int8, int16, int32, int64 = map(_ScalarType, (dtypes.int8, dtypes.int16, dtypes.int32, dtypes.int64))
uint8, uint16, uint32, uint64 = map(_ScalarType, (dtypes.uint8, dtypes.uint16, dtypes.uint32,
                                                  dtypes.uint64))
float16, float32, float64 = map(_ScalarType, (dtypes.float16, dtypes.float32, dtypes.float64))
bfloat16, float8_e4m3fn, float8_e5m2 = map(_ScalarType, dtypes.ML_DTYPE_NAMES)
bool = bool_
float_, int_, uint = float64, int64, uint64   # canonicalized (to 32 bits) when used
dtype = np.dtype
integer, floating, number, signedinteger, unsignedinteger, inexact, generic = (
    np.integer, np.floating, np.number, np.signedinteger, np.unsignedinteger, np.inexact, np.generic)
iinfo = np.iinfo
can_cast = np.can_cast


def finfo(dtype):
    """Machine limits of a float dtype (bfloat16 and float8 included)."""
    dtype = dtypes.as_dtype(dtype)
    if dtype.name in dtypes.ML_DTYPE_NAMES:   # NumPy's finfo does not know them
        return dtypes.load_ml_dtypes().finfo(dtype)
    return np.finfo(dtype)


def issubdtype(arg1, arg2):
    """Is dtype `arg1` a kind of `arg2` (e.g. jnp.floating)? bfloat16 counts as a float."""
    if dtypes.is_bfloat16(dtypes.as_dtype(arg1)):   # ml_dtypes' bfloat16 is a float to us, not to NumPy
        return arg2 in (np.floating, np.inexact, np.number, np.generic) or dtypes.is_bfloat16(arg2)
    return np.issubdtype(dtypes.as_dtype(arg1), arg2)


def promote_types(a, b):
    """The dtype JAX promotes a and b to (with x64 off: at most 32 bits)."""
    return dtypes.promote([(dtypes.as_dtype(a), False), (dtypes.as_dtype(b), False)])[0]
