"""custom_jvp and custom_vjp: tell autodiff how to differentiate a function.

    @custom_jvp
    def log1pexp(x):
        return jnp.log(1. + jnp.exp(x))

    @log1pexp.defjvp
    def log1pexp_jvp(primals, tangents):
        x, = primals
        x_dot, = tangents
        return log1pexp(x), x_dot * jax.nn.sigmoid(x)   # stable where exp(x) overflows

    @custom_vjp
    def clip_gradient(x):
        return x
    clip_gradient.defvjp(lambda x: (x, None),                     # fwd: (output, residuals)
                         lambda res, g: (jnp.clip(g, -1, 1),))    # bwd: one cotangent per input

Which code runs is up to the transformation that meets the call, as in JAX
(each trace type has an entry in `call_rules` below):

    no transformation   the function
    jvp / grad          the rule only: the jvp; or fwd now and bwd in the backward pass
                        (`custom_lin`, a linear primitive whose transpose calls bwd)
    vmap                neither yet: the function and its rules are vmapped together and
                        called one level down, so the rule survives for a jvp below
    jit / make_jaxpr    the function is traced into the `call_jaxpr` of a `custom_jvp_call`
                        (or `custom_vjp_call`) equation that keeps the rules for later

So under `grad` the function itself never runs (its rule computes the primal
output too), and a function with Python control flow on its argument works
under grad as long as its rule is traceable. A recorded equation has the
same rules in the primitives' tables (`jvp_rules[custom_jvp_call_p]`, ...).
"""
import functools

from . import core, dtypes, tree_util
from .core import EvalTrace, Primitive, get_aval, raise_to_shaped
from .ad_util import Zero, instantiate_zeros, tangent_aval, zeros_like_aval
from .jaxpr import JaxprTrace, eval_jaxpr, fun_name, hoist_consts, pp_eqn_rules, trace_to_jaxpr
from .batching import BatchTrace, BatchTracer, batching_rules, bdim_at_front, not_mapped, vmap_flat
from .jvp import JVPTrace, JVPTracer, jvp_rules
from .partial_eval import PartialEvalTrace
from .transpose import is_undefined, transpose_rules

custom_jvp_call_p = Primitive('custom_jvp_call', multiple_results=True)
custom_jvp_call_p.__doc__ = "call_jaxpr with a user-given JVP rule (params: name, call_jaxpr, jvp, num_consts)"
custom_vjp_call_p = Primitive('custom_vjp_call', multiple_results=True)
custom_vjp_call_p.__doc__ = "call_jaxpr with user-given fwd/bwd (params: name, call_jaxpr, fwd, bwd, num_consts)"
custom_lin_p = Primitive('custom_lin', multiple_results=True)
custom_lin_p.__doc__ = "the linear map of a custom_vjp function: its transpose calls bwd"


def _call_impl(*args, call_jaxpr, **_):
    return eval_jaxpr(call_jaxpr.jaxpr, call_jaxpr.consts, *args)


def _call_pp(eqn, names):
    """Print as JAX does: name first, then the params by name, num_consts only when
    there are constants; symbolic_zeros is always False here."""
    params = dict(eqn.params)
    shown = [('name', params.pop('name'))]
    if not params['num_consts']:
        del params['num_consts']
    return shown + sorted(params.items()) + [('symbolic_zeros', False)]


for _prim in (custom_jvp_call_p, custom_vjp_call_p):
    _prim.def_impl(_call_impl)
    _prim.def_abstract_eval(lambda *avals, call_jaxpr, **_: call_jaxpr.out_avals)
    pp_eqn_rules[_prim] = _call_pp


# --- one call, whichever form it takes ------------------------------------------------------

class Call:
    """One call of a custom_jvp / custom_vjp function on flat arguments.

    `fun(*consts, *args)` runs the function (the user's, or a recorded call_jaxpr);
    `rules` holds the flat rules on `args` alone: {'jvp'} or {'fwd', 'bwd'}.
    `num_consts` leading operands are values the function closes over (only a
    recorded call has them: tracing it hoists them into operands).
    """

    def __init__(self, prim, name, fun, rules, num_consts=0):
        self.prim, self.name, self.fun, self.rules, self.num_consts = prim, name, fun, rules, num_consts

    @classmethod
    def of_eqn(cls, prim, name, call_jaxpr, num_consts, **rules):
        """The Call a recorded `custom_*_call` equation stands for."""
        return cls(prim, name, functools.partial(_call_impl, call_jaxpr=call_jaxpr), rules, num_consts)

    def record(self, trace, tracers):
        """Under jit / make_jaxpr: trace the function into a `custom_*_call` equation."""
        closed = trace_to_jaxpr(self.fun, [raise_to_shaped(t.aval) for t in tracers], self.name)
        closed, consts = hoist_consts(closed)   # values of outer transformations it closes over
        return self.prim.bind(*consts, *tracers, name=self.name, call_jaxpr=closed,
                              num_consts=len(consts) + self.num_consts, **self.rules)


def bind_call(call, args):
    """Apply a custom_jvp / custom_vjp call to `args` under the transformation that owns
    them: the rule in `call_rules` for that trace's type decides what runs."""
    trace = core.find_top_trace(args)
    tracers = [core.full_raise(trace, a) for a in args]
    return call_rules.get(type(trace), _run_function)(call, trace, tracers)


def _run_function(call, trace, tracers):
    """No transformation, or one that only needs the function (partial evaluation
    builds linear functions, where the rule is no longer needed: JAX does the same)."""
    if isinstance(trace, PartialEvalTrace) and all(t.pval.is_known for t in tracers):
        return [trace.pure(o) for o in bind_call(call, [t.pval.const for t in tracers])]
    return _no_differentiated_closure(trace, call.fun(*tracers), call)


def _jvp_trace_rule(call, trace, tracers):
    primals, tangents = [t.primal for t in tracers], [t.tangent for t in tracers]
    if all(isinstance(t, Zero) for t in tangents):   # nothing to differentiate: one level down
        outs = _no_differentiated_closure(trace, bind_call(call, primals), call)
        return [JVPTracer(trace, o, Zero.like(o)) for o in outs]
    outs, t_outs = call_jvp_rules[call.prim](call, primals, tangents)
    outs = _no_differentiated_closure(trace, outs, call)
    return [JVPTracer(trace, p, t if dtypes.is_float(get_aval(p).dtype) else Zero.like(p))
            for p, t in zip(outs, t_outs)]


def _no_differentiated_closure(trace, outs, call):
    """The results of a call handled at `trace`'s level, checked: one that carries a
    nonzero tangent of this or a higher jvp was differentiated through what the
    function or its rule closes over, which the custom rule cannot account for (the
    derivative would silently bypass it). One with a zero tangent at this level is
    just its primal value."""
    lowered = []
    for o in outs:
        if isinstance(o, JVPTracer) and o._trace.main.level >= trace.main.level:
            if not isinstance(o.tangent, Zero):
                _closure_error(call.prim)
            if o._trace.main is trace.main:
                o = o.primal
        lowered.append(o)
    return lowered


def _closure_error(prim):
    kind = 'custom_jvp' if prim is custom_jvp_call_p else 'custom_vjp'
    raise TypeError(
        f"Differentiating a {kind} function with respect to a value it closes over: its "
        "custom rule only knows about its explicit arguments. Pass that value as an "
        "argument instead of closing over it.")


def _batch_trace_rule(call, trace, tracers):
    vals, dims = [t.val for t in tracers], [t.bdim for t in tracers]
    if all(d is not_mapped for d in dims):
        return [BatchTracer(trace, o, not_mapped) for o in bind_call(call, vals)]
    outs, out_dims = _batch_call(call, trace.main.global_data, vals, dims)
    return [BatchTracer(trace, o, d) for o, d in zip(outs, out_dims)]


call_rules = {
    EvalTrace: _run_function,
    PartialEvalTrace: _run_function,
    JVPTrace: _jvp_trace_rule,
    BatchTrace: _batch_trace_rule,
    JaxprTrace: lambda call, trace, tracers: call.record(trace, tracers),
}
call_jvp_rules = {}   # custom_*_call_p -> rule(call, primals, tangents) -> (outs, tangents_out)


# --- the user-facing decorators ----------------------------------------------------------

def _nondiff_split(argnums, args, who):
    """(static args by position, the other args) for nondiff_argnums."""
    bad = [i for i in argnums if not -len(args) <= i < len(args)]
    if bad:
        raise TypeError(f"{who}: nondiff_argnums {tuple(argnums)} out of range for a call with "
                        f"{len(args)} positional arguments.")
    argnums = {i % len(args) for i in argnums}
    return ([a for i, a in enumerate(args) if i in argnums],
            tuple(a for i, a in enumerate(args) if i not in argnums), argnums)


def _no_symbolic_zeros(symbolic_zeros, who):
    if symbolic_zeros:
        raise NotImplementedError(
            f"{who}(..., symbolic_zeros=True) is not supported: rules here always receive "
            "instantiated zero tangents/cotangents. Drop symbolic_zeros=True.")


class _CustomBase:
    """What custom_jvp and custom_vjp share: splitting off nondiff args and binding a
    `Call` of the function and its rules."""

    def __init__(self, fun, nondiff_argnums=()):
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.nondiff_argnums = tuple(nondiff_argnums)

    def __call__(self, *args):
        self._check_rules()
        static, dyn, positions = _nondiff_split(self.nondiff_argnums, args, type(self).__name__)
        flat, in_tree = tree_util.tree_flatten(dyn)
        fun = _with_static(self.fun, static, positions, len(args))
        out_tree = _OutTree()

        def flat_fun(*leaves):
            outs, tree = tree_util.tree_flatten(fun(*tree_util.tree_unflatten(in_tree, leaves)))
            out_tree.tree = tree
            return outs
        call = Call(self._prim, fun_name(self.fun), flat_fun,
                    self._flat_rules(static, positions, len(args), in_tree, out_tree))
        outs = bind_call(call, flat)
        return tree_util.tree_unflatten(out_tree.tree, outs)


class _OutTree:
    """The output structure of a call (`.tree`), learned from whichever of the function
    and its rules runs first."""
    tree = None


def _with_static(fun, static, positions, n):
    """fun with the nondiff arguments fixed: a function of the other arguments."""
    def f(*dyn):
        s, d = iter(static), iter(dyn)
        return fun(*[next(s) if i in positions else next(d) for i in range(n)])
    return f


# --- custom_jvp ----------------------------------------------------------------------------

class custom_jvp(_CustomBase):
    """Give `fun` a custom JVP rule: `@f.defjvp` on `jvp(primals, tangents) ->
    (primal_out, tangent_out)` (with nondiff_argnums, `jvp(*nondiff, primals,
    tangents)`). Under jvp and grad only the rule runs. See the module docstring.

        f = custom_jvp(lambda x: jnp.sin(x) if x > 0 else jnp.cos(x))
        f.defjvp(lambda primals, tangents: (f(primals[0]), 2.0 * tangents[0]))
        grad(f)(1.0)    # Array(2., dtype=float32, weak_type=True): f itself never ran
    """
    _prim = custom_jvp_call_p

    def __init__(self, fun, nondiff_argnums=()):
        super().__init__(fun, nondiff_argnums)
        self.jvp = None

    def defjvp(self, jvp, symbolic_zeros=False):
        _no_symbolic_zeros(symbolic_zeros, 'defjvp')
        self.jvp = jvp
        return jvp

    def defjvps(self, *partials):
        """One rule per argument: `partial(t, primal_out, *primals) -> tangent contribution`
        (None: that argument has zero derivative)."""
        def jvp(primals, tangents):
            out = self(*primals)   # as JAX: a second derivative uses these rules again
            t_out = tree_util.tree_map(lambda o: zeros_like_aval(tangent_aval(get_aval(o))), out)
            for p, t in zip(partials, tangents):
                if p is not None:
                    t_out = tree_util.tree_map(lambda a, b: a + b, t_out, p(t, out, *primals))
            return out, t_out
        self.defjvp(jvp)

    def _check_rules(self):
        if self.jvp is None:
            raise TypeError(f"No JVP defined for custom_jvp function {self.__name__} using "
                            f"defjvp: add `@{self.__name__}.defjvp` on a rule "
                            "`jvp(primals, tangents) -> (primal_out, tangent_out)`.")

    def _flat_rules(self, static, positions, n, in_tree, out_tree):
        """The user's jvp as a function of flat primals and tangents, checked."""
        def rule(primals, tangents):
            unflat = lambda xs: tuple(tree_util.tree_unflatten(in_tree, xs))
            out, t_out = self.jvp(*static, unflat(primals), unflat(tangents))
            outs, tree = tree_util.tree_flatten(out)
            t_outs, t_tree = tree_util.tree_flatten(t_out)
            known = out_tree.tree
            if tree != t_tree or (known is not None and tree != known):
                raise TypeError(f"The custom JVP rule of {self.__name__} must return (primal_out, "
                                f"tangent_out) with the structure of the function's output"
                                f"{'' if known is None else f', {known}'}; it returned structures "
                                f"{tree} and {t_tree}.")
            out_tree.tree = tree
            for o, t in zip(outs, t_outs):
                if get_aval(t).shape != get_aval(o).shape:
                    raise TypeError(f"The custom JVP rule of {self.__name__} returned a tangent of "
                                    f"shape {get_aval(t).shape} for an output of shape "
                                    f"{get_aval(o).shape}.")
            return outs, t_outs
        rule.__name__ = getattr(self.jvp, '__name__', 'jvp')
        return dict(jvp=rule)


def _check_no_const_tangents(tangents, num_consts, prim):
    if any(not isinstance(t, Zero) for t in tangents[:num_consts]):
        _closure_error(prim)


def _custom_jvp_call_jvp(call, primals, tangents):
    _check_no_const_tangents(tangents, call.num_consts, call.prim)
    n = call.num_consts
    with core.tag('tangent'):
        return call.rules['jvp'](primals[n:], [instantiate_zeros(t) for t in tangents[n:]])


call_jvp_rules[custom_jvp_call_p] = _custom_jvp_call_jvp
jvp_rules[custom_jvp_call_p] = lambda primals, tangents, **params: _custom_jvp_call_jvp(
    Call.of_eqn(custom_jvp_call_p, **params), primals, tangents)


# --- custom_vjp ----------------------------------------------------------------------------

class custom_vjp(_CustomBase):
    """Give `fun` a custom VJP: `f.defvjp(fwd, bwd)` with `fwd(*args) -> (out, residuals)`
    and `bwd(residuals, out_cotangent) -> tuple of one cotangent per argument` (with
    nondiff_argnums, `bwd(*nondiff, residuals, ct)`; None means zero). Under grad and
    vjp, fwd runs instead of the function and bwd in the backward pass. Forward mode
    (jvp) of such a function is an error, as in JAX.

        f = custom_vjp(jnp.sin)
        f.defvjp(lambda x: (jnp.sin(x), jnp.cos(x)), lambda cos_x, g: (cos_x * g,))
        grad(f)(0.0)    # Array(1., dtype=float32, weak_type=True): fwd, then bwd, ran
    """
    _prim = custom_vjp_call_p

    def __init__(self, fun, nondiff_argnums=()):
        super().__init__(fun, nondiff_argnums)
        self.fwd = self.bwd = None

    def defvjp(self, fwd, bwd, symbolic_zeros=False):
        _no_symbolic_zeros(symbolic_zeros, 'defvjp')
        self.fwd, self.bwd = fwd, bwd

    def _check_rules(self):
        if self.fwd is None:
            raise TypeError(f"No VJP defined for custom_vjp function {self.__name__}: call "
                            f"{self.__name__}.defvjp(fwd, bwd) first.")

    def _flat_rules(self, static, positions, n, in_tree, out_tree):
        """The user's fwd and bwd on flat lists. `fwd` returns (outs, residuals);
        `bwd(residuals, cts)` returns one cotangent per flat input (None: zero)."""
        res_tree = in_avals = None   # learned when fwd runs

        def fwd(*flat):
            nonlocal res_tree, in_avals
            in_avals = [raise_to_shaped(get_aval(x)) for x in flat]
            out, res = _with_static(self.fwd, static, positions, n)(*tree_util.tree_unflatten(in_tree, flat))
            outs, tree = tree_util.tree_flatten(out)
            known = out_tree.tree
            if known is not None and tree != known:
                raise TypeError(f"The fwd of custom_vjp function {self.__name__} must return "
                                f"(output, residuals) with output structured like the function's, "
                                f"{known}, but its output has structure {tree}.")
            out_tree.tree = tree
            res_flat, res_tree = tree_util.tree_flatten(res)
            return outs, res_flat

        def bwd(res_flat, cts):
            res = tree_util.tree_unflatten(res_tree, res_flat)
            ct_in = self.bwd(*static, res, tree_util.tree_unflatten(out_tree.tree, cts))
            return _check_bwd_result(self.__name__, ct_in, in_tree, in_avals)

        fwd.__name__ = getattr(self.fwd, '__name__', 'fwd')
        bwd.__name__ = getattr(self.bwd, '__name__', 'bwd')
        return dict(fwd=fwd, bwd=bwd)


def _check_bwd_result(name, ct_in, in_tree, in_avals):
    """bwd's result as one cotangent (or None) per flat input, checked."""
    args_proto = tree_util.tree_unflatten(in_tree, [0] * in_tree.num_leaves)
    if not isinstance(ct_in, (tuple, list)) or len(ct_in) != len(args_proto):
        got = f"a value of type {type(ct_in).__name__}" + (
            f" of length {len(ct_in)}" if isinstance(ct_in, (tuple, list)) else "")
        raise TypeError(f"The bwd of custom_vjp function {name} must return a tuple with "
                        f"one cotangent per differentiable argument ({len(args_proto)}), but it "
                        f"returned {got}.")
    leaves = []
    for i, (proto, ct) in enumerate(zip(args_proto, ct_in)):
        want = tree_util.tree_structure(proto)
        if ct is None:   # a zero cotangent for the whole argument
            leaves += [None] * want.num_leaves
            continue
        ct_leaves, got = tree_util.tree_flatten(ct)
        if got != want:
            raise TypeError(f"The bwd of custom_vjp function {name} returned a cotangent "
                            f"with structure {got} for argument {i}, whose structure is {want}.")
        leaves += ct_leaves
    for c, a in zip(leaves, in_avals):
        if c is not None and tuple(get_aval(c).shape) != a.shape:
            raise TypeError(f"The bwd of custom_vjp function {name} returned a cotangent "
                            f"of shape {tuple(get_aval(c).shape)} for an argument of shape {a.shape}.")
    return leaves


def _custom_vjp_call_jvp(call, primals, tangents):
    _check_no_const_tangents(tangents, call.num_consts, call.prim)
    n = call.num_consts
    args, arg_tangents = primals[n:], tangents[n:]
    outs, res = call.rules['fwd'](*args)
    is_float = [dtypes.is_float(get_aval(a).dtype) for a in args]
    with core.tag('tangent'):
        t_outs = custom_lin_p.bind(*res, *[instantiate_zeros(t) for t, f in zip(arg_tangents, is_float) if f],
                                   num_res=len(res), bwd=call.rules['bwd'],
                                   out_avals=tuple(tangent_aval(get_aval(o)) for o in outs),
                                   arg_is_float=tuple(is_float))
    return outs, t_outs


call_jvp_rules[custom_vjp_call_p] = _custom_vjp_call_jvp
jvp_rules[custom_vjp_call_p] = lambda primals, tangents, **params: _custom_vjp_call_jvp(
    Call.of_eqn(custom_vjp_call_p, **params), primals, tangents)


def _custom_lin_impl(*args, **params):
    raise TypeError("can't apply forward-mode autodiff (jvp) to a custom_vjp function: it only "
                    "defines reverse mode. Use grad / vjp, or define the function with custom_jvp.")


def _custom_lin_transpose(cts, *args, num_res, bwd, out_avals, arg_is_float):
    res, tangents_in = args[:num_res], args[num_res:]
    cts_in = [c for c, f in zip(bwd(list(res), cts), arg_is_float) if f]   # one per float argument
    return [None] * num_res + [(Zero(x.aval) if c is None else c) if is_undefined(x) else None
                               for c, x in zip(cts_in, tangents_in)]


custom_lin_p.def_impl(_custom_lin_impl)
custom_lin_p.def_abstract_eval(lambda *avals, out_avals, **_: list(out_avals))
transpose_rules[custom_lin_p] = _custom_lin_transpose


# --- under vmap: the function and its rules vmapped together, called one level down ------------
# Every operand is moved (or broadcast) to batch axis 0, so the rules' arguments
# (and the tangents and cotangents that follow them) are all batched at axis 0.

def _vmapped(flat_fun, axis_size, args):
    """vmap a flat function over axis 0 of all its arguments and outputs."""
    return vmap_flat(flat_fun, axis_size, [0] * len(args), lambda dims: [0] * len(dims), list(args))


def _batched_jvp(jvp, axis_size):
    def batched_jvp(primals, tangents):
        n = len(primals)
        outs = _vmapped(lambda *pt: (lambda o, t: list(o) + list(t))(*jvp(list(pt[:n]), list(pt[n:]))),
                        axis_size, [*primals, *tangents])
        return outs[:len(outs) // 2], outs[len(outs) // 2:]
    batched_jvp.__name__ = f"vmap({jvp.__name__})"
    return dict(jvp=batched_jvp)


def _batched_fwd_bwd(fwd, bwd, axis_size, arg_avals):
    """fwd and bwd vmapped; `arg_avals` (one example's arguments) shape the zeros that
    stand for a None cotangent, which cannot leave vmap."""
    n_out = None   # learned when fwd runs

    def batched_fwd(*args):
        def one(*xs):
            nonlocal n_out
            out, res = fwd(*xs)
            n_out = len(out)
            return list(out) + list(res)
        outs = _vmapped(one, axis_size, args)
        return outs[:n_out], outs[n_out:]

    def batched_bwd(res, cts):
        def one(*rc):
            cts_in = bwd(list(rc[:len(res)]), list(rc[len(res):]))
            return [zeros_like_aval(a) if c is None else c for c, a in zip(cts_in, arg_avals)]
        return _vmapped(one, axis_size, [*res, *cts])

    batched_fwd.__name__, batched_bwd.__name__ = f"vmap({fwd.__name__})", f"vmap({bwd.__name__})"
    return dict(fwd=batched_fwd, bwd=batched_bwd)


def _batch_call(call, axis_size, vals, dims):
    """(outs, out_dims) of `call` on batched operands: a Call of the vmapped function
    and rules, bound one level down on operands batched at axis 0."""
    vals = [bdim_at_front(v, d, axis_size) for v, d in zip(vals, dims)]
    fun = lambda *xs: _vmapped(call.fun, axis_size, xs)
    if call.prim is custom_jvp_call_p:
        rules = _batched_jvp(call.rules['jvp'], axis_size)
    else:
        example_avals = [raise_to_shaped(get_aval(v)).update(shape=get_aval(v).shape[1:])
                         for v in vals[call.num_consts:]]
        rules = _batched_fwd_bwd(call.rules['fwd'], call.rules['bwd'], axis_size, example_avals)
    batched = Call(call.prim, call.name, fun, rules, call.num_consts)
    outs = bind_call(batched, vals)
    return outs, [0] * len(outs)


for _prim in (custom_jvp_call_p, custom_vjp_call_p):
    batching_rules[_prim] = functools.partial(
        lambda prim, axis_size, vals, dims, **params: _batch_call(Call.of_eqn(prim, **params),
                                                                  axis_size, vals, dims), _prim)
