# %% [markdown]
# # Lesson 1 — A tour of tinygrad_tracer
#
# tinygrad_tracer is the core of JAX written in plain Python so you can read
# every line. This tour runs the four big ideas once each; later lessons open
# them up. Run it with `python lessons/01_tour.py`, or open it as a notebook
# (each `# %%` starts a cell; `jupytext --to notebook` converts it).

# %%
import tinygrad_tracer as jax
import tinygrad_tracer.numpy as jnp

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
print(selu_jit.lower(xs).as_text()[:1500])

# %% [markdown]
# ## 6. Random numbers — keys, not global state
# Keys are split explicitly; the numbers equal JAX's bit for bit.

# %%
key = jax.random.PRNGKey(0)
key, subkey = jax.random.split(key)
print(jax.random.normal(subkey, (3,)))

# %% [markdown]
# Next: `lessons/02_inside_grad.py` opens up the tracers behind `grad`.
