"""The primitives: every computation is made of these.

Each primitive is one table entry: a NumPy `impl`, an abstract-eval rule
(result shape and dtype from argument shapes and dtypes) and a one-line doc.
The thin wrapper functions below (`lax.sin(x)`, `lax.dot_general(...)`) just
`bind` them; they mirror `jax.lax`. Primitives do not broadcast or promote:
`tinygrad_tracer.numpy` does that first, as in JAX.

Transformations keep their rules elsewhere (`jvp.py`, `batching.py`,
`transpose.py`): this file knows no transformation.

    >>> lax.sin(1.0)
    Array(0.84147096, dtype=float32, weak_type=True)
"""
import builtins

import numpy as np

from . import dtypes, xla_math
from .array import Array
from .core import Primitive, ShapedArray, bind, get_aval, Tracer
from .jaxpr import Jaxpr, JaxprEqn, Literal

primitives = {}   # name -> Primitive, for coverage tests and the docs


def _to_numpy(x):
    if isinstance(x, Array):
        return x._value
    return get_aval(x).val


def _wrap(val, aval):
    val = np.asarray(val)
    if val.dtype != aval.dtype:
        with np.errstate(over='ignore'):   # float64 -> float32 overflow is inf, as in XLA
            val = val.astype(aval.dtype)
    return Array(val, aval.weak_type)


def def_primitive(name, np_impl, abstract_eval, doc, multiple_results=False):
    """Make a primitive whose eager implementation is `np_impl` on NumPy arrays."""
    prim = Primitive(name, multiple_results)
    prim.__doc__ = doc
    prim.abstract_eval = abstract_eval

    def impl(*args, **params):
        out_avals = abstract_eval(*[get_aval(a) for a in args], **params)
        with np.errstate(all='ignore'):   # uint32 wraps, 1/0 is inf, as in XLA
            outs = np_impl(*[_to_numpy(a) for a in args], **params)
        if multiple_results:
            return [_wrap(o, a) for o, a in zip(outs, out_avals)]
        return _wrap(outs, out_avals)

    prim.impl = impl
    primitives[name] = prim
    return prim


# --- abstract evaluation helpers ----------------------------------------------

def _check_kind(name, aval, kinds):
    ok = {'float': dtypes.is_float, 'int': dtypes.is_int, 'bool': dtypes.is_bool}
    if not any(ok[k](aval.dtype) for k in kinds):
        raise TypeError(f"{name} does not accept dtype {aval.dtype.name}. Accepted "
                        f"dtypes are {' or '.join(kinds)}; convert first, e.g. "
                        f"x.astype(jnp.float32).")


def _unary_aval(name, kinds):
    def rule(x):
        _check_kind(name, x, kinds)
        return ShapedArray(x.shape, x.dtype, x.weak_type)
    return rule


def _nary_aval(name, kinds, out_dtype=None):
    def rule(*avals):
        x = avals[0]
        for a in avals:
            _check_kind(name, a, kinds)
        if any(a.shape != x.shape for a in avals):
            raise TypeError(f"{name} got incompatible shapes for broadcasting: "
                            f"{', '.join(str(a.shape) for a in avals)}. lax does not "
                            "broadcast: use jnp functions, or lax.broadcast_in_dim first.")
        if any(a.dtype != x.dtype for a in avals):
            raise TypeError(f"{name} requires arguments to have the same dtypes, got "
                            f"{', '.join(a.dtype.name for a in avals)}. Convert one with "
                            "lax.convert_element_type (jnp functions promote for you).")
        weak = all(a.weak_type for a in avals)
        return ShapedArray(x.shape, out_dtype or x.dtype, weak)   # eq(1., 2.) is weak too, as in JAX
    return rule


FLOAT, INT, BOOL = ('float',), ('int',), ('bool',)
NUM = ('float', 'int')
ANY = ('float', 'int', 'bool')
INT_BOOL = ('int', 'bool')


def _in_float64(np_fn):
    # NumPy's float32 transcendentals can be an ulp off; computing in float64 and
    # rounding once gives the correctly rounded result, which is what XLA prints.
    return lambda x: np_fn(x.astype(np.float64)) if x.dtype.kind == 'f' and x.dtype.itemsize < 8 else np_fn(x)


def _unop(name, np_fn, kinds, doc):
    return def_primitive(name, _in_float64(np_fn) if kinds == FLOAT else np_fn,
                         _unary_aval(name, kinds), doc)


def _binop(name, np_fn, kinds, doc, out_dtype=None):
    return def_primitive(name, np_fn, _nary_aval(name, kinds, out_dtype), doc)


# --- elementwise --------------------------------------------------------------

def _logistic(x):
    e = np.exp(-np.abs(x))   # never overflows
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _round(x, rounding_method=0):
    if rounding_method == 1:   # to nearest even, like np.round
        return np.round(x)
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


neg_p = _unop('neg', np.negative, NUM, "-x")
sign_p = _unop('sign', np.sign, NUM, "-1, 0 or 1 (the sign of x)")
abs_p = _unop('abs', np.abs, NUM, "|x|")
floor_p = _unop('floor', np.floor, FLOAT, "round down")
ceil_p = _unop('ceil', np.ceil, FLOAT, "round up")
round_p = def_primitive('round', _round, lambda x, rounding_method=0: _unary_aval('round', FLOAT)(x),
                        "round to nearest (rounding_method 0: halves away from zero, 1: to even)")
exp_p = _unop('exp', np.exp, FLOAT, "e**x")
# log, log1p, erf, erf_inv: XLA's own float32 polynomials are not correctly rounded, so the
# float64 detour would differ from jax; xla_math repeats XLA's steps (jax's digits, bit for bit).
log_p = def_primitive('log', xla_math.log, _unary_aval('log', FLOAT), "natural logarithm")
log1p_p = def_primitive('log1p', xla_math.log1p, _unary_aval('log1p', FLOAT),
                        "log(1 + x), accurate near 0")
expm1_p = _unop('expm1', np.expm1, FLOAT, "exp(x) - 1, accurate near 0")
sin_p = _unop('sin', np.sin, FLOAT, "sine")
cos_p = _unop('cos', np.cos, FLOAT, "cosine")
tan_p = _unop('tan', np.tan, FLOAT, "tangent")
asin_p = _unop('asin', np.arcsin, FLOAT, "inverse sine")
acos_p = _unop('acos', np.arccos, FLOAT, "inverse cosine")
atan_p = _unop('atan', np.arctan, FLOAT, "inverse tangent")
sinh_p = _unop('sinh', np.sinh, FLOAT, "hyperbolic sine")
cosh_p = _unop('cosh', np.cosh, FLOAT, "hyperbolic cosine")
tanh_p = _unop('tanh', np.tanh, FLOAT, "hyperbolic tangent")
asinh_p = _unop('asinh', np.arcsinh, FLOAT, "inverse hyperbolic sine")
acosh_p = _unop('acosh', np.arccosh, FLOAT, "inverse hyperbolic cosine")
atanh_p = _unop('atanh', np.arctanh, FLOAT, "inverse hyperbolic tangent")
logistic_p = _unop('logistic', _logistic, FLOAT, "1 / (1 + exp(-x)), the sigmoid")
erf_p = def_primitive('erf', xla_math.erf, _unary_aval('erf', FLOAT), "the error function")
erf_inv_p = def_primitive('erf_inv', xla_math.erf_inv, _unary_aval('erf_inv', FLOAT),
                          "inverse of erf on (-1, 1)")
sqrt_p = _unop('sqrt', np.sqrt, FLOAT, "square root")
rsqrt_p = _unop('rsqrt', lambda x: 1 / np.sqrt(x), FLOAT, "1 / sqrt(x)")
is_finite_p = def_primitive('is_finite', np.isfinite,
                            lambda x: _unary_aval('is_finite', FLOAT)(x).update(dtype=dtypes.bool_, weak_type=False),
                            "True where x is neither inf nor nan")
not_p = _unop('not', np.invert, INT_BOOL, "bitwise (or logical, for bool) not")
integer_pow_p = def_primitive(
    'integer_pow', lambda x, y: np.power(x, y) if y >= 0 else 1 / np.power(x, -y),
    lambda x, y: _unary_aval('integer_pow', NUM)(x), "x ** y for a fixed Python int y")
stop_gradient_p = _unop('stop_gradient', lambda x: x, ANY,
                        "identity whose derivative is zero")


def _div(x, y, reciprocal=False):
    if dtypes.is_int(x.dtype):   # XLA rounds integer division toward zero
        if x.dtype.kind == 'i' and x.dtype.itemsize < 8:   # abs(INT_MIN) overflows in 32 bits
            x, y = x.astype(np.int64), y.astype(np.int64)
        q = np.abs(x) // np.where(y == 0, 1, np.abs(y))
        return np.where(y == 0, -1, np.sign(x) * np.sign(y) * q)
    if reciprocal:   # a division XLA rewrites: see divides_by_reciprocal
        return x * (y.dtype.type(1) / y)
    return x / y


def _rem(x, y):
    if dtypes.is_int(x.dtype):   # XLA: integer x % 0 is x
        return np.where(y == 0, x, np.fmod(x, np.where(y == 0, 1, y)))
    return np.fmod(x, y)


def _shift_left(x, y):
    bits = x.dtype.itemsize * 8
    return np.where((y < 0) | (y >= bits), 0, np.left_shift(x, np.clip(y, 0, bits - 1)))


def _shift_right(x, y, logical):
    bits = x.dtype.itemsize * 8
    unsigned = np.dtype(f'uint{bits}')
    xu = x.view(unsigned) if logical else x
    out = np.right_shift(xu, np.clip(y, 0, bits - 1).astype(xu.dtype))
    out = out.view(x.dtype) if logical else out
    big = (y < 0) | (y >= bits)
    return np.where(big, 0 if logical else np.where(x < 0, -1, 0).astype(x.dtype), out)


add_p = _binop('add', np.add, NUM, "x + y")
sub_p = _binop('sub', np.subtract, NUM, "x - y")
mul_p = _binop('mul', np.multiply, NUM, "x * y")
div_p = def_primitive('div', _div, lambda x, y, reciprocal=False: _nary_aval('div', NUM)(x, y),
                     "x / y (integers round toward zero; reciprocal=True: x * (1 / y))")
rem_p = _binop('rem', _rem, NUM, "remainder with the sign of x (C's fmod)")
pow_p = _binop('pow', lambda x, y: _in_float64(lambda a: np.power(a, y))(x), FLOAT, "x ** y")
max_p = _binop('max', np.maximum, ANY, "elementwise maximum (nan wins)")
min_p = _binop('min', np.minimum, ANY, "elementwise minimum (nan wins)")
atan2_p = _binop('atan2', lambda x, y: _in_float64(lambda a: np.arctan2(a, y))(x), FLOAT, "angle of the point (y=x, x=y)")
nextafter_p = _binop('nextafter', np.nextafter, FLOAT, "next float after x towards y")
fma_p = _binop('fma', xla_math.fma, FLOAT, "x * y + z rounded once (fused multiply-add)")
and_p = _binop('and', np.bitwise_and, INT_BOOL, "bitwise (or logical) and")
or_p = _binop('or', np.bitwise_or, INT_BOOL, "bitwise (or logical) or")
xor_p = _binop('xor', np.bitwise_xor, INT_BOOL, "bitwise (or logical) xor")
shift_left_p = _binop('shift_left', _shift_left, INT, "x << y (0 when y >= bit width)")
shift_right_logical_p = _binop('shift_right_logical', lambda x, y: _shift_right(x, y, True),
                               INT, "x >> y filling with zeros")
shift_right_arithmetic_p = _binop('shift_right_arithmetic', lambda x, y: _shift_right(x, y, False),
                                  INT, "x >> y filling with the sign bit")
eq_p = _binop('eq', np.equal, ANY, "x == y", dtypes.bool_)
ne_p = _binop('ne', np.not_equal, ANY, "x != y", dtypes.bool_)
lt_p = _binop('lt', np.less, ANY, "x < y", dtypes.bool_)
le_p = _binop('le', np.less_equal, ANY, "x <= y", dtypes.bool_)
gt_p = _binop('gt', np.greater, ANY, "x > y", dtypes.bool_)
ge_p = _binop('ge', np.greater_equal, ANY, "x >= y", dtypes.bool_)


# --- division as XLA computes it ------------------------------------------------

def divides_by_reciprocal(dtype, dividend_constant, divisor_constant, divisor_broadcast):
    """Does XLA compute the division x / y as x * (1 / y), which rounds differently?

    Its algebraic simplifier rewrites a float division whose divisor is known when
    compiling (a literal, a closed-over constant, or computed from those alone) or
    is a broadcast (the same values repeated), unless the whole quotient is constant
    (then it is folded, exactly). bfloat16 keeps the exact quotient (XLA:CPU
    computes it in float32). This is the one place the rule lives: eager jnp
    functions, `mark_reciprocal_divisions` and so every jit backend ask it.
    (Measured against JAX 0.10.2 on the CPU.)"""
    return (dtypes.is_float(dtype) and np.dtype(dtype) != dtypes.bfloat16
            and not (dividend_constant and divisor_constant)
            and (divisor_constant or divisor_broadcast))


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
                         and src.inputs[0].aval.size < y.aval.size)
            if divides_by_reciprocal(y.aval.dtype, known(x), known(y), broadcast):
                eqn = JaxprEqn(div_p, eqn.inputs, dict(eqn.params, reciprocal=True),
                               eqn.out_binders, eqn.tag)
        if primitives.get(eqn.primitive.name) is eqn.primitive and all(map(known, eqn.inputs)):
            constant.update(eqn.out_binders)   # XLA folds it (control flow aside)
        made_by.update((v, eqn) for v in eqn.out_binders)
        eqns.append(eqn)
    return Jaxpr(jaxpr.constvars, jaxpr.invars, jaxpr.outvars, eqns)


def _select_n_aval(which, *cases):
    if not cases:
        raise TypeError("select_n needs at least one case")
    if which.shape and which.shape != cases[0].shape:
        raise TypeError(f"select_n: the selector's shape {which.shape} must be () or the "
                        f"cases' shape {cases[0].shape}")
    if not (dtypes.is_bool(which.dtype) or which.dtype == dtypes.int32):
        raise TypeError(f"select_n selector must be bool or int32, got {which.dtype.name}")
    return _nary_aval('select_n', ANY)(*cases)


def _select_n(which, *cases):
    if len(cases) == 1:
        return cases[0]
    if which.dtype == np.bool_:
        return np.where(which, cases[1], cases[0])
    return np.choose(which, cases)


select_n_p = def_primitive('select_n', _select_n, _select_n_aval,
                           "cases[which] elementwise (which: bool or int32)")


def _convert(x, new_dtype, weak_type=False):
    new_dtype = np.dtype(new_dtype)
    if dtypes.is_float(x.dtype) and dtypes.is_int(new_dtype):
        # XLA truncates toward zero, saturates out-of-range values and maps nan to 0.
        info = np.iinfo(new_dtype)
        x = np.trunc(np.nan_to_num(x.astype(np.float64), nan=0.0))
        return np.clip(x, info.min, info.max).astype(new_dtype)
    if dtypes.is_bool(new_dtype):
        return x != 0
    return x.astype(new_dtype)


convert_element_type_p = def_primitive(
    'convert_element_type', _convert,
    lambda x, new_dtype, weak_type=False: ShapedArray(x.shape, new_dtype, weak_type),
    "change dtype, value-preserving where it can")


def _bitcast_aval(x, new_dtype):
    if np.dtype(new_dtype).itemsize != x.dtype.itemsize:
        raise TypeError(f"bitcast_convert_type from {x.dtype.name} to {np.dtype(new_dtype).name} "
                        "needs equal bit widths")
    return ShapedArray(x.shape, new_dtype)


bitcast_convert_type_p = def_primitive(
    'bitcast_convert_type', lambda x, new_dtype: x.view(new_dtype), _bitcast_aval,
    "reinterpret the bits as another dtype of the same width")


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


# --- reductions ------------------------------------------------------------------

def _reduce_aval(name, kinds):
    def rule(x, axes):
        _check_kind(name, x, kinds)
        if any(not 0 <= a < x.ndim for a in axes):
            raise TypeError(f"{name}: axes {axes} out of range for shape {x.shape}")
        return ShapedArray([n for i, n in enumerate(x.shape) if i not in axes], x.dtype, x.weak_type)
    return rule


def _reduction(name, np_fn, kinds, doc):
    return def_primitive(name, lambda x, axes: np_fn(x, axis=tuple(axes)),
                         _reduce_aval(name, kinds), doc)


def _in_order(np_reduce, np_accumulate):
    # Float sums round differently in different orders. XLA:CPU adds up to 32
    # elements one after another (row-major over the reduced axes), so we do too
    # and print JAX's digits; for longer reductions its order is its own.
    # float16 and bfloat16 accumulate in float32, as XLA does.
    def reduce(x, axis):
        acc = np.float32 if dtypes.is_float(x.dtype) and x.dtype.itemsize < 4 else x.dtype
        count = int(np.prod([x.shape[a] for a in axis], dtype=np.int64))
        if not dtypes.is_float(x.dtype) or not 1 < count <= 32:
            return np_reduce(x, axis=axis, dtype=acc)
        kept = [a for a in range(x.ndim) if a not in axis]
        rows = np.transpose(x, kept + list(axis)).reshape([x.shape[a] for a in kept] + [count])
        return np_accumulate(rows, axis=-1, dtype=acc)[..., -1]
    return reduce


reduce_sum_p = _reduction('reduce_sum', _in_order(np.sum, np.cumsum), NUM, "sum over `axes`")
reduce_prod_p = _reduction('reduce_prod', _in_order(np.prod, np.cumprod), NUM, "product over `axes`")


def _extreme(np_fn, largest):
    # Reducing no elements gives the identity (-inf for max, as XLA), not an error.
    def reduce(x, axis):
        if x.size:
            return np_fn(x, axis=axis)
        if dtypes.is_float(x.dtype):
            ident = -np.inf if largest else np.inf
        elif dtypes.is_bool(x.dtype):
            ident = not largest
        else:
            ident = np.iinfo(x.dtype).min if largest else np.iinfo(x.dtype).max
        return np_fn(x, axis=axis, initial=ident)
    return reduce


reduce_max_p = _reduction('reduce_max', _extreme(np.max, True), ANY, "maximum over `axes`")
reduce_min_p = _reduction('reduce_min', _extreme(np.min, False), ANY, "minimum over `axes`")
reduce_and_p = _reduction('reduce_and', np.all, BOOL, "all over `axes`")
reduce_or_p = _reduction('reduce_or', np.any, BOOL, "any over `axes`")


def _arg_aval(x, axes, index_dtype):
    return _reduce_aval('argmax', ANY)(x, axes).update(dtype=index_dtype, weak_type=False)


def _argreduce(np_fn):
    def impl(x, axes, index_dtype):
        (axis,) = axes
        if dtypes.is_float(x.dtype):   # nan counts as the extreme value, as in XLA
            nan = np.isnan(x)
            return np.where(nan.any(axis), np.argmax(nan, axis), np_fn(x, axis))
        return np_fn(x, axis)
    return impl


argmax_p = def_primitive('argmax', _argreduce(np.argmax), _arg_aval, "index of the largest value along one axis")
argmin_p = def_primitive('argmin', _argreduce(np.argmin), _arg_aval, "index of the smallest value along one axis")


def _cumsum_aval(x, axis, reverse=False):
    _check_kind('cumsum', x, NUM)
    return ShapedArray(x.shape, x.dtype, x.weak_type)


def _cumulative(np_fn):
    def impl(x, axis, reverse=False):
        if reverse:
            return np.flip(np_fn(np.flip(x, axis), axis=axis, dtype=x.dtype), axis)
        return np_fn(x, axis=axis, dtype=x.dtype)
    return impl


cumsum_p = def_primitive('cumsum', _cumulative(np.cumsum), _cumsum_aval, "running sum along `axis`")
cumprod_p = def_primitive('cumprod', _cumulative(np.cumprod), _cumsum_aval, "running product along `axis`")


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


# --- gathering and slicing -------------------------------------------------------------

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


def _slice_aval(x, start_indices, limit_indices, strides=None):
    strides = strides or (1,) * x.ndim
    if len(start_indices) != x.ndim or any(
            not 0 <= s <= l <= n for s, l, n in zip(start_indices, limit_indices, x.shape)):
        raise TypeError(f"slice: start {start_indices} / limit {limit_indices} out of bounds "
                        f"for shape {x.shape}")
    shape = [-(-(l - s) // st) for s, l, st in zip(start_indices, limit_indices, strides)]
    return ShapedArray(shape, x.dtype, x.weak_type)


slice_p = def_primitive(
    'slice', lambda x, start_indices, limit_indices, strides=None: x[tuple(
        builtins.slice(s, l, st) for s, l, st in zip(start_indices, limit_indices, strides or (1,) * x.ndim))],
    _slice_aval, "a static strided window")


def _clamp_starts(starts, sizes, shape):
    # Like XLA: a window that would run off the end is moved back inside.
    return [int(builtins.min(builtins.max(int(s), 0), n - k)) for s, k, n in zip(starts, sizes, shape)]


def _dynamic_slice(x, *starts, slice_sizes):
    starts = _clamp_starts(starts, slice_sizes, x.shape)
    return x[tuple(builtins.slice(s, s + k) for s, k in zip(starts, slice_sizes))]


def _check_starts(name, x, starts):
    if len(starts) != x.ndim or any(s.shape != () or not dtypes.is_int(s.dtype) for s in starts):
        raise TypeError(f"{name} needs one scalar integer start index per axis of shape {x.shape}")


def _dynamic_slice_aval(x, *starts, slice_sizes):
    _check_starts('dynamic_slice', x, starts)
    if any(not 0 <= k <= n for k, n in zip(slice_sizes, x.shape)):
        raise TypeError(f"dynamic_slice: slice_sizes {slice_sizes} do not fit shape {x.shape}")
    return ShapedArray(slice_sizes, x.dtype, x.weak_type)


dynamic_slice_p = def_primitive('dynamic_slice', _dynamic_slice, _dynamic_slice_aval,
                                "a window at traced start indices (clamped into bounds)")


def _dynamic_update_slice(x, update, *starts):
    starts = _clamp_starts(starts, update.shape, x.shape)
    out = x.copy()
    out[tuple(builtins.slice(s, s + k) for s, k in zip(starts, update.shape))] = update
    return out


def _dynamic_update_slice_aval(x, update, *starts):
    _check_starts('dynamic_update_slice', x, starts)
    if update.ndim != x.ndim or any(k > n for k, n in zip(update.shape, x.shape)) or update.dtype != x.dtype:
        raise TypeError(f"dynamic_update_slice: update {update.str_short()} does not fit "
                        f"operand {x.str_short()}")
    return ShapedArray(x.shape, x.dtype, x.weak_type)


dynamic_update_slice_p = def_primitive(
    'dynamic_update_slice', _dynamic_update_slice, _dynamic_update_slice_aval,
    "overwrite a window at traced start indices (clamped into bounds)")


# Our gather and scatter are a readable special case of XLA's: `indices` has
# shape (*batch, k) and picks one element along each of the k operand axes
# `axes`; every other axis is kept whole. The result has shape
# batch + (the operand's shape without `axes`). NumPy's integer-array indexing
# (`x[idx]`, `x[:, i, j]`) lowers to this.

def _gather_parts(x_shape, idx_shape, axes):
    if idx_shape[-1:] != (len(axes),):
        raise TypeError(f"gather/scatter: indices shape {idx_shape} must end in len(axes)={len(axes)}")
    rest = [n for i, n in enumerate(x_shape) if i not in axes]
    return list(idx_shape[:-1]) + rest


def _index_tuple(x_shape, idx, axes, clamp):
    idx = idx.astype(np.int64)
    index = [builtins.slice(None)] * len(x_shape)
    batch = idx.shape[:-1]
    nb, nrest = len(batch), len(x_shape) - len(axes)
    for j, a in enumerate(axes):
        i = idx[..., j]
        i = np.clip(i, 0, x_shape[a] - 1) if clamp else i
        index[a] = i.reshape(i.shape + (1,) * nrest)   # broadcast against the kept axes
    # NumPy puts the broadcast index dims first when index arrays are separated by
    # slices; make the kept axes explicit aranges so the layout is always batch + rest.
    k = 0
    for a in range(len(x_shape)):
        if a not in axes:
            shape = [1] * (nb + nrest)
            shape[nb + k] = x_shape[a]
            index[a] = np.arange(x_shape[a]).reshape(shape)
            k += 1
    return tuple(index), batch


def _gather(x, idx, axes):
    index, _ = _index_tuple(x.shape, idx, axes, clamp=True)
    return x[index]


def _gather_aval(x, idx, axes):
    if not dtypes.is_int(idx.dtype):
        raise TypeError(f"gather indices must be integers, got {idx.dtype.name}")
    return ShapedArray(_gather_parts(x.shape, idx.shape, axes), x.dtype, x.weak_type)


gather_p = def_primitive('gather', _gather, _gather_aval,
                         "x at integer indices along `axes` (out-of-bounds indices clamp)")


def _scatter_impl(combine):
    def impl(x, idx, updates, axes):
        out = x.copy()
        index, batch = _index_tuple(x.shape, idx, axes, clamp=False)
        inb = np.all((idx >= 0) & (idx < np.array([x.shape[a] for a in axes])), axis=-1)
        inb = inb.reshape(inb.shape + (1,) * (x.ndim - len(axes)))
        # Out-of-bounds updates are dropped: point them at a scratch row of the result.
        full = np.broadcast_shapes(*[np.shape(i) for i in index])
        keep = np.broadcast_to(inb, full)
        sel = tuple(np.broadcast_to(i, full)[keep] for i in index)
        combine(out, sel, np.broadcast_to(updates, full)[keep])
        return out
    return impl


def _scatter_aval(x, idx, updates, axes):
    expected = _gather_parts(x.shape, idx.shape, axes)
    if list(updates.shape) != expected or updates.dtype != x.dtype:
        raise TypeError(f"scatter: updates {updates.str_short()} must have shape "
                        f"{tuple(expected)} and dtype {x.dtype.name}")
    return ShapedArray(x.shape, x.dtype, x.weak_type)


def _set(out, sel, upd):
    out[sel] = upd


scatter_p = def_primitive('scatter', _scatter_impl(_set), _scatter_aval,
                          "x with x[indices] = updates (out-of-bounds dropped)")
scatter_add_p = def_primitive('scatter-add', _scatter_impl(np.add.at), _scatter_aval,
                              "x with x[indices] += updates (repeats accumulate)")
scatter_mul_p = def_primitive('scatter-mul', _scatter_impl(np.multiply.at), _scatter_aval,
                              "x with x[indices] *= updates")
scatter_min_p = def_primitive('scatter-min', _scatter_impl(np.minimum.at), _scatter_aval,
                              "x with x[indices] = min(x[indices], updates)")
scatter_max_p = def_primitive('scatter-max', _scatter_impl(np.maximum.at), _scatter_aval,
                              "x with x[indices] = max(x[indices], updates)")


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


# --- wrappers, mirroring jax.lax ----------------------------------------------------

def _lift_scalars(*args):
    """Python scalars in a binary lax op take the other operand's dtype (weakly)."""
    ref = next((a for a in args if not isinstance(a, (int, float, bool))), None)
    if ref is None:
        return args
    dtype = get_aval(ref).dtype
    return [Array(np.asarray(a, dtype), True) if isinstance(a, (int, float)) and not isinstance(a, bool)
            else a for a in args]


def _unary(prim):
    return lambda x: bind(prim, x)


def _binary(prim):
    return lambda x, y: bind(prim, *_lift_scalars(x, y))


neg, sign, floor, ceil = map(_unary, (neg_p, sign_p, floor_p, ceil_p))
exp, log, log1p, expm1 = map(_unary, (exp_p, log_p, log1p_p, expm1_p))
sin, cos, tan, tanh, logistic = map(_unary, (sin_p, cos_p, tan_p, tanh_p, logistic_p))
asin, acos, atan, sinh, cosh = map(_unary, (asin_p, acos_p, atan_p, sinh_p, cosh_p))
asinh, acosh, atanh, erf, erf_inv = map(_unary, (asinh_p, acosh_p, atanh_p, erf_p, erf_inv_p))
sqrt, rsqrt, is_finite, bitwise_not = map(_unary, (sqrt_p, rsqrt_p, is_finite_p, not_p))
add, sub, mul, div, rem, pow = map(_binary, (add_p, sub_p, mul_p, div_p, rem_p, pow_p))
max, min, atan2, nextafter = map(_binary, (max_p, min_p, atan2_p, nextafter_p))
bitwise_and, bitwise_or, bitwise_xor = map(_binary, (and_p, or_p, xor_p))
shift_left, shift_right_logical, shift_right_arithmetic = map(
    _binary, (shift_left_p, shift_right_logical_p, shift_right_arithmetic_p))
eq, ne, lt, le, gt, ge = map(_binary, (eq_p, ne_p, lt_p, le_p, gt_p, ge_p))
abs = _unary(abs_p)


def fma(x, y, z):
    """x * y + z with one rounding. XLA:CPU fuses float32 multiply-adds this way,
    so code that must match JAX's digits (random.uniform) spells it out."""
    return bind(fma_p, *_lift_scalars(x, y, z))


def round(x, rounding_method=0):
    return bind(round_p, x, rounding_method=int(rounding_method))


def integer_pow(x, y):
    """x ** y for a static integer y (an integral float such as 2.0 is accepted too)."""
    if not (isinstance(y, (int, np.integer)) or
            isinstance(y, (float, np.floating)) and float(y).is_integer()):
        raise TypeError(f"lax.integer_pow: the exponent y must be a Python int, got {y!r}. "
                        "For a fractional or traced exponent use lax.pow(x, y) (or x ** y).")
    return bind(integer_pow_p, x, y=int(y))


def square(x):
    return integer_pow(x, 2)


def select_n(which, *cases):
    return bind(select_n_p, which, *cases)


def select(pred, on_true, on_false):
    """on_true where pred else on_false (lax.select)."""
    return select_n(pred, on_false, on_true)


def convert_element_type(x, new_dtype, weak_type=False):
    new_dtype = dtypes.canonicalize_dtype(new_dtype)
    aval = get_aval(x)
    if aval.dtype == new_dtype and aval.weak_type == weak_type and isinstance(x, (Array, Tracer)):
        return x
    return bind(convert_element_type_p, x, new_dtype=new_dtype, weak_type=bool(weak_type))


def bitcast_convert_type(x, new_dtype):
    return bind(bitcast_convert_type_p, x, new_dtype=np.dtype(new_dtype))


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
    return bind(expand_dims_p, array, dimensions=tuple(sorted(int(d) for d in dimensions)))


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


def cumsum(operand, axis=0, reverse=False):
    return bind(cumsum_p, operand, axis=int(axis), reverse=bool(reverse))


def cumprod(operand, axis=0, reverse=False):
    return bind(cumprod_p, operand, axis=int(axis), reverse=bool(reverse))


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


def slice(operand, start_indices, limit_indices, strides=None):
    return bind(slice_p, operand, start_indices=tuple(int(i) for i in start_indices),
                limit_indices=tuple(int(i) for i in limit_indices),
                strides=None if strides is None or all(s == 1 for s in strides)
                else tuple(int(s) for s in strides))


def _start_indices(indices, shape):
    """Start indices as scalars, negative ones counted from the end as in JAX (the
    primitives only clamp: a transform that rebinds them must not count twice)."""
    out = []
    for i, n in zip(indices, shape):
        if isinstance(i, (int, np.integer)):
            out.append(Array(np.asarray(i + n if i < 0 else i, dtypes.int32)))
        else:
            out.append(select(lt(i, 0), add(i, n), i))
    return out


def dynamic_slice(operand, start_indices, slice_sizes):
    """The window of `slice_sizes` at `start_indices` (negative ones count from the
    end; a window that would run off the array is moved back inside)."""
    starts = _start_indices(start_indices, get_aval(operand).shape)
    return bind(dynamic_slice_p, operand, *starts, slice_sizes=tuple(int(s) for s in slice_sizes))


def dynamic_update_slice(operand, update, start_indices):
    """operand with the window at `start_indices` replaced by `update` (starts as in
    dynamic_slice)."""
    starts = _start_indices(start_indices, get_aval(operand).shape)
    return bind(dynamic_update_slice_p, operand, update, *starts)


def gather(operand, indices, axes):
    """operand[indices[..., 0], indices[..., 1], ...] along `axes` (see the note above)."""
    return bind(gather_p, operand, indices, axes=tuple(int(a) for a in axes))


def _scatterer(prim):
    def scatter(operand, indices, updates, axes):
        return bind(prim, operand, indices, updates, axes=tuple(int(a) for a in axes))
    scatter.__doc__ = prim.__doc__
    return scatter


scatter, scatter_add, scatter_mul, scatter_min, scatter_max = map(
    _scatterer, (scatter_p, scatter_add_p, scatter_mul_p, scatter_min_p, scatter_max_p))


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


def stop_gradient(x):
    """x, treated as a constant by differentiation (works on pytrees).

        >>> grad(lambda x: x * lax.stop_gradient(x))(3.0)  # 3.0, not 6.0
    """
    from .tree_util import tree_map
    return tree_map(lambda v: bind(stop_gradient_p, v), x)


def full(shape, fill_value, dtype=None):
    dtype = dtypes.canonicalize_dtype(dtype or dtypes.dtype_of(fill_value)[0])
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return broadcast_in_dim(convert_element_type(fill_value, dtype), shape, ())


def zeros_like_array(x):
    aval = get_aval(x)
    return full(aval.shape, 0, aval.dtype)


_CONTROL_FLOW = ('cond', 'switch', 'fori_loop', 'while_loop', 'scan', 'map')


def __getattr__(name):
    # Control flow needs jaxprs, which sit above this module: load it on first use.
    if name in _CONTROL_FLOW:
        from . import control_flow
        return getattr(control_flow, name)
    raise AttributeError(f"module 'tinygrad_tracer.lax' has no attribute {name!r}")
