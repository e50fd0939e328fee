"""How a jit backend splits a jaxpr into steps, for graphs of jit(f).

`jit(f).lower(*args)` gives the traced jaxpr; its `.compile()` gives the
backend's executable. A compiling backend (numba, cuda) lists its kernels in
`executable.kernels`, each with `.name`, `.eqn_indices` (which equations of the
jaxpr it runs) and `.source`: those become clusters, "kernel 0: 5 ops fused".
The interpreter has no kernels: it runs one equation per step, so the graph
numbers the equations in the order they run.
"""
from typing import NamedTuple

import tinygrad_tracer as tt


class Partition(NamedTuple):
    note: str        # what the jit cluster's title adds, e.g. "numba: 3 kernels"
    kernels: list    # [(cluster label, eqn indices)], empty for one op per step


def kernel_partition(fn, args):
    """{the lowered Jaxpr: Partition} for a jitted `fn`, else {}. Keyed by the jaxpr
    object, which `jit` caches: tracing `fn` again for the graph nests that same
    jaxpr, so the graph finds it wherever it is drawn."""
    lower = getattr(fn, 'lower', None)
    if lower is None:
        return {}
    lowered = lower(*args)
    executable = lowered.compile()
    backend = getattr(lowered, 'backend', None) or tt.config.jax_default_backend
    kernels = getattr(executable, 'kernels', None)
    if kernels is None:
        part = Partition(f"{backend}: one op per step", [])
    else:
        part = Partition(f"{backend}: {len(kernels)} kernel{'s' * (len(kernels) != 1)}",
                         [(kernel_label(i, k), list(k.eqn_indices)) for i, k in enumerate(kernels)])
    return {lowered.jaxpr.jaxpr: part}


def kernel_label(i, kernel):
    n = len(kernel.eqn_indices)
    what = f"{n} ops fused" if n > 1 else "1 op"
    return f"kernel {i}: {what}\n{kernel.name}"
