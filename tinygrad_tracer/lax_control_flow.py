"""The control-flow primitives: what `cond_p`, `while_p` and `scan_p` are.

Like every primitive in `lax.py`, each is an impl and an abstract eval. They
are *higher-order*: their bodies are jaxprs, held in the params.

    cond_p   index, *operands                    branches=(jaxpr, ...)
    while_p  *cond_consts, *body_consts, *carry  cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts
    scan_p   *consts, *carry, *xs                jaxpr, length, reverse, num_consts, num_carry, unroll

They live here, beside lax, so that a backend recognises them (`eqn.primitive
is scan_p`) without importing the layers above it. `control_flow/` holds the
rest: the functions users call (`lax.cond`, `lax.scan`, ...), which trace the
bodies, and each primitive's rules for jvp, vmap, partial eval and transpose.
"""
import builtins

import numpy as np

from . import lax
from .array import Array
from .core import Primitive, get_aval, raise_to_shaped
from .jaxpr import ClosedJaxpr, eval_closed_jaxpr

cond_p = Primitive('cond', multiple_results=True)
cond_p.__doc__ = "run branches[index](*operands)"
while_p = Primitive('while', multiple_results=True)
while_p.__doc__ = "carry = body(carry) while cond(carry)"
scan_p = Primitive('scan', multiple_results=True)
scan_p.__doc__ = "carry, y = f(carry, x) over the leading axis of xs, stacking the ys"


def _as_compiled(closed):
    """A body as an impl runs it: like one compiled program, whose divisions round as
    XLA's do (lax.mark_reciprocal_divisions), in eager code and every jit backend alike."""
    return ClosedJaxpr(lax.mark_reciprocal_divisions(closed.jaxpr), closed.consts)


# --- cond ---------------------------------------------------------------------------------

def _cond_impl(index, *ops, branches):
    i = builtins.min(builtins.max(int(index), 0), len(branches) - 1)
    outs = eval_closed_jaxpr(_as_compiled(branches[i]), *ops)
    # typed as branch 0's outputs (see the abstract eval), whichever branch ran
    return [o if get_aval(o).weak_type == a.weak_type else Array(lax.to_numpy(o), a.weak_type)
            for o, a in zip(outs, branches[0].out_avals)]


def _cond_abstract_eval(index, *ops, branches):
    if index.shape != () or index.dtype != np.int32:
        raise TypeError(f"cond's index must be an int32 scalar, got {index.str_short()}")
    for b in branches:
        if [a.strip_weak_type() for a in b.in_avals] != [raise_to_shaped(a, False) for a in ops]:
            raise TypeError(f"cond operands {[a.str_short() for a in ops]} do not match the "
                            f"branch inputs {[a.str_short() for a in b.in_avals]}")
    # As in JAX, the outputs have branch 0's types, weak types included: `cond(p, t, f)`
    # is weakly typed where false_fun's output is (branch 0 is false_fun), `switch`
    # where its first branch's is.
    return branches[0].out_avals


cond_p.def_impl(_cond_impl)
cond_p.def_abstract_eval(_cond_abstract_eval)


# --- while --------------------------------------------------------------------------------

def _while_impl(*args, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    nc, nb = cond_nconsts, body_nconsts
    cconsts, bconsts, carry = args[:nc], args[nc:nc + nb], list(args[nc + nb:])
    cond_jaxpr, body_jaxpr = _as_compiled(cond_jaxpr), _as_compiled(body_jaxpr)
    while bool(eval_closed_jaxpr(cond_jaxpr, *cconsts, *carry)[0]):
        carry = eval_closed_jaxpr(body_jaxpr, *bconsts, *carry)
    return carry


def _while_abstract_eval(*avals, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    return body_jaxpr.out_avals


while_p.def_impl(_while_impl)
while_p.def_abstract_eval(_while_abstract_eval)


# --- scan ---------------------------------------------------------------------------------

def _index(x, i):
    return Array(np.asarray(lax.to_numpy(x))[i], get_aval(x).weak_type)


def _scan_impl(*args, jaxpr, length, reverse, num_consts, num_carry, unroll):
    consts, carry = args[:num_consts], list(args[num_consts:num_consts + num_carry])
    xs = args[num_consts + num_carry:]
    ys, body = [], _as_compiled(jaxpr)
    for i in (range(length - 1, -1, -1) if reverse else range(length)):
        outs = eval_closed_jaxpr(body, *consts, *carry, *[_index(x, i) for x in xs])
        carry, y = outs[:num_carry], outs[num_carry:]
        ys.append(y)
    ys.reverse() if reverse else None
    y_avals = jaxpr.out_avals[num_carry:]
    stacked = [Array(np.stack([lax.to_numpy(y[k]) for y in ys]) if ys
                     else np.zeros((0, *a.shape), a.dtype), a.weak_type)
               for k, a in enumerate(y_avals)]
    return list(carry) + stacked


def _scan_abstract_eval(*avals, jaxpr, length, reverse, num_consts, num_carry, unroll):
    outs = jaxpr.out_avals
    return outs[:num_carry] + [a.update(shape=(length, *a.shape)) for a in outs[num_carry:]]


scan_p.def_impl(_scan_impl)
scan_p.def_abstract_eval(_scan_abstract_eval)
