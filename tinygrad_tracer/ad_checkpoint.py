"""checkpoint (remat): recompute in the backward pass instead of storing residuals.

Reverse mode keeps every value the backward pass needs ("residuals": `cos x`
for `sin x`, each layer's activations) from the forward pass until the
backward pass reads it. `checkpoint(f)` trades memory for time: inside `f`,
only the inputs are kept, and the backward pass runs `f`'s forward
computation again to get the rest.

    >>> g = checkpoint(lambda x: jnp.sin(jnp.sin(x)))
    >>> grad(g)(1.0)             # the same number as without checkpoint
    Array(0.36003947, dtype=float32, weak_type=True)
    >>> print(make_jaxpr(grad(g))(1.0))   # the backward `remat2` recomputes sin
    { lambda ; a:f32[]. let
        b:f32[] = sin a
        _:f32[] = sin b
        c:f32[] = remat2[
          differentiated=True
          jaxpr={ lambda ; d:f32[] e:f32[]. let
              f:f32[] = sin d
              g:f32[] = cos d
              h:f32[] = cos f
              i:f32[] = mul e h
              j:f32[] = mul i g
            in (j,) }
          policy=None
          prevent_cse=True
        ] a 1.0:f32[]
      in (c,) }

It is a primitive, `remat_p` (JAX calls it `remat2`), holding `f`'s jaxpr, with
a rule in every transformation's table:

    jvp            a remat of the JVP jaxpr (primal and tangent together)
    partial eval   where the policy decides: the known part runs now; of the known
                   values the unknown part needs, the policy's `saveable` ones are
                   residuals and the others are recomputed inside the staged remat
    transpose      a remat of the transposed jaxpr, recomputation included
    vmap           a remat of the batched jaxpr
    impl / jit     just the jaxpr (the backends inline it)

`policy(prim, *avals_in, **params) -> bool` says which equations' results may be
saved (`checkpoint_policies`); None saves nothing but the inputs. Values named
with `checkpoint_name(x, 'name')` can be picked by name.
"""
import functools
import types

import numpy as np

from . import tree_util
from .core import Primitive, get_aval, raise_to_shaped
from .ad_util import Zero, tangent_aval
from .lax_callback import debug_callback_p
from .jaxpr import ClosedJaxpr, Jaxpr, Var, eval_jaxpr, fun_name, hoist_consts, trace_to_jaxpr
from .batching import batching_rules, batch_jaxpr, moveaxis, not_mapped
from .jvp import jvp_rules, jvp_jaxpr
from .partial_eval import partial_eval_rules
from .transpose import transpose_rules, transpose_jaxpr, is_undefined

remat_p = Primitive('remat2', multiple_results=True)
remat_p.__doc__ = "run jaxpr; under grad, recompute it in the backward pass (params: jaxpr, " \
                  "prevent_cse, differentiated, policy)"
name_p = Primitive('name')
name_p.__doc__ = "the identity, naming its operand for checkpoint policies (param: name)"

remat_p.def_impl(lambda *args, jaxpr, **_: eval_jaxpr(jaxpr.jaxpr, jaxpr.consts, *args))
remat_p.def_abstract_eval(lambda *avals, jaxpr, **_: jaxpr.out_avals)
name_p.def_impl(lambda x, name: x)
name_p.def_abstract_eval(lambda aval, name: aval)


# --- the user-facing functions ---------------------------------------------------------------

def checkpoint(fun, *, prevent_cse=True, policy=None, static_argnums=()):
    """`fun`, but reverse mode recomputes its intermediate values in the backward pass
    instead of storing them; `policy` (see `checkpoint_policies`) names those worth
    saving. `static_argnums` are Python values fixed at trace time (so `fun` may branch
    on them); `prevent_cse` is kept as a param (no backend here merges equations).

        >>> layer = checkpoint(lambda W, x: jnp.tanh(W @ x), policy=checkpoint_policies.dots_saveable)
        >>> grad(lambda W: layer(W, jnp.ones(2)).sum())(jnp.eye(2)).shape
        (2, 2)
    """
    static_argnums = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)

    @functools.wraps(fun)
    def remat_fun(*args, **kwargs):
        static = _static_positions(static_argnums, len(args))
        dyn = [a for i, a in enumerate(args) if i not in static]

        def with_static(dyn_args, kw):
            it = iter(dyn_args)
            return fun(*[args[i] if i in static else next(it) for i in range(len(args))], **kw)
        flat, in_tree = tree_util.tree_flatten((dyn, kwargs))
        flat_fun, out_tree = tree_util.flatten_fun(with_static, in_tree)
        closed = trace_to_jaxpr(flat_fun, [raise_to_shaped(get_aval(x)) for x in flat], fun_name(fun))
        closed, consts = hoist_consts(closed)   # values of outer transformations it closes over
        outs = remat_p.bind(*consts, *flat, jaxpr=closed, prevent_cse=prevent_cse,
                            differentiated=False, policy=policy)
        return tree_util.tree_unflatten(out_tree(), outs)
    return remat_fun


remat = checkpoint


def _static_positions(static_argnums, n):
    bad = [i for i in static_argnums if not isinstance(i, int) or not -n <= i < n]
    if bad:
        raise ValueError(f"checkpoint's static_argnums {static_argnums} must be ints from -{n} to "
                         f"{n - 1}: the call has {n} positional arguments.")
    return {i % n for i in static_argnums}


def checkpoint_name(x, name):
    """x, named `name` for `checkpoint_policies.save_only_these_names(name)` and the like
    (works on pytrees).

        >>> checkpoint_name(jnp.ones(2), 'hidden')
        Array([1., 1.], dtype=float32)
    """
    return tree_util.tree_map(lambda leaf: name_p.bind(leaf, name=name), x)


# --- policies: which equations' results the backward pass may keep -----------------------------

def everything_saveable(*_, **__):
    """Save every residual: checkpoint changes nothing."""
    return True


def nothing_saveable(*_, **__):
    """Save only the inputs; recompute everything else (the default, policy=None)."""
    return False


class DotsSaveable:
    """Save the results of matrix products (dot_general, convolutions), recompute the
    cheap elementwise rest; with only_if_no_batch_dims, only dots without batch axes."""

    def __init__(self, only_if_no_batch_dims):
        self.only_if_no_batch_dims = only_if_no_batch_dims

    def __call__(self, prim, *avals, **params):
        if self.only_if_no_batch_dims:
            return prim.name == 'dot_general' and params['dimension_numbers'][1] == ((), ())
        return prim.name in ('dot_general', 'conv_general_dilated')

    def __repr__(self):
        return f"DotsSaveable(only_if_no_batch_dims={self.only_if_no_batch_dims})"


class SaveOnlyTheseNames:
    """Save the values named (checkpoint_name) with one of `saveable_names`, nothing else."""

    def __init__(self, saveable_names):
        self.saveable_names = frozenset(saveable_names)

    def __call__(self, prim, *avals, **params):
        return prim is name_p and params['name'] in self.saveable_names

    def __repr__(self):
        return f"SaveOnlyTheseNames(saveable_names={self.saveable_names})"


class SaveAnyNamesButThese:
    """Save every named value except those named one of `names`, nothing unnamed."""

    def __init__(self, names):
        self.names = frozenset(names)

    def __call__(self, prim, *avals, **params):
        return prim is name_p and params['name'] not in self.names

    def __repr__(self):
        return f"SaveAnyNamesButThese(names={self.names})"


def save_from_both_policies(policy_1, policy_2):
    """Save what either policy saves."""
    def policy(prim, *avals, **params):
        return policy_1(prim, *avals, **params) or policy_2(prim, *avals, **params)
    return policy


checkpoint_policies = types.SimpleNamespace(
    everything_saveable=everything_saveable,
    nothing_saveable=nothing_saveable,
    dots_saveable=DotsSaveable(False),
    checkpoint_dots=DotsSaveable(False),
    dots_with_no_batch_dims_saveable=DotsSaveable(True),
    checkpoint_dots_with_no_batch_dims=DotsSaveable(True),
    save_only_these_names=lambda *names: SaveOnlyTheseNames(names),
    save_any_names_but_these=lambda *names: SaveAnyNamesButThese(names),
    save_from_both_policies=save_from_both_policies,
)


def _saveable(policy, eqn):
    if policy is None:
        return False
    saved = policy(eqn.primitive, *[x.aval for x in eqn.inputs], **eqn.params)
    if not isinstance(saved, (bool, np.bool_)):
        raise TypeError(f"A checkpoint policy must return True (save) or False (recompute); "
                        f"{policy!r} returned {saved!r} for {eqn.primitive}.")
    return bool(saved)


# --- the rules ----------------------------------------------------------------------------------

def _remat_jvp(primals, tangents, jaxpr, **params):
    nonzeros = [not isinstance(t, Zero) for t in tangents]
    new_jaxpr, out_nz = jvp_jaxpr(jaxpr, nonzeros, False)
    outs = remat_p.bind(*primals, *[t for t in tangents if not isinstance(t, Zero)],
                        jaxpr=new_jaxpr, **params)
    n = len(out_nz)
    t_out = iter(outs[n:])
    return outs[:n], [next(t_out) if nz else Zero(tangent_aval(a))
                      for nz, a in zip(out_nz, jaxpr.out_avals)]


def _remat_partial_eval(trace, tracers, jaxpr, prevent_cse, differentiated, policy):
    """The known part runs now (inline, as in JAX); the unknown part is staged as a remat
    that takes the residuals the policy saved and recomputes the rest."""
    in_uk = [not t.pval.is_known for t in tracers]
    known, staged, out_uk = split_by_policy(jaxpr, in_uk, policy)
    known_outs = eval_jaxpr(known.jaxpr, known.consts, *[t.pval.const for t in tracers if t.pval.is_known])
    n_res = len(staged.jaxpr.invars) - in_uk.count(True)
    n_known = len(known_outs) - n_res
    residuals = [trace.pure(r) for r in known_outs[n_known:]]
    staged_outs = trace.stage(remat_p, residuals + [t for t in tracers if not t.pval.is_known],
                              dict(jaxpr=staged, prevent_cse=prevent_cse, differentiated=True,
                                   policy=policy), staged.out_avals)
    staged_outs, known_outs = iter(staged_outs), iter(known_outs[:n_known])
    return [next(staged_outs) if uk else trace.pure(next(known_outs)) for uk in out_uk]


def split_by_policy(closed, in_unknowns, policy):
    """Split a jaxpr by which inputs are unknown, `policy` choosing the residuals.

    Returns `(known, staged, out_unknowns)`: `known` takes the known inputs and returns
    the known outputs followed by the residuals; `staged` takes the residuals followed
    by the unknown inputs and returns the unknown outputs. A known value the unknown
    equations read is a residual if it is an input or `policy` saves the equation
    that made it; otherwise that equation is copied into `staged` (recomputed), and
    so on up its known inputs.
    """
    jaxpr = closed.jaxpr
    unknown = {v for v, uk in zip(jaxpr.invars, in_unknowns) if uk}
    is_unknown = lambda x: isinstance(x, Var) and x in unknown
    made_by = {}   # known var -> the known equation that made it
    for eqn in jaxpr.eqns:
        if any(is_unknown(x) for x in eqn.inputs):
            unknown.update(eqn.out_binders)
        else:
            made_by.update((v, eqn) for v in eqn.out_binders)
    out_uk = [is_unknown(v) for v in jaxpr.outvars]
    # Staged: what the unknown outputs need, and every effect (a debug callback runs
    # again when its part of the function is recomputed, as in JAX).
    staged_eqns = _live_eqns(jaxpr.eqns, [v for v, uk in zip(jaxpr.outvars, out_uk) if uk],
                             lambda e: any(is_unknown(x) for x in e.inputs) or _is_effect(e))
    # What the unknown side reads of the known one: residuals, or recomputed.
    residuals, recomputed, seen = [], set(), set()
    stack = [x for e in staged_eqns for x in e.inputs if isinstance(x, Var) and not is_unknown(x)]
    while stack:
        v = stack.pop()
        if v in seen or v in jaxpr.constvars:
            continue
        seen.add(v)
        eqn = made_by.get(v)
        if eqn is None or _saveable(policy, eqn):
            residuals.append(v)
        elif id(eqn) not in recomputed:
            recomputed.add(id(eqn))
            stack.extend(x for x in eqn.inputs if isinstance(x, Var))
    residuals.sort(key=_order_of(jaxpr))
    staged_set = {id(e) for e in staged_eqns} | recomputed
    staged = ClosedJaxpr(Jaxpr(jaxpr.constvars, residuals + [v for v in jaxpr.invars if v in unknown],
                               [v for v, uk in zip(jaxpr.outvars, out_uk) if uk],
                               [e for e in jaxpr.eqns if id(e) in staged_set]), closed.consts)
    known_outs = [v for v, uk in zip(jaxpr.outvars, out_uk) if not uk] + residuals
    known_eqns = _live_eqns(jaxpr.eqns, known_outs, lambda e: not any(is_unknown(x) for x in e.inputs))
    known = ClosedJaxpr(Jaxpr(jaxpr.constvars, [v for v in jaxpr.invars if v not in unknown],
                              known_outs, known_eqns), closed.consts)
    return known, staged, out_uk


def _is_effect(eqn):
    return eqn.primitive is debug_callback_p


def _live_eqns(eqns, outvars, keep):
    """The equations among those `keep` accepts that `outvars` or an effect depend on,
    in order."""
    live = {v for v in outvars if isinstance(v, Var)}
    out = []
    for eqn in reversed(eqns):
        if keep(eqn) and (_is_effect(eqn) or any(v in live for v in eqn.out_binders)):
            out.append(eqn)
            live.update(x for x in eqn.inputs if isinstance(x, Var))
    return out[::-1]


def _order_of(jaxpr):
    """Sort key of residuals, in JAX's order: the saved results of equations in the
    order they are made, then the inputs in order."""
    order = {v: i for i, v in enumerate([v for e in jaxpr.eqns for v in e.out_binders] + jaxpr.invars)}
    return order.__getitem__


def _remat_transpose(cts, *args, jaxpr, **params):
    linear = [is_undefined(a) for a in args]
    outs = iter(remat_p.bind(*[a for a in args if not is_undefined(a)], *cts,
                             jaxpr=transpose_jaxpr(jaxpr, linear), **params))
    return [next(outs) if lin else None for lin in linear]


def _remat_batching(axis_size, vals, dims, jaxpr, **params):
    new_jaxpr, out_batched = batch_jaxpr(jaxpr, axis_size, [d is not not_mapped for d in dims], False)
    vals = [v if d is not_mapped else moveaxis(v, d, 0) for v, d in zip(vals, dims)]
    outs = remat_p.bind(*vals, jaxpr=new_jaxpr, **params)
    return outs, [0 if b else not_mapped for b in out_batched]


jvp_rules[remat_p] = _remat_jvp
partial_eval_rules[remat_p] = _remat_partial_eval
transpose_rules[remat_p] = _remat_transpose
batching_rules[remat_p] = _remat_batching

# checkpoint_name: the identity; a tangent passes through unnamed, as in JAX.
jvp_rules[name_p] = lambda primals, tangents, name: ([name_p.bind(primals[0], name=name)], tangents)
transpose_rules[name_p] = lambda cts, x, name: [cts[0]]
batching_rules[name_p] = lambda axis_size, vals, dims, name: ([name_p.bind(vals[0], name=name)], dims)
