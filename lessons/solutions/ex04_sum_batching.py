"""Exercise 4 (solution): batch axis first, then the example's axis is axis + 1."""
from tinygrad_tracer import batching
from tinygrad_tracer.batching import batching_rules

from classroom import sum_axis, sum_axis_p


def sum_axis_batch(axis_size, vals, dims, axis):
    (x,), (x_bdim,) = vals, dims
    x = batching.moveaxis(x, x_bdim, 0)
    return [sum_axis(x, axis + 1)], [0]


batching_rules[sum_axis_p] = sum_axis_batch
