"""Parameter initializers, `init(key, shape, dtype) -> array`, with Flax's defaults.

`lecun_normal` (the default kernel init of Linear and Conv) draws from a
normal truncated at two standard deviations and rescales so that the
variance is 1 / fan_in; the constant .8796... is the standard deviation of a
unit normal truncated to [-2, 2]. The float32 arithmetic follows Flax's, so
the same key gives the same bits.
"""
import numpy as np

from .. import random
from .. import numpy as jnp

__all__ = ['zeros', 'ones', 'constant', 'normal', 'variance_scaling', 'lecun_normal',
           'glorot_uniform', 'xavier_uniform', 'he_normal', 'kaiming_normal']

_TRUNCATED_STD = .87962566103423978   # std of a unit normal truncated to [-2, 2]


def zeros(key, shape, dtype=jnp.float32):
    return jnp.zeros(shape, dtype)


def ones(key, shape, dtype=jnp.float32):
    return jnp.ones(shape, dtype)


def constant(value):
    return lambda key, shape, dtype=jnp.float32: jnp.full(shape, value, dtype)


def normal(stddev=1e-2):
    return lambda key, shape, dtype=jnp.float32: random.normal(key, shape, dtype) * stddev


def variance_scaling(scale, mode, distribution, in_axis=-2, out_axis=-1):
    """Samples with variance scale / n, n the fan in, fan out or their mean.
    For a kernel (..., in, out) every other axis is a receptive field that
    multiplies both fans (a 3x3 conv from 64 channels has fan in 576)."""
    def init(key, shape, dtype=jnp.float32):
        receptive = np.prod(shape) / shape[in_axis] / shape[out_axis]
        fan_in, fan_out = shape[in_axis] * receptive, shape[out_axis] * receptive
        n = {'fan_in': fan_in, 'fan_out': fan_out, 'fan_avg': (fan_in + fan_out) / 2}[mode]
        variance = jnp.array(scale / n, dtype)
        if distribution == 'truncated_normal':
            stddev = jnp.sqrt(variance) / jnp.array(_TRUNCATED_STD, dtype)
            return random.truncated_normal(key, -2, 2, shape, dtype) * stddev
        if distribution == 'normal':
            return random.normal(key, shape, dtype) * jnp.sqrt(variance)
        if distribution == 'uniform':
            return random.uniform(key, shape, dtype, -1) * jnp.sqrt(3 * variance)
        raise ValueError(f"unknown distribution {distribution!r}")
    return init


def lecun_normal(in_axis=-2, out_axis=-1):
    return variance_scaling(1.0, 'fan_in', 'truncated_normal', in_axis, out_axis)


def glorot_uniform(in_axis=-2, out_axis=-1):
    return variance_scaling(1.0, 'fan_avg', 'uniform', in_axis, out_axis)


def he_normal(in_axis=-2, out_axis=-1):
    return variance_scaling(2.0, 'fan_in', 'truncated_normal', in_axis, out_axis)


xavier_uniform = glorot_uniform
kaiming_normal = he_normal
