"""WRONG (no_code): the tests of ex11 must fail on this.
Exercise 11 (solution): one typed line of source per element."""
from tinygrad_tracer.backends import codegen

from classroom import axpb_p


def axpb_scalar(eqn, x):
    return None   # "the impl will do"


codegen.SCALAR_RULES[axpb_p] = axpb_scalar
