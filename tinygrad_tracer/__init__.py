"""tinygrad_tracer: the core of JAX, small enough to read.

    import tinygrad_tracer as jax
    import tinygrad_tracer.numpy as jnp

    jax.grad(lambda x: jnp.sin(x) * 2)(1.0)     # Array(1.0806046, dtype=float32, weak_type=True)
"""
from .settings import config
from . import dtypes, tree_util, lax, numpy
from . import control_flow   # installs lax.cond, lax.scan, ... (see control_flow/__init__.py)
from .array import Array, Device, default_backend
from .device_array import devices, device_put, device_get
from .core import ShapedArray, ConcreteArray
from .tree_util import tree_namespace as tree
from .batching import vmap
from .jit import jit, eval_shape
from . import device_eval   # eager ops on GPU arrays run on the GPU (device_eval.py)
from .jaxpr import make_jaxpr, named_scope, ShapeDtypeStruct
from .api import grad, value_and_grad, jvp, vjp, linearize, jacfwd, jacrev, jacobian, hessian
from .custom_derivatives import custom_jvp, custom_vjp
from . import ad_checkpoint
from .ad_checkpoint import checkpoint, remat, checkpoint_policies
from . import errors, random
from . import debug, test_util, typing
from .callbacks import pure_callback
from . import nn, optax, optim

__version__ = '0.1.0'
