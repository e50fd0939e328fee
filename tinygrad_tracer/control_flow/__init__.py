"""Structured control flow: cond, switch, while_loop, fori_loop, scan, map.

Python `if` and `for` on traced values cannot be recorded in a jaxpr, so
control flow that depends on data is a *higher-order primitive*: the branch
or loop body is traced once, on abstract values, to a jaxpr, and that jaxpr
is a parameter of the primitive:

    cond_p   index, *operands                    branches=(jaxpr, ...)
    while_p  *cond_consts, *body_consts, *carry  cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts
    scan_p   *consts, *carry, *xs                jaxpr, length, reverse, num_consts, num_carry, unroll

Values a body closes over (its constants) become explicit operands
("closure conversion"), so every transformation sees them. Even eager calls
bind the primitive, so a concrete predicate takes the same path as a traced one.

    >>> lax.cond(x > 0, jnp.sin, jnp.cos, x)
    >>> lax.fori_loop(0, 3, lambda i, c: c * 2, 1.0)               # 8.0
    >>> lax.scan(lambda c, x: (c + x, c), 0.0, jnp.arange(3.))     # (3.0, [0., 0., 1.])

The primitives themselves (impl and abstract eval) are in
`lax_control_flow.py`, below the transformations, so that backends can
recognise them. Here each one's module holds the functions users call and
its transformation rules: `conditionals.py`, `while_loops.py` (and
fori_loop), `scans.py` (and map).
"""
from .. import lax
from ..lax_control_flow import cond_p, while_p, scan_p
from .conditionals import cond, switch
from .scans import scan, map
from .while_loops import while_loop, fori_loop

# Users call these as `lax.cond`, `lax.scan`, ..., as in JAX. But lax (what each primitive
# is) sits below the jaxprs these functions trace and cannot import them, so this module
# installs them into lax's namespace when it is imported, as the numpy layer installs the
# operator methods on Array and Tracer. The package's __init__ imports control_flow.
# (Code inside lax.py then sees `map` as lax.map: it reaches Python's through `builtins`,
# as it does for max, min and slice.)
lax.cond, lax.switch, lax.while_loop, lax.fori_loop, lax.scan, lax.map = (
    cond, switch, while_loop, fori_loop, scan, map)

__all__ = ['cond', 'switch', 'while_loop', 'fori_loop', 'scan', 'map', 'cond_p', 'while_p', 'scan_p']
