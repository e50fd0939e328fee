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

Each primitive's module holds all of its rules: `conditionals.py`,
`while_loops.py` (and fori_loop), `scans.py` (and map).
"""
from .conditionals import cond, switch, cond_p
from .scans import scan, map, scan_p
from .while_loops import while_loop, fori_loop, while_p

__all__ = ['cond', 'switch', 'while_loop', 'fori_loop', 'scan', 'map', 'cond_p', 'while_p', 'scan_p']
