"""Forward-mode autodiff: push a tangent alongside every primal value.

A `JVPTracer` carries a pair (primal, tangent). When a primitive is bound on
JVP tracers, `JVPTrace.process_primitive` looks up `jvp_rules[prim]`, which
computes the primal output and its tangent (the derivative applied to the
input tangents):

    >>> jvp(jnp.sin, (1.0,), (1.0,))     # (sin 1, cos 1 * 1)
    (Array(0.84147096, dtype=float32, weak_type=True), Array(0.5403023, dtype=float32, weak_type=True))

Symbolic zeros. A tangent is either an array or `Zero(aval)`: "this tangent is
known to be zero". Constants, integer and boolean values (which cannot be
perturbed) and outputs of non-differentiable primitives (comparisons, floor,
argmax, ...) carry `Zero`s, which cost nothing: a primitive whose input
tangents are all `Zero` is simply bound on the primals. Rules call
`instantiate_zeros` only where they need a real array.

The rule signature (the one the jit / control-flow rules use too):

    jvp_rules[prim](primals, tangents, **params) -> (primals_out, tangents_out)

`primals` and `tangents` are lists (one entry per operand; a tangent may be a
`Zero`, but never all of them); both results are lists, one entry per output,
also for single-output primitives. Compute the primal outputs first and the
tangent outputs inside `with core.tag('tangent'):`, so that jaxprs recorded
through this rule mark which equations belong to the derivative. Most entries
are built by three helpers: `defjvp` (one partial derivative per operand),
`deflinear` (the primitive is linear in some operands: apply it to the
tangents) and `defzero` (not differentiable: the tangent is zero).
"""
import numpy as np

from . import core, dtypes, lax, tree_util
from .array import Array
from .core import ShapedArray, Trace, Tracer, bind, get_aval, raise_to_shaped
from .errors import MissingRuleError
from .jaxpr import eval_jaxpr, trace_to_jaxpr

jvp_rules = {}


# --- symbolic zeros ------------------------------------------------------------

def tangent_aval(aval):
    """The abstract value of a tangent of `aval`: the same for floats, float0 otherwise."""
    if dtypes.is_float(aval.dtype):
        return ShapedArray(aval.shape, aval.dtype, aval.weak_type)
    return ShapedArray(aval.shape, dtypes.float0)


class Zero:
    """A tangent (or cotangent) known to be zero, of abstract value `aval`."""
    __slots__ = ('aval',)

    def __init__(self, aval):
        self.aval = aval

    @staticmethod
    def like(x):
        """The zero tangent of the value `x`."""
        return Zero(tangent_aval(get_aval(x)))

    def __repr__(self):
        return f"Zero({self.aval.str_short()})"


def zeros_like_aval(aval):
    """A real array of zeros (float0 tangents become NumPy float0 arrays, as in JAX)."""
    if aval.dtype == dtypes.float0:
        return np.zeros(aval.shape, dtypes.float0)
    return lax.broadcast_in_dim(Array(np.zeros((), aval.dtype), aval.weak_type), aval.shape, ())


def instantiate_zeros(t):
    """Turn a symbolic `Zero` into an array of zeros; leave real tangents alone."""
    return zeros_like_aval(t.aval) if isinstance(t, Zero) else t


def add_tangents(a, b):
    if isinstance(a, Zero):
        return b
    if isinstance(b, Zero):
        return a
    return lax.add(a, b)


# --- the trace -------------------------------------------------------------------

class JVPTracer(Tracer):
    __slots__ = ('_trace', 'primal', 'tangent')

    def __init__(self, trace, primal, tangent):
        self._trace, self.primal, self.tangent = trace, primal, tangent

    @property
    def aval(self):
        # The primal's aval: under grad (without jit) values stay concrete, so
        # Python control flow on them works.
        return get_aval(self.primal)

    def full_lower(self):
        # A zero tangent carries no derivative: the value may leave as its primal.
        return core.full_lower(self.primal) if isinstance(self.tangent, Zero) else self


class JVPTrace(Trace):
    def pure(self, val):
        return JVPTracer(self, val, Zero.like(val))

    lift = pure

    def process_primitive(self, prim, tracers, params):
        primals = [t.primal for t in tracers]
        tangents = [t.tangent for t in tracers]
        if all(isinstance(t, Zero) for t in tangents):   # nothing to differentiate
            outs = bind(prim, *primals, **params)
            outs = outs if prim.multiple_results else [outs]
            return [JVPTracer(self, o, Zero.like(o)) for o in outs]
        rule = jvp_rules.get(prim)
        if rule is None:
            raise MissingRuleError('jvp', prim)
        primals_out, tangents_out = rule(primals, tangents, **params)
        # Integer and boolean outputs (argmax, comparisons, ...) have zero tangents.
        return [JVPTracer(self, p, t if dtypes.is_float(get_aval(p).dtype) else Zero.like(p))
                for p, t in zip(primals_out, tangents_out)]


def jvp_flat(f, primals, tangents):
    """Run `f` (flat list in, flat list out) on (primal, tangent) pairs.
    Returns (primals_out, tangents_out); output tangents may be `Zero`."""
    with core.new_main(JVPTrace, name='jvp') as main:
        trace = main.trace
        outs = f(*[JVPTracer(trace, p, t) for p, t in zip(primals, tangents)])
        outs = [core.full_raise(trace, o) for o in outs]
        return [o.primal for o in outs], [o.tangent for o in outs]


# --- the public function --------------------------------------------------------------

def jvp(fun, primals, tangents, has_aux=False):
    """Evaluate `fun` and its Jacobian-vector product at `primals` along `tangents`.

    `primals` and `tangents` are tuples (or lists) of pytrees with the same
    structure, shapes and dtypes. Returns `(fun(*primals), J @ tangents)`, or
    `(out, tangent_out, aux)` with `has_aux=True` (fun returns `(out, aux)`).

        >>> jvp(lambda x: x ** 2, (3.0,), (1.0,))
        (Array(9., dtype=float32, weak_type=True), Array(6., dtype=float32, weak_type=True))
    """
    primals_flat, tangents_flat, in_tree = _check_jvp_args(primals, tangents)
    flat_fun, info = flatten_fun_aux(fun, in_tree, has_aux, 'jvp')
    outs, t_outs = jvp_flat(flat_fun, primals_flat, tangents_flat)
    outs = [as_array(o) for o in outs]
    info = info()
    out = tree_util.tree_unflatten(info.out_tree, outs[:info.n_out])
    t_out = tree_util.tree_unflatten(info.out_tree, [instantiate_zeros(t) for t in t_outs[:info.n_out]])
    if has_aux:
        return out, t_out, info.aux(outs[info.n_out:])
    return out, t_out


def as_array(x):
    """Python scalars and NumPy arrays become Arrays (weakly typed for Python scalars)."""
    if isinstance(x, (Array, Tracer)):
        return x
    dtype, weak = dtypes.dtype_of(x)
    return Array(np.asarray(x, dtype), weak)


def _check_jvp_args(primals, tangents):
    """Flatten and validate jvp's arguments; returns (primals, tangents, in_tree)."""
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("primal and tangent arguments to jvp must be tuples or lists, one "
                        f"entry per argument of the function; found {type(primals).__name__} "
                        f"and {type(tangents).__name__}. Write jvp(f, (x,), (v,)), not jvp(f, x, v).")
    primals_flat, in_tree = tree_util.tree_flatten(tuple(primals))
    tangents_flat, t_tree = tree_util.tree_flatten(tuple(tangents))
    if in_tree != t_tree:
        raise TypeError("primal and tangent arguments to jvp must have the same tree structure; "
                        f"primals have tree structure {in_tree} whereas tangents have tree "
                        f"structure {t_tree}.")
    primals_flat = [as_array(p) for p in primals_flat]
    tangents_flat = [check_tangent(get_aval(p), t, 'jvp') for p, t in zip(primals_flat, tangents_flat)]
    return primals_flat, tangents_flat, in_tree


def check_tangent(primal_aval, t, who):
    """A tangent for a value of `primal_aval`: same shape, the tangent dtype.
    Returns it as an Array, or as a Zero for integer/bool primals."""
    if not isinstance(t, np.ndarray) or t.dtype != dtypes.float0:
        t = as_array(t)
    if tuple(primal_aval.shape) != tuple(t.shape):
        raise ValueError(f"{who} called with different primal and tangent shapes: primal shape "
                         f"{primal_aval.shape} and tangent shape {tuple(t.shape)}. Each "
                         "tangent must have the shape of its primal.")
    expected, got = tangent_aval(primal_aval).dtype, np.dtype(t.dtype)
    if got != expected:
        hint = ("use np.zeros(shape, dtype=tinygrad_tracer.dtypes.float0) as the tangent "
                "of an integer or bool input" if expected == dtypes.float0 else
                f"cast the tangent, e.g. v.astype(jnp.{expected.name})")
        raise TypeError(f"primal and tangent arguments to {who} do not match: primal dtype "
                        f"{primal_aval.dtype.name} needs tangent dtype {_dtype_name(expected)}, "
                        f"but the tangent has dtype {_dtype_name(got)}; {hint}.")
    return Zero(tangent_aval(primal_aval)) if expected == dtypes.float0 else t


def _dtype_name(dtype):
    return 'float0' if dtype == dtypes.float0 else dtype.name


class AuxInfo:
    """What flatten_fun_aux learns when the function runs: the output's tree,
    how many flat outputs are the output proper, and how to rebuild aux."""

    def __init__(self, out_tree, n_out, aux_tree, aux_static):
        self.out_tree, self.n_out = out_tree, n_out
        self.aux_tree, self.aux_static = aux_tree, aux_static

    def aux(self, values):
        """aux from its array leaves (the flat outputs after the first n_out)."""
        values = iter(values)
        return tree_util.tree_unflatten(self.aux_tree, [next(values) if s is _TRACED else s
                                                        for s in self.aux_static])


_TRACED = object()   # marks an aux leaf that is an array (and so a flat output)


def _is_value(x):
    return isinstance(x, (Array, Tracer, np.ndarray, np.generic, bool, int, float))


def flatten_fun_aux(fun, in_tree, has_aux, who):
    """Like tree_util.flatten_fun, but with `has_aux` the function returns
    `(out, aux)`: the flat outputs are out's leaves then aux's array leaves
    (aux may also hold any other Python objects, which pass through).
    Returns `(flat_fun, info)`; `info()` is an AuxInfo once flat_fun has run."""
    store = []

    def flat_fun(*leaves):
        result = fun(*tree_util.tree_unflatten(in_tree, leaves))
        aux = None
        if has_aux:
            if not (isinstance(result, (tuple, list)) and len(result) == 2):
                raise TypeError(
                    f"{who}(..., has_aux=True) requires the function to return a pair "
                    f"(output, aux), but it returned {_describe(result)}. Return a tuple "
                    "`return out, aux`, or drop has_aux=True if there is no auxiliary data.")
            result, aux = result
        out_leaves, out_tree = tree_util.tree_flatten(result)
        aux_leaves, aux_tree = tree_util.tree_flatten(aux)
        store[:] = [AuxInfo(out_tree, len(out_leaves), aux_tree,
                            [_TRACED if _is_value(x) else x for x in aux_leaves])]
        return out_leaves + [x for x in aux_leaves if _is_value(x)]

    return flat_fun, lambda: store[0]


def _describe(x):
    if isinstance(x, (tuple, list)):
        return f"a {type(x).__name__} of length {len(x)}"
    aval = getattr(x, 'aval', None)
    return f"a single array {aval.str_short()}" if aval is not None else f"a {type(x).__name__}"


# --- jvp of a jaxpr (for higher-order primitives: jit, cond, scan) ---------------------

def jvp_jaxpr(closed_jaxpr, nonzeros, instantiate):
    """The JVP of a closed jaxpr, as a new closed jaxpr.

    `nonzeros[i]` says whether input i has a (non-zero) tangent; `instantiate`
    (a bool or one per output) forces an output tangent to be returned even if
    it is zero. The new jaxpr takes `primals + [tangent of each nonzero input]`
    and returns `primals_out + [tangent of each nonzero output]`. Returns
    `(new_closed_jaxpr, out_nonzeros)`. Integer/bool inputs must have
    nonzeros False; integer/bool outputs always come out without tangent.
    """
    in_avals = closed_jaxpr.in_avals
    n_out = len(closed_jaxpr.out_avals)
    instantiate = [instantiate] * n_out if isinstance(instantiate, bool) else list(instantiate)
    for nz, a in zip(nonzeros, in_avals):
        if nz and not dtypes.is_float(a.dtype):
            raise TypeError(f"jvp_jaxpr: input of dtype {a.dtype.name} cannot have a tangent; "
                            "pass nonzeros=False for integer and bool inputs.")
    store = []

    def jvp_fun(*args):
        primals, nz_tangents = args[:len(in_avals)], iter(args[len(in_avals):])
        tangents = [next(nz_tangents) if nz else Zero(tangent_aval(a))
                    for nz, a in zip(nonzeros, in_avals)]
        outs, t_outs = jvp_flat(lambda *xs: eval_jaxpr(closed_jaxpr.jaxpr, closed_jaxpr.consts, *xs),
                                primals, tangents)
        out_nz = [dtypes.is_float(a.dtype) and (inst or not isinstance(t, Zero))
                  for a, t, inst in zip(closed_jaxpr.out_avals, t_outs, instantiate)]
        store.append(out_nz)
        return list(outs) + [instantiate_zeros(t) for t, nz in zip(t_outs, out_nz) if nz]

    tangent_avals = [tangent_aval(a) for a, nz in zip(in_avals, nonzeros) if nz]
    new = trace_to_jaxpr(jvp_fun, [raise_to_shaped(a) for a in in_avals] + tangent_avals, 'jvp')
    return new, store[0]


# --- rule helpers -----------------------------------------------------------------------

def defjvp(prim, *partials):
    """One partial rule per operand: `partial(t, out, *primals, **params)` gives the
    contribution of operand i's tangent `t` to the output tangent (None: the
    operand is not differentiable). Contributions are summed."""
    def rule(primals, tangents, **params):
        out = bind(prim, *primals, **params)
        with core.tag('tangent'):
            t_out = Zero.like(out)
            for partial, t in zip(partials, tangents):
                if partial is not None and not isinstance(t, Zero):
                    t_out = add_tangents(t_out, partial(t, out, *primals, **params))
        return [out], [t_out]
    jvp_rules[prim] = rule


def deflinear(prim, is_linear=lambda i: True):
    """`prim` is linear in the operands where `is_linear(i)`: its tangent is the
    primitive applied to those operands' tangents (the others kept as primals)."""
    def rule(primals, tangents, **params):
        out = bind(prim, *primals, **params)
        if (all(isinstance(t, Zero) for i, t in enumerate(tangents) if is_linear(i))
                or not dtypes.is_float(get_aval(out).dtype)):   # e.g. a cast to int
            return [out], [Zero.like(out)]
        with core.tag('tangent'):
            args = [instantiate_zeros(t) if is_linear(i) else p
                    for i, (p, t) in enumerate(zip(primals, tangents))]
            return [out], [bind(prim, *args, **params)]
    jvp_rules[prim] = rule


def defzero(prim):
    """`prim` is piecewise constant or not differentiable: zero tangent."""
    def rule(primals, tangents, **params):
        outs = bind(prim, *primals, **params)
        outs = outs if prim.multiple_results else [outs]
        return outs, [Zero.like(o) for o in outs]
    jvp_rules[prim] = rule


def defelementwise(prim, derivative):
    """Unary elementwise `prim` with d out/dx = derivative(x, out)."""
    defjvp(prim, lambda t, out, x, **params: lax.mul(t, derivative(x, out)))



# --- the rules ----------------------------------------------------------------------------
# Small helpers for writing derivatives with lax (no broadcasting, equal dtypes).

def full_like(like, value):
    aval = get_aval(like)
    return lax.broadcast_in_dim(Array(np.full((), value, aval.dtype), aval.weak_type), aval.shape, ())


def _as_float(pred, like):
    """A bool mask as 0.0 / 1.0 in `like`'s dtype."""
    return lax.convert_element_type(pred, get_aval(like).dtype)


def _expand_reduced(out, shape, axes):
    """Broadcast a reduction's result back to the reduced operand's shape."""
    return lax.broadcast_in_dim(out, shape, [d for d in range(len(shape)) if d not in axes])


def _square(x):
    return mul(x, x)


def _scalars_broadcast(op):
    """`op` that also takes Python scalars, broadcast to the other operand (lax does
    not broadcast), so rules read like the formulas: add(1.0, _square(out))."""
    def apply(*args):
        like = next(a for a in args if not isinstance(a, (int, float)))
        return op(*[full_like(like, a) if isinstance(a, (int, float)) else a for a in args])
    return apply


add, sub, mul, div, eq, ge, gt, lt, le, select = map(_scalars_broadcast, (
    lax.add, lax.sub, lax.mul, lax.div, lax.eq, lax.ge, lax.gt, lax.lt, lax.le, lax.select))


# Elementwise functions: d out / dx from the input x and the output out, or (defjvp)
# the whole tangent; operations are ordered as in JAX so the digits match.
defelementwise(lax.sin_p, lambda x, out: lax.cos(x))
defelementwise(lax.cos_p, lambda x, out: lax.neg(lax.sin(x)))
defelementwise(lax.tan_p, lambda x, out: add(1.0, _square(out)))
defelementwise(lax.asin_p, lambda x, out: lax.rsqrt(sub(1.0, _square(x))))
defelementwise(lax.acos_p, lambda x, out: lax.neg(lax.rsqrt(sub(1.0, _square(x)))))
defjvp(lax.atan_p, lambda t, out, x: div(t, add(1.0, _square(x))))
defelementwise(lax.sinh_p, lambda x, out: lax.cosh(x))
defelementwise(lax.cosh_p, lambda x, out: lax.sinh(x))
defjvp(lax.tanh_p, lambda t, out, x: mul(add(t, mul(t, out)), sub(1.0, out)))   # t (1 + y)(1 - y)
defelementwise(lax.asinh_p, lambda x, out: lax.rsqrt(add(_square(x), 1.0)))
defelementwise(lax.acosh_p, lambda x, out: lax.rsqrt(sub(_square(x), 1.0)))
defjvp(lax.atanh_p, lambda t, out, x: mul(div(1.0, add(1.0, x)), div(t, sub(1.0, x))))
defelementwise(lax.logistic_p, lambda x, out: mul(out, sub(1.0, out)))
defjvp(lax.erf_p, lambda t, out, x: mul(2 / np.sqrt(np.pi), mul(t, lax.exp(lax.neg(_square(x))))))
defjvp(lax.erf_inv_p, lambda t, out, x: mul(np.sqrt(np.pi) / 2, mul(t, lax.exp(_square(out)))))
defelementwise(lax.exp_p, lambda x, out: out)
defelementwise(lax.expm1_p, lambda x, out: add(out, 1.0))
defelementwise(lax.rsqrt_p, lambda x, out: mul(-0.5, div(out, x)))
defjvp(lax.abs_p, lambda t, out, x: select(ge(x, 0.0), t, lax.neg(t)))   # slope +1 at 0, as JAX
defjvp(lax.log_p, lambda t, out, x: div(t, x))
defjvp(lax.log1p_p, lambda t, out, x: div(t, add(x, 1.0)))
defjvp(lax.sqrt_p, lambda t, out, x: mul(t, div(0.5, out)))


def _integer_pow_partial(t, out, x, y):
    if y == 0:
        return Zero.like(out)
    return t if y == 1 else mul(t, mul(float(y), x if y == 2 else lax.integer_pow(x, y - 1)))


defjvp(lax.integer_pow_p, _integer_pow_partial)

# Arithmetic.
defjvp(lax.add_p, lambda t, out, x, y: t, lambda t, out, x, y: t)
defjvp(lax.sub_p, lambda t, out, x, y: t, lambda t, out, x, y: lax.neg(t))
defjvp(lax.mul_p, lambda t, out, x, y: mul(t, y), lambda t, out, x, y: mul(x, t))
defjvp(lax.div_p, lambda t, out, x, y, **p: lax.div_p.bind(t, y, **p),   # rounded as the primal
       lambda t, out, x, y, **p: mul(mul(lax.neg(t), x), lax.integer_pow(y, -2)))
defjvp(lax.fma_p, lambda t, out, x, y, z: mul(t, y), lambda t, out, x, y, z: mul(x, t),
       lambda t, out, x, y, z: t)


def _rem_y_partial(t, out, x, y):
    q = div(x, y)   # rem(x, y) = x - y * trunc(x / y)
    return mul(lax.neg(t), mul(lax.sign(q), lax.floor(lax.abs(q))))


defjvp(lax.rem_p, lambda t, out, x, y: t, _rem_y_partial)


def _pow_x_partial(t, out, x, y):
    # y * x**(y-1), but 0 where y == 0 (avoids 0 * inf at x == 0).
    slope = mul(y, lax.pow(x, sub(y, 1.0)))
    return mul(t, select(eq(y, 0.0), full_like(x, 0), slope))


def _pow_y_partial(t, out, x, y):
    # out * log(x), taken as 0 where x == 0.
    safe_x = select(eq(x, 0.0), full_like(x, 1), x)
    return mul(t, mul(out, lax.log(safe_x)))


defjvp(lax.pow_p, _pow_x_partial, _pow_y_partial)


def _atan2_partial(sign):
    def partial(t, out, x, y):
        other = y if sign > 0 else lax.neg(x)
        return mul(t, div(other, add(_square(x), _square(y))))
    return partial


defjvp(lax.atan2_p, _atan2_partial(+1), _atan2_partial(-1))


def _chooser_partial(wins):
    """max/min: the winner's tangent; on a tie each side gets half."""
    def partial(t, out, x, y):
        return mul(t, add(_as_float(wins(x, y), x), mul(0.5, _as_float(eq(x, y), x))))
    return partial


defjvp(lax.max_p, _chooser_partial(lax.gt), _chooser_partial(lax.lt))
defjvp(lax.min_p, _chooser_partial(lax.lt), _chooser_partial(lax.gt))
defjvp(lax.dot_general_p,
       lambda t, out, x, y, **params: bind(lax.dot_general_p, t, y, **params),
       lambda t, out, x, y, **params: bind(lax.dot_general_p, x, t, **params))

# Not differentiable (piecewise constant, integer or boolean valued).
for _prim in [lax.sign_p, lax.floor_p, lax.ceil_p, lax.round_p, lax.is_finite_p, lax.not_p,
              lax.stop_gradient_p, lax.nextafter_p, lax.and_p, lax.or_p, lax.xor_p,
              lax.shift_left_p, lax.shift_right_logical_p, lax.shift_right_arithmetic_p,
              lax.eq_p, lax.ne_p, lax.lt_p, lax.le_p, lax.gt_p, lax.ge_p,
              lax.bitcast_convert_type_p, lax.argmax_p, lax.argmin_p, lax.reduce_and_p,
              lax.reduce_or_p, lax.iota_p]:
    defzero(_prim)

# Linear primitives: the tangent goes through the same operation.
for _prim in [lax.neg_p, lax.convert_element_type_p, lax.broadcast_in_dim_p, lax.reshape_p,
              lax.transpose_p, lax.rev_p, lax.squeeze_p, lax.expand_dims_p, lax.reduce_sum_p,
              lax.cumsum_p, lax.slice_p, lax.concatenate_p, lax.pad_p]:
    deflinear(_prim)
deflinear(lax.select_n_p, lambda i: i > 0)                 # not in the selector
deflinear(lax.dynamic_slice_p, lambda i: i == 0)           # not in the start indices
deflinear(lax.dynamic_update_slice_p, lambda i: i < 2)
deflinear(lax.gather_p, lambda i: i == 0)   # out of bounds: see transpose.py's gather rule
deflinear(lax.scatter_add_p, lambda i: i in (0, 2))
deflinear(lax.scatter_p, lambda i: i in (0, 2))


# Reductions.
def _reduce_chooser_partial(t, out, x, axes):
    """reduce_max / reduce_min: the tangent at the extreme, averaged over ties."""
    at_extreme = _as_float(eq(x, _expand_reduced(out, get_aval(x).shape, axes)), x)
    return div(lax.reduce_sum(mul(t, at_extreme), axes), lax.reduce_sum(at_extreme, axes))


defjvp(lax.reduce_max_p, _reduce_chooser_partial)
defjvp(lax.reduce_min_p, _reduce_chooser_partial)


def _product_of_others(x, axes):
    """For each element, the product of the *other* elements over `axes`, computed
    exactly (no division, so zeros are fine) as the product of the elements
    before it times the product of those after it."""
    shape = get_aval(x).shape
    kept = [d for d in range(len(shape)) if d not in axes]
    perm = kept + list(axes)
    n = int(np.prod([shape[d] for d in axes], dtype=np.int64))
    flat = lax.reshape(lax.transpose(x, perm), [shape[d] for d in kept] + [n])
    last, one = len(kept), Array(np.ones((), get_aval(x).dtype))
    edge = lambda lo, hi: [(0, 0, 0)] * last + [(lo, hi, 0)]
    before = lax.pad(_drop(lax.cumprod(flat, last), last, end=True), one, edge(1, 0))
    after = lax.pad(_drop(lax.cumprod(flat, last, reverse=True), last, end=False), one, edge(0, 1))
    others = lax.reshape(mul(before, after), [shape[d] for d in perm])
    return lax.transpose(others, np.argsort(perm))


def _drop(x, axis, end):
    """x without its last (end=True) or first element along `axis`."""
    shape = get_aval(x).shape
    start = [1 if (d == axis and not end) else 0 for d in range(len(shape))]
    limit = [n - 1 if (d == axis and end) else n for d, n in enumerate(shape)]
    return lax.slice(x, start, limit)


def _reduce_prod_partial(t, out, x, axes):
    if get_aval(x).size == 0:
        return Zero.like(out)
    return lax.reduce_sum(mul(t, _product_of_others(x, axes)), axes)


defjvp(lax.reduce_prod_p, _reduce_prod_partial)


def _cumprod_as_products(x, axis, reverse):
    """cumprod written with differentiable pieces: out[i] = prod_j (x[j] if j <= i else 1),
    a product over a masked square (j >= i when reverse)."""
    shape = get_aval(x).shape
    nd, n = len(shape), shape[axis]
    square_shape = shape + (n,)   # axis `axis` is j, the new last axis is i
    square = lax.broadcast_in_dim(x, square_shape, range(nd))
    j = lax.broadcasted_iota(np.int32, square_shape, axis)
    i = lax.broadcasted_iota(np.int32, square_shape, nd)
    keep = ge(j, i) if reverse else le(j, i)
    prods = lax.reduce_prod(select(keep, square, full_like(square, 1)), (axis,))
    return lax.transpose(prods, list(range(axis)) + [nd - 1] + list(range(axis, nd - 1)))


def _cumprod_jvp(primals, tangents, axis, reverse):
    out = bind(lax.cumprod_p, *primals, axis=axis, reverse=reverse)
    with core.tag('tangent'):
        _, (t_out,) = jvp_flat(lambda x: [_cumprod_as_products(x, axis, reverse)], primals, tangents)
    return [out], [t_out]


jvp_rules[lax.cumprod_p] = _cumprod_jvp


# Sorting and scattering.
def _sort_jvp(primals, tangents, dimension, is_stable, num_keys):
    # Sort an iota along with the operands to learn the permutation, then
    # permute the tangents the same way with a gather.
    shape = get_aval(primals[0]).shape
    iota = lax.broadcasted_iota(np.int32, shape, dimension)
    *outs, perm = bind(lax.sort_p, *primals, iota, dimension=dimension, is_stable=is_stable,
                       num_keys=num_keys)
    with core.tag('tangent'):
        index = lax.concatenate([lax.expand_dims(perm if d == dimension else
                                                 lax.broadcasted_iota(np.int32, shape, d), (len(shape),))
                                 for d in range(len(shape))], len(shape))
        t_outs = [Zero.like(o) if isinstance(t, Zero) else lax.gather(t, index, range(len(shape)))
                  for o, t in zip(outs, tangents)]
    return outs, t_outs


jvp_rules[lax.sort_p] = _sort_jvp

def _scatter_mul_updates_partial(t, out, x, idx, u, axes):
    """out[j] = x[j] * (the product of the updates sent to j), so d out / d u_k is x at
    u_k's target times the product of the *other* updates sent there: 1 for unique
    indices. JAX only differentiates that case; repeated indices are right here too.
    With P the product of the nonzero updates at the target, the others' product is
    P / u_k when none is zero, P when u_k is the only zero, and 0 otherwise."""
    at_target = lambda v: lax.gather(v, idx, axes)
    per_target = lambda prim, init, v: at_target(prim(full_like(x, init), idx, v, axes))
    nonzero = lax.ne(u, full_like(u, 0))
    safe_u = select(nonzero, u, full_like(u, 1))
    count = per_target(lax.scatter_add, 0, full_like(u, 1))
    zeros = per_target(lax.scatter_add, 0, _as_float(lax.bitwise_not(nonzero), u))
    prod = per_target(lax.scatter_mul, 1, safe_u)
    only_zero = lax.bitwise_and(eq(zeros, 1.0), lax.bitwise_not(nonzero))
    others = select(eq(zeros, 0.0), div(prod, safe_u), select(only_zero, prod, full_like(u, 0)))
    others = select(eq(count, 1.0), full_like(u, 1), others)   # exact when unique, even for inf
    return lax.scatter_add(full_like(x, 0), idx, mul(t, mul(at_target(x), others)), axes)


# scatter-mul: out = x * (product of the updates) where hit, else x.
defjvp(lax.scatter_mul_p,
       lambda t, out, x, idx, u, axes: mul(t, lax.scatter_mul(full_like(x, 1), idx, u, axes)),
       None, _scatter_mul_updates_partial)


def _scatter_chooser_jvp(prim):
    """scatter-max / scatter-min: each output takes the tangent of whichever of the
    operand and the updates it came from, averaged over ties."""
    def rule(primals, tangents, axes):
        x, idx, u = primals
        out = bind(prim, x, idx, u, axes=axes)
        with core.tag('tangent'):
            t_x, t_u = instantiate_zeros(tangents[0]), instantiate_zeros(tangents[2])
            zeros = full_like(x, 0)
            x_wins = _as_float(eq(x, out), x)
            u_wins = _as_float(eq(u, lax.gather(out, idx, axes)), x)
            count = add(x_wins, lax.scatter_add(zeros, idx, u_wins, axes))
            total = add(mul(t_x, x_wins), lax.scatter_add(zeros, idx, mul(t_u, u_wins), axes))
            return [out], [div(total, count)]
    jvp_rules[prim] = rule


_scatter_chooser_jvp(lax.scatter_max_p)
_scatter_chooser_jvp(lax.scatter_min_p)
