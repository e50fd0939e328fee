"""Exercise 3: the transpose rule of rowscale(x, c) = c * x (x broadcast over rows).

Read first: docs/READING.md steps 14-16 (tinygrad_tracer/partial_eval.py, transpose.py).

x has shape (n,) and c shape (m, n): rowscale multiplies every row of c by x,
so x is *broadcast* over the m rows. rowscale is linear in x (c is a constant
we never differentiate), so reverse mode needs its transpose: given the
cotangent `ct` of the output (shape (m, n)), return the cotangent of x.
Every row used x once, so the cotangents of all rows add up into x's:
the cotangent must be summed over the broadcast axis, back to x's shape.

A transpose rule receives (cts, *operands, **params): `cts` is a one-element
list, the operand x is an `UndefPrimal` (the unknown), c a known array. It
returns one entry per operand: x's cotangent, and None for c.
Use jnp (e.g. jnp.sum(..., axis=...)); run inside the backward pass, it is
already tagged 'cotangent'.

Check:  python lessons/exercises/ex03_rowscale_transpose.py
   or:  TT_EXERCISES=lessons/exercises python -m pytest tests/test_exercises.py -m ex03
"""
import tinygrad_tracer.numpy as jnp  # noqa: F401
from tinygrad_tracer import core
from tinygrad_tracer.ad_util import instantiate_zeros
from tinygrad_tracer.jvp import jvp_rules
from tinygrad_tracer.transpose import transpose_rules

from classroom import rowscale, rowscale_p


def rowscale_jvp(primals, tangents):   # given: linear in x, so its tangent is rowscale(x_dot, c)
    (x, c), (x_dot, _) = primals, tangents
    with core.tag('tangent'):
        out_dot = rowscale(instantiate_zeros(x_dot), c)
    return [rowscale(x, c)], [out_dot]


def rowscale_transpose(cts, x, c):
    (ct,) = cts
    # YOUR CODE HERE: return [cotangent of x, None]
    raise NotImplementedError(
        "ex03 is not done yet: write rowscale_transpose in "
        "lessons/exercises/ex03_rowscale_transpose.py (read first: docs/READING.md "
        "steps 14-16, tinygrad_tracer/transpose.py)")


jvp_rules[rowscale_p] = rowscale_jvp
transpose_rules[rowscale_p] = rowscale_transpose

if __name__ == '__main__':
    import classroom
    classroom.check(__file__)
