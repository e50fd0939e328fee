# %% [markdown]
# # Lesson 13 — The CUDA backend, on Numba's GPU simulator
#
# `jit(f, backend='cuda')` turns the same fused groups as lesson 12's Numba
# backend into CUDA kernels: functions that thousands of GPU threads run at
# once, each on its own element. No GPU is needed to follow along: with
# `NUMBA_ENABLE_CUDASIM=1`, Numba's CUDA simulator runs every thread as
# Python, so kernels can be read, run and checked anywhere. This lesson writes
# one kernel by hand to show the programming model (grid, blocks, threads),
# then prints what the backend generates for an elementwise function, a
# reduction (a tree of warp shuffles) and a small layer, checks the answers
# against the CPU backend, and shows why timings under the simulator mean
# nothing.
#
# Run: `python lessons/13_gpu_simulator.py` (about ten seconds). On a machine
# with an NVIDIA GPU, `NUMBA_ENABLE_CUDASIM=0 python lessons/13_gpu_simulator.py`
# runs the same kernels on the card.

# %%
import os

# The simulator must be chosen before numba.cuda is imported (tinygrad_tracer
# imports it when the CUDA backend is first used), so this comes first.
os.environ.setdefault('NUMBA_ENABLE_CUDASIM', '1')

import statistics
import time

import numpy as np
from numba import config as numba_config, cuda

import tinygrad_tracer as jax
import tinygrad_tracer.numpy as jnp
import viz
from _show import show

SIMULATOR = bool(numba_config.ENABLE_CUDASIM)
if not SIMULATOR and not cuda.is_available():
  raise SystemExit("This lesson needs Numba's CUDA simulator or an NVIDIA GPU: NUMBA_ENABLE_CUDASIM "
                   "is set to 0 but no CUDA GPU was found. Run it without NUMBA_ENABLE_CUDASIM "
                   "(the lesson then turns the simulator on) or with NUMBA_ENABLE_CUDASIM=1.")
print("running on:", "Numba's CUDA simulator (threads run as Python)" if SIMULATOR
      else cuda.get_current_device().name)

# %% [markdown]
# ## 1. A kernel by hand
#
# A CUDA kernel is a function that every thread runs. Threads come in
# *blocks* (up to 1024 threads, which can share fast memory), and blocks in a
# *grid*. `cuda.grid(1)` is this thread's global index
# (`blockIdx.x * blockDim.x + threadIdx.x`); the launch
# `kernel[blocks, threads_per_block](...)` says how many of each. Here every
# thread computes one element of `a * x + y`; the `if` guards the threads past
# the end of the arrays.

# %%
@cuda.jit
def saxpy(a, x, y, out):
  i = cuda.grid(1)
  if i < out.size:
    out[i] = a * x[i] + y[i]

n = 10
x_host = np.arange(n, dtype=np.float32)
y_host = np.ones(n, dtype=np.float32)
out = cuda.device_array(n, dtype=np.float32)     # memory on the card
threads = 4
blocks = (n + threads - 1) // threads            # 3 blocks of 4 threads: 12 threads for 10 elements
saxpy[blocks, threads](np.float32(2.), cuda.to_device(x_host), cuda.to_device(y_host), out)
print(f"{blocks} blocks x {threads} threads:", out.copy_to_host())

# %% [markdown]
# ## 2. What the backend generates: seed 000's `selu`
#
# The backend fuses all of its equations into one kernel, as the CPU backend
# does. The loop is a *grid-stride* loop: each thread starts at its global
# index and steps by the total number of threads, so any grid covers any
# size. The arrays go to the card once and the result stays there until it
# is read.

# %%
def selu(x, alpha=1.67, lmbda=1.05):
  return lmbda * jnp.where(x > 0, x, alpha * jnp.exp(x) - alpha)

x = jnp.linspace(-1., 1., 64, dtype='float32')      # tiny: every thread is Python here
selu_cuda = jax.jit(selu, backend='cuda')
lowered = selu_cuda.lower(x)


def generated_part(text):
  """The whole lines of `as_text()` from the backend's plan on (the jaxpr is above them)."""
  lines = text.splitlines()
  start = next(i for i, line in enumerate(lines) if line.startswith('jit('))
  return '\n'.join(lines[start:])

print(generated_part(lowered.as_text()))
print("same as the CPU backend:", np.allclose(selu_cuda(x), jax.jit(selu, backend='numba')(x)))
show(viz.graph(selu_cuda, x), '13_selu_cuda')

# %% [markdown]
# ## 3. A reduction: one block per result, a tree of warp shuffles
#
# Summing each row is different: many threads must combine their numbers.
# Each block computes one row's sum. Its threads first add up their share of
# the row. Then they merge in rounds: a GPU runs threads in *warps* of 32
# that step together, and `cuda.shfl_down_sync(mask, v, n)` hands each lane
# the `v` of the lane `n` places further on, straight from its registers.
# With n = 4, 2, 1 (for 8 threads) half of the remaining partial sums are
# added at each round, until lane 0 holds the total. A block of more than
# 32 threads adds one more round: lane 0 of each warp writes its warp's
# total to *shared memory* (one copy per block), `cuda.syncthreads()` makes
# every thread wait for the others, and the warps merge those totals the
# same way. (Numba's simulator has no shuffles of its own;
# `backends/cuda_simulator.py` adds them.)

# %%
row_sum = jax.jit(lambda a: a.sum(axis=1), backend='cuda')
a = jnp.arange(24.).reshape(3, 8)
print(generated_part(row_sum.lower(a).as_text()))
print("row sums:", row_sum(a), " NumPy:", np.asarray(a).sum(axis=1))

# %% [markdown]
# ## 4. A small layer: a tiled matrix product, then the fused rest
#
# `x @ W` runs as a tiled shared-memory matrix product kernel: each block
# computes a tile of the output, loading tiles of `x` and `W` into shared
# memory so that each number read from the card's main memory is used many
# times. `tanh` and the bias add fuse into the kernel after it.

# %%
def dense(W, b, x):
  return jnp.tanh(x @ W + b)

rng = np.random.RandomState(0)
W = jnp.asarray(rng.normal(size=(8, 4)), 'float32')
b = jnp.asarray(rng.normal(size=(4,)), 'float32')
xb = jnp.asarray(rng.normal(size=(6, 8)), 'float32')
dense_cuda = jax.jit(dense, backend='cuda')
print(generated_part(dense_cuda.lower(W, b, xb).as_text()))
print("same as the CPU backend:",
      np.allclose(dense_cuda(W, b, xb), jax.jit(dense, backend='numba')(W, b, xb), atol=1e-6))

# %% [markdown]
# Gradients work the same way: `grad` makes a bigger jaxpr, and the backend
# compiles it like any other.

# %%
loss = lambda W: jnp.mean(dense(W, b, xb) ** 2)
g_cuda = jax.jit(jax.grad(loss), backend='cuda')(W)
g_cpu = jax.jit(jax.grad(loss), backend='numba')(W)
print("grad on the CUDA backend matches the CPU backend:", np.allclose(g_cuda, g_cpu, atol=1e-6))

# %% [markdown]
# ## 5. A loop stays on the device
#
# A kernel cannot wait for another kernel, so a loop is driven from the host:
# the backend compiles the loop's body as a CUDA program of its own, and the
# host launches its kernels once per iteration on values that never leave the
# card. `fori_loop` with fixed bounds is a `scan`, which needs nothing back
# from the device; a `while_loop` copies back one value per iteration, its
# condition (XLA does the same on a GPU). The plan's first lines say so.

# %%
from tinygrad_tracer import lax

def grow(x):
  return lax.fori_loop(0, 5, lambda i, x: jnp.tanh(x) * 2.0, x)

grow_cuda = jax.jit(grow, backend='cuda')
print('\n'.join(generated_part(grow_cuda.lower(x).as_text()).splitlines()[:2]))
print("same as the CPU backend:", np.allclose(grow_cuda(x), jax.jit(grow, backend='numba')(x)))

# %% [markdown]
# ## 6. Timings under the simulator mean nothing
#
# The simulator runs each of the 64 threads of `selu` as Python, one after
# another, with Python objects standing in for the card's memory. On a GPU
# the same kernel would take microseconds; here it takes milliseconds, far
# slower than the CPU backend. These figures measure the simulator, not the
# kernel: they are printed only to make that point. On a real card,
# `benchmarks/bench_cuda.py` measures properly.

# %%
def median_ms(fn, *args, repeats=5):
  """Median wall time of fn(*args) in ms, after a warm-up call (compiling)."""
  fn(*args)
  times = []
  for _ in range(repeats):
    t = time.perf_counter()
    np.asarray(fn(*args))
    times.append(time.perf_counter() - t)
  return statistics.median(times) * 1e3

cpu_ms = median_ms(jax.jit(selu, backend='numba'), x)
cuda_ms = median_ms(selu_cuda, x)
where = 'CUDA simulator' if SIMULATOR else 'CUDA GPU'
print(f"selu on 64 elements: Numba CPU {cpu_ms:.3f} ms, {where} {cuda_ms:.3f} ms"
      + (" (the simulator's figure says nothing about a GPU)" if SIMULATOR else ""))

# %% [markdown]
# ## Next
#
# Exercise: `lessons/exercises/ex12_cuda_block_sum.py` — write the tree
# reduction of section 3 yourself, in shared memory (the classic version,
# before warp shuffles), and run it on the simulator.
#
# Read next: the docstring of `tinygrad_tracer/backends/numba_cuda.py` (which
# step runs where) and `backends/cuda_kernels.py` (the kernel templates),
# after `docs/READING.md` part 6 (steps 21–25).
