"""Exercise 2: the batching rule of vecdot(x, y) = sum(x * y) for vectors.

A batching rule receives the axis size, the batched values and their batch
dims (`bdim` is an int, or `not_mapped` (None) for an unbatched operand) and
returns (outputs, out_bdims), both lists. Under vmap, x may be a batch of
vectors (a matrix with the batch axis at `x_bdim`), or an unbatched vector.

Hint: move each batch axis to the front with `batching.moveaxis_to_front`
or jnp.moveaxis, then one `jnp.einsum` covers every case.

Check: TT_EXERCISES=exercises python -m pytest tests/test_exercises.py -k ex2
"""
import tinygrad_tracer.numpy as jnp  # noqa: F401
from tinygrad_tracer.batching import batching_rules, not_mapped  # noqa: F401

from ._prims import vecdot_p


def vecdot_batch(axis_size, vals, dims):
    (x, y), (x_bdim, y_bdim) = vals, dims
    # YOUR CODE HERE: return [out], [out_bdim]
    return [None], [0]


batching_rules[vecdot_p] = vecdot_batch
