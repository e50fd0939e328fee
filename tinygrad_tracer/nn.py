"""`tinygrad_tracer.nn`: activations, softmax and friends, and tiny pytree modules.

Everything here is ordinary jnp code, so it works under grad, vmap and jit:

    >>> import tinygrad_tracer.numpy as jnp
    >>> from tinygrad_tracer import nn
    >>> nn.relu(jnp.array([-1.0, 2.0]))
    Array([0., 2.], dtype=float32)

The formulas (and the order of their float32 operations) follow `jax.nn`, so
the printed digits agree. Modules (`Linear`, `Sequential`) are pytrees: their
arrays are leaves, so `grad(loss)(model)` returns a model-shaped tree of
gradients and `optim.apply_updates(model, updates)` a new model.
"""
import numpy as np

from . import lax, random, tree_util
from . import numpy as jnp
from .array import Array
from .core import Tracer

__all__ = ['relu', 'relu6', 'leaky_relu', 'elu', 'selu', 'gelu', 'silu', 'swish', 'sigmoid',
           'log_sigmoid', 'softplus', 'tanh', 'softmax', 'log_softmax', 'logsumexp', 'one_hot',
           'Module', 'Linear', 'Sequential']


# --- activations ----------------------------------------------------------------------------

def _inexact(x):
    x = jnp.asarray(x)
    return x if jnp.issubdtype(x.dtype, jnp.floating) else x.astype(jnp.float32)


def relu(x):
    """max(x, 0); its derivative at 0 is 0 (as in JAX)."""
    x = jnp.asarray(x)
    return jnp.where(x > 0, x, 0)


def relu6(x):
    """min(max(x, 0), 6)."""
    return jnp.minimum(relu(x), 6)


def leaky_relu(x, negative_slope=0.01):
    """x for x >= 0, negative_slope * x below."""
    x = jnp.asarray(x)
    return jnp.where(x >= 0, x, negative_slope * x)


def elu(x, alpha=1.0):
    """x for x > 0, alpha * (exp(x) - 1) below."""
    x = jnp.asarray(x)
    safe_x = jnp.where(x > 0, 0.0, x)   # exp of large positive x would overflow in the unused branch
    return jnp.where(x > 0, x, alpha * jnp.expm1(safe_x))


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(x):
    """Scaled ELU: scale * elu(x, alpha) with the self-normalizing constants.

        >>> selu(jnp.array([-1.0, 1.0]))
        Array([-1.1113307,  1.050701 ], dtype=float32)
    """
    return _SELU_SCALE * elu(x, _SELU_ALPHA)


def gelu(x, approximate=True):
    """Gaussian error linear unit: x * Phi(x). `approximate=True` (the default, as
    jax.nn.gelu) uses the tanh formula; False the exact one with erf."""
    x = _inexact(x)
    if approximate:
        cdf = 0.5 * (1.0 + jnp.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))
        return x * cdf
    return x * (lax.erf(x / np.sqrt(2)) + 1) / 2


def sigmoid(x):
    """1 / (1 + exp(-x)), computed without overflow."""
    return lax.logistic(_inexact(x))


def log_sigmoid(x):
    """log(sigmoid(x)) = -softplus(-x)."""
    return -softplus(-jnp.asarray(x))


def softplus(x):
    """log(1 + exp(x)), without overflow."""
    return jnp.logaddexp(x, 0)


def silu(x):
    """x * sigmoid(x) (also called swish)."""
    x = jnp.asarray(x)
    return x * sigmoid(x)


swish = silu
tanh = jnp.tanh


# --- normalizing over an axis ----------------------------------------------------------------

def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along `axis` (shifted by the maximum, so it never overflows).

        >>> softmax(jnp.array([1.0, 2.0, 3.0]))
        Array([0.09003057, 0.24472848, 0.66524094], dtype=float32)
    """
    x = jnp.asarray(x)
    unnormalized = jnp.exp(x - lax.stop_gradient(x.max(axis, keepdims=True)))
    return unnormalized / unnormalized.sum(axis, keepdims=True)


def log_softmax(x, axis=-1):
    """x - logsumexp(x) along `axis`: log-probabilities."""
    x = jnp.asarray(x)
    shifted = x - lax.stop_gradient(x.max(axis, keepdims=True))
    return shifted - jnp.log(jnp.sum(jnp.exp(shifted), axis, keepdims=True))


def logsumexp(a, axis=None, b=None, keepdims=False):
    """log(sum(b * exp(a))) along `axis`, computed stably (b defaults to 1).

        >>> logsumexp(jnp.array([0.0, 0.0]))     # log(2)
        Array(0.6931472, dtype=float32)
    """
    a = _inexact(a)
    amax = lax.stop_gradient(jnp.max(a, axis, keepdims=True))
    amax = jnp.where(jnp.isfinite(amax), amax, 0)   # all -inf: log(0) = -inf, not nan
    terms = jnp.exp(a - amax) if b is None else jnp.asarray(b) * jnp.exp(a - amax)
    out = jnp.log(jnp.sum(terms, axis, keepdims=True)) + amax
    return out if keepdims else jnp.squeeze(out, tuple(range(a.ndim)) if axis is None else axis)


def one_hot(x, num_classes, dtype=jnp.float32, axis=-1):
    """x's integer classes as one-hot vectors along a new `axis` (out-of-range: all zeros).

        >>> one_hot(jnp.array([0, 2]), 3)
        Array([[1., 0., 0.],
               [0., 0., 1.]], dtype=float32)
    """
    x = jnp.asarray(x)
    hot = jnp.expand_dims(x, -1) == jnp.arange(num_classes, dtype=x.dtype)
    return jnp.moveaxis(hot.astype(dtype), -1, axis)


# --- modules ----------------------------------------------------------------------------------

def _is_param(value):
    """Attributes holding arrays, modules or containers of them are pytree children;
    everything else (sizes, names, activation functions) is static structure."""
    if isinstance(value, (Array, Tracer, np.ndarray, Module)):
        return True
    if isinstance(value, (list, tuple, dict)):
        leaves = tree_util.tree_leaves(value, is_leaf=lambda v: isinstance(v, Module))
        return bool(leaves) and all(_is_param(v) for v in leaves)
    return False


class Module:
    """Base class of pytree modules. Subclasses are registered with tree_util
    automatically: array (and sub-module) attributes are the children, the rest
    is static and must be hashable.

        >>> class Scale(nn.Module):
        ...     def __init__(self, n): self.w, self.n = jnp.ones(n), n
        ...     def __call__(self, x): return self.w * x
        >>> jax.tree.leaves(Scale(2))
        [Array([1., 1.], dtype=float32)]
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        tree_util.register_pytree_node(cls, cls._tree_flatten, cls._tree_unflatten)

    def _tree_flatten(self):
        names = sorted(vars(self))
        children = tuple(n for n in names if _is_param(getattr(self, n)))
        static = tuple((n, getattr(self, n)) for n in names if n not in children)
        return [getattr(self, n) for n in children], (children, static)

    @classmethod
    def _tree_unflatten(cls, aux, values):
        children, static = aux
        module = object.__new__(cls)   # no __init__: it would make new parameters
        vars(module).update(static)
        vars(module).update(zip(children, values))
        return module

    def __repr__(self):
        fields = ', '.join(f"{n}={v!r}" for n, v in sorted(vars(self).items()) if not _is_param(v))
        return f"{type(self).__name__}({fields})"


class Linear(Module):
    """y = x @ weight + bias, with weight of shape (in_features, out_features),
    LeCun-normal initialized (truncated normal with variance 1 / in_features,
    as Flax's Linear) and zero bias.

        >>> layer = nn.Linear(3, 2, key=jax.random.key(0))
        >>> layer(jnp.ones(3)).shape
        (2,)
    """

    def __init__(self, in_features, out_features, *, key, use_bias=True, dtype=jnp.float32):
        self.in_features, self.out_features = int(in_features), int(out_features)
        # The truncated normal on (-2, 2) has variance 0.7737..., hence the correction.
        std = np.sqrt(1.0 / self.in_features) / np.float32(0.87962566103423978)
        self.weight = random.truncated_normal(key, -2.0, 2.0, (self.in_features, self.out_features), dtype) * std
        self.bias = jnp.zeros(self.out_features, dtype) if use_bias else None

    def __call__(self, x):
        y = jnp.asarray(x) @ self.weight
        return y if self.bias is None else y + self.bias


class Sequential(Module):
    """Layers applied in order; a layer is a Module or any function (an activation).

        >>> k1, k2 = jax.random.split(jax.random.key(0))
        >>> mlp = nn.Sequential(nn.Linear(4, 8, key=k1), nn.relu, nn.Linear(8, 1, key=k2))
    """

    def __init__(self, *layers):
        self.layers = list(layers)

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    # Functions among the layers are static; only the modules are children.
    def _tree_flatten(self):
        modules = [layer for layer in self.layers if isinstance(layer, Module)]
        static = tuple(None if isinstance(layer, Module) else layer for layer in self.layers)
        return modules, static

    @classmethod
    def _tree_unflatten(cls, static, modules):
        modules = iter(modules)
        return cls(*[next(modules) if layer is None else layer for layer in static])

    def __repr__(self):
        return f"Sequential({', '.join(getattr(l, '__name__', None) or repr(l) for l in self.layers)})"
