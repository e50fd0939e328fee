"""The disk cache of Numba kernels (TT_CACHE_DIR) survives damage and company.

    damage     a kernel file, Numba's index (.nbi) or its machine code (.nbc) cut
               short or overwritten (a killed process, a full disk): the next
               process discards it with a one-line warning and compiles again
    processes  several processes compiling the same kernel into one empty folder
               at once all succeed (every file is written whole, then renamed)
    threads    several threads compiling the same new kernel at once all succeed

Each case runs in fresh processes (the cache is read when a process first
meets a kernel); together they take some 20 seconds.
"""
import json
import os
import shutil
import subprocess
import sys
import threading

import numpy as np
import pytest

import tinygrad_tracer as jax
import tinygrad_tracer.numpy as jnp
from tinygrad_tracer import xla_math
from tinygrad_tracer.backends import numba_cpu

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_CHILD = """
import json, os, sys, time
import tinygrad_tracer as jax, tinygrad_tracer.numpy as jnp
from tinygrad_tracer.backends import numba_cpu
if len(sys.argv) > 1:   # wait for the others, to compile at the same moment
    while not os.path.exists(sys.argv[1]):
        time.sleep(0.01)
out = jax.jit(lambda x: jnp.tanh(x) * 41.0 + 1.0, backend='numba')(jnp.arange(3.0))
print(json.dumps(dict(stats=numba_cpu.stats, out=[float(v) for v in out])))
"""
WANT = [float(v) for v in np.tanh(np.arange(3.0, dtype=np.float32)) * np.float32(41) + np.float32(1)]


def _start(cache, *args):
    env = dict(os.environ, TT_CACHE_DIR=str(cache), PYTHONPATH=ROOT)
    return subprocess.Popen([sys.executable, '-c', _CHILD, *map(str, args)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(proc):
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return json.loads(out), err


@pytest.fixture(scope='module')
def filled_cache(tmp_path_factory):
    """A cache folder holding the child's kernel, compiled by a first process."""
    cache = tmp_path_factory.mktemp('filled')
    result, _ = _finish(_start(cache))
    assert result['stats']['compiled'] == 1
    return cache


def _damage(path, how):
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2] if how == 'cut short' else bytes(range(256)) * 2)


@pytest.mark.parametrize('how', ['cut short', 'garbage'])
@pytest.mark.parametrize('kind', ['.py', '.nbi', '.nbc'])
def test_a_damaged_file_is_discarded_and_rebuilt(filled_cache, tmp_path, kind, how):
    cache = tmp_path / 'cache'
    shutil.copytree(filled_cache, cache)
    (path,) = [p for p in (cache / 'kernels').rglob(f'k_*{kind}')]
    _damage(path, how)
    result, err = _finish(_start(cache))
    assert result['out'] == WANT
    warnings = [line for line in err.splitlines() if 'RuntimeWarning' in line]
    assert len(warnings) == 1, err
    assert f"tinygrad_tracer: discarded the damaged kernel cache file {path}" in warnings[0]
    assert warnings[0].endswith("it will be rebuilt.")
    # Numba's files: compiled again. A kernel file: rewritten, its machine code still good.
    assert result['stats']['compiled' if kind != '.py' else 'loaded'] == 1
    assert _finish(_start(cache))[0]['stats']['loaded'] == 1   # and the repair is on disk


def test_processes_compiling_one_kernel_at_once(tmp_path):
    go = tmp_path / 'go'
    procs = [_start(tmp_path / 'cache', go) for _ in range(4)]
    go.touch()
    for proc in procs:
        result, err = _finish(proc)
        assert result['out'] == WANT and 'Warning' not in err


def test_threads_compiling_one_new_kernel_at_once(tmp_path, monkeypatch):
    monkeypatch.setenv('TT_CACHE_DIR', str(tmp_path))
    x = jnp.arange(4.0)
    closed = jax.make_jaxpr(lambda v: jnp.cos(v) * 7.0 - 2.0)(x)
    before = dict(numba_cpu.stats)
    start, results, errors = threading.Barrier(6), [], []

    def work():
        start.wait()
        try:   # the backend itself (jit's own lock would line the threads up)
            executable = numba_cpu.compile(closed, 'f')
            results.append(np.asarray(executable(x)[0]))
        except Exception as e:   # pragma: no cover - the failure being tested for
            errors.append(e)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=work) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert not errors
    # one fused multiply-add, as XLA's jit (its kernels contract a*b-c, as ours)
    want = xla_math.fma(np.cos(np.arange(4.0, dtype=np.float32)), np.float32(7), np.float32(-2))
    assert all(np.array_equal(r, want) for r in results) and len(results) == 6
    # One kernel module, compiled once: the other threads waited and reused it.
    assert {k: numba_cpu.stats[k] - before[k] for k in before} == {'compiled': 1, 'loaded': 0, 'reused': 5}
    assert len(list((tmp_path / 'kernels').glob('k_*.py'))) == 1
    assert not list((tmp_path / 'kernels').glob('*.tmp'))
