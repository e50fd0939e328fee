"""Exercise 1: the JVP rule of softplus(x) = log(1 + exp(x)).

Read first: docs/READING.md steps 8-10 (tinygrad_tracer/ad_util.py, jvp.py).

A JVP rule receives lists of primals and tangents and returns
(primals_out, tangents_out), both lists (one entry per output). The derivative
of softplus is the logistic sigmoid, `lax.logistic(x)`, and the output tangent
is that derivative times the input tangent `x_dot`. Compute the primal with
`softplus(x)` and the tangent with lax/jnp operations (not NumPy), so that the
rule works under every transformation, grad of grad included. `x_dot` may be a
symbolic zero: `instantiate_zeros(x_dot)` makes it an array. Compute the
tangent inside `with core.tag('tangent'):` so graphs colour it as a tangent.

Check:  python lessons/exercises/ex01_softplus_jvp.py
   or:  TT_EXERCISES=lessons/exercises python -m pytest tests/test_exercises.py -m ex01
"""
from tinygrad_tracer import core, lax  # noqa: F401  (you will need them)
from tinygrad_tracer.ad_util import instantiate_zeros  # noqa: F401
from tinygrad_tracer.jvp import jvp_rules

from classroom import softplus, softplus_p  # noqa: F401


def softplus_jvp(primals, tangents):
    (x,), (x_dot,) = primals, tangents
    # YOUR CODE HERE: return [primal_out], [tangent_out]
    raise NotImplementedError(
        "ex01 is not done yet: write softplus_jvp in lessons/exercises/ex01_softplus_jvp.py "
        "(read first: docs/READING.md steps 8-10, tinygrad_tracer/jvp.py)")


jvp_rules[softplus_p] = softplus_jvp

if __name__ == '__main__':
    import classroom
    classroom.check(__file__)
