"""The interpreter backend: run a jaxpr one equation at a time with NumPy.

Nothing is compiled: each equation calls its primitive's `impl`, exactly what
eager execution does, so this backend is the reference the compiled ones are
tested against (and the default until a compiled backend is chosen). Like them,
it divides as XLA would compile the whole jaxpr (`lax.mark_reciprocal_divisions`).

    >>> exe = compile(make_jaxpr(lambda x: jnp.sin(x) * 2.0)(1.0), 'f')
    >>> exe(Array(np.float32(1.0)))
    [Array(1.6829419, dtype=float32)]
"""
from .. import lax
from ..array import Array
from ..jaxpr import Literal


class Executable:
    """A jaxpr ready to run on Arrays."""

    def __init__(self, closed_jaxpr, name):
        self.closed_jaxpr, self.name = closed_jaxpr, name
        self.jaxpr = lax.mark_reciprocal_divisions(closed_jaxpr.jaxpr)

    def __call__(self, *args):
        jaxpr = self.jaxpr
        if len(args) != len(jaxpr.invars):
            raise TypeError(f"{self.name} takes {len(jaxpr.invars)} arrays, got {len(args)}")
        env = dict(zip(jaxpr.constvars, self.closed_jaxpr.consts))
        env.update(zip(jaxpr.invars, args))
        read = lambda x: Array(x.val, x.aval.weak_type) if isinstance(x, Literal) else env[x]
        for eqn in jaxpr.eqns:
            outs = eqn.primitive.impl(*map(read, eqn.inputs), **eqn.params)
            outs = outs if eqn.primitive.multiple_results else [outs]
            env.update(zip(eqn.out_binders, outs))
        return [read(x) for x in jaxpr.outvars]

    def as_text(self):
        return str(self.closed_jaxpr)


def compile(closed_jaxpr, name):
    """An Executable running `closed_jaxpr` op by op (see the backends package)."""
    return Executable(closed_jaxpr, name)
