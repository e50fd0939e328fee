"""The primitives: every computation is made of these.

Each primitive is one table entry: a NumPy `impl`, an abstract-eval rule
(result shape and dtype from argument shapes and dtypes) and a one-line doc.
The thin wrapper functions (`lax.sin(x)`, `lax.dot_general(...)`) just `bind`
them; they mirror `jax.lax`. Primitives do not broadcast or promote:
`tinygrad_tracer.numpy` does that first, as in JAX.

The table is read in three parts, all re-exported here:
  _lax_elementwise.py  `def_primitive` (how a primitive is made) and the
                       elementwise primitives: math, comparisons, bits,
                       select_n, conversions
  lax.py (this file)   shapes, reductions, contraction, iota, sort; and which
                       divisions XLA computes by a reciprocal
  _lax_slicing.py      slices, dynamic slices, gather and scatter
  _lax_conv.py         convolutions (conv_general_dilated) and window reductions (reduce_window)
  _lax_cumulative.py   running sums, products, maxima, minima and log-sum-exps
Where NumPy and XLA round differently (summation order, integer division,
float-to-int conversion) the impls call `_lax_xla`, which says how XLA does it.

Transformations keep their rules elsewhere (`jvp.py`, `batching.py`,
`transpose.py`): the primitives know no transformation.

    >>> lax.sin(1.0)
    Array(0.84147096, dtype=float32, weak_type=True)
"""
import builtins   # lax.max, lax.min and lax.slice hide Python's: the impls say builtins.max

import numpy as np

from . import _lax_xla, dtypes, tree_util
from .array import Array
from ._lax_elementwise import *   # noqa: F401,F403  (the elementwise table and def_primitive)
from ._lax_elementwise import (ANY, BOOL, NUM, check_kind, convert_element_type, def_primitive,
                               div_p, primitives, rank0_broadcasting)
from ._lax_slicing import *   # noqa: F401,F403  (slices, gather, scatter)
from ._lax_conv import *   # noqa: F401,F403  (convolutions, window reductions)
from ._lax_cumulative import *   # noqa: F401,F403  (cumsum, cummax, ...)
from ._lax_xla import divides_by_reciprocal   # noqa: F401  (jnp and the backends ask lax)
from .core import ShapedArray, bind, get_aval
from .jaxpr import Jaxpr, JaxprEqn, Literal, Var, pp_eqn_rules


# --- shapes ----------------------------------------------------------------------

def _broadcast_in_dim(x, shape, broadcast_dimensions):
    expanded = [1] * len(shape)
    for src, dst in enumerate(broadcast_dimensions):
        expanded[dst] = x.shape[src]
    return np.broadcast_to(x.reshape(expanded), shape)


def _broadcast_in_dim_aval(x, shape, broadcast_dimensions):
    if len(broadcast_dimensions) != x.ndim or any(
            x.shape[i] not in (1, shape[d]) for i, d in enumerate(broadcast_dimensions)):
        raise TypeError(f"broadcast_in_dim: cannot broadcast shape {x.shape} to {shape} "
                        f"with broadcast_dimensions={broadcast_dimensions}")
    return ShapedArray(shape, x.dtype, x.weak_type)


broadcast_in_dim_p = def_primitive('broadcast_in_dim', _broadcast_in_dim, _broadcast_in_dim_aval,
                                   "copy x along new or size-1 axes to reach `shape`")


def _reshape_aval(x, new_sizes, dimensions=None):
    if int(np.prod(new_sizes, dtype=np.int64)) != x.size:
        raise TypeError(f"cannot reshape array of shape {x.shape} (size {x.size}) into "
                        f"shape {tuple(new_sizes)} (size {int(np.prod(new_sizes))})")
    return ShapedArray(new_sizes, x.dtype, x.weak_type)


reshape_p = def_primitive(
    'reshape', lambda x, new_sizes, dimensions=None: np.reshape(
        x if dimensions is None else np.transpose(x, dimensions), new_sizes),
    _reshape_aval, "same elements, new shape (row-major order)")
def _transpose_aval(x, permutation):
    if sorted(permutation) != list(range(x.ndim)):
        raise TypeError(f"transpose permutation {permutation} is not a permutation of the "
                        f"{x.ndim} axes of shape {x.shape}")
    return ShapedArray([x.shape[p] for p in permutation], x.dtype, x.weak_type)


transpose_p = def_primitive(
    'transpose', lambda x, permutation: np.transpose(x, permutation), _transpose_aval,
    "permute the axes")


rev_p = def_primitive(
    'rev', lambda x, dimensions: np.flip(x, tuple(dimensions)),
    lambda x, dimensions: ShapedArray(x.shape, x.dtype, x.weak_type), "reverse the order along `dimensions`")


def _squeeze_aval(x, dimensions):
    if any(x.shape[d] != 1 for d in dimensions):
        raise TypeError(f"squeeze: dimensions {dimensions} of shape {x.shape} must have size 1")
    return ShapedArray([n for i, n in enumerate(x.shape) if i not in dimensions], x.dtype, x.weak_type)


squeeze_p = def_primitive('squeeze', lambda x, dimensions: np.squeeze(x, tuple(dimensions)),
                          _squeeze_aval, "drop axes of size 1")


def _expand_dims_shape(shape, dimensions):
    out = list(shape)
    for d in sorted(dimensions):
        out.insert(d, 1)
    return out


expand_dims_p = def_primitive(
    'expand_dims', lambda x, dimensions: np.reshape(x, _expand_dims_shape(x.shape, dimensions)),
    lambda x, dimensions: ShapedArray(_expand_dims_shape(x.shape, dimensions), x.dtype, x.weak_type),
    "insert axes of size 1")


# --- joining and padding -----------------------------------------------------------

def _concatenate_aval(*xs, dimension):
    x = xs[0]
    for y in xs:
        if y.ndim != x.ndim or any(a != b for i, (a, b) in enumerate(zip(x.shape, y.shape)) if i != dimension):
            raise TypeError(f"concatenate: shapes {[a.shape for a in xs]} differ outside "
                            f"dimension {dimension}")
        if y.dtype != x.dtype:
            raise TypeError(f"concatenate requires equal dtypes, got {[a.dtype.name for a in xs]}")
    shape = list(x.shape)
    shape[dimension] = sum(a.shape[dimension] for a in xs)
    return ShapedArray(shape, x.dtype, all(a.weak_type for a in xs))


concatenate_p = def_primitive('concatenate', lambda *xs, dimension: np.concatenate(xs, dimension),
                              _concatenate_aval, "join arrays along `dimension`")


def _pad(x, value, padding_config):
    # Interior padding spreads the elements apart; negative edge padding crops.
    shape = [lo + hi + n + builtins.max(n - 1, 0) * interior for n, (lo, hi, interior) in zip(x.shape, padding_config)]
    inner = [n + builtins.max(n - 1, 0) * i for n, (_, _, i) in zip(x.shape, padding_config)]
    spread = np.full(inner, value, x.dtype)
    spread[tuple(builtins.slice(None, None, i + 1) for (_, _, i) in padding_config)] = x
    out = np.full([builtins.max(s, 0) for s in shape], value, x.dtype)
    src, dst = [], []
    for n, (lo, hi, _) in zip(inner, padding_config):
        src.append(builtins.slice(builtins.max(-lo, 0), n - builtins.max(-hi, 0)))
        dst.append(builtins.slice(builtins.max(lo, 0), builtins.max(lo, 0) + builtins.max(n - builtins.max(-lo, 0) - builtins.max(-hi, 0), 0)))
    out[tuple(dst)] = spread[tuple(src)]
    return out


def _pad_aval(x, value, padding_config):
    if value.shape != () or value.dtype != x.dtype:
        raise TypeError("pad: padding_value must be a scalar of the operand's dtype")
    shape = [lo + hi + n + builtins.max(n - 1, 0) * i for n, (lo, hi, i) in zip(x.shape, padding_config)]
    if len(padding_config) != x.ndim or any(s < 0 for s in shape):
        raise TypeError(f"pad: bad padding_config {padding_config} for shape {x.shape}")
    return ShapedArray(shape, x.dtype, x.weak_type)


pad_p = def_primitive('pad', _pad, _pad_aval, "pad with a value: (low, high, interior) per axis")


# --- reductions ------------------------------------------------------------------

def _reduce_aval(name, kinds):
    def rule(x, axes):
        check_kind(name, x, kinds)
        if any(not 0 <= a < x.ndim for a in axes):
            raise TypeError(f"{name}: axes {axes} out of range for shape {x.shape}")
        return ShapedArray([n for i, n in enumerate(x.shape) if i not in axes], x.dtype, x.weak_type)
    return rule


def _reduction(name, np_fn, kinds, doc):
    return def_primitive(name, lambda x, axes: np_fn(x, axis=tuple(axes)),
                         _reduce_aval(name, kinds), doc)


reduce_sum_p = _reduction('reduce_sum', _lax_xla.in_order(np.sum, np.cumsum), NUM, "sum over `axes`")
reduce_prod_p = _reduction('reduce_prod', _lax_xla.in_order(np.prod, np.cumprod), NUM, "product over `axes`")
reduce_max_p = _reduction('reduce_max', _lax_xla.extreme(np.max, True), ANY, "maximum over `axes`")
reduce_min_p = _reduction('reduce_min', _lax_xla.extreme(np.min, False), ANY, "minimum over `axes`")
reduce_and_p = _reduction('reduce_and', np.all, BOOL, "all over `axes`")
reduce_or_p = _reduction('reduce_or', np.any, BOOL, "any over `axes`")


def _arg_aval(x, axes, index_dtype):
    return _reduce_aval('argmax', ANY)(x, axes).update(dtype=index_dtype, weak_type=False)


argmax_p = def_primitive('argmax', _lax_xla.arg_extreme(np.argmax), _arg_aval,
                         "index of the largest value along one axis")
argmin_p = def_primitive('argmin', _lax_xla.arg_extreme(np.argmin), _arg_aval,
                         "index of the smallest value along one axis")


# --- contraction -------------------------------------------------------------------

def _dot_general_shapes(lhs, rhs, dimension_numbers):
    (lc, rc), (lb, rb) = dimension_numbers
    if any(lhs[a] != rhs[b] for a, b in zip(lc, rc)) or any(lhs[a] != rhs[b] for a, b in zip(lb, rb)):
        raise TypeError(f"dot_general requires contracting and batch dimensions to match, got "
                        f"lhs shape {lhs} and rhs shape {rhs} with dimension_numbers "
                        f"{dimension_numbers}")
    lfree = [i for i in range(len(lhs)) if i not in lc and i not in lb]
    rfree = [i for i in range(len(rhs)) if i not in rc and i not in rb]
    return lfree, rfree


def _dot_general(x, y, dimension_numbers, preferred_element_type=None):
    # Move to (batch, free, contract) @ (batch, contract, free) and call BLAS.
    (lc, rc), (lb, rb) = dimension_numbers
    lfree, rfree = _dot_general_shapes(x.shape, y.shape, dimension_numbers)
    if not _lax_xla.sums_like_blas(x.shape, y.shape, dimension_numbers, x.dtype):
        return _lax_xla.vector_dot(x, y, dimension_numbers)   # XLA's order of sums
    size = lambda shape, idx: int(np.prod([shape[i] for i in idx], dtype=np.int64))
    B, K = size(x.shape, lb), size(x.shape, lc)
    xm = np.transpose(x, list(lb) + lfree + list(lc)).reshape(B, size(x.shape, lfree), K)
    ym = np.transpose(y, list(rb) + list(rc) + rfree).reshape(B, K, size(y.shape, rfree))
    out = np.matmul(xm, ym)
    shape = [x.shape[i] for i in lb] + [x.shape[i] for i in lfree] + [y.shape[i] for i in rfree]
    return out.reshape(shape)


def _dot_general_aval(x, y, dimension_numbers, preferred_element_type=None):
    lfree, rfree = _dot_general_shapes(x.shape, y.shape, dimension_numbers)
    (_, _), (lb, _) = dimension_numbers
    if x.dtype != y.dtype:
        raise TypeError(f"dot_general requires equal dtypes, got {x.dtype.name} and {y.dtype.name}")
    shape = [x.shape[i] for i in lb] + [x.shape[i] for i in lfree] + [y.shape[i] for i in rfree]
    return ShapedArray(shape, preferred_element_type or x.dtype, x.weak_type and y.weak_type)


dot_general_p = def_primitive('dot_general', _dot_general, _dot_general_aval,
                              "tensor contraction: batch dims, then lhs free, then rhs free")


# --- counting and sorting -----------------------------------------------------------

def _iota(dtype, shape, dimension):
    idx = np.arange(shape[dimension], dtype=dtype)
    return np.broadcast_to(idx.reshape([-1 if i == dimension else 1 for i in range(len(shape))]), shape)


iota_p = def_primitive('iota', _iota, lambda dtype, shape, dimension: ShapedArray(shape, dtype),
                       "0, 1, 2, ... along `dimension` of `shape`")


def _sort(*operands, dimension, is_stable=True, num_keys=1):
    keys = operands[:num_keys]
    if num_keys == 1:
        perm = np.argsort(keys[0], axis=dimension, kind='stable')
    else:   # lexicographic: the last key is least significant
        moved = [np.moveaxis(k, dimension, -1) for k in keys]
        perm = np.moveaxis(np.lexsort(moved[::-1], axis=-1), -1, dimension)
    return [np.take_along_axis(x, perm, dimension) for x in operands]


def _sort_aval(*operands, dimension, is_stable=True, num_keys=1):
    if any(o.shape != operands[0].shape for o in operands):
        raise TypeError(f"sort: operands must share a shape, got {[o.shape for o in operands]}")
    return [ShapedArray(o.shape, o.dtype, o.weak_type) for o in operands]


sort_p = def_primitive('sort', _sort, _sort_aval, "sort operands together by the first num_keys",
                       multiple_results=True)


# --- rank-0 operands made explicit, for the kernel generators ----------------------

def spread_rank0(eqn):
    """`eqn` as a list of equations: a `broadcast_in_dim` of each rank-0 operand it
    spreads over a rank-n result (`rank0_broadcasting`), then `eqn` reading those.
    The kernel generators (backends/fusion.py) index every operand of an
    elementwise equation alike, so they take a jaxpr in this form."""
    shape = eqn.out_binders[0].aval.shape if eqn.out_binders else ()
    if eqn.primitive not in rank0_broadcasting or not shape:
        return [eqn]
    eqns, inputs = [], []
    for x in eqn.inputs:
        if x.aval.shape == ():
            v = Var(ShapedArray(shape, x.aval.dtype, x.aval.weak_type))
            eqns.append(JaxprEqn(broadcast_in_dim_p, [x], dict(shape=shape, broadcast_dimensions=()),
                                 [v], eqn.tag, eqn.source_info))
            x = v
        inputs.append(x)
    return eqns + [JaxprEqn(eqn.primitive, inputs, eqn.params, eqn.out_binders, eqn.tag, eqn.source_info)]


# --- division as XLA computes it ------------------------------------------------

def mark_reciprocal_divisions(jaxpr):
    """`jaxpr` with each `div` that XLA would compute as x * (1 / y) (see
    `divides_by_reciprocal`) given the param reciprocal=True. A jaxpr is one
    compiled program: the interpreter, the Numba and CUDA backends and eager
    control flow run it marked, so they round alike. The printed jaxpr stays
    unmarked, as JAX prints it."""
    constant, made_by, eqns = set(jaxpr.constvars), {}, []
    known = lambda x: isinstance(x, Literal) or x in constant
    for eqn in jaxpr.eqns:
        if eqn.primitive is div_p:
            (x, y), src = eqn.inputs, made_by.get(eqn.inputs[1])
            broadcast = (src is not None and src.primitive is broadcast_in_dim_p
                         and src.inputs[0].aval.size < y.aval.size
                         or y.aval.size < eqn.out_binders[0].aval.size)   # a spread rank-0 y
            if divides_by_reciprocal(y.aval.dtype, known(x), known(y), broadcast):
                eqn = JaxprEqn(div_p, eqn.inputs, dict(eqn.params, reciprocal=True),
                               eqn.out_binders, eqn.tag, eqn.source_info)
        if primitives.get(eqn.primitive.name) is eqn.primitive and all(known(x) for x in eqn.inputs):
            constant.update(eqn.out_binders)   # XLA folds it (control flow aside)
        made_by.update((v, eqn) for v in eqn.out_binders)
        eqns.append(eqn)
    return Jaxpr(jaxpr.constvars, jaxpr.invars, jaxpr.outvars, eqns)


# --- how JAX 0.10 prints some params --------------------------------------------------
# broadcast_in_dim shows its broadcast_dimensions only when there are some (the shape is
# the result's type); reduce_sum, reshape and iota name their default sharding (we have
# none); dot_general writes its dimension numbers as lists and the result dtype as
# preferred_element_type.

def _with_sharding(name):
    return lambda eqn, names: sorted(eqn.params.items()) + [(name, None)]


pp_eqn_rules[reshape_p] = pp_eqn_rules[iota_p] = _with_sharding('sharding')

pp_eqn_rules[broadcast_in_dim_p] = lambda eqn, names: (
    [('broadcast_dimensions', eqn.params['broadcast_dimensions'])]
    if eqn.params['broadcast_dimensions'] else [])
pp_eqn_rules[reduce_sum_p] = _with_sharding('out_sharding')


def _pp_dot_general(eqn, names):
    (lc, rc), (lb, rb) = eqn.params['dimension_numbers']
    dims = f"(({list(lc)}, {list(rc)}), ({list(lb)}, {list(rb)}))"
    return [('dimension_numbers', dims),
            ('preferred_element_type', eqn.params['preferred_element_type'] or eqn.out_binders[0].aval.dtype)]


pp_eqn_rules[dot_general_p] = _pp_dot_general


# --- wrappers, mirroring jax.lax ----------------------------------------------------

def broadcast_in_dim(operand, shape, broadcast_dimensions):
    shape, dims = tuple(int(s) for s in shape), tuple(int(d) for d in broadcast_dimensions)
    if get_aval(operand).shape == shape and dims == tuple(range(len(shape))):
        return operand
    return bind(broadcast_in_dim_p, operand, shape=shape, broadcast_dimensions=dims)


def broadcast(operand, sizes):
    """Add leading axes of `sizes`."""
    nd = get_aval(operand).ndim
    sizes = tuple(sizes)
    return broadcast_in_dim(operand, sizes + get_aval(operand).shape,
                            tuple(range(len(sizes), len(sizes) + nd)))


def reshape(operand, new_sizes, dimensions=None):
    new_sizes = tuple(int(s) for s in new_sizes)
    if get_aval(operand).shape == new_sizes and dimensions is None:
        return operand
    return bind(reshape_p, operand, new_sizes=new_sizes,
                dimensions=None if dimensions is None else tuple(dimensions))


def transpose(operand, permutation):
    permutation = tuple(int(p) for p in permutation)
    if permutation == tuple(range(get_aval(operand).ndim)):
        return operand
    return bind(transpose_p, operand, permutation=permutation)


def rev(operand, dimensions):
    return bind(rev_p, operand, dimensions=tuple(sorted(int(d) for d in dimensions)))


def squeeze(array, dimensions):
    return bind(squeeze_p, array, dimensions=tuple(sorted(int(d) for d in dimensions)))


def expand_dims(array, dimensions):
    """`array` with axes of size 1 inserted at `dimensions`: a `broadcast_in_dim`, as
    in JAX (the expand_dims primitive stays for code that binds it)."""
    dims = sorted(int(d) for d in dimensions)
    shape = _expand_dims_shape(get_aval(array).shape, dims)
    return broadcast_in_dim(array, shape, [i for i in range(len(shape)) if i not in dims])


def _reducer(prim):
    def reduce(operand, axes):
        return bind(prim, operand, axes=tuple(sorted(int(a) for a in axes)))
    return reduce


reduce_sum, reduce_prod, reduce_max, reduce_min, reduce_and, reduce_or = map(
    _reducer, (reduce_sum_p, reduce_prod_p, reduce_max_p, reduce_min_p, reduce_and_p, reduce_or_p))


def argmax(operand, axis, index_dtype=dtypes.int32):
    return bind(argmax_p, operand, axes=(int(axis),), index_dtype=np.dtype(index_dtype))


def argmin(operand, axis, index_dtype=dtypes.int32):
    return bind(argmin_p, operand, axes=(int(axis),), index_dtype=np.dtype(index_dtype))


def dot_general(lhs, rhs, dimension_numbers, preferred_element_type=None):
    (lc, rc), (lb, rb) = dimension_numbers
    dn = ((tuple(lc), tuple(rc)), (tuple(lb), tuple(rb)))
    pet = None if preferred_element_type is None else np.dtype(preferred_element_type)
    return bind(dot_general_p, lhs, rhs, dimension_numbers=dn, preferred_element_type=pet)


def dot(lhs, rhs, preferred_element_type=None):
    """Matrix/vector product of arrays of rank 1 or 2."""
    lnd = get_aval(lhs).ndim
    return dot_general(lhs, rhs, (((lnd - 1,), (0,)), ((), ())), preferred_element_type)


def concatenate(operands, dimension):
    if len(operands) == 1:
        return operands[0]
    return bind(concatenate_p, *operands, dimension=int(dimension))


def pad(operand, padding_value, padding_config):
    config = tuple((int(lo), int(hi), int(i)) for lo, hi, i in padding_config)
    return bind(pad_p, operand, padding_value, padding_config=config)


# --- parallel prefix ------------------------------------------------------------------

def associative_scan(fn, elems, reverse=False, axis=0):
    """Every prefix of `elems` along `axis` combined by `fn`, an associative function
    of two arrays (or pytrees of arrays) acting elementwise: out[i] = fn(out[i-1],
    x[i]), or from the end with `reverse=True`. It takes log2(n) rounds of whole-array
    operations rather than n steps: neighbours are combined in pairs, the pairs'
    prefixes are found the same way, and the prefixes ending at even positions are
    filled in from them. JAX differentiates cummax and friends through it.

        >>> associative_scan(lax.add, jnp.arange(5))
        Array([ 0,  1,  3,  6, 10], dtype=int32)
    """
    xs, tree = tree_util.tree_flatten(elems)
    lengths = {get_aval(x).shape[axis] for x in xs}
    if len(lengths) != 1:
        raise ValueError(f"associative_scan: every array of elems needs the same length along "
                         f"axis {axis}, got lengths {sorted(lengths)}.")

    def combine(a, b):
        out = fn(tree_util.tree_unflatten(tree, a), tree_util.tree_unflatten(tree, b))
        return tree_util.tree_leaves(out)
    flip = (lambda ys: [rev(y, (axis,)) for y in ys]) if reverse else (lambda ys: ys)
    return tree_util.tree_unflatten(tree, flip(_prefixes(combine, flip(xs), axis)))


def _prefixes(combine, xs, axis):
    n = get_aval(xs[0]).shape[axis]
    if n < 2:
        return xs

    def take(ys, start, stop, step=2):   # ys[start:stop:step] along axis
        return [_slice_axis(y, axis, start, stop, step) for y in ys]
    odd = _prefixes(combine, combine(take(xs, 0, n - 1), take(xs, 1, n)), axis)   # ending at 1, 3, ...
    even = combine(take(odd, 0, (n + 1) // 2 - 1, 1), take(xs, 2, n))             # ending at 2, 4, ...
    return [_interleave(concatenate([_slice_axis(x, axis, 0, 1, 1), e], axis), o, axis)
            for x, e, o in zip(xs, even, odd)]


def _slice_axis(x, axis, start, stop, step):
    shape = get_aval(x).shape
    return slice(x, [start if d == axis else 0 for d in range(len(shape))],
                 [stop if d == axis else n for d, n in enumerate(shape)],
                 [step if d == axis else 1 for d in range(len(shape))])


def _interleave(a, b, axis):
    """a[0], b[0], a[1], b[1], ... along `axis` (a is as long as b, or one longer)."""
    aval = get_aval(a)
    na, nb = aval.shape[axis], get_aval(b).shape[axis]
    zero = Array(np.zeros((), aval.dtype))
    spread = lambda x, lo, hi: pad(x, zero, [(lo, hi, 1) if d == axis else (0, 0, 0)
                                             for d in range(aval.ndim)])
    join = bitwise_or if aval.dtype == dtypes.bool_ else add
    return join(spread(a, 0, nb - na + 1), spread(b, 1, na - nb))


def iota(dtype, size):
    return broadcasted_iota(dtype, (size,), 0)


def broadcasted_iota(dtype, shape, dimension):
    return bind(iota_p, dtype=dtypes.canonicalize_dtype(dtype), shape=tuple(int(s) for s in shape),
                dimension=int(dimension))


def sort(operand, dimension=-1, is_stable=True, num_keys=1):
    """Sort one array, or a tuple of arrays together by the first `num_keys`."""
    many = isinstance(operand, (tuple, list))
    ops = list(operand) if many else [operand]
    dimension = dimension % get_aval(ops[0]).ndim
    outs = bind(sort_p, *ops, dimension=dimension, is_stable=bool(is_stable), num_keys=int(num_keys))
    return tuple(outs) if many else outs[0]


def full(shape, fill_value, dtype=None):
    dtype = dtypes.canonicalize_dtype(dtype or dtypes.dtype_of(fill_value)[0])
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return broadcast_in_dim(convert_element_type(fill_value, dtype), shape, ())


def zeros_like_array(x):
    aval = get_aval(x)
    return full(aval.shape, 0, aval.dtype)
