# %% [markdown]
# # Lesson 6 — Jaxprs and `jit`: the program as data, compiled
#
# Every transformation starts by *tracing*: running your Python function on
# stand-in values and recording the primitives it calls. The record is a
# *jaxpr*. `jit` traces once per kind of input, hands the jaxpr to a backend
# that compiles it, and reuses the result. This lesson covers "Just-in-time
# compilation" (seed 000), "Just-In-Time (JIT) compilation in JAX" (seed 002)
# and the jit half of "Accelerating code with jit & ops vectorization"
# (seed 003).
#
# Run: `python -m lessons 6` (`--step` for one cell at a time).

# %%
import time

import tinygrad_tracer as jax
import tinygrad_tracer.numpy as jnp
import viz
from _show import show

# %% [markdown]
# ## 1. A jaxpr
# `make_jaxpr(f)(x)` shows what `f` does to an array like `x`. The inputs
# are typed (`f32[3]`: float32, shape (3,)), each line is one primitive, and
# the Python around it (the `for` loop, the helper function) is gone: only
# the operations on arrays remain.

# %%
def helper(y):
    return jnp.exp(y) - 1.0


def f(x):
    for _ in range(2):
        x = helper(x) * 0.5
    return jnp.sum(x)


x = jnp.array([0.1, 0.2, 0.3])
print(jax.make_jaxpr(f)(x))

# %% [markdown]
# ## 2. Tracing runs your Python once
# A `print` inside the function runs while tracing, and shows a *tracer*
# (an abstract value: shape and dtype, no numbers). The compiled function
# does not contain the print: calling it again prints nothing, until a new
# shape forces a new trace.

# %%
@jax.jit
def noisy(x):
    print("  tracing with", x)
    return x * 2.0


print("first call:");  noisy(jnp.ones(3))
print("same shape:");  noisy(jnp.arange(3.0))
print("new shape:");   noisy(jnp.ones(4))

# %% [markdown]
# The same goes for a global variable: its value is read once, at tracing,
# and baked into the compiled program as a constant. Pass it as an argument
# if it changes.

# %%
scale = 10.0


@jax.jit
def scaled(x):
    return x * scale


print(scaled(1.0))
scale = 20.0
print(scaled(1.0), "(still 10: the trace kept the old value)")

# %% [markdown]
# ## 3. Speed (seed 000)
# Eagerly, each `jnp` operation runs on its own and makes a full temporary
# array. Under `jit` the default backend fuses the chain of elementwise
# operations into one loop, compiled with Numba.

# %%
def selu(x, alpha=1.67, lam=1.05):
    return lam * jnp.where(x > 0, x, alpha * jnp.exp(x) - alpha)


selu_jit = jax.jit(selu)
x = jnp.arange(1E6)
print(jnp.allclose(selu(x), selu_jit(x)))  # results match


def best_ms(fn, *args, n=5):
    """The fastest of n runs, in milliseconds (a poor man's %timeit)."""
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn(*args).block_until_ready()
        times.append(time.perf_counter() - t0)
    return min(times) * 1e3


print(f"eager {best_ms(selu, x):.2f} ms, jit {best_ms(selu_jit, x):.2f} ms")

# %% [markdown]
# Seed 002 does the same with `matmul_relu_add` (an elementwise product, a
# ReLU and a sum) on 2500×3000 arrays; here 500×600 keeps the lesson quick.
# The first call traces and compiles ("warm-up"; a kernel compiled on an
# earlier run is loaded from the kernel cache instead); later calls reuse it.

# %%
def matmul_relu_add(x, y):
    z = x * y
    return jax.nn.relu(z) + x


key = jax.random.key(123)
key1, key2 = jax.random.split(key)
x = jax.random.uniform(key1, (500, 600))
y = jax.random.uniform(key2, (500, 600))
jit_matmul_relu = jax.jit(matmul_relu_add)
t0 = time.perf_counter()
_ = jit_matmul_relu(x, y)   # Warm-up: compile the function
print(f"first call (trace + compile): {(time.perf_counter() - t0) * 1e3:.0f} ms")
print(f"eager {best_ms(matmul_relu_add, x, y):.2f} ms, jit {best_ms(jit_matmul_relu, x, y):.2f} ms")

# %% [markdown]
# ## 4. What the backend made of it
# `lower` shows the plan without running it: which equations went into which
# fused kernel, and the generated Python/Numba source. The graph draws each
# kernel as a box around its equations.

# %%
print(jit_matmul_relu.lower(x, y).as_text())
show(viz.graph(jit_matmul_relu, x, y), '06_jit_kernels')

# %% [markdown]
# Backends are interchangeable: `backend='interpret'` replays the jaxpr with
# NumPy, one primitive at a time (the simplest backend to read, in
# `tinygrad_tracer/backends/interpret.py`). The results agree.

# %%
interp = jax.jit(matmul_relu_add, backend='interpret')
print(bool(jnp.allclose(interp(x, y), jit_matmul_relu(x, y))))

# %% [markdown]
# ## 5. `jit` composes with the other transformations
# A jitted function shows up in a jaxpr as one equation, `jit`, whose
# parameter is the inner jaxpr. Every transformation has a rule for it, so
# `grad` of a jitted function differentiates its inside (and keeps it
# compiled), and `jit` of `grad` compiles the whole backward pass.

# %%
def loss(w):
    return jnp.sum(selu(w) ** 2)


w = jnp.linspace(-1.0, 1.0, 5)
print(jax.grad(jax.jit(loss))(w))
print("jit of grad agrees:", bool(jnp.allclose(jax.jit(jax.grad(loss))(w), jax.grad(loss)(w))))
print(jax.make_jaxpr(jax.grad(jax.jit(loss)))(w))

# %% [markdown]
# ## 6. What cannot be traced
# With no numbers inside, a tracer cannot decide a Python `if`. The error
# says so and what to use instead (`jnp.where`, `lax.cond`: lesson 10), or
# mark the argument static: `static_argnums` makes it part of the cache key,
# so each value traces once.

# %%
def relu_if(x):
    if x > 0:
        return x
    return 0.0 * x


try:
    jax.jit(relu_if)(1.0)
except jax.errors.TracerBoolConversionError as e:
    print("TracerBoolConversionError:", str(e).splitlines()[0])


def power(x, n):
    return x ** n if n > 0 else 1.0 / x


power_jit = jax.jit(power, static_argnums=1)
print(power_jit(2.0, 3), power_jit(2.0, -1))

# %% [markdown]
# ## Next
# - Exercise: `lessons/exercises/ex10_eval_jaxpr.py` — the interpreter that
#   replays a jaxpr (the heart of the `interpret` backend).
# - Read: docs/READING.md, "3. Jaxprs: recording instead of computing", then
#   "6. Compiling: `jit`".
# - Lesson 7 (`python -m lessons 7`): random numbers.
