"""`tinygrad_tracer.prng`: keys and random bits (threefry2x32), as JAX makes them.

A key is two uint32 words. `threefry2x32` is a hash (20 rounds of add /
rotate / xor) of a pair of uint32 counters under the key. `bits(key, shape)`
hashes the counters 0, 1, 2, ... one per output element; `split(key, n)`
hashes n counters and keeps both output words of each as a new key;
`fold_in(key, d)` hashes the counter pair (0, d). `random.py` turns these
bits into floats and integers.

JAX has two bit streams and so do we, picked by a config flag:

    >>> from tinygrad_tracer import config
    >>> config.update('jax_threefry_partitionable', False)   # older JAX
    >>> split(PRNGKey(0))
    Array([[4146024105,  967050713],
           [2718843009, 1272950319]], dtype=uint32)
    >>> config.update('jax_threefry_partitionable', True)    # back to the default

True (the default, as in current JAX) gives every output element its own
64-bit counter, so a shorter draw is a prefix of a longer one; False is the
stream of JAX before 0.5 (whose numbers fill older tutorials): it hashes the
first half of the counters against the second half. Both equal JAX's output
bit for bit. Everything is built from lax primitives, so it traces, vmaps and
jits like any other code.
"""
import math
import operator
from collections.abc import Sequence

import numpy as np

from . import core, dtypes, lax
from . import numpy as jnp
from .array import Array
from .settings import config
from .core import Tracer, get_aval
from .tree_util import register_pytree_node

_U32 = dtypes.uint32
UINT_DTYPES = {8: dtypes.uint8, 16: dtypes.uint16, 32: dtypes.uint32, 64: dtypes.uint64}   # by bit width


# --- small helpers -----------------------------------------------------------------

def constant(value, dtype, shape=()):
    """A constant of `dtype` and `shape`. Eagerly a broadcast NumPy view (no copy, no
    bind: the hash uses dozens); under jit one `broadcast_in_dim` of a scalar literal,
    so jaxprs stay readable and compiled code gets no big constant inputs."""
    scalar = Array(np.array(value, dtype))
    if core.trace_state.dynamic_trace is core.trace_state.trace_stack[0]:
        return Array(np.broadcast_to(scalar._value, tuple(shape)))
    return lax.broadcast_in_dim(scalar, tuple(shape), ())


def canonical_shape(shape, name):
    """`shape` as a tuple of ints; a clear error (naming the function `name`) for
    anything else, a bare int included (as JAX's samplers)."""
    if isinstance(shape, (int, np.integer)) or not isinstance(shape, Sequence):
        raise TypeError(f"{name}: shape must be a tuple of ints, got {shape!r}; "
                        f"write shape=({shape!r},) for a 1-d result.")
    try:
        return tuple(operator.index(d) for d in shape)
    except TypeError:
        raise TypeError(f"{name}: shape must be a tuple of ints, got {shape!r}.") from None


# --- the threefry2x32 hash ---------------------------------------------------------------

_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
_PARITY = 0x1BD11BDA   # Threefish's key-schedule constant


def threefry2x32(k1, k2, x1, x2):
    """Threefry-2x32 (Salmon et al., 2011): hash two uint32 words x1, x2 under the
    key (k1, k2), elementwise. 20 rounds, as in JAX.

    Each round mixes the pair: x1 += x2; x2 = rotate_left(x2, r) ^ x1. After every
    4 rounds a word of the key schedule (k1, k2, k1 ^ k2 ^ 0x1BD11BDA) and the group
    number are added in.

        >>> u = lambda v: Array(np.uint32(v))
        >>> threefry2x32(u(0), u(0), u(0), u(0))        # Random123's known answer
        (Array(1797259609, dtype=uint32), Array(2579123966, dtype=uint32))
    """
    shape = get_aval(x1).shape
    ks = [lax.broadcast_in_dim(k, shape, ()) for k in (k1, k2)]
    ks.append(lax.bitwise_xor(lax.bitwise_xor(ks[0], ks[1]), constant(_PARITY, _U32, shape)))
    x1, x2 = lax.add(x1, ks[0]), lax.add(x2, ks[1])
    for group in range(5):
        for r in _ROTATIONS[group % 2]:
            x1 = lax.add(x1, x2)
            rotated = lax.bitwise_or(lax.shift_left(x2, constant(r, _U32, shape)),
                                     lax.shift_right_logical(x2, constant(32 - r, _U32, shape)))
            x2 = lax.bitwise_xor(rotated, x1)
        x1 = lax.add(x1, ks[(group + 1) % 3])
        x2 = lax.add(lax.add(x2, ks[(group + 2) % 3]), constant(group + 1, _U32, shape))
    return x1, x2


def _key_words(key_data):
    """The two uint32 scalars of a (2,) key."""
    return [lax.reshape(lax.slice(key_data, (i,), (i + 1,)), ()) for i in (0, 1)]


def threefry_2x32(key_data, count):
    """Hash a whole uint32 array `count` with a (2,) key, as JAX's `threefry_2x32`:
    the flattened counts (padded with a 0 to even length) are cut in half, the
    halves are hashed as (x1, x2) pairs, and the two output halves are joined.

        >>> threefry_2x32(PRNGKey(0), lax.iota(np.uint32, 4))   # = split(PRNGKey(0)), old stream
        Array([4146024105,  967050713, 2718843009, 1272950319], dtype=uint32)
    """
    aval = get_aval(count)
    n = aval.size
    flat = lax.reshape(count, (n,))
    if n % 2:
        flat = lax.concatenate([flat, constant(0, _U32, (1,))], 0)
    half = (n + 1) // 2
    k1, k2 = _key_words(key_data)
    y1, y2 = threefry2x32(k1, k2, lax.slice(flat, (0,), (half,)),
                          lax.slice(flat, (half,), (2 * half,)))
    out = lax.concatenate([y1, y2], 0)
    if n % 2:
        out = lax.slice(out, (0,), (n,))
    return lax.reshape(out, aval.shape)


def _counters(shape):
    """Counters 0, 1, ... over `shape` in row-major order, as (high, low) uint32 words
    of a 64-bit count (the partitionable stream's counters)."""
    size = math.prod(shape)
    if size >= 2 ** 32:
        raise ValueError("random arrays of 2**32 or more elements are not supported")
    low = lax.reshape(lax.iota(_U32, size), shape) if shape else constant(0, _U32)
    return constant(0, _U32, shape), low


def _partitionable():
    return bool(config.jax_threefry_partitionable)


# --- keys ------------------------------------------------------------------------------

class KeyDType:
    """The dtype of typed keys, printed as JAX prints it: `key<fry>`."""
    name = 'key<fry>'

    def __repr__(self):
        return self.name

    __str__ = __repr__

    def __eq__(self, other):
        return isinstance(other, KeyDType) or other == self.name

    def __hash__(self):
        return hash(self.name)


class PRNGKeyArray:
    """An array of typed keys (from `random.key`): each element is one key, stored
    as two uint32 words in a trailing axis that `key_data` shows.

        >>> k = random.key(42)
        >>> k
        Array((), dtype=key<fry>) overlaying:
        [ 0 42]
        >>> key_data(k)
        Array([ 0, 42], dtype=uint32)

    It is a pytree whose one leaf is that uint32 array, so typed keys pass
    through `jit` and `vmap` (vmap maps over the leading key axes).
    """
    dtype = KeyDType()

    def __init__(self, data):
        self._data = data   # uint32[..., 2]; anything while pytrees are rebuilt

    shape = property(lambda self: tuple(get_aval(self._data).shape[:-1]))
    ndim = property(lambda self: len(self.shape))
    size = property(lambda self: math.prod(self.shape))

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of a single key (a scalar key array)")
        return self.shape[0]

    def __iter__(self):
        if not self.shape:
            raise TypeError("iteration over a single key (a scalar key array)")
        return (self[i] for i in range(self.shape[0]))

    def __getitem__(self, idx):
        idx = idx if isinstance(idx, tuple) else (idx,)
        return PRNGKeyArray(self._data[idx + (slice(None),)])

    def __eq__(self, other):
        other = other._data if isinstance(other, PRNGKeyArray) else other
        return jnp.all(jnp.equal(self._data, other), axis=-1)

    def __ne__(self, other):
        return jnp.logical_not(self == other)

    def __hash__(self):
        raise TypeError("unhashable type: key array")

    def __array__(self, dtype=None, copy=None):
        raise TypeError("A typed key array cannot become a NumPy array: take its bits "
                        "with random.key_data(key) first.")

    def __repr__(self):
        if isinstance(self._data, Tracer):
            return f"Traced<key<fry>{list(self.shape)}>"
        return (f"Array({self.shape}, dtype=key<fry>) overlaying:\n"
                f"{np.asarray(self._data)}")

    __str__ = __repr__


register_pytree_node(PRNGKeyArray, lambda k: ((k._data,), None),
                     lambda _, children: PRNGKeyArray(children[0]))


def unwrap_key(name, key, allow_batched=False):
    """(uint32 key data, whether `key` was typed), with a clear error for non-keys."""
    if isinstance(key, PRNGKeyArray):
        data, typed = key._data, True
    elif isinstance(key, (Array, Tracer, np.ndarray)):
        data, typed = key, False
        aval = get_aval(data)
        if aval.dtype != _U32 or aval.shape[-1:] != (2,):
            what = ("an integer seed" if dtypes.is_int(aval.dtype) and aval.shape == ()
                    else f"an array of dtype {aval.dtype.name} and shape {aval.shape}")
            raise TypeError(f"{name} expects a PRNG key, a uint32 array of shape (2,) (or a "
                            f"typed key), but got {what}. Make one with random.key(seed) or "
                            f"random.PRNGKey(seed).")
        if isinstance(data, np.ndarray):
            data = Array(data)
    elif isinstance(key, (int, np.integer)):
        raise TypeError(f"{name} expects a PRNG key but got the integer {key}: make a key "
                        f"first, e.g. key = random.key({key}).")
    else:
        raise TypeError(f"{name} expects a PRNG key but got {type(key).__name__}; make one "
                        f"with random.key(seed).")
    shape = get_aval(data).shape[:-1]
    if shape and not allow_batched:
        raise ValueError(f"{name} accepts a single key, but was given a key array of shape "
                         f"{shape} != (). Use jax.vmap for batching, or pick one key (keys[0]).")
    return data, typed


def _rewrap(data, typed):
    return PRNGKeyArray(data) if typed else data


def _seed_data(seed, name):
    """uint32[2] key data from an integer seed, as JAX's threefry seeding does it."""
    if isinstance(seed, PRNGKeyArray):
        raise TypeError(f"{name} accepts a scalar seed, but was given a PRNG key; use the key "
                        f"directly, or random.split / random.fold_in to derive new keys.")
    if isinstance(seed, (bool, np.bool_)):
        seed = int(seed)
    if isinstance(seed, int):
        # JAX reads a Python int seed as an int64; with x64 off only its low 32 bits count.
        if not -2 ** 63 <= seed < 2 ** 63:
            raise OverflowError(f"{name}: seed {seed} does not fit in a signed 64-bit integer; "
                                f"use e.g. seed % 2**63.")
        high = (seed >> 32) & 0xFFFFFFFF if config.jax_enable_x64 else 0
        return Array(np.array([high, seed & 0xFFFFFFFF], np.uint32))
    if isinstance(seed, float):
        raise TypeError(f"{name} needs an integer seed, got the float {seed!r}; "
                        f"use {name}(int(seed)).")
    if isinstance(seed, (np.ndarray, np.generic)):
        seed = Array(np.asarray(seed))
    if not isinstance(seed, (Array, Tracer)):
        raise TypeError(f"{name} needs an integer seed, got {type(seed).__name__}.")
    aval = get_aval(seed)
    if aval.shape != ():
        raise TypeError(f"{name} accepts a scalar seed, but was given an array of shape "
                        f"{aval.shape} != (). To make many keys use random.split(key, n) or "
                        f"jax.vmap({name})(seeds).")
    if not (dtypes.is_int(aval.dtype) or dtypes.is_bool(aval.dtype)):
        raise TypeError(f"{name} needs an integer seed, got dtype {aval.dtype.name}; "
                        f"convert it with seed.astype(jnp.int32) or int(seed).")
    low = lax.convert_element_type(seed, _U32)
    if aval.dtype.itemsize == 8:
        high = lax.convert_element_type(
            lax.shift_right_logical(seed, constant(32, aval.dtype)), _U32)
    else:
        high = constant(0, _U32)
    return lax.concatenate([lax.reshape(high, (1,)), lax.reshape(low, (1,))], 0)


def PRNGKey(seed):
    """A raw key, `uint32[2]`, from an integer seed (JAX's legacy key type).

    With 64-bit types off (the default), the key is `[0, seed mod 2**32]`:

        >>> PRNGKey(42)
        Array([ 0, 42], dtype=uint32)
        >>> PRNGKey(-7)
        Array([         0, 4294967289], dtype=uint32)
    """
    return _seed_data(seed, 'PRNGKey')


def key(seed):
    """A typed key from an integer seed: same bits as `PRNGKey(seed)`, but its dtype
    says it is a key, so it cannot be mistaken for data.

        >>> key(0)
        Array((), dtype=key<fry>) overlaying:
        [0 0]
    """
    return PRNGKeyArray(_seed_data(seed, 'key'))


def key_data(keys):
    """The uint32 words under a (typed) key array, shape `keys.shape + (2,)`.

        >>> key_data(key(7))
        Array([0, 7], dtype=uint32)
    """
    data, _ = unwrap_key('key_data', keys, allow_batched=True)
    return data


def wrap_key_data(key_bits_array):
    """A typed key array from uint32 words with a trailing axis of 2.

        >>> wrap_key_data(PRNGKey(3))
        Array((), dtype=key<fry>) overlaying:
        [0 3]
    """
    data = key_bits_array
    if isinstance(data, (np.ndarray, list, tuple)):
        data = Array(np.asarray(data))
    aval = get_aval(data)
    if aval.dtype != _U32 or aval.shape[-1:] != (2,):
        raise TypeError(f"wrap_key_data needs a uint32 array whose last axis has size 2, "
                        f"got {aval.str_short()}; e.g. wrap_key_data(jnp.array([0, 42], "
                        f"dtype=jnp.uint32)).")
    return PRNGKeyArray(data)


def clone(key):
    """The same key (JAX needs this for its stateful-key experiments; keys here are values)."""
    return key


# --- deriving keys -------------------------------------------------------------------------

def _split(data, shape):
    if _partitionable():
        k1, k2 = _key_words(data)
        b1, b2 = threefry2x32(k1, k2, *_counters(shape))
        nd = len(shape)
        return lax.concatenate([lax.expand_dims(b1, (nd,)), lax.expand_dims(b2, (nd,))], nd)
    n = math.prod(shape)
    return lax.reshape(threefry_2x32(data, lax.iota(_U32, 2 * n)), (*shape, 2))


def split_in_two(data):
    """Two raw keys from raw key data, as `split(key)` (used inside samplers)."""
    keys = _split(data, (2,))
    return [lax.reshape(lax.slice(keys, (i, 0), (i + 1, 2)), (2,)) for i in (0, 1)]


def split(key, num=2):
    """`num` new keys from one (num may be a shape tuple). The old key should not be
    used again.

        >>> k1, k2 = split(PRNGKey(0))
        >>> k1                                   # partitionable stream (the default)
        Array([1797259609, 2579123966], dtype=uint32)
    """
    data, typed = unwrap_key('split', key)
    shape = tuple(num) if isinstance(num, Sequence) else (int(num),)
    return _rewrap(_split(data, shape), typed)


def fold_in(key, data):
    """A new key from a key and a 32-bit integer (e.g. a step number), the same in
    both bit streams: the hash of the counters (0, data).

        >>> fold_in(PRNGKey(0), 7)
        Array([2716826189,  292468403], dtype=uint32)
    """
    kdata, typed = unwrap_key('fold_in', key)
    if isinstance(data, (bool, int, np.integer)):
        if not 0 <= int(data) < 2 ** 32:
            raise OverflowError(f"fold_in: data {int(data)} is out of bounds for uint32; "
                                f"use data % 2**32.")
        word = Array(np.array([int(data)], np.uint32))
    else:
        data = jnp.asarray(data)
        if data.ndim:
            raise TypeError(f"fold_in accepts a scalar, but was given an array of shape "
                            f"{data.shape} != (). Use jax.vmap for batching.")
        word = lax.reshape(lax.convert_element_type(data, _U32), (1,))
    counts = lax.concatenate([constant(0, _U32, (1,)), word], 0)
    return _rewrap(threefry_2x32(kdata, counts), typed)


# --- random bits ---------------------------------------------------------------------------

def random_bits(data, bit_width, shape):
    """uint{bit_width} array of `shape` from key data (both streams, as JAX)."""
    dtype = UINT_DTYPES[bit_width]
    if bit_width == 64:
        raise ValueError("64-bit random bits need x64, which tinygrad_tracer.random "
                                  "does not support; use uint32.")
    if _partitionable():
        k1, k2 = _key_words(data)
        b1, b2 = threefry2x32(k1, k2, *_counters(shape))
        return lax.convert_element_type(lax.bitwise_xor(b1, b2), dtype)
    size = math.prod(shape)
    words = -(-bit_width * size // 32)
    if words >= 2 ** 32 - 1:
        raise ValueError("random arrays this large are not supported")
    out = threefry_2x32(data, lax.iota(_U32, words))
    if bit_width == 32:
        return lax.reshape(out, shape)
    # Each 32-bit word holds 32 // bit_width values, lowest bits first.
    per_word = 32 // bit_width
    shifts = Array(np.arange(0, 32, bit_width, dtype=np.uint32))
    shifts = lax.broadcast_in_dim(shifts, (words, per_word), (1,))
    pieces = lax.shift_right_logical(lax.broadcast_in_dim(out, (words, per_word), (0,)), shifts)
    pieces = lax.convert_element_type(lax.reshape(pieces, (words * per_word,)), dtype)
    return lax.reshape(lax.slice(pieces, (0,), (size,)), shape)


def bits(key, shape=(), dtype=None):
    """Uniform random unsigned integers (all bits random).

        >>> bits(PRNGKey(0), (3,))
        Array([4070199207, 4202968722, 1427181096], dtype=uint32)
    """
    data, _ = unwrap_key('bits', key)
    dtype = dtypes.canonicalize_dtype(np.uint32 if dtype is None else dtype)
    if dtype.kind != 'u':
        raise ValueError(f"dtype argument to `bits` must be an unsigned int dtype, got "
                         f"{dtype.name}; e.g. jnp.uint32.")
    return random_bits(data, dtype.itemsize * 8, canonical_shape(shape, 'bits'))
