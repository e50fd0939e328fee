# %% [markdown]
# # Lesson 7 — Random numbers: keys, splitting, and why no global state
#
# NumPy keeps one hidden random state that every call advances. JAX has
# none: you hold a *key*, pass it to each sampler, and `split` it to get
# fresh keys. This lesson covers "Managing randomness" (seed 003) and the
# random part of "Initializing a JAX Array" (seed 002), shows why explicit
# keys are what transformations need, and what a key is inside.
#
# Run: `python -m lessons 7` (`--step` for one cell at a time).

# %%
import matplotlib.pyplot as plt
import numpy as np

import tinygrad_tracer as jax
import tinygrad_tracer.numpy as jnp
from tinygrad_tracer import random
from _show import show

# %% [markdown]
# ## 1. A key is a value
# `random.key(seed)` makes a key; a sampler takes the key first. The same key
# always gives the same numbers: nothing was consumed.

# %%
seed = 123
key = jax.random.key(seed)
rand_tensor = jax.random.uniform(key, (2, 3))
print(f"Random Tensor: \n {rand_tensor} \n")

key = jax.random.key(124)
rand_tensor1 = jax.random.uniform(key, (2, 3))
rand_tensor2 = jax.random.uniform(key, (2, 3))
assert (rand_tensor1 == rand_tensor2).all()
print("same key, same numbers:", bool((rand_tensor1 == rand_tensor2).all()))

# %% [markdown]
# ## 2. `split` for new numbers
# To get different numbers, split the key into new keys and never use the
# old one again. `split(key, n)` gives `n` keys at once.

# %%
k1, k2 = jax.random.split(key, num=2)
rand_tensor1 = jax.random.uniform(k1, (2, 3))
rand_tensor2 = jax.random.uniform(k2, (2, 3))
assert (rand_tensor1 != rand_tensor2).all()
print(rand_tensor1, "\n", rand_tensor2)

# %% [markdown]
# ## 3. Seed 003's cells, on JAX's older stream
# Seed 003 uses the raw `PRNGKey` (two `uint32` words) and numbers from JAX
# before 0.5, which counted differently. The flag `jax_threefry_partitionable`
# picks the stream: with it off, the keys are exactly the seed's. The normal
# samples agree with the seed's to 6 digits, and exactly with what JAX 0.10.2
# prints: JAX has since changed how it turns bits into normal numbers, and we
# follow today's JAX. The last line goes back to today's default stream.

# %%
jax.config.update('jax_threefry_partitionable', False)
key = random.PRNGKey(0)
print(repr(key))
for i in range(3):
    print("Printing the random number using key: ", key, " gives: ", random.normal(key, shape=(1,)))

print("old key", key, "--> normal", random.normal(key, shape=(1,)))
key, subkey = random.split(key)
print("    \\---SPLIT --> new key   ", key, "--> normal", random.normal(key, shape=(1,)))
print("             \\--> new subkey", subkey, "--> normal", random.normal(subkey, shape=(1,)))

key, *subkeys = random.split(key, 4)
print(key, subkeys)
jax.config.update('jax_threefry_partitionable', True)

# %% [markdown]
# ## 4. Why no global state?
# With a hidden state, the numbers a function draws depend on what ran
# before it, and in what order. Two functions that each draw once give
# different results when you swap the calls; the program's meaning depends
# on evaluation order. For JAX that is fatal: `jit` may reorder or drop
# work, `vmap` runs one trace for a whole batch, and a traced function runs
# its Python only once. A key makes the randomness an *input*: same key, same
# result, in any order, under any transformation.

# %%
rng = np.random.default_rng(0)
a_first = (rng.normal(), rng.normal())           # "draw a, then b"
rng = np.random.default_rng(0)
b_first = (rng.normal(), rng.normal())[::-1]     # "draw b, then a": a gets b's number
print("NumPy, the numbers change with the order:", a_first != b_first)

key_a, key_b = random.split(random.key(0))
a_first = (random.normal(key_a), random.normal(key_b))
b_first = (random.normal(key_b), random.normal(key_a))[::-1]
print("keys, the same numbers in either order:", a_first == b_first)

# %% [markdown]
# And a global state does not survive tracing: `jit` runs the Python once, so
# NumPy's generator is called once and its number becomes a constant of the
# compiled program.

# %%
rng = np.random.default_rng(1)
add_noise = jax.jit(lambda x: x + rng.normal())
print("two calls, one 'random' number:", float(add_noise(0.0)), float(add_noise(0.0)))

# %% [markdown]
# Under `jit` a sampler is just more of the traced program (the key is an
# argument); under `vmap`, a batch of keys gives a batch of independent
# streams: one noise vector per example.

# %%
noisy = jax.jit(lambda key, x: x + 0.1 * random.normal(key, x.shape))
x = jnp.zeros(3)
print(noisy(random.key(1), x), noisy(random.key(1), x))
keys = random.split(random.key(2), 4)
print(jax.vmap(lambda k: random.uniform(k, (3,)))(keys))

# %% [markdown]
# ## 5. Are they any good?
# A histogram of 20,000 normal samples against the normal density.

# %%
samples = np.asarray(random.normal(random.key(3), (20000,)))
grid = np.linspace(-4, 4, 200)
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.hist(samples, bins=60, density=True, alpha=0.6, label="random.normal")
ax.plot(grid, np.exp(-grid ** 2 / 2) / np.sqrt(2 * np.pi), label="N(0, 1) density")
ax.legend()
show(fig, '07_normal_histogram')
print(f"mean {samples.mean():+.3f}, std {samples.std():.3f}")

# %% [markdown]
# ## 6. Inside a key
# A key is two 32-bit words; `key_data` shows them. `split` and every sampler
# are the threefry2x32 hash applied to a counter: a pure function of the key,
# built from ordinary integer primitives (add, xor, shifts), so it traces like
# everything else. Here is `split`'s whole program, counted by primitive:
# twenty rounds of add, rotate (two shifts and an `or`) and xor.

# %%
from collections import Counter

from tinygrad_tracer import prng

print(random.key_data(random.key(0)), random.key_data(random.split(random.key(0))))
print(prng.threefry_2x32(jnp.array([0, 0], dtype=jnp.uint32), jnp.arange(4, dtype=jnp.uint32)))
split_jaxpr = jax.make_jaxpr(random.split)(random.PRNGKey(0))
census = Counter(eqn.primitive.name for eqn in split_jaxpr.jaxpr.eqns)
print(f"split is {len(split_jaxpr.jaxpr.eqns)} equations:",
      ", ".join(f"{n} {name}" for name, n in census.most_common()))

# %% [markdown]
# ## Next
# - Exercise: `lessons/exercises/ex13_threefry.py` — write threefry2x32, the
#   hash under `jax.random`.
# - Read: `tinygrad_tracer/prng.py` (keys, `split`, `fold_in`) and the top of
#   `tinygrad_tracer/random.py` (bits into numbers); docs/READING.md,
#   "1. The machinery every transformation shares", step 5, is how its
#   primitives are made.
# - Lesson 8 (`python -m lessons 8`): linear regression, putting lessons 1–7 to work.
