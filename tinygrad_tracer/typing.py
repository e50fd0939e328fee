"""`jax.typing`: names for annotating functions that take arrays.

    >>> def f(x: ArrayLike, dtype: DTypeLike = None) -> Array: ...

`ArrayLike` is anything `jnp.asarray` accepts as one value: an Array (or a
traced value inside a transformation), a NumPy array or scalar, or a Python
bool, int or float. Lists and tuples are not ArrayLike, as in JAX: jnp
functions refuse them (convert with `jnp.asarray` first). `DTypeLike` is what
names a dtype: a string ('float32'), a NumPy dtype or a scalar type.
"""
from typing import Union

import numpy as np

from .array import Array
from .core import Tracer

__all__ = ['ArrayLike', 'DTypeLike']

ArrayLike = Union[Array, Tracer, np.ndarray, np.bool_, np.number, bool, int, float]
DTypeLike = Union[str, type, np.dtype]
