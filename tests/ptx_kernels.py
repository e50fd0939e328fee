"""Compile every CUDA kernel of the shared function table (and of lesson 13's and the
GPU benchmark's programs) to PTX and assemble it to machine code, with no GPU:
`python tests/ptx_kernels.py`.

Run as a script, without NUMBA_ENABLE_CUDASIM (under the simulator Numba has no
compiler for a real card); `test_ptx.py` runs it. Prints one JSON object: per
architecture, a row per distinct kernel (case, kernel, registers, spills, warp
shuffles in its PTX), and the failures (case, kernel, error). Needs the `cuda`
extra (numba-cuda with NVVM and ptxas).
"""
import json
import os
import sys
import traceback

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, '..', 'benchmarks')]

import tinygrad_tracer as jax  # noqa: E402
import tinygrad_tracer.numpy as jnp  # noqa: E402
from tinygrad_tracer.backends import cuda_kernels, numba_cuda  # noqa: E402
import bench_cuda  # noqa: E402
from functions import CASES  # noqa: E402
from test_fallback_codegen import CASES as CODEGEN_CASES  # noqa: E402

ARCHS = [(9, 0), (7, 5)]   # H100 / H200, and an older card (Turing)


def programs():
    """(name, function, args): each case forward, the gradient of each differentiable
    one, and the programs of lesson 13 and benchmarks/bench_cuda.py (an MLP training
    step, ...)."""
    for case in CASES:
        args = tuple(jnp.asarray(a) for a in case.make_args(np.random.default_rng(0)))
        yield case.name, case.fn, args
        floats = [i for i, a in enumerate(args) if np.issubdtype(a.dtype, np.floating)]
        if case.differentiable and floats:
            def loss(*xs, fn=case.fn):
                return sum(jnp.sum(o.astype(jnp.float32)) for o in jax.tree_util.tree_leaves(fn(*xs)))
            yield f"grad({case.name})", jax.grad(loss, argnums=tuple(floats)), args

    # The gathers, scatters, scans and sorts of every dtype class (tests/test_fallback_codegen.py).
    for name, fn, arrays in CODEGEN_CASES:
        yield f"codegen {name}", fn, tuple(jnp.asarray(a) for a in arrays)

    # Reductions whose blocks hold several warps (256 threads), in every dtype class: the
    # accumulators a shuffle cannot move travel as a wider type (cuda_kernels._CARRIERS).
    for dtype in (np.bool_, np.int8, np.uint16, np.uint32, np.uint64, np.float64):
        yield (f"reductions of 300 {np.dtype(dtype).name}",
               lambda x: (jnp.any(x, axis=1), jnp.max(x, axis=1), jnp.argmin(x, axis=1), x.sum(axis=1)),
               (jnp.asarray(np.ones((3, 300), dtype)),))

    # Lesson 13's programs beyond those of the benchmark: a dense layer, its gradient, a loop.
    rng = np.random.default_rng(1)
    w, b, xb = (jnp.asarray(rng.normal(size=s).astype(np.float32)) for s in [(8, 4), (4,), (6, 8)])
    yield 'lesson 13 dense', lambda w, b, x: jnp.tanh(x @ w + b), (w, b, xb)
    yield 'lesson 13 grad', jax.grad(lambda w, b, x: jnp.mean(jnp.tanh(x @ w + b) ** 2)), (w, b, xb)
    yield 'lesson 13 loop', lambda x: jax.lax.fori_loop(0, 5, lambda i, x: jnp.tanh(x) * 2.0, x), (xb,)

    # The programs of benchmarks/bench_cuda.py, at small sizes.
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.normal(size=(16, 64)).astype(np.float32))
    yield 'bench selu', lambda x: bench_cuda.selu(jnp, x), (x,)
    yield 'bench row sum', lambda x: x.sum(axis=1), (x,)
    yield 'bench matmul', lambda a, b: a @ b, (x, x.T)
    yield 'mlp_step', mlp_step, mlp_step_args(rng)
    w, seq = (jnp.asarray(rng.normal(size=s).astype(np.float32)) for s in [(8, 8), (3, 1, 8)])
    yield 'bench scan rnn', lambda w, s: bench_cuda.rnn(jax.lax, jnp, w, s), (w, seq)


def mlp_step(params, x, y):
    """An SGD step of a 2-layer MLP (benchmarks/bench_cuda.py's, with this package)."""
    return bench_cuda.mlp_step(jnp, jax.grad, params, x, y)


def mlp_step_args(rng, batch=16, hidden=32):
    params = [(jnp.asarray(rng.normal(0, 0.1, (64, hidden)).astype(np.float32)), jnp.zeros(hidden)),
              (jnp.asarray(rng.normal(0, 0.1, (hidden, 10)).astype(np.float32)), jnp.zeros(10))]
    x = jnp.asarray(rng.normal(size=(batch, 64)).astype(np.float32))
    y = jnp.asarray(np.eye(10, dtype=np.float32)[rng.integers(0, 10, batch)])
    return params, x, y


def main():
    rows, failures, seen = {f"sm_{a}{b}": [] for a, b in ARCHS}, [], set()
    # Every dtype of the tiled matmul, whether or not a program above uses it.
    launches = [('matmul', [(f"matmul_{dtype}", kernel, cuda_kernels.matmul_signature(dtype))
                            for dtype, kernel in cuda_kernels.MATMUL.items()])]
    for name, fn, args in programs():
        try:
            launches.append((name, numba_cuda.compile(jax.make_jaxpr(fn)(*args), name).launches()))
        except Exception as e:   # the backend could not even plan it: a failure too
            failures.append(dict(case=name, kernel=None, error=f"{type(e).__name__}: {e}"))
    for name, kernels in launches:
        for kname, kernel, argtypes in kernels:
            source = getattr(kernel, 'py_func', kernel).__code__
            for cc in ARCHS:
                key = (source, argtypes, cc)
                if key in seen:
                    continue
                seen.add(key)
                try:
                    ptx = cuda_kernels.compile_ptx(kernel, argtypes, cc)
                    info = dict(cuda_kernels.assemble(ptx, cc), shuffles=ptx.count('shfl.sync.down'))
                except Exception as e:
                    failures.append(dict(case=name, kernel=kname, arch=f"sm_{cc[0]}{cc[1]}",
                                         error=''.join(traceback.format_exception_only(e))[-2000:]))
                    continue
                rows[f"sm_{cc[0]}{cc[1]}"].append(dict(case=name, kernel=kname, **info))
    json.dump(dict(rows=rows, failures=failures), sys.stdout)


if __name__ == '__main__':
    main()
