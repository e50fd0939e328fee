"""Transposition: run a linear jaxpr backwards, turning tangents into cotangents.

`linearize` gives a jaxpr computing ẏ = J ẋ. Reverse mode needs x̄ = Jᵀ ȳ.
Because every equation of the linear jaxpr is linear in its linear inputs,
each has a transpose rule, and the backward pass walks the equations in
reverse, handing each output cotangent to its rule and accumulating the
cotangents of the inputs:

    ẏ = mul ẋ c        ->   x̄ += mul ȳ c
    ẏ = reduce_sum ẋ   ->   x̄ += broadcast_in_dim ȳ

`UndefPrimal(aval)` marks a linear input (its value is what we are solving
for); other inputs are known constants (residuals).

    transpose_rules[prim](cts, *args, **params) -> one cotangent per operand

`cts` holds one cotangent per output (never `Zero`: an equation whose output
cotangents are all zero is skipped); `args` are the operands, `UndefPrimal`
for linear ones. Return a cotangent for each `UndefPrimal` operand (a `Zero`
is fine) and None for the others. The backward pass runs rules under
`core.tag('cotangent')`.
"""
import numpy as np

from . import core, lax
from .array import Array
from .core import bind, check_rule_list, check_rule_value, describe, get_aval
from .errors import MissingRuleError, RuleOutputError
from .jaxpr import Literal, literal_value, source_context, trace_to_jaxpr
from .ad_util import Zero, add_tangents, full_like, instantiate_zeros, zeros_like_aval

transpose_rules = {}


class UndefPrimal:
    """A linear input of the jaxpr being transposed: only its aval is known."""
    __slots__ = ('aval',)

    def __init__(self, aval):
        self.aval = core.raise_to_shaped(aval)

    def __repr__(self):
        return f"UndefPrimal({self.aval.str_short()})"


def is_undefined(x):
    return isinstance(x, UndefPrimal)


def backward_pass(jaxpr, consts, args, cts):
    """Transpose `jaxpr` (a Jaxpr) with respect to the inputs in `args` that are
    `UndefPrimal`; the other args and `consts` are known values.

    `cts` has one cotangent per output (a value or `Zero`). Returns one entry
    per input: its cotangent (possibly `Zero`) for `UndefPrimal` inputs, None
    for the known ones.
    """
    primal_env = {}
    linear = set()   # variables that depend on an UndefPrimal input
    for v, val in zip(jaxpr.constvars, consts):
        primal_env[v] = val
    for v, val in zip(jaxpr.invars, args):
        if is_undefined(val):
            linear.add(v)
        else:
            primal_env[v] = val

    def read_primal(x):
        if isinstance(x, Literal):
            return literal_value(x)
        return UndefPrimal(x.aval) if x in linear else primal_env[x]

    # Forward: equations on known values only are just evaluated.
    linear_eqns = []
    for eqn in jaxpr.eqns:
        if any(not isinstance(x, Literal) and x in linear for x in eqn.inputs):
            linear.update(eqn.out_binders)
            linear_eqns.append(eqn)
        else:
            with source_context(eqn.source_info):
                outs = bind(eqn.primitive, *map(read_primal, eqn.inputs), **eqn.params)
            primal_env.update(zip(eqn.out_binders, outs if eqn.primitive.multiple_results else [outs]))

    ct_env = {}

    def write_ct(v, ct):
        if not isinstance(v, Literal) and v in linear and ct is not None:
            ct_env[v] = add_tangents(ct_env[v], ct) if v in ct_env else ct

    for v, ct in zip(jaxpr.outvars, cts):
        write_ct(v, ct)
    with core.tag('cotangent'):
        for eqn in reversed(linear_eqns):
            cts_out = [ct_env.pop(v, Zero(v.aval)) for v in eqn.out_binders]
            if all(isinstance(ct, Zero) for ct in cts_out):
                continue
            rule = transpose_rules.get(eqn.primitive)
            if rule is None:
                raise MissingRuleError('transpose', eqn.primitive)
            args_in = list(map(read_primal, eqn.inputs))
            with source_context(eqn.source_info):   # its backward work keeps its scope
                cts_in = rule([instantiate_zeros(ct) for ct in cts_out], *args_in, **eqn.params)
                if eqn.primitive in lax.rank0_broadcasting:
                    cts_in = [unbroadcast(ct, a) for ct, a in zip(cts_in, args_in)]
                check_transpose_result(eqn.primitive, cts_in, args_in)
                for x, ct in zip(eqn.inputs, cts_in):
                    write_ct(x, ct)
    return [ct_env.get(v, Zero(v.aval)) if is_undefined(a) else None
            for v, a in zip(jaxpr.invars, args)]


def unbroadcast(ct, x):
    """The cotangent `ct` of a rank-0 linear operand `x` that an elementwise primitive
    spread over a rank-n result, summed back to rank 0 (each element used x once)."""
    if not is_undefined(x) or ct is None or isinstance(ct, Zero) or x.aval.shape == get_aval(ct).shape:
        return ct
    return lax.reduce_sum(ct, tuple(range(get_aval(ct).ndim)))


def check_transpose_result(prim, cts_in, args):
    """A transpose rule must return one entry per operand, and for each linear
    (`UndefPrimal`) operand a cotangent of exactly that operand's shape and dtype:
    an input broadcast by the primitive needs its cotangent summed back."""
    check_rule_list('transpose', prim, 'its cotangents', cts_in, len(args))
    for i, (a, ct) in enumerate(zip(args, cts_in)):
        if not is_undefined(a):
            continue
        if ct is None:   # None would silently mean "zero"
            raise RuleOutputError(
                'transpose', prim, f"returned None for its linear operand {i}", describe(cts_in),
                f"a cotangent {a.aval.str_short()} for every UndefPrimal operand "
                "(a Zero(aval) if it really is zero)")
        check_rule_value('transpose', prim, f"the cotangent of operand {i}", ct, a.aval)


def transpose_jaxpr(closed_jaxpr, linear):
    """The transpose of a closed jaxpr as a new closed jaxpr.

    `linear[i]` says whether input i is linear. The result takes the
    non-linear inputs followed by one cotangent per output, and returns one
    cotangent (zeros instantiated) per linear input.
    """
    in_avals = closed_jaxpr.in_avals
    n_known = len(linear) - sum(linear)

    def transposed(*args):
        known, cts = iter(args[:n_known]), args[n_known:]
        primals = [UndefPrimal(a) if lin else next(known) for a, lin in zip(in_avals, linear)]
        cts_in = backward_pass(closed_jaxpr.jaxpr, closed_jaxpr.consts, primals, cts)
        return [instantiate_zeros(ct) for ct, lin in zip(cts_in, linear) if lin]

    avals = [core.raise_to_shaped(a) for a, lin in zip(in_avals, linear) if not lin]
    return trace_to_jaxpr(transposed, avals + [core.raise_to_shaped(a) for a in closed_jaxpr.out_avals],
                          'transpose')


# --- the rules --------------------------------------------------------------------

def _nonlinear(prim):
    raise TypeError(f"Cannot transpose {prim}: both operands depend on the input being "
                    "differentiated, so the equation is not linear. This is a bug in a JVP "
                    "rule (a tangent multiplied by a tangent).")


def _add_transpose(cts, x, y):
    ct, = cts
    return [ct if is_undefined(x) else None, ct if is_undefined(y) else None]


def _sub_transpose(cts, x, y):
    ct, = cts
    return [ct if is_undefined(x) else None, lax.neg(ct) if is_undefined(y) else None]


def _mul_transpose(cts, x, y):
    ct, = cts
    if is_undefined(x) and is_undefined(y):
        _nonlinear('mul')
    return [lax.mul(ct, y), None] if is_undefined(x) else [None, lax.mul(x, ct)]


def _div_transpose(cts, x, y, **params):
    ct, = cts
    if is_undefined(y):
        _nonlinear('div')   # linear only in the numerator
    return [lax.div_p.bind(ct, y, **params), None]   # rounded as the primal


transpose_rules[lax.add_p] = transpose_rules[lax.add_any_p] = _add_transpose
transpose_rules[lax.sub_p] = _sub_transpose
transpose_rules[lax.mul_p] = _mul_transpose
transpose_rules[lax.div_p] = _div_transpose
transpose_rules[lax.neg_p] = lambda cts, x: [lax.neg(cts[0])]
transpose_rules[lax.convert_element_type_p] = lambda cts, x, new_dtype, weak_type=False: [
    lax.convert_element_type(cts[0], x.aval.dtype, x.aval.weak_type)]
transpose_rules[lax.reduce_sum_p] = lambda cts, x, axes: [
    lax.broadcast_in_dim(cts[0], x.aval.shape, [d for d in range(x.aval.ndim) if d not in axes])]
transpose_rules[lax.transpose_p] = lambda cts, x, permutation: [
    lax.transpose(cts[0], np.argsort(permutation))]
transpose_rules[lax.squeeze_p] = lambda cts, x, dimensions: [lax.expand_dims(cts[0], dimensions)]
transpose_rules[lax.expand_dims_p] = lambda cts, x, dimensions: [lax.squeeze(cts[0], dimensions)]
transpose_rules[lax.rev_p] = lambda cts, x, dimensions: [lax.rev(cts[0], dimensions)]
transpose_rules[lax.cumsum_p] = lambda cts, x, axis, reverse=False: [
    lax.cumsum(cts[0], axis, reverse=not reverse)]


def _broadcast_in_dim_transpose(cts, x, shape, broadcast_dimensions):
    # Sum over the new axes and over the size-1 axes that were stretched.
    ct, = cts
    stretched = [d for i, d in enumerate(broadcast_dimensions) if x.aval.shape[i] == 1 and shape[d] != 1]
    summed = [d for d in range(len(shape)) if d not in broadcast_dimensions] + stretched
    return [lax.reshape(lax.reduce_sum(ct, summed), x.aval.shape)]


def _reshape_transpose(cts, x, new_sizes, dimensions=None):
    ct, = cts
    if dimensions is None:
        return [lax.reshape(ct, x.aval.shape)]
    # The operand was transposed by `dimensions` before the reshape: undo both.
    transposed_shape = [x.aval.shape[d] for d in dimensions]
    return [lax.transpose(lax.reshape(ct, transposed_shape), np.argsort(dimensions))]


def _slice_transpose(cts, x, start_indices, limit_indices, strides=None):
    # Put the cotangent back where the slice came from, zeros elsewhere.
    ct, = cts
    strides = strides or (1,) * x.aval.ndim
    if 0 in ct.shape:
        return [zeros_like_aval(x.aval)]
    config = [(lo, n - (lo + (m - 1) * st + 1), st - 1)
              for lo, n, m, st in zip(start_indices, x.aval.shape, ct.shape, strides)]
    return [lax.pad(ct, Array(np.zeros((), x.aval.dtype)), config)]


def _pad_transpose(cts, x, value, padding_config):
    ct, = cts
    # Undo the edge padding (cropping is undone by padding with zeros), then
    # take every (interior + 1)-th element.
    zero = Array(np.zeros((), ct.dtype))
    unedged = lax.pad(ct, zero, [(-lo, -hi, 0) for lo, hi, _ in padding_config])
    ct_x = lax.slice(unedged, [0] * ct.ndim, unedged.shape, [i + 1 for _, _, i in padding_config])
    ct_value = None
    if is_undefined(value):   # every output element that is not from x came from `value`
        everything = tuple(range(ct.ndim))
        ct_value = lax.sub(lax.reduce_sum(ct, everything), lax.reduce_sum(ct_x, everything))
    return [ct_x if is_undefined(x) else None, ct_value]


def _concatenate_transpose(cts, *xs, dimension):
    ct, = cts
    out, start = [], 0
    for x in xs:
        n = (x.aval if is_undefined(x) else get_aval(x)).shape[dimension]
        if is_undefined(x):
            lo = [start if d == dimension else 0 for d in range(ct.ndim)]
            hi = [start + n if d == dimension else s for d, s in enumerate(ct.shape)]
            out.append(lax.slice(ct, lo, hi))
        else:
            out.append(None)
        start += n
    return out


def _select_n_transpose(cts, which, *cases):
    ct, = cts
    if is_undefined(which):
        _nonlinear('select_n')
    zeros = zeros_like_aval(core.raise_to_shaped(get_aval(ct)))
    return [None] + [lax.select_n(which, *[ct if j == i else zeros for j in range(len(cases))])
                     if is_undefined(c) else None for i, c in enumerate(cases)]


def _dot_general_transpose(cts, x, y, dimension_numbers, preferred_element_type=None):
    """out = x·y; x̄ = ȳ·y contracting y's free axes, ȳ = x·ȳ likewise, each
    then transposed back into its operand's axis order."""
    ct, = cts
    (lc, rc), (lb, rb) = dimension_numbers
    if is_undefined(x) and is_undefined(y):
        _nonlinear('dot_general')
    x_nd = x.aval.ndim if is_undefined(x) else get_aval(x).ndim
    y_nd = y.aval.ndim if is_undefined(y) else get_aval(y).ndim
    x_free = [d for d in range(x_nd) if d not in lc and d not in lb]
    y_free = [d for d in range(y_nd) if d not in rc and d not in rb]
    nb = len(lb)
    ct_batch = list(range(nb))
    ct_x_free = list(range(nb, nb + len(x_free)))
    ct_y_free = list(range(nb + len(x_free), nb + len(x_free) + len(y_free)))
    if is_undefined(x):
        # Result axes: batch, x's free axes, then y's contracting axes in y's order.
        out = lax.dot_general(ct, y, ((ct_y_free, y_free), (ct_batch, rb)))
        x_axes = list(lb) + x_free + [lc[list(rc).index(d)] for d in sorted(rc)]
        return [lax.transpose(out, np.argsort(x_axes)), None]
    out = lax.dot_general(ct, x, ((ct_x_free, x_free), (ct_batch, lb)))
    y_axes = list(rb) + y_free + [rc[list(lc).index(d)] for d in sorted(lc)]
    return [None, lax.transpose(out, np.argsort(y_axes))]


# The starts were already counted from the end by lax.dynamic_slice: bind directly.

def _dynamic_slice_transpose(cts, x, *starts, slice_sizes):
    ct, = cts
    return [bind(lax.dynamic_update_slice_p, zeros_like_aval(x.aval), ct, *starts)] + [None] * len(starts)


def _dynamic_update_slice_transpose(cts, x, update, *starts):
    ct, = cts
    u_aval = update.aval if is_undefined(update) else core.raise_to_shaped(get_aval(update))
    ct_x = bind(lax.dynamic_update_slice_p, ct, zeros_like_aval(u_aval), *starts) if is_undefined(x) else None
    ct_u = (bind(lax.dynamic_slice_p, ct, *starts, slice_sizes=u_aval.shape)
            if is_undefined(update) else None)
    return [ct_x, ct_u] + [None] * len(starts)


def _index_bounds(idx, shape, axes):
    """The largest valid index along each of `axes`, broadcast to idx's shape."""
    aval = get_aval(idx)
    top = Array(np.array([shape[a] - 1 for a in axes], aval.dtype))
    return lax.broadcast_in_dim(top, aval.shape, (aval.ndim - 1,))


def _in_bounds(idx, shape, axes, like):
    """Mask over the batch of indices: is the whole index inside `shape`? (scatters
    drop the others), broadcast to the shape of `like` (the updates)."""
    aval = get_aval(idx)
    ok = lax.bitwise_and(lax.ge(idx, full_like(idx, 0)), lax.le(idx, _index_bounds(idx, shape, axes)))
    ok = lax.reduce_and(ok, (aval.ndim - 1,))
    return lax.broadcast_in_dim(ok, get_aval(like).shape, range(aval.ndim - 1))


def _gather_transpose(cts, x, idx, axes):
    # As in JAX, out-of-bounds indices are a broken promise with no defined derivative:
    # the read clamps (so the JVP passes on the clamped element's tangent) but this
    # scatter-add drops their cotangent, so grad gives them none (jacfwd != jacrev there).
    ct, = cts
    return [lax.scatter_add(zeros_like_aval(x.aval), idx, ct, axes), None]


def _gathered_updates_ct(ct, idx, updates, axes):
    """The cotangent of scattered updates: the output cotangent at their spots,
    zero for updates that were dropped as out of bounds."""
    got = lax.gather(ct, idx, axes)
    return lax.select(_in_bounds(idx, ct.shape, axes, got), got, zeros_like_aval(updates.aval))


def _scatter_add_transpose(cts, x, idx, updates, axes):
    ct, = cts
    ct_u = _gathered_updates_ct(ct, idx, updates, axes) if is_undefined(updates) else None
    return [ct if is_undefined(x) else None, None, ct_u]


def _scatter_transpose(cts, x, idx, updates, axes):
    # Assumes unique indices (like JAX): overwritten operand entries get no cotangent.
    ct, = cts
    u_aval = updates.aval if is_undefined(updates) else core.raise_to_shaped(get_aval(updates))
    ct_x = lax.scatter(ct, idx, zeros_like_aval(u_aval), axes) if is_undefined(x) else None
    ct_u = _gathered_updates_ct(ct, idx, UndefPrimal(u_aval), axes) if is_undefined(updates) else None
    return [ct_x, None, ct_u]


transpose_rules[lax.broadcast_in_dim_p] = _broadcast_in_dim_transpose
transpose_rules[lax.reshape_p] = _reshape_transpose
transpose_rules[lax.slice_p] = _slice_transpose
transpose_rules[lax.pad_p] = _pad_transpose
transpose_rules[lax.concatenate_p] = _concatenate_transpose
transpose_rules[lax.select_n_p] = _select_n_transpose
transpose_rules[lax.dot_general_p] = _dot_general_transpose


def _conv_split(x, axis, groups):
    """x cut into `groups` equal pieces along `axis`."""
    shape = get_aval(x).shape
    size = shape[axis] // groups
    return [lax.slice(x, [g * size if d == axis else 0 for d in range(len(shape))],
                      [(g + 1) * size if d == axis else n for d, n in enumerate(shape)])
            for g in range(groups)]


def _swap(spec):
    return (spec[1], spec[0]) + tuple(spec[2:])


def _conv_lhs_cotangent(ct, rhs, lhs_shape, window_strides, padding, lhs_dilation, rhs_dilation,
                        dimension_numbers):
    """x̄ for one feature group: ct convolved with the flipped kernel (in and out
    features swapped), strides and input dilation trading places."""
    dn = dimension_numbers
    rhs_shape = get_aval(rhs).shape
    pads = lax.conv_vjp_lhs_padding(
        [lhs_shape[d] for d in dn.lhs_spec[2:]], [rhs_shape[d] for d in dn.rhs_spec[2:]],
        window_strides, [get_aval(ct).shape[d] for d in dn.out_spec[2:]], padding,
        lhs_dilation, rhs_dilation)
    return bind(lax.conv_general_dilated_p, ct, lax.rev(rhs, dn.rhs_spec[2:]),
                window_strides=lhs_dilation, padding=pads, lhs_dilation=window_strides,
                rhs_dilation=rhs_dilation, feature_group_count=1,
                dimension_numbers=lax.ConvDimensionNumbers(dn.out_spec, _swap(dn.rhs_spec), dn.lhs_spec))


def _conv_rhs_cotangent(ct, lhs, rhs_shape, window_strides, padding, lhs_dilation, rhs_dilation,
                        dimension_numbers):
    """ȳ for one feature group: lhs convolved with ct, batch and feature axes
    swapped (the batch is what is summed over), strides and kernel dilation
    trading places."""
    dn = dimension_numbers
    lhs_shape = get_aval(lhs).shape
    pads = lax.conv_vjp_rhs_padding(
        [lhs_shape[d] for d in dn.lhs_spec[2:]], [rhs_shape[d] for d in dn.rhs_spec[2:]],
        window_strides, [get_aval(ct).shape[d] for d in dn.out_spec[2:]], padding,
        lhs_dilation, rhs_dilation)
    return bind(lax.conv_general_dilated_p, lhs, ct, window_strides=rhs_dilation, padding=pads,
                lhs_dilation=lhs_dilation, rhs_dilation=window_strides, feature_group_count=1,
                dimension_numbers=lax.ConvDimensionNumbers(_swap(dn.lhs_spec), _swap(dn.out_spec),
                                                           _swap(dn.rhs_spec)))


def _conv_transpose(cts, lhs, rhs, *, feature_group_count, **params):
    """Both gradient convolutions; feature groups are independent convolutions,
    so each group is transposed on its own and the pieces concatenated."""
    ct, = cts
    if is_undefined(lhs) and is_undefined(rhs):
        _nonlinear('conv_general_dilated')
    dn, groups = params['dimension_numbers'], feature_group_count
    ct_groups = _conv_split(ct, dn.out_spec[1], groups)
    if is_undefined(lhs):
        shape = list(lhs.aval.shape)
        shape[dn.lhs_spec[1]] //= groups
        pieces = [_conv_lhs_cotangent(c, r, shape, **params)
                  for c, r in zip(ct_groups, _conv_split(rhs, dn.rhs_spec[0], groups))]
        return [lax.concatenate(pieces, dn.lhs_spec[1]), None]
    shape = rhs.aval.shape
    pieces = [_conv_rhs_cotangent(c, x, shape, **params)
              for c, x in zip(ct_groups, _conv_split(lhs, dn.lhs_spec[1], groups))]
    return [None, lax.concatenate(pieces, dn.rhs_spec[0])]


def _reduce_window_sum_transpose(cts, x, *, window_dimensions, window_strides, padding):
    """Each input element was added into every window that covers it: spread ct
    back out (strides become interior padding) and sum it over the same windows."""
    ct, = cts
    ones = (1,) * len(window_dimensions)
    pads = lax.conv_vjp_lhs_padding(x.aval.shape, window_dimensions, window_strides,
                                    get_aval(ct).shape, padding, ones, ones)
    spread = lax.pad(ct, Array(np.zeros((), get_aval(ct).dtype)),
                     [(lo, hi, s - 1) for (lo, hi), s in zip(pads, window_strides)])
    return [bind(lax.reduce_window_sum_p, spread, window_dimensions=window_dimensions,
                 window_strides=ones, padding=((0, 0),) * len(ones))]


transpose_rules[lax.conv_general_dilated_p] = _conv_transpose
transpose_rules[lax.reduce_window_sum_p] = _reduce_window_sum_transpose
transpose_rules[lax.dynamic_slice_p] = _dynamic_slice_transpose
transpose_rules[lax.dynamic_update_slice_p] = _dynamic_update_slice_transpose
transpose_rules[lax.gather_p] = _gather_transpose
transpose_rules[lax.scatter_add_p] = _scatter_add_transpose
transpose_rules[lax.scatter_p] = _scatter_transpose
