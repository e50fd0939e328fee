"""`pure_callback`, and what the callback primitives do under vmap and jvp.

`pure_callback(f, result_shape_dtypes, *args)` calls the NumPy function `f`
with concrete arrays when the program runs, also under `jit`: a way out of
the tracing world for code we cannot (or do not want to) write with
primitives. Only the declared shapes and dtypes of its results enter the
jaxpr. It has no derivative: wrap it in `custom_jvp` to give it one (as
`scipy.linalg` does for `eigh`, `svd`, ...).

    >>> pure_callback(lambda x: np.sort(x), ShapeDtypeStruct((3,), np.float32), jnp.array([3., 1., 2.]))
    Array([1., 2., 3.], dtype=float32)
"""
from . import lax, tree_util
from .array import as_array
from .batching import batching_rules, moveaxis, not_mapped
from .core import ShapedArray
from .jvp import jvp_rules
from .lax_callback import debug_callback_p, pure_callback_p

__all__ = ['pure_callback']


def pure_callback(callback, result_shape_dtypes, *args, vmap_method='sequential', **kwargs):
    """`callback(*args, **kwargs)` on NumPy arrays at run time; its results (a
    pytree) must match `result_shape_dtypes` (objects with `.shape` and `.dtype`).

    `vmap_method` says what vmap does: 'sequential' calls `callback` once per
    example; 'broadcast_all' calls it once with every argument given the batch
    as a leading axis (for NumPy functions that broadcast, like np.linalg's).
    """
    if vmap_method not in ('sequential', 'broadcast_all'):
        raise ValueError(f"pure_callback: vmap_method must be 'sequential' or 'broadcast_all', "
                         f"got {vmap_method!r}")
    leaves, in_tree = tree_util.tree_flatten((args, kwargs))
    shapes, out_tree = tree_util.tree_flatten(result_shape_dtypes)
    result_avals = tuple(ShapedArray(s.shape, s.dtype) for s in shapes)

    def flat_callback(*values):
        a, k = tree_util.tree_unflatten(in_tree, values)
        return tree_util.tree_leaves(callback(*a, **k))
    outs = pure_callback_p.bind(*map(as_array, leaves), callback=flat_callback,
                                result_avals=result_avals, vmap_method=vmap_method)
    return tree_util.tree_unflatten(out_tree, outs)


# --- rules ----------------------------------------------------------------------------

def _example(v, i):
    """Example `i` of `v`, whose batch axis is the first."""
    return lax.squeeze(lax.slice(v, (i,) + (0,) * (v.ndim - 1), (i + 1,) + v.shape[1:]), (0,))


def _debug_callback_jvp(primals, tangents, callback):
    """Differentiating does not change what is printed: the primal values."""
    debug_callback_p.bind(*primals, callback=callback)
    return [], []


def _debug_callback_batching(axis_size, vals, dims, callback):
    """One call per example, in order: the callback sees unbatched values."""
    vals = [v if d is not_mapped else moveaxis(v, d, 0) for v, d in zip(vals, dims)]
    for i in range(axis_size):
        debug_callback_p.bind(*[v if d is not_mapped else _example(v, i) for v, d in zip(vals, dims)],
                              callback=callback)
    return [], []


def _pure_callback_batching(axis_size, vals, dims, callback, result_avals, vmap_method):
    vals = [v if d is not_mapped else moveaxis(v, d, 0) for v, d in zip(vals, dims)]
    params = dict(callback=callback, vmap_method=vmap_method)
    if vmap_method == 'broadcast_all':
        vals = [v if d is not not_mapped else
                lax.broadcast_in_dim(v, (axis_size,) + v.shape, tuple(range(1, v.ndim + 1)))
                for v, d in zip(vals, dims)]
        avals = tuple(ShapedArray((axis_size,) + a.shape, a.dtype) for a in result_avals)
        outs = pure_callback_p.bind(*vals, result_avals=avals, **params)
        return outs, [0] * len(outs)
    rows = [pure_callback_p.bind(*[v if d is not_mapped else _example(v, i) for v, d in zip(vals, dims)],
                                 result_avals=result_avals, **params)
            for i in range(axis_size)]
    outs = [lax.concatenate([lax.broadcast_in_dim(r[k], (1,) + a.shape, tuple(range(1, a.ndim + 1)))
                             for r in rows], 0)
            for k, a in enumerate(result_avals)]
    return outs, [0] * len(outs)


def _pure_callback_jvp(primals, tangents, **params):
    raise TypeError("pure_callback has no derivative: wrap the function that calls it in "
                    "custom_jvp (or custom_vjp) and give the derivative there.")


jvp_rules[debug_callback_p] = _debug_callback_jvp
jvp_rules[pure_callback_p] = _pure_callback_jvp
batching_rules[debug_callback_p] = _debug_callback_batching
batching_rules[pure_callback_p] = _pure_callback_batching
