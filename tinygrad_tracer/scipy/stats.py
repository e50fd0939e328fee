"""`jax.scipy.stats`: log-densities and distribution functions.

Each distribution is a namespace of functions, as in JAX:
`stats.norm.logpdf(x, loc=0, scale=1)`, `from ...stats import norm`. They are
formulas over `jax.numpy` and `special`, so they differentiate (in `x` and in
the parameters), vmap and jit. Outside the support a log-density is -inf.

    >>> norm.logpdf(0.)
    Array(-0.9189385, dtype=float32)

Not here (they need incomplete gamma and beta functions): the cdfs of beta,
gamma, poisson and t.
"""
import types

import numpy as np

from .. import numpy as jnp
from . import special
from .linalg import cholesky, solve_triangular

__all__ = ['norm', 'multivariate_normal', 'bernoulli', 'beta', 'gamma', 'uniform', 'poisson',
           't', 'laplace']


def _promote(*args):
    """Arrays of one float dtype (ints become float32, Python scalars stay weak)."""
    args = [jnp.asarray(a) for a in args]
    dt = jnp.result_type(*args, 1.0)
    return [a.astype(dt) for a in args]


def _standardized(x, loc, scale):
    x, loc, scale = _promote(x, loc, scale)
    return (x - loc) / scale, scale


def _dist(name, **fns):
    for fn_name, fn in fns.items():
        fn.__name__ = fn.__qualname__ = f"{name}.{fn_name}"
    return types.SimpleNamespace(**fns)


# --- norm --------------------------------------------------------------------------------

def _norm_logpdf(x, loc=0, scale=1):
    """log N(x; loc, scale^2)."""
    z, scale = _standardized(x, loc, scale)
    return -0.5 * z * z - jnp.log(scale) - 0.5 * np.log(2 * np.pi)


def _norm_cdf(x, loc=0, scale=1):
    return special.ndtr(_standardized(x, loc, scale)[0])


def _norm_logcdf(x, loc=0, scale=1):
    return special.log_ndtr(_standardized(x, loc, scale)[0])


def _norm_ppf(q, loc=0, scale=1):
    q, loc, scale = _promote(q, loc, scale)
    return loc + scale * special.ndtri(q)


norm = _dist('norm', logpdf=_norm_logpdf, pdf=lambda x, loc=0, scale=1: jnp.exp(_norm_logpdf(x, loc, scale)),
             cdf=_norm_cdf, logcdf=_norm_logcdf, ppf=_norm_ppf,
             sf=lambda x, loc=0, scale=1: _norm_cdf(-jnp.asarray(x), -jnp.asarray(loc), scale),
             logsf=lambda x, loc=0, scale=1: _norm_logcdf(-jnp.asarray(x), -jnp.asarray(loc), scale))


# --- multivariate normal ------------------------------------------------------------------

def _mvn_logpdf(x, mean, cov, allow_singular=None):
    """log N(x; mean, cov) over the last axis of x (leading axes are a batch),
    through the Cholesky factor of cov."""
    x, mean, cov = _promote(x, mean, cov)
    n = cov.shape[-1]
    L = cholesky((cov + jnp.swapaxes(cov, -1, -2)) / 2, lower=True)   # symmetric gradients, as JAX
    d = x - mean
    y = solve_triangular(L, jnp.moveaxis(d.reshape(-1, n), -1, 0), lower=True)   # (n, batch)
    maha = jnp.sum(y * y, axis=0).reshape(d.shape[:-1])
    log_det = jnp.sum(jnp.log(jnp.diagonal(L)))
    return -0.5 * maha - log_det - 0.5 * n * np.log(2 * np.pi)


multivariate_normal = _dist('multivariate_normal', logpdf=_mvn_logpdf,
                            pdf=lambda x, mean, cov, allow_singular=None: jnp.exp(_mvn_logpdf(x, mean, cov)))


# --- discrete -----------------------------------------------------------------------------

def _bernoulli_logpmf(k, p, loc=0):
    k, p, loc = _promote(k, p, loc)
    k = k - loc
    out = special.xlogy(k, p) + special.xlog1py(1 - k, -p)
    return jnp.where((k == 0) | (k == 1), out, -jnp.inf)


def _bernoulli_cdf(k, p):
    k, p = _promote(k, p)
    return jnp.where(k < 0, 0.0, jnp.where(k < 1, 1 - p, 1.0))


bernoulli = _dist('bernoulli', logpmf=_bernoulli_logpmf,
                  pmf=lambda k, p, loc=0: jnp.exp(_bernoulli_logpmf(k, p, loc)), cdf=_bernoulli_cdf)


def _poisson_logpmf(k, mu, loc=0):
    k, mu, loc = _promote(k, mu, loc)
    k = k - loc
    out = special.xlogy(k, mu) - special.gammaln(k + 1) - mu
    return jnp.where((k >= 0) & (k == jnp.floor(k)), out, -jnp.inf)


poisson = _dist('poisson', logpmf=_poisson_logpmf,
                pmf=lambda k, mu, loc=0: jnp.exp(_poisson_logpmf(k, mu, loc)))


# --- continuous ---------------------------------------------------------------------------

def _beta_logpdf(x, a, b, loc=0, scale=1):
    x, a, b, loc, scale = _promote(x, a, b, loc, scale)
    y = (x - loc) / scale
    out = special.xlogy(a - 1, y) + special.xlog1py(b - 1, -y) - special.betaln(a, b) - jnp.log(scale)
    return jnp.where((y >= 0) & (y <= 1), out, -jnp.inf)


beta = _dist('beta', logpdf=_beta_logpdf,
             pdf=lambda x, a, b, loc=0, scale=1: jnp.exp(_beta_logpdf(x, a, b, loc, scale)))


def _gamma_logpdf(x, a, loc=0, scale=1):
    x, a, loc, scale = _promote(x, a, loc, scale)
    y = (x - loc) / scale
    out = special.xlogy(a - 1, y) - y - special.gammaln(a) - jnp.log(scale)
    return jnp.where(y >= 0, out, -jnp.inf)


gamma = _dist('gamma', logpdf=_gamma_logpdf,
              pdf=lambda x, a, loc=0, scale=1: jnp.exp(_gamma_logpdf(x, a, loc, scale)))


def _uniform_logpdf(x, loc=0, scale=1):
    x, loc, scale = _promote(x, loc, scale)
    return jnp.where((x >= loc) & (x <= loc + scale), -jnp.log(scale), -jnp.inf)


def _uniform_cdf(x, loc=0, scale=1):
    x, loc, scale = _promote(x, loc, scale)
    return jnp.clip((x - loc) / scale, 0, 1)


uniform = _dist('uniform', logpdf=_uniform_logpdf,
                pdf=lambda x, loc=0, scale=1: jnp.exp(_uniform_logpdf(x, loc, scale)),
                cdf=_uniform_cdf, logcdf=lambda x, loc=0, scale=1: jnp.log(_uniform_cdf(x, loc, scale)),
                ppf=lambda q, loc=0, scale=1: _promote(loc)[0] + jnp.asarray(q) * scale)


def _t_logpdf(x, df, loc=0, scale=1):
    x, df, loc, scale = _promote(x, df, loc, scale)
    y = (x - loc) / scale
    return (special.gammaln((df + 1) / 2) - special.gammaln(df / 2) - 0.5 * jnp.log(df * np.pi)
            - jnp.log(scale) - (df + 1) / 2 * jnp.log1p(y * y / df))


t = _dist('t', logpdf=_t_logpdf, pdf=lambda x, df, loc=0, scale=1: jnp.exp(_t_logpdf(x, df, loc, scale)))


def _laplace_logpdf(x, loc=0, scale=1):
    z, scale = _standardized(x, loc, scale)
    return -jnp.abs(z) - jnp.log(2 * scale)


def _laplace_cdf(x, loc=0, scale=1):
    z, _ = _standardized(x, loc, scale)
    return jnp.where(z < 0, 0.5 * jnp.exp(z), 1 - 0.5 * jnp.exp(-z))


laplace = _dist('laplace', logpdf=_laplace_logpdf,
                pdf=lambda x, loc=0, scale=1: jnp.exp(_laplace_logpdf(x, loc, scale)), cdf=_laplace_cdf)
