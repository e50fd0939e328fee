"""jax.numpy, part 7: products and contractions (`dot`, `matmul`, `tensordot`,
`einsum`, ...), diagonals, triangles and `jnp.linalg.norm`. All products lower to the one
`dot_general` primitive. Re-exported by `tinygrad_tracer.numpy`.
"""
import builtins
import types

import numpy as np

from . import dtypes, lax
from ._numpy_arrange import pad
from ._numpy_base import (asarray, astype, broadcast_shapes, broadcast_to, canon_axes, canon_axis,
                          check_arraylike, promote)
from ._numpy_creation import zeros, zeros_like
from ._numpy_elementwise import absolute, multiply, power, sqrt, where
from ._numpy_reduce import max, min, sum
from ._numpy_shape import matrix_transpose, moveaxis, ravel, reshape, squeeze
from .array import Array

__all__ = ['matmul', 'dot', 'vdot', 'vecdot', 'inner', 'outer', 'kron', 'tensordot', 'einsum',
           'trace', 'diagonal', 'diag', 'tril', 'triu', 'linalg']


def _contract(a, b, a_axes, b_axes, batch=((), ()), preferred_element_type=None):
    return lax.dot_general(a, b, ((tuple(a_axes), tuple(b_axes)), tuple(map(tuple, batch))),
                           preferred_element_type)


def _mismatch(a, b, i, j, what):
    return TypeError(f"{what}: contracting dimensions must have the same size, got "
                     f"{a.shape[i]} (axis {i} of {a.shape}) and {b.shape[j]} (axis {j} of "
                     f"{b.shape}).")


def matmul(a, b, *, preferred_element_type=None):
    """Matrix product with NumPy's rules for 1-d and batched (>2-d) operands.

        >>> matmul(ones((2, 3)), ones(3))
        Array([3., 3.], dtype=float32)
    """
    check_arraylike('matmul', a, b)
    a, b = promote(a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("matmul: operands must have at least one dimension; use * for scalars")
    ka, kb = a.ndim - 1, builtins.max(b.ndim - 2, 0)
    if a.shape[ka] != b.shape[kb]:
        raise _mismatch(a, b, ka, kb, f"matmul of {a.shape} and {b.shape}")
    if b.ndim == 1 or (a.ndim == 1 and b.ndim == 2):   # no batch axes: one contraction
        return _contract(a, b, (ka,), (kb,), preferred_element_type=preferred_element_type)
    va = a.ndim == 1
    a = reshape(a, (1,) + a.shape) if va else a
    batch = broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = broadcast_to(a, batch + a.shape[-2:])
    b = broadcast_to(b, batch + b.shape[-2:])
    nb = len(batch)
    out = _contract(a, b, (nb + 1,), (nb,), (range(nb), range(nb)), preferred_element_type)
    return squeeze(out, -2) if va else out


def dot(a, b, *, preferred_element_type=None):
    """NumPy's dot: sums over a's last axis and b's second-to-last (scalars multiply)."""
    check_arraylike('dot', a, b)
    a, b = promote(a, b)
    if a.ndim == 0 or b.ndim == 0:
        return multiply(a, b)
    kb = builtins.max(b.ndim - 2, 0)
    if a.shape[-1] != b.shape[kb]:
        raise _mismatch(a, b, a.ndim - 1, kb, f"dot of {a.shape} and {b.shape}")
    return _contract(a, b, (a.ndim - 1,), (kb,), preferred_element_type=preferred_element_type)


def vdot(a, b):
    """The dot product of the flattened arrays."""
    return dot(ravel(a), ravel(b))


def vecdot(x1, x2, /, *, axis=-1):
    """Dot products of vectors along `axis`, broadcasting the other axes."""
    x1, x2 = promote(x1, x2)
    return sum(multiply(x1, x2), axis=axis)


def inner(a, b):
    """Sum over the last axes of a and b."""
    a, b = promote(a, b)
    if a.ndim == 0 or b.ndim == 0:
        return multiply(a, b)
    if a.shape[-1] != b.shape[-1]:
        raise _mismatch(a, b, a.ndim - 1, b.ndim - 1, f"inner of {a.shape} and {b.shape}")
    return _contract(a, b, (a.ndim - 1,), (b.ndim - 1,))


def outer(a, b):
    """out[i, j] = a[i] * b[j] of the flattened arrays."""
    a, b = ravel(asarray(a)), ravel(asarray(b))
    return multiply(reshape(a, (-1, 1)), reshape(b, (1, -1)))


def kron(a, b):
    """The Kronecker product: blocks a[i, j] * b."""
    a, b = promote(a, b)
    nd = builtins.max(a.ndim, b.ndim)
    a = reshape(a, (1,) * (nd - a.ndim) + a.shape)
    b = reshape(b, (1,) * (nd - b.ndim) + b.shape)
    # Interleave the axes: (a0, b0, a1, b1, ...), then merge each pair.
    prod = multiply(reshape(a, [x for n in a.shape for x in (n, 1)]),
                    reshape(b, [x for n in b.shape for x in (1, n)]))
    return reshape(prod, [m * n for m, n in zip(a.shape, b.shape)])


def tensordot(a, b, axes=2, *, preferred_element_type=None):
    """Sum over the last `axes` axes of a and the first of b, or over the
    explicit pair of axis lists `axes=(a_axes, b_axes)`."""
    a, b = promote(a, b)
    if isinstance(axes, int):
        if axes < 0 or axes > builtins.min(a.ndim, b.ndim):
            raise ValueError(f"tensordot: axes={axes} out of range for shapes {a.shape} and {b.shape}")
        la, lb = tuple(range(a.ndim - axes, a.ndim)), tuple(range(axes))
    else:
        try:
            la, lb = axes
        except (TypeError, ValueError):
            raise TypeError(f"tensordot: axes must be an int or a pair of axis lists, got {axes!r}") from None
        la = (la,) if isinstance(la, int) else tuple(la)
        lb = (lb,) if isinstance(lb, int) else tuple(lb)
        if len(la) != len(lb):
            raise TypeError(f"tensordot: axes {axes!r} name different numbers of axes for a and b")
    la = tuple(canon_axis(i, a.ndim) for i in la)
    lb = tuple(canon_axis(i, b.ndim) for i in lb)
    for i, j in zip(la, lb):
        if a.shape[i] != b.shape[j]:
            raise _mismatch(a, b, i, j, f"tensordot of {a.shape} and {b.shape}")
    return _contract(a, b, la, lb, preferred_element_type=preferred_element_type)


# --- einsum --------------------------------------------------------------------------------

def einsum(subscripts, *operands, optimize=None, preferred_element_type=None):
    """Einstein summation: each letter names an axis; letters missing from the
    output are summed over. Any number of operands, `...` for broadcast axes.

        >>> einsum('ij,jk->ik', a, b)    # matmul
        >>> einsum('bi,bi->b', x, y)     # batched dot products
        >>> einsum('ii->i', m)           # diagonal

    Operands are combined left to right, each step one `dot_general` whose
    batch axes are the letters still needed later and whose contracting axes
    are the letters used up.
    """
    ops = [asarray(o) for o in operands]
    ops = promote(*ops) if len(ops) > 1 else ops
    ins, out = _parse_einsum(subscripts, ops)
    sizes = _einsum_sizes(ins, ops)
    ops = [_broadcast_labels(o, s, sizes) for o, s in zip(ops, ins)]
    terms = []
    for k, (o, s) in enumerate(zip(ops, ins)):
        others = out + ''.join(ins[:k] + ins[k + 1:])
        terms.append(_einsum_prepare(o, s, others))
    x, xs = terms[0]
    for k, (y, ys) in enumerate(terms[1:], start=1):
        later = out + ''.join(s for _, s in terms[k + 1:])
        shared = [c for c in xs if c in ys]
        batch = [c for c in shared if c in later]
        contract = [c for c in shared if c not in later]
        x = _contract(x, y, [xs.index(c) for c in contract], [ys.index(c) for c in contract],
                      ([xs.index(c) for c in batch], [ys.index(c) for c in batch]),
                      preferred_element_type)
        xs = ''.join(batch) + ''.join(c for c in xs if c not in shared) + \
            ''.join(c for c in ys if c not in shared)
    x, xs = _einsum_prepare(x, xs, out)   # a single operand may still sum axes away
    return lax.transpose(x, [xs.index(c) for c in out])


def _parse_einsum(subscripts, ops):
    """(input label strings, output label string), with `...` expanded into
    fresh upper-case letters (right-aligned across operands, as broadcasting)."""
    spec = subscripts.replace(' ', '')
    ins, arrow, out = spec.partition('->')
    ins = ins.split(',')
    if len(ins) != len(ops):
        raise ValueError(f"einsum: '{subscripts}' names {len(ins)} operands but {len(ops)} were given")
    for s in ins + [out]:
        bad = set(s) - set('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.')
        if bad or s.replace('...', '').count('.'):
            raise ValueError(f"einsum: invalid subscripts '{subscripts}': use letters and '...'")
    fresh = [c for c in 'ZYXWVUTSRQPONMLKJIHGFEDCBA' if c not in spec]
    n_ell = builtins.max([o.ndim - len(s.replace('...', '')) for s, o in zip(ins, ops) if '...' in s] or [0])
    ell = ''.join(fresh[:n_ell][::-1])
    expanded = []
    for s, o in zip(ins, ops):
        if '...' in s:
            k = o.ndim - len(s.replace('...', ''))
            s = s.replace('...', ell[n_ell - k:] if k else '')
        if len(s) != o.ndim:
            raise ValueError(f"einsum: operand '{s}' has {len(s)} labels but {o.ndim} dimensions "
                             f"(shape {o.shape})")
        expanded.append(s)
    if arrow:
        out = out.replace('...', ell)
        missing = set(out) - set(''.join(expanded))
        if missing or len(set(out)) != len(out):
            raise ValueError(f"einsum: output '{out}' repeats a label or names one that no "
                             "operand has")
    else:   # implicit output: broadcast axes, then the letters used exactly once, sorted
        letters = ''.join(expanded)
        out = ell + ''.join(sorted(c for c in set(letters) if letters.count(c) == 1 and c not in ell))
    return expanded, out


def _einsum_sizes(ins, ops):
    sizes = {}
    for s, o in zip(ins, ops):
        for c, n in zip(s, o.shape):
            prev = sizes.get(c, 1)
            if prev != 1 and n != 1 and prev != n:
                raise ValueError(f"einsum: label '{c}' has sizes {prev} and {n} in different operands")
            if prev == 1:
                sizes[c] = n
    return sizes


def _broadcast_labels(x, spec, sizes):
    """Stretch size-1 axes to the label's size (for `...` broadcasting)."""
    target = tuple(sizes[c] for c in spec)
    return x if x.shape == target else broadcast_to(x, target)


def _einsum_prepare(x, spec, keep):
    """Take diagonals for repeated letters, and sum away letters not in `keep`."""
    for c in dict.fromkeys(spec):
        while spec.count(c) > 1:
            i = spec.index(c)
            j = spec.index(c, i + 1)
            x = diagonal(x, 0, i, j)   # the shared axis moves to the end
            spec = ''.join(l for k, l in enumerate(spec) if k not in (i, j)) + c
    gone = [i for i, c in enumerate(spec) if c not in keep]
    if gone:
        x = lax.reduce_sum(x, gone)
        spec = ''.join(c for c in spec if c in keep)
    return x, spec


# --- diagonals and triangles -----------------------------------------------------------------

def diagonal(a, offset=0, axis1=0, axis2=1):
    """The entries a[..., i, i + offset, ...] of two axes, as a new last axis."""
    a = asarray(a)
    ax1, ax2 = canon_axis(axis1, a.ndim), canon_axis(axis2, a.ndim)
    if ax1 == ax2:
        raise ValueError("diagonal: axis1 and axis2 must be different")
    a = moveaxis(a, (ax1, ax2), (-2, -1))
    n, m = a.shape[-2], a.shape[-1]
    rows = np.arange(builtins.max(0, -offset), builtins.max(builtins.min(n, m - offset), 0))
    return a[..., Array(rows.astype(np.int32)), Array((rows + offset).astype(np.int32))]


def trace(a, offset=0, axis1=0, axis2=1, dtype=None):
    """The sum along a diagonal."""
    return sum(diagonal(a, offset, axis1, axis2), axis=-1, dtype=dtype)


def diag(v, k=0):
    """The k-th diagonal of a 2-d array, or a 2-d array with v on its k-th diagonal."""
    v = asarray(v)
    if v.ndim == 2:
        return diagonal(v, k)
    if v.ndim != 1:
        raise ValueError(f"diag needs a 1-d or 2-d array, got shape {v.shape}")
    n = v.shape[0] + builtins.abs(k)
    # Row i, column j holds vpad[j] when j - i == k: pad v so its entries sit in columns.
    vpad = pad(v, (builtins.max(k, 0), builtins.max(-k, 0)))
    return where(Array(np.eye(n, n, k, dtype=bool)), broadcast_to(vpad, (n, n)), zeros((n, n), v.dtype))


def tril(m, k=0):
    """`m` with the entries above the k-th diagonal zeroed (on the last two axes)."""
    m = asarray(m)
    return where(Array(np.tri(m.shape[-2], m.shape[-1], k, dtype=bool)), m, zeros_like(m))


def triu(m, k=0):
    """`m` with the entries below the k-th diagonal zeroed (on the last two axes)."""
    m = asarray(m)
    return where(Array(np.tri(m.shape[-2], m.shape[-1], k - 1, dtype=bool)), zeros_like(m), m)


# --- jnp.linalg ----------------------------------------------------------------------------------

def norm(x, ord=None, axis=None, keepdims=False):
    """Vector norms (ord None/2, 1, inf, -inf, 0, p) and matrix norms ('fro', 1,
    inf, -1, -inf) of `x`; the 2-norm of the flattened array by default.

        >>> linalg.norm(array([3., 4.]))
        Array(5., dtype=float32)
    """
    x = asarray(x)
    if not dtypes.is_float(x.dtype):
        x = astype(x, dtypes.default_float())
    if axis is None and ord is None:
        return sqrt(sum(x * x, keepdims=keepdims))
    axes = canon_axes(axis if axis is not None else tuple(range(x.ndim)), x.ndim)
    if len(axes) == 1:
        if isinstance(ord, str):
            raise ValueError(f"linalg.norm: invalid order {ord!r} for a vector norm (use None, "
                             "a number, inf or -inf; 'fro' and 'nuc' are matrix norms).")
        if ord is None or ord == 2:
            return sqrt(sum(x * x, axes, keepdims=keepdims))
        if ord in (np.inf, -np.inf):
            return (max if ord > 0 else min)(absolute(x), axes, keepdims=keepdims)
        if ord == 0:
            return sum(astype(x != 0, x.dtype), axes, keepdims=keepdims)
        return power(sum(power(absolute(x), float(ord)), axes, keepdims=keepdims), 1.0 / ord)
    if len(axes) == 2:
        # the order matters, as in NumPy: axis=(1, 0) makes axis 1 the rows
        r, c = (axes if axis is None else [canon_axis(a, x.ndim) for a in axis])
        if ord in (None, 'fro'):
            return sqrt(sum(x * x, axes, keepdims=keepdims))
        if ord in (1, -1, np.inf, -np.inf):
            # 1: the largest column sum of |x|; inf: the largest row sum (-1, -inf: smallest).
            summed, other = (r, c) if ord in (1, -1) else (c, r)
            sums = sum(absolute(x), summed, keepdims=True)
            out = (max if ord > 0 else min)(sums, other, keepdims=True)
            return out if keepdims else squeeze(out, axes)
        raise ValueError(f"linalg.norm: matrix ord={ord!r} is not supported (use None, 'fro', "
                         "1, -1, inf or -inf; the 2-norm needs an SVD).")
    raise ValueError(f"linalg.norm: axis must name 1 or 2 axes, got {axis!r}")


linalg = types.SimpleNamespace(norm=norm, matrix_transpose=matrix_transpose, vecdot=vecdot)
