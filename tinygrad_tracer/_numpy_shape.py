"""jax.numpy, part 1: shapes. Sizes, reshaping, transposing, adding and
removing axes; all of it lowers to `reshape`, `transpose`, `expand_dims` and
`squeeze`. Re-exported by `tinygrad_tracer.numpy`.
"""
import numpy as np

from . import lax
from ._numpy_base import asarray, canon_axes, canon_axis, is_array, shape_tuple
from .core import get_aval

__all__ = ['shape', 'ndim', 'size', 'isscalar', 'iscomplexobj', 'reshape', 'ravel', 'transpose',
           'permute_dims', 'matrix_transpose', 'swapaxes', 'moveaxis', 'expand_dims', 'squeeze',
           'atleast_1d', 'atleast_2d', 'atleast_3d']


# --- shape and size ----------------------------------------------------------------

def shape(a):
    return tuple(get_aval(a).shape) if is_array(a) else np.shape(a)


def ndim(a):
    return len(shape(a))


def size(a, axis=None):
    s = shape(a)
    return int(np.prod(s)) if axis is None else s[axis]


def isscalar(element):
    """True for Python and NumPy scalars and 0-d arrays."""
    return np.isscalar(element) or (is_array(element) and element.ndim == 0)


def iscomplexobj(x):
    return False


def reshape(a, shape=None, order='C', *, newshape=None, copy=None):
    """Same elements in a new shape; one entry may be -1.

        >>> reshape(arange(6), (2, -1))
        Array([[0, 1, 2],
               [3, 4, 5]], dtype=int32)
    """
    shape = newshape if shape is None else shape
    a = asarray(a)
    if order == 'F':   # column-major: reverse the axes on both sides
        return transpose(reshape(transpose(a), shape_tuple(shape, allow_minus_one=True)[::-1]))
    if order != 'C':
        raise ValueError(f"reshape: order must be 'C' or 'F', got {order!r}")
    new = list(shape_tuple(shape, allow_minus_one=True))
    if new.count(-1) > 1:
        raise ValueError("can only specify one unknown dimension (-1) in reshape")
    if -1 in new:
        known = int(np.prod([n for n in new if n != -1]))
        if known == 0 or a.size % known:
            raise TypeError(f"cannot reshape array of shape {a.shape} (size {a.size}) into "
                            f"shape {tuple(new)}")
        new[new.index(-1)] = a.size // known
    return lax.reshape(a, new)


def ravel(a, order='C'):
    return reshape(a, (-1,), order)


def transpose(a, axes=None):
    """The axes of `a` permuted (reversed when `axes` is None)."""
    a = asarray(a)
    if axes is None:
        return lax.transpose(a, tuple(range(a.ndim))[::-1])
    perm = tuple(canon_axis(i, a.ndim) for i in axes)
    if sorted(perm) != list(range(a.ndim)):
        raise ValueError(f"axes {tuple(axes)} is not a permutation of the {a.ndim} axes of {a.shape}")
    return lax.transpose(a, perm)


permute_dims = transpose


def matrix_transpose(x, /):
    """Swap the last two axes."""
    x = asarray(x)
    if x.ndim < 2:
        raise ValueError(f"matrix_transpose needs at least 2 dimensions, got shape {x.shape}")
    return swapaxes(x, -1, -2)


def swapaxes(a, axis1, axis2):
    a = asarray(a)
    perm = list(range(a.ndim))
    i, j = canon_axis(axis1, a.ndim), canon_axis(axis2, a.ndim)
    perm[i], perm[j] = perm[j], perm[i]
    return lax.transpose(a, perm)


def moveaxis(a, source, destination):
    """`a` with the axes `source` moved to positions `destination`."""
    a = asarray(a)
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    if len(src) != len(dst):
        raise ValueError("moveaxis: source and destination must have the same number of elements")
    src = [canon_axis(s, a.ndim) for s in src]
    dst = [canon_axis(d, a.ndim) for d in dst]
    perm = [i for i in range(a.ndim) if i not in src]
    for d, s in sorted(zip(dst, src)):
        perm.insert(d, s)
    return lax.transpose(a, perm)


def expand_dims(a, axis):
    a = asarray(a)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    return lax.expand_dims(a, canon_axes(axes, a.ndim + len(axes)))


def squeeze(a, axis=None):
    """`a` without its axes of size 1 (or only those in `axis`)."""
    a = asarray(a)
    if axis is None:
        axes = [i for i, n in enumerate(a.shape) if n == 1]
    else:
        axes = canon_axes(axis, a.ndim)
        bad = [i for i in axes if a.shape[i] != 1]
        if bad:
            raise ValueError(f"cannot select an axis to squeeze out which has size not equal "
                             f"to one: axis {bad[0]} of shape {a.shape}")
    return lax.squeeze(a, axes) if axes else a


def atleast_1d(*arys):
    out = [reshape(x, (1,)) if ndim(x) == 0 else asarray(x) for x in arys]
    return out[0] if len(out) == 1 else out


def atleast_2d(*arys):
    out = [reshape(x, (1,) * (2 - ndim(x)) + shape(x)) if ndim(x) < 2 else asarray(x) for x in arys]
    return out[0] if len(out) == 1 else out


def atleast_3d(*arys):
    def one(x):
        x = asarray(x)
        return {0: lambda: reshape(x, (1, 1, 1)), 1: lambda: reshape(x, (1, -1, 1)),
                2: lambda: expand_dims(x, -1)}.get(x.ndim, lambda: x)()
    out = [one(x) for x in arys]
    return out[0] if len(out) == 1 else out
