"""Partial evaluation: compute what is known now, record the rest as a jaxpr.

`linearize(f, x)` runs the JVP of `f` with the primal `x` *known* and the
tangent *unknown*. Every primitive whose inputs are all known is simply
evaluated (the primal computation, and things like `cos(x)` that the tangent
needs). A primitive with an unknown input cannot run yet: it is recorded as
an equation, with the known values it uses ("residuals") captured as
constants. What comes out is the primal output, computed, plus a jaxpr of the
linear tangent map, which `transpose.py` can run backwards (that is `vjp`).

    known:    x ──sin──> sin x                 (computed now)
              x ──cos──> cos x  (residual)
    unknown:  ẋ ──mul(·, cos x)──> ẏ           (recorded: the linear map)

Pieces:
- `PartialVal`: a known value, or only an aval (unknown).
- `PartialEvalTrace` / `PartialEvalTracer`: unknown tracers remember the
  *recipe* that makes them (an argument, a constant, or an equation), and
  `tracers_to_jaxpr` turns recipes reachable from the outputs into a jaxpr.
  Recorded equations keep the tag that was current (JVP rules run their
  tangent math under `core.tag('tangent')`, so the linear map is 'tangent').
- `trace_partial(f, pvals_in, instantiate)` runs a flat function on partial values.
- `partial_eval_jaxpr(closed_jaxpr, in_unknowns, instantiate)` splits a jaxpr
  into a known and an unknown jaxpr (the jit and control-flow primitives use it).

Higher-order primitives register a rule in `partial_eval_rules`:

    partial_eval_rules[prim](trace, tracers, **params) -> list of output tracers

It is called only when some input tracer is unknown. A tracer's partial value
is `t.pval` (`t.pval.is_known`, `t.pval.const`, `t.aval`). A typical rule calls
`partial_eval_jaxpr` on its jaxpr param, binds the known part on the known
inputs' `const`s (results are plain values; pass residuals and known outputs
through `trace.pure`), and records the unknown part with
`trace.stage(prim, in_tracers, params, out_avals)`, which accepts known tracers
too (they become constants of the recorded jaxpr).
"""
import itertools

from . import core
from .ad_util import instantiate_flags
from .core import Trace, Tracer, bind, check_rule_outputs, get_aval, out_avals, raise_to_shaped
from .jaxpr import (ClosedJaxpr, Jaxpr, JaxprEqn, Var, building_jaxpr, current_source_info,
                    inline_literals, eval_jaxpr, trace_to_jaxpr)

partial_eval_rules = {}


class PartialVal:
    """Either a known value (`const`) or just an abstract value (unknown)."""
    __slots__ = ('aval', 'const')

    def __init__(self, aval, const):
        self.aval, self.const = aval, const

    @classmethod
    def known(cls, val):
        return cls(get_aval(val), val)

    @classmethod
    def unknown(cls, aval):
        return cls(raise_to_shaped(aval), None)

    @property
    def is_known(self):
        return self.const is not None

    def __repr__(self):
        return f"PartialVal.{'known' if self.is_known else 'unknown'}({self.aval.str_short()})"


# How an unknown tracer is made: the recipes tracers_to_jaxpr reads.
class LambdaBindingRecipe:
    """An input of the jaxpr being built."""


class ConstRecipe:
    """A known value used by a recorded equation: a constant of the jaxpr."""
    __slots__ = ('val',)

    def __init__(self, val):
        self.val = val


class JaxprEqnRecipe:
    """A recorded equation. `out_vars` are made up front, so output tracers only
    point at (recipe, index) and nothing points back."""
    __slots__ = ('order', 'prim', 'tracers_in', 'params', 'out_vars', 'tag', 'source_info')
    _counter = itertools.count()

    def __init__(self, prim, tracers_in, params, avals_out, tag, source_info=None):
        self.order = next(JaxprEqnRecipe._counter)   # creation order is a topological order
        self.prim, self.tracers_in, self.params = prim, tracers_in, params
        self.out_vars = [Var(a) for a in avals_out]
        self.tag, self.source_info = tag, source_info


class PartialEvalTracer(Tracer):
    __slots__ = ('_trace', 'pval', 'recipe', 'index')

    def __init__(self, trace, pval, recipe, index=0):
        self._trace, self.pval, self.recipe, self.index = trace, pval, recipe, index

    @property
    def aval(self):
        return self.pval.aval

    def full_lower(self):
        return core.full_lower(self.pval.const) if self.pval.is_known else self


class PartialEvalTrace(Trace):
    def new_arg(self, pval):
        if pval.is_known:
            return self.pure(pval.const)
        return PartialEvalTracer(self, pval, LambdaBindingRecipe())

    def pure(self, val):
        return PartialEvalTracer(self, PartialVal.known(val), None)

    lift = pure

    def instantiate_const(self, tracer):
        """Make a known tracer an unknown one (a constant of the recorded jaxpr)."""
        if not tracer.pval.is_known:
            return tracer
        return PartialEvalTracer(self, PartialVal.unknown(tracer.aval), ConstRecipe(tracer.pval.const))

    def stage(self, prim, tracers, params, avals_out):
        """Record `prim` applied to `tracers`; returns its unknown output tracers."""
        # Where it came from matters only when a jaxpr is being built below us: its
        # transpose is then recorded too (eager grad skips the frame walk).
        recipe = JaxprEqnRecipe(prim, [self.instantiate_const(t) for t in tracers], params,
                                [raise_to_shaped(a) for a in avals_out], core.current_tag(),
                                current_source_info() if building_jaxpr() else None)
        return [PartialEvalTracer(self, PartialVal.unknown(v.aval), recipe, i)
                for i, v in enumerate(recipe.out_vars)]

    def process_primitive(self, prim, tracers, params):
        if all(t.pval.is_known for t in tracers):   # everything known: just compute it
            outs = bind(prim, *[t.pval.const for t in tracers], **params)
            return outs if prim.multiple_results else [outs]
        avals_out = out_avals(prim, [t.aval for t in tracers], params)
        rule = partial_eval_rules.get(prim)
        if rule is not None:
            outs = rule(self, tracers, **params)
            check_rule_outputs('partial_eval', prim, 'its output tracers', outs, avals_out)
            return outs
        return self.stage(prim, tracers, params, avals_out)


def tracers_to_jaxpr(tracers_in, tracers_out):
    """The jaxpr that computes the unknown `tracers_out` from the unknown
    `tracers_in`; its constants are the known values the recorded equations use.
    Returns a ClosedJaxpr (scalar constants become literals)."""
    var_of = {id(t): Var(t.aval) for t in tracers_in}
    constvars, consts = {}, []
    recipes = {}

    def var(t):
        if isinstance(t.recipe, JaxprEqnRecipe):
            return t.recipe.out_vars[t.index]
        if isinstance(t.recipe, ConstRecipe):
            key = id(t.recipe.val)
            if key not in constvars:
                constvars[key] = Var(t.aval)
                consts.append(t.recipe.val)
            return constvars[key]
        if id(t) not in var_of:
            raise core.UnexpectedTracerError(
                "A partially evaluated value depends on an input that is not an argument of "
                "the function being linearized: a tracer leaked in from another transformation.")
        return var_of[id(t)]

    # Collect the equations the outputs depend on (iteratively: programs can be long).
    stack = [t for t in tracers_out if isinstance(t.recipe, JaxprEqnRecipe)]
    while stack:
        recipe = stack.pop().recipe
        if recipe.order not in recipes:
            recipes[recipe.order] = recipe
            stack.extend(t for t in recipe.tracers_in if isinstance(t.recipe, JaxprEqnRecipe))
    eqns = [JaxprEqn(r.prim, [var(t) for t in r.tracers_in], r.params, r.out_vars, r.tag,
                     r.source_info)
            for _, r in sorted(recipes.items())]
    outvars = [var(t) for t in tracers_out]
    invars = [var_of[id(t)] for t in tracers_in]
    return inline_literals(Jaxpr(list(constvars.values()), invars, outvars, eqns), consts)


def trace_partial(f, pvals_in, instantiate=False):
    """Run `f` (flat list in, flat list out) on partially known inputs.

    Returns `(pvals_out, unknown_jaxpr)`: known outputs have their values;
    `unknown_jaxpr` (a ClosedJaxpr whose consts are the residuals) maps the
    unknown inputs to the unknown outputs. `instantiate` (a bool, or one per
    output) forces outputs to be unknown (their known value passes through).
    When which outputs to force is only known once `f` has run, `instantiate`
    is a function from the number of outputs to that list (linearize: the
    tangent outputs, which follow the primal outputs).
    """
    with core.new_main(PartialEvalTrace, name='linearize') as main:
        trace = main.trace
        tracers_in = [trace.new_arg(pval) for pval in pvals_in]
        outs = [core.full_raise(trace, o) for o in f(*tracers_in)]
        if callable(instantiate):
            instantiate = instantiate(len(outs))
        outs = [trace.instantiate_const(o) if inst else o
                for o, inst in zip(outs, instantiate_flags(instantiate, len(outs)))]
        unknown_in = [t for t in tracers_in if not t.pval.is_known]
        unknown_out = [t for t in outs if not t.pval.is_known]
        return [t.pval for t in outs], tracers_to_jaxpr(unknown_in, unknown_out)


def partial_eval_jaxpr(closed_jaxpr, in_unknowns, instantiate):
    """Split a jaxpr by which inputs are unknown.

    Returns `(jaxpr_known, jaxpr_unknown, out_unknowns, num_res)`, both
    ClosedJaxprs:
    - `jaxpr_known` takes the known inputs and returns the known outputs
      followed by `num_res` residuals;
    - `jaxpr_unknown` takes the residuals followed by the unknown inputs and
      returns the unknown outputs.
    `instantiate` (a bool or one per output) forces outputs to be unknown.
    """
    pvals_out = unknown = is_res = None   # learned while tracing jaxpr_known

    def known_fun(*known_in):
        nonlocal pvals_out, unknown, is_res
        known_main = core.trace_state.dynamic_trace   # the trace recording jaxpr_known
        known_in = iter(known_in)
        pvals = [PartialVal.unknown(a) if uk else PartialVal.known(next(known_in))
                 for a, uk in zip(closed_jaxpr.in_avals, in_unknowns)]
        pvals_out, unknown = trace_partial(
            lambda *xs: eval_jaxpr(closed_jaxpr.jaxpr, closed_jaxpr.consts, *xs), pvals, instantiate)
        # Constants computed from the known inputs are residuals: outputs of the
        # known jaxpr. Other constants (literal arrays) stay constants.
        is_res = [isinstance(c, Tracer) and c._trace.main is known_main for c in unknown.consts]
        residuals = [c for c, r in zip(unknown.consts, is_res) if r]
        return [p.const for p in pvals_out if p.is_known] + residuals

    known_avals = [raise_to_shaped(a) for a, uk in zip(closed_jaxpr.in_avals, in_unknowns) if not uk]
    jaxpr_known = trace_to_jaxpr(known_fun, known_avals, 'known')
    jaxpr = unknown.jaxpr
    res_vars = [v for v, r in zip(jaxpr.constvars, is_res) if r]
    jaxpr_unknown = ClosedJaxpr(
        Jaxpr([v for v, r in zip(jaxpr.constvars, is_res) if not r], res_vars + jaxpr.invars,
              jaxpr.outvars, jaxpr.eqns),
        [c for c, r in zip(unknown.consts, is_res) if not r])
    return jaxpr_known, jaxpr_unknown, [not p.is_known for p in pvals_out], len(res_vars)
