"""WRONG (forgot_tangent): the tests of ex01 must fail on this.
Exercise 1 (solution): d/dx softplus(x) = logistic(x)."""
from tinygrad_tracer import core, lax
from tinygrad_tracer.ad_util import instantiate_zeros
from tinygrad_tracer.jvp import jvp_rules

from classroom import softplus, softplus_p


def softplus_jvp(primals, tangents):
    (x,), (x_dot,) = primals, tangents
    y = softplus(x)
    with core.tag('tangent'):
        y_dot = lax.logistic(x)
    return [y], [y_dot]


jvp_rules[softplus_p] = softplus_jvp
