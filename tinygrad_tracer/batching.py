"""vmap: vectorizing a function by carrying a batch axis through every primitive.

A `BatchTracer` holds a value with one extra axis, `bdim`, that the user's
function does not see: inside `vmap(f)`, `x.shape` is the shape of a single
example. Each primitive has a *batching rule* that says how to apply it to
the whole batch at once, and where the batch axis ends up:

    batching_rules[reduce_sum_p](axis_size, [x], [bdim], axes=(0,))
        -> ([reduce_sum(moved x, axes=(1,))], [0])

An input that is not batched (`in_axes=None`, or a closed-over constant) has
`bdim = not_mapped`; rules keep such values unbatched where they can.

    >>> vmap(lambda x: jnp.sin(x) * 2)(jnp.ones(3))
    Array([1.6829419, 1.6829419, 1.6829419], dtype=float32)
"""
import numpy as np

from . import core, lax, tree_util
from .ad_util import instantiate_flags
from .core import (Tracer, Trace, ShapedArray, check_rule_list, check_rule_value, describe, get_aval,
                   out_avals, rule_value_aval)
from .errors import MissingRuleError, RuleOutputError
from .jaxpr import trace_to_jaxpr, eval_jaxpr, arg_names_of, fun_name

not_mapped = None


# --- the trace ------------------------------------------------------------------------

class BatchTracer(Tracer):
    """`val` is the whole batch; `bdim` is where its batch axis is (or not_mapped)."""
    __slots__ = ('_trace', 'val', 'bdim')

    def __init__(self, trace, val, bdim):
        self._trace, self.val, self.bdim = trace, val, bdim

    @property
    def aval(self):
        aval = get_aval(self.val)
        if self.bdim is not_mapped:
            return aval
        shape = aval.shape[:self.bdim] + aval.shape[self.bdim + 1:]
        return ShapedArray(shape, aval.dtype, aval.weak_type)

    def full_lower(self):
        return core.full_lower(self.val) if self.bdim is not_mapped else self

    def __repr__(self):   # JAX's name: the aval of one example, then of the whole batch
        return f"VmapTracer(aval={self.aval.str_long()}, batched={get_aval(self.val).str_long()})"


class BatchTrace(Trace):
    """The trace of one `vmap`; `main.global_data` is the axis size."""

    def pure(self, val):
        return BatchTracer(self, val, not_mapped)

    lift = pure

    def process_primitive(self, prim, tracers, params):
        vals = [t.val for t in tracers]
        dims = [t.bdim for t in tracers]
        if all(d is not_mapped for d in dims):   # nothing batched: apply as is
            outs = prim.bind(*vals, **params)
            outs = outs if prim.multiple_results else [outs]
            return [BatchTracer(self, o, not_mapped) for o in outs]
        rule = batching_rules.get(prim)
        if rule is None:
            raise MissingRuleError('batching', prim)
        axis_size = self.main.global_data
        with core.tag('batched'):
            result = rule(axis_size, vals, dims, **params)
        expected = out_avals(prim, [t.aval for t in tracers], params)
        outs, out_dims = checked_batch_result(prim, result, axis_size, expected)
        return [BatchTracer(self, o, d) for o, d in zip(outs, out_dims)]


def checked_batch_result(prim, result, axis_size, expected):
    """A batching rule's `(outs, out_dims)`, checked against the primitive's abstract
    evaluation of one example (`expected`): two lists, one entry per output; each
    dim `not_mapped` or an axis of its output holding `axis_size` elements; each
    output, that axis removed, of the example output's shape and dtype."""
    if not isinstance(result, (list, tuple)) or len(result) != 2:
        raise RuleOutputError('batching', prim, "must return a pair (outs, out_dims)",
                              describe(result), "([out, ...], [out_bdim, ...]), both lists")
    outs, out_dims = result
    check_rule_list('batching', prim, 'outs', outs, len(expected))
    check_rule_list('batching', prim, 'out_dims', out_dims, len(expected))
    for i, (x, d, want) in enumerate(zip(outs, out_dims, expected)):
        aval = rule_value_aval('batching', prim, f"outs[{i}]", x, want)
        if d is not_mapped:
            if aval.shape != want.shape:
                raise RuleOutputError(
                    'batching', prim, f"said outs[{i}] is not batched (out_dims[{i}] = not_mapped), "
                    f"but its shape is not the shape of one example's output", describe(x),
                    f"{want.str_short()}; if outs[{i}] holds the whole batch, give its batch axis "
                    "in out_dims")
            check_rule_value('batching', prim, f"outs[{i}]", x, want)
            continue
        if not isinstance(d, (int, np.integer)) or not 0 <= d < aval.ndim or aval.shape[d] != axis_size:
            raise RuleOutputError(
                'batching', prim, f"returned out_dims[{i}] = {d!r}, which is not an axis of "
                f"outs[{i}] holding the batch of {axis_size}", f"outs[{i}]: {describe(x)}",
                f"an int d with outs[{i}].shape[d] == {axis_size}, or not_mapped for an output "
                f"that is the same for every example ({want.str_short()})")
        example = aval.shape[:d] + aval.shape[d + 1:]
        if example != want.shape or aval.dtype != want.dtype:
            batched = want.update(shape=want.shape[:d] + (axis_size,) + want.shape[d:])
            raise RuleOutputError(
                'batching', prim, f"returned outs[{i}] with the wrong "
                f"{'shape' if example != want.shape else 'dtype'} for batch axis {d}",
                describe(x), f"{batched.str_short()} (one example's {want.str_short()} with the "
                f"batch of {axis_size} at axis {d})")
    return outs, out_dims


batching_rules = {}


# --- helpers shared by the rules -------------------------------------------------------------

def moveaxis(x, src, dst):
    """Move axis `src` of x to position `dst` (a transpose, or nothing)."""
    if src == dst:
        return x
    perm = [i for i in range(get_aval(x).ndim) if i != src]
    perm.insert(dst, src)
    return lax.transpose(x, perm)


def broadcast_batch(x, axis_size, axis=0):
    """Give an unbatched value a batch axis of `axis_size` at `axis`."""
    shape = list(get_aval(x).shape)
    dims = [i if i < axis else i + 1 for i in range(len(shape))]
    shape.insert(axis, axis_size)
    return lax.broadcast_in_dim(x, shape, dims)


def bdim_at_front(x, bdim, axis_size):
    """x with its batch axis first, broadcasting it in when x is not batched."""
    if bdim is not_mapped:
        return broadcast_batch(x, axis_size)
    return moveaxis(x, bdim, 0)


def move_to(x, bdim, dst, axis_size):
    """x with its batch axis at `dst` (None: leave it unbatched, which must be possible)."""
    if dst is not_mapped:
        if bdim is not not_mapped:
            raise ValueError(f"at vmap out_axes, got axis spec None but output was batched on "
                             f"axis {bdim}: return it unbatched, or give an int out_axes.")
        return x
    nd = len(_example_shape(x, bdim)) + 1
    if not -nd <= dst < nd:
        raise ValueError(f"vmap out_axes: axis {dst} is out of bounds for an output of "
                         f"dimension {nd} (its batch axis included)")
    dst %= nd
    if bdim is not_mapped:
        return broadcast_batch(x, axis_size, dst)
    return moveaxis(x, bdim, dst)


def _all_at_front(axis_size, vals, dims):
    return [bdim_at_front(x, d, axis_size) for x, d in zip(vals, dims)]


def _shift(axes):
    """Axis numbers of an example, as axes of the batch (batch axis in front)."""
    return tuple(a + 1 for a in axes)


def _example_shape(x, bdim):
    shape = get_aval(x).shape
    return shape if bdim is not_mapped else shape[:bdim] + shape[bdim + 1:]


# --- elementwise primitives ------------------------------------------------------------------

def _aligned(axis_size, vals, dims):
    """Make every operand batched at one common axis: kept if all batched ones agree
    and none is unbatched, else axis 0 (unbatched operands are broadcast, since lax
    primitives do not broadcast)."""
    mapped = {d for d in dims if d is not not_mapped}
    if len(mapped) == 1 and not_mapped not in dims:
        return vals, mapped.pop()
    return _all_at_front(axis_size, vals, dims), 0


def _rank0_aligned(axis_size, vals, dims):
    """Operands of a primitive that spreads rank-0 operands (`lax.rank0_broadcasting`):
    an unbatched rank-0 operand stays as it is (the primitive spreads it over the batch
    too, and the jaxpr reads `mul b 2.0:f32[]` as JAX's does); a batched one whose
    example is rank 0 beside rank-n examples gets each example's value spread over
    that example's elements."""
    shape = max((_example_shape(x, d) for x, d in zip(vals, dims)), key=len)
    keep = [d is not_mapped and get_aval(x).ndim == 0 for x, d in zip(vals, dims)]
    spread = [shape and d is not not_mapped and not _example_shape(x, d) for x, d in zip(vals, dims)]
    vals = [lax.broadcast_in_dim(moveaxis(x, d, 0), (axis_size, *shape), (0,)) if s else x
            for x, d, s in zip(vals, dims, spread)]
    dims = [0 if s else d for d, s in zip(dims, spread)]
    rest, bdim = _aligned(axis_size, [x for x, k in zip(vals, keep) if not k],
                          [d for d, k in zip(dims, keep) if not k])
    rest = iter(rest)
    return [x if k else next(rest) for x, k in zip(vals, keep)], bdim


def _elementwise_rule(prim):
    align = _rank0_aligned if prim in lax.rank0_broadcasting else _aligned

    def rule(axis_size, vals, dims, **params):
        vals, bdim = align(axis_size, vals, dims)
        return [prim.bind(*vals, **params)], [bdim]
    return rule


for _prim in lax.primitives.values():   # (select_n's own rule, below, replaces this one)
    if _prim.elementwise:
        batching_rules[_prim] = _elementwise_rule(_prim)


def _select_n_rule(axis_size, vals, dims):
    (which, *cases), (wdim, *cdims) = vals, dims
    scalar_which = len(_example_shape(which, wdim)) == 0
    case_shape = _example_shape(cases[0], cdims[0])
    if not scalar_which or not case_shape:
        return _elementwise_rule(lax.select_n_p)(axis_size, vals, dims)
    cases, bdim = _aligned(axis_size, cases, cdims)
    if wdim is not_mapped:   # one decision for the whole batch: the selector stays scalar
        return [lax.select_n(which, *cases)], [bdim]
    # a scalar selector per example: spread it over each example's elements
    cases = [moveaxis(c, bdim, 0) for c in cases]
    which = lax.broadcast_in_dim(moveaxis(which, wdim, 0), (axis_size, *case_shape), (0,))
    return [lax.select_n(which, *cases)], [0]


batching_rules[lax.select_n_p] = _select_n_rule


# --- shape primitives: put the batch axis first and shift every axis parameter -----------------

def _broadcast_in_dim_rule(axis_size, vals, dims, shape, broadcast_dimensions):
    x = moveaxis(vals[0], dims[0], 0)
    return [lax.broadcast_in_dim(x, (axis_size, *shape), (0, *_shift(broadcast_dimensions)))], [0]


def _reshape_rule(axis_size, vals, dims, new_sizes, dimensions):
    x = moveaxis(vals[0], dims[0], 0)
    perm = None if dimensions is None else (0, *_shift(dimensions))
    return [lax.reshape(x, (axis_size, *new_sizes), perm)], [0]


def _transpose_rule(axis_size, vals, dims, permutation):
    x = moveaxis(vals[0], dims[0], 0)
    return [lax.transpose(x, (0, *_shift(permutation)))], [0]


def _front_rule(prim, *axis_params):
    """A rule for primitives whose params name axes of their (single) operand:
    move the batch axis to the front and shift those params by one."""
    def rule(axis_size, vals, dims, **params):
        x = moveaxis(vals[0], dims[0], 0)
        for p in axis_params:
            params[p] = params[p] + 1 if isinstance(params[p], int) else _shift(params[p])
        outs = prim.bind(x, **params)
        outs = outs if prim.multiple_results else [outs]
        return outs, [0] * len(outs)
    return rule


batching_rules[lax.broadcast_in_dim_p] = _broadcast_in_dim_rule
batching_rules[lax.reshape_p] = _reshape_rule
batching_rules[lax.transpose_p] = _transpose_rule
for _prim, _params in [(lax.rev_p, ('dimensions',)), (lax.squeeze_p, ('dimensions',)),
                       (lax.expand_dims_p, ('dimensions',)), (lax.reduce_sum_p, ('axes',)),
                       (lax.reduce_prod_p, ('axes',)), (lax.reduce_max_p, ('axes',)),
                       (lax.reduce_min_p, ('axes',)), (lax.reduce_and_p, ('axes',)),
                       (lax.reduce_or_p, ('axes',)), (lax.argmax_p, ('axes',)),
                       (lax.argmin_p, ('axes',)), (lax.cumsum_p, ('axis',)),
                       (lax.cumprod_p, ('axis',)), (lax.cummax_p, ('axis',)),
                       (lax.cummin_p, ('axis',)), (lax.cumlogsumexp_p, ('axis',))]:
    batching_rules[_prim] = _front_rule(_prim, *_params)


def _slice_rule(axis_size, vals, dims, start_indices, limit_indices, strides):
    x = moveaxis(vals[0], dims[0], 0)
    strides = None if strides is None else (1, *strides)
    return [lax.slice(x, (0, *start_indices), (axis_size, *limit_indices), strides)], [0]


def _concatenate_rule(axis_size, vals, dims, dimension):
    return [lax.concatenate(_all_at_front(axis_size, vals, dims), dimension + 1)], [0]


def _sort_rule(axis_size, vals, dims, dimension, is_stable, num_keys):
    outs = lax.sort_p.bind(*_all_at_front(axis_size, vals, dims), dimension=dimension + 1,
                           is_stable=is_stable, num_keys=num_keys)
    return outs, [0] * len(outs)


def _pad_rule(axis_size, vals, dims, padding_config):
    (x, value), (xdim, vdim) = vals, dims
    x = bdim_at_front(x, xdim, axis_size)
    config = ((0, 0, 0), *padding_config)
    if vdim is not_mapped:
        return [lax.pad(x, value, config)], [0]
    # A per-example padding value: pad with anything, then select the value where
    # a padded mask says "this is padding".
    shape = get_aval(x).shape
    padded = lax.pad(x, lax.full((), 0, get_aval(x).dtype), config)
    inside = lax.pad(lax.full(shape, True, np.bool_), lax.full((), False, np.bool_), config)
    pad_values = lax.broadcast_in_dim(moveaxis(value, vdim, 0), get_aval(padded).shape, (0,))
    return [lax.select_n(inside, pad_values, padded)], [0]


def _iota_rule(axis_size, vals, dims, **params):
    # iota has no operands, so it is never batched (process_primitive applies it directly).
    return [lax.iota_p.bind(**params)], [not_mapped]


batching_rules[lax.slice_p] = _slice_rule
batching_rules[lax.concatenate_p] = _concatenate_rule
batching_rules[lax.sort_p] = _sort_rule
batching_rules[lax.pad_p] = _pad_rule
batching_rules[lax.iota_p] = _iota_rule


# --- contraction -------------------------------------------------------------------------------

def _dot_general_rule(axis_size, vals, dims, dimension_numbers, preferred_element_type):
    (lhs, rhs), (ldim, rdim) = vals, dims
    (lc, rc), (lb, rb) = dimension_numbers
    if ldim is not not_mapped and rdim is not not_mapped:
        # both batched: the batch axis becomes one more dot_general batch dimension
        dn = ((_shift(lc), _shift(rc)), ((0, *_shift(lb)), (0, *_shift(rb))))
        out_dim = 0
    elif ldim is not not_mapped:
        # lhs only: its batch axis is a free lhs dimension, the first one after the batch dims
        dn = ((_shift(lc), rc), (_shift(lb), rb))
        out_dim = len(lb)
    else:
        # rhs only: a free rhs dimension, right after all the lhs free dimensions
        dn = ((lc, _shift(rc)), (lb, _shift(rb)))
        out_dim = get_aval(lhs).ndim - len(lc)
    lhs = lhs if ldim is not_mapped else moveaxis(lhs, ldim, 0)
    rhs = rhs if rdim is not_mapped else moveaxis(rhs, rdim, 0)
    return [lax.dot_general(lhs, rhs, dn, preferred_element_type)], [out_dim]


batching_rules[lax.dot_general_p] = _dot_general_rule


def _merge_axis(x, bdim, axis):
    """Fold batch axis `bdim` into `axis` (numbered without it), batch-major."""
    x = moveaxis(x, bdim, axis)
    shape = get_aval(x).shape
    return lax.reshape(x, shape[:axis] + (shape[axis] * shape[axis + 1],) + shape[axis + 2:])


def _split_axis(x, axis, axis_size):
    """Unfold a batch-major batch out of `axis`: it comes back at position `axis`."""
    shape = get_aval(x).shape
    return lax.reshape(x, shape[:axis] + (axis_size, shape[axis] // axis_size) + shape[axis + 1:])


def _conv_rule(axis_size, vals, dims, *, dimension_numbers, feature_group_count, **params):
    """A batch of lhs is more images (fold it into N); a batch of kernels is more
    output features (fold it into O); a batch of both is more feature groups."""
    (lhs, rhs), (ldim, rdim) = vals, dims
    dn, groups = dimension_numbers, feature_group_count
    conv = lambda x, y, g: lax.conv_general_dilated_p.bind(
        x, y, dimension_numbers=dn, feature_group_count=g, **params)
    if rdim is not_mapped:
        out = conv(_merge_axis(lhs, ldim, dn.lhs_spec[0]), rhs, groups)
        return [_split_axis(out, dn.out_spec[0], axis_size)], [dn.out_spec[0]]
    if ldim is not_mapped and groups == 1:
        out = conv(lhs, _merge_axis(rhs, rdim, dn.rhs_spec[0]), 1)
        return [_split_axis(out, dn.out_spec[1], axis_size)], [dn.out_spec[1]]
    # Both batched (or kernels batched with groups: then lhs is broadcast): each
    # example's groups become groups of one convolution with axis_size * groups.
    lhs = _merge_axis(bdim_at_front(lhs, ldim, axis_size), 0, dn.lhs_spec[1])
    rhs = _merge_axis(rhs, rdim, dn.rhs_spec[0])
    out = conv(lhs, rhs, axis_size * groups)
    return [_split_axis(out, dn.out_spec[1], axis_size)], [dn.out_spec[1]]


def _reduce_window_rule(prim):
    def rule(axis_size, vals, dims, window_dimensions, window_strides, padding):
        (x,), (xdim,) = vals, dims
        out = prim.bind(bdim_at_front(x, xdim, axis_size), window_dimensions=(1, *window_dimensions),
                        window_strides=(1, *window_strides), padding=((0, 0), *padding))
        return [out], [0]
    return rule


batching_rules[lax.conv_general_dilated_p] = _conv_rule
for _prim in (lax.reduce_window_sum_p, lax.reduce_window_max_p, lax.reduce_window_min_p):
    batching_rules[_prim] = _reduce_window_rule(_prim)


# --- indexing: batched indices become gathers and scatters over the batch axis too ---------------

def _batch_index_column(axis_size, idx):
    """Prepend to idx (batch first, shape (B, ..., k)) a column holding each example's
    batch position, so it also indexes the batch axis of the operand."""
    shape = get_aval(idx).shape
    rows = lax.broadcasted_iota(get_aval(idx).dtype, (*shape[:-1], 1), 0)
    return lax.concatenate([rows, idx], len(shape) - 1)


def _gather_rule(axis_size, vals, dims, axes):
    (x, idx), (xdim, idim) = vals, dims
    if idim is not_mapped:
        # the batch axis is a kept axis of x: it lands after idx's batch dims
        x = moveaxis(x, xdim, 0)
        return [lax.gather(x, idx, _shift(axes))], [get_aval(idx).ndim - 1]
    idx = moveaxis(idx, idim, 0)
    if xdim is not_mapped:   # idx's batch axis is one more index batch dim
        return [lax.gather(x, idx, axes)], [0]
    x = moveaxis(x, xdim, 0)
    return [lax.gather(x, _batch_index_column(axis_size, idx), (0, *_shift(axes)))], [0]


def _scatter_rule(prim):
    def rule(axis_size, vals, dims, axes):
        x, idx, updates = _all_at_front(axis_size, vals, dims)
        idx = _batch_index_column(axis_size, idx)
        return [prim.bind(x, idx, updates, axes=(0, *_shift(axes)))], [0]
    return rule


for _prim in (lax.scatter_p, lax.scatter_add_p, lax.scatter_mul_p, lax.scatter_min_p,
              lax.scatter_max_p):
    batching_rules[_prim] = _scatter_rule(_prim)


def _window_indices(axis_size, starts, x_shape, sizes):
    """Indices (B, *sizes, 1 + ndim) of every element of a window per example, starts
    clamped into bounds as dynamic_slice does; column 0 is the batch position."""
    cols = []
    window = (axis_size, *sizes)
    for axis, (s, n, k) in enumerate(zip(starts, x_shape, sizes)):
        s = lax.convert_element_type(s, np.int32)
        s = lax.max(lax.min(s, lax.full((axis_size,), n - k, np.int32)), lax.full((axis_size,), 0, np.int32))
        start = lax.broadcast_in_dim(s, window, (0,))
        cols.append(lax.add(start, lax.broadcasted_iota(np.int32, window, axis + 1)))
    cols.insert(0, lax.broadcasted_iota(np.int32, window, 0))
    return lax.concatenate([lax.expand_dims(c, (len(window),)) for c in cols], len(window))


def _dynamic_slice_rule(axis_size, vals, dims, slice_sizes):
    (x, *starts), (xdim, *sdims) = vals, dims
    if all(d is not_mapped for d in sdims):
        x = moveaxis(x, xdim, 0)
        zero = lax.full((), 0, get_aval(starts[0]).dtype) if starts else None
        return [lax.dynamic_slice_p.bind(x, zero, *starts, slice_sizes=(axis_size, *slice_sizes))], [0]
    # per-example starts: gather every element of every window
    x = bdim_at_front(x, xdim, axis_size)
    starts = _all_at_front(axis_size, starts, sdims)
    idx = _window_indices(axis_size, starts, get_aval(x).shape[1:], slice_sizes)
    return [lax.gather(x, idx, tuple(range(get_aval(x).ndim)))], [0]


def _dynamic_update_slice_rule(axis_size, vals, dims):
    (x, update, *starts), (xdim, udim, *sdims) = vals, dims
    x, update = bdim_at_front(x, xdim, axis_size), bdim_at_front(update, udim, axis_size)
    if all(d is not_mapped for d in sdims):
        zero = lax.full((), 0, get_aval(starts[0]).dtype) if starts else None
        return [lax.dynamic_update_slice_p.bind(x, update, zero, *starts)], [0]
    starts = _all_at_front(axis_size, starts, sdims)
    idx = _window_indices(axis_size, starts, get_aval(x).shape[1:], get_aval(update).shape[1:])
    return [lax.scatter(x, idx, update, tuple(range(get_aval(x).ndim)))], [0]


batching_rules[lax.gather_p] = _gather_rule
batching_rules[lax.dynamic_slice_p] = _dynamic_slice_rule
batching_rules[lax.dynamic_update_slice_p] = _dynamic_update_slice_rule


# --- vmap of a flat function and of a jaxpr ------------------------------------------------------

def vmap_flat(flat_fun, axis_size, in_dims, out_dims, args):
    """Run `flat_fun` (flat list in, flat list out) on `args` batched along `in_dims`.
    `out_dims(dims)` maps the outputs' batch axes (not_mapped for unbatched ones) to
    where the caller wants them; the outputs are returned moved there."""
    with core.new_main(BatchTrace, axis_size, name='vmap') as main:
        trace = main.trace
        tracers = [x if d is not_mapped else BatchTracer(trace, x, d) for x, d in zip(args, in_dims)]
        outs = [core.full_raise(trace, o) for o in flat_fun(*tracers)]
        vals, dims = [t.val for t in outs], [t.bdim for t in outs]
    return [move_to(v, d, od, axis_size) for v, d, od in zip(vals, dims, out_dims(dims))]


def batch_jaxpr(closed, axis_size, in_batched, instantiate):
    """The jaxpr of `closed` on a batch. Batched inputs and outputs carry their batch axis
    first. `instantiate` (a bool or one per output) forces outputs to be batched.
    Returns (batched ClosedJaxpr, which outputs are batched)."""
    instantiate = instantiate_flags(instantiate, len(closed.out_avals))
    out_batched = None   # learned while tracing

    def out_dims(dims):
        nonlocal out_batched
        out_batched = [d is not not_mapped or inst for d, inst in zip(dims, instantiate)]
        return [0 if b else not_mapped for b in out_batched]

    def batched_fun(*args):
        return vmap_flat(lambda *xs: eval_jaxpr(closed.jaxpr, closed.consts, *xs), axis_size,
                         [0 if b else not_mapped for b in in_batched], out_dims, args)

    avals = [a.update(shape=(axis_size, *a.shape)) if b else a
             for a, b in zip(closed.in_avals, in_batched)]
    return trace_to_jaxpr(batched_fun, avals, 'vmap'), out_batched


# --- the user-facing vmap ------------------------------------------------------------------

def _flatten_axes(what, spec, axes, args):
    """One axis spec per leaf of `args`: `axes` is a prefix of the args' structure
    whose leaves (ints or None) apply to whole subtrees. `spec` is what the user wrote."""
    axes_leaves, axes_tree = tree_util.tree_flatten(axes, is_leaf=lambda x: x is None)
    try:
        subtrees = axes_tree.flatten_up_to(args)
    except ValueError as e:
        raise ValueError(f"{what} specification must be a tree prefix of the corresponding "
                         f"value: got {what}={spec!r} for values of structure "
                         f"{tree_util.tree_structure(args)!r}. {e}") from None
    return [ax for ax, sub in zip(axes_leaves, subtrees) for _ in tree_util.tree_leaves(sub)]


def _check_axis_spec(what, ax):
    if ax is not None and not isinstance(ax, (int, np.integer)) or isinstance(ax, bool):
        raise TypeError(f"{what} must be an int, None, or a (pytree) prefix of the "
                        f"arguments of ints and Nones, but got {ax!r}.")


def _type_str(aval):
    return f"{aval.dtype.name}[{','.join(map(str, aval.shape))}]"


def _axis_size(names, args_flat, in_dims, axis_size):
    sizes = [(np.shape(x)[d] if not isinstance(x, Tracer) else x.shape[d], d, name, x)
             for x, d, name in zip(args_flat, in_dims, names) if d is not None]
    distinct = {s for s, *_ in sizes} | ({axis_size} if axis_size is not None else set())
    if len(distinct) == 1:
        return distinct.pop()
    if not distinct:
        raise ValueError("vmap must have at least one non-None value in in_axes or axis_size "
                         "must be specified (to say how many times to map the function).")
    lines = [f"  * the `axis_size` argument was {axis_size};"] if axis_size is not None else []
    for size, d, name, x in sizes:
        lines.append(f"  * one axis had size {size}: axis {d} of argument {name} of type "
                     f"{_type_str(get_aval(x))};")
    lines[-1] = lines[-1].rstrip(';')
    raise ValueError("vmap got inconsistent sizes for array axes to be mapped:\n" + "\n".join(lines))


def vmap(fun, in_axes=0, out_axes=0, axis_size=None):
    """Vectorize `fun` over a batch axis of its arguments.

    `in_axes`: an int (the batch axis of every argument), None (not batched), or a tuple
    with one entry per positional argument, each an int, None or a pytree prefix of
    that argument. `out_axes` says the same for the outputs. `axis_size` is needed
    only when no argument is batched.

        >>> vmap(jnp.dot, in_axes=(0, None))(jnp.ones((5, 3)), jnp.ones(3)).shape
        (5,)
    """
    if isinstance(in_axes, list):
        in_axes = tuple(in_axes)
    if not isinstance(in_axes, tuple):
        _check_axis_spec("vmap in_axes", in_axes)

    def batched(*args, **kwargs):
        if isinstance(in_axes, tuple) and len(in_axes) != len(args):
            raise ValueError(f"vmap in_axes must be an int, None, or a tuple of entries "
                             f"corresponding to the positional arguments passed to the "
                             f"function, but got len(in_axes)={len(in_axes)}, len(args)={len(args)}")
        axes = in_axes if isinstance(in_axes, tuple) else (in_axes,) * len(args)
        args_flat, in_tree = tree_util.tree_flatten((args, kwargs))
        # keyword arguments are always batched along axis 0, as in JAX
        in_dims = _flatten_axes("vmap in_axes", in_axes, axes, args) + \
            [0] * len(tree_util.tree_leaves(kwargs))
        for d in in_dims:
            _check_axis_spec("vmap in_axes", d)
        in_dims = [_normalize_in_axis(x, d) for x, d in zip(args_flat, in_dims)]
        size = _axis_size(arg_names_of(fun, args, kwargs), args_flat, in_dims, axis_size)
        flat_fun, out_tree = tree_util.flatten_fun(lambda a, k: fun(*a, **k), in_tree)

        def out_dims(_):
            outs_proto = out_tree().unflatten([0] * out_tree().num_leaves)
            dims = _flatten_axes("vmap out_axes", out_axes, out_axes, outs_proto)
            for d in dims:
                _check_axis_spec("vmap out_axes", d)
            return dims
        outs = vmap_flat(flat_fun, size, in_dims, out_dims, args_flat)
        return tree_util.tree_unflatten(out_tree(), outs)

    batched.__name__ = f"vmap({fun_name(fun)})"
    batched.__wrapped__ = fun
    return batched


def _normalize_in_axis(x, d):
    if d is None:
        return None
    shape = np.shape(x) if not isinstance(x, Tracer) else x.shape
    if not -len(shape) <= d < len(shape):
        raise ValueError(f"vmap was requested to map its argument along axis {d}, which implies "
                         f"that its rank should be at least {(d if d >= 0 else -d - 1) + 1}, "
                         f"but is only {len(shape)} (its shape is {tuple(shape)})")
    return int(d) % len(shape)
