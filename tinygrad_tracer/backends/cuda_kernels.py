"""CUDA kernel source for the `cuda` backend: one fused `fusion.Kernel` becomes
one `@cuda.jit` function (a scatter or sort, one per phase); a layout op read
outside the kernels a copy kernel (`copy_source`); `matmul` is written by hand;
`compile_ptx` and `assemble` compile any of them for a real card without one.

A fused kernel is the CPU backend's kernel body (`loop_nests.KernelBody`, the
scalar lines of `codegen`, with selects rather than branches) in a grid-stride
loop: thread `_cuda.grid(1)` takes elements `_t`, `_t + gridsize`, ..., turns
each into loop indices `i0, i1, ...` over the kernel's domain (the shape without
size-1 axes) and runs the body. A broadcast or transpose read by the kernel is an
index map (`loop_nests.INDEX_MAPS`): `B[i1]`, `A[i1, i0]`. `selu` on 64 elements
becomes

    @_cuda.jit
    def selu_k0(A, K):
        for _t in range(_cuda.grid(1), 64, _cuda.gridsize(1)):
            i0 = _t
            a = A[i0]
            # b:f32[64] = broadcast_in_dim[broadcast_dimensions=() shape=(64,)] 0.0:f32[]
            b = np.float32(0.0)
            # c:bool[64] = gt a b
            c = a > b
            ...
            K[i0] = k

In the kernel's file `np` is `cuda_math` (NumPy's names as device code: libdevice
on a GPU), and `exp_f32` & co. come from there too.

A reduction runs a *block per result*: its threads split the reduced elements
(thread `_tid` takes `_tid`, `_tid + blockDim`, ...), each keeping accumulators
(the `codegen.REDUCTIONS` lines). Then each warp merges its 32 lanes'
accumulators as a tree of warp shuffles, lane l taking lane l + n's with
`cuda.shfl_down_sync` for n = 16, 8, 4, 2, 1 (`codegen.Reduction.merge`): no
shared memory and no waiting. Lane 0 of each warp writes its warp's total to a
shared slot; after one `syncthreads` the warps merge the slots with the same
tree, and thread 0 finishes the result. The simulator has no shuffles of its
own: `cuda_simulator` gives it them. Float sums add in a different order than
the CPU backend's (the last bits may differ).

A kernel with a running total (cumsum, cumprod) runs a thread per line along
the scanned axis, its loop inside the thread's, in order: the CPU's order, so
the same bits. A scatter or a sort (`loop_kernels`) is a kernel per phase.
"""
import contextlib
import importlib.util
import math
import os
import re
import shutil
import subprocess
import tempfile
import types

import numba
import numpy as np
from numba import config as numba_config, cuda

from ..jaxpr import Var
from . import codegen, common, cuda_simulator, loop_kernels, loop_nests
from .loop_nests import paren


def module_source(k, fn_name, source):
    """The whole file of kernel `k` (a `fusion.Kernel`) of jit(`fn_name`) with `source`
    (its `kernel_source`): a header, the imports, the `@cuda.jit` function."""
    return common.module_text(f"Kernel {k.name} of jit({fn_name}), written by tinygrad_tracer's "
                              f"CUDA backend.\nFuses the jaxpr equations {common.ranges(k.eqn_indices)}.",
                              'from numba import cuda as _cuda', source, math_module='cuda_math',
                              np_import="# np: NumPy's names as device code (libdevice on a GPU)\n"
                                        "from tinygrad_tracer.backends import cuda_math as np")


# Threads per block of an elementwise kernel; the most blocks a kernel launches (a
# grid-stride loop gives each thread several elements when there are more).
BLOCK = 128
MAX_BLOCKS = 4096
# The most threads of a reduction's block (a power of two; the simulator runs each
# thread as a Python thread, so it gets fewer).
REDUCE_BLOCK = 16 if numba_config.ENABLE_CUDASIM else 256
if numba_config.ENABLE_CUDASIM:
    cuda_simulator.install()   # the simulator has no warp shuffles of its own


def outputs(k):
    """How many threads' worth of work kernel `k` has: a kept element each, or for a
    scan a line along its scanned axis each."""
    scanned = (k.scan[0],) if k.scan else ()
    return math.prod(n for p, n in enumerate(k.domain) if p not in k.reduced + scanned)


def launch(k):
    """(blocks, threads per block) of kernel `k`: elementwise, a thread per element (up
    to MAX_BLOCKS blocks); a reduction, a block per result, its threads splitting the
    reduced elements (the smallest power of two covering them, up to REDUCE_BLOCK)."""
    n = outputs(k)
    if k.reduced:
        m = math.prod(k.domain[p] for p in k.reduced)
        return max(1, min(n, MAX_BLOCKS)), min(REDUCE_BLOCK, 1 << max(m - 1, 0).bit_length())
    block = max(1, min(BLOCK, n))
    return max(1, min(math.ceil(n / block), MAX_BLOCKS)), block


def kernel_source(k, plan):
    """Source of the `@cuda.jit` function of kernel `k` (a `fusion.Kernel`): the CPU
    backend's kernel body (`loop_nests.KernelBody`) in a grid-stride loop over the
    kept elements; a reduction's block shares each result's reduced elements and
    combines its threads' accumulators as a tree in shared memory."""
    names = plan.py_names
    K, R = k.domain, k.reduced
    kept = [p for p in range(len(K)) if p not in R]
    # 0-d arrays travel as 1-element arrays.
    b = loop_nests.KernelBody(k, plan, lambda idx: f"[{', '.join(idx)}]" if idx else "[0]", columns=False)
    head = [f"def {k.name}({', '.join(names[v].upper() for v in k.inputs + k.outputs)}):"]
    if k.scan:   # a thread per line, running along it in order as the CPU does
        p, reverse = k.scan
        others = [q for q in kept if q != p]
        lines = head + [f"    for _t in range(_cuda.grid(1), {outputs(k)}, _cuda.gridsize(1)):"]
        lines += ['        ' + line for line in _unravel('_t', others, K) + b.init]
        lines.append(f"        for i{p} in range({f'{K[p] - 1}, -1, -1' if reverse else K[p]}):")
        lines += ['            ' + line for line in b.full]
        return "@_cuda.jit\n" + '\n'.join(lines) + '\n'
    if not R:
        lines = head + [f"    for _t in range(_cuda.grid(1), {outputs(k)}, _cuda.gridsize(1)):"]
        lines += ['        ' + line for line in _unravel('_t', kept, K) + b.full]
        return "@_cuda.jit\n" + '\n'.join(lines) + '\n'

    threads = launch(k)[1]
    warp = min(threads, WARP)          # lanes of the (maybe partial) first warp
    warps = threads // warp
    lines = head + ["    _tid = _cuda.threadIdx.x"]
    if warps > 1:   # a slot per warp for its total
        lines.append("    _lane = _tid % 32")
        lines += [f"    S_{a} = _cuda.shared.array({warps}, {codegen.np_type(_carrier(dtype))})"
                  for a, dtype in b.accumulators]
    lines.append(f"    for _o in range(_cuda.blockIdx.x, {outputs(k)}, _cuda.gridDim.x):   # a result per block")
    body = _unravel('_o', kept, K) + b.init
    body.append(f"for _r in range(_tid, {math.prod(K[p] for p in R)}, {threads}):   # this thread's share")
    body += ['    ' + line for line in _unravel('_r', list(R), K) + b.full + b.update]
    body.append("# each warp: a tree of shuffles, lane l merging lane l + n's accumulators")
    body += _shuffle_tree(b, warp, warp)
    if warps > 1:
        body += ["# the warps' totals, through shared memory: every warp merges them (thread 0's counts)",
                 "if _lane == 0:"]
        body += [f"    S_{a}[_tid // 32] = {a}" for a, _ in b.accumulators]
        body.append("_cuda.syncthreads()")
        body += [f"{a} = S_{a}[_lane % {warps}]" if _carrier(dtype) == dtype else
                 f"{a} = {codegen.np_type(dtype)}(S_{a}[_lane % {warps}])" for a, dtype in b.accumulators]
        body += _shuffle_tree(b, warps, warp)
        body.append("_cuda.syncthreads()   # before the next result reuses the shared slots")
    body.append("if _tid == 0:")
    body += ['    ' + line for line in b.final + b.post]
    lines += ['        ' + line for line in body]
    return "@_cuda.jit\n" + '\n'.join(lines) + '\n'


# Lanes of a warp; a reduction's warps combine their threads' accumulators with
# `shfl_down_sync`, which moves 32- and 64-bit ints and floats: other dtypes travel
# as the carrier type that holds them exactly.
WARP = 32
_CARRIERS = {np.dtype(t): np.dtype(c) for t, c in [
    (np.bool_, np.int32), (np.int8, np.int32), (np.int16, np.int32), (np.uint8, np.int32),
    (np.uint16, np.int32), (np.uint32, np.int64), (np.uint64, np.int64)]}


def _carrier(dtype):
    return _CARRIERS.get(np.dtype(dtype), np.dtype(dtype))


def _shuffle_tree(b, lanes, warp):
    """Lines merging the accumulators of a warp's first `lanes` lanes (a power of two)
    into lane 0: at each step lane l takes lane l + n's accumulators (`shfl_down_sync`)
    and merges them into its own (`codegen.Reduction.merge`), n = lanes/2, ..., 1.
    Every lane of every warp (`warp` lanes each) runs them, as a shuffle's mask
    requires; lanes past the first `lanes` compute values no one reads."""
    mask = hex((1 << warp) - 1)
    lines, n = [], lanes // 2
    while n:
        for a, dtype in b.accumulators:
            carrier, typed = _carrier(dtype), codegen.np_type(dtype)
            sent = a if carrier == dtype else f"{codegen.np_type(carrier)}({a})"
            moved = f"_cuda.shfl_down_sync({mask}, {sent}, {n})"
            lines.append(f"{a}_other = " + (f"({moved} != 0)" if dtype == np.bool_
                                            else moved if carrier == dtype else f"{typed}({moved})"))
        lines += b.merge
        n //= 2
    return lines


def copy_source(name, plan, var):
    """Source of a kernel writing the elements of `var`, a layout op's result (a
    transpose, broadcast, slice, ... of a value on the device) that a step outside the
    kernels reads, to an array of its own: a thread per element, reading it where it
    sits (`loop_nests.read_element`, the index maps a fused kernel reads through)."""
    base = plan.layout_chain(var)[0]
    shape, domain = var.aval.shape, codegen.key(var.aval.shape)
    positions = iter(range(len(domain)))
    idx = [f"i{next(positions)}" if n != 1 else '0' for n in shape]
    subscript = lambda idx: f"[{', '.join(idx)}]" if idx else "[0]"
    comments = []
    element = loop_nests.read_element(plan, var, idx, subscript, comments)
    args = [plan.py_names[base].upper()] if isinstance(base, Var) else []
    lines = [f"def {name}({', '.join(args + ['OUT'])}):",
             f"    for _t in range(_cuda.grid(1), {math.prod(shape)}, _cuda.gridsize(1)):"]
    lines += ['        ' + line for line in _unravel('_t', list(range(len(domain))), domain)]
    lines += [f"        # {c}" for c in reversed(comments)]
    lines.append(f"        OUT{subscript(idx)} = {element}")
    return "@_cuda.jit\n" + '\n'.join(lines) + '\n'


def _unravel(var, positions, domain):
    """Lines setting the loop index of each position from the flat index `var`."""
    lines, stride = [], 1
    for n, p in enumerate(reversed(positions)):
        size = domain[p]
        e = var if stride == 1 else f"{var} // {stride}"
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


def _tiled_matmul(dtype):
    """The tiled matmul kernel for float dtype `dtype` (its shared tiles are typed)."""
    zero = dtype.type(0)

    @cuda.jit
    def matmul(A, B, C, ta, tb):
        """C[z] = A[z] @ B[z] for 3-D arrays (batch axis first), with (TILE, TILE) blocks
        and blockIdx.z = z; A[z] is read transposed if `ta`, B[z] if `tb` (the
        dot_generals of a backward pass)."""
        sa = cuda.shared.array((TILE, TILE), dtype=dtype)
        sb = cuda.shared.array((TILE, TILE), dtype=dtype)
        tx, ty, z = cuda.threadIdx.x, cuda.threadIdx.y, cuda.blockIdx.z
        row, col = cuda.blockIdx.y * TILE + ty, cuda.blockIdx.x * TILE + tx
        m, n = C.shape[1], C.shape[2]
        kk = A.shape[1] if ta else A.shape[2]
        acc = zero
        for t in range((kk + TILE - 1) // TILE):
            # Zeros past the edges keep the tile product right for any shape.
            ka, kb = t * TILE + tx, t * TILE + ty
            sa[ty, tx] = (A[z, ka, row] if ta else A[z, row, ka]) if row < m and ka < kk else zero
            sb[ty, tx] = (B[z, col, kb] if tb else B[z, kb, col]) if col < n and kb < kk else zero
            cuda.syncthreads()
            for j in range(TILE):
                acc += sa[ty, j] * sb[j, tx]
            cuda.syncthreads()
        if row < m and col < n:
            C[z, row, col] = acc
    return matmul


# dtype -> the tiled matmul kernel for it
MATMUL = {np.dtype(t): _tiled_matmul(np.dtype(t)) for t in (np.float32, np.float64)}


def matmul_signature(dtype):
    return (signature_of(dtype, 3),) * 3 + (numba.boolean,) * 2


# --- compiling for a real card, without one -------------------------------------------------------

def signature(variables):
    """The argument types of a kernel reading and writing `variables` (jaxpr Vars): the
    C-contiguous device arrays the backend passes (a 0-d value as 1 element)."""
    return tuple(signature_of(v.aval.dtype, max(v.aval.ndim, 1)) for v in variables)


def signature_of(dtype, ndim):
    """The Numba type of a C-contiguous device array."""
    return numba.types.Array(numba.from_dtype(np.dtype(dtype)), ndim, 'C')


@contextlib.contextmanager
def _device_functions_for(cc):
    """numba-cuda (0.30) compiles a device function a kernel calls for the *current*
    device's compute capability, even inside `compile_ptx(cc=...)`
    (`dispatcher.compile_device` calls `get_current_device()`); with no GPU that asks the
    driver and fails (`CudaSupportError: Error at driver init`). While compiling for
    `cc`, the device functions (`cuda_math`) are compiled for `cc` as well."""
    from numba.cuda import dispatcher
    saved = dispatcher.get_current_device
    dispatcher.get_current_device = lambda: types.SimpleNamespace(compute_capability=cc)
    try:
        yield
    finally:
        dispatcher.get_current_device = saved


def compile_ptx(kernel, argtypes, cc=(9, 0)):
    """PTX for compute capability `cc` of `kernel` (a `@cuda.jit` kernel: a generated
    one, or `matmul`) called with `argtypes`. Needs numba-cuda with NVVM
    (`pip install -e ".[cuda]"`), not a GPU; not under the simulator."""
    if numba_config.ENABLE_CUDASIM:
        raise RuntimeError("compile_ptx compiles for a real GPU: run it without "
                           "NUMBA_ENABLE_CUDASIM=1 (no GPU needed, numba-cuda's NVVM is)")
    with _device_functions_for(cc):
        ptx, _ = cuda.compile_ptx(kernel.py_func, argtypes, cc=cc)
    return ptx


def ptxas():
    """The `ptxas` assembler: the one the `cuda` extra installs (nvidia-cuda-nvcc-cu12),
    else one on PATH; None if neither."""
    spec = importlib.util.find_spec('nvidia.cuda_nvcc')
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = os.path.join(folder, 'bin', 'ptxas')
        if os.path.exists(path):
            return path
    return shutil.which('ptxas')


def assemble(ptx, cc=(9, 0)):
    """Assemble `ptx` into machine code (SASS) for `sm_{cc}` with `ptxas -v`: a dict of
    what it reports, `registers`, `spill_stores` and `spill_loads` (bytes per thread),
    `stack` (bytes). Raises RuntimeError with ptxas's message if it fails."""
    arch = f"sm_{cc[0]}{cc[1]}"
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, 'kernel.ptx')
        with open(src, 'w') as f:
            f.write(ptx)
        run = subprocess.run([ptxas(), f"-arch={arch}", '-v', src, '-o', os.path.join(tmp, 'kernel.cubin')],
                             capture_output=True, text=True)
    if run.returncode:
        raise RuntimeError(f"ptxas -arch={arch} failed:\n{run.stderr}")
    info = run.stderr + run.stdout
    stack, stores, loads = re.search(r"(\d+) bytes stack frame, (\d+) bytes spill stores, "
                                     r"(\d+) bytes spill loads", info).groups()
    return dict(registers=int(re.search(r"Used (\d+) registers", info).group(1)),
                spill_stores=int(stores), spill_loads=int(loads), stack=int(stack))


# --- loop kernels: scatters, sorts ------------------------------------------------------------------
# `loop_kernels` describes each as phases; a phase is a kernel here, its loop a
# grid-stride loop over the phase's indices (a single thread for a serial phase).

# dtypes of the `cuda.atomic` functions: a scatter combining with one of these runs
# its updates at once, a thread each (the order of float additions is the hardware's).
# Not float min/max: `cuda.atomic.max` has treated NaN as missing in some Numba
# versions, where XLA's max returns NaN; those (and set, mul, bool) run on one thread.
_ATOMIC_INTS = {np.dtype(t) for t in (np.int32, np.int64, np.uint32, np.uint64)}
ATOMICS = {'add': _ATOMIC_INTS | {np.dtype(np.float32), np.dtype(np.float64)},
           'max': _ATOMIC_INTS, 'min': _ATOMIC_INTS}


def _atomic(op, array, index, value):
    """`cuda.atomic.<op>` at `index`: a tuple for several axes, a bare index for one (a
    1-tuple does not compile for a 1-D array)."""
    at = index[0] if len(index) == 1 else f"({', '.join(index)})" if index else '0'
    return f"_cuda.atomic.{op}({array}, {at}, {value})"


_LOCAL = loop_kernels.Target(lambda n: f"_cuda.local.array({n}, np.int64)")
_ATOMIC = loop_kernels.Target(_LOCAL.scratch, _atomic)


def phase_launch(k, phase):
    """(blocks, threads) of one phase of loop kernel `k`: a thread per index, or a single
    thread for a serial phase (a scatter combining without an atomic)."""
    if not (phase.parallel or atomic_phase(k, phase)):
        return 1, 1
    n = math.prod(phase.shape)
    block = max(1, min(BLOCK, n))
    return max(1, min(math.ceil(n / block), MAX_BLOCKS)), block


def atomic_phase(k, phase):
    """Does this phase combine with a `cuda.atomic` function (so its threads may race)?"""
    dtype = k.outputs[0].aval.dtype
    return phase.combine is not None and dtype in ATOMICS.get(phase.combine.name, ())


def phase_names(k):
    """The kernel names of loop kernel `k`'s phases, in launch order (the last `k.name`)."""
    n = len(k.loop.phases)
    return [k.name if p == n - 1 else f"{k.name}_phase{p}" for p in range(n)]


def loop_kernel_source(k, plan):
    """Source of the `@cuda.jit` kernels of loop kernel `k` (`loop_kernels.Loops`), one per
    phase, each running the phase's body (shared with the CPU) in a grid-stride loop."""
    names = plan.py_names
    args = ', '.join(names[v].upper() for v in k.inputs + k.outputs)
    subscript = lambda idx: f"[{', '.join(idx)}]" if idx else "[0]"
    bodies = k.loop.bodies(plan, subscript, lambda p: _ATOMIC if atomic_phase(k, p) else _LOCAL)
    sources = []
    for name, phase, body in zip(phase_names(k), k.loop.phases, bodies):
        lines = [f"def {name}({args}):",
                 f"    for _g in range(_cuda.grid(1), {math.prod(phase.shape)}, _cuda.gridsize(1)):"]
        lines += ['        ' + line for line in _unravel('_g', list(range(len(phase.shape))), phase.shape)]
        lines += ['        ' + line for line in body]
        sources.append("@_cuda.jit\n" + '\n'.join(lines) + '\n')
    return '\n\n'.join(sources)
