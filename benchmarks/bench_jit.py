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


def compare(entries, rounds=7):
    """{name: median ms} for [(name, fn, calls per round)], measured round-robin
    (a few calls of each in turn, `rounds` times) so that the machine's load,
    which drifts, weighs on every entry alike."""
    times = {name: [] for name, _, _ in entries}
    for _, fn, _ in entries:
        fn()   # warm-up: traces and compiles
    for _ in range(rounds):
        for name, fn, calls in entries:
            for _ in range(calls):
                t = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t)
    return [(name, statistics.median(times[name]) * 1e3) for name, _, _ in entries]


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
t1 = time.perf_counter()
x = tnp.ones(1000)
f = tt.jit(lambda x: 1.05 * tnp.where(x > 0, x, 1.67 * tnp.exp(x) - 1.67), backend='numba')
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

    for n, calls in ((10 ** 6, 5), (10 ** 7, 1)):
        x_np = np.random.default_rng(0).normal(size=n).astype(np.float32)
        x = tnp.asarray(x_np)
        interpret = tt.jit(lambda v: selu(tnp, v), backend='interpret')
        compiled = tt.jit(lambda v: selu(tnp, v), backend='numba')
        entries = [('tt eager', lambda: selu(tnp, x), 1),
                   ('tt jit interpret', lambda: interpret(x), 1),
                   ('tt jit numba', lambda: compiled(x), calls),
                   ('NumPy', lambda: selu(np, x_np), 1)]
        if jax:
            xj, fj = jnp.asarray(x_np), jax.jit(lambda v: selu(jnp, v))
            entries.append(('JAX jit', lambda: fj(xj).block_until_ready(), calls))
        group(f"selu, {n:.0e} float32", compare(entries))

    params, x, y = digits_data()
    tparams = [(tnp.asarray(w), tnp.asarray(b)) for w, b in params]
    tx, ty = tnp.asarray(x), tnp.asarray(y)
    step = sgd_step(tt, tnp, tt_logsumexp)
    jit_step = tt.jit(step, backend='numba')
    # Eager runs alone: its BLAS calls use two threads, which would still be
    # busy-waiting when the next entry starts.
    eager = compare([('tt eager', lambda: step(tparams, tx, ty), 1)], rounds=5)
    entries = [('tt jit numba', lambda: jit_step(tparams, tx, ty), 5)]
    if jax:
        jparams = [(jnp.asarray(w), jnp.asarray(b)) for w, b in params]
        jx, jy = jnp.asarray(x), jnp.asarray(y)
        jstep = jax.jit(sgd_step(jax, jnp, lambda z: jax.nn.logsumexp(z, axis=1, keepdims=True)))
        entries.append(('JAX jit', lambda: jax.block_until_ready(jstep(jparams, jx, jy)), 5))
    n_kernels = len(jit_step.lower(tparams, tx, ty).compile().kernels)
    group(f"digits MLP SGD step ({n_kernels} kernels)", eager + compare(entries))

    x3 = tnp.ones(3)
    interpret, compiled = (tt.jit(lambda v: v * 2.0, backend=b) for b in ('interpret', 'numba'))
    exe = compiled.lower(x3).compile()
    entries = [('tt jit interpret', lambda: interpret(x3), 200),
               ('tt jit numba', lambda: compiled(x3), 200),
               ('  executable alone', lambda: exe(x3), 200)]
    if jax:
        fj, xj3 = jax.jit(lambda v: v * 2.0), jnp.ones(3)
        entries.append(('JAX jit', lambda: fj(xj3), 200))
    group("dispatch, cached call on f32[3]", [(n, ms * 1e3) for n, ms in compare(entries)])

    cold, warm = compile_times()
    title = "compile, in a new process"
    rows.append((title, "import tinygrad_tracer + numba", cold['imports'] * 1e3, ''))
    rows.append((title, "1st jit call, empty cache", cold['first'] * 1e3,
                 "Numba's start-up + trace + compile"))
    rows.append((title, "1st jit call, kernel on disk", warm['first'] * 1e3,
                 "Numba's start-up + trace + load"))
    rows.append((title, "2nd jit call, empty cache", cold['second'] * 1e3, "trace + compile"))
    rows.append((title, "2nd jit call, kernel on disk", warm['second'] * 1e3,
                 f"trace + load; {warm['stats']}"))

    width = max(len(r[1]) for r in rows) + 2
    last = None
    for title, name, ms, note in rows:
        if title != last:
            unit = 'us' if title.startswith('dispatch') else 'ms'
            ratio = '' if title.startswith('compile') else 'vs tt jit numba'
            print(f"\n{title}" + ' ' * max(1, 44 - len(title)) + f"median {unit}   {ratio}")
            last = title
        print(f"  {name:<{width}}{ms:12.3f}   {note}")


if __name__ == '__main__':
    main()
