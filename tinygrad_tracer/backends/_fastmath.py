"""Scalar float32 math for the Numba kernels: `exp`, `log`, `log1p`, `tanh`,
`logistic`, `erf`, `erf_inv`, written as straight-line polynomials.

Why not `np.exp` inside a Numba loop? Numba lowers it to a call into the C
library, one element at a time: the call cannot be vectorized, and a loop
of them is slower than NumPy's own (SIMD) `np.exp`. A polynomial made of
multiplies, adds and *selects* (`a if c else b`, never a branch that jumps)
is plain arithmetic that LLVM turns into AVX instructions, 8 or 16 floats at
a time.

Each function takes and returns a float32 scalar and is accurate to a few
units in the last place over the whole float32 range, inf, nan and
subnormals included (`tests/test_fastmath.py` measures it against NumPy):

    >>> exp_f32(np.float32(1.0))
    2.7182817

`exp`, `tanh`, `log`, `log1p`, `erf` and `erf_inv` repeat, step for step,
the XLA:CPU algorithms that `tinygrad_tracer.xla_math` spells out in NumPy,
with a real fused multiply-add where XLA has one: they give the same bits as
eager execution (and as JAX). `logistic` is XLA's 1 / (1 + exp(-x)) on that `exp`.
"""
import numpy as np
from numba import njit, types
from numba.extending import intrinsic

from .. import xla_math

f32, i32, u32 = np.float32, np.int32, np.uint32


# --- two LLVM instructions Numba does not expose ------------------------------------

@intrinsic
def fma(typingctx, a, b, c):
    """a * b + c with one rounding (the CPU's fused multiply-add instruction)."""
    if not (isinstance(a, types.Float) and a == b == c):
        return None

    def codegen(context, builder, sig, args):
        return builder.fma(*args)
    return a(a, b, c), codegen


@intrinsic
def bitcast(typingctx, x, to):
    """Reinterpret the bits of scalar `x` as the type `to` (same width),
    e.g. `bitcast(np.float32(1.0), np.uint32)` is 0x3F800000."""
    target = getattr(to, 'instance_type', None)
    if not isinstance(target, (types.Integer, types.Float, types.Boolean)) or not isinstance(
            x, (types.Integer, types.Float, types.Boolean)):
        return None
    width = lambda t: 8 if isinstance(t, types.Boolean) else t.bitwidth
    if width(x) != width(target):
        return None

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], context.get_value_type(target))
    return target(x, to), codegen


def _c(bits):
    """The float32 with IEEE bit pattern `bits`: constants written this way are exact."""
    return np.array(bits, u32).view(f32)[()]


INF, NAN = f32(np.inf), _c(0xFFFFFFFF)   # XLA's nan (the sign bit set), as xla_math returns
SMALLEST_NORMAL = _c(0x00800000)
ONE, HALF, ZERO, TWO = f32(1), f32(0.5), f32(0), f32(2)


@njit(cache=True)
def _flush(x):
    """Subnormal inputs and results count as zero, as on XLA:CPU."""
    return x * ZERO if abs(x) < SMALLEST_NORMAL else x


# --- exp ---------------------------------------------------------------------------------
# exp(x) = 2**n * exp(r) with n = round(x / log 2) and |r| <= log(2) / 2. The
# product n * log(2) is subtracted in two pieces (LN2_HI has few significant
# bits, so n * LN2_HI is exact) and exp(r) is a degree-6 polynomial.

LOG2E = f32(1.44269504088896341)
LN2_HI, LN2_LO = f32(0.693359375), f32(-2.12194440e-4)
_EXP_POLY = tuple(f32(c) for c in (1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3,
                                   4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1))
EXP_HI, EXP_LO = f32(89.0), f32(-104.0)   # beyond these exp is inf / rounds to 0


@njit(cache=True)
def _pow2(n):
    """2.0**n as a float32 for an int32 n in [-126, 127], built from its bits."""
    return bitcast(u32((n + 127) << 23), f32)


@njit(cache=True)
def exp_f32(x):
    xc = EXP_HI if x > EXP_HI else x          # clamp so 2**n stays representable;
    xc = EXP_LO if xc < EXP_LO else xc        # nan fails both tests and stays nan
    n = min(np.floor(fma(xc, LOG2E, HALF)), f32(127))   # XLA's cap: r grows instead
    r = fma(-n, LN2_HI, xc)
    r = fma(-n, LN2_LO, r)
    p = _EXP_POLY[0]
    for c in _EXP_POLY[1:]:
        p = fma(p, r, c)
    p = fma(p, r * r, r) + ONE
    # Two scalings (n = n1 + n2, each within the normal range) so results that
    # are subnormal or near overflow are rounded once, correctly.
    ni = i32(n)
    n1 = ni >> 1
    return p * _pow2(n1) * _pow2(ni - n1)


# --- log and log1p (XLA's algorithms, bit for bit) ------------------------------------------
# log(x) = e * log(2) + log(m) with m in [sqrt(1/2), sqrt(2)); log(m) is a
# degree-9 polynomial in r = m - 1, evaluated in three interleaved pieces.

SQRT_HALF = _c(0x3F3504F3)
_LOG_P1 = (_c(0x3D9021BB), _c(0xBDEBD1B8), _c(0x3DEF251A))
_LOG_P2 = (_c(0xBDFE5D4F), _c(0x3E11E9BF), _c(0xBE2AAE50))
_LOG_P3 = (_c(0x3E4CCEAC), _c(0xBE7FFFFC), _c(0x3EAAAAAA))
LOG2_TAIL = _c(0xB95E8083)        # log(2) - 0.693359375


@njit(cache=True)
def _quadratic(p, r):
    return fma(fma(r, p[0], p[1]), r, p[2])


@njit(cache=True)
def log_f32(x):
    v = x if x > SMALLEST_NORMAL else SMALLEST_NORMAL
    bits = bitcast(v, u32)
    e = f32(i32(bits >> 23) - 126)
    m = bitcast(u32((bits & u32(0x807FFFFF)) | u32(0x3F000000)), f32)    # m in [0.5, 1)
    low = m < SQRT_HALF
    r = (m - ONE) + (m if low else ZERO)                            # 2m - 1 or m - 1
    e = e - (ONE if low else ZERO)
    r2 = r * r
    r3 = r2 * r
    p = fma(fma(_quadratic(_LOG_P1, r), r3, _quadratic(_LOG_P2, r)), r3, _quadratic(_LOG_P3, r))
    tail = fma(p, r3, e * LOG2_TAIL)
    out = fma(e, LN2_HI, (r - r2 * HALF) + tail)
    out = out if x > ZERO else NAN
    out = -INF if abs(x) < SMALLEST_NORMAL else out                  # 0 and subnormals
    out = INF if x == INF else out
    return out if x == x else x


_LOG1P_DEN = tuple(_c(c) for c in (0x417101AD, 0x42A6185B, 0x435DC32D, 0x439A8CA3,
                                   0x43586D8A, 0x42707982))
LOG1P_SMALL = _c(0x3ED413CD)   # below it the rational approximation is used
_LOG1P_NUM = tuple(_c(c) for c in (0x3EFF40C5, 0x40D284FA, 0x41EF4B9C, 0x4273CC76,
                                   0x426473AD, 0x41A05101))


@njit(cache=True)
def _log1p_kernel(x):
    big = log_f32(x + ONE)
    x2 = x * x
    den = ONE
    for c in _LOG1P_DEN:
        den = fma(den, x, c)
    num = f32(4.527e-05)
    for c in _LOG1P_NUM:
        num = fma(num, x, c)
    small = x + fma(x2, -HALF, (x * x2) * (num / den))
    return small if abs(x) < LOG1P_SMALL else big


@njit(cache=True)
def log1p_f32(x):
    return _flush(_log1p_kernel(_flush(x)))


# --- tanh and logistic ----------------------------------------------------------------

# XLA's fast tanh, as xla_math._tanh: x P(x^2) / Q(x^2) on x clamped where the
# ratio reaches 1.0, and x itself below 0.0004.
TANH_NUM = tuple(f32(c) for c in xla_math.TANH_NUM)
TANH_DEN = tuple(f32(c) for c in xla_math.TANH_DEN)
TANH_CLAMP, TANH_TINY = xla_math.TANH_CLAMP, f32(0.0004)


@njit(cache=True)
def tanh_f32(x):
    c = min(max(x, -TANH_CLAMP), TANH_CLAMP)
    c2 = c * c
    num = TANH_NUM[0]
    for a in TANH_NUM[1:]:
        num = fma(num, c2, a)
    den = TANH_DEN[0]
    for b in TANH_DEN[1:]:
        den = fma(den, c2, b)
    return x if abs(x) < TANH_TINY or x != x else (c * num) / den


@njit(cache=True)
def logistic_f32(x):
    # 1 / (1 + e**-x), as XLA (e**-x overflows to inf for x < -88.7: the result is 0).
    return ONE / (ONE + exp_f32(-x))


@njit(cache=True)
def logistic_f64(x):
    e = np.exp(-abs(x))
    return (1.0 if x >= 0.0 else e) / (1.0 + e)


# --- erf and erf_inv (XLA's algorithms, bit for bit) --------------------------------------

_ERF_NUM0, _ERF_DEN0 = _c(0x39702D51), _c(0xB3FD3906)
ERF_SATURATES = _c(0x407547CB)   # |x| beyond which erf(x) is +-1 in float32
_ERF_NUM = tuple(_c(c) for c in (0x3B5F5DA2, 0x3D50B6EB, 0x3E3DA740, 0x3F906EBA))
_ERF_DEN = tuple(_c(c) for c in (0x37C588DF, 0x3A856D28, 0x3C6687D4, 0x3DE34C21,
                                 0x3EFEB44A, 0x3F800000))


@njit(cache=True)
def _erf_kernel(x):
    x2 = x * x
    num = _ERF_NUM0
    for c in _ERF_NUM:
        num = fma(x2, num, c)
    den = _ERF_DEN0
    for c in _ERF_DEN:
        den = fma(x2, den, c)
    out = (x * num) / den
    return (ONE if x > ZERO else -ONE) if abs(x) >= ERF_SATURATES else out


@njit(cache=True)
def erf_f32(x):
    return _flush(_erf_kernel(_flush(x)))


# M. Giles' single-precision erfinv: w = -log(1 - x^2), erfinv(x) = x * P(w).
_ERFINV_CENTRAL = tuple(f32(c) for c in (
    2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 2.1858087e-04,
    -1.25372503e-03, -4.17768164e-03, 2.46640727e-01, 1.50140941))
_ERFINV_TAIL = tuple(f32(c) for c in (
    -2.00214257e-04, 1.00950558e-04, 1.34934322e-03, -3.67342844e-03, 5.73950773e-03,
    -7.6224613e-03, 9.43887047e-03, 1.00167406, 2.83297682))


@njit(cache=True)
def _erf_inv_kernel(x):
    w = -_log1p_kernel(x * -x)
    central = w < f32(5)
    t = (w - f32(2.5)) if central else (np.sqrt(w) - f32(3))
    p = _ERFINV_CENTRAL[0] if central else _ERFINV_TAIL[0]
    for i in range(1, len(_ERFINV_CENTRAL)):
        p = fma(p, t, _ERFINV_CENTRAL[i] if central else _ERFINV_TAIL[i])
    out = p * x
    return x * INF if abs(x) == ONE else out


@njit(cache=True)
def erf_inv_f32(x):
    return _flush(_erf_inv_kernel(_flush(x)))


# The kernels' generated source names these; the backend also hashes this file
# into every kernel's cache key, so editing it recompiles the kernels.
FUNCTIONS = {'exp': exp_f32, 'log': log_f32, 'log1p': log1p_f32, 'tanh': tanh_f32,
             'logistic': logistic_f32, 'erf': erf_f32, 'erf_inv': erf_inv_f32}


# --- integer division and float -> int conversion, with XLA's semantics ------------------

@njit(cache=True)
def int_div(x, y):
    """x / y rounded toward zero for int64 x, y; -1 when y == 0 (XLA's convention)."""
    q = abs(x) // (abs(y) if y != 0 else 1)
    q = q if (x < 0) == (y < 0) else -q
    return q if y != 0 else -1


@njit(cache=True)
def int_rem(x, y):
    """The remainder of int_div, with the sign of x (C's fmod); x when y == 0 (XLA's convention)."""
    r = abs(x) % (abs(y) if y != 0 else 1)
    r = r if x >= 0 else -r
    return r if y != 0 else x


@njit(cache=True)
def float_to_int(x, lo, hi, lo_f, hi_f):
    """Truncate x toward zero, saturate to [lo, hi] and map nan to 0, as XLA converts.
    lo_f / hi_f are the float64 bounds (hi_f may round up, so compare with >=); comparing
    x itself rather than its truncation gives the same answer. (No NumPy function here:
    `cuda_math` compiles this code as a CUDA device function too.)"""
    t = np.float64(x)
    out = lo if t <= lo_f else (hi if t >= hi_f else np.int64(t) if t == t else 0)
    return out
