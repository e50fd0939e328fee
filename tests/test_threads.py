"""Transformations running in several threads at once.

Each thread has its own trace stack (as in JAX), so a `grad` in one thread never
sees the `jit` another thread is tracing; the jit caches are shared and must stay
consistent. A tiny switch interval makes the threads interleave inside tracing.
"""
import sys
import threading

import numpy as np
import pytest

import tinygrad_tracer as jax
import tinygrad_tracer.numpy as jnp
from tinygrad_tracer import core

N_THREADS, N_ITERS = 4, 30


def loss(x):
    return jnp.sum(jnp.sin(x) * x)


# Shared by every thread: their trace caches and compiled executables are shared too.
SHARED = {backend: (jax.jit(loss, backend=backend), jax.jit(jax.grad(loss), backend=backend))
          for backend in ('interpret', 'numba')}


def work(backend, i):
    """Every transformation, some traced afresh on each call (new functions)."""
    x = jnp.linspace(-1.0, 1.0, 4) + i / 10
    jit_loss, jit_grad = SHARED[backend]
    scale = jnp.full(4, i / 2)   # closed over: a new function, so jit traces it anew
    fresh = jax.jit(lambda x: loss(x * scale), backend=backend)
    return [
        jax.grad(loss)(x),
        jax.vmap(jax.grad(loss))(jnp.stack([x, -x])),
        jit_loss(x),
        jit_grad(x),
        jax.vmap(jit_loss)(jnp.stack([x, 2 * x])),
        jax.grad(jit_loss)(x),
        fresh(x),
        jax.grad(fresh)(x),
        jax.make_jaxpr(jax.grad(loss))(x).eqns[-1].primitive.name,
    ]


def _same(a, b):
    assert len(a) == len(b)
    for u, v in zip(a, b):
        if isinstance(u, str):
            assert u == v
        else:
            np.testing.assert_allclose(np.asarray(u), np.asarray(v), rtol=1e-6)


@pytest.fixture
def fast_switching():
    """Switch threads every microsecond, so they interleave inside every trace."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def test_transformations_in_threads_match_single_threaded(fast_switching, tmp_path, monkeypatch):
    # A fresh kernel cache: the threads also race to write and compile the same kernels.
    monkeypatch.setenv('TT_CACHE_DIR', str(tmp_path))
    backends = ['interpret', 'numba']
    errors, results = [], {}

    def run(t):
        try:
            for i in range(N_ITERS):
                b = backends[(t + i) % 2]
                results[t, i] = (b, work(b, i))
        except BaseException as e:   # reported below: a thread's exception must fail the test
            errors.append(e)

    threads = [threading.Thread(target=run, args=(t,)) for t in range(N_THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    assert len(results) == N_THREADS * N_ITERS
    expected = {(b, i): work(b, i) for b in backends for i in range(N_ITERS)}
    for (t, i), (b, got) in results.items():
        _same(got, expected[b, i])


def test_each_thread_starts_with_its_own_eval_trace():
    seen = []

    def look():
        seen.append((core.trace_state.trace_stack, core.trace_state.dynamic_trace))

    with core.new_main(core.EvalTrace, name='outer'):   # this thread's stack grows ...
        thread = threading.Thread(target=look)
        thread.start()
        thread.join()
    (stack, dynamic), = seen                           # ... the other thread's does not
    assert len(stack) == 1 and stack[0].level == 0 and isinstance(stack[0].trace, core.EvalTrace)
    assert dynamic is stack[0]
    assert stack[0] is not core.trace_state.trace_stack[0]


# --- how many threads a compiled call takes (backends/threads.py) ----------------------------
# One thread too many on a busy machine costs 10-30x (a parallel loop waits for a core
# another program holds); one too few costs at most the parallel speed-up.

@pytest.mark.parametrize('loadavg, cores, free', [
    ("0.05 0.10 0.10 1/80 1", 2, 2),    # quiet: only this process
    ("1.00 0.90 0.50 1/80 1", 2, 2),    # this process computing without pause
    ("1.60 0.90 0.50 1/80 1", 2, 1),    # another program busy 60% of the last minute
    ("0.10 0.10 0.10 2/80 1", 2, 1),    # another program running right now
    ("2.05 2.00 1.90 3/80 1", 2, 1),    # two busy loops beside us: still one thread
    ("9.50 9.00 8.00 12/80 1", 16, 5),   # 11 others running now
    ("", 4, 4), ("garbage", 4, 4),      # no /proc: every core counts as free
])
def test_free_cores_counts_programs_running_now_and_lately(loadavg, cores, free):
    from tinygrad_tracer.backends import threads
    assert threads.free_cores(loadavg, cores) == free
