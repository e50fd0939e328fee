"""`jax.scipy.special`: the special functions ML code reaches for.

Each is written with `jax.numpy` and `lax`, so it traces, vmaps and jits like
any other code, and differentiates by the chain rule through the operations it
is made of. Where that derivative would be wrong or wasteful (`xlogy` at x = 0,
`gammaln`, `erfc`), a `custom_jvp` gives the exact one.

    >>> logsumexp(jnp.array([1., 2.]), b=jnp.array([1., -2.]), return_sign=True)
    (Array(2.48988, dtype=float32), Array(-1., dtype=float32))

The approximations are standard ones, accurate to float32's precision and to
about 1e-13 in float64 (x64): Lanczos' series for `gammaln`, the asymptotic
series with the recurrence for `digamma`, and a Chebyshev fit of
exp(x^2) erfc(x) for `erfc` and `log_ndtr`, which keeps their tails from
underflowing.
"""
import numpy as np

from .. import lax, nn
from .. import numpy as jnp
from ..custom_derivatives import custom_jvp

__all__ = ['logsumexp', 'expit', 'logit', 'erf', 'erfc', 'erfinv', 'gammaln', 'betaln',
           'digamma', 'xlogy', 'xlog1py', 'entr', 'softmax', 'log_softmax', 'ndtr', 'ndtri',
           'log_ndtr']

softmax, log_softmax, expit = nn.softmax, nn.log_softmax, nn.sigmoid


def _float(x):
    x = jnp.asarray(x)
    return x if jnp.issubdtype(x.dtype, jnp.floating) else x.astype(jnp.float32)


def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False):
    """log(sum(b * exp(a))) along `axis`, without overflow. With `return_sign`,
    returns (log|sum|, sign of the sum), so that negative weights `b` work.

        >>> logsumexp(jnp.array([0., 0.]))
        Array(0.6931472, dtype=float32)
    """
    if not return_sign:
        return nn.logsumexp(a, axis=axis, b=b, keepdims=keepdims)
    a = _float(a)
    amax = lax.stop_gradient(jnp.max(a, axis, keepdims=True))
    amax = jnp.where(jnp.isfinite(amax), amax, 0)
    total = jnp.sum(jnp.exp(a - amax) * (1 if b is None else jnp.asarray(b)), axis, keepdims=True)
    out, sign = jnp.log(jnp.abs(total)) + amax, jnp.sign(total)
    if not keepdims:
        axes = tuple(range(a.ndim)) if axis is None else axis
        out, sign = jnp.squeeze(out, axes), jnp.squeeze(sign, axes)
    return out, sign


def logit(p):
    """log(p / (1 - p)), the inverse of `expit`: `logit(0.5)` is 0."""
    p = _float(p)
    return jnp.log(p) - jnp.log1p(-p)


def erf(x):
    """The error function: `erf(0.5)` is 0.5204999."""
    return lax.erf(_float(x))


def erfinv(x):
    """The inverse of `erf` on (-1, 1): `erfinv(erf(0.3))` is 0.3."""
    return lax.erf_inv(_float(x))


# erfc(u) = t * exp(-u^2 + P(t)) for u >= 0, t = 1 / (1 + u/2): a Chebyshev fit with
# relative error below 1.2e-7 everywhere (Press et al., Numerical Recipes, 6.2).
_ERFC_COEFFS = (-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807,
                -1.13520398, 1.48851587, -0.82215223, 0.17087277)


def _log_erfc_nonneg(u):
    """log(erfc(u)) for u >= 0, computed without forming erfc (no underflow)."""
    t = 1 / (1 + 0.5 * u)
    poly = 0.0
    for c in reversed(_ERFC_COEFFS):
        poly = poly * t + c
    return jnp.log(t) - u * u + poly


@custom_jvp
def erfc(x):
    """1 - erf(x), accurate also where it is tiny: `erfc(3.)` is 2.209e-05."""
    x = _float(x)
    tail = jnp.exp(_log_erfc_nonneg(jnp.abs(x)))
    return jnp.where(x >= 0, tail, 2 - tail)


erfc.defjvps(lambda t, ans, x: t * (-2 / np.sqrt(np.pi)) * jnp.exp(-_float(x) ** 2))


def ndtr(x):
    """The standard normal CDF: `ndtr(0.)` is 0.5."""
    return 0.5 * erfc(-_float(x) / np.sqrt(2))


def log_ndtr(x):
    """log of the standard normal CDF, accurate far into the left tail.

        >>> log_ndtr(-20.)
        Array(-203.91714, dtype=float32)
    """
    x = _float(x)
    u = -x / np.sqrt(2)
    left = np.log(0.5) + _log_erfc_nonneg(jnp.maximum(u, 0))
    right = jnp.log1p(-0.5 * jnp.exp(_log_erfc_nonneg(jnp.maximum(-u, 0))))
    return jnp.where(u >= 0, left, right)


def ndtri(p):
    """The inverse of `ndtr`: the standard normal quantile. `ndtri(0.975)` is 1.959964."""
    return np.sqrt(2) * erfinv(2 * _float(p) - 1)


# Lanczos' approximation, g = 7, 9 terms: Gamma(z + 1) = sqrt(2 pi) t^(z + 1/2) e^-t A(z)
# with t = z + g + 1/2 (relative error about 1e-15).
_LANCZOS_G = 7
_LANCZOS = (0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
            -176.61502916214059, 12.507343278686905, -0.13857109526572012,
            9.9843695780195716e-6, 1.5056327351493116e-7)


def _gammaln_right(z):
    """log Gamma(z) for z >= 1/2."""
    z = z - 1
    series = _LANCZOS[0]
    for k, c in enumerate(_LANCZOS[1:], start=1):
        series = series + c / (z + k)
    t = z + _LANCZOS_G + 0.5
    return 0.5 * np.log(2 * np.pi) + (z + 0.5) * jnp.log(t) - t + jnp.log(series)


@custom_jvp
def gammaln(x):
    """log|Gamma(x)|; inf at 0 and the negative integers.

        >>> gammaln(jnp.array([0.5, 3.5]))
        Array([0.5723649, 1.2009736], dtype=float32)
    """
    x = _float(x)
    right = x >= 0.5
    safe = jnp.where(right, x, 1 - x)   # reflection: Gamma(x) Gamma(1-x) = pi / sin(pi x)
    lg = _gammaln_right(safe)
    reflected = np.log(np.pi) - jnp.log(jnp.abs(jnp.sin(np.pi * x))) - lg
    out = jnp.where(right, lg, reflected)
    return jnp.where((x <= 0) & (x == jnp.floor(x)), jnp.inf, out)


gammaln.defjvps(lambda t, ans, x: t * digamma(x))


def digamma(x):
    """The derivative of `gammaln`; nan at 0 and the negative integers, as JAX.

        >>> digamma(jnp.array([1., 0.5]))
        Array([-0.5772157, -1.9635100], dtype=float32)
    """
    x = _float(x)
    right = x >= 0.5
    z = jnp.where(right, x, 1 - x)   # reflection: psi(1-x) - psi(x) = pi / tan(pi x)
    shift = 0.0
    for k in range(6):              # psi(z) = psi(z + 6) - sum 1/(z + k)
        shift = shift + 1 / (z + k)
    y = z + 6
    inv2 = 1 / (y * y)
    series = jnp.log(y) - 0.5 / y - inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 * (
        1 / 240 - inv2 / 132))))
    psi = series - shift
    out = jnp.where(right, psi, psi - np.pi / jnp.tan(np.pi * x))
    return jnp.where((x <= 0) & (x == jnp.floor(x)), jnp.nan, out)


def betaln(a, b):
    """log|B(a, b)| = gammaln(a) + gammaln(b) - gammaln(a + b)."""
    return gammaln(a) + gammaln(b) - gammaln(jnp.asarray(a) + jnp.asarray(b))


@custom_jvp
def xlogy(x, y):
    """x * log(y), and 0 where x is 0 (even if y is 0): `xlogy(0., 0.)` is 0.

        >>> xlogy(jnp.array([0., 2.]), jnp.array([0., 3.]))
        Array([0.       , 2.1972246], dtype=float32)
    """
    x, y = jnp.broadcast_arrays(*map(_float, (x, y)))
    return jnp.where(x == 0, 0.0, x * jnp.log(jnp.where(x == 0, 1, y))).astype(x.dtype)


xlogy.defjvps(lambda t, ans, x, y: t * jnp.log(y),
              lambda t, ans, x, y: t * jnp.where(jnp.asarray(x) == 0, 0.0, jnp.asarray(x) / y))


@custom_jvp
def xlog1py(x, y):
    """x * log1p(y), and 0 where x is 0: the log-likelihood term of `1 - p` weights."""
    x, y = jnp.broadcast_arrays(*map(_float, (x, y)))
    return jnp.where(x == 0, 0.0, x * jnp.log1p(jnp.where(x == 0, 0, y))).astype(x.dtype)


xlog1py.defjvps(lambda t, ans, x, y: t * jnp.log1p(y),
                lambda t, ans, x, y: t * jnp.where(jnp.asarray(x) == 0, 0.0, jnp.asarray(x) / (1 + y)))


def entr(x):
    """-x log x for x > 0, 0 at 0, -inf below: the terms of an entropy."""
    x = _float(x)
    return jnp.where(x >= 0, -xlogy(x, x), -jnp.inf).astype(x.dtype)
