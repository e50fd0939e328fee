"""Exercise 4: the batching rule of sum_axis(x, axis) (a reduction over one axis).

Read first: docs/READING.md steps 17-19 (tinygrad_tracer/batching.py).

A batching rule receives the batch size, the batched values and their batch
dims, and the primitive's params; it returns (outs, out_dims), both lists.
Here `x` holds the whole batch with its batch axis at `x_bdim` (any position:
`vmap(f, in_axes=2)` puts it at 2), and `axis` is an axis of ONE example.
Make the batch axis the first (`batching.moveaxis(x, x_bdim, 0)`), then the
example's axis `axis` is the batch's axis `axis + 1`; say where the batch axis
of the result is.

Check:  python lessons/exercises/ex04_sum_batching.py
   or:  TT_EXERCISES=lessons/exercises python -m pytest tests/test_exercises.py -m ex04
"""
from tinygrad_tracer import batching  # noqa: F401
from tinygrad_tracer.batching import batching_rules

from classroom import sum_axis, sum_axis_p  # noqa: F401


def sum_axis_batch(axis_size, vals, dims, axis):
    (x,), (x_bdim,) = vals, dims
    # YOUR CODE HERE: return [out], [out_bdim]
    raise NotImplementedError(
        "ex04 is not done yet: write sum_axis_batch in lessons/exercises/ex04_sum_batching.py "
        "(read first: docs/READING.md steps 17-19, tinygrad_tracer/batching.py)")


batching_rules[sum_axis_p] = sum_axis_batch

if __name__ == '__main__':
    import classroom
    classroom.check(__file__)
