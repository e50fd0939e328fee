"""The CUDA backend: a jaxpr becomes `numba.cuda` kernels (on a GPU, or the CUDA simulator).

    >>> f = jit(lambda x: jnp.tanh(x @ w + b), backend='cuda')
    >>> print(f.lower(x).as_text())     # the jaxpr, then the steps and each kernel's source

`compile(closed_jaxpr, name)` uses the partition the CPU backend uses
(`fusion.partition`) and its scalar code (`codegen`), and runs each step here:

    step       runs as
    kernel     a generated `@cuda.jit` kernel (`cuda_kernels.kernel_source`): a
               grid-stride loop, a thread per element it writes; a reduction is a
               block per result, its threads' accumulators combined as a tree in
               shared memory; a cumsum a thread per line; a loop kernel (scatters,
               sort: `loop_kernels`) a kernel per phase, its body the CPU backend's,
               in a grid-stride loop
    dot        `cuda_kernels.MATMUL`, a tiled shared-memory kernel, for float32 or
               float64 with one contracted axis each and leading batch axes (`x @ w`,
               `x.T @ g`, `g @ w.T`, batched `a @ b`); any other dot_general on the host
    fallback   the primitive's NumPy impl on the host
    view       a layout op whose result a host step or the caller needs: on the host
    control    cond, while, scan: the NumPy impl on the host

Host steps (fallbacks, control flow, and layout views made on the host) are the
exception: `TT_DEBUG=1` logs each one when compiling and `lower().as_text()`
counts them in its first line. An argument moves to the device (`cuda.to_device`)
the first time a kernel reads it, unless it is already there (a `DeviceArray`,
`device_array.py`: then its buffer is used as is). Every result of a kernel
stays on the device until a host step reads it; the call returns DeviceArrays,
which copy back (`.copy_to_host()`) only when the caller reads them. So a jitted
MLP training step fed its own outputs uploads only the new data and downloads
nothing (`tests/test_device_arrays.py` counts). Kernel files
go in the kernel cache the CPU backend uses (`common.py`); `cuda.jit` compiles a
kernel at its first launch. Zero-dimensional arrays travel as 1-element arrays.

Compiling needs no GPU: `Executable.launches()` lists every kernel with its
argument types, and `cuda_kernels.compile_ptx` / `assemble` turn each into PTX and
machine code for a chosen card (`tests/test_ptx.py`). Running does: without one,
and without `NUMBA_ENABLE_CUDASIM=1`, the first call raises one clear error.

CI has no GPU: the tests set `NUMBA_ENABLE_CUDASIM=1` before Numba is imported,
and the simulator runs every thread in Python (~165 us each), so they use small
shapes.
"""
import math

import numpy as np
from numba import cuda

from .. import settings
from ..array import Array
from ..device_array import DeviceArray, current_gpu, require_gpu, upload
from ..jaxpr import Literal
from . import common, cuda_kernels, fusion, loop_nests

# --- the device ------------------------------------------------------------------------------

_checked = False


def _require_device():
    """A GPU, or the simulator: otherwise one clear error instead of Numba's driver traceback."""
    global _checked
    if not _checked:
        require_gpu("jit(..., backend='cuda')")
        _checked = True


# --- moving values -----------------------------------------------------------------------------

def _on_device(x):
    """A device array holding x (a NumPy array or an Array; a device array, or a DeviceArray's
    buffer, as it is)."""
    if isinstance(x, DeviceArray):
        return x.device_buffer()
    return x if hasattr(x, 'copy_to_host') else upload(np.asarray(x))


def _on_host(x, aval):
    """A NumPy array of `aval`'s shape holding x (a device array or a NumPy array)."""
    if hasattr(x, 'copy_to_host'):
        x = x.copy_to_host()
    return np.asarray(x).reshape(aval.shape)


def _value(env, x):
    return np.asarray(x.val, x.aval.dtype) if isinstance(x, Literal) else env[x]


def _device_value(env, x):
    """x's value on the device: an argument still on the host is uploaded once, and the
    environment keeps the device copy for the steps after."""
    value = _value(env, x)
    if isinstance(x, Literal) or hasattr(value, 'copy_to_host'):
        return _on_device(value)
    env[x] = _on_device(value)
    return env[x]


def _result(x, aval, device):
    """A result of a call, as an Array on the device: a kernel's output keeps its device
    buffer (copied back only when read); a host step's keeps its host copy (uploaded
    only when passed to a cuda-jitted function)."""
    if hasattr(x, 'copy_to_host'):
        return DeviceArray.on_device(x, aval, device)
    host = np.asarray(x).reshape(aval.shape)
    host.flags.writeable = False
    return DeviceArray.on_device(None, aval, device, host)


# --- steps: each a function of the environment (var -> value) ------------------------------------

def _build_kernel(k, plan, fn_name):
    """Write and import kernel `k` (a `fusion.Kernel`): a `common.CompiledKernel`; a
    loop kernel's gets `phases`, its kernels in launch order."""
    source = (cuda_kernels.loop_kernel_source if k.loop else cuda_kernels.kernel_source)(k, plan)
    module = common.load_module(cuda_kernels.module_source(k, fn_name, source))
    built = common.CompiledKernel(k, source, module)
    if k.loop:
        built.phases = [getattr(module, name) for name in cuda_kernels.phase_names(k)]
    return built


def _loop_kernel_step(built):
    """Launch the phases of the compiled loop kernel `built`, one after another."""
    k = built.kernel
    launches = [(kernel, cuda_kernels.phase_launch(k, phase))
                for kernel, phase in zip(built.phases, k.loop.phases) if math.prod(phase.shape)]

    def run(env):
        outs = [cuda.device_array(v.aval.shape or (1,), v.aval.dtype) for v in k.outputs]
        args = [_device_value(env, v) for v in k.inputs] + outs
        for kernel, (blocks, threads) in launches:
            kernel[blocks, threads](*args)
        env.update(zip(k.outputs, outs))
    return run


def _kernel_step(built):
    """Launch the compiled kernel `built` on the values it reads."""
    k, kernel = built.kernel, built.function
    if k.loop:
        return _loop_kernel_step(built)
    blocks, threads = cuda_kernels.launch(k)
    empty = not cuda_kernels.outputs(k)   # (a sum over no elements still writes zeros)

    def run(env):
        outs = [cuda.device_array(v.aval.shape or (1,), v.aval.dtype) for v in k.outputs]
        if not empty:
            kernel[blocks, threads](*[_device_value(env, v) for v in k.inputs], *outs)
        env.update(zip(k.outputs, outs))
    return run


def on_device_matmul(eqn):
    """Does this dot_general run as a `cuda_kernels.MATMUL` kernel: float32 or float64,
    batch axes (if any) leading in both operands, then one free and one contracted
    axis each (`x @ w`, `x.T @ g`, `g @ w.T`, batched `a @ b`)?"""
    lhs, rhs = (x.aval for x in eqn.inputs)
    (lc, rc), (lb, rb) = eqn.params['dimension_numbers']
    nb = len(lb)
    return (lhs.ndim == rhs.ndim == nb + 2 and len(lc) == len(rc) == 1
            and tuple(lb) == tuple(rb) == tuple(range(nb)) and lc[0] >= nb and rc[0] >= nb
            and lhs.dtype == rhs.dtype == eqn.out_binders[0].aval.dtype
            and lhs.dtype in cuda_kernels.MATMUL)


def _matmul_step(eqn):
    ((lc,), (rc,)), (lb, _) = eqn.params['dimension_numbers']
    out = eqn.out_binders[0].aval
    nb = len(lb)
    batch, (m, n) = math.prod(out.shape[:nb]), out.shape[nb:]
    ta, tb = lc == nb, rc == nb + 1
    kernel, t = cuda_kernels.MATMUL[out.dtype], cuda_kernels.TILE
    grid = (math.ceil(n / t), math.ceil(m / t), batch)   # x: column tiles, y: row tiles, z: batch

    def run(env):
        a, b = (_device_value(env, x).reshape(batch, *x.aval.shape[nb:]) for x in eqn.inputs)
        c = cuda.device_array((batch, m, n), out.dtype)
        if batch and m and n:
            kernel[grid, (t, t)](a, b, c, ta, tb)
        env[eqn.out_binders[0]] = c.reshape(out.shape or (1,))
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
        # A layout op whose result a host step or the caller reads is made on the host: a host step too.
        self.host_views = {s.var: f"{plan.layout_chain(s.var)[1][0].primitive.name} view"
                           for s in plan.steps if s.kind == 'view'}
        self._consts = None   # on the device, at the first call (compiling needs no GPU)
        self._steps = [self._prepare(s) for s in plan.steps]

    def _prepare(self, step):
        if step.kind == 'kernel':
            self.kernels.append(_build_kernel(step, self.plan, self.name))
            return _kernel_step(self.kernels[-1])
        if step.kind == 'view':
            if settings.DEBUG >= 1:
                settings.log(f"cuda: the {self.host_views[step.var]} {self.plan.names[step.var]} is "
                             "made on the host, from a copy of its operand")
            return _view_step(self.plan, step.var)
        if step.kind == 'dot' and on_device_matmul(step.eqn):
            return _matmul_step(step.eqn)
        return _host_step(step.eqn)

    def __call__(self, *args):
        plan = self.plan
        if self._consts is None:
            _require_device()
            self._consts = {v: _on_device(c) for v, c in zip(plan.constvars, plan.consts)}
        env = dict(self._consts)
        for v, a in zip(plan.invars, args):
            # an argument already on the device passes as its buffer: no trip to the host
            env[v] = a.device_buffer() if isinstance(a, DeviceArray) else np.asarray(a, v.aval.dtype)
        for run in self._steps:
            run(env)
        gpu = current_gpu()
        return [_result(_value(env, x), x.aval, gpu) for x in plan.outvars]

    def _describe(self, step):
        plan = self.plan
        if step.kind == 'kernel' and step.loop:
            launches = ', then '.join(
                f"{name} {b} block(s) x {t} thread(s)"
                for name, phase in zip(cuda_kernels.phase_names(step), step.loop.phases)
                for b, t in [cuda_kernels.phase_launch(step, phase)])
            return f"{step.name}: eqns {common.ranges(step.eqn_indices)} ({step.loop.eqn.primitive.name}), {launches}"
        if step.kind == 'kernel':
            blocks, threads = cuda_kernels.launch(step)
            return f"{step.name}: eqns {common.ranges(step.eqn_indices)}, {blocks} block(s) x {threads} thread(s)"
        if step.kind == 'view':
            return f"host view: {plan.names[step.var]}"
        where = 'matmul kernel' if step.kind == 'dot' and on_device_matmul(step.eqn) else 'host' 
        return f"{where}: {loop_nests.describe(step.eqn, plan.names)}"

    def as_text(self):
        """The steps in run order, then each kernel's CUDA source."""
        host = self.fallbacks + list(self.host_views.values())
        head = [f"jit({self.name}) on the CUDA backend: {len(self.kernels)} kernel(s), "
                f"{len(host)} host step(s)" + (f" ({', '.join(host)})" if host else "")]
        head += [f"  {self._describe(s)}" for s in self.plan.steps]
        parts = ['\n'.join(head)]
        parts += [f"# kernel {k.name}, cached in {k.path}\n{k.source}" for k in self.kernels]
        if any(s.kind == 'dot' and on_device_matmul(s.eqn) for s in self.plan.steps):
            parts.append(f"# dot_general: tiled shared-memory kernel cuda_kernels.MATMUL "
                         f"({cuda_kernels.TILE}x{cuda_kernels.TILE} tiles)")
        return '\n'.join(parts)

    def launches(self):
        """(name, kernel, argument types) of every kernel a call launches, in
        run order (the tiled matmul once per dtype, if used): what `cuda_kernels.compile_ptx` takes."""
        out = [(name, kernel, cuda_kernels.signature(k.kernel.inputs + k.kernel.outputs))
               for k in self.kernels
               for name, kernel in (zip(cuda_kernels.phase_names(k.kernel), k.phases) if k.kernel.loop
                                    else [(k.name, k.function)])]
        for dtype in sorted({s.eqn.out_binders[0].aval.dtype.name for s in self.plan.steps
                             if s.kind == 'dot' and on_device_matmul(s.eqn)}):
            out.append((f"matmul_{dtype}", cuda_kernels.MATMUL[np.dtype(dtype)],
                        cuda_kernels.matmul_signature(dtype)))
        return out

    def __repr__(self):
        return f"<cuda Executable jit({self.name}): {len(self.kernels)} kernel(s)>"


def compile(closed_jaxpr, name):
    """Compile `closed_jaxpr` into CUDA kernels and host steps (see the module docstring)."""
    return Executable(closed_jaxpr, name)
