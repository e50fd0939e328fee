"""What jit buys: tinygrad_tracer eager vs jit (interpreter, Numba) vs NumPy vs JAX.

    python benchmarks/bench_jit.py            # a few minutes; prints one table
    python benchmarks/bench_jit.py --quick    # seconds: small sizes, few calls (noisy)

Every row is measured in this one run, as the median of many calls after a
warm-up call (so compilation is not counted, except in the compile rows).
Ratios compare each row with `tt jit numba` in the same group (with JAX's eager
call in the eager group): 10.0x means ten times slower, 0.5x twice as fast.
Start-up and compile times run in fresh processes (a subprocess each): the
median of 5 (1 with --quick), with an empty and then a warm kernel cache folder.
Run it with a Python that has JAX for the JAX rows. The header line says when it
ran and the machine's load average then (other programs slow every row).
"""
import argparse
import datetime
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


def tt_mlp_step():
    """The jitted SGD step on the digits MLP, ready to call (for bench_load.py too)."""
    params, x, y = digits_data()
    tparams = [(tnp.asarray(w), tnp.asarray(b)) for w, b in params]
    tx, ty = tnp.asarray(x), tnp.asarray(y)
    jit_step = tt.jit(sgd_step(tt, tnp, tt_logsumexp), backend='numba')
    return lambda: jit_step(tparams, tx, ty)


def jax_mlp_step():
    """JAX's jitted SGD step on the same data (None without JAX)."""
    if jax is None:
        return None
    params, x, y = digits_data()
    jparams = [(jnp.asarray(w), jnp.asarray(b)) for w, b in params]
    jx, jy = jnp.asarray(x), jnp.asarray(y)
    jstep = jax.jit(sgd_step(jax, jnp, lambda z: jax.nn.logsumexp(z, axis=1, keepdims=True)))
    return lambda: jax.block_until_ready(jstep(jparams, jx, jy))


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


# --- gathers, scatters, scans: generated code, no NumPy fallback ------------------------------

def indexing_programs(lib, np_, logsumexp, batch=64):
    """{name: function} of the programs whose gathers, scatters and scans once ran on
    NumPy inside a jitted function: for `lib` tinygrad_tracer or JAX."""
    step = sgd_step(lib, np_, logsumexp)

    def epoch(params, x, y, order):
        def body(b, params):   # a minibatch gathered by index
            idx = lib.lax.dynamic_slice(order, (b * batch,), (batch,))
            return step(params, x[idx], y[idx])
        return lib.lax.fori_loop(0, order.shape[0] // batch, body, params)

    def histogram(labels):
        return np_.zeros(10, np_.int32).at[labels].add(1)

    def rnn(w, xs):
        def cell(h, x):
            h = np_.tanh(h @ w + x)
            return h, h
        return lib.lax.scan(cell, np_.zeros(w.shape[0], w.dtype), xs)[1]

    def cumsum(x):
        return np_.cumsum(x, axis=1)
    return dict(epoch=epoch, histogram=histogram, rnn=rnn, cumsum=cumsum)


def indexing_rows(quick, rounds, group):
    """tt jit numba vs JAX jit: an SGD epoch as one fori_loop, a histogram, an RNN, a cumsum."""
    params, x, y = digits_data()
    rng = np.random.default_rng(0)
    n = 10 ** 4 if quick else 10 ** 6
    args = dict(epoch=(params, x, y, rng.permutation(len(x)).astype(np.int32)),
                histogram=(rng.integers(0, 10, n).astype(np.int32),),
                rnn=((rng.normal(size=(64, 64)) / 8).astype(np.float32),
                     rng.normal(size=(100, 64)).astype(np.float32)),
                cumsum=(rng.normal(size=(100, 100) if quick else (1000, 1000)).astype(np.float32),))
    titles = dict(epoch=f"digits MLP SGD epoch, one fori_loop ({len(x) // 64} minibatches)",
                  histogram=f".at[].add histogram of {n:.0e} labels", rnn="scan RNN, 100 steps of 64",
                  cumsum=f"cumsum along rows of {args['cumsum'][0].shape}")
    tt_fns = indexing_programs(tt, tnp, tt_logsumexp)
    jax_fns = indexing_programs(jax, jnp, lambda z: jax.nn.logsumexp(z, axis=1, keepdims=True)) if jax else {}
    for name, arrays in args.items():
        t_args = tt.tree_util.tree_map(tnp.asarray, arrays)
        f = tt.jit(tt_fns[name], backend='numba')
        entries = [('tt jit numba', lambda: f(*t_args), 1 if name == 'epoch' else 5)]
        if jax:
            j_args, g = jax.tree_util.tree_map(jnp.asarray, arrays), jax.jit(jax_fns[name])
            entries.append(('JAX jit', lambda: jax.block_until_ready(g(*j_args)), 1 if name == 'epoch' else 5))
        group(titles[name], compare(entries, rounds))


# --- start-up and compile time, in fresh processes -----------------------------------------

_CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import tinygrad_tracer as tt, tinygrad_tracer.numpy as tnp
t1 = time.perf_counter()
x = tnp.ones(1000)
f = tt.jit(lambda x: 1.05 * tnp.where(x > 0, x, 1.67 * tnp.exp(x) - 1.67), backend='numba')
t2 = time.perf_counter()
f(x)   # imports Numba, traces, compiles (or loads the kernel from disk)
t3 = time.perf_counter()
g = tt.jit(lambda x, y: tnp.tanh(x * y + 1.0).sum(axis=0) * 3.0, backend='numba')
t4 = time.perf_counter()
g(x.reshape(10, 100), x.reshape(10, 100))
t5 = time.perf_counter()
from tinygrad_tracer.backends import numba_cpu
print(json.dumps(dict(imports=t1 - t0, first=t3 - t2, second=t5 - t4, stats=numba_cpu.stats)))
"""

_JAX_IMPORT = ("import time; t = time.perf_counter(); import jax, jax.numpy; "
               "print(time.perf_counter() - t)")


def _child(code, env):
    out = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"the benchmark's child process failed:\n{out.stderr}")
    return out.stdout


def compile_times(n_warm):
    """One run with an empty kernel cache, then `n_warm` runs with the kernels on disk."""
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, TT_CACHE_DIR=cache, PYTHONPATH=root)
        cold = json.loads(_child(_CHILD, env))
        warm = [json.loads(_child(_CHILD, env)) for _ in range(n_warm)]
    return cold, warm


def startup_rows(n, rows):
    title = "start-up and compile, in a new process"
    cold, warm = compile_times(n)
    med = lambda key: statistics.median(w[key] for w in warm) * 1e3   # noqa: E731
    rows.append((title, "import tinygrad_tracer", med('imports'), f"median of {n}; target <= 300"))
    if jax and n > 1:   # (not with --quick: JAX's import takes seconds)
        jax_import = [float(_child(_JAX_IMPORT, dict(os.environ))) for _ in range(n)]
        rows.append((title, "  import jax (for scale)", statistics.median(jax_import) * 1e3, ''))
    rows.append((title, "1st jit call, kernel on disk", med('first'),
                 f"median of {n}; Numba's start-up + trace + load; target <= 500"))
    rows.append((title, "1st jit call, empty cache", cold['first'] * 1e3,
                 "Numba's start-up + trace + compile"))
    rows.append((title, "2nd jit call, kernel on disk", med('second'),
                 f"trace + load; {warm[-1]['stats']}"))
    rows.append((title, "2nd jit call, empty cache", cold['second'] * 1e3, "trace + compile"))


def _load():
    """The 1, 5 and 15-minute load averages (programs running), as /proc/loadavg has them."""
    try:
        with open('/proc/loadavg') as f:
            return '/'.join(f.read().split()[:3])
    except OSError:
        return '?'


# --- the table ------------------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split('\n\n', 1)[1])
    ap.add_argument('--quick', action='store_true',
                    help="small sizes and few calls: finishes in seconds (noisy; for checking it runs)")
    args = ap.parse_args(argv)
    quick = args.quick
    started, load_before = datetime.datetime.now(datetime.timezone.utc), _load()
    rounds = 2 if quick else 7
    rows = []   # (group, name, ms or None, note)

    def group(title, entries, base='tt jit numba'):
        ref = dict((n, ms) for n, ms in entries).get(base)
        for name, ms in entries:
            ratio = f"{ms / ref:7.2f}x" if ref and ms else ''
            rows.append((title, name, ms, ratio))

    for n, calls in (((10 ** 5, 2),) if quick else ((10 ** 6, 5), (10 ** 7, 1))):
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
        group(f"selu, {n:.0e} float32", compare(entries, rounds))

    params, x, y = digits_data()
    tparams = [(tnp.asarray(w), tnp.asarray(b)) for w, b in params]
    tx, ty = tnp.asarray(x), tnp.asarray(y)
    step = sgd_step(tt, tnp, tt_logsumexp)
    n_kernels = len(tt.jit(step, backend='numba').lower(tparams, tx, ty).compile().kernels)
    # Eager runs alone: its BLAS calls use two threads, which would still be
    # busy-waiting when the next entry starts.
    eager = compare([('tt eager', lambda: step(tparams, tx, ty), 1)], rounds=min(rounds, 5))
    entries = [('tt jit numba', tt_mlp_step(), 5)]
    if jax:
        entries.append(('JAX jit', jax_mlp_step(), 5))
    group(f"digits MLP SGD step ({n_kernels} kernels)", eager + compare(entries, rounds))
    indexing_rows(quick, rounds, group)

    x3, x3_np = tnp.ones(3), np.ones(3, np.float32)
    interpret, compiled = (tt.jit(lambda v: v * 2.0, backend=b) for b in ('interpret', 'numba'))
    exe = compiled.lower(x3).compile()
    entries = [('tt jit interpret', lambda: interpret(x3), 200),
               ('tt jit numba', lambda: compiled(x3), 200),
               ('  executable alone', lambda: exe(x3), 200)]
    if jax:
        fj, xj3 = jax.jit(lambda v: v * 2.0), jnp.ones(3)
        entries.append(('JAX jit', lambda: fj(xj3), 200))
    group("dispatch, cached jit call on f32[3]", [(n, ms * 1e3) for n, ms in compare(entries, rounds)])

    for what, tt_fn, np_fn, jax_fn in (
            ('x + x', lambda: x3 + x3, lambda: x3_np + x3_np, lambda: xj3 + xj3),
            ('jnp.sin(x)', lambda: tnp.sin(x3), lambda: np.sin(x3_np), lambda: jnp.sin(xj3))):
        entries = [('tt eager', tt_fn, 500), ('NumPy', np_fn, 500)]
        if jax:
            entries.append(('JAX eager', lambda: jax_fn().block_until_ready(), 500))
        group(f"eager dispatch, {what} on f32[3]", [(n, ms * 1e3) for n, ms in compare(entries, rounds)],
              base='JAX eager')

    startup_rows(1 if quick else 5, rows)

    print(f"bench_jit.py{' --quick' if quick else ''}: started {started:%Y-%m-%d %H:%M} UTC, "
          f"{os.cpu_count()} cores, load average {load_before} at the start, {_load()} at the end")
    width = max(len(r[1]) for r in rows) + 2
    last = None
    for title, name, ms, note in rows:
        if title != last:
            unit = 'us' if 'dispatch' in title else 'ms'
            ratio = '' if title.startswith('start-up') else \
                f"vs {'JAX eager' if title.startswith('eager') else 'tt jit numba'}"
            print(f"\n{title}" + ' ' * max(1, 44 - len(title)) + f"median {unit}   {ratio}")
            last = title
        print(f"  {name:<{width}}{ms:12.3f}   {note}")


if __name__ == '__main__':
    main()
