"""Exercise 1: the JVP rule of softplus(x) = log(1 + exp(x)).

A JVP rule receives lists of primals and tangents and returns
(primals_out, tangents_out), both lists. The derivative of softplus is the
logistic sigmoid, `lax.logistic(x)`. Compute the primal with `softplus(x)`
and the tangent with jnp/lax operations, so the rule works under any
transformation (grad of grad included).

Check: TT_EXERCISES=exercises python -m pytest tests/test_exercises.py -k ex1
"""
from tinygrad_tracer import lax  # noqa: F401  (you will need it)
from tinygrad_tracer.jvp import jvp_rules

from ._prims import softplus, softplus_p


def softplus_jvp(primals, tangents):
    (x,), (x_dot,) = primals, tangents
    # YOUR CODE HERE: return [primal_out], [tangent_out]
    return [softplus(x)], [None]


jvp_rules[softplus_p] = softplus_jvp
