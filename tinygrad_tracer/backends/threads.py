"""How many threads a compiled call may use.

A parallel loop (Numba's `prange`) or a BLAS call on two threads ends by
waiting for both. When another program has the second core (our CI machine
has two, shared), that wait lasts until the scheduler gives the core back: a
time slice of milliseconds, against a fraction of a millisecond of work for
the arrays of a small network (we measured 0.2 ms matrix products taking 20
ms). So a call first looks at how many programs are running (Linux's
/proc/loadavg, read at most every 0.2 s): kernels and BLAS get the cores that
are free, at least one.

    >>> run = limit_threads(driver, parallel_kernels=True, blas=True)
"""
import os
import threading
import time

import numba
import numpy as np

CORES = os.cpu_count() or 1
RECHECK_SECONDS = 0.2


def _numpy_blas():
    """threadpoolctl's handle on the BLAS library NumPy uses, or None (not
    installed, or a BLAS it does not know: BLAS then keeps its own setting)."""
    try:
        import threadpoolctl
        found = threadpoolctl.ThreadpoolController().select(user_api='blas').lib_controllers
    except Exception:
        return None
    numpy_dir = os.path.dirname(os.path.dirname(np.__file__))
    return next((c for c in found if c.filepath.startswith(numpy_dir)), None)


class _Budget:
    def __init__(self):
        self.blas = _numpy_blas()
        self.checked, self.threads = -RECHECK_SECONDS, CORES
        # BLAS's thread count is one setting for the whole process: calls running at
        # once in several threads share it; the first in saves it, the last out restores it.
        self.lock, self.blas_users, self.blas_before = threading.Lock(), 0, None

    def enter_blas(self, n):
        with self.lock:
            if self.blas_users == 0:
                self.blas_before = self.blas.get_num_threads()
            self.blas_users += 1
            self.blas.set_num_threads(n)

    def leave_blas(self):
        with self.lock:
            self.blas_users -= 1
            if self.blas_users == 0:
                self.blas.set_num_threads(self.blas_before)

    def free_cores(self):
        now = time.monotonic()
        if now - self.checked > RECHECK_SECONDS:
            self.checked = now
            self.threads = max(1, CORES - _other_running())
        return self.threads


def _other_running():
    """Programs running right now besides this one (0 where /proc is missing)."""
    try:
        with open('/proc/loadavg') as f:   # "0.61 1.10 1.68 2/80 14636": 2 running
            return max(0, int(f.read().split()[3].split('/')[0]) - 1)
    except (OSError, ValueError, IndexError):
        return 0


budget = _Budget()


def limit_threads(fn, parallel_kernels, blas):
    """`fn`, run with as many Numba threads (if it has parallel kernels) and BLAS
    threads (if it multiplies matrices) as there are free cores."""
    blas = budget.blas if blas else None
    if not parallel_kernels and blas is None:
        return fn
    most = numba.config.NUMBA_NUM_THREADS

    def run(*args):
        n = budget.free_cores()
        if parallel_kernels:
            numba_before = numba.get_num_threads()
            numba.set_num_threads(min(n, most))
        if blas is not None:
            budget.enter_blas(n)
        try:
            return fn(*args)
        finally:
            if parallel_kernels:   # Numba's setting is per thread
                numba.set_num_threads(numba_before)
            if blas is not None:
                budget.leave_blas()
    return run
