"""while_loop and fori_loop.

    while_p  *cond_consts, *body_consts, *carry    cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts

`while_loop(cond_fun, body_fun, init)` traces both functions on the carry's
abstract values; the body must return a carry of the same types. The number
of iterations is only known when the loop runs, so nothing can be saved per
iteration for a backward pass: a while loop is forward-differentiable but
not reverse-differentiable (its transpose rule raises JAX's error).
`fori_loop` with bounds known at trace time is a `scan` instead, which is
differentiable in both modes.

The primitive itself (impl: a Python loop; abstract eval) is in
`lax_control_flow.py`. Its rules below: batching (a batched predicate runs
the loop while *any* example's holds and freezes finished examples with a
select), jvp (the tangents ride along in the carry), partial eval (known
carries run in a loop of their own; the unknown ones re-run the whole loop)
and transpose (the error).
"""
import builtins

import numpy as np

from .. import core, dtypes, lax, tree_util
from ..core import get_aval
from ..jaxpr import eval_closed_jaxpr, reorder, with_unused_inputs, drop_outputs
from ..lax_control_flow import while_p
from ..batching import batching_rules, batch_jaxpr, bdim_at_front, not_mapped
from ..ad_util import Zero, tangent_aval, instantiate_zeros
from ..jvp import jvp_rules, jvp_jaxpr
from ..partial_eval import partial_eval_rules, partial_eval_jaxpr
from ..transpose import transpose_rules
from .common import (as_arrays, avals_of, trace_body, trace_loop_body, scalar, fixpoint, split,
                     trace_flat)
from .scans import scan


def while_loop(cond_fun, body_fun, init_val):
    """Repeat `val = body_fun(val)` while `cond_fun(val)`; returns the final val.
    Not reverse-differentiable (use scan, or fori_loop with static bounds).

        >>> while_loop(lambda x: x < 10, lambda x: x * 2, 1)    # 16
    """
    init_flat, carry_tree = tree_util.tree_flatten(init_val)
    arg_tree = tree_util.tree_structure((carry_tree.unflatten([0] * carry_tree.num_leaves),))
    body, body_consts, _ = trace_loop_body(body_fun, 'lax.while_loop body_fun', arg_tree,
                                           init_flat, carry_tree, [], lambda t: t)
    cond, cond_consts, cond_tree = trace_body(cond_fun, arg_tree, avals_of(init_flat),
                                              'lax.while_loop cond_fun')
    outs = cond.out_avals
    if cond_tree.num_leaves != 1 or outs[0].shape != () or not dtypes.is_bool(outs[0].dtype):
        raise TypeError(f"lax.while_loop cond_fun must return a boolean scalar, but got output "
                        f"type(s) {[a.str_short() for a in outs]}.")
    outs = while_p.bind(*as_arrays(cond_consts + body_consts + init_flat), cond_jaxpr=cond, body_jaxpr=body,
                        cond_nconsts=len(cond_consts), body_nconsts=len(body_consts))
    return tree_util.tree_unflatten(carry_tree, outs)


def fori_loop(lower, upper, body_fun, init_val):
    """`for i in range(lower, upper): val = body_fun(i, val)`. With bounds known at trace
    time it is a scan (reverse-differentiable); with traced bounds a while_loop.

        >>> fori_loop(0, 3, lambda i, c: c * 2, 1.0)    # 8.0
    """
    lower, upper = _index_bounds(lower, upper)
    dtype, weak = dtypes.dtype_of(lower)
    one = scalar(1, dtype, weak)
    try:
        lo, hi = int(lower), int(upper)
    except (TypeError, core.ConcretizationTypeError):
        lo = hi = None
    if lo is not None:
        def step(carry, _):
            i, val = carry
            return (lax.add(i, one), body_fun(i, val)), None
        start = scalar(lo, dtype, weak)
        (_, val), _ = scan(step, (start, init_val), None, length=builtins.max(hi - lo, 0))
        return val

    def loop_cond(carry):
        i, stop, _ = carry
        return lax.lt(i, stop)

    def loop_body(carry):
        i, stop, val = carry
        return lax.add(i, one), stop, body_fun(i, val)
    return while_loop(loop_cond, loop_body, (lower, upper, init_val))[2]


def _index_bounds(lower, upper):
    """The bounds in the loop index's type, as in JAX: unchanged when their dtypes agree
    (the index is then as weak as `lower`: `fori_loop(0, 3, ...)` counts with a weakly
    typed int, which leaves an int8 carry int8). A weakly typed signed int bound (a
    Python int) takes the other's dtype; other mixes are an error."""
    (lo_dtype, lo_weak), (hi_dtype, hi_weak) = dtypes.dtype_of(lower), dtypes.dtype_of(upper)
    if lo_dtype == hi_dtype:
        return lower, upper
    signed = all(np.issubdtype(d, np.signedinteger) for d in (lo_dtype, hi_dtype))
    if not signed or lo_weak == hi_weak:
        raise TypeError(f"lower and upper arguments to fori_loop must have equal types, got "
                        f"{lo_dtype.name} and {hi_dtype.name}: cast one, e.g. "
                        f"jnp.{hi_dtype.name}(lower).")
    dtype = hi_dtype if lo_weak else lo_dtype
    return lax.convert_element_type(lower, dtype), lax.convert_element_type(upper, dtype)


# --- batching ----------------------------------------------------------------------------

def _while_batching_rule(axis_size, vals, dims, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    cc_b, bc_b, carry_b = split([d is not not_mapped for d in dims], cond_nconsts, body_nconsts)
    carry_b = fixpoint(lambda cb: batch_jaxpr(body_jaxpr, axis_size, bc_b + cb, False)[1], carry_b)
    pred_batched = batch_jaxpr(cond_jaxpr, axis_size, cc_b + carry_b, False)[1][0]
    if pred_batched:   # examples stop at different times: every carry entry is per example
        carry_b = [True] * len(carry_b)
    cond_b = batch_jaxpr(cond_jaxpr, axis_size, cc_b + carry_b, False)[0]
    body_b = batch_jaxpr(body_jaxpr, axis_size, bc_b + carry_b, carry_b)[0]
    vals = [bdim_at_front(v, d, axis_size) if b else v
            for v, d, b in zip(vals, dims, cc_b + bc_b + carry_b)]
    out_dims = [0 if b else not_mapped for b in carry_b]
    if not pred_batched:
        return while_p.bind(*vals, cond_jaxpr=cond_b, body_jaxpr=body_b, cond_nconsts=cond_nconsts,
                            body_nconsts=body_nconsts), out_dims
    # Loop while any example's predicate holds; an example whose predicate is already
    # false keeps its carry (a select throws the body's result away).
    avals = avals_of(vals)

    def any_cond(*args):
        return [lax.reduce_or(eval_closed_jaxpr(cond_b, *args)[0], (0,))]

    def masked_body(*args):
        cc, bc, carry = split(args, cond_nconsts, body_nconsts)
        pred = eval_closed_jaxpr(cond_b, *cc, *carry)[0]
        new = eval_closed_jaxpr(body_b, *bc, *carry)
        return [lax.select_n(lax.broadcast_in_dim(pred, get_aval(n).shape, (0,)), old, n)
                for old, n in zip(carry, new)]
    cc_avals, _, carry_avals = split(avals, cond_nconsts, body_nconsts)
    new_cond = trace_flat(any_cond, cc_avals + carry_avals, 'vmap')
    new_body = trace_flat(masked_body, avals, 'vmap')
    outs = while_p.bind(*vals[:cond_nconsts], *vals, cond_jaxpr=new_cond, body_jaxpr=new_body,
                        cond_nconsts=cond_nconsts, body_nconsts=cond_nconsts + body_nconsts)
    return outs, out_dims


batching_rules[while_p] = _while_batching_rule


# --- jvp: tangents ride along in the carry --------------------------------------------------

def _while_jvp(primals, tangents, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    cc, bc, carry = split(primals, cond_nconsts, body_nconsts)
    _, bc_t, carry_t = split(tangents, cond_nconsts, body_nconsts)
    bc_nz = [not isinstance(t, Zero) for t in bc_t]
    carry_nz = fixpoint(lambda nz: jvp_jaxpr(body_jaxpr, bc_nz + nz, False)[1],
                        [not isinstance(t, Zero) for t in carry_t])
    body_jvp, _ = jvp_jaxpr(body_jaxpr, bc_nz + carry_nz, carry_nz)
    # body_jvp takes (bc, carry, bc tangents, carry tangents): consts must come first
    nb, nc, nbt = len(bc), len(carry), sum(bc_nz)
    order = [*range(nb), *range(nb + nc, nb + nc + nbt), *range(nb, nb + nc),
             *range(nb + nc + nbt, nb + nc + nbt + sum(carry_nz))]
    body = reorder(body_jvp, invars=order)
    t_avals = [tangent_aval(a) for a, nz in zip(body_jaxpr.out_avals, carry_nz) if nz]
    cond = with_unused_inputs(cond_jaxpr, t_avals, len(cond_jaxpr.in_avals))
    bc_t = [t for t, nz in zip(bc_t, bc_nz) if nz]
    carry_t = [instantiate_zeros(t) for t, nz in zip(carry_t, carry_nz) if nz]
    outs = while_p.bind(*cc, *bc, *bc_t, *carry, *carry_t, cond_jaxpr=cond, body_jaxpr=body,
                        cond_nconsts=cond_nconsts, body_nconsts=nb + nbt)
    t_out = iter(outs[nc:])
    return outs[:nc], [next(t_out) if nz else Zero(tangent_aval(a))
                       for nz, a in zip(carry_nz, body_jaxpr.out_avals)]


jvp_rules[while_p] = _while_jvp


# --- partial eval ---------------------------------------------------------------------------

def _while_partial_eval(trace, tracers, cond_jaxpr, body_jaxpr, cond_nconsts, body_nconsts):
    """Known carries are computed by a loop of their own (the known part of the body);
    the unknown ones by staging the whole loop, which recomputes the known part (a while
    loop cannot save per-iteration residuals)."""
    params = dict(cond_jaxpr=cond_jaxpr, body_jaxpr=body_jaxpr, cond_nconsts=cond_nconsts,
                  body_nconsts=body_nconsts)
    cc_uk, bc_uk, carry_uk = split([not t.pval.is_known for t in tracers], cond_nconsts, body_nconsts)
    carry_uk = fixpoint(lambda uk: partial_eval_jaxpr(body_jaxpr, bc_uk + uk, False)[2], carry_uk)
    cond_known, _, pred_uk, _ = partial_eval_jaxpr(cond_jaxpr, cc_uk + carry_uk, False)
    staged = trace.stage(while_p, tracers, params, body_jaxpr.out_avals)
    if pred_uk[0] or all(carry_uk):
        return staged
    body_known, _, _, _ = partial_eval_jaxpr(body_jaxpr, bc_uk + carry_uk, carry_uk)
    known = [t.pval.const for t, uk in zip(tracers, cc_uk + bc_uk + carry_uk) if not uk]
    n_known_carry = carry_uk.count(False)
    outs = iter(while_p.bind(
        *known, cond_jaxpr=drop_outputs(cond_known, 1),
        body_jaxpr=drop_outputs(body_known, n_known_carry),
        cond_nconsts=cc_uk.count(False), body_nconsts=bc_uk.count(False)))
    return [s if uk else trace.pure(next(outs)) for s, uk in zip(staged, carry_uk)]


partial_eval_rules[while_p] = _while_partial_eval


# --- transpose: impossible ------------------------------------------------------------------------

def _while_transpose(cts, *args, **params):
    raise ValueError("Reverse-mode differentiation does not work for lax.while_loop or "
                     "lax.fori_loop with dynamic start/stop values. Try using lax.scan, or "
                     "using fori_loop with static start/stop.")


transpose_rules[while_p] = _while_transpose
