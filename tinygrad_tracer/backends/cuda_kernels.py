"""CUDA kernel source for the `cuda` backend: one fused `fusion.Kernel` becomes
one `@cuda.jit` function, and `matmul` is the tiled kernel for `dot_general`.

A fused kernel runs one thread per element of what it writes. The thread
turns its number `_t = cuda.grid(1)` into loop indices `i0, i1, ...` over the
kernel's domain (the shape without size-1 axes, as in `loops.py`), then runs
the same scalar lines the CPU backend puts in its loop body (`codegen`), with
selects rather than branches. A broadcast or transpose read by the kernel is
an index map (`loops.INDEX_MAPS`): `B[i1]`, `A[i1, i0]`. `selu` on 64
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
import re

import numpy as np
from numba import config as numba_config, cuda

from .. import lax
from ..jaxpr import Literal
from . import codegen, loops
from .loops import _paren
from .codegen import REDUCTIONS, const, key, np_type, scalar_expr, unit_reduction

HEADER = """\
# Kernel {name} of jit({fn}), written by tinygrad_tracer's CUDA backend.
# Fuses the jaxpr equations {eqns}.
import math

import numpy as np
from numba import cuda as _cuda

from tinygrad_tracer.backends._fastmath import (
    {helpers})


"""


def module_source(k, plan, fn_name, eqns_text):
    """The whole file of kernel `k`: imports, then its `@cuda.jit` function."""
    return HEADER.format(name=k.name, fn=fn_name, eqns=eqns_text,
                         helpers=',\n    '.join(codegen.HELPERS)) + kernel_source(k, plan)


def threads(k):
    """How many threads kernel `k` runs: one per kept element."""
    return math.prod(n for p, n in enumerate(k.domain) if p not in k.reduced)


def kernel_source(k, plan):
    """Source of the `@cuda.jit` function of kernel `k` (a `fusion.Kernel`)."""
    eqns, names = plan.eqns, plan.py_names
    K, R = k.domain, k.reduced
    kept = [p for p in range(len(K)) if p not in R]
    positions = {'full': list(range(len(K))), 'post': kept}
    members = set(k.members)

    def level_of(var):
        return 'full' if not R or key(var.aval.shape) == tuple(K) else 'post'

    def index(shape, level):
        it = iter(positions[level])
        return [f"i{next(it)}" if n != 1 else '0' for n in shape]

    def subscript(idx):   # 0-d arrays travel as 1-element arrays
        return f"[{', '.join(idx)}]" if idx else "[0]"

    def read(var, idx, comments):
        """The scalar at `idx` of `var`, through any layout operations, from a kernel input."""
        i = plan.access.get(var)
        if i is None:
            return f"{names[var].upper()}{subscript(idx)}"
        eqn = eqns[i]
        comments.append(loops.describe(eqn, plan.names))
        x = eqn.inputs[0]
        if isinstance(x, Literal):
            return const(x.val, x.aval.dtype)
        return read(x, loops.INDEX_MAPS[eqn.primitive](eqn, x.aval.shape, idx), comments)

    loaded = set()

    def operand(x, level, body):
        if isinstance(x, Literal):
            return const(x.val, x.aval.dtype)
        if plan.producer.get(x) in members or x in loaded:
            return names[x]
        comments = []
        expr = read(x, index(x.aval.shape, level), comments)
        body.extend(f"# {c}" for c in reversed(comments))
        body.append(f"{names[x]} = {expr}")
        loaded.add(x)
        return names[x]

    full, post, init, update, final = [], [], [], [], []
    for m in k.members:
        eqn = eqns[m]
        out = eqn.out_binders[0]
        name = names[out]
        if eqn.primitive in REDUCTIONS and R:
            x = operand(eqn.inputs[0], 'full', full)
            red = REDUCTIONS[eqn.primitive](eqn)
            sub = {a: f"{a}_{name}" for a in red.init}
            sub.update(v=x, i=f"i{R[0]}", take=f"take_{name}")

            def fill(s, sub=sub):   # one pass, so a substituted name is never replaced again
                return re.sub(r"\b(acc|idx|v|i|take)\b", lambda mt: sub[mt.group()], s)
            init.extend(f"{sub[a]} = {const(value, dtype)}" for a, (value, dtype) in red.init.items())
            update.append(f"# {loops.describe(eqn, plan.names)}")
            update.extend(fill(s) for s in red.update)
            final.append(f"{name} = {fill(red.final)}")
            continue
        level = level_of(out)
        body = full if level == 'full' else post
        if eqn.primitive is lax.iota_p:
            expr = f"{np_type(out.aval.dtype)}({index(out.aval.shape, level)[eqn.params['dimension']]})"
        else:
            args = [operand(x, level, body) for x in eqn.inputs]
            expr = (unit_reduction(eqn, args[0]) if eqn.primitive in REDUCTIONS
                    else scalar_expr(eqn, args))
        body.append(f"# {loops.describe(eqn, plan.names)}")
        body.append(f"{name} = {expr}")
    for v in k.outputs:
        level = level_of(v)
        (full if level == 'full' else post).append(
            f"{names[v].upper()}{subscript(index(v.aval.shape, level))} = {names[v]}")

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
        lines.append(f"i{p} = {e}" if last else f"i{p} = {_paren(e)} % {size}")
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
