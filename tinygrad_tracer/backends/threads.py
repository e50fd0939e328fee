"""How many threads a compiled call may use.

A parallel loop (Numba's `prange`) or a BLAS call on two threads ends by
waiting for both. When another program has the second core (our CI machine
has two, shared), that wait lasts until the scheduler gives the core back: a
time slice of milliseconds, against a fraction of a millisecond of work for
the arrays of a small network (we measured 0.2 ms matrix products taking 20
ms, and the digits-MLP step 10 ms on one thread but 100-350 ms on two, with
the machine busy). So a call first asks how many cores are free (Linux's
/proc/loadavg, read at most every 0.2 s): kernels and BLAS get those, at
least one.

"Free" is judged carefully, since one thread too many costs far more than one
too few: a core counts as taken if a program runs on it right now (the
count of running tasks) or ran on it over the last minute (the load
average, less the one this process adds when it computes without pause).
A program that runs in bursts, idle at the instant we look, still counts.

    >>> run = limit_threads(driver, parallel_kernels=True, blas=True)
"""
import math
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
            self.threads = free_cores(_read_loadavg(), CORES)
        return self.threads


def _read_loadavg():
    try:
        with open('/proc/loadavg') as f:
            return f.read()
    except OSError:   # not Linux: nothing known, every core counts as free
        return ''


def free_cores(loadavg, cores):
    """How many of `cores` other programs leave free, from the text of /proc/loadavg
    ("0.61 1.10 1.68 2/80 14636": a 1-minute average of 0.61 programs running,
    2 running right now, this one included). At least 1.

        >>> free_cores("1.95 1.50 0.90 3/80 14636", 2)   # two others right now: one thread
        1
    """
    try:
        fields = loadavg.split()
        load_1min, running = float(fields[0]), int(fields[3].split('/')[0])
    except (ValueError, IndexError):
        return cores
    now = running - 1               # this process is one of the running
    recent = load_1min - 1          # ... and, computing without pause, adds 1 to the average
    # A third of a core busy on average counts as taken: a thread there would wait.
    taken = max(now, math.ceil(recent - 0.33), 0)
    return max(1, cores - taken)


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
