"""`jax.scipy.linalg`: factorizations and solves of (stacks of) matrices.

Factorizing is not something to write with elementwise primitives, so each
function computes its value with NumPy's LAPACK through `pure_callback` (it
runs at run time, under `jit` too, and `vmap` hands it the whole batch), and
gets its derivative from a `custom_jvp` rule written with matrix products.
The rules use inverses of the *primal* matrices only, so every tangent is a
matrix product with known values: linear, hence transposable, which is what
`grad` needs.

    >>> a = jnp.array([[4., 2.], [2., 3.]])
    >>> cholesky(a, lower=True)
    Array([[2.       , 0.       ],
           [1.       , 1.4142135]], dtype=float32)

Matrices are the last two axes; leading axes are a batch, as in JAX. As in
JAX, the derivative of `eigh` sees only the symmetric part of a tangent, while
that of `cholesky` takes the tangent as given (so `grad` of a Cholesky factor
need not be symmetric; along symmetric directions the two agree).
"""
import functools

import numpy as np

from .. import numpy as jnp
from ..callbacks import pure_callback
from ..custom_derivatives import custom_jvp
from ..jaxpr import ShapeDtypeStruct

__all__ = ['cholesky', 'solve_triangular', 'cho_factor', 'cho_solve', 'solve', 'inv', 'det',
           'slogdet', 'eigh', 'svd', 'qr']


def _float(x):
    x = jnp.asarray(x)
    return x if jnp.issubdtype(x.dtype, jnp.floating) else x.astype(jnp.float32)


def _host(fn, *args, shapes):
    """fn(*args) with NumPy, at run time; `shapes`: (shape, dtype) of each result."""
    structs = [ShapeDtypeStruct(s, d) for s, d in shapes]
    out = pure_callback(lambda *a: list(fn(*a)), structs, *args, vmap_method='broadcast_all')
    return out


def _mT(x):
    return jnp.swapaxes(x, -1, -2)


def _sym(x):
    return (x + _mT(x)) / 2


def _eye_like(a):
    return jnp.broadcast_to(jnp.eye(a.shape[-1], dtype=a.dtype), a.shape)


def _square(name, a):
    a = _float(a)
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError(f"{name} takes square matrices (..., n, n), got shape {a.shape}.")
    return a


# --- Cholesky and triangular solves ------------------------------------------------------

@custom_jvp
def _cholesky_lower(a):
    return _host(lambda a: [np.linalg.cholesky(a)], a, shapes=[(a.shape, a.dtype)])[0]


@_cholesky_lower.defjvp
def _cholesky_jvp(primals, tangents):
    (a,), (da,) = primals, tangents
    L = _cholesky_lower(a)
    L_inv = solve_triangular(L, _eye_like(L), lower=True)
    inner = L_inv @ da @ _mT(L_inv)         # dL = L phi(L^-1 dA L^-T): phi keeps the
    phi = jnp.tril(inner, -1) + jnp.tril(jnp.triu(inner)) / 2   # lower part, half the diagonal
    return L, L @ phi


def cholesky(a, lower=False, overwrite_a=False, check_finite=True):
    """The Cholesky factor of a symmetric positive definite matrix: `a = L L^T`
    (`lower=True`) or `a = U^T U` (the default, as in SciPy). Not positive
    definite: nan, as in JAX."""
    a = _square('cholesky', a)   # (the upper factor is the lower one of a^T, as in JAX)
    return _cholesky_lower(a) if lower else _mT(_cholesky_lower(_mT(a)))


def _triangle(a, lower, unit_diagonal):
    t = jnp.tril(a) if lower else jnp.triu(a)
    return t - jnp.tril(jnp.triu(t)) + _eye_like(a) if unit_diagonal else t


@functools.partial(custom_jvp, nondiff_argnums=(2,))
def _solve_tri(t, b, vector):
    """t^-1 b for a triangular t (already masked), b a matrix, or a vector when `vector`."""
    def host(t, b):
        x = np.linalg.solve(t, b[..., None] if vector else b)
        return [x[..., 0] if vector else x]
    return _host(host, t, b, shapes=[(b.shape, b.dtype)])[0]


@_solve_tri.defjvp
def _solve_tri_jvp(vector, primals, tangents):
    (t, b), (dt, db) = primals, tangents
    x = _solve_tri(t, b, vector)
    t_inv = _solve_tri(t, _eye_like(t), False)
    rhs = db - (dt @ x[..., None])[..., 0] if vector else db - dt @ x
    return x, (t_inv @ rhs[..., None])[..., 0] if vector else t_inv @ rhs


def solve_triangular(a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False,
                     debug=None, check_finite=True):
    """x with `a x = b` for triangular `a` (its other triangle is ignored); `trans`
    1 or 'T' solves `a^T x = b`; `unit_diagonal` takes the diagonal as ones.

        >>> solve_triangular(jnp.array([[2., 0.], [1., 1.]]), jnp.array([2., 3.]), lower=True)
        Array([1., 2.], dtype=float32)
    """
    a = _square('solve_triangular', a)
    b = _float(b)
    a, b = a.astype(jnp.result_type(a, b)), b.astype(jnp.result_type(a, b))
    t = _triangle(a, lower, unit_diagonal)
    if trans in (1, 2, 'T', 'C'):
        t = _mT(t)
    elif trans not in (0, 'N'):
        raise ValueError(f"solve_triangular: trans must be 0, 1, 2, 'N', 'T' or 'C', got {trans!r}")
    return _solve_tri(t, b, b.ndim == 1)


def cho_factor(a, lower=False, overwrite_a=False, check_finite=True):
    """(c, lower): the Cholesky factor for `cho_solve`."""
    return cholesky(a, lower=lower), lower


def cho_solve(c_and_lower, b, overwrite_b=False, check_finite=True):
    """x with `a x = b`, given `(c, lower)` from `cho_factor(a)`.

        >>> cho_solve(cho_factor(jnp.array([[4., 2.], [2., 3.]])), jnp.array([2., 1.]))
        Array([0.5, 0. ], dtype=float32)
    """
    c, lower = c_and_lower
    if lower:   # a = L L^T
        return solve_triangular(c, solve_triangular(c, b, lower=True), trans=1, lower=True)
    return solve_triangular(c, solve_triangular(c, b, trans=1, lower=False), lower=False)


# --- general matrices -------------------------------------------------------------------

@functools.partial(custom_jvp, nondiff_argnums=(2,))
def _solve(a, b, vector):
    def host(a, b):
        x = np.linalg.solve(a, b[..., None] if vector else b)
        return [x[..., 0] if vector else x]
    return _host(host, a, b, shapes=[(b.shape, b.dtype)])[0]


@_solve.defjvp
def _solve_jvp(vector, primals, tangents):
    (a, b), (da, db) = primals, tangents
    x, a_inv = _solve(a, b, vector), _inv(a)
    if vector:
        return x, (a_inv @ (db - (da @ x[..., None])[..., 0])[..., None])[..., 0]
    return x, a_inv @ (db - da @ x)


def solve(a, b, lower=False, overwrite_a=False, overwrite_b=False, debug=False, check_finite=True,
          assume_a='gen'):
    """x with `a x = b` (LU with partial pivoting), b a vector or matrix.

        >>> solve(jnp.array([[3., 1.], [1., 2.]]), jnp.array([9., 8.]))
        Array([2., 3.], dtype=float32)
    """
    a, b = _square('solve', a), _float(b)
    dt = jnp.result_type(a, b)
    return _solve(a.astype(dt), b.astype(dt), b.ndim == 1)


def inv(a, overwrite_a=False, check_finite=True):
    """The inverse matrix: `inv(a) @ a` is the identity.

        >>> inv(jnp.array([[2., 0.], [0., 4.]]))
        Array([[0.5 , 0.  ],
               [0.  , 0.25]], dtype=float32)
    """
    return _inv(_square('inv', a))


@custom_jvp
def _inv(a):
    return _host(lambda a: [np.linalg.inv(a)], a, shapes=[(a.shape, a.dtype)])[0]


@_inv.defjvp
def _inv_jvp(primals, tangents):
    a, da = primals[0], tangents[0]
    a_inv = _inv(a)
    return a_inv, -a_inv @ da @ a_inv


def slogdet(a):
    """(sign, log|det a|): the determinant without overflow. (JAX's
    `jnp.linalg.slogdet`; `jax.scipy.linalg` has `det` only.)

        >>> slogdet(jnp.array([[-2., 0.], [0., 3.]]))
        (Array(-1., dtype=float32), Array(1.7917595, dtype=float32))
    """
    return _slogdet(_square('slogdet', a))


@custom_jvp
def _slogdet(a):
    return tuple(_host(lambda a: np.linalg.slogdet(a), a,
                       shapes=[(a.shape[:-2], a.dtype), (a.shape[:-2], a.dtype)]))


@_slogdet.defjvp
def _slogdet_jvp(primals, tangents):
    a, da = primals[0], tangents[0]
    sign, logabs = _slogdet(a)
    # d log|det a| = trace(a^-1 da); the sign does not change under a small step.
    return (sign, logabs), (jnp.zeros_like(sign), jnp.trace(_inv(a) @ da, axis1=-2, axis2=-1))


def det(a, overwrite_a=False, check_finite=True):
    """The determinant (sign * exp(log|det|), so its derivative is det * trace(a^-1 da)).

        >>> det(jnp.array([[3., 1.], [1., 2.]]))
        Array(5., dtype=float32)
    """
    sign, logabs = slogdet(a)
    return sign * jnp.exp(logabs)


# --- eigenvalues, SVD, QR ---------------------------------------------------------------------

@custom_jvp
def _eigh(a):
    n = a.shape[-1]
    return tuple(_host(lambda a: np.linalg.eigh(a, UPLO='L'), a,
                       shapes=[(a.shape[:-1], a.dtype), (a.shape[:-2] + (n, n), a.dtype)]))


@_eigh.defjvp
def _eigh_jvp(primals, tangents):
    a, da = primals[0], tangents[0]
    w, v = _eigh(a)
    inner = _mT(v) @ _sym(da) @ v
    gap = w[..., None, :] - w[..., :, None]            # w_j - w_i
    eye = jnp.eye(w.shape[-1], dtype=bool)
    f = jnp.where(eye, 0.0, 1 / jnp.where(eye, 1.0, gap))
    return (w, v), (jnp.diagonal(inner, axis1=-2, axis2=-1), v @ (f * inner))


def eigh(a, b=None, lower=True, eigvals_only=False, overwrite_a=False, overwrite_b=False,
         turbo=True, eigvals=None, type=1, check_finite=True):
    """Eigenvalues (ascending) and eigenvectors (columns) of a symmetric matrix,
    read from its lower triangle (`lower=False`: the upper).

        >>> eigh(jnp.array([[2., 1.], [1., 2.]]), eigvals_only=True)
        Array([1., 3.], dtype=float32)
    """
    if b is not None:
        raise NotImplementedError("eigh(a, b): the generalized problem is not supported; "
                                  "reduce it with cholesky(b) first.")
    a = _square('eigh', a)
    if not lower:
        a = _mT(a)
    w, v = _eigh(a)
    return w if eigvals_only else (w, v)


@custom_jvp
def _svd_thin(a):
    m, n = a.shape[-2:]
    k = min(m, n)
    batch = a.shape[:-2]
    return tuple(_host(lambda a: np.linalg.svd(a, full_matrices=False), a,
                       shapes=[(batch + (m, k), a.dtype), (batch + (k,), a.dtype),
                               (batch + (k, n), a.dtype)]))


@_svd_thin.defjvp
def _svd_jvp(primals, tangents):
    a, da = primals[0], tangents[0]
    u, s, vt = _svd_thin(a)
    if a.shape[-2] < a.shape[-1]:
        raise NotImplementedError("the derivative of svd is implemented for m >= n only "
                                  "(take the svd of the transpose)")
    v = _mT(vt)
    dp = _mT(u) @ da @ v
    ds = jnp.diagonal(dp, axis1=-2, axis2=-1)
    s2 = s * s
    eye = jnp.eye(s.shape[-1], dtype=bool)
    f = jnp.where(eye, 0.0, 1 / jnp.where(eye, 1.0, s2[..., None, :] - s2[..., :, None]))
    S = s[..., None, :]                                # multiplies columns: X @ diag(s)
    du = u @ (f * (dp * S + _mT(dp) * s[..., :, None])) + \
        (da @ v - u @ dp) / S                          # (I - U U^T) dA V S^-1
    dv = v @ (f * (s[..., :, None] * dp + _mT(dp) * S))
    return (u, s, vt), (du, ds, _mT(dv))


def svd(a, full_matrices=True, compute_uv=True, overwrite_a=False, check_finite=True,
        lapack_driver='gesdd'):
    """a = u @ diag(s) @ vh, singular values descending.

    Differentiable for `compute_uv=False`, or with `full_matrices=False` for
    m >= n (`full_matrices=True` adds columns with no derivative of their own:
    not supported under differentiation, as the derivative is not unique).

        >>> svd(jnp.array([[3., 0.], [0., -2.]]), compute_uv=False)
        Array([3., 2.], dtype=float32)
    """
    a = _float(a)
    if not compute_uv:
        return _svd_thin(a)[1]
    if full_matrices and a.shape[-2] != a.shape[-1]:
        m, n, batch = a.shape[-2], a.shape[-1], a.shape[:-2]
        return tuple(_host(lambda a: np.linalg.svd(a, full_matrices=True), a,
                           shapes=[(batch + (m, m), a.dtype), (batch + (min(m, n),), a.dtype),
                                   (batch + (n, n), a.dtype)]))
    return _svd_thin(a)


@custom_jvp
def _qr_reduced(a):
    m, n = a.shape[-2:]
    k, batch = min(m, n), a.shape[:-2]
    return tuple(_host(lambda a: np.linalg.qr(a, mode='reduced'), a,
                       shapes=[(batch + (m, k), a.dtype), (batch + (k, n), a.dtype)]))


@_qr_reduced.defjvp
def _qr_jvp(primals, tangents):
    a, da = primals[0], tangents[0]
    q, r = _qr_reduced(a)
    if a.shape[-2] < a.shape[-1]:
        raise NotImplementedError("the derivative of qr is implemented for m >= n only")
    r_inv = solve_triangular(r, _eye_like(r), lower=False)
    c = _mT(q) @ da @ r_inv
    low = jnp.tril(c, -1)
    omega = low - _mT(low)                             # antisymmetric: Q^T dQ
    dq = q @ omega + (da @ r_inv - q @ c)              # (I - Q Q^T) dA R^-1 added
    dr = (c - omega) @ r
    return (q, r), (dq, dr)


def qr(a, overwrite_a=False, lwork=None, mode='full', pivoting=False, check_finite=True):
    """a = q @ r with orthonormal columns in q and upper triangular r. `mode`:
    'full' (q is m x m), 'economic' (q is m x k), 'r' (r alone).

        >>> qr(jnp.array([[3., 0.], [4., 5.]]), mode='r')[0]
        Array([[-5., -4.],
               [ 0.,  3.]], dtype=float32)
    """
    if pivoting:
        raise NotImplementedError("qr(pivoting=True) is not supported.")
    a = _float(a)
    m, n = a.shape[-2:]
    if mode == 'full' and m > n:
        batch = a.shape[:-2]
        q, r = _host(lambda a: np.linalg.qr(a, mode='complete'), a,
                     shapes=[(batch + (m, m), a.dtype), (batch + (m, n), a.dtype)])
    elif mode in ('full', 'economic', 'r'):
        q, r = _qr_reduced(a)
    else:
        raise ValueError(f"qr: mode must be 'full', 'economic' or 'r', got {mode!r}")
    return (r,) if mode == 'r' else (q, r)
