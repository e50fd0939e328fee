"""WRONG (sum_everything): the tests of ex03 must fail on this.
Exercise 3 (solution): the cotangents of the m rows add up into x's."""
import tinygrad_tracer.numpy as jnp
from tinygrad_tracer import core
from tinygrad_tracer.ad_util import instantiate_zeros
from tinygrad_tracer.jvp import jvp_rules
from tinygrad_tracer.transpose import transpose_rules

from classroom import rowscale, rowscale_p


def rowscale_jvp(primals, tangents):
    (x, c), (x_dot, _) = primals, tangents
    with core.tag('tangent'):
        out_dot = rowscale(instantiate_zeros(x_dot), c)
    return [rowscale(x, c)], [out_dot]


def rowscale_transpose(cts, x, c):
    (ct,) = cts
    return [jnp.sum(ct * c), None]


jvp_rules[rowscale_p] = rowscale_jvp
transpose_rules[rowscale_p] = rowscale_transpose
