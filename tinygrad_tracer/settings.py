"""Settings: JAX's options (the `Config` object users know as `tinygrad_tracer.config`)
and our one debug switch, `DEBUG`.

    >>> from tinygrad_tracer import config
    >>> config.update('jax_enable_x64', True)

`DEBUG` (from `TT_DEBUG`, like tinygrad's single `DEBUG`) is read where it is
used, as `settings.DEBUG`, so it may be changed at run time:

    TT_DEBUG=1   each jit trace / retrace with its reason; each equation a
                 compiling backend leaves to its NumPy impl
    TT_DEBUG=2   also each compiled program and kernel (with its compile time)

`CHECK_IMPLS` (on under `TT_DEBUG=1`, and in the test suite) checks every
primitive's NumPy impl result against its abstract evaluation when it runs
eagerly; off by default, since it costs an abstract evaluation per eager op.
(JVP, transpose and batching rule results are always checked.)

This module is not called `config`: the package exports the Config object
under that name, which would hide the module.
"""
import os
import sys


class Config:
    _defaults = {
        'jax_enable_x64': False,              # 64-bit types (finite-difference tests use it)
        'jax_threefry_partitionable': True,   # JAX's current random bit stream
        'jax_default_backend': 'numba',       # what jit(f) runs with: 'numba', 'interpret' or 'cuda'
    }

    def __init__(self):
        # The options are plain instance attributes: every eager op reads one, and a
        # plain attribute read is several times cheaper than a __getattr__ call.
        self.__dict__.update(self._defaults)
        if os.environ.get('JAX_ENABLE_X64', '').lower() in ('1', 'true'):
            self.jax_enable_x64 = True

    def update(self, name, value):
        """Set one option, e.g. `config.update('jax_enable_x64', True)`."""
        if name not in self._defaults:
            raise AttributeError(f"Unknown config option {name!r}; known options: "
                                 f"{', '.join(sorted(self._defaults))}.")
        self.__dict__[name] = value

    def __getattr__(self, name):   # only reached for a name that is not an option
        raise AttributeError(f"Unknown config option {name!r}.")

    def __repr__(self):
        return f"Config({self.__dict__})"


config = Config()

DEBUG = int(os.environ.get('TT_DEBUG', '0') or 0)
CHECK_IMPLS = DEBUG >= 1


def log(msg):
    """Print one line of what DEBUG asked for."""
    print(f"[tinygrad_tracer] {msg}", file=sys.stderr)
