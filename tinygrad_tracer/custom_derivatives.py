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

Called on plain arrays, a decorated function just runs. Under a
transformation it binds a primitive holding the function's jaxpr:
`custom_jvp_call` (the JVP rule calls your jvp) or `custom_vjp_call` (the JVP
rule runs your fwd and emits `custom_lin`, a linear primitive whose transpose
calls your bwd). Other transformations (vmap, jit) see the function itself:
they evaluate the jaxpr, so the custom rule applies to the differentiation
that is outermost, as in the common uses. The function is traced abstractly
when a transformation sees it; its rules run on the actual values.
"""
import functools

from . import core, dtypes, tree_util
from .core import Primitive, get_aval, raise_to_shaped
from .ad_util import Zero, instantiate_zeros, tangent_aval, zeros_like_aval
from .jaxpr import eval_jaxpr, fun_name, hoist_consts, trace_to_jaxpr
from .batching import batch_jaxpr, batching_rules, bdim_at_front, vmap_flat
from .jvp import jvp_rules
from .transpose import is_undefined, transpose_rules

custom_jvp_call_p = Primitive('custom_jvp_call', multiple_results=True)
custom_jvp_call_p.__doc__ = "call_jaxpr with a user-given JVP rule (params: call_jaxpr, jvp, num_consts)"
custom_vjp_call_p = Primitive('custom_vjp_call', multiple_results=True)
custom_vjp_call_p.__doc__ = "call_jaxpr with user-given fwd/bwd (params: call_jaxpr, fwd, bwd, num_consts)"
custom_lin_p = Primitive('custom_lin', multiple_results=True)
custom_lin_p.__doc__ = "the linear map of a custom_vjp function: its transpose calls bwd"


def _call_impl(*args, call_jaxpr, **_):
    return eval_jaxpr(call_jaxpr.jaxpr, call_jaxpr.consts, *args)


for _prim in (custom_jvp_call_p, custom_vjp_call_p):
    _prim.def_impl(_call_impl)
    _prim.def_abstract_eval(lambda *avals, call_jaxpr, **_: call_jaxpr.out_avals)


def _nondiff_split(argnums, args, who):
    """(static args by position, the other args) for nondiff_argnums."""
    bad = [i for i in argnums if not -len(args) <= i < len(args)]
    if bad:
        raise TypeError(f"{who}: nondiff_argnums {tuple(argnums)} out of range for a call with "
                        f"{len(args)} positional arguments.")
    argnums = {i % len(args) for i in argnums}
    return ([a for i, a in enumerate(args) if i in argnums],
            tuple(a for i, a in enumerate(args) if i not in argnums), argnums)


class _CustomBase:
    """What custom_jvp and custom_vjp share: splitting off nondiff args, and
    binding the primitive with the function's jaxpr when a transformation is on."""

    def __init__(self, fun, nondiff_argnums=()):
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.nondiff_argnums = tuple(nondiff_argnums)

    def _prepare(self, args):
        static, dyn, positions = _nondiff_split(self.nondiff_argnums, args, type(self).__name__)
        fun = _with_static(self.fun, static, positions, len(args))
        flat, in_tree = tree_util.tree_flatten(dyn)
        return static, positions, fun, flat, in_tree

    def _is_eager(self, flat):
        return isinstance(core.find_top_trace(flat), core.EvalTrace)

    def _trace(self, fun, flat, in_tree):
        """The function's jaxpr; constants that are tracers become leading operands."""
        flat_fun, out_tree = tree_util.flatten_fun(fun, in_tree)
        closed = trace_to_jaxpr(flat_fun, [raise_to_shaped(get_aval(x)) for x in flat],
                                fun_name(self.fun))
        closed, consts = hoist_consts(closed)
        return closed, consts, out_tree()


def _with_static(fun, static, positions, n):
    """fun with the nondiff arguments fixed: a function of the other arguments."""
    def f(*dyn):
        s, d = iter(static), iter(dyn)
        return fun(*[next(s) if i in positions else next(d) for i in range(n)])
    return f


class custom_jvp(_CustomBase):
    """Give `fun` a custom JVP rule: `@f.defjvp` on `jvp(primals, tangents) ->
    (primal_out, tangent_out)` (with nondiff_argnums, `jvp(*nondiff, primals,
    tangents)`). See the module docstring for an example."""

    def __init__(self, fun, nondiff_argnums=()):
        super().__init__(fun, nondiff_argnums)
        self.jvp = None

    def defjvp(self, jvp):
        self.jvp = jvp
        return jvp

    def defjvps(self, *partials):
        """One rule per argument: `partial(t, primal_out, *primals) -> tangent contribution`
        (None: that argument has zero derivative)."""
        def jvp(primals, tangents):
            out = self.fun(*primals)
            t_out = tree_util.tree_map(lambda o: zeros_like_aval(tangent_aval(get_aval(o))), out)
            for p, t in zip(partials, tangents):
                if p is not None:
                    t_out = tree_util.tree_map(lambda a, b: a + b, t_out, p(t, out, *primals))
            return out, t_out
        self.defjvp(jvp)

    def __call__(self, *args):
        if self.jvp is None:
            raise TypeError(f"No JVP defined for custom_jvp function {self.__name__} using "
                            f"defjvp: add `@{self.__name__}.defjvp` on a rule "
                            "`jvp(primals, tangents) -> (primal_out, tangent_out)`.")
        static, positions, fun, flat, in_tree = self._prepare(args)
        if self._is_eager(flat):
            return self.fun(*args)
        closed, consts, out_tree = self._trace(fun, flat, in_tree)
        rule = _flat_jvp_rule(self, static, in_tree, out_tree, closed.out_avals)
        outs = custom_jvp_call_p.bind(*consts, *flat, call_jaxpr=closed, jvp=rule,
                                      num_consts=len(consts))
        return tree_util.tree_unflatten(out_tree, outs)


def _flat_jvp_rule(f, static, in_tree, out_tree, out_avals):
    """The user's jvp as a function of flat primals and tangents, checked."""
    def rule(primals, tangents):
        unflat = lambda xs: tuple(tree_util.tree_unflatten(in_tree, xs))
        out, t_out = f.jvp(*static, unflat(primals), unflat(tangents))
        outs, tree = tree_util.tree_flatten(out)
        t_outs, t_tree = tree_util.tree_flatten(t_out)
        if tree != out_tree or t_tree != out_tree:
            raise TypeError(f"The custom JVP rule of {f.__name__} must return (primal_out, "
                            f"tangent_out) with the structure of the function's output, {out_tree}; "
                            f"it returned structures {tree} and {t_tree}.")
        for t, a in zip(t_outs, out_avals):
            if get_aval(t).shape != a.shape:
                raise TypeError(f"The custom JVP rule of {f.__name__} returned a tangent of shape "
                                f"{get_aval(t).shape} for an output of shape {a.shape}.")
        return outs, t_outs
    rule.__name__ = getattr(f.jvp, '__name__', 'jvp')
    return rule


def _check_no_const_tangents(tangents, num_consts, name):
    if any(not isinstance(t, Zero) for t in tangents[:num_consts]):
        raise TypeError(
            f"Differentiating a {name} function with respect to a value it closes over: its "
            "custom rule only knows about its explicit arguments. Pass that value as an "
            "argument instead of closing over it.")


def _custom_jvp_call_jvp(primals, tangents, call_jaxpr, jvp, num_consts):
    _check_no_const_tangents(tangents, num_consts, 'custom_jvp')
    with core.tag('tangent'):
        return jvp(primals[num_consts:], [instantiate_zeros(t) for t in tangents[num_consts:]])


jvp_rules[custom_jvp_call_p] = _custom_jvp_call_jvp


class custom_vjp(_CustomBase):
    """Give `fun` a custom VJP: `f.defvjp(fwd, bwd)` with `fwd(*args) -> (out, residuals)`
    and `bwd(residuals, out_cotangent) -> tuple of one cotangent per argument` (with
    nondiff_argnums, `bwd(*nondiff, residuals, ct)`; None means zero). Forward mode
    (jvp) of such a function is an error, as in JAX."""

    def __init__(self, fun, nondiff_argnums=()):
        super().__init__(fun, nondiff_argnums)
        self.fwd = self.bwd = None

    def defvjp(self, fwd, bwd):
        self.fwd, self.bwd = fwd, bwd

    def __call__(self, *args):
        if self.fwd is None:
            raise TypeError(f"No VJP defined for custom_vjp function {self.__name__}: call "
                            f"{self.__name__}.defvjp(fwd, bwd) first.")
        static, positions, fun, flat, in_tree = self._prepare(args)
        if self._is_eager(flat):
            return self.fun(*args)
        closed, consts, out_tree = self._trace(fun, flat, in_tree)
        fwd, bwd = _flat_fwd_bwd(self, static, positions, len(args), in_tree, out_tree, flat)
        outs = custom_vjp_call_p.bind(*consts, *flat, call_jaxpr=closed, fwd=fwd, bwd=bwd,
                                      num_consts=len(consts))
        return tree_util.tree_unflatten(out_tree, outs)


def _flat_fwd_bwd(f, static, positions, n, in_tree, out_tree, flat_args):
    """The user's fwd and bwd on flat lists. `fwd` returns (outs, residuals);
    `bwd(residuals, cts)` returns one cotangent per flat input (None: zero)."""
    res_tree = None   # the residuals' structure, learned when fwd runs
    in_avals = [raise_to_shaped(get_aval(x)) for x in flat_args]

    def fwd(*flat):
        nonlocal res_tree
        out, res = _with_static(f.fwd, static, positions, n)(*tree_util.tree_unflatten(in_tree, flat))
        outs, tree = tree_util.tree_flatten(out)
        if tree != out_tree:
            raise TypeError(f"The fwd of custom_vjp function {f.__name__} must return "
                            f"(output, residuals) with output structured like the function's, "
                            f"{out_tree}, but its output has structure {tree}.")
        res_flat, res_tree = tree_util.tree_flatten(res)
        return outs, res_flat

    def bwd(res_flat, cts):
        res = tree_util.tree_unflatten(res_tree, res_flat)
        ct_in = f.bwd(*static, res, tree_util.tree_unflatten(out_tree, cts))
        args_proto = tree_util.tree_unflatten(in_tree, [0] * in_tree.num_leaves)
        if not isinstance(ct_in, (tuple, list)) or len(ct_in) != len(args_proto):
            got = f"a value of type {type(ct_in).__name__}" + (
                f" of length {len(ct_in)}" if isinstance(ct_in, (tuple, list)) else "")
            raise TypeError(f"The bwd of custom_vjp function {f.__name__} must return a tuple with "
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
                raise TypeError(f"The bwd of custom_vjp function {f.__name__} returned a cotangent "
                                f"with structure {got} for argument {i}, whose structure is {want}.")
            leaves += ct_leaves
        for c, a in zip(leaves, in_avals):
            if c is not None and tuple(get_aval(c).shape) != a.shape:
                raise TypeError(f"The bwd of custom_vjp function {f.__name__} returned a cotangent "
                                f"of shape {tuple(get_aval(c).shape)} for an argument of shape {a.shape}.")
        return leaves

    fwd.__name__ = getattr(f.fwd, '__name__', 'fwd')
    bwd.__name__ = getattr(f.bwd, '__name__', 'bwd')
    return fwd, bwd


def _custom_vjp_call_jvp(primals, tangents, call_jaxpr, fwd, bwd, num_consts):
    _check_no_const_tangents(tangents, num_consts, 'custom_vjp')
    args, arg_tangents = primals[num_consts:], tangents[num_consts:]
    outs, res = fwd(*args)
    out_avals = [tangent_aval(get_aval(o)) for o in outs]
    is_float = [dtypes.is_float(get_aval(a).dtype) for a in args]
    with core.tag('tangent'):
        t_outs = custom_lin_p.bind(*res, *[instantiate_zeros(t) for t, f in zip(arg_tangents, is_float) if f],
                                   num_res=len(res), bwd=bwd, out_avals=tuple(out_avals),
                                   arg_is_float=tuple(is_float))
    return outs, t_outs


jvp_rules[custom_vjp_call_p] = _custom_vjp_call_jvp


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


# --- under vmap: batch the function and vmap the rules, so the custom rule survives -------------
# Every operand is moved (or broadcast) to batch axis 0, so the rules' arguments
# (and the tangents and cotangents that follow them) are all batched at axis 0.

def _batched_call(axis_size, vals, dims, call_jaxpr):
    vals = [bdim_at_front(v, d, axis_size) for v, d in zip(vals, dims)]
    batched, _ = batch_jaxpr(call_jaxpr, axis_size, [True] * len(vals), instantiate=True)
    return vals, batched


def _vmapped(flat_fun, axis_size, args):
    """vmap a flat function over axis 0 of all its arguments and outputs."""
    return vmap_flat(flat_fun, axis_size, [0] * len(args), lambda dims: [0] * len(dims), list(args))


def _custom_jvp_call_batching(axis_size, vals, dims, call_jaxpr, jvp, num_consts):
    vals, batched = _batched_call(axis_size, vals, dims, call_jaxpr)
    n_in, n_out = len(vals) - num_consts, len(call_jaxpr.out_avals)

    def batched_jvp(primals, tangents):
        outs = _vmapped(lambda *pt: sum(jvp(list(pt[:n_in]), list(pt[n_in:])), []), axis_size,
                        [*primals, *tangents])
        return outs[:n_out], outs[n_out:]
    batched_jvp.__name__ = f"vmap({jvp.__name__})"
    outs = custom_jvp_call_p.bind(*vals, call_jaxpr=batched, jvp=batched_jvp, num_consts=num_consts)
    return outs, [0] * len(outs)


def _custom_vjp_call_batching(axis_size, vals, dims, call_jaxpr, fwd, bwd, num_consts):
    vals, batched = _batched_call(axis_size, vals, dims, call_jaxpr)
    n_out = len(call_jaxpr.out_avals)
    arg_avals = call_jaxpr.in_avals[num_consts:]

    def batched_fwd(*args):
        outs = _vmapped(lambda *xs: (lambda out, res: list(out) + list(res))(*fwd(*xs)), axis_size, args)
        return outs[:n_out], outs[n_out:]

    def batched_bwd(res, cts):
        def one(*rc):   # None (a zero cotangent) cannot leave vmap: make it zeros
            cts_in = bwd(list(rc[:len(res)]), list(rc[len(res):]))
            return [zeros_like_aval(a) if c is None else c for c, a in zip(cts_in, arg_avals)]
        return _vmapped(one, axis_size, [*res, *cts])

    batched_fwd.__name__, batched_bwd.__name__ = f"vmap({fwd.__name__})", f"vmap({bwd.__name__})"
    outs = custom_vjp_call_p.bind(*vals, call_jaxpr=batched, fwd=batched_fwd, bwd=batched_bwd,
                                  num_consts=num_consts)
    return outs, [0] * len(outs)


batching_rules[custom_jvp_call_p] = _custom_jvp_call_batching
batching_rules[custom_vjp_call_p] = _custom_vjp_call_batching
