"""`jax.numpy` on top of lax: NumPy semantics, JAX dtypes, immutable arrays.

Every function here does the NumPy part (turn inputs into arrays, promote
dtypes with JAX's rules, broadcast shapes) and then calls a lax primitive.
That is why `jnp.sin(x) * 2` shows up in a jaxpr as `sin` then `mul`.

    >>> import tinygrad_tracer.numpy as jnp
    >>> jnp.arange(3) + 1.5
    Array([1.5, 2.5, 3.5], dtype=float32)

This file only re-exports (as `jax/numpy/__init__.py` does); each part
imports only the parts above it in this list:
  _numpy_base.py         what an array is, arrays from data, promotion,
                         broadcasting, axes
  _numpy_shape.py        shape, reshape, transpose, squeeze, expand_dims, ...
  _numpy_creation.py     zeros, full_like, arange, linspace, eye, index grids
  _numpy_dtypes.py       jnp.float32 and friends, finfo, issubdtype, promote_types
  _numpy_elementwise.py  elementwise math, where, clip
  _numpy_arrange.py      joining, splitting, tiling, padding, flipping, take, meshgrid
  _numpy_reduce.py       reductions, cumulative ops, sorting and searching, comparisons
  _numpy_linalg.py       dot, matmul, tensordot, einsum, diagonals, triangles,
                         `jnp.linalg.norm`
  _numpy_signal.py       convolve, correlate, interp, histogram, gcd, lcm, cross
  _indexing.py           `x[idx]`, `x.at[idx]`, and the operators of Array and Tracer,
                         installed when it is imported
"""
from ._numpy_base import *          # noqa: F401,F403
from ._numpy_shape import *         # noqa: F401,F403
from ._numpy_creation import *      # noqa: F401,F403
from ._numpy_dtypes import *        # noqa: F401,F403
from ._numpy_elementwise import *   # noqa: F401,F403
from ._numpy_arrange import *       # noqa: F401,F403
from ._numpy_reduce import *        # noqa: F401,F403
from ._numpy_linalg import *        # noqa: F401,F403
from ._numpy_signal import *        # noqa: F401,F403
from . import _indexing             # noqa: F401  (installs x[idx], x.at and the operators)
