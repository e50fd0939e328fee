"""WRONG (literal_from_env): the tests of ex10 must fail on this.
Exercise 10 (solution): an environment, and one bind per equation."""
from tinygrad_tracer.core import bind
from tinygrad_tracer.jaxpr import Literal, literal_value


def eval_jaxpr(jaxpr, consts, *args):
    env = dict(zip(jaxpr.constvars, consts))
    env.update(zip(jaxpr.invars, args))

    def read(x):
        return env[x]

    for eqn in jaxpr.eqns:
        outs = bind(eqn.primitive, *map(read, eqn.inputs), **eqn.params)
        env.update(zip(eqn.out_binders, outs if eqn.primitive.multiple_results else [outs]))
    return [read(x) for x in jaxpr.outvars]
