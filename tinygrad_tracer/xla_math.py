"""Float32 math that rounds exactly like JAX on the CPU (XLA:CPU), in NumPy.

`np.log(x)` and `jnp.log(x)` agree to within one unit in the last place, but
not always in it: XLA:CPU does not call the C library. It evaluates its own
polynomial approximations (the classic Cephes/Eigen ones) in float32, and LLVM
contracts each `a * b + c` whose product is used once into a single fused
multiply-add (one rounding instead of two). To print the same digits as JAX
(`jax.random.normal` goes through `erf_inv`, which goes through `log1p`) we
repeat those steps here, rounding where XLA rounds:

    >>> log(np.float32(0.7)), np.log(np.float32(0.7))    # jnp.log(0.7) is -0.35667497
    (array(-0.35667497, dtype=float32), np.float32(-0.35667494))

Each function takes and returns NumPy arrays. float32 follows XLA bit for bit
(checked against jax 0.10.2 on x86-64 with FMA: exhaustively for `erf_inv` on
the 2**23 inputs `random.normal` can produce, on millions of random inputs for
the others). float16 and bfloat16 are computed in float32 and rounded back,
as XLA does; float64 falls back to NumPy (close, not bit-identical).

XLA:CPU also treats subnormal inputs of these kernels as zero (the CPU's
denormals-are-zero mode), so `log(1e-40)` is `-inf` in float32, as in JAX.
(JAX's scalar remainder loop, which takes the last 3, 5, 6 or 7 elements of an
array, gives log(2**-150) = -103.97208 there instead: we follow the vector
path that scalars and all other elements take.)
"""
import numpy as np

f32, u32 = np.float32, np.uint32
_SMALLEST_NORMAL = np.array(0x00800000, u32).view(f32)[()]


def _c(bits):
    """The float32 whose IEEE bit pattern is `bits` (constants are exact this way)."""
    return np.array(bits, u32).view(f32)[()]


# --- fused multiply-add ----------------------------------------------------------

def fma(a, b, c):
    """a * b + c with a single rounding (IEEE fused multiply-add).

    float32: the product of two float32 is exact in float64, and the float64 sum
    rounds once. Rounding that to float32 is a second rounding, which can only go
    wrong where the float64 sum lands exactly halfway between two float32s (the
    midpoints are float64 numbers, so elsewhere both roundings fall on the same
    side). Those rare sums, and tiny ones (a subnormal result has a coarser
    halfway point), are redone *rounded to odd*: step one float64 ulp toward the
    exact value when the sum was inexact and landed on an even significand.

        >>> float(fma(np.float32(0.1), np.float32(10), np.float32(-1)))  # a*b + c gives 0
        1.4901161193847656e-08
    """
    a, b, c = np.asarray(a), np.asarray(b), np.asarray(c)
    dtype = np.result_type(a, b, c)
    if dtype == np.float64 or dtype.kind != 'f' and dtype.name != 'bfloat16':
        return a * b + c   # no exact float128 here: a rounding may differ from a real FMA
    with np.errstate(all='ignore'):
        s = np.asarray(a.astype(np.float64) * b.astype(np.float64) + c.astype(np.float64))
        spare_bits = 52 - np.finfo(dtype).nmant           # float64 bits below dtype's last
        low = s.view(np.uint64) & np.uint64((1 << spare_bits) - 1)
        suspect = (low == np.uint64(1 << (spare_bits - 1))) | \
            (np.abs(s) < 2 * float(np.finfo(dtype).smallest_normal))
        if suspect.any():
            a, b, c = (np.broadcast_to(v, s.shape)[suspect].astype(np.float64) for v in (a, b, c))
            s[suspect] = _sum_rounded_to_odd(a * b, c)
    return s.astype(dtype)


def _sum_rounded_to_odd(p, c):
    s = p + c                           # rounded to nearest
    pv = s - c                          # TwoSum: err is the exact rounding error
    err = (p - pv) + (c - (s - pv))
    even = (s.view(np.uint64) & np.uint64(1)) == 0
    step = (err != 0) & even & np.isfinite(s)
    return np.where(step, np.nextafter(s, np.where(err > 0, np.inf, -np.inf)), s)


def _fma32(a, b, c):
    return fma(np.asarray(a, f32), np.asarray(b, f32), np.asarray(c, f32))


def _flush(x):
    """Subnormal float32 values become (signed) zero, as on XLA:CPU."""
    return np.where(np.abs(x) < _SMALLEST_NORMAL, x * f32(0), x).astype(f32)


def _in_float32(kernel, fallback, flush=True):
    """Run `kernel` on float32 (upcasting float16/bfloat16 and rounding back).
    `flush`: subnormal inputs and results count as zero (log, erf: XLA's kernels
    do; exp and tanh keep them, as JAX's results show)."""
    def fn(x):
        x = np.asarray(x)
        if x.dtype == np.float64 or x.dtype.kind not in 'f' and x.dtype.name != 'bfloat16':
            return fallback(x)
        with np.errstate(all='ignore'):
            if not flush:
                return kernel(x.astype(f32)).astype(x.dtype)
            return _flush(kernel(_flush(x.astype(f32)))).astype(x.dtype)
    fn.__name__, fn.__doc__ = kernel.__name__.lstrip('_'), kernel.__doc__
    return fn


# --- exp and tanh ----------------------------------------------------------------

def _pow2(n):
    """2.0**n as float32 for int32 n in [-126, 127], built from its bits."""
    return ((n + 127).astype(u32) << u32(23)).view(f32)


def _exp(x):
    """exp(x) = 2**n * exp(r), n = round(x / log 2) (at most 127), r = x - n log 2
    subtracted in two pieces, exp(r) a degree-6 polynomial; 2**n applied in two
    steps so a subnormal result is rounded once."""
    xc = np.where(np.isnan(x), x, np.clip(x, f32(-104), f32(89))).astype(f32)
    n = np.minimum(np.floor(_fma32(xc, f32(1.44269504088896341), f32(0.5))), f32(127))
    r = _fma32(-n, f32(0.693359375), xc)
    r = _fma32(-n, f32(-2.12194440e-4), r)
    p = np.full_like(r, f32(1.9875691500e-4))
    for c in (1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1):
        p = _fma32(p, r, f32(c))
    p = (_fma32(p, r * r, r) + f32(1)).astype(f32)
    ni = np.nan_to_num(n).astype(np.int32)
    half = ni >> 1
    return (p * _pow2(half) * _pow2(ni - half)).astype(f32)


# tanh(x) = x P(x^2) / Q(x^2) on x clamped to +-7.998811..., where the ratio is
# already 1.0 in float32; below 0.0004, tanh(x) = x. Highest degree first.
TANH_NUM = (-2.76076847742355e-16, 2.00018790482477e-13, -8.60467152213735e-11,
             5.12229709037114e-08, 1.48572235717979e-05, 6.37261928875436e-04,
             4.89352455891786e-03)
TANH_DEN = (1.19825839466702e-06, 1.18534705686654e-04, 2.26843463243900e-03,
             4.89352518554385e-03)
TANH_CLAMP = f32(7.99881172180175781)


def _tanh(x):
    """Hyperbolic tangent as a rational function (Eigen's and XLA's fast tanh)."""
    c = np.clip(x, -TANH_CLAMP, TANH_CLAMP).astype(f32)
    c2 = c * c
    num, den = np.full_like(c, f32(TANH_NUM[0])), np.full_like(c, f32(TANH_DEN[0]))
    for a in TANH_NUM[1:]:
        num = _fma32(num, c2, f32(a))
    for b in TANH_DEN[1:]:
        den = _fma32(den, c2, f32(b))
    return np.where(np.abs(x) < f32(0.0004), x, (c * num) / den).astype(f32)


# --- log -------------------------------------------------------------------------

def _log(x):
    """Natural log: x = m * 2**e with m in [sqrt(1/2), sqrt(2)), log(m) by a
    degree-9 polynomial in (m - 1), and e * log(2) added in two parts
    (0.693359375 exactly, plus a small correction) so no digits are lost."""
    v = np.where(x > _SMALLEST_NORMAL, x, _SMALLEST_NORMAL).astype(f32)
    bits = v.view(u32)
    e = ((bits >> u32(23)).astype(np.int32) - 126).astype(f32)
    m = ((bits & u32(0x807FFFFF)) | u32(0x3F000000)).view(f32)      # m in [0.5, 1)
    low = m < _c(0x3F3504F3)                                         # m < sqrt(1/2)
    r = (m - f32(1)) + np.where(low, m, f32(0))                      # 2m - 1 or m - 1
    e = e - np.where(low, f32(1), f32(0))
    r2 = r * r
    r3 = r2 * r
    # The polynomial, evaluated in three interleaved pieces as XLA does.
    p1 = _fma32(_fma32(r, _c(0x3D9021BB), _c(0xBDEBD1B8)), r, _c(0x3DEF251A))
    p2 = _fma32(_fma32(r, _c(0xBDFE5D4F), _c(0x3E11E9BF)), r, _c(0xBE2AAE50))
    p3 = _fma32(_fma32(r, _c(0x3E4CCEAC), _c(0xBE7FFFFC)), r, _c(0x3EAAAAAA))
    p = _fma32(_fma32(p1, r3, p2), r3, p3)
    tail = _fma32(p, r3, e * _c(0xB95E8083))                         # + e * (log 2 - 0.693359375)
    out = _fma32(e, f32(0.693359375), (r - r2 * f32(0.5)) + tail)
    out = np.where(x > 0, out, _c(0xFFFFFFFF))                       # nan below 0
    out = np.where(np.abs(x) < _SMALLEST_NORMAL, f32(-np.inf), out)  # 0 and subnormals
    return np.where(x == np.inf, f32(np.inf), out).astype(f32)


def _log1p(x):
    """log(1 + x): a rational approximation for |x| < sqrt(2) - 1, else log(1 + x)."""
    big = _log((x + f32(1)).astype(f32))
    x2 = x * x
    den = np.ones_like(x)
    for c in (0x417101AD, 0x42A6185B, 0x435DC32D, 0x439A8CA3, 0x43586D8A, 0x42707982):
        den = _fma32(den, x, _c(c))
    num = np.full_like(x, f32(4.527e-05))
    for c in (0x3EFF40C5, 0x40D284FA, 0x41EF4B9C, 0x4273CC76, 0x426473AD, 0x41A05101):
        num = _fma32(num, x, _c(c))
    small = x + _fma32(x2, f32(-0.5), (x * x2) * (num / den))
    return np.where(np.abs(x) < _c(0x3ED413CD), small, big).astype(f32)


# --- erf and its inverse -------------------------------------------------------------

def _erf(x):
    """erf(x) = x * P(x^2) / Q(x^2) for |x| < 3.832507, else sign(x)."""
    x2 = x * x
    num = _c(0x39702D51)
    for c in (0x3B5F5DA2, 0x3D50B6EB, 0x3E3DA740, 0x3F906EBA):
        num = _fma32(x2, num, _c(c))
    den = _c(0xB3FD3906)
    for c in (0x37C588DF, 0x3A856D28, 0x3C6687D4, 0x3DE34C21, 0x3EFEB44A, 0x3F800000):
        den = _fma32(x2, den, _c(c))
    out = (x * num) / den
    return np.where(np.abs(x) >= _c(0x407547CB), np.copysign(f32(1), x), out).astype(f32)


# M. Giles, "Approximating the erfinv function" (GPU Computing Gems, 2011):
# with w = -log(1 - x^2), erfinv(x) = x * P(w), one polynomial for w < 5 (in
# w - 2.5) and one for the tails (in sqrt(w) - 3). Highest degree first.
_ERFINV_CENTRAL = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06,
                   2.1858087e-04, -1.25372503e-03, -4.17768164e-03, 2.46640727e-01,
                   1.50140941)
_ERFINV_TAIL = (-2.00214257e-04, 1.00950558e-04, 1.34934322e-03, -3.67342844e-03,
                5.73950773e-03, -7.6224613e-03, 9.43887047e-03, 1.00167406,
                2.83297682)


def _erf_inv(x):
    """Inverse error function on (-1, 1); +-inf at +-1, nan outside."""
    w = -_log1p((x * -x).astype(f32))
    central = w < f32(5)
    t = np.where(central, w - f32(2.5), np.sqrt(w) - f32(3)).astype(f32)
    p = np.where(central, f32(_ERFINV_CENTRAL[0]), f32(_ERFINV_TAIL[0])).astype(f32)
    for a, b in zip(_ERFINV_CENTRAL[1:], _ERFINV_TAIL[1:]):
        p = _fma32(p, t, np.where(central, f32(a), f32(b)))
    out = p * x
    return np.where(np.abs(x) == f32(1), x * f32(np.inf), out).astype(f32)


def _erf_inv64(x):
    # Newton steps on erf from the float32 guess: good to float64 precision.
    from math import erf as _scalar_erf
    erf = np.vectorize(_scalar_erf, otypes=[np.float64])
    y = _erf_inv(x.astype(f32)).astype(np.float64)
    for _ in range(3):
        ok = np.isfinite(y)
        step = (erf(np.where(ok, y, 0)) - x) / (2 / np.sqrt(np.pi) * np.exp(-np.where(ok, y, 0) ** 2))
        y = np.where(ok, y - step, y)
    return y


def _erf64(x):
    from math import erf as _scalar_erf
    return np.vectorize(_scalar_erf, otypes=[np.float64])(x)


exp = _in_float32(_exp, np.exp, flush=False)
tanh = _in_float32(_tanh, np.tanh, flush=False)
log = _in_float32(_log, np.log)
log1p = _in_float32(_log1p, np.log1p)
erf = _in_float32(_erf, _erf64)
erf_inv = _in_float32(_erf_inv, _erf_inv64)
