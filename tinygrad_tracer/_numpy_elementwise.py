"""jax.numpy, part 4: elementwise math, where, clip. Re-exported by
`tinygrad_tracer.numpy`.

Each function promotes its arguments with JAX's rules (`promote`), converts
them when the operation needs floats (`kind='float'`: `jnp.sin(1)` is float32)
or numbers (`kind='numeric'`: booleans become int32 for `-`, `//`, `%`, `**`),
broadcasts them to one shape, and binds one lax primitive.
"""
import builtins

import numpy as np

from . import core, dtypes, lax
from ._numpy_base import (asarray, astype, broadcast, check_arraylike, is_array, promote,
                          promote_numeric, weak_scalar)
from ._numpy_creation import full, full_like, ones_like, zeros_like
from ._numpy_dtypes import finfo
from ._numpy_shape import size
from .array import Array

__all__ = ['sin', 'cos', 'tan', 'arcsin', 'arccos', 'arctan', 'sinh', 'cosh', 'tanh', 'arcsinh',
           'arccosh', 'arctanh', 'exp', 'log', 'log1p', 'expm1', 'sqrt', 'rsqrt', 'asin',
           'acos', 'atan', 'asinh', 'acosh', 'atanh', 'subtract', 'maximum', 'minimum', 'equal',
           'not_equal', 'less', 'less_equal', 'greater', 'greater_equal', 'bitwise_and',
           'bitwise_or', 'bitwise_xor', 'left_shift', 'right_shift', 'arctan2', 'atan2', 'nextafter',
           'bitwise_left_shift', 'bitwise_right_shift', 'add', 'multiply', 'true_divide',
           'divide', 'floor_divide', 'remainder', 'mod', 'fmod', 'divmod', 'power', 'pow',
           'float_power', 'negative', 'positive', 'absolute', 'abs', 'fabs', 'sign', 'square',
           'reciprocal', 'cbrt', 'exp2', 'log2', 'log10', 'logaddexp', 'hypot', 'copysign',
           'deg2rad', 'rad2deg', 'radians', 'degrees', 'fmax', 'fmin', 'heaviside', 'floor',
           'ceil', 'trunc', 'round', 'around', 'rint', 'logical_not', 'logical_and',
           'logical_or', 'logical_xor', 'invert', 'bitwise_not', 'bitwise_invert', 'isfinite', 'isnan', 'isinf',
           'isposinf', 'isneginf', 'signbit', 'real', 'imag', 'conjugate', 'conj', 'nan_to_num',
           'select', 'clip']


# --- elementwise math ------------------------------------------------------------

def elementwise(lax_fn, *args, kind=None, name=None, rank0=False):
    """Promote, convert, broadcast, bind: what each function here does. (Not in
    `__all__`: the other parts use it, jax.numpy has no such name.) With the
    jax.numpy `name` given, lists and tuples are refused (`check_arraylike`).
    `rank0`: `lax_fn` is one primitive that spreads rank-0 operands itself."""
    if name is not None:
        check_arraylike(name, *args)
    return lax_fn(*broadcast(*_converted(*args, kind=kind), rank0=rank0))


def _converted(*args, kind=None):
    """Promote, convert ('float': ints to float, 'numeric': bools to int)."""
    args = promote_numeric(*args) if kind == 'numeric' else promote(*args)
    if kind == 'float' and not dtypes.is_float(args[0].dtype):
        args = [lax.convert_element_type(a, dtypes.default_float(), a.weak_type) for a in args]
    return args


def _inexact(x):
    """x as an array, converted to float (keeping its weak type) when it is not."""
    return elementwise(lambda a: a, x, kind='float')


def _define(name, doc, fn):
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


def _unary(lax_fn, name, kind='float'):
    return _define(name, f"Elementwise {name}" + (" (integers are converted to float first)."
                                                  if kind == 'float' else "."),
                   lambda x, /: elementwise(lax_fn, x, kind=kind, name=name))


def _binary(lax_fn, name, kind=None):
    return _define(name, f"Elementwise {name}, with broadcasting and dtype promotion.",
                   lambda x1, x2, /: elementwise(lax_fn, x1, x2, kind=kind, name=name, rank0=True))


sin, cos, tan = _unary(lax.sin, 'sin'), _unary(lax.cos, 'cos'), _unary(lax.tan, 'tan')
arcsin, arccos, arctan = _unary(lax.asin, 'arcsin'), _unary(lax.acos, 'arccos'), _unary(lax.atan, 'arctan')
sinh, cosh, tanh = _unary(lax.sinh, 'sinh'), _unary(lax.cosh, 'cosh'), _unary(lax.tanh, 'tanh')
arcsinh, arccosh = _unary(lax.asinh, 'arcsinh'), _unary(lax.acosh, 'arccosh')
arctanh = _unary(lax.atanh, 'arctanh')
exp, log, log1p, expm1 = (_unary(lax.exp, 'exp'), _unary(lax.log, 'log'),
                          _unary(lax.log1p, 'log1p'), _unary(lax.expm1, 'expm1'))
sqrt, rsqrt = _unary(lax.sqrt, 'sqrt'), _unary(lax.rsqrt, 'rsqrt')
asin, acos, atan, asinh, acosh, atanh = arcsin, arccos, arctan, arcsinh, arccosh, arctanh
subtract = _binary(lax.sub, 'subtract')
maximum, minimum = _binary(lax.max, 'maximum'), _binary(lax.min, 'minimum')
equal, not_equal = _binary(lax.eq, 'equal'), _binary(lax.ne, 'not_equal')
less, less_equal = _binary(lax.lt, 'less'), _binary(lax.le, 'less_equal')
greater, greater_equal = _binary(lax.gt, 'greater'), _binary(lax.ge, 'greater_equal')
bitwise_and, bitwise_or = _binary(lax.bitwise_and, 'bitwise_and'), _binary(lax.bitwise_or, 'bitwise_or')
bitwise_xor = _binary(lax.bitwise_xor, 'bitwise_xor')
left_shift = _binary(lax.shift_left, 'left_shift', 'numeric')
right_shift = _binary(lax.shift_right_arithmetic, 'right_shift', 'numeric')
arctan2 = atan2 = _binary(lax.atan2, 'arctan2', 'float')
nextafter = _binary(lax.nextafter, 'nextafter', 'float')
bitwise_left_shift, bitwise_right_shift = left_shift, right_shift


def add(x1, x2, /):
    """x1 + x2 (logical or for booleans, as NumPy)."""
    return elementwise(lambda a, b: lax.bitwise_or(a, b) if dtypes.is_bool(a.dtype) else lax.add(a, b), x1, x2,
                       name='add', rank0=True)


def multiply(x1, x2, /):
    """x1 * x2 (logical and for booleans, as NumPy)."""
    return elementwise(lambda a, b: lax.bitwise_and(a, b) if dtypes.is_bool(a.dtype) else lax.mul(a, b), x1, x2,
                       name='multiply', rank0=True)


def true_divide(x1, x2, /):
    """x1 / x2, always floating point."""
    return divide_as_compiled(x1, x2)


def divide_as_compiled(x1, x2, constant_divisor=False):
    """x1 / x2 rounded as JAX's compiled jnp function computes it. Staged into a
    jaxpr (jit, make_jaxpr) it is a plain `div`, and the backends decide from the
    jaxpr. Otherwise (eager, grad, vmap) the decision is taken here, where the
    divisor's history is known: repeated by the broadcast, or a constant of the
    calling jnp function (`mean`'s count); see lax.divides_by_reciprocal. The `div`
    then carries reciprocal=True, and its derivatives divide the same way."""
    x1, x2 = _converted(x1, x2, kind='float')
    a, b = broadcast(x1, x2, rank0=True)
    staged = core.trace_state.dynamic_trace.level != 0
    if not staged and lax.divides_by_reciprocal(b.dtype, False, constant_divisor,
                                                builtins.max(size(a), size(b)) > size(x2)):
        return lax.div_p.bind(a, b, reciprocal=True)
    return lax.div(a, b)


divide = true_divide


def floor_divide(x1, x2, /):
    """x1 // x2 rounding toward -inf, as Python does (integer // 0 follows XLA)."""
    x1, x2 = broadcast(*promote_numeric(x1, x2))
    if dtypes.is_float(x1.dtype):
        return _float_divmod(x1, x2)[0]
    q = lax.div(x1, x2)   # rounds toward zero: step down where the signs differ
    if x1.dtype.kind == 'u':
        return q
    fix = (lax.sign(x1) != lax.sign(x2)) & (lax.rem(x1, x2) != 0)
    return where(fix, q - 1, q)


def _float_divmod(x1, x2):
    # Python's float divmod: the quotient from the exact remainder, then floored.
    mod = lax.rem(x1, x2)
    div = true_divide(x1 - mod, x2)
    fix = (mod != 0) & ((x2 < 0) != (mod < 0))
    mod, div = where(fix, mod + x2, mod), where(fix, div - 1, div)
    floor_div = floor(div)
    floor_div = where(div - floor_div > 0.5, floor_div + 1, floor_div)
    return where(x2 == 0, true_divide(x1, x2), floor_div), mod


def _int_divisor(x2):
    # XLA's integer x % 0 is x; NumPy (and JAX's jnp) give 0: divide by 1 instead.
    return where(x2 == 0, 1, x2) if dtypes.is_int(x2.dtype) else x2


def remainder(x1, x2, /):
    """x1 % x2 with the sign of x2, as Python does."""
    x1, x2 = broadcast(*promote_numeric(x1, x2))
    x2 = _int_divisor(x2)
    r = lax.rem(x1, x2)
    fix = (r != 0) & ((r < 0) != (x2 < 0))
    return where(fix, r + x2, r)


mod = remainder


def fmod(x1, x2, /):
    """Remainder with the sign of x1 (C's fmod)."""
    x1, x2 = broadcast(*promote_numeric(x1, x2))
    return lax.rem(x1, _int_divisor(x2))


def divmod(x1, x2, /):
    """(x1 // x2, x1 % x2)."""
    return floor_divide(x1, x2), remainder(x1, x2)


def power(x1, x2, /):
    """x1 ** x2. A Python int exponent becomes `integer_pow` (exact, as in JAX).

        >>> power(arange(3), 2)
        Array([0, 1, 4], dtype=int32)
    """
    if isinstance(x2, int) and not isinstance(x2, builtins.bool):
        x1 = asarray(x1)
        if dtypes.is_bool(x1.dtype):
            x1 = lax.convert_element_type(x1, dtypes.default_int())
        if dtypes.is_int(x1.dtype) and x2 < 0:
            raise ValueError("Integers to negative integer powers are not allowed.")
        return lax.integer_pow(x1, x2)
    int_exponent = is_array(x2) and dtypes.is_int(x2.dtype) and not x2.weak_type
    x1, x2 = broadcast(*promote_numeric(x1, x2))
    if not dtypes.is_float(x1.dtype):
        return _int_power(x1, x2)
    if int_exponent:   # as JAX: a float ** an int array is never weakly typed
        x2 = lax.convert_element_type(x2, x2.dtype, False)
    return lax.pow(x1, x2)


pow = power


def _int_power(x, y):
    # Integer base and exponent arrays: square-and-multiply over the exponent's bits
    # (there is no integer pow primitive; XLA lowers it the same way). As in JAX, a
    # negative exponent gives 0 unless x is 1 or -1.
    negative = y < 0
    y = absolute(y)
    acc, base = ones_like(x), x
    for _ in range(x.dtype.itemsize * 8 - 1):
        acc = where((y & 1) == 1, acc * base, acc)
        base, y = base * base, lax.shift_right_logical(y, full_like(y, 1))
    return where(negative & (absolute(x) != 1), 0, acc)


def float_power(x1, x2, /):
    """x1 ** x2 computed in floating point."""
    return elementwise(lax.pow, x1, x2, kind='float', rank0=True)


def negative(x, /):
    x = asarray(x)
    return lax.neg(x)


def positive(x, /):
    return asarray(x)


def absolute(x, /):
    """|x| (unsigned and boolean arrays are returned as they are)."""
    x = asarray(x)
    return x if dtypes.is_bool(x.dtype) or x.dtype.kind == 'u' else lax.abs(x)


abs = fabs = absolute


def sign(x, /):
    return lax.sign(asarray(x))


def square(x, /):
    x = asarray(x)
    if dtypes.is_bool(x.dtype):
        x = lax.convert_element_type(x, dtypes.default_int())
    return lax.integer_pow(x, 2)


def reciprocal(x, /):
    return true_divide(1, _inexact(x))


def cbrt(x, /):
    """The real cube root (negative for negative x)."""
    x = _inexact(x)
    return sign(x) * lax.pow(absolute(x), full_like(x, 1 / 3))


def exp2(x, /):
    x = _inexact(x)
    return exp(x * weak_scalar(np.log(2), x.dtype))


def log2(x, /):
    x = _inexact(x)
    return log(x) / log(weak_scalar(2, x.dtype))


def log10(x, /):
    x = _inexact(x)
    return log(x) / log(weak_scalar(10, x.dtype))


def logaddexp(x1, x2, /):
    """log(exp(x1) + exp(x2)) without overflow."""
    x1, x2 = elementwise(lambda a, b: (a, b), x1, x2, kind='float')
    # The larger argument plus log1p(exp(smaller - larger)). Each branch is exact
    # where it is used, so its derivative is right too (1/2 each at a tie), and the
    # inner `where`s keep the unused branch from overflowing.
    t = x2 - x1
    first_larger = x1 + log1p(exp(where(t <= 0, t, 0)))
    second_larger = x2 + log1p(exp(where(t > 0, -t, 0)))
    # t is nan when an argument is nan (or both are the same infinity): then, as in
    # JAX, the result is x1 + x2 (nan, or that infinity), never log(2) from a branch.
    return where(isnan(t), x1 + x2, where(x1 >= x2, first_larger, second_larger))


def hypot(x1, x2, /):
    """sqrt(x1**2 + x2**2), scaled so it does not overflow."""
    x1, x2 = elementwise(lambda a, b: (absolute(a), absolute(b)), x1, x2, kind='float')
    hi, lo = maximum(x1, x2), minimum(x1, x2)
    ratio = true_divide(lo, where(hi == 0, 1, hi))
    return where(hi == 0, 0, hi * sqrt(1 + ratio * ratio))


def copysign(x1, x2, /):
    """|x1| with the sign (bit) of x2."""
    x1, x2 = elementwise(lambda a, b: (a, b), x1, x2, kind='float')
    return where(signbit(x2), -absolute(x1), absolute(x1))


def deg2rad(x, /):
    return _inexact(x) * (np.pi / 180)


def rad2deg(x, /):
    return _inexact(x) * (180 / np.pi)


radians, degrees = deg2rad, rad2deg


def fmax(x1, x2, /):
    """Elementwise maximum that ignores nan (unless both are nan)."""
    x1, x2 = promote(x1, x2)
    return where(isnan(x2) | (x1 >= x2), x1, x2)


def fmin(x1, x2, /):
    """Elementwise minimum that ignores nan (unless both are nan)."""
    x1, x2 = promote(x1, x2)
    return where(isnan(x2) | (x1 <= x2), x1, x2)


def heaviside(x1, x2, /):
    """0 where x1 < 0, x2 where x1 == 0, 1 where x1 > 0."""
    x1, x2 = elementwise(lambda a, b: (a, b), x1, x2, kind='float')
    zero, one = (Array(np.asarray(v, x1.dtype)) for v in (0, 1))
    return where(x1 < 0, zero, where(x1 > 0, one, x2))


def _rounder(lax_fn, name):
    def fn(x, /):
        x = asarray(x)
        return lax_fn(x) if dtypes.is_float(x.dtype) else x
    return _define(name, f"Elementwise {name} (integers are returned as they are).", fn)


floor, ceil = _rounder(lax.floor, 'floor'), _rounder(lax.ceil, 'ceil')
trunc = _rounder(lambda x: where(x < 0, lax.ceil(x), lax.floor(x)), 'trunc')


def round(a, decimals=0, out=None):
    """Round half to even, like NumPy; `decimals` counts digits after the point."""
    a = asarray(a)
    if dtypes.is_bool(a.dtype):
        raise TypeError("jnp.round does not accept booleans; convert first, e.g. x.astype(int).")
    if not dtypes.is_float(a.dtype):
        if decimals < 0:
            raise ValueError("integer jnp.round with decimals < 0 is not supported.")
        return a
    if decimals == 0:
        return lax.round(a, 1)
    factor = weak_scalar(10.0 ** decimals, a.dtype)
    return lax.round(a * factor, 1) / factor


around = round


def rint(x, /):
    """Round to the nearest integer (halves to even), as a float array."""
    return lax.round(_inexact(x), 1)


def logical_not(x, /):
    return lax.bitwise_not(astype(x, dtypes.bool_))


def _logical(lax_fn, name):
    return _define(name, f"Elementwise {name} of the truth values.",
                   lambda x1, x2, /: lax_fn(*broadcast(astype(x1, dtypes.bool_), astype(x2, dtypes.bool_))))


logical_and = _logical(lax.bitwise_and, 'logical_and')
logical_or = _logical(lax.bitwise_or, 'logical_or')
logical_xor = _logical(lax.bitwise_xor, 'logical_xor')


def invert(x, /):
    return lax.bitwise_not(asarray(x))


bitwise_not = bitwise_invert = invert


def isfinite(x, /):
    x = asarray(x)
    return lax.is_finite(x) if dtypes.is_float(x.dtype) else full(x.shape, True)


def isnan(x, /):
    x = asarray(x)
    return lax.ne(x, x) if dtypes.is_float(x.dtype) else full(x.shape, False)


def isinf(x, /):
    x = asarray(x)
    return equal(absolute(x), np.inf) if dtypes.is_float(x.dtype) else full(x.shape, False)


def isposinf(x, /):
    return isinf(x) & ~signbit(x)


def isneginf(x, /):
    return isinf(x) & signbit(x)


def signbit(x, /):
    """True where the sign bit is set (so also for -0.0)."""
    x = asarray(x)
    if dtypes.is_bool(x.dtype) or x.dtype.kind == 'u':
        return full(x.shape, False)
    if dtypes.is_int(x.dtype):
        return x < 0
    bits = np.dtype(f'int{8 * x.dtype.itemsize}')
    return lax.bitcast_convert_type(x, bits) < 0


def real(x, /):
    return asarray(x)


def imag(x, /):
    return zeros_like(x)


def conjugate(x, /):
    return asarray(x)


conj = conjugate


def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """x with nan, +inf and -inf replaced by finite numbers (the largest ones by default)."""
    x = asarray(x)
    if not dtypes.is_float(x.dtype):
        return x
    info = finfo(x.dtype)
    x = where(isnan(x), nan, x)
    x = where(x == np.inf, float(info.max) if posinf is None else posinf, x)
    return where(x == -np.inf, float(info.min) if neginf is None else neginf, x)


def where(condition, x, y, /):
    """x where condition else y (with broadcasting). jnp.where's one-argument
    form, which is `nonzero`, is added in `_numpy_reduce`."""
    check_arraylike('where', condition, x, y)
    condition = asarray(condition)
    if condition.dtype != dtypes.bool_:
        condition = lax.ne(condition, zeros_like(condition))
    x, y = promote(x, y)
    condition, x, y = broadcast(condition, x, y)
    return lax.select(condition, x, y)


def select(condlist, choicelist, default=0):
    """choicelist[i] where condlist[i] is the first true condition, else default."""
    if len(condlist) != len(choicelist):
        raise ValueError(f"select: condlist has {len(condlist)} entries but choicelist has "
                         f"{len(choicelist)}; they must have the same length.")
    if not condlist:
        raise ValueError("select: condlist and choicelist must not be empty.")
    out = default
    for cond, choice in reversed(list(zip(condlist, choicelist))):
        out = where(cond, choice, out)
    return out


def clip(arr=None, /, min=None, max=None, *, a=None, a_min=None, a_max=None):
    """arr limited to [min, max] (either bound may be None)."""
    arr = a if arr is None else arr
    lo = a_min if min is None else min
    hi = a_max if max is None else max
    check_arraylike('clip', arr)
    arr = asarray(arr)
    if lo is not None:
        arr = maximum(arr, lo)
    if hi is not None:
        arr = minimum(arr, hi)
    return arr
