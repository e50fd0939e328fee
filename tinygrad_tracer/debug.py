"""`jax.debug`: print and inspect values *while the program runs*, under any
transformation.

A plain `print(x)` inside `jit` runs once, while tracing, and shows a tracer
(`JitTracer(float32[3])`). `debug.print` instead binds `debug_callback_p`
(see `lax_callback.py`), which the jaxpr keeps and every backend runs as a host
step, so the values print each time the compiled function is called::

    >>> @jit
    ... def f(x):
    ...     debug.print("x = {}", x)
    ...     return x * 2
    >>> f(jnp.arange(3.))        # prints: x = [0. 1. 2.]

Under the other transformations the primitive's rules below decide what runs:
`jvp` and `grad` print the primal values (tangents are not passed on), and
`vmap` calls the callback once per example, in order (rules in `callbacks.py`).
"""
import builtins

import numpy as np

from . import callbacks, tree_util   # noqa: F401  (callbacks: the primitive's rules)
from .array import Array, as_array
from .lax_callback import debug_callback_p

__all__ = ['print', 'callback']


def callback(callback, *args, **kwargs):
    """Call `callback(*args, **kwargs)` with the concrete values when the program
    runs (under jit, each call of the compiled function). `args` may be pytrees;
    the callback receives them as Arrays. It returns nothing.

        >>> debug.callback(lambda x: print(x.sum()), jnp.ones(3))    # prints 3.0
    """
    leaves, treedef = tree_util.tree_flatten((args, kwargs))

    def flat_callback(*values):
        a, k = tree_util.tree_unflatten(treedef, [Array(np.asarray(v)) for v in values])
        callback(*a, **k)
    debug_callback_p.bind(*map(as_array, leaves), callback=flat_callback)


def print(fmt, *args, **kwargs):   # noqa: A001  (jax.debug.print shadows print here)
    """`print(fmt.format(*args, **kwargs))` with the values the program computes,
    at run time (see the module docstring).

        >>> debug.print("x = {x}, y = {}", jnp.ones(2), x=1.0)   # prints: x = 1.0, y = [1. 1.]
    """
    callback(lambda *a, **k: builtins.print(fmt.format(*a, **k)), *args, **kwargs)
