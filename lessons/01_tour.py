# %% [markdown]
# # Lesson 1 — A tour, then arrays: `jax.numpy` as accelerated NumPy
#
# tinygrad_tracer is the core of JAX written in plain Python so you can read
# every line. Part A runs the big ideas once each (later lessons open each one
# up); part B is about arrays: how they are made, what they carry, how they
# differ from NumPy's (they are immutable). It covers "JAX NumPy interface"
# (seed 000), "Getting started with JAX numpy" and "Differences from NumPy"
# (seed 001), "JAX Arrays manipulation" (seed 002) and the NumPy part of
# "JAX for the Impatient" (seed 003); their cells run here with only the
# imports changed.
#
# Run it with `python -m lessons 1` (add `--step` to go cell by cell), or open
# it as a notebook: each `# %%` starts a cell, and `jupytext --to notebook
# lessons/01_tour.py` converts it.
#
# # Part A — the tour

# %%
import numpy as np

import tinygrad_tracer as jax
import tinygrad_tracer.numpy as jnp
import viz
from _show import show

# %% [markdown]
# ## 1. Arrays and `jax.numpy`
# Arrays behave like NumPy's, with JAX's rules: 32-bit by default, and
# immutable — an update makes a new array.

# %%
x = jnp.arange(5.0)
print(repr(x))
y = x.at[0].set(10.0)
print("x unchanged:", x, " y:", y)

# %% [markdown]
# ## 2. `jax.grad` — derivatives by tracing
# `grad(f)` runs `f` on *tracers* that carry a tangent along with each value.

# %%
def selu(x, alpha=1.67, lam=1.05):
    return lam * jnp.where(x > 0, x, alpha * jnp.exp(x) - alpha)


print("selu'(-1) =", jax.grad(selu)(jnp.float32(-1.0)))
print("finite difference:", (selu(-1.0 + 1e-3) - selu(-1.0)) / 1e-3)

# %% [markdown]
# The picture is the program `grad` built: the forward pass, then the
# backward pass that carries the cotangent from the output back to `x`.

# %%
show(viz.graph(jax.grad(selu), -1.0), '01_grad_selu')

# %% [markdown]
# ## 3. Jaxprs — the program as data
# `make_jaxpr` records each primitive a function binds. Here is `f`, then its
# gradient: the gradient is just another program.

# %%
def f(x):
    return jnp.sin(x) * 2.0


print(jax.make_jaxpr(f)(1.0))
print(jax.make_jaxpr(jax.grad(f))(1.0))

# %% [markdown]
# ## 4. `jax.vmap` — batching without rewriting
# `loss` is written for one vector; `vmap` maps it over a batch axis.

# %%
def loss(x, x0):
    return jnp.sum((x - x0) ** 2)


batched_x = jnp.arange(12.0).reshape(4, 3)
x0 = jnp.ones(3)
print("wrong (not batch-aware):", loss(batched_x, x0))
print("vmap:", jax.vmap(loss, in_axes=(0, None))(batched_x, x0))
print(jax.make_jaxpr(jax.vmap(loss, in_axes=(0, None)))(batched_x, x0))

# %% [markdown]
# ## 5. `jax.jit` — compile once, run fast
# `jit` traces to a jaxpr once per input shape, then hands it to a backend.
# The default backend fuses elementwise chains into Numba loops; `lower`
# shows the code it generated.

# %%
import time

selu_jit = jax.jit(selu)
xs = jnp.arange(1e6, dtype=jnp.float32) / 1e6 - 0.5
print("results match:", bool(jnp.allclose(selu(xs), selu_jit(xs), atol=1e-6)))


def median_time(fn, n=5):
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn(xs).block_until_ready()
        times.append(time.perf_counter() - t0)
    return sorted(times)[n // 2]


eager, compiled = median_time(selu), median_time(selu_jit)
print(f"eager {eager * 1e3:.2f} ms, jit {compiled * 1e3:.2f} ms: {eager / compiled:.0f}x faster")
# The jaxpr, the plan (which equations went into which kernel) and the kernel's source:
print(selu_jit.lower(xs).as_text())

# %% [markdown]
# ## 6. Random numbers — keys, not global state
# Keys are split explicitly; the numbers equal JAX's bit for bit.

# %%
key = jax.random.PRNGKey(0)
key, subkey = jax.random.split(key)
print(jax.random.normal(subkey, (3,)))


# %% [markdown]
# # Part B — arrays
#
# ## 7. Making arrays
# `jnp` mirrors NumPy's API. A JAX array is a `jax.Array`; its repr says so,
# and shows the dtype.

# %%
print("tinygrad_tracer", jax.__version__)   # seed 002's "Setup" cell prints jax.__version__
x = jnp.arange(10)
print(x)
print(repr(x))

# %%
data = [[1, 2, 3], [3, 4, 5]]
x_array = jnp.array(data)
assert isinstance(x_array, jax.Array)
print(x_array, x_array.shape, x_array.dtype)

np_array = np.array(data)
x_np = jnp.array(np_array)          # a copy: changing np_array later does not change x_np
assert isinstance(x_np, jax.Array)
print(x_np, x_np.shape, x_np.dtype)

# %%
x_ones = jnp.ones_like(x_array)
print(x_ones, x_ones.shape, x_ones.dtype)
x_zeros = jnp.zeros_like(x_array)
print(x_zeros, x_zeros.shape, x_zeros.dtype)

# %% [markdown]
# ## 8. What an array carries: shape, dtype, device
# The defaults are 32-bit: `int32` and `float32`, where NumPy (and PyTorch's
# integers) use 64 bits. Double precision is opt-in
# (`jax.config.update('jax_enable_x64', True)`), as in JAX.

# %%
x_jax = jnp.ones((3, 4))
print(f"Shape of tensor: {x_jax.shape}")
print(f"Datatype of tensor: {x_jax.dtype}")
print(f"Device tensor is stored on: {x_jax.device}")
print("default integer dtype:", jnp.array([1, 2, 3, 4]).dtype, " NumPy's:", np.array([1, 2, 3, 4]).dtype)
print("default float dtype:", jnp.zeros((3, 4)).dtype)

# %% [markdown]
# Devices: here there is one CPU device. `device_put` places an array on a
# device (seed 003 uses it to move a NumPy array over); `np.asarray` brings an
# array back as NumPy. The CUDA backend (lesson 13) runs kernels on a
# simulated GPU; arrays still live in host memory.

# %%
print(f"Available devices: {jax.devices()}")
cpu_device = jax.devices("cpu")[0]
x_cpu = jax.device_put(np.random.normal(size=(4, 4)), device=cpu_device)
print(isinstance(x_cpu, jax.Array), x_cpu.device, x_cpu.dtype)
print(repr(np.asarray(jnp.array([[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]))))

# %% [markdown]
# ## 9. Operations: indexing, joining, matmul, reductions
# All as in NumPy, with one difference: an index out of bounds does not raise
# (an accelerator cannot raise mid-kernel); reading clamps it to the last
# element.

# %%
m = jnp.ones((4, 4))
n = jnp.array([[1.0, 2.0, 3.0, 4.0],
               [5.0, 6.0, 7.0, 8.0]])
print(jnp.dot(n, m).block_until_ready())

tensor = jnp.ones((3, 4))
print(f"First row: {tensor[0]}")
print(f"First column: {tensor[:, 0]}")
print(f"Last column: {tensor[..., -1]}")
print("jnp.arange(10)[11] =", jnp.arange(10)[11])

# %%
tensor = tensor.at[:, 1].set(0)
t1 = jnp.concat([tensor, tensor, tensor], axis=1)
print(t1)
y1 = tensor @ tensor.T
y2 = jnp.matmul(tensor, tensor.T)
assert (y1 == y2).all()
agg = tensor.sum()
agg_value = agg.item()
print(agg_value, isinstance(agg_value, float), isinstance(agg, jax.Array))

# %% [markdown]
# `block_until_ready()` is there for timing: JAX returns before an accelerator
# has finished. Here every operation finishes before it returns, so it is a
# no-op kept for the same code to run on both. Seed 001 times a dot product of
# 10 million elements; a smaller one here:

# %%
long_vector = jnp.arange(int(1e6))
t0 = time.perf_counter()
print(jnp.dot(long_vector, long_vector).block_until_ready())
print(f"dot of 1e6 int32 elements: {(time.perf_counter() - t0) * 1e3:.1f} ms")

# %% [markdown]
# Why is that number so small? The exact sum of squares, about 3.3e17, does
# not fit in the 32 bits of an `int32`: it wrapped around (modulo 2**32),
# exactly as in JAX. Use floats, or enable x64, for big sums.

# %% [markdown]
# ## 10. Immutability: `.at[...]` instead of assignment
# A NumPy function may change its argument in place. A JAX array refuses:
# transformations trace your function and must be able to assume that a value
# never changes once made. `.at[idx].set(v)` returns a *new* array (inside
# `jit` the compiler may reuse the buffer, so it is not slower).

# %%
x = np.array([1, 2, 3])


def in_place_modify(x):
    x[0] = 123
    return None


in_place_modify(x)
print("NumPy, changed in place:", x)
try:
    in_place_modify(jnp.array(x))
except TypeError as e:
    print("TypeError:", e)

# %%
def jax_in_place_modify(x):
    return x.at[0].set(123)


y = jnp.array([1, 2, 3])
print(repr(jax_in_place_modify(y)))
print("y is unchanged:", repr(y))
z = jnp.array([[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]])
print(z.at[0, :].set(3.0))
print(z.at[:, 0].add(10.0), "\n", z.at[1].multiply(0.5), "\n", z.at[0].max(2.5))

# %% [markdown]
# ## Next
# - Exercise: `lessons/exercises/ex01_softplus_jvp.py` — your first rule, the
#   derivative of `softplus` (run it: `python lessons/exercises/ex01_softplus_jvp.py`).
# - Read: docs/READING.md, "1. The machinery every transformation shares".
# - Lesson 2 (`python -m lessons 2`): `grad`, `value_and_grad`, `has_aux`.
