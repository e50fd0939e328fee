"""The layers: Linear, Conv, BatchNorm, LayerNorm, Dropout, Embed, Sequential,
and the pooling functions. Each is a Module whose arrays are Variables
(`Param` for weights, `BatchStat` for running statistics), created from
`rngs.params()` keys with Flax's initializers, so `Linear(64, 100,
rngs=nnx.Rngs(0))` holds the same bits as Flax's.
"""
import numpy as np

from .. import lax, random
from .. import numpy as jnp
from . import initializers
from .graph import BatchStat, Param
from .module import Module

__all__ = ['Linear', 'Conv', 'BatchNorm', 'LayerNorm', 'Dropout', 'Embed', 'Sequential',
           'max_pool', 'avg_pool', 'min_pool']


class Linear(Module):
    """y = x @ kernel + bias, kernel of shape (in_features, out_features)."""

    def __init__(self, in_features, out_features, *, use_bias=True, dtype=None,
                 param_dtype=jnp.float32, kernel_init=initializers.lecun_normal(),
                 bias_init=initializers.zeros, rngs):
        self.kernel = Param(kernel_init(rngs.params(), (in_features, out_features), param_dtype))
        self.bias = Param(bias_init(rngs.params(), (out_features,), param_dtype)) if use_bias else None
        self.in_features, self.out_features = in_features, out_features
        self.use_bias, self.dtype = use_bias, dtype

    def __call__(self, x):
        y = lax.dot_general(jnp.asarray(x), self.kernel.value, (((x.ndim - 1,), (0,)), ((), ())))
        if self.bias is not None:
            y = y + self.bias.value
        return y


def _tuple(x, n):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,) * n


class Conv(Module):
    """An N-d convolution over channels-last inputs (N, *spatial, features):
    kernel of shape (*kernel_size, in_features // feature_group_count, out_features)."""

    def __init__(self, in_features, out_features, kernel_size, strides=1, *, padding='SAME',
                 input_dilation=1, kernel_dilation=1, feature_group_count=1, use_bias=True,
                 dtype=None, param_dtype=jnp.float32, kernel_init=initializers.lecun_normal(),
                 bias_init=initializers.zeros, rngs):
        kernel_size = _tuple(kernel_size, 1)
        if in_features % feature_group_count:
            raise ValueError(f"in_features {in_features} is not a multiple of "
                             f"feature_group_count {feature_group_count}")
        self.kernel_shape = kernel_size + (in_features // feature_group_count, out_features)
        self.kernel = Param(kernel_init(rngs.params(), self.kernel_shape, param_dtype))
        self.bias = Param(bias_init(rngs.params(), (out_features,), param_dtype)) if use_bias else None
        self.in_features, self.out_features = in_features, out_features
        self.kernel_size, self.strides, self.padding = kernel_size, strides, padding
        self.input_dilation, self.kernel_dilation = input_dilation, kernel_dilation
        self.feature_group_count, self.use_bias, self.dtype = feature_group_count, use_bias, dtype

    def __call__(self, x):
        x = jnp.asarray(x)
        n = len(self.kernel_size)
        unbatched = x.ndim == n + 1
        if unbatched:
            x = x[None]
        padding = self.padding
        if not isinstance(padding, str):
            padding = [_tuple(p, 2) for p in _tuple(padding, n)]
        spatial = ''.join('HWDXYZ'[:n])
        y = lax.conv_general_dilated(
            x, self.kernel.value, _tuple(self.strides, n), padding,
            lhs_dilation=_tuple(self.input_dilation, n), rhs_dilation=_tuple(self.kernel_dilation, n),
            dimension_numbers=('N' + spatial + 'C', spatial + 'IO', 'N' + spatial + 'C'),
            feature_group_count=self.feature_group_count)
        if self.bias is not None:
            y = y + self.bias.value
        return y[0] if unbatched else y


def _normalize(x, mean, var, scale, bias, epsilon, feature_axes):
    """(x - mean) * rsqrt(var + eps) * scale + bias, in Flax's order of operations."""
    shape = [x.shape[a] if a in feature_axes else 1 for a in range(x.ndim)]
    y = x - mean.reshape(shape)
    mul = lax.rsqrt(var + epsilon)
    if scale is not None:
        mul = mul * scale
    y = y * mul.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


def _moments(x, axes):
    """Mean and (fast) variance E[x^2] - E[x]^2 over `axes`, clipped at zero."""
    mean = jnp.mean(x, axes)
    mean2 = jnp.mean(lax.square(x), axes)
    return mean, jnp.maximum(0.0, mean2 - lax.square(mean))


class BatchNorm(Module):
    """Normalize each feature over the batch (and spatial) axes.

    In training mode (`use_running_average=False`, after `model.train()`) it
    uses the batch's statistics and moves the running ones towards them:
    `running = momentum * running + (1 - momentum) * batch`. In evaluation
    mode (`model.eval()`) it uses the running statistics.
    """

    def __init__(self, num_features, *, use_running_average=False, axis=-1, momentum=0.99,
                 epsilon=1e-5, dtype=None, param_dtype=jnp.float32, use_bias=True, use_scale=True,
                 bias_init=initializers.zeros, scale_init=initializers.ones, rngs):
        self.mean = BatchStat(jnp.zeros((num_features,), param_dtype))
        self.var = BatchStat(jnp.ones((num_features,), param_dtype))
        self.scale = Param(scale_init(rngs.params(), (num_features,), param_dtype)) if use_scale else None
        self.bias = Param(bias_init(rngs.params(), (num_features,), param_dtype)) if use_bias else None
        self.num_features, self.use_running_average, self.axis = num_features, use_running_average, axis
        self.momentum, self.epsilon, self.dtype = momentum, epsilon, dtype

    def __call__(self, x, use_running_average=None):
        x = jnp.asarray(x)
        if use_running_average is None:
            use_running_average = self.use_running_average
        feature_axes = (self.axis % x.ndim,)
        if use_running_average:
            mean, var = self.mean.value, self.var.value
        else:
            mean, var = _moments(x, tuple(a for a in range(x.ndim) if a not in feature_axes))
            m = self.momentum
            self.mean.value = m * self.mean.value + (1 - m) * mean
            self.var.value = m * self.var.value + (1 - m) * var
        return _normalize(x, mean, var, None if self.scale is None else self.scale.value,
                          None if self.bias is None else self.bias.value, self.epsilon, feature_axes)


class LayerNorm(Module):
    """Normalize each example over its last axis (features), then scale and shift."""

    def __init__(self, num_features, *, epsilon=1e-6, dtype=None, param_dtype=jnp.float32,
                 use_bias=True, use_scale=True, bias_init=initializers.zeros,
                 scale_init=initializers.ones, rngs):
        self.scale = Param(scale_init(rngs.params(), (num_features,), param_dtype)) if use_scale else None
        self.bias = Param(bias_init(rngs.params(), (num_features,), param_dtype)) if use_bias else None
        self.num_features, self.epsilon, self.dtype = num_features, epsilon, dtype

    def __call__(self, x):
        x = jnp.asarray(x)
        mean, var = _moments(x, (x.ndim - 1,))
        y = x - mean[..., None]
        mul = lax.rsqrt(var + self.epsilon)[..., None]
        if self.scale is not None:
            mul = mul * self.scale.value
        y = y * mul
        if self.bias is not None:
            y = y + self.bias.value
        return y


class Dropout(Module):
    """Zero each value with probability `rate` and scale the rest by 1 / (1 - rate),
    in training mode; the identity when `deterministic` (after `model.eval()`).
    The keys come from the `rng_collection` stream of the Rngs given here or
    at the call."""

    def __init__(self, rate, *, deterministic=False, rng_collection='dropout', rngs=None):
        self.rate, self.deterministic, self.rng_collection = rate, deterministic, rng_collection
        self.rngs = rngs

    def __call__(self, x, *, deterministic=None, rngs=None):
        x = jnp.asarray(x)
        deterministic = self.deterministic if deterministic is None else deterministic
        if deterministic or self.rate == 0:
            return x
        if self.rate == 1:
            return jnp.zeros_like(x)
        rngs = rngs if rngs is not None else self.rngs
        if rngs is None:
            raise ValueError("Dropout in training mode needs random keys: pass rngs=nnx.Rngs(...) "
                             "to Dropout or to the call, or call model.eval()")
        keep = random.bernoulli(rngs[self.rng_collection](), 1.0 - self.rate, x.shape)
        return jnp.where(keep, x / (1.0 - self.rate), 0.0)


class Embed(Module):
    """A table of `num_embeddings` vectors of size `features`: `embed(ids)` looks rows up."""

    def __init__(self, num_embeddings, features, *, dtype=None, param_dtype=jnp.float32,
                 embedding_init=initializers.variance_scaling(1.0, 'fan_in', 'normal', out_axis=0),
                 rngs):
        self.embedding = Param(embedding_init(rngs.params(), (num_embeddings, features), param_dtype))
        self.num_embeddings, self.features, self.dtype = num_embeddings, features, dtype

    def __call__(self, ids):
        return jnp.take(self.embedding.value, jnp.asarray(ids), axis=0)

    def attend(self, query):
        """query @ embedding.T: scores against every row (weight tying)."""
        return jnp.asarray(query) @ self.embedding.value.T


class Sequential(Module):
    """Call the layers one after the other (any callables: modules or functions)."""

    def __init__(self, *layers):
        self.layers = list(layers)

    def __call__(self, *args, **kwargs):
        for i, layer in enumerate(self.layers):
            out = layer(*args, **kwargs) if i == 0 else layer(out)
        return out if self.layers else (args[0] if len(args) == 1 else args)


# --- pooling ------------------------------------------------------------------------------

def _pool(x, init, reducer, window_shape, strides, padding):
    """Reduce each window over the spatial axes of (N, *spatial, C) (or unbatched)."""
    x = jnp.asarray(x)
    n = len(window_shape)
    strides = tuple(strides) if strides is not None else (1,) * n
    lead = x.ndim - n - 1   # batch axes before the spatial ones
    dims = (1,) * lead + tuple(window_shape) + (1,)
    steps = (1,) * lead + strides + (1,)
    if not isinstance(padding, str):
        padding = ((0, 0),) * lead + tuple(tuple(p) for p in padding) + ((0, 0),)
    return lax.reduce_window(x, init, reducer, dims, steps, padding)


def max_pool(x, window_shape, strides=None, padding='VALID'):
    """The maximum of each window (channels last)."""
    return _pool(x, -jnp.inf, lax.max, window_shape, strides, padding)


def min_pool(x, window_shape, strides=None, padding='VALID'):
    """The minimum of each window (channels last)."""
    return _pool(x, jnp.inf, lax.min, window_shape, strides, padding)


def avg_pool(x, window_shape, strides=None, padding='VALID', count_include_pad=True):
    """The mean of each window (channels last); padded cells count as zeros
    unless `count_include_pad=False`."""
    x = jnp.asarray(x)
    sums = _pool(x, 0.0, lax.add, window_shape, strides, padding)
    if count_include_pad or padding == 'VALID':
        return sums / np.prod(window_shape)
    counts = _pool(jnp.ones(x.shape[-len(window_shape) - 1:-1] + (1,), x.dtype), 0.0, lax.add,
                   window_shape, strides, padding)
    return sums / counts
