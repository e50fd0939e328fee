"""The CUDA backend: a jaxpr becomes `numba.cuda` kernels (on a GPU, or the CUDA simulator).

    >>> f = jit(lambda x: jnp.tanh(x @ w + b), backend='cuda')
    >>> print(f.lower(x).as_text())     # the jaxpr, then the steps and each kernel's source

`compile(closed_jaxpr, name)` uses the partition the CPU backend uses
(`fusion.partition`) and its scalar code (`codegen`), and runs each step here:

    step       runs as
    kernel     a generated `@cuda.jit` kernel, one thread per element it writes
               (`cuda_kernels.kernel_source`; a reduction is one thread per kept
               element looping over the reduced axes)
    dot        `cuda_kernels.matmul`, a tiled shared-memory kernel, for a 2-D
               float32 `x @ w`; any other dot_general runs its NumPy impl on the host
    view       a layout op whose result a host step or the caller needs: on the host
    control,   the primitive's NumPy impl on the host (cond, while, scan, sort,
    fallback   cumsum, gather, ...); `TT_DEBUG=1` logs each one when compiling

Values move to the device with `cuda.to_device` when a kernel reads them and
back with `.copy_to_host()` when a host step or the caller does; a value
already where it is needed stays there. Kernel files go in the kernel cache
the CPU backend uses (`common.py`); `cuda.jit` compiles a kernel at its
first launch. Zero-dimensional arrays travel as 1-element arrays.

CI has no GPU: the tests set `NUMBA_ENABLE_CUDASIM=1` before Numba is imported,
and the simulator runs every thread in Python (~165 us each), so they use small
shapes.
"""
import math

import numpy as np
from numba import cuda

from ..array import Array
from ..jaxpr import Literal
from . import common, cuda_kernels, fusion, loop_nests

# Threads per block of a fused kernel (the last block may be partly idle).
BLOCK = 128


# --- moving values -----------------------------------------------------------------------------

def _on_device(x):
    """A device array holding x (a NumPy array, or already a device array)."""
    if hasattr(x, 'copy_to_host'):
        return x
    x = np.ascontiguousarray(x)
    return cuda.to_device(x.reshape(x.shape or (1,)))


def _on_host(x, aval):
    """A NumPy array of `aval`'s shape holding x (a device array or a NumPy array)."""
    if hasattr(x, 'copy_to_host'):
        x = x.copy_to_host()
    return np.asarray(x).reshape(aval.shape)


def _value(env, x):
    return np.asarray(x.val, x.aval.dtype) if isinstance(x, Literal) else env[x]


# --- steps: each a function of the environment (var -> value) ------------------------------------

def _build_kernel(k, plan, fn_name):
    """Write and import fused kernel `k` (a `fusion.Kernel`): a `common.CompiledKernel`."""
    source = cuda_kernels.kernel_source(k, plan)
    return common.CompiledKernel(k, source, common.load_module(
        cuda_kernels.module_source(k, fn_name, source)))


def _kernel_step(built):
    """Launch the compiled kernel `built` on the values it reads."""
    k, kernel = built.kernel, built.function
    n = cuda_kernels.threads(k)
    block = min(BLOCK, n)

    def run(env):
        outs = [cuda.device_array(v.aval.shape or (1,), v.aval.dtype) for v in k.outputs]
        if n:
            kernel[math.ceil(n / block), block](*[_on_device(env[v]) for v in k.inputs], *outs)
        env.update(zip(k.outputs, outs))
    return run


def on_device_matmul(eqn):
    """Does this dot_general run as `cuda_kernels.matmul` (a 2-D float32 `x @ w`)?"""
    lhs, rhs = (x.aval for x in eqn.inputs)
    return (lhs.ndim == rhs.ndim == 2 and eqn.params['dimension_numbers'] == (((1,), (0,)), ((), ()))
            and lhs.dtype == rhs.dtype == eqn.out_binders[0].aval.dtype == np.float32)


def _matmul_step(eqn):
    (m, _), (_, n) = (x.aval.shape for x in eqn.inputs)
    t = cuda_kernels.TILE
    grid = (math.ceil(n / t), math.ceil(m / t))   # x: column tiles, y: row tiles

    def run(env):
        a, b = (_on_device(_value(env, x)) for x in eqn.inputs)
        c = cuda.device_array((m, n), np.float32)
        if m and n:
            cuda_kernels.matmul[grid, (t, t)](a, b, c)
        env[eqn.out_binders[0]] = c
    return run


def _view_step(plan, var):
    """Materialize a layout op's result on the host (for a host step or the caller)."""
    base, chain = plan.layout_chain(var)

    def run(env):
        x = _on_host(_value(env, base), base.aval)
        for eqn in reversed(chain):
            x = np.asarray(eqn.primitive.impl(Array(x), **eqn.params))
        env[var] = x
    return run


def _host_step(eqn):
    """Run one equation through its primitive's NumPy impl on the host."""
    run = common.host_impl(eqn, 'cuda')

    def step(env):
        env.update(zip(eqn.out_binders, run(*[_on_host(_value(env, x), x.aval) for x in eqn.inputs])))
    return step


# --- the executable ----------------------------------------------------------------------------

class Executable:
    """A compiled jaxpr: call it with Arrays (one per input), get a list of Arrays."""

    def __init__(self, closed_jaxpr, name):
        self.closed_jaxpr, self.name = closed_jaxpr, name
        # A GPU thread per element: the CPU backend's prange threshold does not apply.
        self.plan = plan = fusion.partition(closed_jaxpr, name, math.inf, 'cuda')
        self.kernels = []   # common.CompiledKernel, in run order
        self.fallbacks = [s.eqn.primitive.name for s in plan.steps
                          if s.kind in ('control', 'fallback')
                          or (s.kind == 'dot' and not on_device_matmul(s.eqn))]
        self._consts = {v: _on_device(np.asarray(c))
                        for v, c in zip(plan.constvars, plan.consts)}
        self._steps = [self._prepare(s) for s in plan.steps]

    def _prepare(self, step):
        if step.kind == 'kernel':
            self.kernels.append(_build_kernel(step, self.plan, self.name))
            return _kernel_step(self.kernels[-1])
        if step.kind == 'view':
            return _view_step(self.plan, step.var)
        if step.kind == 'dot' and on_device_matmul(step.eqn):
            return _matmul_step(step.eqn)
        return _host_step(step.eqn)

    def __call__(self, *args):
        plan = self.plan
        env = dict(self._consts)
        for v, a in zip(plan.invars, args):
            env[v] = np.asarray(a, v.aval.dtype)
        for run in self._steps:
            run(env)
        return [Array(_on_host(_value(env, x), x.aval), x.aval.weak_type) for x in plan.outvars]

    def _describe(self, step):
        plan = self.plan
        if step.kind == 'kernel':
            return f"{step.name}: eqns {common.ranges(step.eqn_indices)}, {cuda_kernels.threads(step)} thread(s)"
        if step.kind == 'view':
            return f"host view: {plan.names[step.var]}"
        where = 'matmul kernel' if step.kind == 'dot' and on_device_matmul(step.eqn) else 'host'
        return f"{where}: {loop_nests.describe(step.eqn, plan.names)}"

    def as_text(self):
        """The steps in run order, then each kernel's CUDA source."""
        head = [f"jit({self.name}) on the CUDA backend: {len(self.kernels)} kernel(s)"
                + (f", on the host: {', '.join(self.fallbacks)}" if self.fallbacks else "")]
        head += [f"  {self._describe(s)}" for s in self.plan.steps]
        parts = ['\n'.join(head)]
        parts += [f"# kernel {k.name}, cached in {k.path}\n{k.source}" for k in self.kernels]
        if any(s.kind == 'dot' and on_device_matmul(s.eqn) for s in self.plan.steps):
            parts.append(f"# dot_general: tiled shared-memory kernel cuda_kernels.matmul "
                         f"({cuda_kernels.TILE}x{cuda_kernels.TILE} tiles)")
        return '\n'.join(parts)

    def __repr__(self):
        return f"<cuda Executable jit({self.name}): {len(self.kernels)} kernel(s)>"


def compile(closed_jaxpr, name):
    """Compile `closed_jaxpr` into CUDA kernels and host steps (see the module docstring)."""
    return Executable(closed_jaxpr, name)
