"""WRONG (batch_dim_not_moved): the tests of ex09 must fail on this.
Exercise 9 (solution): cumsum over the last axis, with every rule."""
import numpy as np

import tinygrad_tracer.numpy as jnp
from tinygrad_tracer import batching, core
from tinygrad_tracer.ad_util import instantiate_zeros
from tinygrad_tracer.array import Array
from tinygrad_tracer.batching import batching_rules
from tinygrad_tracer.core import Primitive, ShapedArray, bind
from tinygrad_tracer.jvp import jvp_rules
from tinygrad_tracer.transpose import transpose_rules

cumsum_p = Primitive('cumsum_last')


def cumsum(x):
    return bind(cumsum_p, x)


def cumsum_impl(x):
    x = np.asarray(x)
    return Array(np.cumsum(x, axis=-1).astype(x.dtype))


def cumsum_abstract_eval(x):
    return ShapedArray(x.shape, x.dtype)


def cumsum_jvp(primals, tangents):
    (x,), (x_dot,) = primals, tangents
    with core.tag('tangent'):
        out_dot = cumsum(instantiate_zeros(x_dot))
    return [cumsum(x)], [out_dot]


def cumsum_transpose(cts, x):
    (ct,) = cts
    return [jnp.flip(cumsum(jnp.flip(ct, -1)), -1)]


def cumsum_batch(axis_size, vals, dims):
    (x,), (x_bdim,) = vals, dims
    return [cumsum(x)], [x_bdim]


cumsum_p.def_impl(cumsum_impl)
cumsum_p.def_abstract_eval(cumsum_abstract_eval)
jvp_rules[cumsum_p] = cumsum_jvp
transpose_rules[cumsum_p] = cumsum_transpose
batching_rules[cumsum_p] = cumsum_batch
