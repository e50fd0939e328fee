# %% [markdown]
# # Lesson 5 — `vmap`: write it for one example, run it on a batch
#
# `jax.vmap(f)` is `f` mapped over a leading axis of its inputs, without a
# Python loop and without rewriting `f` for batches. This lesson covers
# "Automatic vectorization (`jax.vmap`)" (seed 000) and the vectorization
# half of "Accelerating code with jit & ops vectorization" (seed 003), then
# `in_axes` / `out_axes`, nesting, and how vmap composes with `grad`.
#
# Run: `python -m lessons 5` (`--step` for one cell at a time).

# %%
import time

import tinygrad_tracer as jax
import tinygrad_tracer.numpy as jnp
from tinygrad_tracer import random
import viz
from _show import show

# %% [markdown]
# ## 1. A function written for one example (seed 000)
# `loss` compares one vector with a reference. On a batch it silently
# computes something else: one number for the whole batch.

# %%
def loss(x: jax.Array, x0: jax.Array):
    return jnp.sum((x - x0) ** 2)


x = jnp.arange(3.)
x0 = jnp.ones(3)
print(loss(x, x0))
batched_x = jnp.arange(12).reshape(4, 3)  # batch of 4 vectors
print(loss(batched_x, x0))  # wrong!

# %% [markdown]
# Two ways out by hand: rewrite `loss` for batches (sum over the last axis
# only), or loop in Python. `vmap` is a third: it turns `loss` into the
# batched version for you. `in_axes=(0, None)` maps axis 0 of `x` and passes
# `x0` whole to every example.

# %%
loss_batched = jax.vmap(loss, in_axes=(0, None))  # batch x over axis 0, do not batch x0
print(loss_batched(batched_x, x0))
print("by hand:", jnp.sum((batched_x - x0) ** 2, axis=1))
print("loop:   ", jnp.stack([loss(row, x0) for row in batched_x]))

# %% [markdown]
# ## 2. What `vmap` records
# `vmap` does not loop: it runs `loss` once, on *batch tracers* that carry the
# whole batch and remember which axis is the batch axis (`bdim`). Each
# primitive's batching rule says how to apply it to the batch at once. The
# jaxpr shows the batched program: the reduction now sums over axis 1 only.

# %%
print(jax.make_jaxpr(loss_batched)(batched_x, x0))
show(viz.graph(loss_batched, batched_x, x0), '05_vmap_loss')

# %% [markdown]
# ## 3. Matrix times a batch of vectors (seed 003)

# %%
key = random.PRNGKey(0)
mat = random.normal(key, (15, 10))
batched_x = random.normal(key, (5, 10))  # Batch size on axis 0
single = random.normal(key, (10,))


def apply_matrix(v):
    return jnp.dot(mat, v)


print("Single apply shape: ", apply_matrix(single).shape)
print("Batched example shape: ", jax.vmap(apply_matrix)(batched_x).shape)

# %% [markdown]
# `vmap` turned the matrix-vector product into one matrix-matrix product,
# which is why it is fast. Compare with a Python loop over the batch (a batch
# of 2000 here):

# %%
many = random.normal(key, (2000, 10))
batched_apply = jax.vmap(apply_matrix)
print(jax.make_jaxpr(batched_apply)(many))


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, (time.perf_counter() - t0) * 1e3


looped, t_loop = timed(lambda: jnp.stack([apply_matrix(v) for v in many]))
vmapped, t_vmap = timed(lambda: batched_apply(many))
print(f"Python loop {t_loop:.0f} ms, vmap {t_vmap:.1f} ms, same result: {bool(jnp.allclose(looped, vmapped, atol=1e-5))}")

# %% [markdown]
# ## 4. `in_axes` and `out_axes`
# The batch axis need not be the first: `in_axes` gives one axis per
# argument (or `None`), and `out_axes` where the batch goes in the output.
# The sizes of the mapped axes must agree; if they do not, the error says
# which argument has which size.

# %%
cols = jnp.arange(12.0).reshape(3, 4)      # 4 examples, as columns
print(jax.vmap(loss, in_axes=(1, None))(cols, x0))
print(jax.vmap(lambda v: v * 2.0, in_axes=1, out_axes=1)(cols))
try:
    jax.vmap(lambda a, b: a + b)(jnp.ones((4, 3)), jnp.ones((5, 3)))
except ValueError as e:
    print("ValueError:", e)

# %% [markdown]
# ## 5. Nesting and composing
# `vmap` of `vmap` maps two axes: here every pair (row of `a`, row of `b`)
# gets its dot product, a matrix product written with one-example code.
# And `vmap` composes with `grad`: the gradient of `loss` at each of four
# points, in one call. (Exercise 8 uses this for per-example gradients.)

# %%
a = jnp.arange(6.0).reshape(2, 3)
b = jnp.arange(12.0).reshape(4, 3)
pairwise = jax.vmap(jax.vmap(jnp.dot, in_axes=(None, 0)), in_axes=(0, None))
print(pairwise(a, b))
print(bool(jnp.allclose(pairwise(a, b), a @ b.T)))

points = jnp.arange(12.0).reshape(4, 3)
print(jax.vmap(jax.grad(loss), in_axes=(0, None))(points, x0))

# %% [markdown]
# ## Next
# - Exercises: `lessons/exercises/ex04_sum_batching.py` and
#   `lessons/exercises/ex05_vecdot_batching.py` (batching rules), then
#   `lessons/exercises/ex08_per_example_grads.py`.
# - Read: docs/READING.md, "5. Batching: `vmap`".
# - Lesson 6 (`python -m lessons 6`): jaxprs and `jit`.
