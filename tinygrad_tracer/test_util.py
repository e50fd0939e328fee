"""`jax.test_util.check_grads`: compare a function's derivatives with finite
differences, the way to test a new rule (a JVP rule, a custom_vjp, ...).

    >>> check_grads(jnp.sin, (1.0,), order=2)          # passes silently
    >>> check_grads(lambda x: x * 2, (1.0,), order=1, modes=['rev'])

Forward mode ('fwd') compares `jvp(f, args, t)` with the central difference
`(f(args + eps t) - f(args - eps t)) / (2 eps)` along a random direction `t`.
Reverse mode ('rev') checks `vjp` against the same difference through the
identity `<ct, J t> == <J^T ct, t>` for a random cotangent `ct`. For `order`
2 and above, the same checks run on the derivative functions themselves.
Random directions come from a fixed seed, so a failure repeats.
"""
import numpy as np

from . import tree_util
from .api import jvp, vjp
from .array import Array

__all__ = ['check_grads', 'check_jvp', 'check_vjp']

_DEFAULT_EPS = {np.dtype(np.float32): 1e-3, np.dtype(np.float64): 1e-5}
_DEFAULT_TOL = {np.dtype(np.float32): 2e-2, np.dtype(np.float64): 1e-5}


def _leaves(tree):
    return [np.asarray(x) for x in tree_util.tree_leaves(tree)]


def _defaults(args, eps, atol, rtol):
    leaves = _leaves(args)
    dt = max((x.dtype for x in leaves if x.dtype.kind == 'f'), key=lambda d: d.itemsize,
             default=np.dtype(np.float32))
    dt = dt if dt in _DEFAULT_EPS else np.dtype(np.float32)
    return (_DEFAULT_EPS[dt] if eps is None else eps, _DEFAULT_TOL[dt] if atol is None else atol,
            _DEFAULT_TOL[dt] if rtol is None else rtol)


def _random_like(tree, rng):
    """A random pytree shaped like `tree`, in its dtypes."""
    return tree_util.tree_map(
        lambda x: Array(rng.standard_normal(np.shape(x)).astype(np.asarray(x).dtype)), tree)


def _axpy(a, x, y):
    return tree_util.tree_map(lambda xi, yi: Array(np.asarray(a * np.asarray(xi) + np.asarray(yi),
                                                              np.asarray(yi).dtype)), x, y)


def _inner(x, y):
    return sum(float(np.sum(np.asarray(a, np.float64) * np.asarray(b, np.float64)))
               for a, b in zip(_leaves(x), _leaves(y)))


def _numerical_jvp(f, args, tangents, eps):
    plus = f(*_axpy(eps, tangents, args))
    minus = f(*_axpy(-eps, tangents, args))
    return tree_util.tree_map(lambda p, m: (np.asarray(p, np.float64) - np.asarray(m, np.float64))
                              / (2 * eps), plus, minus)


def _assert_close(what, got, want, atol, rtol):
    for g, w in zip(_leaves(got), _leaves(want)):
        if not np.allclose(np.asarray(g, np.float64), np.asarray(w, np.float64), atol=atol, rtol=rtol):
            raise AssertionError(f"check_grads: {what} differ beyond atol={atol}, rtol={rtol}:\n"
                                 f"  got:      {g}\n  expected: {w}")


def check_jvp(f, args, *, eps=None, atol=None, rtol=None, seed=0):
    """Check `jvp(f, args, t)` against central differences along a random `t`."""
    eps, atol, rtol = _defaults(args, eps, atol, rtol)
    tangents = _random_like(args, np.random.default_rng(seed))
    out, t_out = jvp(f, tuple(args), tuple(tangents))
    _assert_close("the outputs of f and of jvp(f)", out, f(*args), atol, rtol)
    _assert_close("jvp's tangents and finite differences", t_out,
                  _numerical_jvp(f, args, tangents, eps), atol, rtol)


def check_vjp(f, args, *, eps=None, atol=None, rtol=None, seed=0):
    """Check `vjp(f, *args)` through `<ct, J t> == <J^T ct, t>`, with `J t` from
    central differences, for a random cotangent `ct` and direction `t`."""
    eps, atol, rtol = _defaults(args, eps, atol, rtol)
    rng = np.random.default_rng(seed)
    tangents = _random_like(args, rng)
    out, f_vjp = vjp(f, *args)
    cotangent = _random_like(out, rng)
    ct_in = f_vjp(cotangent)
    got = _inner(tangents, ct_in)
    want = _inner(_numerical_jvp(f, args, tangents, eps), cotangent)
    _assert_close("<t, vjp(ct)> and <J t, ct> by finite differences", got, want, atol, rtol)


def check_grads(f, args, order, modes=('fwd', 'rev'), atol=None, rtol=None, eps=None):
    """Check the derivatives of `f` at `args` (a tuple) up to `order`, in forward
    ('fwd') and/or reverse ('rev') mode; raises AssertionError on a mismatch.

        >>> check_grads(lambda x, y: x * jnp.sin(y), (2.0, 1.0), order=2)
    """
    args = tuple(args)
    unknown = set(modes) - {'fwd', 'rev'}
    if unknown:
        raise ValueError(f"check_grads: modes are 'fwd' and 'rev', got {sorted(unknown)}")
    if order < 1:
        return
    tol = dict(eps=eps, atol=atol, rtol=rtol)
    rng = np.random.default_rng(order)
    if 'fwd' in modes:
        check_jvp(f, args, **tol)
        if order > 1:
            tangents = _random_like(args, rng)
            check_grads(lambda *a: jvp(f, a, tangents)[1], args, order - 1, ('fwd',), **tol)
    if 'rev' in modes:
        check_vjp(f, args, **tol)
        if order > 1:
            cotangent = _random_like(f(*args), rng)
            check_grads(lambda *a: vjp(f, *a)[1](cotangent), args, order - 1, ('rev',), **tol)
