"""Exercise 5: the batching rule of vecdot(x, y) = sum(x * y) for two vectors.

Read first: docs/READING.md steps 17-19 (tinygrad_tracer/batching.py).

Under vmap, x may be a batch of vectors (a matrix whose batch axis is at
`x_bdim`, 0 or 1) or an unbatched vector (`x_bdim` is `not_mapped`, i.e.
None); the same for y, and at least one of them is batched. Return
(outs, out_dims), both lists.

Hint: move each batched operand's batch axis to the front with
`batching.moveaxis(x, x_bdim, 0)`; then one `jnp.einsum` covers every case
('bi,bi->b', 'bi,i->b', 'i,bi->b').

Check:  python lessons/exercises/ex05_vecdot_batching.py
   or:  TT_EXERCISES=lessons/exercises python -m pytest tests/test_exercises.py -m ex05
"""
import tinygrad_tracer.numpy as jnp  # noqa: F401
from tinygrad_tracer import batching  # noqa: F401
from tinygrad_tracer.batching import batching_rules, not_mapped  # noqa: F401

from classroom import vecdot, vecdot_p  # noqa: F401


def vecdot_batch(axis_size, vals, dims):
    (x, y), (x_bdim, y_bdim) = vals, dims
    # YOUR CODE HERE: return [out], [out_bdim]
    raise NotImplementedError(
        "ex05 is not done yet: write vecdot_batch in lessons/exercises/ex05_vecdot_batching.py "
        "(read first: docs/READING.md steps 17-19, tinygrad_tracer/batching.py)")


batching_rules[vecdot_p] = vecdot_batch

if __name__ == '__main__':
    import classroom
    classroom.check(__file__)
