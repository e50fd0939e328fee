"""jax.numpy, part 9: convolution, correlation, interpolation, histograms, gcd/lcm,
cross products. Re-exported by `tinygrad_tracer.numpy`.

Each is built from the parts above, so it differentiates, vmaps and jits like
them: a convolution is a gather of sliding windows (static indices) followed by
a matrix-vector product, `interp` a `searchsorted` and a line, `histogram` a
scatter-add of ones into bins, `gcd` Euclid's algorithm in a `lax.while_loop`.
"""
import numpy as np

from . import dtypes, lax
from ._numpy_arrange import pad, stack
from ._numpy_base import asarray, astype, broadcast_arrays, check_arraylike, promote
from ._numpy_creation import linspace, zeros
from ._numpy_elementwise import absolute, clip, floor_divide, where
from ._numpy_linalg import matmul
from ._numpy_reduce import max, min, searchsorted, sum
from ._numpy_shape import moveaxis

__all__ = ['convolve', 'correlate', 'interp', 'histogram', 'gcd', 'lcm', 'cross']


# --- convolution ----------------------------------------------------------------------

def convolve(a, v, mode='full', *, precision=None, preferred_element_type=None):
    """The discrete convolution of two 1-d arrays, as numpy.convolve.

    `mode` is 'full' (length n + m - 1), 'same' (length max(n, m), centred) or
    'valid' (length max(n, m) - min(n, m) + 1, where they overlap fully).

        >>> convolve(array([1., 2., 3.]), array([0., 1., 0.5]))
        Array([0. , 1. , 2.5, 4. , 1.5], dtype=float32)
    """
    check_arraylike('convolve', a, v)
    a, v = _vectors('convolve', a, v)
    if a.shape[0] < v.shape[0]:   # convolution commutes; the longer one slides
        a, v = v, a
    return _full_to_mode(_full_convolution(a, v), a.shape[0], v.shape[0], mode, 'convolve')


def correlate(a, v, mode='valid', *, precision=None, preferred_element_type=None):
    """The cross-correlation of two 1-d arrays, `c[k] = sum_n a[n + k] * v[n]`, as
    numpy.correlate (default mode 'valid'; see `convolve` for the modes).

        >>> correlate(array([1., 2., 3.]), array([0., 1., 0.5]))
        Array([3.5], dtype=float32)
    """
    check_arraylike('correlate', a, v)
    a, v = _vectors('correlate', a, v)
    swapped = a.shape[0] < v.shape[0]
    if swapped:   # as NumPy: slide the longer one, then read the result backwards
        a, v = v, a
    out = _full_to_mode(_full_convolution(a, lax.rev(v, (0,))), a.shape[0], v.shape[0], mode,
                        'correlate')
    return lax.rev(out, (0,)) if swapped else out


def _vectors(name, a, v):
    a, v = promote(asarray(a), asarray(v))
    if a.ndim != 1 or v.ndim != 1:
        raise ValueError(f"jnp.{name} takes 1-d arrays, got shapes {a.shape} and {v.shape}.")
    if a.shape[0] == 0 or v.shape[0] == 0:
        raise ValueError(f"jnp.{name}: inputs cannot be empty.")
    if not dtypes.is_float(a.dtype):   # as in JAX, integers convolve in floating point
        a, v = astype(a, dtypes.default_float()), astype(v, dtypes.default_float())
    return a, v


def _full_convolution(a, v):
    """out[k] = sum_j a[k - j] v[j]: row k of the windows holds a[k - j] for each j
    (zeros outside a), gathered with static indices from a zero-padded a."""
    n, m = a.shape[0], v.shape[0]
    padded = pad(a, (m - 1, m - 1))
    windows = padded[np.arange(n + m - 1)[:, None] + (m - 1) - np.arange(m)[None, :]]
    return matmul(windows, v)


def _full_to_mode(full, n, m, mode, name):
    if mode == 'full':
        return full
    if mode == 'same':
        start = (m - 1) // 2
        return lax.slice(full, (start,), (start + n,))
    if mode == 'valid':
        return lax.slice(full, (m - 1,), (n,))
    raise ValueError(f"jnp.{name}: mode must be 'full', 'same' or 'valid', got {mode!r}.")


# --- interpolation and histograms -----------------------------------------------------

def interp(x, xp, fp, left=None, right=None, period=None):
    """Piecewise-linear interpolation of the points (xp, fp) at x, as numpy.interp:
    `xp` increasing; below xp[0] gives `left` (fp[0]), above xp[-1] `right` (fp[-1]).

        >>> interp(array([0.5, 1.5, 9.]), array([0., 1., 2.]), array([0., 10., 0.]))
        Array([5., 5., 0.], dtype=float32)
    """
    check_arraylike('interp', x, xp, fp)
    if period is not None:
        raise NotImplementedError("jnp.interp(period=...) is not supported here; map x into "
                                  "one period first (x % period) and extend xp, fp around it.")
    x, xp, fp = promote(asarray(x), asarray(xp), asarray(fp))
    if not dtypes.is_float(x.dtype):
        x, xp, fp = (astype(t, dtypes.default_float()) for t in (x, xp, fp))
    if xp.ndim != 1 or fp.shape != xp.shape:
        raise ValueError(f"jnp.interp: xp and fp must be 1-d of the same length, got shapes "
                         f"{xp.shape} and {fp.shape}.")
    i = clip(searchsorted(xp, x, side='right'), 1, xp.shape[0] - 1)
    x0, x1, f0, f1 = xp[i - 1], xp[i], fp[i - 1], fp[i]
    dx = x1 - x0
    safe_dx = where(dx == 0, 1, dx)
    f = where(dx == 0, f1, f0 + (x - x0) / safe_dx * (f1 - f0))
    f = where(x < xp[0], fp[0] if left is None else left, f)
    return where(x > xp[-1], fp[-1] if right is None else right, f)


def histogram(a, bins=10, range=None, weights=None, density=None):
    """Counts of `a` (flattened) in `bins` equal bins over `range` (default: a's min
    to max), or between the given bin edges; returns (counts, edges). The last bin
    includes its right edge; values outside the range are not counted.

        >>> histogram(array([0., 1., 1., 3.]), bins=3)
        (Array([1., 2., 1.], dtype=float32), Array([0., 1., 2., 3.], dtype=float32))
    """
    check_arraylike('histogram', a)
    a = asarray(a).reshape(-1)
    a = a if dtypes.is_float(a.dtype) else astype(a, dtypes.default_float())
    if isinstance(bins, int):
        lo, hi = (min(a), max(a)) if range is None else range
        hi = where(hi == lo, hi + 1, hi) if range is None else hi   # one value: a bin of width 1
        edges = linspace(lo, hi, bins + 1, dtype=a.dtype)
    else:
        edges = astype(asarray(bins), a.dtype)
    nbins = edges.shape[0] - 1
    w = zeros(a.shape, a.dtype) + 1 if weights is None else astype(asarray(weights).reshape(-1), a.dtype)
    idx = searchsorted(edges, a, side='right')     # 0: below the range, nbins + 1: above
    idx = where(a == edges[-1], nbins, idx)         # the last bin is closed on the right
    counts = zeros(nbins + 2, w.dtype).at[idx].add(w)[1:-1]
    if density:
        widths = edges[1:] - edges[:-1]
        counts = counts / (widths * sum(counts))
    return counts, edges


# --- integers ---------------------------------------------------------------------------

def gcd(x1, x2, /):
    """The greatest common divisor of integers, elementwise (gcd(0, 0) is 0).

        >>> gcd(array([12, -18, 0]), 8)
        Array([4, 2, 8], dtype=int32)
    """
    check_arraylike('gcd', x1, x2)
    x1, x2 = promote(asarray(x1), asarray(x2))
    if not dtypes.is_int(x1.dtype):
        raise TypeError(f"jnp.gcd takes integers, got {x1.dtype.name}.")
    a, b = broadcast_arrays(absolute(x1), absolute(x2))

    def step(ab):   # Euclid: (a, b) -> (b, a mod b) where b is not yet 0
        a, b = ab
        nonzero = b != 0
        return where(nonzero, b, a), where(nonzero, lax.rem(a, where(nonzero, b, 1)), 0)
    a, _ = lax.while_loop(lambda ab: (ab[1] != 0).any(), step, (a, b))
    return a


def lcm(x1, x2, /):
    """The least common multiple of integers, elementwise (0 if either is 0).

        >>> lcm(array([4, 6, 0]), 6)
        Array([12,  6,  0], dtype=int32)
    """
    check_arraylike('lcm', x1, x2)
    d = gcd(x1, x2)
    x1, x2 = promote(asarray(x1), asarray(x2))
    return where(d == 0, 0, absolute(floor_divide(x1, where(d == 0, 1, d)) * x2))


def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """The cross product of 3-vectors (or 2-vectors, giving the z component) along
    the last axis (or `axisa`, `axisb`, `axisc`, or all three at once with `axis`).

        >>> cross(array([1., 0., 0.]), array([0., 1., 0.]))
        Array([0., 0., 1.], dtype=float32)
    """
    check_arraylike('cross', a, b)
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = promote(asarray(a), asarray(b))
    a, b = moveaxis(a, axisa, -1), moveaxis(b, axisb, -1)
    if a.shape[-1] not in (2, 3) or b.shape[-1] not in (2, 3):
        raise ValueError(f"jnp.cross: vectors must have 2 or 3 components, got shapes "
                         f"{a.shape} and {b.shape} (after moving the vector axis last).")
    a0, a1 = a[..., 0], a[..., 1]
    b0, b1 = b[..., 0], b[..., 1]
    if a.shape[-1] == 2 and b.shape[-1] == 2:
        return a0 * b1 - a1 * b0
    a2 = a[..., 2] if a.shape[-1] == 3 else zeros(a0.shape, a.dtype)
    b2 = b[..., 2] if b.shape[-1] == 3 else zeros(b0.shape, b.dtype)
    c = [a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0]
    return moveaxis(stack(c, axis=-1), -1, axisc)
