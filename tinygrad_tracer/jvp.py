"""Forward-mode autodiff: push a tangent alongside every primal value.

A `JVPTracer` carries a pair (primal, tangent). When a primitive is bound on
JVP tracers, `JVPTrace.process_primitive` looks up `jvp_rules[prim]`, which
computes the primal output and its tangent (the derivative applied to the
input tangents). `api.jvp` is the public function built on `jvp_flat`:

    >>> jvp(jnp.sin, (1.0,), (1.0,))     # (sin 1, cos 1 * 1)
    (Array(0.84147096, dtype=float32, weak_type=True), Array(0.5403023, dtype=float32, weak_type=True))

Symbolic zeros (`ad_util.Zero`). A tangent is either an array or `Zero(aval)`:
"this tangent is known to be zero". Constants, integer and boolean values
(which cannot be perturbed) and outputs of non-differentiable primitives
(comparisons, floor, argmax, ...) carry `Zero`s, which cost nothing: a
primitive whose input tangents are all `Zero` is simply bound on the primals.
Rules call `instantiate_zeros` only where they need a real array.

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
import itertools

import numpy as np

from . import core, dtypes, lax
from .ad_util import Zero, add_tangents, full_like, instantiate_flags, instantiate_zeros, tangent_aval
from .array import Array
from .core import (Trace, Tracer, bind, check_rule_list, check_rule_outputs, describe, get_aval,
                   out_avals, raise_to_shaped)
from .errors import MissingRuleError, RuleOutputError
from .jaxpr import eval_jaxpr, trace_to_jaxpr

jvp_rules = {}


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

    def __repr__(self):
        # Under grad (linearize) the tangent is still unknown: only its type
        # can be shown, and JAX calls that tracer a GradTracer.
        primal = core.full_lower(self.primal)
        primal = primal if isinstance(primal, Tracer) else np.asarray(primal)
        tangent_main = getattr(getattr(self.tangent, '_trace', None), 'main', None)
        if getattr(tangent_main, 'name', None) == 'linearize':
            return f"GradTracer(primal={primal}, typeof(tangent)={self.tangent.aval.str_short()})"
        tangent = self.tangent
        if not isinstance(tangent, (Tracer, Zero)):
            tangent = np.asarray(tangent)
        return f"JVPTracer(primal={primal}, tangent={tangent})"


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
        primals_out, tangents_out = checked_jvp_result(prim, rule(primals, tangents, **params),
                                                       out_avals(prim, map(get_aval, primals), params))
        # Integer and boolean outputs (argmax, comparisons, ...) have zero tangents.
        return [JVPTracer(self, p, t if dtypes.is_float(get_aval(p).dtype) else Zero.like(p))
                for p, t in zip(primals_out, tangents_out)]


def checked_jvp_result(prim, result, expected):
    """A JVP rule's `(primals_out, tangents_out)`, checked against the primitive's
    abstract evaluation `expected`: two lists, one entry per output, each primal of
    the output's shape and dtype, each tangent (of a float output) too."""
    if not isinstance(result, (list, tuple)) or len(result) != 2:
        raise RuleOutputError('jvp', prim, "must return a pair (primals_out, tangents_out)",
                              describe(result), "([primal, ...], [tangent, ...]), both lists")
    primals_out, tangents_out = result
    check_rule_outputs('jvp', prim, 'primals_out', primals_out, expected)
    check_rule_list('jvp', prim, 'tangents_out', tangents_out, len(expected))
    check_rule_outputs('jvp', prim, 'tangents_out', tangents_out,
                       [a if dtypes.is_float(a.dtype) else None for a in expected])
    return primals_out, tangents_out


def jvp_flat(f, primals, tangents):
    """Run `f` (flat list in, flat list out) on (primal, tangent) pairs.
    Returns (primals_out, tangents_out); output tangents may be `Zero`."""
    with core.new_main(JVPTrace, name='jvp') as main:
        trace = main.trace
        outs = f(*[JVPTracer(trace, p, t) for p, t in zip(primals, tangents)])
        outs = [core.full_raise(trace, o) for o in outs]
        return [o.primal for o in outs], [o.tangent for o in outs]


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
    instantiate = instantiate_flags(instantiate, len(closed_jaxpr.out_avals))
    for nz, a in zip(nonzeros, in_avals):
        if nz and not dtypes.is_float(a.dtype):
            raise TypeError(f"jvp_jaxpr: input of dtype {a.dtype.name} cannot have a tangent; "
                            "pass nonzeros=False for integer and bool inputs.")
    out_nonzeros = None   # learned while tracing: which output tangents are not Zero

    def jvp_fun(*args):
        nonlocal out_nonzeros
        primals, nz_tangents = args[:len(in_avals)], iter(args[len(in_avals):])
        tangents = [next(nz_tangents) if nz else Zero(tangent_aval(a))
                    for nz, a in zip(nonzeros, in_avals)]
        outs, t_outs = jvp_flat(lambda *xs: eval_jaxpr(closed_jaxpr.jaxpr, closed_jaxpr.consts, *xs),
                                primals, tangents)
        out_nonzeros = [dtypes.is_float(a.dtype) and (inst or not isinstance(t, Zero))
                        for a, t, inst in zip(closed_jaxpr.out_avals, t_outs, instantiate)]
        return list(outs) + [instantiate_zeros(t) for t, nz in zip(t_outs, out_nonzeros) if nz]

    tangent_avals = [tangent_aval(a) for a, nz in zip(in_avals, nonzeros) if nz]
    new = trace_to_jaxpr(jvp_fun, [raise_to_shaped(a) for a in in_avals] + tangent_avals, 'jvp')
    return new, out_nonzeros


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
                    t_out = add_tangents(t_out, _like_out(partial(t, out, *primals, **params), out))
        return [out], [t_out]
    jvp_rules[prim] = rule


def _like_out(t, out):
    """A contribution of a rank-0 operand's tangent (`add x 1.0` with x:f32[] beside a
    rank-n y) spread over the output's shape, as the primitive spread the operand."""
    shape = get_aval(out).shape
    return lax.broadcast_in_dim(t, shape, ()) if get_aval(t).shape != shape else t


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
# Derivatives are written with lax, which wants equal dtypes and broadcasts only rank-0
# operands: a constant c next to x is `_const(x, c)` (JAX's rules print `sub 1.0:f32[] y`),
# or `full_like(x, c)` where a whole array is needed (a case of select).

def _const(like, c):
    """The constant c, rank 0, in `like`'s dtype and weak type."""
    aval = get_aval(like)
    return Array(np.asarray(c, aval.dtype), aval.weak_type)


def _as_float(pred, like):
    """A bool mask as 0.0 / 1.0 in `like`'s dtype."""
    return lax.convert_element_type(pred, get_aval(like).dtype)


def _expand_reduced(out, shape, axes):
    """Broadcast a reduction's result back to the reduced operand's shape."""
    return lax.broadcast_in_dim(out, shape, [d for d in range(len(shape)) if d not in axes])


def _square(x):
    return lax.mul(x, x)


def _one_minus(x):
    return lax.sub(_const(x, 1), x)


def _one_plus(x):
    return lax.add(_const(x, 1), x)


# Elementwise functions: d out / dx from the input x and the output out, or (defjvp)
# the whole tangent; operations are ordered as in JAX so the digits match.
defelementwise(lax.sin_p, lambda x, out: lax.cos(x))
defelementwise(lax.cos_p, lambda x, out: lax.neg(lax.sin(x)))
defelementwise(lax.tan_p, lambda x, out: _one_plus(_square(out)))
defelementwise(lax.asin_p, lambda x, out: lax.rsqrt(_one_minus(_square(x))))
defelementwise(lax.acos_p, lambda x, out: lax.neg(lax.rsqrt(_one_minus(_square(x)))))
defjvp(lax.atan_p, lambda t, out, x: lax.div(t, _one_plus(_square(x))))
defelementwise(lax.sinh_p, lambda x, out: lax.cosh(x))
defelementwise(lax.cosh_p, lambda x, out: lax.sinh(x))
defjvp(lax.tanh_p, lambda t, out, x:   # t (1 + y)(1 - y)
       lax.mul(lax.add(t, lax.mul(t, out)), _one_minus(out)))
defelementwise(lax.asinh_p, lambda x, out: lax.rsqrt(lax.add(_square(x), _const(x, 1))))
defelementwise(lax.acosh_p, lambda x, out: lax.rsqrt(lax.sub(_square(x), _const(x, 1))))
defjvp(lax.atanh_p, lambda t, out, x:
       lax.mul(lax.div(_const(x, 1), _one_plus(x)), lax.div(t, _one_minus(x))))
defelementwise(lax.logistic_p, lambda x, out: lax.mul(out, _one_minus(out)))
defjvp(lax.erf_p, lambda t, out, x:
       lax.mul(_const(t, 2 / np.sqrt(np.pi)), lax.mul(t, lax.exp(lax.neg(_square(x))))))
defjvp(lax.erf_inv_p, lambda t, out, x:
       lax.mul(_const(t, np.sqrt(np.pi) / 2), lax.mul(t, lax.exp(_square(out)))))
defelementwise(lax.exp_p, lambda x, out: out)
defelementwise(lax.expm1_p, lambda x, out: lax.add(out, _const(out, 1)))
defelementwise(lax.rsqrt_p, lambda x, out: lax.mul(_const(out, -0.5), lax.div(out, x)))
defjvp(lax.abs_p, lambda t, out, x:   # slope +1 at 0, as JAX
       lax.select(lax.ge(x, full_like(x, 0)), t, lax.neg(t)))
defjvp(lax.log_p, lambda t, out, x: lax.div(t, x))
defjvp(lax.log1p_p, lambda t, out, x: lax.div(t, lax.add(x, _const(x, 1))))
defjvp(lax.sqrt_p, lambda t, out, x: lax.mul(t, lax.div(_const(out, 0.5), out)))


def _integer_pow_partial(t, out, x, y):
    if y == 0:
        return Zero.like(out)
    if y == 1:
        return t
    power = x if y == 2 else lax.integer_pow(x, y - 1)
    return lax.mul(t, lax.mul(_const(power, float(y)), power))


defjvp(lax.integer_pow_p, _integer_pow_partial)

# Arithmetic.
for _add in (lax.add_p, lax.add_any_p):
    defjvp(_add, lambda t, out, x, y: t, lambda t, out, x, y: t)
defjvp(lax.sub_p, lambda t, out, x, y: t, lambda t, out, x, y: lax.neg(t))
defjvp(lax.mul_p, lambda t, out, x, y: lax.mul(t, y), lambda t, out, x, y: lax.mul(x, t))
defjvp(lax.div_p, lambda t, out, x, y, **p: lax.div_p.bind(t, y, **p),   # rounded as the primal
       lambda t, out, x, y, **p: lax.mul(lax.mul(lax.neg(t), x), lax.integer_pow(y, -2)))
defjvp(lax.fma_p, lambda t, out, x, y, z: lax.mul(t, y), lambda t, out, x, y, z: lax.mul(x, t),
       lambda t, out, x, y, z: t)


def _rem_y_partial(t, out, x, y):
    q = lax.div(x, y)   # rem(x, y) = x - y * trunc(x / y)
    return lax.mul(lax.neg(t), lax.mul(lax.sign(q), lax.floor(lax.abs(q))))


defjvp(lax.rem_p, lambda t, out, x, y: t, _rem_y_partial)


def _pow_x_partial(t, out, x, y):
    # y * x**(y-1), but 0 where y == 0 (avoids 0 * inf at x == 0).
    slope = lax.mul(y, lax.pow(x, lax.sub(y, _const(y, 1))))
    return lax.mul(t, lax.select(lax.eq(y, full_like(y, 0)), full_like(x, 0), slope))


def _pow_y_partial(t, out, x, y):
    # out * log(x), taken as 0 where x == 0.
    safe_x = lax.select(lax.eq(x, full_like(x, 0)), full_like(x, 1), x)
    return lax.mul(t, lax.mul(out, lax.log(safe_x)))


defjvp(lax.pow_p, _pow_x_partial, _pow_y_partial)


def _atan2_partial(sign):
    def partial(t, out, x, y):
        other = y if sign > 0 else lax.neg(x)
        return lax.mul(t, lax.div(other, lax.add(_square(x), _square(y))))
    return partial


defjvp(lax.atan2_p, _atan2_partial(+1), _atan2_partial(-1))


def _chooser_partial(wins):
    """max/min: the winner's tangent; on a tie each side gets half."""
    def partial(t, out, x, y):
        won, tie = _as_float(wins(x, y), x), _as_float(lax.eq(x, y), x)
        return lax.mul(t, lax.add(won, lax.mul(_const(tie, 0.5), tie)))
    return partial


# clamp(lo, x, hi): the tangent of whichever operand the output is.
defjvp(lax.clamp_p, lambda t, out, lo, x, hi: lax.mul(t, _as_float(lax.gt(lo, x), out)),
       lambda t, out, lo, x, hi: lax.mul(t, _as_float(lax.bitwise_and(lax.gt(x, lo), lax.lt(x, hi)), out)),
       lambda t, out, lo, x, hi: lax.mul(t, _as_float(lax.lt(hi, x), out)))
defjvp(lax.max_p, _chooser_partial(lax.gt), _chooser_partial(lax.lt))
defjvp(lax.min_p, _chooser_partial(lax.lt), _chooser_partial(lax.gt))
defjvp(lax.dot_general_p,
       lambda t, out, x, y, **params: bind(lax.dot_general_p, t, y, **params),
       lambda t, out, x, y, **params: bind(lax.dot_general_p, x, t, **params))
# A convolution is bilinear, like dot_general: d(x * y) = dx * y + x * dy.
defjvp(lax.conv_general_dilated_p,
       lambda t, out, x, y, **params: bind(lax.conv_general_dilated_p, t, y, **params),
       lambda t, out, x, y, **params: bind(lax.conv_general_dilated_p, x, t, **params))
deflinear(lax.reduce_window_sum_p)


def _window_patches(x, fill, window_dimensions, window_strides, padding):
    """Every window offset's strided view of the padded x, stacked on a new axis 0:
    shape (prod(window), *output shape). Built from pad and slice, whose rules exist."""
    padded = lax.pad(x, lax.full((), fill, get_aval(x).dtype), [(lo, hi, 0) for lo, hi in padding])
    out_shape = [(n - k) // s + 1 for n, k, s in zip(get_aval(padded).shape, window_dimensions, window_strides)]
    views = []
    for offset in itertools.product(*map(range, window_dimensions)):
        limit = [o + (m - 1) * s + 1 for o, m, s in zip(offset, out_shape, window_strides)]
        views.append(lax.expand_dims(lax.slice(padded, offset, limit, window_strides), (0,)))
    return lax.concatenate(views, 0)


def _reduce_window_chooser_jvp(prim, choose, fill):
    """max/min pooling: each output's tangent is the tangent of the element its
    window chose (the first one on a tie)."""
    def rule(primals, tangents, **params):
        (x,), (t,) = primals, tangents
        out = bind(prim, x, **params)
        if isinstance(t, Zero):
            return [out], [Zero.like(out)]
        with core.tag('tangent'):
            xs = _window_patches(x, fill(get_aval(x).dtype), **params)
            ts = _window_patches(t, 0, **params)
            shape = get_aval(ts).shape
            which = lax.broadcast_in_dim(choose(xs, 0, np.int32), shape, tuple(range(1, len(shape))))
            chosen = lax.eq(lax.broadcasted_iota(np.int32, shape, 0), which)
            picked = lax.select(chosen, ts, full_like(ts, 0))
            return [out], [lax.reduce_sum(picked, (0,))]
    jvp_rules[prim] = rule


_reduce_window_chooser_jvp(lax.reduce_window_max_p, lax.argmax,
                           lambda dtype: -np.inf if dtypes.is_float(dtype) else np.iinfo(dtype).min)
_reduce_window_chooser_jvp(lax.reduce_window_min_p, lax.argmin,
                           lambda dtype: np.inf if dtypes.is_float(dtype) else np.iinfo(dtype).max)

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
    at_extreme = _as_float(lax.eq(x, _expand_reduced(out, get_aval(x).shape, axes)), x)
    return lax.div(lax.reduce_sum(lax.mul(t, at_extreme), axes), lax.reduce_sum(at_extreme, axes))


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
    others = lax.reshape(lax.mul(before, after), [shape[d] for d in perm])
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
    return lax.reduce_sum(lax.mul(t, _product_of_others(x, axes)), axes)


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
    keep = lax.ge(j, i) if reverse else lax.le(j, i)
    prods = lax.reduce_prod(lax.select(keep, square, full_like(square, 1)), (axis,))
    return lax.transpose(prods, list(range(axis)) + [nd - 1] + list(range(axis, nd - 1)))


def _cumprod_jvp(primals, tangents, axis, reverse):
    out = bind(lax.cumprod_p, *primals, axis=axis, reverse=reverse)
    with core.tag('tangent'):
        _, (t_out,) = jvp_flat(lambda x: [_cumprod_as_products(x, axis, reverse)], primals, tangents)
    return [out], [t_out]


jvp_rules[lax.cumprod_p] = _cumprod_jvp


# cummax, cummin, cumlogsumexp: as in JAX, the derivative of the same running combination
# written as a parallel prefix (`lax.associative_scan`), so that a tie splits the tangent
# the way `max`'s own rule splits it (half each), in JAX's order of combinations.
def _prefix_scan_jvp(prim, combine):
    def rule(primals, tangents, axis, reverse):
        out = bind(prim, *primals, axis=axis, reverse=reverse)
        with core.tag('tangent'):
            _, (t_out,) = jvp_flat(lambda x: [lax.associative_scan(combine, x, reverse, axis)],
                                   primals, tangents)
        return [out], [t_out]
    return rule


jvp_rules[lax.cummax_p] = _prefix_scan_jvp(lax.cummax_p, lax.max)
jvp_rules[lax.cummin_p] = _prefix_scan_jvp(lax.cummin_p, lax.min)


def _logaddexp_with_tangents(a, b):
    """logaddexp of (value, tangent) pairs: log(e^x + e^y), and its tangent
    tx e^(x - z) + ty e^(y - z), which stays finite where e^x overflows."""
    (x, tx), (y, ty) = a, b
    d = lax.sub(x, y)
    z = lax.select(lax.ne(d, d), lax.add(x, y),   # nan, or infinities of one sign
                   lax.add(lax.max(x, y), lax.log1p(lax.exp(lax.neg(lax.abs(d))))))
    finite = lambda v: lax.select(lax.eq(v, _const(v, np.inf)), full_like(v, 0), v)
    weight = lambda v: lax.exp(lax.sub(finite(v), finite(z)))
    return z, lax.add(lax.mul(tx, weight(x)), lax.mul(ty, weight(y)))


def _cumlogsumexp_jvp(primals, tangents, axis, reverse):
    (x,), (t,) = primals, tangents
    out = bind(lax.cumlogsumexp_p, x, axis=axis, reverse=reverse)
    with core.tag('tangent'):
        _, t_out = lax.associative_scan(_logaddexp_with_tangents, (x, instantiate_zeros(t)),
                                        reverse, axis)
    return [out], [t_out]


jvp_rules[lax.cumlogsumexp_p] = _cumlogsumexp_jvp


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
    safe_u = lax.select(nonzero, u, full_like(u, 1))
    count = per_target(lax.scatter_add, 0, full_like(u, 1))
    zeros = per_target(lax.scatter_add, 0, _as_float(lax.bitwise_not(nonzero), u))
    prod = per_target(lax.scatter_mul, 1, safe_u)
    only_zero = lax.bitwise_and(lax.eq(zeros, full_like(zeros, 1)), lax.bitwise_not(nonzero))
    others = lax.select(lax.eq(zeros, full_like(zeros, 0)), lax.div(prod, safe_u),
                        lax.select(only_zero, prod, full_like(u, 0)))
    others = lax.select(lax.eq(count, full_like(count, 1)), full_like(u, 1),
                        others)   # exact when unique, even for inf
    return lax.scatter_add(full_like(x, 0), idx, lax.mul(t, lax.mul(at_target(x), others)), axes)


# scatter-mul: out = x * (product of the updates) where hit, else x.
defjvp(lax.scatter_mul_p,
       lambda t, out, x, idx, u, axes: lax.mul(t, lax.scatter_mul(full_like(x, 1), idx, u, axes)),
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
            x_wins = _as_float(lax.eq(x, out), x)
            u_wins = _as_float(lax.eq(u, lax.gather(out, idx, axes)), x)
            count = lax.add(x_wins, lax.scatter_add(zeros, idx, u_wins, axes))
            total = lax.add(lax.mul(t_x, x_wins), lax.scatter_add(zeros, idx, lax.mul(t_u, u_wins), axes))
            return [out], [lax.div(total, count)]
    jvp_rules[prim] = rule


_scatter_chooser_jvp(lax.scatter_max_p)
_scatter_chooser_jvp(lax.scatter_min_p)
