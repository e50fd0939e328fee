"""WRONG (forgot_y_term): the tests of ex02 must fail on this.
Exercise 2 (solution): d(x / y) = x_dot / y - x * y_dot / y**2."""
from tinygrad_tracer import core, lax
from tinygrad_tracer.ad_util import instantiate_zeros
from tinygrad_tracer.jvp import jvp_rules

from classroom import quotient, quotient_p


def quotient_jvp(primals, tangents):
    (x, y), (x_dot, y_dot) = primals, tangents
    out = quotient(x, y)
    with core.tag('tangent'):
        x_dot, y_dot = instantiate_zeros(x_dot), instantiate_zeros(y_dot)
        out_dot = lax.div(x_dot, y)
    return [out], [out_dot]


jvp_rules[quotient_p] = quotient_jvp
