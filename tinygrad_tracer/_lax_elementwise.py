"""How a primitive is made, and the elementwise primitives.

`def_primitive` is the whole recipe: a NumPy `impl`, an abstract-eval rule
(result shape and dtype from argument shapes and dtypes) and a one-line doc
make a `Primitive`, recorded in `primitives`. The elementwise primitives
below (math, comparisons, bit operations, select_n, conversions) act on each
element on its own, on arguments of one dtype and one shape, except that a
rank-0 operand stands for its value at every element (`mul a 3.0:f32[]`, as in
JAX; `elementwise_shape` and `rank0_broadcasting`). `lax` re-exports
everything here next to the structural primitives.
"""
import numpy as np

from . import _lax_xla, core, dtypes, xla_math
from .array import Array
from .core import Primitive, ShapedArray, bind, eager_out_avals, get_aval, Tracer
from .tree_util import tree_map

primitives = {}   # name -> Primitive, for coverage tests and the docs


def to_numpy(x):
    """The NumPy value of a concrete argument (an Array, or a Python or NumPy scalar)."""
    if isinstance(x, Array):
        return x._value
    return get_aval(x).val


def _wrap(val, aval):
    if aval.dtype == dtypes.float0:   # no data: stays a NumPy float0 array, as in JAX
        return np.zeros(aval.shape, dtypes.float0)
    val = np.asarray(val)
    if val.dtype != aval.dtype:
        with np.errstate(over='ignore'):   # float64 -> float32 overflow is inf, as in XLA
            val = val.astype(aval.dtype)
    return Array(val, aval.weak_type)


def def_primitive(name, np_impl, abstract_eval, doc, multiple_results=False, elementwise=False):
    """Make a primitive whose eager implementation is `np_impl` on NumPy arrays.
    `elementwise`: element i of the result depends on element i of each operand only
    (vmap and the kernel fuser rely on it)."""
    prim = Primitive(name, multiple_results, elementwise)
    prim.__doc__ = doc
    prim.abstract_eval = abstract_eval

    def impl(*args, **params):
        out_avals = eager_out_avals(prim, args, params)   # remembered: eager ops repeat
        with np.errstate(all='ignore'):   # uint32 wraps, 1/0 is inf, as in XLA
            outs = np_impl(*[to_numpy(a) for a in args], **params)
        if multiple_results:
            return [_wrap(o, a) for o, a in zip(outs, out_avals)]
        return _wrap(outs, out_avals[0])

    prim.impl = impl
    primitives[name] = prim
    return prim


# --- abstract evaluation helpers ----------------------------------------------

FLOAT, INT, BOOL = ('float',), ('int',), ('bool',)
NUM = ('float', 'int')
ANY = ('float', 'int', 'bool')
INT_BOOL = ('int', 'bool')


def check_kind(name, aval, kinds):
    """Raise the TypeError JAX raises when primitive `name` gets a dtype outside
    `kinds` (a tuple of 'float', 'int', 'bool')."""
    ok = {'float': dtypes.is_float, 'int': dtypes.is_int, 'bool': dtypes.is_bool}
    if not any(ok[k](aval.dtype) for k in kinds):
        shown = 'float0' if aval.dtype == dtypes.float0 else aval.dtype.name   # (numpy says void)
        raise TypeError(f"{name} does not accept dtype {shown}. Accepted "
                        f"dtypes are {' or '.join(kinds)}; convert first, e.g. "
                        f"x.astype(jnp.float32).")


def _unary_aval(name, kinds):
    def rule(x):
        check_kind(name, x, kinds)
        return ShapedArray(x.shape, x.dtype, x.weak_type)
    return rule


def elementwise_shape(name, avals, rank0=True):
    """The result shape of elementwise primitive `name` on operands `avals`: their
    common shape. With `rank0`, an operand of shape () stands for its value at
    every element (JAX prints `mul a 3.0:f32[]`, not a broadcast first); every
    transform and backend follows this one rule (see `rank0_broadcasting`)."""
    shapes = {a.shape for a in avals if not (rank0 and a.shape == ())}
    if len(shapes) > 1:
        raise TypeError(f"{name} got incompatible shapes for broadcasting: "
                        f"{', '.join(str(a.shape) for a in avals)}. lax broadcasts only "
                        "rank-0 operands: use jnp functions, or lax.broadcast_in_dim first.")
    return shapes.pop() if shapes else ()


# The elementwise primitives whose operands may mix shape () with one shape (all
# with two or more operands but select_n, whose cases must share their shape).
rank0_broadcasting = set()


def _nary_aval(name, kinds, out_dtype=None, rank0=True):
    def rule(*avals):
        x = avals[0]
        for a in avals:
            check_kind(name, a, kinds)
        shape = elementwise_shape(name, avals, rank0)
        if any(a.dtype != x.dtype for a in avals):
            raise TypeError(f"{name} requires arguments to have the same dtypes, got "
                            f"{', '.join(a.dtype.name for a in avals)}. Convert one with "
                            "lax.convert_element_type (jnp functions promote for you).")
        weak = all(a.weak_type for a in avals)
        return ShapedArray(shape, out_dtype or x.dtype, weak)   # eq(1., 2.) is weak too, as in JAX
    return rule


def _unop(name, np_fn, kinds, doc):
    return def_primitive(name, _lax_xla.in_float64(np_fn) if kinds == FLOAT else np_fn,
                         _unary_aval(name, kinds), doc, elementwise=True)


def _binop(name, np_fn, kinds, doc, out_dtype=None, aval=None):
    prim = def_primitive(name, np_fn, aval or _nary_aval(name, kinds, out_dtype), doc, elementwise=True)
    rank0_broadcasting.add(prim)
    return prim


# --- unary ----------------------------------------------------------------------

def _logistic(x):
    if x.dtype == np.float32:   # as XLA: 1 / (1 + e**-x) with its float32 exp (e**-x may be inf)
        with np.errstate(over='ignore'):
            return np.float32(1) / (np.float32(1) + xla_math.exp(-x))
    return _logistic_in_float64(x)


@_lax_xla.in_float64
def _logistic_in_float64(x):
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
                        "round to nearest (rounding_method 0: halves away from zero, 1: to even)",
                        elementwise=True)
# exp, tanh, log, log1p, erf, erf_inv: XLA's own float32 polynomials are not correctly rounded,
# so the float64 detour would differ from jax; xla_math repeats XLA's steps (jax's digits).
exp_p = def_primitive('exp', xla_math.exp, _unary_aval('exp', FLOAT), "e**x", elementwise=True)
log_p = def_primitive('log', xla_math.log, _unary_aval('log', FLOAT), "natural logarithm",
                      elementwise=True)
log1p_p = def_primitive('log1p', xla_math.log1p, _unary_aval('log1p', FLOAT),
                        "log(1 + x), accurate near 0", elementwise=True)
expm1_p = _unop('expm1', np.expm1, FLOAT, "exp(x) - 1, accurate near 0")
# sin, cos, tan: XLA calls the C library's float32 functions (sinf, ...), so do we.
sin_p = def_primitive('sin', _lax_xla.c_library('sin', np.sin), _unary_aval('sin', FLOAT), "sine",
                      elementwise=True)
cos_p = def_primitive('cos', _lax_xla.c_library('cos', np.cos), _unary_aval('cos', FLOAT), "cosine",
                      elementwise=True)
tan_p = def_primitive('tan', _lax_xla.c_library('tan', np.tan), _unary_aval('tan', FLOAT), "tangent",
                      elementwise=True)
asin_p = _unop('asin', np.arcsin, FLOAT, "inverse sine")
acos_p = _unop('acos', np.arccos, FLOAT, "inverse cosine")
atan_p = _unop('atan', np.arctan, FLOAT, "inverse tangent")
sinh_p = _unop('sinh', np.sinh, FLOAT, "hyperbolic sine")
cosh_p = _unop('cosh', np.cosh, FLOAT, "hyperbolic cosine")
tanh_p = def_primitive('tanh', xla_math.tanh, _unary_aval('tanh', FLOAT), "hyperbolic tangent",
                       elementwise=True)
asinh_p = _unop('asinh', np.arcsinh, FLOAT, "inverse hyperbolic sine")
acosh_p = _unop('acosh', np.arccosh, FLOAT, "inverse hyperbolic cosine")
atanh_p = _unop('atanh', np.arctanh, FLOAT, "inverse hyperbolic tangent")
logistic_p = def_primitive('logistic', _logistic, _unary_aval('logistic', FLOAT),
                           "1 / (1 + exp(-x)), the sigmoid", elementwise=True)
erf_p = def_primitive('erf', xla_math.erf, _unary_aval('erf', FLOAT), "the error function",
                      elementwise=True)
erf_inv_p = def_primitive('erf_inv', xla_math.erf_inv, _unary_aval('erf_inv', FLOAT),
                          "inverse of erf on (-1, 1)", elementwise=True)
sqrt_p = _unop('sqrt', np.sqrt, FLOAT, "square root")
rsqrt_p = _unop('rsqrt', lambda x: 1 / np.sqrt(x), FLOAT, "1 / sqrt(x)")
is_finite_p = def_primitive('is_finite', np.isfinite,
                            lambda x: _unary_aval('is_finite', FLOAT)(x).update(dtype=dtypes.bool_, weak_type=False),
                            "True where x is neither inf nor nan", elementwise=True)
not_p = _unop('not', np.invert, INT_BOOL, "bitwise (or logical, for bool) not")
integer_pow_p = def_primitive(
    'integer_pow', _lax_xla.integer_pow,
    lambda x, y: _unary_aval('integer_pow', NUM)(x), "x ** y for a fixed Python int y",
    elementwise=True)
stop_gradient_p = _unop('stop_gradient', lambda x: x, ANY,
                        "identity whose derivative is zero")


# --- binary -----------------------------------------------------------------------

add_p = _binop('add', np.add, NUM, "x + y")
add_any_p = _binop('add_any', np.add, NUM, "x + y, as autodiff adds up tangents and cotangents")
sub_p = _binop('sub', np.subtract, NUM, "x - y")
mul_p = _binop('mul', np.multiply, NUM, "x * y")
div_p = _binop('div', _lax_xla.divide, NUM, "x / y (integers round toward zero; reciprocal=True: x * (1 / y))",
               aval=lambda x, y, reciprocal=False: _nary_aval('div', NUM)(x, y))
rem_p = _binop('rem', _lax_xla.remainder, NUM, "remainder with the sign of x (C's fmod)")
pow_p = _binop('pow', lambda x, y: _lax_xla.in_float64(lambda a: np.power(a, y))(x), FLOAT, "x ** y")
max_p = _binop('max', np.maximum, ANY, "elementwise maximum (nan wins)")
min_p = _binop('min', np.minimum, ANY, "elementwise minimum (nan wins)")
atan2_p = _binop('atan2', lambda x, y: _lax_xla.in_float64(lambda a: np.arctan2(a, y))(x), FLOAT,
                 "angle of the point (y=x, x=y)")
nextafter_p = _binop('nextafter', np.nextafter, FLOAT, "next float after x towards y")
fma_p = _binop('fma', xla_math.fma, FLOAT, "x * y + z rounded once (fused multiply-add)")
and_p = _binop('and', np.bitwise_and, INT_BOOL, "bitwise (or logical) and")
or_p = _binop('or', np.bitwise_or, INT_BOOL, "bitwise (or logical) or")
xor_p = _binop('xor', np.bitwise_xor, INT_BOOL, "bitwise (or logical) xor")
shift_left_p = _binop('shift_left', _lax_xla.shift_left, INT, "x << y (0 when y >= bit width)")
shift_right_logical_p = _binop('shift_right_logical', lambda x, y: _lax_xla.shift_right(x, y, True),
                               INT, "x >> y filling with zeros")
shift_right_arithmetic_p = _binop('shift_right_arithmetic', lambda x, y: _lax_xla.shift_right(x, y, False),
                                  INT, "x >> y filling with the sign bit")
eq_p = _binop('eq', np.equal, ANY, "x == y", dtypes.bool_)
ne_p = _binop('ne', np.not_equal, ANY, "x != y", dtypes.bool_)
lt_p = _binop('lt', np.less, ANY, "x < y", dtypes.bool_)
le_p = _binop('le', np.less_equal, ANY, "x <= y", dtypes.bool_)
gt_p = _binop('gt', np.greater, ANY, "x > y", dtypes.bool_)
ge_p = _binop('ge', np.greater_equal, ANY, "x >= y", dtypes.bool_)
clamp_p = _binop('clamp', lambda lo, x, hi: np.minimum(np.maximum(x, lo), hi), ANY,
                 "x limited to [lo, hi] (operands lo, x, hi; lo and hi may be rank 0)")


# --- selecting and converting -------------------------------------------------------

def _select_n_aval(which, *cases):
    if not cases:
        raise TypeError("select_n needs at least one case")
    if which.shape and which.shape != cases[0].shape:
        raise TypeError(f"select_n: the selector's shape {which.shape} must be () or the "
                        f"cases' shape {cases[0].shape}")
    if not (dtypes.is_bool(which.dtype) or which.dtype == dtypes.int32):
        raise TypeError(f"select_n selector must be bool or int32, got {which.dtype.name}")
    return _nary_aval('select_n', ANY, rank0=False)(*cases)


def _select_n(which, *cases):
    if len(cases) == 1:
        return cases[0]
    if which.dtype == np.bool_:
        return np.where(which, cases[1], cases[0])
    return np.choose(which, cases)


select_n_p = def_primitive('select_n', _select_n, _select_n_aval,
                           "cases[which] elementwise (which: bool or int32)", elementwise=True)

convert_element_type_p = def_primitive(
    'convert_element_type', _lax_xla.convert,
    lambda x, new_dtype, weak_type=False: ShapedArray(x.shape, new_dtype, weak_type),
    "change dtype, value-preserving where it can", elementwise=True)


def _bitcast_aval(x, new_dtype):
    if np.dtype(new_dtype).itemsize != x.dtype.itemsize:
        raise TypeError(f"bitcast_convert_type from {x.dtype.name} to {np.dtype(new_dtype).name} "
                        "needs equal bit widths")
    return ShapedArray(x.shape, new_dtype)


bitcast_convert_type_p = def_primitive(
    'bitcast_convert_type', lambda x, new_dtype: x.view(new_dtype), _bitcast_aval,
    "reinterpret the bits as another dtype of the same width", elementwise=True)


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
add, sub, mul, rem, pow = map(_binary, (add_p, sub_p, mul_p, rem_p, pow_p))
add_any = _binary(add_any_p)
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


def div(x, y):
    """x / y. Run eagerly, a rank-0 divisor of a rank-n x divides as XLA compiles the
    op, where the divisor is a broadcast: x * (1 / y) (see `divides_by_reciprocal`).
    Staged (jit, make_jaxpr), the backends decide from the whole jaxpr."""
    x, y = _lift_scalars(x, y)
    spread = get_aval(y).shape == () and get_aval(x).shape != ()
    if (spread and core.trace_state.dynamic_trace.level == 0
            and _lax_xla.divides_by_reciprocal(get_aval(y).dtype, False, False, True)):
        return bind(div_p, x, y, reciprocal=True)
    return bind(div_p, x, y)


def clamp(min, x, max):
    """x limited to [min, max], elementwise; `min` and `max` may be rank 0 (lax.clamp).

        >>> lax.clamp(0, jnp.arange(-1, 3), 1)
        Array([0, 0, 1, 1], dtype=int32)
    """
    return bind(clamp_p, *_lift_scalars(min, x, max))


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


def stop_gradient(x):
    """x, treated as a constant by differentiation (works on pytrees).

        >>> grad(lambda x: x * lax.stop_gradient(x))(3.0)  # 3.0, not 6.0
    """
    return tree_map(lambda v: bind(stop_gradient_p, v), x)
