"""`tinygrad_tracer.optim`: the former name of `tinygrad_tracer.optax`, kept as an alias."""
from .optax import *          # noqa: F401,F403
from .optax import __all__    # noqa: F401
