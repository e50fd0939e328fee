"""Exercise 3: the transpose rule of scale(x, c) = c * x.

scale is linear in x, so reverse mode needs its transpose: given the
cotangent `ct` of the output, return the cotangent of x. A transpose rule
receives (cts, *operands, **params) — here `cts` is a one-element list and
the operand is an `UndefPrimal` (the unknown x) — and returns one cotangent
per operand.

Check: TT_EXERCISES=exercises python -m pytest tests/test_exercises.py -k ex3
"""
from tinygrad_tracer.jvp import jvp_rules
from tinygrad_tracer.transpose import transpose_rules

from ._prims import scale, scale_p


def scale_jvp(primals, tangents, c):   # given: scale is linear, so its tangent is scale(x_dot)
    return [scale(primals[0], c)], [scale(tangents[0], c)]


def scale_transpose(cts, x, c):
    (ct,) = cts
    # YOUR CODE HERE: return [cotangent of x]
    return [None]


jvp_rules[scale_p] = scale_jvp
transpose_rules[scale_p] = scale_transpose
