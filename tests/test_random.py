"""tinygrad_tracer.random against JAX's own numbers, bit for bit.

tests/data/random_golden.json was written by tools/make_random_golden.py with
jax 0.10.2; JAX is not needed here. Floats are compared as bit patterns.
"""
import contextlib
import json
import math
import os

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tinygrad_tracer as tt
import tinygrad_tracer.numpy as jnp
from tinygrad_tracer import config, random

GOLDEN = json.load(open(os.path.join(os.path.dirname(__file__), 'data', 'random_golden.json')))
MODES = ['True', 'False']


@contextlib.contextmanager
def _bit_stream(mode):
    old = config.jax_threefry_partitionable
    config.update('jax_threefry_partitionable', mode == 'True')
    try:
        yield mode
    finally:
        config.update('jax_threefry_partitionable', old)


@pytest.fixture
def stream(request):
    """Set jax_threefry_partitionable for one test (request.param: 'True' / 'False')."""
    with _bit_stream(request.param) as mode:
        yield mode


def _decode(v):
    if isinstance(v, dict):
        if 'tuple' in v:
            return tuple(_decode(x) for x in v['tuple'])
        if 'array' in v:
            return np.array(v['array'], dtype=v['dtype'])
        if 'dtype' in v:
            return jnp.bfloat16 if v['dtype'] == 'bfloat16' else np.dtype(v['dtype'])
    return v


def _as_bits(x):
    """(dtype name, shape, flat ints) with floats as their IEEE bit patterns."""
    x = np.asarray(x)
    flat = x.reshape(-1)
    if x.dtype.kind == 'f' or x.dtype.name == 'bfloat16':
        flat = flat.view(f'uint{8 * x.dtype.itemsize}')
    return x.dtype.name, list(x.shape), [int(v) for v in flat]


def _assert_bits(got, expected, what):
    dtype, shape, data = _as_bits(got)
    assert (dtype, shape) == (expected['dtype'], expected['shape']), what
    if data != expected['data']:
        bad = [i for i, (a, b) in enumerate(zip(data, expected['data'])) if a != b]
        raise AssertionError(f"{what}: {len(bad)} of {len(data)} values differ from JAX "
                             f"(first at {bad[0]}: got bits {data[bad[0]]}, "
                             f"JAX {expected['data'][bad[0]]})")


def _u32(*words):
    return tt.Array(np.array(words, np.uint32))


# --- golden values from JAX ----------------------------------------------------------

def test_seeds_become_keys_as_in_jax():
    for row in GOLDEN['seeds']:
        assert random.PRNGKey(row['seed']).tolist() == row['key'], row['seed']
        assert random.key_data(random.key(row['seed'])).tolist() == row['key'], row['seed']


# Every sampler and parameter set for some keys; key-level functions for all five keys.
_KEY_LEVEL = {'split', 'fold_in', 'bits', 'uniform', 'normal'}
_GOLDEN_CASES = [
    pytest.param(mode, i, id=f"{'partitionable' if mode == 'True' else 'original'}-"
                           f"{GOLDEN['modes'][mode]['keys'][i]['name']}")
    for mode in MODES for i in range(len(GOLDEN['modes'][mode]['keys']))]


@pytest.mark.parametrize('stream,key_index', _GOLDEN_CASES, indirect=['stream'])
def test_matches_jax_bit_for_bit(stream, key_index):
    entry = GOLDEN['modes'][stream]['keys'][key_index]
    # Every case for a split key (both words busy), and for PRNGKey(0) in the default stream.
    full = key_index == 4 or (stream == 'True' and key_index == 0)
    key = _u32(*entry['key'])
    checked = 0
    for case in entry['results']:
        if not full and case['fn'] not in _KEY_LEVEL:
            continue
        args = [_decode(a) for a in case['args']]
        kwargs = {k: _decode(v) for k, v in case['kwargs'].items()}
        out = getattr(random, case['fn'])(key, *args, **kwargs)
        _assert_bits(out, case['out'], f"{case['fn']}({entry['name']}, {args}, {kwargs})")
        checked += 1
    assert checked >= (50 if full else 20)


@pytest.mark.parametrize('stream', MODES, indirect=True)
def test_long_streams_match_jax(stream):
    # Hundreds of values exercise every rounding branch of erf_inv, log and the fma.
    large = GOLDEN['modes'][stream]['large']
    key = random.PRNGKey(2024)
    _assert_bits(random.normal(key, (1000,)), large['normal'], 'normal')
    _assert_bits(random.uniform(key, (500,), minval=-1.3, maxval=2.9), large['uniform_scaled'],
                 'uniform')
    _assert_bits(random.gumbel(key, (500,)), large['gumbel'], 'gumbel')
    _assert_bits(random.truncated_normal(key, -0.7, 1.9, (500,)), large['truncated_normal'],
                 'truncated_normal')


@pytest.mark.parametrize('stream', MODES, indirect=True)
def test_tutorial_cells_print_jax_numbers(stream):
    cells = GOLDEN['modes'][stream]['tutorial']
    # seed 002: random tensors and the compute_loss setup
    _assert_bits(random.uniform(random.key(123), (2, 3)), cells['uniform(key(123), (2, 3))'], 'rand')
    key, w_key, b_key = random.split(random.key(123), 3)
    w = random.normal(w_key, (5, 3))
    b = random.normal(b_key, (3,))
    _assert_bits(w, cells['compute_loss w'], 'w')
    _assert_bits(b, cells['compute_loss b'], 'b')
    _assert_bits(random.key_data(key), cells['compute_loss key'], 'key')
    y_pred = jnp.matmul(jnp.ones(5), w) + b
    loss = jnp.mean((jnp.zeros(3) - y_pred) ** 2)
    np.testing.assert_allclose(np.asarray(loss).view(np.float32),
                               np.array(cells['compute_loss loss']['data'], np.uint32).view(np.float32),
                               rtol=1e-6)
    # seed 003: the PRNG section and the linear-regression data
    key = random.PRNGKey(0)
    _assert_bits(random.normal(key, (1,)), cells['normal(PRNGKey(0), (1,))'], 'normal')
    k, sub = random.split(key)
    _assert_bits(jnp.stack([k, sub]), cells['split(PRNGKey(0))'], 'split')
    _assert_bits(random.normal(k, (1,)), cells['normal(split[0], (1,))'], 'normal k')
    _assert_bits(random.normal(sub, (1,)), cells['normal(split[1], (1,))'], 'normal sub')
    _assert_bits(random.split(k, 4), cells['split(split[0], 4)'], 'split 4')
    _assert_bits(random.normal(key, (4,)), cells['normal(PRNGKey(0), (4,))'], 'v')
    _assert_bits(random.normal(key, (5,)), cells['normal(PRNGKey(0), (5,))'], 'x')
    k1, k2 = random.split(key)
    _assert_bits(random.normal(k1, (10, 5)), cells['linreg W'], 'W')
    _assert_bits(random.normal(k2, (5,)), cells['linreg b'], 'b')
    key_sample, key_noise = random.split(k1)
    _assert_bits(random.normal(key_sample, (20, 10)), cells['linreg x_samples'], 'x_samples')
    _assert_bits(random.normal(key_noise, (20, 5)), cells['linreg noise'], 'noise')


@pytest.mark.parametrize('stream', ['False'], indirect=True)
def test_old_stream_split_matches_the_tutorial(stream):
    # Seed 003 was printed by an older JAX: its keys are the non-partitionable stream.
    assert random.split(random.PRNGKey(0)).tolist() == [[4146024105, 967050713],
                                                       [2718843009, 1272950319]]
    key, *subkeys = random.split(random.split(random.PRNGKey(0))[0], 4)
    assert key.tolist() == [3306097435, 3899823266]
    assert [s.tolist() for s in subkeys] == [[147607341, 367236428], [2280136339, 1907318301],
                                             [781391491, 1939998335]]


def test_threefry_known_answers():
    # Random123's published test vectors for Threefry-2x32 with 20 rounds.
    cases = [((0, 0), (0, 0), (0x6B200159, 0x99BA4EFE)),
             ((0xFFFFFFFF, 0xFFFFFFFF), (0xFFFFFFFF, 0xFFFFFFFF), (0x1CB996FC, 0xBB002BE7)),
             ((0x13198A2E, 0x03707344), (0x243F6A88, 0x85A308D3), (0xC4923A9C, 0x483DF7A0))]
    for (k1, k2), (x1, x2), expected in cases:
        y = random.threefry2x32(*(tt.Array(np.uint32(v)) for v in (k1, k2, x1, x2)))
        assert (int(y[0]), int(y[1])) == expected


# --- the float32 kernels the samplers rely on ----------------------------------------------

_f32s = st.floats(-1e6, 1e6, width=32, allow_subnormal=False)


@given(_f32s, _f32s, _f32s)
@settings(max_examples=60, deadline=None)
def test_fma_rounds_once(a, b, c):
    from fractions import Fraction
    got = np.asarray(tt.lax.fma(np.float32(a), np.float32(b), np.float32(c)))
    exact = Fraction(a) * Fraction(b) + Fraction(c)
    # The float32 nearest to the exact value (ties to even), found among neighbours.
    guess = np.float32(float(exact))
    near = [np.nextafter(guess, np.float32(-np.inf)), guess, np.nextafter(guess, np.float32(np.inf))]
    best = min(near, key=lambda v: (abs(Fraction(float(v)) - exact), int(v.view(np.uint32)) & 1))
    assert got.dtype == np.float32 and got == best


def test_xla_float32_kernels():
    lax = tt.lax
    x = np.array([-1.0, -0.5, 0.0, 0.5, 1.0, 1.5], np.float32)
    y = np.asarray(lax.erf_inv(x))
    assert y[0] == -np.inf and y[4] == np.inf and y[2] == 0 and np.isnan(y[5])
    np.testing.assert_allclose(y[1], -0.4769362762, rtol=1e-6)
    # jnp.log(0.7) in JAX is -0.35667497; NumPy's correctly rounded float32 log says -0.35667494.
    assert np.asarray(lax.log(np.float32(0.7))).view(np.uint32) == np.float32(-0.35667497).view(np.uint32)
    assert np.asarray(lax.log(np.float32(1e-40))) == -np.inf   # XLA:CPU treats subnormals as 0
    np.testing.assert_allclose(np.asarray(lax.erf(np.float32(0.5))), 0.5204998778, rtol=1e-7)


# --- keys ----------------------------------------------------------------------------------

def test_typed_and_raw_keys_give_the_same_numbers():
    typed, raw = random.key(42), random.PRNGKey(42)
    assert repr(typed) == "Array((), dtype=key<fry>) overlaying:\n[ 0 42]"
    assert str(typed.dtype) == 'key<fry>' and typed.shape == ()
    np.testing.assert_array_equal(random.uniform(typed, (4,)), random.uniform(raw, (4,)))
    keys = random.split(typed, 3)
    assert isinstance(keys, random.PRNGKeyArray) and keys.shape == (3,) and len(keys) == 3
    assert random.key_data(keys).tolist() == random.split(raw, 3).tolist()
    a, b, c = keys
    assert random.key_data(b).tolist() == random.split(raw, 3)[1].tolist()
    assert bool(random.wrap_key_data(random.key_data(typed)) == typed)
    assert random.key_data(random.fold_in(typed, 3)).tolist() == random.fold_in(raw, 3).tolist()
    assert repr(keys).startswith("Array((3,), dtype=key<fry>) overlaying:\n[[")


def test_seed_errors_name_the_fix():
    with pytest.raises(TypeError, match=r"integer seed.*int\(seed\)"):
        random.PRNGKey(1.5)
    with pytest.raises(TypeError, match="integer seed"):
        random.key(jnp.float32(2.0))
    with pytest.raises(TypeError, match=r"scalar seed.*shape \(2,\)"):
        random.PRNGKey(jnp.array([1, 2]))
    with pytest.raises(OverflowError, match="64-bit"):
        random.PRNGKey(2 ** 64)
    with pytest.raises(TypeError, match="PRNG key"):
        random.key(random.key(0))


def test_bad_keys_raise_clear_errors():
    with pytest.raises(TypeError, match=r"random.key\(0\)"):
        random.uniform(0, (2,))
    with pytest.raises(TypeError, match=r"uint32 array of shape \(2,\)"):
        random.uniform(jnp.zeros(3, jnp.uint32))
    with pytest.raises(TypeError, match="float32"):
        random.normal(jnp.zeros(2))
    with pytest.raises(ValueError, match="vmap"):
        random.uniform(random.split(random.PRNGKey(0), 4))
    with pytest.raises(TypeError, match="last axis has size 2"):
        random.wrap_key_data(jnp.zeros(3, jnp.uint32))
    with pytest.raises(TypeError, match=r"shape=\(3,\)"):
        random.uniform(random.PRNGKey(0), 3)
    with pytest.raises(TypeError, match="key_data"):
        np.asarray(random.key(0))


def test_bad_arguments_raise():
    key = random.PRNGKey(0)
    with pytest.raises(ValueError, match="float dtype"):
        random.uniform(key, (2,), jnp.int32)
    with pytest.raises(ValueError, match="unsigned"):
        random.bits(key, (2,), jnp.int32)
    with pytest.raises(TypeError, match="integer dtypes"):
        random.randint(key, (2,), 0, 3, jnp.float32)
    with pytest.raises(TypeError, match="floating dtype"):
        random.bernoulli(key, jnp.array(1))
    with pytest.raises(ValueError, match="larger sample"):
        random.choice(key, 3, (4,), replace=False)
    with pytest.raises(ValueError, match="broadcast"):
        random.uniform(key, (3,), minval=jnp.zeros(4))
    with pytest.raises(TypeError, match="scalar"):
        random.fold_in(key, jnp.arange(2))
    with pytest.raises(OverflowError, match="uint32"):
        random.fold_in(key, -1)


# --- properties --------------------------------------------------------------------------

@given(st.integers(-2 ** 63, 2 ** 63 - 1))
@settings(max_examples=50, deadline=None)
def test_seed_is_its_low_32_bits(seed):
    assert random.PRNGKey(seed).tolist() == [0, seed % 2 ** 32]


@pytest.mark.parametrize('mode', MODES)
@given(n=st.integers(1, 40), seed=st.integers(0, 2 ** 31 - 1))
@settings(max_examples=8, deadline=None)
def test_bits_do_not_depend_on_how_the_shape_is_cut(mode, n, seed):
    with _bit_stream(mode):
        key = random.PRNGKey(seed)
        flat = random.bits(key, (2 * n,))
        assert random.bits(key, (2, n)).tolist() == np.asarray(flat).reshape(2, n).tolist()
        if mode == 'True':   # a counter per element: shorter draws are prefixes
            assert random.bits(key, (n,)).tolist() == np.asarray(flat)[:n].tolist()


@given(shape=st.lists(st.integers(0, 4), max_size=3).map(tuple),
       lo=st.floats(-100, 100, width=32), width=st.floats(0.125, 50, width=32))
@settings(max_examples=15, deadline=None)
def test_uniform_stays_in_range(shape, lo, width):
    hi = np.float32(lo) + np.float32(width)
    u = np.asarray(random.uniform(random.PRNGKey(1), shape, minval=lo, maxval=float(hi)))
    assert u.shape == shape and u.dtype == np.float32
    assert np.all(u >= np.float32(lo)) and np.all(u <= hi)


# --- statistics on large draws ---------------------------------------------------------------

N = 100_000


def test_uniform_and_normal_moments():
    k1, k2 = random.split(random.PRNGKey(7))
    u = np.asarray(random.uniform(k1, (N,)), np.float64)
    assert u.min() >= 0 and u.max() < 1
    assert abs(u.mean() - 0.5) < 0.005 and abs(u.var() - 1 / 12) < 0.002
    z = np.asarray(random.normal(k2, (N,)), np.float64)
    assert abs(z.mean()) < 0.01 and abs(z.var() - 1) < 0.02
    assert abs(np.mean(np.abs(z) < 1) - 0.6827) < 0.005


def test_bernoulli_randint_gumbel_truncated_normal_statistics():
    k1, k2, k3, k4 = random.split(random.PRNGKey(11), 4)
    b = np.asarray(random.bernoulli(k1, 0.3, (N,)))
    assert b.dtype == np.bool_ and abs(b.mean() - 0.3) < 0.007
    r = np.asarray(random.randint(k2, (N,), -3, 7))
    assert r.min() == -3 and r.max() == 6
    np.testing.assert_allclose(np.bincount(r + 3) / N, 0.1, atol=0.005)
    g = np.asarray(random.gumbel(k3, (N,)), np.float64)
    assert abs(g.mean() - 0.5772157) < 0.01 and abs(g.var() - math.pi ** 2 / 6) < 0.05
    t = np.asarray(random.truncated_normal(k4, -1.0, 2.0, (N,)), np.float64)
    assert t.min() > -1 and t.max() < 2
    assert abs(t.mean() - 0.2294) < 0.01   # the mean of N(0, 1) truncated to (-1, 2)


def test_categorical_choice_permutation_distributions():
    key = random.PRNGKey(3)
    p = np.array([0.1, 0.2, 0.3, 0.4], np.float32)
    c = np.asarray(random.categorical(key, jnp.log(p), shape=(50_000,)))
    np.testing.assert_allclose(np.bincount(c, minlength=4) / c.size, p, atol=0.01)
    draws = np.asarray(random.choice(key, 4, (50_000,), p=p))
    np.testing.assert_allclose(np.bincount(draws, minlength=4) / draws.size, p, atol=0.01)
    perm = np.asarray(random.permutation(key, 1000))
    assert sorted(perm.tolist()) == list(range(1000)) and perm.tolist() != list(range(1000))
    picked = np.asarray(random.choice(key, 100, (60,), replace=False))
    assert len(set(picked.tolist())) == 60


# --- under transformations ---------------------------------------------------------------------


@pytest.mark.parametrize('stream', MODES, indirect=True)
def test_vmap_over_keys_equals_the_loop(stream):
    vmap = tt.vmap
    for keys in (random.split(random.PRNGKey(0), 8), random.split(random.key(0), 8)):
        batched = vmap(lambda k: random.uniform(k, (3,)))(keys)
        loop = np.stack([np.asarray(random.uniform(k, (3,))) for k in keys])
        np.testing.assert_array_equal(np.asarray(batched), loop)
    seeds = jnp.arange(4)
    np.testing.assert_array_equal(np.asarray(vmap(random.PRNGKey)(seeds)),
                                  np.stack([np.asarray(random.PRNGKey(i)) for i in range(4)]))
    typed = vmap(random.key)(seeds)   # typed keys come out of vmap as a key array
    assert isinstance(typed, random.PRNGKeyArray) and typed.shape == (4,)
    assert random.key_data(typed).tolist() == [[0, i] for i in range(4)]


@pytest.mark.parametrize('stream', MODES, indirect=True)
def test_jit_equals_eager(stream):
    jit = tt.jit
    key = random.PRNGKey(5)
    for sampler in (lambda k: random.normal(k, (5,)),
                    lambda k: random.randint(k, (4,), 0, 10),
                    lambda k: random.split(k, 3)):
        np.testing.assert_array_equal(np.asarray(jit(sampler)(key)), np.asarray(sampler(key)))
    typed = jit(lambda k: random.split(k)[1])(random.key(5))
    assert random.key_data(typed).tolist() == random.split(key)[1].tolist()
