"""cond and switch: pick one of several traced branches by a (traced) index.

    cond_p   index, *operands      branches=(jaxpr_0, jaxpr_1, ...)

`cond(pred, true_fun, false_fun, *ops)` binds `cond_p` with
`index = int32(pred)` and `branches = (false_fun, true_fun)`, as JAX does.
Every branch is traced on the operands' abstract values and must return the
same types. What the branches close over becomes leading operands shared by
all branches (each branch ignores the others').

The primitive itself (impl: run the chosen branch; abstract eval) is in
`lax_control_flow.py`. Its rules, one section each below: batching (an
unbatched index keeps a cond; a batched one runs every branch and selects per
example), jvp (a cond over the branches' JVPs), partial eval (split every
branch into known and unknown parts, agreeing on the residuals) and
transpose (a cond over the transposed branches).
"""
import builtins

import numpy as np

from .. import dtypes, lax, tree_util
from ..core import Tracer, get_aval
from ..jaxpr import ClosedJaxpr, Jaxpr, Var, eval_closed_jaxpr, with_unused_inputs
from ..lax_control_flow import cond_p
from ..batching import batching_rules, batch_jaxpr, moveaxis, not_mapped
from ..ad_util import Zero, tangent_aval
from ..jvp import jvp_rules, jvp_jaxpr
from ..partial_eval import partial_eval_rules, partial_eval_jaxpr
from ..transpose import transpose_rules, transpose_jaxpr, is_undefined
from .common import as_arrays, avals_of, trace_body, leaf_names, scalar, trace_flat


def _common_consts(traced):
    """One operand list for all branches: the constants any branch closes over (each value
    once), followed by the operands; each branch ignores the constants it does not use.
    `traced` is [(ClosedJaxpr, consts)]."""
    common = {}
    for _, consts in traced:
        for c in consts:
            common.setdefault(id(c), c)
    common = list(common.values())
    branches = []
    for closed, consts in traced:
        j = closed.jaxpr
        mine = {id(c): v for c, v in zip(consts, j.invars)}
        invars = [mine.get(id(c)) or Var(a) for c, a in zip(common, avals_of(common))]
        branches.append(ClosedJaxpr(Jaxpr(j.constvars, invars + j.invars[len(consts):], j.outvars,
                                          j.eqns), closed.consts))
    return branches, common


def _bind_cond(index, branch_funs, branch_names, operands, what, order=None):
    """Trace the branches (in the order given, which orders their shared constants as JAX
    does) and bind cond_p with branches=[traced[i] for i in order]."""
    ops_flat, in_tree = tree_util.tree_flatten(tuple(operands))
    avals = avals_of(ops_flat)
    traced, out_trees = [], []
    for fun in branch_funs:
        closed, consts, out_tree = trace_body(fun, in_tree, avals, what)
        traced.append((closed, consts))
        out_trees.append(out_tree)
    first = branch_names[0]
    for name, t, (closed, _) in zip(branch_names[1:], out_trees[1:], traced[1:]):
        if t != out_trees[0]:
            raise TypeError(f"{what}: every branch must return the same structure, but {first} "
                            f"returns {out_trees[0]!r} and {name} returns {t!r}.")
        bad = [f"  * {leaf}: {first} returns {a.str_short()} but {name} returns {b.str_short()}"
               for leaf, a, b in zip(leaf_names('output', t), traced[0][0].out_avals, closed.out_avals)
               if a.strip_weak_type() != b.strip_weak_type()]
        if bad:
            raise TypeError(f"{what}: branches must return identical types (shapes and dtypes), "
                            "but they differ:\n" + "\n".join(bad) +
                            "\nCast (x.astype(...)) or broadcast so both branches agree.")
    branches, consts = _common_consts(traced)
    branches = tuple(branches[i] for i in (order or range(len(branches))))
    outs = cond_p.bind(index, *as_arrays(consts + ops_flat), branches=branches)
    return tree_util.tree_unflatten(out_trees[0], outs)


def cond(pred, true_fun, false_fun, *operands):
    """`true_fun(*operands)` if pred else `false_fun(*operands)`, with a traced `pred`.

    Both branches are traced and must return the same types. Under vmap with a batched
    `pred`, both run and the results are selected per example.

        >>> cond(x > 0, lambda x: x, lambda x: -x, x)    # |x|
    """
    pred_aval = get_aval(pred)
    if pred_aval.shape != ():
        raise TypeError(f"lax.cond's predicate must be a scalar, got shape {pred_aval.shape}. "
                        "For an elementwise choice use jnp.where(pred, x, y).")
    if not (dtypes.is_bool(pred_aval.dtype) or dtypes.is_int(pred_aval.dtype)
            or dtypes.is_float(pred_aval.dtype)):
        raise TypeError(f"lax.cond's predicate must be a boolean or number, got {pred_aval.dtype}")
    if not isinstance(pred, Tracer):   # known now: the index is a constant
        index = scalar(int(bool(pred)), np.int32)
    elif dtypes.is_bool(pred_aval.dtype):
        index = lax.convert_element_type(pred, np.int32)
    else:
        index = lax.convert_element_type(lax.ne(pred, scalar(0, pred_aval.dtype)), np.int32)
    return _bind_cond(index, [true_fun, false_fun], ['true_fun', 'false_fun'], operands, 'lax.cond',
                      order=[1, 0])


def switch(index, branches, *operands):
    """`branches[index](*operands)`, with `index` clamped into range.

        >>> switch(1, [jnp.sin, jnp.cos, jnp.tan], 0.0)    # cos(0.0)
    """
    branches = list(branches)
    if not branches:
        raise ValueError("lax.switch needs at least one branch")
    aval = get_aval(index)
    if aval.shape != () or not dtypes.is_int(aval.dtype):
        raise TypeError(f"lax.switch's index must be an integer scalar, got {aval.str_short()}")
    if len(branches) == 1:
        return branches[0](*operands)
    if not isinstance(index, Tracer):
        index = scalar(builtins.min(builtins.max(int(index), 0), len(branches) - 1), np.int32)
    else:
        index = lax.convert_element_type(index, np.int32)
        index = lax.clamp(scalar(0, np.int32), index, scalar(len(branches) - 1, np.int32))
    return _bind_cond(index, branches, [f'branches[{i}]' for i in range(len(branches))],
                      operands, 'lax.switch')


# --- batching: keep a cond, or run every branch and select --------------------------------------

def _cond_batching_rule(axis_size, vals, dims, branches):
    (index, *ops), (idim, *odims) = vals, dims
    in_batched = [d is not not_mapped for d in odims]
    ops = [x if d is not_mapped else moveaxis(x, d, 0) for x, d in zip(ops, odims)]
    if idim is not_mapped:
        # one branch for the whole batch: batch the branches, agreeing on batched outputs
        out_batched = [any(bs) for bs in zip(*(batch_jaxpr(b, axis_size, in_batched, False)[1]
                                               for b in branches))]
        new = tuple(batch_jaxpr(b, axis_size, in_batched, out_batched)[0] for b in branches)
        outs = cond_p.bind(index, *ops, branches=new)
        return outs, [0 if b else not_mapped for b in out_batched]
    # a predicate per example: run every branch on the batch, then select per example
    index = moveaxis(index, idim, 0)
    results = [eval_closed_jaxpr(batch_jaxpr(b, axis_size, in_batched, True)[0], *ops)
               for b in branches]
    outs = []
    for cases in zip(*results):
        which = lax.broadcast_in_dim(index, get_aval(cases[0]).shape, (0,))
        outs.append(lax.select_n(which, *cases))
    return outs, [0] * len(outs)


batching_rules[cond_p] = _cond_batching_rule


# --- jvp: a cond over the branches' JVPs ---------------------------------------------------------

def _cond_jvp(primals, tangents, branches):
    (index, *ops), (_, *ops_t) = primals, tangents
    nonzeros = [not isinstance(t, Zero) for t in ops_t]
    out_nz = [any(nz) for nz in zip(*(jvp_jaxpr(b, nonzeros, False)[1] for b in branches))]
    new = tuple(jvp_jaxpr(b, nonzeros, out_nz)[0] for b in branches)
    outs = cond_p.bind(index, *ops, *[t for t in ops_t if not isinstance(t, Zero)], branches=new)
    n = len(out_nz)
    t_out = iter(outs[n:])
    return outs[:n], [next(t_out) if nz else Zero(tangent_aval(a))
                      for nz, a in zip(out_nz, branches[0].out_avals)]


jvp_rules[cond_p] = _cond_jvp


# --- partial eval: known and unknown conds that agree on their residuals -----------------------------

def _cond_partial_eval(trace, tracers, branches):
    index, *ops = tracers
    if not index.pval.is_known:   # which branch runs is unknown: stage the whole cond
        return trace.stage(cond_p, tracers, dict(branches=branches), branches[0].out_avals)
    in_uk = [not t.pval.is_known for t in ops]
    out_uk = [any(uk) for uk in zip(*(partial_eval_jaxpr(b, in_uk, False)[2] for b in branches))]
    splits = [partial_eval_jaxpr(b, in_uk, out_uk) for b in branches]
    # Branches save different residuals: every known branch returns all of them (zeros for
    # the other branches'), every unknown branch takes all of them (ignoring the others').
    res_avals = [known.out_avals[len(known.out_avals) - n_res:] for known, _, _, n_res in splits]
    all_res = [a for avals in res_avals for a in avals]
    known_branches, unknown_branches = [], []
    for k, (known, unknown, _, n_res) in enumerate(splits):
        start = sum(len(r) for r in res_avals[:k])
        others_before, others_after = all_res[:start], all_res[start + n_res:]
        known_branches.append(_pad_residuals(known, n_res, others_before, others_after))
        padded = with_unused_inputs(unknown, others_after, n_res)
        unknown_branches.append(with_unused_inputs(padded, others_before, 0))
    known_ops = [t.pval.const for t in ops if t.pval.is_known]
    outs = cond_p.bind(index.pval.const, *known_ops, branches=tuple(known_branches))
    n_known = out_uk.count(False)
    known_out, res = outs[:n_known], outs[n_known:]
    out_avals = [a for a, uk in zip(branches[0].out_avals, out_uk) if uk]
    unknown_ops = [t for t in ops if not t.pval.is_known]
    staged = trace.stage(cond_p, [index] + [trace.pure(r) for r in res] + unknown_ops,
                         dict(branches=tuple(unknown_branches)), out_avals)
    staged, known_out = iter(staged), iter(known_out)
    return [next(staged) if uk else trace.pure(next(known_out)) for uk in out_uk]


def _pad_residuals(known, n_res, before, after):
    """A known branch returning zeros for the residuals of the branches around it."""
    def padded(*args):
        outs = eval_closed_jaxpr(known, *args)
        n = len(outs) - n_res
        zeros = lambda avals: [lax.full(a.shape, 0, a.dtype) for a in avals]
        return outs[:n] + zeros(before) + outs[n:] + zeros(after)
    return trace_flat(padded, known.in_avals, 'cond')


partial_eval_rules[cond_p] = _cond_partial_eval


# --- transpose: a cond over the transposed branches -------------------------------------------------

def _cond_transpose(cts, index, *ops, branches):
    if is_undefined(index):
        raise TypeError("cond's index cannot be a linear input of a transposed computation")
    linear = [is_undefined(x) for x in ops]
    new = tuple(transpose_jaxpr(b, linear) for b in branches)
    outs = iter(cond_p.bind(index, *[x for x in ops if not is_undefined(x)], *cts, branches=new))
    return [None] + [next(outs) if lin else None for lin in linear]


transpose_rules[cond_p] = _cond_transpose
