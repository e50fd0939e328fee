"""CUDA kernel source for the `cuda` backend: one fused `fusion.Kernel` becomes
one `@cuda.jit` function, and `matmul` is the tiled kernel for `dot_general`.

A fused kernel runs one thread per element of what it writes. The thread
turns its number `_t = cuda.grid(1)` into loop indices `i0, i1, ...` over the
kernel's domain (the shape without size-1 axes, as in `loop_nests.py`), then runs
the same scalar lines the CPU backend puts in its loop body (`codegen`), with
selects rather than branches. A broadcast or transpose read by the kernel is
an index map (`loop_nests.INDEX_MAPS`): `B[i1]`, `A[i1, i0]`. `selu` on 64
elements becomes

    @_cuda.jit
    def selu_k0(A, K):
        _t = _cuda.grid(1)
        if _t < 64:
            i0 = _t
            a = A[i0]
            # b:f32[64] = broadcast_in_dim[broadcast_dimensions=() shape=(64,)] 0.0:f32[]
            b = np.float32(0.0)
            # c:bool[64] = gt a b
            c = a > b
            ...
            # i:f32[64] = select_n c h a
            i = (a if c else h)
            ...
            K[i0] = k

Reductions are a *per-output-element loop*: one thread per kept element loops
over the reduced axes with a scalar accumulator (the `codegen.REDUCTIONS`
lines). It is simpler than a shared-memory tree reduction and fast enough
while the kept axes give every thread work; a full reduction to one scalar
runs on a single thread.
"""
import math

import numpy as np
from numba import config as numba_config, cuda

from . import common, loop_nests
from .loop_nests import paren


def module_source(k, fn_name, source):
    """The whole file of kernel `k` (a `fusion.Kernel`) of jit(`fn_name`) with `source`
    (its `kernel_source`): a header, the imports, the `@cuda.jit` function."""
    return common.module_text(f"Kernel {k.name} of jit({fn_name}), written by tinygrad_tracer's "
                              f"CUDA backend.\nFuses the jaxpr equations {common.ranges(k.eqn_indices)}.",
                              'from numba import cuda as _cuda', source)


def threads(k):
    """How many threads kernel `k` runs: one per kept element."""
    return math.prod(n for p, n in enumerate(k.domain) if p not in k.reduced)


def kernel_source(k, plan):
    """Source of the `@cuda.jit` function of kernel `k` (a `fusion.Kernel`): the CPU
    backend's kernel body (`loop_nests.KernelBody`), run by one thread per kept element."""
    names = plan.py_names
    K, R = k.domain, k.reduced
    kept = [p for p in range(len(K)) if p not in R]
    # 0-d arrays travel as 1-element arrays; reductions keep a scalar accumulator per thread.
    b = loop_nests.KernelBody(k, plan, lambda idx: f"[{', '.join(idx)}]" if idx else "[0]", columns=False)
    full, post, init, update, final = b.full, b.post, b.init, b.update, b.final

    lines = [f"def {k.name}({', '.join(names[v].upper() for v in k.inputs + k.outputs)}):",
             "    _t = _cuda.grid(1)",
             f"    if _t < {threads(k)}:"]
    pad = ' ' * 8
    lines += [pad + line for line in _unravel_thread(kept, K)]
    if R:
        lines += [pad + line for line in init]
        for depth, p in enumerate(R):
            lines.append(pad + '    ' * depth + f"for i{p} in range({K[p]}):")
        lines += [pad + '    ' * len(R) + line for line in full + update]
        lines += [pad + line for line in final + post]
    else:
        lines += [pad + line for line in full]
    return "@_cuda.jit\n" + '\n'.join(lines) + '\n'


def _unravel_thread(positions, domain):
    """Lines setting the loop index of each position from the thread number `_t`."""
    lines, stride = [], 1
    for n, p in enumerate(reversed(positions)):
        size = domain[p]
        e = '_t' if stride == 1 else f"_t // {stride}"
        last = n == len(positions) - 1
        lines.append(f"i{p} = {e}" if last else f"i{p} = {paren(e)} % {size}")
        stride *= size
    return lines[::-1]


# --- dot_general: a tiled shared-memory matmul ----------------------------------------------------

# Threads per block side. Every thread of a block loads one element of an A tile
# and one of a B tile into shared memory, waits for the others, then adds up its
# slice of the tile product: each element of A and B is read from global memory
# once per tile instead of once per output element. The simulator runs each
# thread as a Python thread, so it gets smaller tiles.
TILE = 8 if numba_config.ENABLE_CUDASIM else 16


@cuda.jit
def matmul(A, B, C):
    """C = A @ B for float32 A (m, k), B (k, n), C (m, n), with (TILE, TILE) blocks."""
    sa = cuda.shared.array((TILE, TILE), dtype='float32')
    sb = cuda.shared.array((TILE, TILE), dtype='float32')
    tx, ty = cuda.threadIdx.x, cuda.threadIdx.y
    row, col = cuda.blockIdx.y * TILE + ty, cuda.blockIdx.x * TILE + tx
    m, kk, n = A.shape[0], A.shape[1], B.shape[1]
    acc = np.float32(0.0)
    for t in range((kk + TILE - 1) // TILE):
        # Zeros past the edges keep the tile product right for any shape.
        sa[ty, tx] = A[row, t * TILE + tx] if row < m and t * TILE + tx < kk else 0.0
        sb[ty, tx] = B[t * TILE + ty, col] if col < n and t * TILE + ty < kk else 0.0
        cuda.syncthreads()
        for j in range(TILE):
            acc += sa[ty, j] * sb[j, tx]
        cuda.syncthreads()
    if row < m and col < n:
        C[row, col] = acc
