"""Exercise 2: the JVP rule of quotient(x, y) = x / y (two operands).

Read first: docs/READING.md steps 8-10 (tinygrad_tracer/ad_util.py, jvp.py).

The quotient rule: d(x / y) = x_dot / y - x * y_dot / y**2. Either tangent may
be a symbolic `Zero` (e.g. under `grad(f, argnums=0)` y has no tangent):
`instantiate_zeros` turns it into an array of zeros. Use lax operations
(`lax.div`, `lax.mul`, `lax.sub`, ...), not NumPy, and compute the tangent
inside `with core.tag('tangent'):`.

Check:  python lessons/exercises/ex02_quotient_jvp.py
   or:  TT_EXERCISES=lessons/exercises python -m pytest tests/test_exercises.py -m ex02
"""
from tinygrad_tracer import core, lax  # noqa: F401
from tinygrad_tracer.ad_util import instantiate_zeros  # noqa: F401
from tinygrad_tracer.jvp import jvp_rules

from classroom import quotient, quotient_p  # noqa: F401


def quotient_jvp(primals, tangents):
    (x, y), (x_dot, y_dot) = primals, tangents
    # YOUR CODE HERE: return [primal_out], [tangent_out]
    raise NotImplementedError(
        "ex02 is not done yet: write quotient_jvp in lessons/exercises/ex02_quotient_jvp.py "
        "(read first: docs/READING.md steps 8-10, tinygrad_tracer/jvp.py)")


jvp_rules[quotient_p] = quotient_jvp

if __name__ == '__main__':
    import classroom
    classroom.check(__file__)
