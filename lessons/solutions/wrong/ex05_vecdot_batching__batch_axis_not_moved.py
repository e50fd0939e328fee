"""WRONG (batch_axis_not_moved): the tests of ex05 must fail on this.
Exercise 5 (solution): batch axes to the front, then one einsum."""
import tinygrad_tracer.numpy as jnp
from tinygrad_tracer import batching
from tinygrad_tracer.batching import batching_rules, not_mapped

from classroom import vecdot_p


def vecdot_batch(axis_size, vals, dims):
    (x, y), (x_bdim, y_bdim) = vals, dims
    xs = 'i' if x_bdim is not_mapped else 'bi'
    ys = 'i' if y_bdim is not_mapped else 'bi'
    return [jnp.einsum(f'{xs},{ys}->b', x, y)], [0]


batching_rules[vecdot_p] = vecdot_batch
