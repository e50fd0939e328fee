"""The cumulative primitives: a running sum, product, maximum, minimum or
log-sum-exp along one axis, as `jax.lax` has them (`cumsum_p`, `cumprod_p`,
`cummax_p`, `cummin_p`, `cumlogsumexp_p`).

Element i of the result combines elements 0..i of the operand along `axis`
(i..n-1 with `reverse=True`). Each primitive is one table entry like any other;
their derivatives (jvp.py) are written, as in JAX, through `lax.associative_scan`,
and the compiled backends run them as a loop carrying the running value
(`backends/loop_nests.SCANS`).

    >>> cummax(Array(np.float32([1, 3, 2, 5])))
    Array([1., 3., 3., 5.], dtype=float32)
"""
import numpy as np

from ._lax_elementwise import FLOAT, NUM, check_kind, def_primitive
from .core import ShapedArray, bind

__all__ = ['cumsum_p', 'cumprod_p', 'cummax_p', 'cummin_p', 'cumlogsumexp_p',
           'cumsum', 'cumprod', 'cummax', 'cummin', 'cumlogsumexp']


def _aval_rule(name, kinds):
    def rule(x, axis, reverse=False):
        check_kind(name, x, kinds)
        if not 0 <= axis < x.ndim:
            raise ValueError(f"{name}: axis {axis} is out of bounds for an operand of shape "
                             f"{x.shape}. lax takes an axis from 0 to ndim - 1: for one counted "
                             f"from the end, pass axis % x.ndim.")
        return ShapedArray(x.shape, x.dtype, x.weak_type)
    return rule


def _accumulating(ufunc, low_precision=None):
    """The impl: NumPy's `ufunc.accumulate` along `axis`, from the end when reversed.
    `low_precision`: the dtype float16 and bfloat16 are accumulated in, if NumPy has
    no loop for them (the result is rounded back)."""
    def impl(x, axis, reverse=False):
        acc = low_precision if low_precision and x.dtype.itemsize < 4 else x.dtype
        if reverse:
            x = np.flip(x, axis)
        out = ufunc.accumulate(x.astype(acc), axis=axis, dtype=acc).astype(x.dtype)
        return np.flip(out, axis) if reverse else out
    return impl


cumsum_p = def_primitive('cumsum', _accumulating(np.add), _aval_rule('cumsum', NUM),
                         "running sum along `axis`")
cumprod_p = def_primitive('cumprod', _accumulating(np.multiply), _aval_rule('cumprod', NUM),
                          "running product along `axis`")
cummax_p = def_primitive('cummax', _accumulating(np.maximum), _aval_rule('cummax', NUM),
                         "running maximum along `axis` (nan wins)")
cummin_p = def_primitive('cummin', _accumulating(np.minimum), _aval_rule('cummin', NUM),
                         "running minimum along `axis` (nan wins)")
cumlogsumexp_p = def_primitive('cumlogsumexp', _accumulating(np.logaddexp, np.float32),
                               _aval_rule('cumlogsumexp', FLOAT),
                               "running log(sum(exp(x))) along `axis`, without overflow")


def _binder(prim):
    def cumulative(operand, axis=0, reverse=False):
        return bind(prim, operand, axis=int(axis), reverse=bool(reverse))
    cumulative.__name__ = prim.name
    cumulative.__doc__ = f"The {prim.__doc__}; from the end with `reverse=True`."
    return cumulative


cumsum, cumprod, cummax, cummin, cumlogsumexp = map(
    _binder, (cumsum_p, cumprod_p, cummax_p, cummin_p, cumlogsumexp_p))
