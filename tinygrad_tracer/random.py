"""`tinygrad_tracer.random`: JAX's random numbers, bit for bit.

JAX keeps no hidden random state. A *key* names a stream of random bits; you
`split` a key into fresh keys and give each sampler its own:

    >>> key = random.key(0)
    >>> key, sub = random.split(key)
    >>> random.uniform(sub, (3,))
    Array([0.00729382, 0.02089119, 0.5814265 ], dtype=float32)

Keys and raw bits come from `prng.py` (the threefry2x32 hash; `key`,
`split`, `fold_in`, `bits` are re-exported here). This module turns bits
into numbers: `uniform` puts 23 random bits in the mantissa of a float in
[1, 2) and subtracts 1; `normal` applies the inverse error function to a
uniform sample on (-1, 1); and so on.

Outputs equal JAX's bit for bit (jax 0.10.2 on the CPU) for the same key,
shape and dtype, checked in tests/test_random.py against values recorded
from JAX. That takes JAX's exact recipes *and* XLA's float32 rounding:
`lax.erf_inv`, `lax.log`, `lax.erf` evaluate XLA's own polynomials, and
`lax.fma` makes the single rounding of the fused multiply-add XLA:CPU uses
inside `uniform` (see `xla_math`).

JAX has two bit streams and so do we, picked by a config flag:

    >>> from tinygrad_tracer import config
    >>> config.update('jax_threefry_partitionable', False)   # older JAX
    >>> random.split(random.PRNGKey(0))
    Array([[4146024105,  967050713],
           [2718843009, 1272950319]], dtype=uint32)
    >>> config.update('jax_threefry_partitionable', True)    # back to the default

True (the default, as in current JAX) counts with a 64-bit counter per
output element; False is the stream of JAX before 0.5, whose numbers fill
older tutorials. Everything here is built from lax primitives, so samplers
trace, `vmap` and `jit` like any other code.
"""
import math
from collections.abc import Sequence

import numpy as np

from . import dtypes, lax
from . import numpy as jnp
from .array import Array
from .core import get_aval
from .prng import (PRNGKey, PRNGKeyArray, KeyDType, bits, clone, fold_in, key, key_data,
                   split, threefry2x32, threefry_2x32, wrap_key_data)
from .prng import UINT_DTYPES, canonical_shape, constant, random_bits, split_in_two, unwrap_key

__all__ = ['PRNGKey', 'key', 'key_data', 'wrap_key_data', 'split', 'fold_in', 'clone',
           'bits', 'uniform', 'normal', 'truncated_normal', 'randint', 'bernoulli',
           'permutation', 'choice', 'categorical', 'gumbel', 'threefry2x32',
           'threefry_2x32', 'PRNGKeyArray', 'KeyDType']


# --- helpers ---------------------------------------------------------------------------

def _asarray(x):
    """An Array (or tracer) from a scalar, list or NumPy value (bfloat16 included)."""
    if isinstance(x, (np.ndarray, np.generic)):
        return Array(np.asarray(x))
    return jnp.asarray(x)


def _to_shape(x, shape):
    """Broadcast `x` NumPy-style (trailing axes aligned) to `shape`."""
    xs = get_aval(x).shape
    if xs == tuple(shape):
        return x
    if len(xs) > len(shape) or np.broadcast_shapes(xs, shape) != tuple(shape):
        raise ValueError(f"a parameter of shape {xs} cannot be broadcast to the requested "
                         f"shape {tuple(shape)}; pass shape=None or a shape that contains it.")
    keep = [i for i, n in enumerate(xs) if n != 1]   # size-1 axes broadcast freely
    x = lax.reshape(x, [xs[i] for i in keep])
    offset = len(shape) - len(xs)
    return lax.broadcast_in_dim(x, shape, [offset + i for i in keep])


def _check_broadcast(name, shape, *param_shapes):
    if param_shapes and np.broadcast_shapes(shape, *param_shapes) != tuple(shape):
        raise ValueError(f"{name}: parameter shapes {list(param_shapes)} must broadcast to "
                         f"the shape argument {tuple(shape)}; pass shape=None to use their "
                         f"broadcast shape.")


def _float_dtype(dtype, name):
    dtype = dtypes.canonicalize_dtype(dtypes.default_float() if dtype is None else dtype)
    if not dtypes.is_float(dtype):
        raise ValueError(f"dtype argument to `{name}` must be a float dtype, got {dtype.name}; "
                         f"for integers use random.randint.")
    return dtype


def _finfo(dtype):
    if dtypes.is_bfloat16(dtype):
        return dtypes.load_ml_dtypes().finfo(dtype)
    return np.finfo(dtype)


# --- floats ----------------------------------------------------------------------------------

def _uniform(data, shape, dtype, minval, maxval):
    minval = _to_shape(lax.convert_element_type(_asarray(minval), dtype), shape)
    maxval = _to_shape(lax.convert_element_type(_asarray(maxval), dtype), shape)
    info = _finfo(dtype)
    nbits, nmant = info.bits, info.nmant
    rng_bits = 8 if nmant < 8 else nbits          # bfloat16 only needs 8 random bits
    uint = UINT_DTYPES[nbits]
    b = lax.convert_element_type(random_bits(data, rng_bits, shape), uint)
    # Random mantissa bits under the exponent of 1.0 make a float in [1, 2); minus 1.
    mantissa = lax.shift_right_logical(b, constant(rng_bits - nmant, uint, shape))
    one_bits = constant(np.array(1.0, dtype).view(uint), uint, shape)
    in_1_2 = lax.bitcast_convert_type(lax.bitwise_or(mantissa, one_bits), dtype)
    floats = lax.sub(in_1_2, constant(1.0, dtype, shape))
    span = lax.sub(maxval, minval)
    if dtype == dtypes.float32:   # XLA:CPU fuses this multiply-add: one rounding
        scaled = lax.fma(floats, span, minval)
    else:                          # 16-bit floats round after each step
        scaled = lax.add(lax.mul(floats, span), minval)
    return lax.max(minval, scaled)


def uniform(key, shape=(), dtype=None, minval=0., maxval=1.):
    """Uniform floats in [minval, maxval).

        >>> uniform(PRNGKey(0), (2,), minval=-1.0, maxval=1.0)
        Array([0.895334  , 0.95715976], dtype=float32)
    """
    data, _ = unwrap_key('uniform', key)
    dtype = _float_dtype(dtype, 'uniform')
    return _uniform(data, canonical_shape(shape, 'uniform'), dtype, minval, maxval)


def normal(key, shape=(), dtype=None):
    """Standard normal floats: sqrt(2) * erf_inv(u) for u uniform on (-1, 1).

        >>> normal(PRNGKey(0), (1,))
        Array([1.6226422], dtype=float32)
    """
    data, _ = unwrap_key('normal', key)
    dtype = _float_dtype(dtype, 'normal')
    shape = canonical_shape(shape, 'normal')
    lo = np.nextafter(np.array(-1.0, dtype), np.array(0.0, dtype))   # exclude -1 (erf_inv = -inf)
    u = _uniform(data, shape, dtype, lo, 1.0)
    return lax.mul(constant(np.sqrt(2), dtype, shape), lax.erf_inv(u))


def truncated_normal(key, lower, upper, shape=None, dtype=None):
    """Standard normal floats conditioned on lower < x < upper (inverse-CDF method).

        >>> truncated_normal(PRNGKey(0), -1.0, 1.0, (3,))
        Array([ 0.8618594,  0.9412883, -0.2910484], dtype=float32)
    """
    data, _ = unwrap_key('truncated_normal', key)
    dtype = _float_dtype(dtype, 'truncated_normal')
    lower = lax.convert_element_type(_asarray(lower), dtype)
    upper = lax.convert_element_type(_asarray(upper), dtype)
    if shape is None:
        shape = np.broadcast_shapes(lower.shape, upper.shape)
    else:
        shape = canonical_shape(shape, 'truncated_normal')
        _check_broadcast('truncated_normal', shape, lower.shape, upper.shape)
    sqrt2 = np.array(np.sqrt(2), dtype)
    # JAX divides by sqrt(2); XLA compiles a division by a constant into a multiplication
    # by its (rounded) reciprocal, and that rounding shows in the last bit, so we do the same.
    inv_sqrt2 = np.array(1, dtype) / sqrt2
    a = lax.erf(lax.mul(lower, constant(inv_sqrt2, dtype, lower.shape)))
    b = lax.erf(lax.mul(upper, constant(inv_sqrt2, dtype, upper.shape)))
    u = _uniform(data, shape, dtype, a, b)
    out = lax.mul(constant(sqrt2, dtype, shape), lax.erf_inv(u))
    # Rounding may land on a bound: clamp into the open interval.
    lo = _to_shape(lax.nextafter(lax.stop_gradient(lower), constant(np.inf, dtype, lower.shape)), shape)
    hi = _to_shape(lax.nextafter(lax.stop_gradient(upper), constant(-np.inf, dtype, upper.shape)), shape)
    return lax.min(lax.max(out, lo), hi)


def gumbel(key, shape=(), dtype=None, mode='low'):
    """Standard Gumbel floats: -log(-log(u)), u uniform on [tiny, 1).

        >>> gumbel(PRNGKey(0), (2,))
        Array([2.9233725, 3.8326178], dtype=float32)
    """
    data, _ = unwrap_key('gumbel', key)
    dtype = _float_dtype(dtype, 'gumbel')
    if mode not in (None, 'low'):
        raise ValueError(f"gumbel mode={mode!r} is not implemented here; use mode='low' "
                                  f"(JAX's default).")
    u = _uniform(data, canonical_shape(shape, 'gumbel'), dtype, float(_finfo(dtype).tiny), 1.0)
    return lax.neg(lax.log(lax.neg(lax.log(u))))


# --- integers and choices ----------------------------------------------------------------------

def _convert_and_clip(x, dtype):
    """Convert an integer array to `dtype`, clipping to its range instead of wrapping."""
    src, dst = np.iinfo(x.dtype), np.iinfo(dtype)
    lo, hi = max(src.min, dst.min), min(src.max, dst.max)
    x = jnp.clip(x, jnp.asarray(lo, x.dtype), jnp.asarray(hi, x.dtype))
    return lax.convert_element_type(x, dtype)


def randint(key, shape, minval, maxval, dtype=None):
    """Uniform integers in [minval, maxval).

    JAX draws two words of random bits per value and reduces them modulo the
    span (a tiny bias when the span is not a power of 2). 8- and 16-bit
    dtypes are drawn as int32 and converted.

        >>> randint(PRNGKey(0), (3,), 0, 10)
        Array([9, 0, 2], dtype=int32)
    """
    data, _ = unwrap_key('randint', key)
    dtype = dtypes.canonicalize_dtype(dtypes.default_int() if dtype is None else dtype)
    if not dtypes.is_int(dtype):
        raise TypeError(f"randint only accepts integer dtypes, got {dtype.name}; for floats "
                        f"use random.uniform.")
    shape = canonical_shape(shape, 'randint')
    minval, maxval = _asarray(minval), _asarray(maxval)
    info = np.iinfo(dtype)
    sample_dtype = dtype
    if info.bits < 32:   # sample in 32 bits to avoid bias, then convert
        sample_dtype = dtypes.int32
        minval = jnp.clip(jnp.astype(minval, jnp.int32), int(info.min), int(info.max))
        maxval = jnp.clip(jnp.astype(maxval, jnp.int32), int(info.min), int(info.max) + 1)
    out = _randint(data, shape, minval, maxval, sample_dtype)
    return lax.convert_element_type(out, dtype)


def _randint(data, shape, minval, maxval, dtype):
    _check_broadcast('randint', shape, minval.shape, maxval.shape)
    if not dtypes.is_int(minval.dtype):
        minval = jnp.astype(minval, dtypes.default_int())
    if not dtypes.is_int(maxval.dtype):
        maxval = jnp.astype(maxval, dtypes.default_int())
    # maxval above the dtype's range (randint(k, s, 0, 256, uint8)) widens the span by one.
    dtype_max = _convert_and_clip(jnp.asarray(np.iinfo(dtype).max, dtype), maxval.dtype)
    too_big = jnp.greater(maxval, dtype_max)
    minval = _to_shape(_convert_and_clip(minval, dtype), shape)
    maxval = _to_shape(_convert_and_clip(maxval, dtype), shape)
    too_big = _to_shape(too_big, shape)
    nbits = np.iinfo(dtype).bits
    uint = UINT_DTYPES[nbits]
    k1, k2 = split_in_two(data)
    higher, lower = random_bits(k1, nbits, shape), random_bits(k2, nbits, shape)
    one = constant(1, uint, shape)
    span = lax.convert_element_type(lax.sub(maxval, minval), uint)
    span = lax.select(lax.le(maxval, minval), one, span)    # empty range: always minval
    span = lax.select(lax.bitwise_and(too_big, lax.gt(maxval, minval)), lax.add(span, one), span)
    # (higher * 2**nbits + lower) mod span, without overflow: 2**nbits mod span, squared.
    multiplier = lax.rem(constant(2 ** (nbits // 2), uint, shape), span)
    multiplier = lax.rem(lax.mul(multiplier, multiplier), span)
    offset = lax.add(lax.mul(lax.rem(higher, span), multiplier), lax.rem(lower, span))
    offset = lax.rem(offset, span)
    return lax.add(minval, lax.convert_element_type(offset, dtype))


def bernoulli(key, p=0.5, shape=None):
    """Random booleans that are True with probability p.

        >>> bernoulli(PRNGKey(0), 0.5, (4,))
        Array([False, False,  True,  True], dtype=bool)
    """
    data, _ = unwrap_key('bernoulli', key)
    p = _asarray(p)
    if not dtypes.is_float(p.dtype):
        raise TypeError(f"bernoulli probability `p` must have a floating dtype, got "
                        f"{p.dtype.name}; write e.g. p=0.5 or p.astype(jnp.float32).")
    if shape is None:
        shape = p.shape
    else:
        shape = canonical_shape(shape, 'bernoulli')
        _check_broadcast('bernoulli', shape, p.shape)
    return lax.lt(_uniform(data, shape, p.dtype, 0.0, 1.0), _to_shape(p, shape))


def _shuffle(data, x, axis):
    """Sort `x` along `axis` by fresh random 32-bit keys, as many rounds as JAX uses
    to make key collisions negligible (1 round up to ~1600 elements)."""
    size = get_aval(x).size
    rounds = int(np.ceil(3 * np.log(max(1, size)) / np.log(2 ** 32 - 1)))
    for _ in range(rounds):
        data, sub = split_in_two(data)
        sort_keys = random_bits(sub, 32, get_aval(x).shape)
        _, x = lax.sort((sort_keys, x), dimension=axis, num_keys=1)
    return x


def _canonical_axis(axis, ndim):
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis {axis} is out of bounds for an array of dimension {ndim}")
    return axis % ndim


def permutation(key, x, axis=0, independent=False):
    """A random permutation of `arange(x)` (x an int) or of `x` along `axis`.

        >>> permutation(PRNGKey(0), 5)
        Array([0, 1, 4, 3, 2], dtype=int32)
    """
    data, _ = unwrap_key('permutation', key)
    if isinstance(x, (int, np.integer)) or jnp.ndim(x) == 0:
        x = jnp.asarray(x)
        if not dtypes.is_int(x.dtype):
            raise TypeError("permutation: x must be an integer or an array of at least 1 "
                            "dimension.")
        return _shuffle(data, jnp.arange(int(x)), 0)
    x = jnp.asarray(x)
    axis = _canonical_axis(axis, x.ndim)
    if independent or x.ndim == 1:
        return _shuffle(data, x, axis)
    order = _shuffle(data, jnp.arange(x.shape[axis]), 0)
    return jnp.take(x, order, axis=axis)


def _top_k_indices(x, k):
    """Indices of the k largest entries along the last axis (ties: lower index first)."""
    n = x.shape[-1]
    idx = lax.broadcasted_iota(dtypes.int32, x.shape, x.ndim - 1)
    _, order = lax.sort((lax.neg(x), idx), dimension=x.ndim - 1, num_keys=1)
    return lax.slice(order, (0,) * x.ndim, x.shape[:-1] + (k,)) if k < n else order


def choice(key, a, shape=(), replace=True, p=None, axis=0):
    """Random draws from `a` (an array, or range(a) for an int): with or without
    replacement, uniform or weighted by `p`.

        >>> choice(PRNGKey(0), 5, (3,), replace=False)
        Array([0, 1, 4], dtype=int32)
    """
    data, _ = unwrap_key('choice', key)
    if not isinstance(shape, Sequence):
        raise TypeError(f"shape argument of random.choice must be a sequence, got {shape!r}; "
                        f"e.g. shape=({shape!r},).")
    shape = canonical_shape(shape, 'choice')
    arr = jnp.asarray(a)
    if arr.ndim == 0:
        n_inputs = int(a)
    else:
        axis = _canonical_axis(axis, arr.ndim)
        n_inputs = arr.shape[axis]
    n_draws = math.prod(shape)
    if n_draws == 0:
        return jnp.zeros(shape, dtype=arr.dtype)
    if n_inputs <= 0:
        raise ValueError("a must be greater than 0 unless no samples are taken")
    if not replace and n_draws > n_inputs:
        raise ValueError(f"Cannot take a larger sample (size {n_draws}) than population "
                         f"(size {n_inputs}) when 'replace=False'")
    if p is None:
        if replace:
            ind = randint(data, shape, 0, n_inputs)
            result = ind if arr.ndim == 0 else jnp.take(arr, ind, axis=axis)
        else:
            perm = permutation(data, n_inputs if arr.ndim == 0 else arr, axis)
            result = jnp.take(perm, jnp.arange(n_draws), axis=0 if arr.ndim == 0 else axis)
    else:
        p = jnp.asarray(p)
        if not dtypes.is_float(p.dtype):
            p = jnp.astype(p, dtypes.default_float())
        if p.shape != (n_inputs,):
            raise ValueError(f"p must be None or a 1D vector with the same size as "
                             f"a.shape[axis]. p has shape {p.shape} and a.shape[axis] is "
                             f"{n_inputs}.")
        if replace:
            p_cuml = jnp.cumsum(p)
            r = p_cuml[-1] * (1 - _uniform(data, shape, p.dtype, 0.0, 1.0))
            ind = jnp.searchsorted(p_cuml, r)
        else:
            g = gumbel(data, (n_inputs,), p.dtype) + jnp.log(p)
            ind = _top_k_indices(g, n_draws)
        result = ind if arr.ndim == 0 else jnp.take(arr, ind, axis=axis)
    out_shape = shape if arr.ndim == 0 else arr.shape[:axis] + shape + arr.shape[axis + 1:]
    return jnp.reshape(result, out_shape)


def categorical(key, logits, axis=-1, shape=None, replace=True):
    """Random category indices with probabilities softmax(logits) along `axis`
    (the Gumbel-max trick; without replacement, Gumbel top-k).

        >>> categorical(PRNGKey(0), jnp.log(jnp.array([0.2, 0.8])), shape=(4,))
        Array([1, 1, 1, 1], dtype=int32)
    """
    data, _ = unwrap_key('categorical', key)
    logits = _asarray(logits)
    axis = _canonical_axis(axis, logits.ndim)
    batch_shape = tuple(n for i, n in enumerate(logits.shape) if i != axis)
    if shape is None:
        shape = batch_shape
    else:
        shape = canonical_shape(shape, 'categorical')
        _check_broadcast('categorical', shape, batch_shape)
    prefix = shape[:len(shape) - len(batch_shape)]
    if replace:
        # One Gumbel variate per category of every requested draw.
        sample_shape = list(shape[len(prefix):])
        sample_shape.insert(axis, logits.shape[axis])
        noise = gumbel(data, prefix + tuple(sample_shape), logits.dtype)
        return jnp.argmax(noise + logits, axis=len(prefix) + axis)
    k = math.prod(prefix)
    if k > logits.shape[axis]:
        raise ValueError(f"Number of samples without replacement ({k}) cannot exceed number "
                         f"of categories ({logits.shape[axis]}).")
    noisy = logits + gumbel(data, logits.shape, logits.dtype)
    top = _top_k_indices(jnp.moveaxis(noisy, axis, -1), k)    # batch_shape + (k,)
    top = jnp.moveaxis(top, -1, 0)                             # (k,) + batch_shape
    return jnp.reshape(top, shape)
