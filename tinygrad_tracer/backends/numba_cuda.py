"""The CUDA backend: a jaxpr becomes `numba.cuda` kernels (on a GPU, or the CUDA simulator).

    >>> f = jit(lambda x: jnp.tanh(x @ w + b), backend='cuda')
    >>> print(f.lower(x).as_text())     # the jaxpr, then the steps and each kernel's source

`compile(closed_jaxpr, name)` uses the partition the CPU backend uses
(`fusion.partition`) and its scalar code (`codegen`), and runs each step here:

    step       runs as
    kernel     a generated `@cuda.jit` kernel (`cuda_kernels.kernel_source`): a
               grid-stride loop, a thread per element it writes; a reduction is a
               block per result, its threads' accumulators combined as a tree in
               shared memory
    dot        `cuda_kernels.MATMUL`, a tiled shared-memory kernel, for float32 or
               float64 with one contracted axis each and leading batch axes (`x @ w`,
               `x.T @ g`, `g @ w.T`, batched `a @ b`); any other dot_general on the host
    fallback   gather, scatter-add and cumsum: hand-written device kernels
               (`cuda_kernels.gather`, ...); anything else the primitive's NumPy impl
               on the host
    view       a layout op whose result a host step or the caller needs: on the host
    control    cond, while, scan: the NumPy impl on the host

Host steps are the exception: `TT_DEBUG=1` logs each one when compiling and
`lower().as_text()` counts them in its first line. An argument moves to the
device (`cuda.to_device`) the first time a kernel reads it; every result of a
kernel stays on the device until a host step or the caller reads it
(`.copy_to_host()`), so a jitted MLP training step uploads its arguments once
and downloads its results once (`tests/test_numba_cuda.py` counts). Kernel files
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

import numba
import numpy as np
from numba import config as numba_config, cuda

from .. import lax
from ..array import Array
from ..jaxpr import Literal
from . import codegen, common, cuda_kernels, fusion, loop_nests

# --- the device ------------------------------------------------------------------------------

_checked = False


def _require_device():
    """A GPU, or the simulator: otherwise one clear error instead of Numba's driver traceback."""
    global _checked
    if _checked or numba_config.ENABLE_CUDASIM:
        return
    if not cuda.is_available():
        raise RuntimeError(
            "jit(..., backend='cuda') found no CUDA GPU (no NVIDIA driver, or no card). To run "
            "the CUDA backend without a GPU, on Numba's CUDA simulator (every GPU thread runs as "
            "Python: use small shapes), set NUMBA_ENABLE_CUDASIM=1 in the environment before "
            "Python starts (before numba is imported), e.g. `NUMBA_ENABLE_CUDASIM=1 python "
            "script.py`. Compiling kernels to PTX (`cuda_kernels.compile_ptx`) needs no GPU.")
    _checked = True


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


def _device_value(env, x):
    """x's value on the device: an argument still on the host is uploaded once, and the
    environment keeps the device copy for the steps after."""
    value = _value(env, x)
    if isinstance(x, Literal) or hasattr(value, 'copy_to_host'):
        return _on_device(value)
    env[x] = _on_device(value)
    return env[x]


# --- steps: each a function of the environment (var -> value) ------------------------------------

def _build_kernel(k, plan, fn_name):
    """Write and import fused kernel `k` (a `fusion.Kernel`): a `common.CompiledKernel`."""
    source = cuda_kernels.kernel_source(k, plan)
    return common.CompiledKernel(k, source, common.load_module(
        cuda_kernels.module_source(k, fn_name, source)))


def _kernel_step(built):
    """Launch the compiled kernel `built` on the values it reads."""
    k, kernel = built.kernel, built.function
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


def _grid(n):
    """(blocks, threads) of a grid-stride kernel over n elements."""
    block = max(1, min(cuda_kernels.BLOCK, n))
    return max(1, min(math.ceil(n / block), cuda_kernels.MAX_BLOCKS)), block


class _Layout:
    """`cuda_kernels.index_layout` of a gather or scatter, on the device from the first call."""

    def __init__(self, shape, axes):
        self.host, self.device = cuda_kernels.index_layout(shape, axes), None

    def __call__(self):
        if self.device is None:
            self.device = [cuda.to_device(a) for a in self.host]
        return self.device


def _flat(env, x):
    return _device_value(env, x).reshape(x.aval.size or 1)


def _rows(env, idx):
    """The indices as a (batch, k) device array."""
    return _device_value(env, idx).reshape(math.prod(idx.aval.shape[:-1]), idx.aval.shape[-1])


def _gather_step(eqn):
    (x, idx), (out,) = eqn.inputs, eqn.out_binders
    layout = _Layout(x.aval.shape, eqn.params['axes'])
    size = math.prod(out.aval.shape)

    def run(env):
        result = cuda.device_array(size or 1, out.aval.dtype)
        if size:
            cuda_kernels.gather[_grid(size)](_flat(env, x), _rows(env, idx),
                                            *layout(), result)
        env[out] = result.reshape(out.aval.shape or (1,))
    return run


def _scatter_add_step(eqn):
    (x, idx, updates), (out,) = eqn.inputs, eqn.out_binders
    layout = _Layout(x.aval.shape, eqn.params['axes'])
    n, size = updates.aval.size, x.aval.size

    def run(env):
        result = cuda.device_array(size or 1, out.aval.dtype)
        result.copy_to_device(_flat(env, x))
        if n:
            cuda_kernels.scatter_add[_grid(n)](result, _rows(env, idx), _flat(env, updates), *layout())
        env[out] = result.reshape(out.aval.shape or (1,))
    return run


def _cumsum_step(eqn):
    (x,), (out,) = eqn.inputs, eqn.out_binders
    shape, axis = x.aval.shape, eqn.params['axis']
    lines = (math.prod(shape[:axis]), shape[axis], math.prod(shape[axis + 1:]))
    reverse = bool(eqn.params.get('reverse', False))

    def run(env):
        result = cuda.device_array(lines, out.aval.dtype)
        if x.aval.size:
            cuda_kernels.cumsum[_grid(lines[0] * lines[2])](_device_value(env, x).reshape(*lines),
                                                            result, reverse)
        env[out] = result.reshape(shape)
    return run


def _device_kernel(eqn):
    """(kernel, argument types) that the step `_device_step(eqn)` builds launches."""
    def array(aval, ndim):
        return cuda_kernels.signature_of(aval.dtype, ndim)
    index = (cuda_kernels.signature_of(np.int64, 1),) * 3
    ins, out = [x.aval for x in eqn.inputs], eqn.out_binders[0].aval
    if eqn.primitive is lax.gather_p:
        return cuda_kernels.gather, (array(ins[0], 1), array(ins[1], 2), *index, array(out, 1))
    if eqn.primitive is lax.scatter_add_p:
        return cuda_kernels.scatter_add, (array(out, 1), array(ins[1], 2), array(ins[2], 1), *index)
    return cuda_kernels.cumsum, (array(ins[0], 3), array(out, 3), numba.boolean)


def _device_step(eqn):
    """The builder of the step running `eqn` as a hand-written device kernel (gather,
    scatter-add, cumsum of the dtypes they take), or None."""
    if not eqn.out_binders:   # a debug callback: a host step
        return None
    prim, dtype = eqn.primitive, eqn.out_binders[0].aval.dtype
    if prim is lax.gather_p and dtype in codegen.SUPPORTED_DTYPES:
        return _gather_step
    if prim is lax.scatter_add_p and dtype in cuda_kernels.ATOMIC_ADD_DTYPES:
        return _scatter_add_step
    if prim is lax.cumsum_p and eqn.inputs[0].aval.ndim and dtype in cuda_kernels.ATOMIC_ADD_DTYPES:
        return _cumsum_step
    return None


def _on_device_kernel(step):
    """Does this step (of a partition) run as a hand-written device kernel?"""
    return step.kind == 'fallback' and _device_step(step.eqn) is not None


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
                          if (s.kind in ('control', 'fallback') and not _on_device_kernel(s))
                          or (s.kind == 'dot' and not on_device_matmul(s.eqn))]
        self._consts = None   # on the device, at the first call (compiling needs no GPU)
        self._steps = [self._prepare(s) for s in plan.steps]

    def _prepare(self, step):
        if step.kind == 'kernel':
            self.kernels.append(_build_kernel(step, self.plan, self.name))
            return _kernel_step(self.kernels[-1])
        if step.kind == 'view':
            return _view_step(self.plan, step.var)
        if step.kind == 'dot' and on_device_matmul(step.eqn):
            return _matmul_step(step.eqn)
        if _on_device_kernel(step):
            return _device_step(step.eqn)(step.eqn)
        return _host_step(step.eqn)

    def __call__(self, *args):
        plan = self.plan
        if self._consts is None:
            _require_device()
            self._consts = {v: _on_device(np.asarray(c)) for v, c in zip(plan.constvars, plan.consts)}
        env = dict(self._consts)
        for v, a in zip(plan.invars, args):
            env[v] = np.asarray(a, v.aval.dtype)
        for run in self._steps:
            run(env)
        return [Array(_on_host(_value(env, x), x.aval), x.aval.weak_type) for x in plan.outvars]

    def _describe(self, step):
        plan = self.plan
        if step.kind == 'kernel':
            blocks, threads = cuda_kernels.launch(step)
            return f"{step.name}: eqns {common.ranges(step.eqn_indices)}, {blocks} block(s) x {threads} thread(s)"
        if step.kind == 'view':
            return f"host view: {plan.names[step.var]}"
        where = ('matmul kernel' if step.kind == 'dot' and on_device_matmul(step.eqn) else
                 f"{step.eqn.primitive.name.replace('-', '_')} kernel"
                 if _on_device_kernel(step) else 'host')
        return f"{where}: {loop_nests.describe(step.eqn, plan.names)}"

    def as_text(self):
        """The steps in run order, then each kernel's CUDA source."""
        head = [f"jit({self.name}) on the CUDA backend: {len(self.kernels)} kernel(s), "
                f"{len(self.fallbacks)} host step(s)"
                + (f" ({', '.join(self.fallbacks)})" if self.fallbacks else "")]
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
        out = [(k.name, k.function, cuda_kernels.signature(k.kernel.inputs + k.kernel.outputs))
               for k in self.kernels]
        for dtype in sorted({s.eqn.out_binders[0].aval.dtype.name for s in self.plan.steps
                             if s.kind == 'dot' and on_device_matmul(s.eqn)}):
            out.append((f"matmul_{dtype}", cuda_kernels.MATMUL[np.dtype(dtype)],
                        cuda_kernels.matmul_signature(dtype)))
        out += [(s.eqn.primitive.name, *_device_kernel(s.eqn)) for s in self.plan.steps
                if _on_device_kernel(s)]
        return out

    def __repr__(self):
        return f"<cuda Executable jit({self.name}): {len(self.kernels)} kernel(s)>"


def compile(closed_jaxpr, name):
    """Compile `closed_jaxpr` into CUDA kernels and host steps (see the module docstring)."""
    return Executable(closed_jaxpr, name)
