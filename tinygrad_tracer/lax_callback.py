"""The callback primitives: Python functions called with concrete values while
a program runs, even a compiled one.

    debug_callback_p  *operands -> ()        callback(*operands), for its effect
    pure_callback_p   *operands -> results   callback(*operands), a NumPy function;
                                             params result_avals, vmap_method

Every other primitive is pure and made of our own operations. These two call
out to Python: each backend runs them as a host step (their NumPy `impl`), in
program order. `debug_callback_p` has no results and is kept for its effect
(printing), so a backend never drops it as dead code. `pure_callback_p`
declares its results' shapes and dtypes (`result_avals`), which is all a
transformation needs to know of it. Their rules (vmap, jvp) and the functions
users call (`pure_callback`, `debug.print`) are in `callbacks.py` and
`debug.py`.

They live beside lax, so a backend recognises them (`eqn.primitive is
debug_callback_p`) without importing the layers above it.
"""
import numpy as np

from .array import Array
from .core import Primitive

debug_callback_p = Primitive('debug_callback', multiple_results=True)
debug_callback_p.__doc__ = "call callback(*operands) on the host when the program runs; no results"
pure_callback_p = Primitive('pure_callback', multiple_results=True)
pure_callback_p.__doc__ = "results = callback(*operands), a NumPy function run on the host"


def _debug_callback_impl(*operands, callback):
    callback(*operands)
    return []


def _pure_callback_impl(*operands, callback, result_avals, vmap_method):
    outs = callback(*[np.asarray(x) for x in operands])
    if len(outs) != len(result_avals) or any(np.shape(o) != a.shape for o, a in zip(outs, result_avals)):
        raise ValueError(f"pure_callback: the callback returned shapes {[np.shape(o) for o in outs]}, "
                         f"but declared {[a.str_short() for a in result_avals]} (result_shape_dtypes).")
    return [Array(np.asarray(o, a.dtype)) for o, a in zip(outs, result_avals)]


debug_callback_p.def_impl(_debug_callback_impl)
debug_callback_p.def_abstract_eval(lambda *avals, callback: [])
pure_callback_p.def_impl(_pure_callback_impl)
pure_callback_p.def_abstract_eval(lambda *avals, callback, result_avals, vmap_method: list(result_avals))
