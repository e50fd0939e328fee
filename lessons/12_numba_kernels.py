# %% [markdown]
# # Lesson 12 — Numba kernels: what jit compiles, and what it buys
#
# `jit` traces a function to a jaxpr once; a backend then turns the jaxpr
# into something that runs. The interpreter backend replays it equation by
# equation with NumPy; the Numba backend *fuses* runs of elementwise
# equations (and reductions at their end) into one loop, writes that loop as
# Python source, and compiles it to machine code with `numba.njit`. This
# lesson prints the generated source of seed 000's `selu` and of a small
# layer, draws which equations went into which kernel, and measures eager vs
# jit-interpreted vs jit-Numba (vs JAX, when it is installed) in a table and a
# bar chart.
#
# Run: `python lessons/12_numba_kernels.py` (about twenty seconds on a cold
# kernel cache, less after; `TT_DEBUG=1` also logs every trace and compile).

# %%
import statistics
import time

import matplotlib.pyplot as plt
import numpy as np

import tinygrad_tracer as jax
import tinygrad_tracer.numpy as jnp
import viz
from _show import show

# %% [markdown]
# ## 1. Seed 000's `selu`, traced
#
# The seed's function, unchanged. Its jaxpr has one equation per operation, each of which
# the interpreter would run as one NumPy call over the whole array, writing a
# new array every time.

# %%
def selu(x, alpha=1.67, lmbda=1.05):
  return lmbda * jnp.where(x > 0, x, alpha * jnp.exp(x) - alpha)

x = jnp.arange(100_000, dtype='float32') / 100_000 - 0.5
selu_jit = jax.jit(selu)
lowered = selu_jit.lower(x)
print(lowered.jaxpr)

# %% [markdown]
# ## 2. Fusion: one loop for the whole function
#
# The Numba backend (`backends/fusion.py`) groups equations into kernels:
# elementwise equations of the same shape fuse, and so does a reduction at
# the end of a group; a matrix product becomes a BLAS call between kernels.
# `lower(x).as_text()` prints the jaxpr, the plan (which equations each
# kernel holds), a *driver* (the Python that allocates outputs and calls the
# kernels) and each kernel's source. Each equation is a comment above the one
# line it became; every value stays in a register, and the loop writes only
# the output.

# %%
def source_of_kernels(text):
  """The generated part of `as_text()`: the whole lines from the backend's plan on."""
  lines = text.splitlines()
  start = next(i for i, line in enumerate(lines) if line.startswith('jit('))
  return '\n'.join(lines[start:])

print(source_of_kernels(lowered.as_text()))

# %% [markdown]
# The graph of `jit(selu)` draws each kernel as a box around the equations it
# fused.

# %%
show(viz.graph(selu_jit, x), '12_selu_kernels')

# %% [markdown]
# A dense layer with a softmax: the matrix product goes to BLAS
# (`np.matmul`), the `tanh` and the reductions of the softmax become loops
# around it. Reductions are where a kernel ends: the next loop needs the
# finished maximum or sum.

# %%
def layer(W, x):
  h = jnp.tanh(x @ W)
  h = h - h.max(axis=1, keepdims=True)
  e = jnp.exp(h)
  return e / e.sum(axis=1, keepdims=True)

W = jnp.asarray(np.random.RandomState(0).normal(size=(64, 32)), 'float32')
xb = jnp.asarray(np.random.RandomState(1).normal(size=(256, 64)), 'float32')
layer_jit = jax.jit(layer)
print(source_of_kernels(layer_jit.lower(W, xb).as_text()))
show(viz.graph(layer_jit, W, xb), '12_layer_kernels')

# %% [markdown]
# Seed 002's `jit` example, unchanged (on 500 x 600 arrays rather than the
# seed's 2500 x 3000, to stay quick): three elementwise operations, one kernel.

# %%
def matmul_relu_add(x, y):
    z = x * y
    return jax.nn.relu(z) + x

# %%
key = jax.random.key(123)
key1, key2 = jax.random.split(key)
x2 = jax.random.uniform(key1, (500, 600))
y2 = jax.random.uniform(key2, (500, 600))

# %%
jit_matmul_relu = jax.jit(matmul_relu_add)
# Warm-up: compile the function
_ = jit_matmul_relu(x2, y2)
print(source_of_kernels(jit_matmul_relu.lower(x2, y2).as_text()).split('# driver')[0].rstrip())

# %% [markdown]
# ## 3. What it buys
#
# The same two functions, four ways: *eager* (no `jit`: every primitive goes
# through the trace stack and runs alone), *jit, interpreter* (no tracing per
# call, still one NumPy call per equation), *jit, Numba* (the kernels above),
# and JAX's own `jit` (XLA), when JAX is installed. Each figure is the median
# of a few calls after a warm-up call that traces and compiles. Small sizes
# and few repeats keep the lesson short, so the figures are rough; the
# ratios are what to look at. `benchmarks/bench_jit.py` measures more
# carefully.

# %%
def timings_ms(fns, args, rounds=9):
  """{name: median ms per call} for {name: fn}, all called on `args`. One warm-up
  call each (tracing, compiling), then `rounds` rounds calling each in turn, so
  that the load of a busy machine, which drifts, weighs on each alike."""
  times = {name: [] for name in fns}
  for fn in fns.values():
    fn(*args)
  for _ in range(rounds):
    for name, fn in fns.items():
      t = time.perf_counter()
      np.asarray(fn(*args))        # wait for the result, as block_until_ready() would
      times[name].append(time.perf_counter() - t)
  return {name: statistics.median(ts) * 1e3 for name, ts in times.items()}


try:
  import jax as real_jax
  import jax.numpy as real_jnp
except ImportError:
  real_jax = None

programs = {'selu(100k)': (selu, (x,)), 'layer(256x64)': (layer, (W, xb)),
            'relu_add(500x600)': (matmul_relu_add, (x2, y2))}
if real_jax is not None:            # the same two programs, written for JAX itself
  real = {'selu(100k)': lambda x: 1.05 * real_jnp.where(x > 0, x, 1.67 * real_jnp.exp(x) - 1.67),
          'layer(256x64)': lambda W, x: real_jax.nn.softmax(real_jnp.tanh(x @ W), axis=1),
          'relu_add(500x600)': lambda x, y: real_jax.nn.relu(x * y) + x}

table = {}                          # program -> {way: ms}
for name, (f, args) in programs.items():
  fns = {'eager': f,
         'jit, interpreter': jax.jit(f, backend='interpret'),
         'jit, Numba': jax.jit(f, backend='numba')}
  if real_jax is not None:
    fns['JAX jit (XLA)'] = real_jax.jit(real[name])
  table[name] = timings_ms({k: fn for k, fn in fns.items() if k != 'JAX jit (XLA)'}, args)
  if real_jax is not None:          # JAX gets the same numbers as its own arrays
    table[name].update(timings_ms({'JAX jit (XLA)': fns['JAX jit (XLA)']},
                                  [real_jnp.asarray(np.asarray(a)) for a in args]))
ways = ['eager', 'jit, interpreter', 'jit, Numba', 'JAX jit (XLA)']

print(f"{'':18s}" + ''.join(f"{name:>20s}" for name in programs))
for way in ways:
  cells = [f"{table[name][way]:17.3f} ms" if way in table[name] else f"{'not installed':>20s}"
           for name in programs]
  print(f"{way:18s}" + ''.join(cells))

# %%
fig, ax = plt.subplots(figsize=(7, 3))
shown = [way for way in ways if way in table[next(iter(programs))]]
width = 0.8 / len(shown)
for k, way in enumerate(shown):
  ax.bar(np.arange(len(programs)) + k * width, [table[name][way] for name in programs], width, label=way)
ax.set_xticks(np.arange(len(programs)) + 0.4 - width / 2, list(programs), fontsize=8)
ax.set(ylabel='ms per call (median, log scale)', yscale='log', title='eager vs jit backends')
ax.legend(fontsize=8)
show(fig, '12_speed')

# %% [markdown]
# Where the time goes: eager pays Python's tracing machinery for every
# primitive on every call; the interpreter pays one NumPy call (and one new
# array) per equation; the Numba kernel reads the input once and writes the
# output once. The first call of a Numba kernel compiles it (seconds, cached
# on disk for the next run); that is why `jit` is for functions called many
# times.

# %% [markdown]
# ## Next
#
# Exercise: `lessons/exercises/ex11_codegen_rule.py` — write the Numba
# backend's code for one elementwise primitive: the one line a kernel gets per
# equation, like the lines printed above.
#
# Read next: `docs/READING.md`, part 6 (steps 21–25: `jit_p`, the trace cache,
# the interpreter, fusion and the generated source).
