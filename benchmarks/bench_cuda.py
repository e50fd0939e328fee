"""The CUDA backend on a GPU: jit(f, backend='cuda') against the Numba CPU backend
(and JAX on the GPU when it is installed with CUDA).

    python benchmarks/bench_cuda.py               # on a machine with an NVIDIA GPU
    python benchmarks/bench_cuda.py --quick       # smaller sizes, fewer calls: seconds
    NUMBA_ENABLE_CUDASIM=1 python benchmarks/bench_cuda.py   # anywhere: a smoke run

Rows: selu on 1e6 / 1e7 / 1e8 float32 (with the fraction of the card's memory
bandwidth it reaches: 8 bytes moved per element, bandwidth from the device
properties), a row sum, a 2-D float32 matmul, a digits-sized MLP SGD step and a
`lax.scan` RNN (a loop the host drives, its carry on the card).
Medians of several calls after a warm-up call; a GPU time includes the copies
to and from the card that a call makes (arguments arrive as host arrays).

Under the CUDA simulator every GPU thread runs as Python: it runs tiny sizes,
to check that the script works, and its figures mean nothing.
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))

from numba import config as numba_config, cuda  # noqa: E402

import tinygrad_tracer as tt  # noqa: E402
import tinygrad_tracer.numpy as tnp  # noqa: E402

SIMULATOR = bool(numba_config.ENABLE_CUDASIM)

try:
    import jax
    import jax.numpy as jnp
    JAX_GPU = jax.devices()[0].platform == 'gpu'
except Exception:   # not installed, or without a GPU: the JAX rows are skipped
    jax = jnp = None
    JAX_GPU = False


CALLS = 7   # per timing (--quick: 2)


def median_ms(fn, calls=None):
    calls = calls or CALLS
    fn()   # warm-up: trace and compile
    times = []
    for _ in range(calls):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def bandwidth_gb_s():
    """Peak memory bandwidth of GPU 0 from its properties (2 transfers per clock, DDR);
    None under the simulator or where the properties are missing."""
    if SIMULATOR:
        return None
    dev = cuda.get_current_device()
    try:
        clock_khz = dev.MEMORY_CLOCK_RATE
        bus_bits = dev.GLOBAL_MEMORY_BUS_WIDTH
    except AttributeError:
        return None
    return 2 * clock_khz * 1e3 * bus_bits / 8 / 1e9


def selu(np_, x):
    return 1.05 * np_.where(x > 0, x, 1.67 * np_.exp(x) - 1.67)


def mlp_step(np_, grad, params, x, y):
    def loss(params):
        (w1, b1), (w2, b2) = params
        h = np_.tanh(x @ w1 + b1)
        logits = h @ w2 + b2
        logp = logits - np_.log(np_.sum(np_.exp(logits), axis=1, keepdims=True))
        return -np_.mean(np_.sum(logp * y, axis=1))
    g = grad(loss)(params)
    return [(w - 0.1 * dw, b - 0.1 * db) for (w, b), (dw, db) in zip(params, g)]


def rnn(lax, np_, w, seq):
    """A tanh RNN over `seq` (steps, 1, width) with `lax.scan`: the last hidden state."""
    h, _ = lax.scan(lambda h, x: (np_.tanh(h @ w + x), None), np_.zeros_like(seq[0]), seq)
    return h


def rows(name, entries, note=''):
    print(f"\n{name:44s}median ms")
    for label, fn in entries:
        print(f"  {label:36s}{median_ms(fn):10.3f}")
    if note:
        print(f"  {note}")


def main(argv=None):
    global CALLS
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split('\n\n', 1)[1])
    ap.add_argument('--quick', action='store_true',
                    help="one selu size (1e6), 1024x1024 matrices, 2 calls a row: seconds on a GPU")
    quick = ap.parse_args(argv).quick
    CALLS = 2 if quick else CALLS
    if SIMULATOR:
        print("UNDER THE CUDA SIMULATOR: every GPU thread runs as Python. The sizes are tiny "
              "and the figures below MEAN NOTHING; they only show that the script runs.")
    else:
        name = cuda.get_current_device().name
        print(f"GPU: {name.decode() if isinstance(name, bytes) else name}")
    bw = bandwidth_gb_s()
    rng = np.random.default_rng(0)
    sizes = [256] if SIMULATOR else [10 ** 6] if quick else [10 ** 6, 10 ** 7, 10 ** 8]
    for n in sizes:
        x = tt.numpy.asarray(rng.standard_normal(n).astype(np.float32))
        gpu = tt.jit(lambda x: selu(tnp, x), backend='cuda')
        cpu = tt.jit(lambda x: selu(tnp, x), backend='numba')
        entries = [('tt jit cuda', lambda: np.asarray(gpu(x))), ('tt jit numba (CPU)', lambda: np.asarray(cpu(x)))]
        if JAX_GPU:
            xj = jax.device_put(np.asarray(x))
            fj = jax.jit(lambda x: selu(jnp, x))
            entries.append(('JAX jit (GPU)', lambda: fj(xj).block_until_ready()))
        note = ''
        if bw:
            ms = median_ms(lambda: np.asarray(gpu(x)))
            note = f"tt jit cuda: {8 * n / (ms * 1e-3) / 1e9:.1f} GB/s = {8 * n / (ms * 1e-3) / 1e9 / bw:.1%} of {bw:.0f} GB/s"
        rows(f"selu, {n:.0e} float32", entries, note)

    m = 8 if SIMULATOR else 1024 if quick else 4096
    a = tt.numpy.asarray(rng.standard_normal((m, m)).astype(np.float32))
    b = tt.numpy.asarray(rng.standard_normal((m, m)).astype(np.float32))
    for name, f in [(f"row sum, f32[{m},{m}]", lambda a, b: a.sum(axis=1)),
                    (f"matmul, f32[{m},{m}] @ f32[{m},{m}]", lambda a, b: a @ b)]:
        gpu, cpu = tt.jit(f, backend='cuda'), tt.jit(f, backend='numba')
        entries = [('tt jit cuda', lambda: np.asarray(gpu(a, b))), ('tt jit numba (CPU)', lambda: np.asarray(cpu(a, b)))]
        if JAX_GPU:
            aj, bj, fj = jax.device_put(np.asarray(a)), jax.device_put(np.asarray(b)), jax.jit(f)
            entries.append(('JAX jit (GPU)', lambda: fj(aj, bj).block_until_ready()))
        rows(name, entries)

    batch, hidden = (4, 8) if SIMULATOR else (128, 256)
    params = [(tnp.asarray(rng.normal(0, 0.1, (64, hidden)).astype(np.float32)), tnp.zeros(hidden)),
              (tnp.asarray(rng.normal(0, 0.1, (hidden, 10)).astype(np.float32)), tnp.zeros(10))]
    xs = tnp.asarray(rng.standard_normal((batch, 64)).astype(np.float32))
    ys = tnp.asarray(np.eye(10, dtype=np.float32)[rng.integers(0, 10, batch)])
    gpu = tt.jit(lambda p, x, y: mlp_step(tnp, tt.grad, p, x, y), backend='cuda')
    cpu = tt.jit(lambda p, x, y: mlp_step(tnp, tt.grad, p, x, y), backend='numba')
    entries = [('tt jit cuda', lambda: tt.tree_util.tree_map(np.asarray, gpu(params, xs, ys))),
               ('tt jit numba (CPU)', lambda: tt.tree_util.tree_map(np.asarray, cpu(params, xs, ys)))]
    if JAX_GPU:
        pj = jax.tree_util.tree_map(lambda v: jax.device_put(np.asarray(v)), params)
        xj, yj = jax.device_put(np.asarray(xs)), jax.device_put(np.asarray(ys))
        fj = jax.jit(lambda p, x, y: mlp_step(jnp, jax.grad, p, x, y))
        entries.append(('JAX jit (GPU)', lambda: jax.block_until_ready(fj(pj, xj, yj))))
    rows(f"digits MLP SGD step, batch {batch}, hidden {hidden}", entries)

    # A loop: the host launches the body's kernels once per step; the carry stays on the card.
    steps, width = (3, 8) if SIMULATOR else (64, 256)
    w = tnp.asarray(rng.normal(0, 0.1, (width, width)).astype(np.float32))
    seq = tnp.asarray(rng.standard_normal((steps, 1, width)).astype(np.float32))
    gpu, cpu = tt.jit(lambda w, s: rnn(tt.lax, tnp, w, s), backend='cuda'), \
        tt.jit(lambda w, s: rnn(tt.lax, tnp, w, s), backend='numba')
    entries = [('tt jit cuda', lambda: np.asarray(gpu(w, seq))), ('tt jit numba (CPU)', lambda: np.asarray(cpu(w, seq)))]
    if JAX_GPU:
        wj, sj = jax.device_put(np.asarray(w)), jax.device_put(np.asarray(seq))
        fj = jax.jit(lambda w, s: rnn(jax.lax, jnp, w, s))
        entries.append(('JAX jit (GPU)', lambda: fj(wj, sj).block_until_ready()))
    rows(f"scan RNN, {steps} steps, f32[1,{width}] @ f32[{width},{width}]", entries)
    if SIMULATOR:
        print("\n(simulator: the figures above mean nothing)")


if __name__ == '__main__':
    main()
