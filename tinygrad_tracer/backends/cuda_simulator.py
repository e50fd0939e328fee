"""Warp shuffles for Numba's CUDA simulator, which has none.

A reduction kernel (`cuda_kernels.kernel_source`) merges its threads'
accumulators with `cuda.shfl_down_sync(mask, value, n)`: lane l receives lane
l + n's `value` without going through memory. Numba's simulator (numba-cuda
0.30) runs each GPU thread as a Python thread and defines no `shfl_*`, so
`install()` gives its fake `cuda` module one, with the hardware's meaning for
a warp whose lanes all call it together:

    every lane posts its value;  all wait;  each reads lane l + n's;  all wait

The waits are the simulator's `syncthreads`, a barrier over the whole block,
so every thread of the block must make the call. Our kernels do: every warp
runs the same shuffle tree, and lanes whose results no one reads still take
part. The checks below turn a kernel that breaks the hardware's rules into an
error here rather than a wrong number on a GPU:

- `mask` must name exactly the warp's lanes that exist (a block of 16 threads
  has a warp of 16 lanes: mask 0xffff);
- reading a lane outside the mask is undefined on a GPU: here it gives NaN
  for a float (or the type's smallest value for an int), so a result that
  depends on it is visibly wrong;
- a source lane past the warp's 32 gives the lane's own value, as on a GPU.
"""
import threading

import numpy as np

WARP = 32


def _poison(value):
    """What an undefined shuffle returns here: NaN, or an int type's smallest value."""
    dtype = np.asarray(value).dtype
    return dtype.type(np.nan) if dtype.kind == 'f' else np.iinfo(dtype).min


def shfl_down_sync(self, mask, value, delta):
    """Lane l gets lane l + delta's `value` (its own past lane 31): see the module docstring."""
    thread = threading.current_thread()
    block = thread._manager
    size = int(np.prod(block._block_dim))
    warp_start = thread.thread_id - thread.thread_id % WARP
    lanes = min(WARP, size - warp_start)
    if mask != (1 << lanes) - 1:
        raise RuntimeError(f"shfl_down_sync with mask {mask:#x} in a warp of {lanes} lane(s): "
                           f"the mask must name exactly the lanes that call it ({(1 << lanes) - 1:#x})")
    posted = block.__dict__.setdefault('shuffle_values', {})
    posted[thread.thread_id] = value
    thread.syncthreads()
    lane = thread.thread_id % WARP + delta
    result = (value if lane >= WARP else
              posted[warp_start + lane] if lane < lanes else _poison(value))
    thread.syncthreads()   # no lane posts its next value before every lane has read this one
    return result


def install():
    """Give the simulator's fake `cuda` module `shfl_down_sync` (once; kept if it has one)."""
    from numba.cuda.simulator.kernelapi import FakeCUDAModule
    if not hasattr(FakeCUDAModule, 'shfl_down_sync'):
        FakeCUDAModule.shfl_down_sync = shfl_down_sync
