"""Steady under load: the digits-MLP SGD step with 0, 1 and 2 busy processes beside it.

    python benchmarks/bench_load.py            # a few minutes; ours vs JAX if installed
    python benchmarks/bench_load.py --quick    # under a minute

At each load level this starts that many processes that spin (`while True: pass`)
for the whole measurement, then times the jitted step of ours and of JAX's, each
in a process of its own (so neither's thread pools disturb the other's), taking
turns (ours, JAX's, ours, ...) so that drift in the machine's other load weighs on
both alike. It reports the median (p50) and 95th percentile (p95) of each, and
ours over JAX's. What it measures: whether our compiled calls keep their speed
when cores are taken, i.e. whether our threads (Numba's parallel loops and BLAS's)
fit the cores actually free (see tinygrad_tracer/backends/threads.py).
"""
import argparse
import datetime
import json
import multiprocessing
import os
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_jit                                # noqa: E402
from bench_jit import jax_mlp_step, tt_mlp_step   # noqa: E402


def spin():
    while True:
        pass


def child(lib, calls):
    """Time `calls` steps of `lib` ('tt' or 'jax') after a warm-up; print the seconds as JSON."""
    step = tt_mlp_step() if lib == 'tt' else jax_mlp_step()
    step()   # warm-up: traces and compiles (or loads the kernels from disk)
    times = []
    for _ in range(calls):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    print(json.dumps(times))


def timed_in_child(lib, calls):
    cmd = [sys.executable, os.path.abspath(__file__), '--child', lib, '--calls', str(calls)]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"the {lib} child process failed:\n{out.stderr}")
    return json.loads(out.stdout.splitlines()[-1])


def run(levels, calls, turns):
    libs = ['tt'] + (['jax'] if bench_jit.jax is not None else [])
    names = {'tt': 'tt jit numba', 'jax': 'JAX jit'}
    load = open('/proc/loadavg').read().split()[:3] if os.path.exists('/proc/loadavg') else ['?']
    now = datetime.datetime.now(datetime.timezone.utc)
    print(f"digits MLP SGD step, {calls * turns} calls each: {now:%Y-%m-%d %H:%M} UTC, "
          f"{os.cpu_count()} cores, load average before {' '.join(load)}")
    print(f"{'busy procs':<12}{'':16}{'p50 ms':>9}{'p95 ms':>9}   ours/JAX p50    p95")
    ctx = multiprocessing.get_context('spawn')
    for n_busy in levels:
        spinners = [ctx.Process(target=spin, daemon=True) for _ in range(n_busy)]
        for p in spinners:
            p.start()
        try:
            times = {lib: [] for lib in libs}
            for _ in range(turns):
                for lib in libs:
                    times[lib] += timed_in_child(lib, calls)
        finally:
            for p in spinners:
                p.terminate()
                p.join()
        stats = {lib: np.percentile(ts, [50, 95]) * 1e3 for lib, ts in times.items()}
        for lib, (p50, p95) in stats.items():
            ratio = ''
            if lib == 'tt' and 'jax' in stats:
                j50, j95 = stats['jax']
                ratio = f"   {p50 / j50:10.2f}x {p95 / j95:6.2f}x"
            print(f"{n_busy:<12}{names[lib]:<16}{p50:9.3f}{p95:9.3f}{ratio}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split('\n\n', 1)[1] +
                                 "\nRun it with the Python that has JAX (e.g. /tmp/vjax/bin/python) "
                                 "for the JAX rows.")
    ap.add_argument('--quick', action='store_true', help="10 calls per library and level (noisy)")
    ap.add_argument('--levels', default='0,1,2', help="busy processes per level (default 0,1,2)")
    ap.add_argument('--child', choices=['tt', 'jax'], help=argparse.SUPPRESS)
    ap.add_argument('--calls', type=int, default=20, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return child(args.child, args.calls)
    run([int(n) for n in args.levels.split(',')], calls=10 if args.quick else 20,
        turns=1 if args.quick else 3)


if __name__ == '__main__':
    main()
