"""`tinygrad_tracer.nnx`: Flax NNX's API, built on tinygrad_tracer's transforms.

    from tinygrad_tracer import nnx      # instead of: from flax import nnx

Models are mutable Python objects (`Module`) holding `Variable`s; `split`
and `merge` turn them into pure (graphdef, state) pairs and back, which is
how `nnx.jit` and `nnx.grad` apply JAX's pure transforms to them (see
graph.py, then transforms.py).
"""
from ..nn import (relu, relu6, leaky_relu, elu, selu, gelu, silu, swish, sigmoid, log_sigmoid,
                  softplus, tanh, softmax, log_softmax, logsumexp, one_hot)
from . import initializers, metrics
from .graph import (Object, Variable, Param, BatchStat, Cache, Intermediate, State, GraphDef,
                    split, merge, state, graphdef, update, clone, iter_graph)
from .module import Module, display
from .rnglib import Rngs, RngStream, RngState, RngKey, RngCount
from .layers import (Linear, Conv, BatchNorm, LayerNorm, Dropout, Embed, Sequential, max_pool,
                     min_pool, avg_pool)
from .transforms import jit, grad, value_and_grad, vmap
from .training import Optimizer, ModelAndOptimizer, OptState
from .metrics import MultiMetric

Pytree = Object
