"""`nnx.Rngs`: named streams of random keys, as mutable state.

A stream holds a root key and a counter; each call returns
`random.fold_in(key, count)` and increments the counter. The counter is a
Variable, so when an `Rngs` goes through `nnx.jit`, the increments made
inside come back out, and the next call draws fresh keys.

    rngs = nnx.Rngs(0)              # a 'default' stream from seed 0
    rngs = nnx.Rngs(0, dropout=1)   # plus a 'dropout' stream
    rngs.params()                   # no 'params' stream: falls back to 'default'
"""
from .. import random
from .. import numpy as jnp
from .graph import Object, Variable

__all__ = ['Rngs', 'RngStream', 'RngKey', 'RngCount', 'RngState']


class RngState(Variable):
    """The state of a random stream."""


class RngKey(RngState):
    """A stream's root key."""


class RngCount(RngState):
    """How many keys a stream has handed out (uint32)."""


class RngStream(Object):
    def __init__(self, key, tag):
        if not hasattr(key, 'dtype') or jnp.issubdtype(key.dtype, jnp.integer) and key.ndim == 0:
            key = random.key(key)
        self.tag = tag
        self.key = RngKey(key, tag=tag)
        self.count = RngCount(jnp.zeros((), jnp.uint32), tag=tag)

    def __call__(self):
        key = random.fold_in(self.key.value, self.count.value)
        self.count.value = self.count.value + 1
        return key


class Rngs(Object):
    """Named random streams; `rngs.name()` (or `rngs['name']()`) draws a key,
    from the 'default' stream when there is no stream of that name."""

    def __init__(self, default=None, **streams):
        if default is not None:
            streams['default'] = default
        for name, seed in streams.items():
            setattr(self, name, RngStream(seed, name))

    def __getattr__(self, name):
        # Only called for missing attributes: an unknown stream uses 'default'.
        if name.startswith('__') or 'default' not in vars(self):
            raise AttributeError(f"Rngs has no stream {name!r} and no 'default' stream")
        return vars(self)['default']

    def __getitem__(self, name):
        return getattr(self, name)

    def __call__(self):
        return self.default()
