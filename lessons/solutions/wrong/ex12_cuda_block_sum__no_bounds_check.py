"""WRONG (no_bounds_check): the tests of ex12 must fail on this.
Exercise 12 (solution): load, then halve the active threads each step."""
import os

os.environ.setdefault('NUMBA_ENABLE_CUDASIM', '1')   # before numba is imported

import math  # noqa: E402

import numpy as np  # noqa: E402
from numba import cuda, float32  # noqa: E402

BLOCK = 32


def block_sum(x, partial):
    shared = cuda.shared.array(BLOCK, float32)
    t = cuda.threadIdx.x
    i = cuda.blockIdx.x * BLOCK + t
    shared[t] = x[i]
    cuda.syncthreads()
    stride = BLOCK // 2
    while stride > 0:
        if t < stride:
            shared[t] += shared[t + stride]
        cuda.syncthreads()
        stride //= 2
    if t == 0:
        partial[cuda.blockIdx.x] = shared[0]


def total(x):
    """The sum of x: one partial sum per block on the device, the rest on the host (given)."""
    x = np.ascontiguousarray(x, np.float32)
    blocks = max(1, math.ceil(len(x) / BLOCK))
    partial = cuda.device_array(blocks, np.float32)
    cuda.jit(block_sum)[blocks, BLOCK](cuda.to_device(x), partial)
    return partial.copy_to_host()

