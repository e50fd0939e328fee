"""WRONG (python_loop): the tests of ex05 must fail on this.
Exercise 5 (solution): batch axes to the front, then one einsum."""
import tinygrad_tracer.numpy as jnp
from tinygrad_tracer import batching
from tinygrad_tracer.batching import batching_rules, not_mapped

from classroom import vecdot_p


def vecdot_batch(axis_size, vals, dims):
    (x, y), (x_bdim, y_bdim) = vals, dims
    xs = 'i' if x_bdim is not_mapped else 'bi'
    ys = 'i' if y_bdim is not_mapped else 'bi'
    x = x if x_bdim is not_mapped else batching.moveaxis(x, x_bdim, 0)
    y = y if y_bdim is not_mapped else batching.moveaxis(y, y_bdim, 0)
    rows = [jnp.dot(x[i] if xs == 'bi' else x, y[i] if ys == 'bi' else y) for i in range(axis_size)]
    return [jnp.stack(rows)], [0]


batching_rules[vecdot_p] = vecdot_batch
