"""`tinygrad_tracer.config`: global switches, set like JAX's.

    >>> from tinygrad_tracer import config
    >>> config.update('jax_enable_x64', True)
"""
import os


class Config:
    _defaults = {
        'jax_enable_x64': False,              # 64-bit types (finite-difference tests use it)
        'jax_threefry_partitionable': True,   # JAX's current random bit stream
        'jax_default_backend': 'numba',       # what jit(f) runs with: 'numba', 'interpret' or 'cuda'
    }

    def __init__(self):
        self._values = dict(self._defaults)
        if os.environ.get('JAX_ENABLE_X64', '').lower() in ('1', 'true'):
            self._values['jax_enable_x64'] = True

    def update(self, name, value):
        """Set one option, e.g. `config.update('jax_enable_x64', True)`."""
        if name not in self._values:
            raise AttributeError(f"Unknown config option {name!r}; known options: "
                                 f"{', '.join(sorted(self._values))}.")
        self._values[name] = value

    def __getattr__(self, name):
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"Unknown config option {name!r}.") from None

    def __repr__(self):
        return f"Config({self._values})"


config = Config()

# TT_DEBUG=1 prints each trace/retrace, TT_DEBUG=2 also each compiled kernel.
DEBUG = int(os.environ.get('TT_DEBUG', '0') or 0)
