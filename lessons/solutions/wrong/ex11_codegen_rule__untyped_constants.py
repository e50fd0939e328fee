"""WRONG (untyped_constants): the tests of ex11 must fail on this.
Exercise 11 (solution): one typed line of source per element."""
import numpy as np

from tinygrad_tracer.backends import codegen

from classroom import axpb_p


def axpb_scalar(eqn, x):
    dtype = eqn.out_binders[0].aval.dtype
    if not np.issubdtype(dtype, np.floating):
        return None
    a, b = repr(eqn.params['a']), repr(eqn.params['b'])
    return f"{a} * {x} + {b}"


codegen.SCALAR_RULES[axpb_p] = axpb_scalar
