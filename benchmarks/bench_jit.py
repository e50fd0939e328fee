"""What jit buys: tinygrad_tracer eager vs jit (interpreter, Numba) vs NumPy vs JAX.

    python benchmarks/bench_jit.py            # about a minute; prints one table

Every row is measured in this one run, as the median of many calls after a
warm-up call (so compilation is not counted, except in the compile rows).
Ratios compare each row with `tt jit numba` in the same group: 10.0x means ten
times slower than our Numba kernels, 0.5x twice as fast. Compile times run in
fresh processes (a subprocess each), with an empty and then a warm kernel
cache folder.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))

import tinygrad_tracer as tt                     # noqa: E402
import tinygrad_tracer.numpy as tnp              # noqa: E402

try:
    import jax
    import jax.numpy as jnp
except ImportError:   # the JAX rows are skipped
    jax = jnp = None


def median_ms(fn, repeat, min_seconds=0.3):
    """Median wall time of fn() in milliseconds (at least `repeat` calls)."""
    fn()
    times, start = [], time.perf_counter()
    while len(times) < repeat or time.perf_counter() - start < min_seconds:
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
        if len(times) >= 20 * repeat:
            break
    return statistics.median(times) * 1e3


# --- the programs ----------------------------------------------------------------------------

def selu(np_, x, alpha=1.67, lmbda=1.05):
    return lmbda * np_.where(x > 0, x, alpha * np_.exp(x) - alpha)


def mlp_loss(np_, logsumexp, params, x, y):
    h = x
    for w, b in params[:-1]:
        h = selu(np_, h @ w + b)
    w, b = params[-1]
    logits = h @ w + b
    return -np_.mean(np_.sum((logits - logsumexp(logits)) * y, axis=1))


def sgd_step(lib, np_, logsumexp):
    def step(params, x, y):
        grads = lib.grad(lambda p: mlp_loss(np_, logsumexp, p, x, y))(params)
        return [(w - 0.01 * gw, b - 0.01 * gb) for (w, b), (gw, gb) in zip(params, grads)]
    return step


def tt_logsumexp(z):
    m = tt.lax.stop_gradient(tnp.max(z, axis=1, keepdims=True))
    return m + tnp.log(tnp.sum(tnp.exp(z - m), axis=1, keepdims=True))


def digits_data():
    """The digits set (1347 training images of 8x8) if scikit-learn is here, else
    random data of the same shapes (the timing only depends on the shapes)."""
    rng = np.random.default_rng(0)
    try:
        from sklearn.datasets import load_digits
        d = load_digits()
        x, labels = d.data[:1347].astype(np.float32) / 16, d.target[:1347]
    except ImportError:
        x, labels = rng.random((1347, 64), dtype=np.float32), rng.integers(0, 10, 1347)
    y = np.eye(10, dtype=np.float32)[labels]
    sizes = [64, 100, 100, 10]
    params = [((rng.normal(size=(m, n)) / np.sqrt(m)).astype(np.float32), np.zeros(n, np.float32))
              for m, n in zip(sizes[:-1], sizes[1:])]
    return params, x, y


# --- compile time, in fresh processes -------------------------------------------------------

_CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import tinygrad_tracer as tt, tinygrad_tracer.numpy as tnp
from tinygrad_tracer.backends import numba_cpu
import numba
t1 = time.perf_counter()
f = tt.jit(lambda x: 1.05 * tnp.where(x > 0, x, 1.67 * tnp.exp(x) - 1.67), backend='numba')
x = tnp.ones(1000)
t2 = time.perf_counter()
f(x)
t3 = time.perf_counter()
g = tt.jit(lambda x, y: tnp.tanh(x * y + 1.0).sum(axis=0) * 3.0, backend='numba')
t4 = time.perf_counter()
g(x.reshape(10, 100), x.reshape(10, 100))
t5 = time.perf_counter()
print(json.dumps(dict(imports=t1 - t0, first=t3 - t2, second=t5 - t4, stats=numba_cpu.stats)))
"""


def compile_times():
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, TT_CACHE_DIR=cache, PYTHONPATH=root)
        runs = [json.loads(subprocess.run([sys.executable, '-c', _CHILD], env=env, check=True,
                                          capture_output=True, text=True).stdout)
                for _ in range(2)]
    return runs


# --- the table ------------------------------------------------------------------------------------

def main():
    rows = []   # (group, name, ms or None, note)

    def group(title, entries, base='tt jit numba'):
        ref = dict((n, ms) for n, ms in entries).get(base)
        for name, ms in entries:
            ratio = f"{ms / ref:7.2f}x" if ref and ms else ''
            rows.append((title, name, ms, ratio))

    for n, repeat in ((10 ** 6, 20), (10 ** 7, 5)):
        x_np = np.random.default_rng(0).normal(size=n).astype(np.float32)
        x = tnp.asarray(x_np)
        entries = [('tt eager', median_ms(lambda: selu(tnp, x), repeat)),
                   ('tt jit interpret', median_ms(
                       lambda f=tt.jit(lambda v: selu(tnp, v), backend='interpret'): f(x), repeat)),
                   ('tt jit numba', median_ms(
                       lambda f=tt.jit(lambda v: selu(tnp, v), backend='numba'): f(x), repeat)),
                   ('NumPy', median_ms(lambda: selu(np, x_np), repeat))]
        if jax:
            xj = jnp.asarray(x_np)
            fj = jax.jit(lambda v: selu(jnp, v))
            entries.append(('JAX jit', median_ms(lambda: fj(xj).block_until_ready(), repeat)))
        group(f"selu, {n:.0e} float32", entries)

    params, x, y = digits_data()
    tparams = [(tnp.asarray(w), tnp.asarray(b)) for w, b in params]
    tx, ty = tnp.asarray(x), tnp.asarray(y)
    step = sgd_step(tt, tnp, tt_logsumexp)
    jit_step = tt.jit(step, backend='numba')
    entries = [('tt eager', median_ms(lambda: step(tparams, tx, ty), 3)),
               ('tt jit numba', median_ms(lambda: jit_step(tparams, tx, ty), 30))]
    if jax:
        jparams = [(jnp.asarray(w), jnp.asarray(b)) for w, b in params]
        jx, jy = jnp.asarray(x), jnp.asarray(y)
        jstep = jax.jit(sgd_step(jax, jnp, lambda z: jax.nn.logsumexp(z, axis=1, keepdims=True)))
        entries.append(('JAX jit', median_ms(lambda: jax.block_until_ready(jstep(jparams, jx, jy)), 30)))
    n_kernels = len(jit_step.lower(tparams, tx, ty).compile().kernels)
    group(f"digits MLP SGD step ({n_kernels} kernels)", entries)

    x3 = tnp.ones(3)
    entries = [('tt jit interpret', median_ms(lambda f=tt.jit(lambda v: v * 2.0, backend='interpret'): f(x3), 2000)),
               ('tt jit numba', median_ms(lambda f=tt.jit(lambda v: v * 2.0, backend='numba'): f(x3), 2000))]
    exe = tt.jit(lambda v: v * 2.0, backend='numba').lower(x3).compile()
    entries.append(('  executable alone', median_ms(lambda: exe(x3), 2000)))
    if jax:
        fj, xj3 = jax.jit(lambda v: v * 2.0), jnp.ones(3)
        entries.append(('JAX jit', median_ms(lambda: fj(xj3), 2000)))
    group("dispatch, cached call on f32[3]", [(n, ms * 1e3) for n, ms in entries])

    cold, warm = compile_times()
    rows.append(("compile in a new process", "imports (tinygrad_tracer + numba)", cold['imports'] * 1e3, ''))
    rows.append(("compile in a new process", "selu: empty cache (trace + compile)", cold['first'] * 1e3, ''))
    rows.append(("compile in a new process", "selu: from the disk cache", warm['first'] * 1e3,
                 f"{warm['stats']}"))
    rows.append(("compile in a new process", "2nd kernel from the disk cache", warm['second'] * 1e3, ''))

    width = max(len(r[1]) for r in rows) + 2
    last = None
    for title, name, ms, note in rows:
        if title != last:
            unit = 'us' if title.startswith('dispatch') else 'ms'
            print(f"\n{title}" + ' ' * max(1, 44 - len(title)) + f"median {unit}   vs tt jit numba")
            last = title
        print(f"  {name:<{width}}{ms:12.3f}   {note}")


if __name__ == '__main__':
    main()
