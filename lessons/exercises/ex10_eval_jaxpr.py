"""Exercise 10: write eval_jaxpr, the interpreter that replays a jaxpr.

Read first: docs/READING.md steps 12-13 (tinygrad_tracer/jaxpr.py: Var,
Literal, JaxprEqn, Jaxpr, make_jaxpr).

A `Jaxpr` has `constvars`, `invars`, `eqns` and `outvars`. Keep an
environment (a dict from each Var to its value): bind the constvars to
`consts` and the invars to `args`, then for each equation read its `inputs`
(a `Literal` is not in the environment: its value is `literal_value(x)`),
apply `eqn.primitive` with `bind(prim, *values, **eqn.params)` (bind, not the
impl: then a replay under grad or vmap is itself transformed), and store the
results in its `out_binders` (a primitive with `multiple_results` returns a
list; others return one value). Return the values of the `outvars`, a list.

Check:  python lessons/exercises/ex10_eval_jaxpr.py
   or:  TT_EXERCISES=lessons/exercises python -m pytest tests/test_exercises.py -m ex10
"""
from tinygrad_tracer.core import bind  # noqa: F401
from tinygrad_tracer.jaxpr import Literal, literal_value  # noqa: F401


def eval_jaxpr(jaxpr, consts, *args):
    # YOUR CODE HERE: return a list with one value per outvar
    raise NotImplementedError(
        "ex10 is not done yet: write eval_jaxpr in lessons/exercises/ex10_eval_jaxpr.py "
        "(read first: docs/READING.md steps 12-13, tinygrad_tracer/jaxpr.py)")


if __name__ == '__main__':
    import classroom
    classroom.check(__file__)
