"""Exercise 12: a CUDA shared-memory tree reduction (run under Numba's simulator).

Read first: the docstring of tinygrad_tracer/backends/cuda_kernels.py (the
`cuda` backend's reduction kernels combine their threads' partial sums with
the same tree, its rounds inside a warp done by warp shuffles rather than
shared memory), and numba.cuda's "shared memory" and "thread
synchronization" documentation.

Write the body of `block_sum(x, partial)`, run with BLOCK threads per block:
block b must write partial[b] = x[b*BLOCK] + ... + x[b*BLOCK + BLOCK - 1]
(elements past the end of x count as 0: len(x) need not be a multiple of
BLOCK). Each thread loads one element into a `cuda.shared.array(BLOCK,
float32)`; then halve the number of active threads each step (stride BLOCK//2,
BLOCK//4, ..., 1), thread t adding shared[t + stride] into shared[t], with
`cuda.syncthreads()` between steps; thread 0 writes the block's sum.

No GPU is needed: the tests run with NUMBA_ENABLE_CUDASIM=1 (tests/conftest.py).

Check:  python lessons/exercises/ex12_cuda_block_sum.py
   or:  TT_EXERCISES=lessons/exercises python -m pytest tests/test_exercises.py -m ex12
"""
import os

os.environ.setdefault('NUMBA_ENABLE_CUDASIM', '1')   # before numba is imported

import math  # noqa: E402

import numpy as np  # noqa: E402
from numba import cuda, float32  # noqa: E402, F401

BLOCK = 32


def block_sum(x, partial):
    # YOUR CODE HERE (a CUDA kernel: cuda.threadIdx.x, cuda.blockIdx.x, ...)
    raise NotImplementedError(
        "ex12 is not done yet: write block_sum in lessons/exercises/ex12_cuda_block_sum.py "
        "(read first: tinygrad_tracer/backends/cuda_kernels.py, numba.cuda shared memory)")


def total(x):
    """The sum of x: one partial sum per block on the device, the rest on the host (given)."""
    x = np.ascontiguousarray(x, np.float32)
    blocks = max(1, math.ceil(len(x) / BLOCK))
    partial = cuda.device_array(blocks, np.float32)
    cuda.jit(block_sum)[blocks, BLOCK](cuda.to_device(x), partial)
    return partial.copy_to_host()


if __name__ == '__main__':
    import classroom
    classroom.check(__file__)
