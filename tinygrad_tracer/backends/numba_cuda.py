"""The CUDA backend: a jaxpr becomes `numba.cuda` kernels (on a GPU, or the CUDA simulator).

    >>> f = jit(lambda x: jnp.tanh(x @ w + b), backend='cuda')
    >>> print(f.lower(x).as_text())     # the jaxpr, then the steps and each kernel's source

`compile(closed_jaxpr, name)` uses the partition the CPU backend uses
(`fusion.partition`) and its scalar code (`codegen`), and runs each step here:

    step       runs as
    kernel     a generated `@cuda.jit` kernel (`cuda_kernels.kernel_source`): a
               grid-stride loop, a thread per element it writes; a reduction is a
               block per result, its threads' accumulators merged by warp shuffles,
               then the warps' through shared memory; a cumsum a thread per line; a loop kernel (scatters,
               sort: `loop_kernels`) a kernel per phase, its body the CPU backend's,
               in a grid-stride loop
    dot        `cuda_kernels.MATMUL`, a tiled shared-memory kernel, for float32 or
               float64 with one contracted axis each and leading batch axes (`x @ w`,
               `x.T @ g`, `g @ w.T`, batched `a @ b`); any other dot_general on the host
    fallback   the primitive's NumPy impl on the host
    view       a layout op whose result a host step or the caller needs: on the host
    control    cond, while, scan: each body (branch, condition) compiled as an
               executable of its own; the host runs the loop, launching the
               body's kernels on values that stay on the device. Only a scalar
               comes back: a while loop's condition each iteration, a cond's
               branch index (as XLA on a GPU does). A scan reads its xs and writes
               its ys in place, a row per iteration (device-to-device copies)

Host steps (fallbacks, and layout views made on the host, in the bodies of
control flow too) are the exception: `TT_DEBUG=1` logs each one when compiling
and `lower().as_text()` counts them in its first line. An argument moves to the device (`cuda.to_device`)
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
from ..device_array import DeviceArray, current_gpu, require_gpu, upload
from ..jaxpr import Literal, Var
from ..lax_control_flow import cond_p, while_p
from .. import lax
from . import codegen, common, cuda_kernels, fusion, loop_nests

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


def in_order(plan, var):
    """Does layout op `var` hold its base array's elements in the same order (reshapes,
    squeezes, expand_dims of a Var): the same buffer, reshaped?"""
    base, chain = plan.layout_chain(var)
    return isinstance(base, Var) and all(
        e.primitive in (lax.squeeze_p, lax.expand_dims_p)
        or e.primitive is lax.reshape_p and e.params.get('dimensions') is None for e in chain)


def _view_step(plan, var, copy):
    """Make a layout op's result (for a step outside the kernels, or the caller) on the
    device: the same buffer reshaped when `copy` is None (`in_order`), else the output
    of the copy kernel `copy` (a `common.CompiledKernel`: `cuda_kernels.copy_source`)."""
    base, chain = plan.layout_chain(var)
    shape = var.aval.shape or (1,)
    if copy is None:
        def reshape(env):
            env[var] = _device_value(env, base).reshape(shape)
        return reshape
    blocks, threads = cuda_kernels.launch(copy.kernel)
    reads = [base] if isinstance(base, Var) else []   # (a broadcast literal is in the kernel's code)

    def run(env):
        out = cuda.device_array(shape, var.aval.dtype)
        copy.function[blocks, threads](*[_device_value(env, x) for x in reads], out)
        env[var] = out
    return run


# --- control flow: the host runs the loop, the bodies' kernels run on the device --------------------

def _scalar(x):
    """The Python value of a 1-element value (a device buffer: one copy back)."""
    return (x.copy_to_host() if hasattr(x, 'copy_to_host') else np.asarray(x)).reshape(-1)[0]


def _row(buffer, i, shape):
    """Row i of a device buffer (a view: no copy), shaped `shape` (a 0-d row as 1 element)."""
    return buffer[i:i + 1].reshape(shape or (1,))


def _control_step(eqn, sub):
    """Run a cond / while / scan equation: `sub(closed_jaxpr, name)` compiles a body into
    an `Executable`, whose `run` takes and returns device values."""
    p, prim = eqn.params, eqn.primitive
    literals = {}   # a literal operand (a loop counter's start) is uploaded once, at the first call

    def operand(env, n, x):
        if not isinstance(x, Literal):
            return _device_value(env, x)
        if n not in literals:
            literals[n] = _on_device(_value(env, x))
        return literals[n]

    def operands(env, xs):
        return [operand(env, n, x) for n, x in enumerate(xs)]
    if prim is cond_p:
        branches = [sub(b, 'cond_branch') for b in p['branches']]

        def run_cond(env):
            index = int(_scalar(_value(env, eqn.inputs[0])))   # the one value read back
            branch = branches[min(max(index, 0), len(branches) - 1)]
            env.update(zip(eqn.out_binders, branch.run(operands(env, eqn.inputs[1:]))))
        return run_cond
    if prim is while_p:
        cond, body = sub(p['cond_jaxpr'], 'while_cond'), sub(p['body_jaxpr'], 'while_body')
        nc, nb = p['cond_nconsts'], p['body_nconsts']

        def run_while(env):
            args = operands(env, eqn.inputs)
            cconsts, bconsts, carry = args[:nc], args[nc:nc + nb], args[nc + nb:]
            while _scalar(cond.run(cconsts + carry)[0]):   # read back each iteration
                carry = body.run(bconsts + carry)
            env.update(zip(eqn.out_binders, carry))
        return run_while
    body = sub(p['jaxpr'], 'scan_body')   # scan
    nc, ncarry, length = p['num_consts'], p['num_carry'], p['length']
    x_avals = [x.aval for x in eqn.inputs[nc + ncarry:]]
    y_avals = [v.aval for v in eqn.out_binders[ncarry:]]
    order = range(length - 1, -1, -1) if p['reverse'] else range(length)

    def run_scan(env):
        args = operands(env, eqn.inputs)
        consts, carry, xs = args[:nc], args[nc:nc + ncarry], args[nc + ncarry:]
        ys = [cuda.device_array(a.shape, a.dtype) for a in y_avals]
        for i in order:
            outs = body.run(consts + carry + [_row(x, i, a.shape[1:]) for x, a in zip(xs, x_avals)])
            carry = outs[:ncarry]
            for y, a, out in zip(ys, y_avals, outs[ncarry:]):
                _row(y, i, a.shape[1:]).copy_to_device(_on_device(out))
        env.update(zip(eqn.out_binders, carry + ys))
    return run_scan


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
        self.subexecutables = []   # the bodies of control flow, compiled
        self.views = {}   # layout op read outside the kernels -> its copy kernel (None: reshaped)
        self.fallbacks = [s.eqn.primitive.name for s in plan.steps
                          if s.kind == 'fallback' or (s.kind == 'dot' and not on_device_matmul(s.eqn))]
        self._consts = None   # on the device, at the first call (compiling needs no GPU)
        self._steps = [self._prepare(s) for s in plan.steps]

    def _prepare(self, step):
        if step.kind == 'kernel':
            self.kernels.append(_build_kernel(step, self.plan, self.name))
            return _kernel_step(self.kernels[-1])
        if step.kind == 'view':   # a layout op read outside the kernels: made on the device
            copy = None if in_order(self.plan, step.var) else self._copy_kernel(step.var)
            self.views[step.var] = copy
            return _view_step(self.plan, step.var, copy)
        if step.kind == 'dot' and on_device_matmul(step.eqn):
            return _matmul_step(step.eqn)
        if step.kind == 'control':
            if settings.DEBUG >= 1:
                settings.log(f"cuda: the {step.eqn.primitive.name} loop runs from the host, its bodies' "
                             "kernels on the device; only its condition (or branch index) is read back")
            return _control_step(step.eqn, self._sub)
        return _host_step(step.eqn)

    def _copy_kernel(self, var):
        """Build the kernel that writes layout op `var` to an array of its own."""
        plan = self.plan
        k = fusion.Kernel([], codegen.key(var.aval.shape), ())
        k.name = f"{codegen.identifier(self.name)}_copy_{plan.py_names[var]}"
        base = plan.layout_chain(var)[0]
        k.inputs, k.outputs = ([base] if isinstance(base, Var) else []), [var]
        k.eqn_indices, v = [], var
        while v in plan.access:   # the layout equations it copies through
            k.eqn_indices.append(plan.origin[plan.access[v]])
            v = plan.eqns[plan.access[v]].inputs[0]
        k.eqn_indices.sort()
        source = cuda_kernels.copy_source(k.name, plan, var)
        self.kernels.append(common.CompiledKernel(k, source, common.load_module(
            cuda_kernels.module_source(k, self.name, source))))
        return self.kernels[-1]

    def _sub(self, closed_jaxpr, name):
        exe = Executable(closed_jaxpr, name)
        self.subexecutables.append(exe)
        return exe

    @property
    def host_steps(self):
        """The primitives run through their NumPy impl on the host, here and in the
        bodies of control flow."""
        return (self.fallbacks
                + [h for sub in self.subexecutables for h in sub.host_steps])

    @property
    def body_kernels(self):
        """How many kernels the bodies of control flow have (nested ones too)."""
        return sum(len(sub.kernels) + sub.body_kernels for sub in self.subexecutables)

    def run(self, values):
        """Run on `values` (device buffers, or NumPy arrays uploaded when a kernel first
        reads them): the outputs, each a device buffer or (a host step's) a NumPy array."""
        plan = self.plan
        if self._consts is None:
            _require_device()
            self._consts = {v: _on_device(c) for v, c in zip(plan.constvars, plan.consts)}
        env = dict(self._consts)
        env.update(zip(plan.invars, values))
        for run in self._steps:
            run(env)
        return [_value(env, x) for x in plan.outvars]

    def __call__(self, *args):
        # an argument already on the device passes as its buffer: no trip to the host
        values = [a.device_buffer() if isinstance(a, DeviceArray) else np.asarray(a, v.aval.dtype)
                  for v, a in zip(self.plan.invars, args)]
        outs = self.run(values)   # (first: it checks that there is a GPU, or the simulator)
        gpu = current_gpu()
        return [_result(x, v.aval, gpu) for x, v in zip(outs, self.plan.outvars)]

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
            copy = self.views[step.var]
            if copy is None:
                return f"device reshape: {plan.names[step.var]} (the same buffer)"
            blocks, threads = cuda_kernels.launch(copy.kernel)
            return (f"{copy.name}: eqns {common.ranges(copy.eqn_indices)} (a copy of "
                    f"{plan.names[step.var]}), {blocks} block(s) x {threads} thread(s)")
        if step.kind == 'control':
            read = {'cond': 'its branch index', 'while': 'its condition, each iteration'}.get(
                step.eqn.primitive.name, 'nothing')
            return f"device {step.eqn.primitive.name} (reads back {read}): {loop_nests.describe(step.eqn, plan.names)}"
        where = 'matmul kernel' if step.kind == 'dot' and on_device_matmul(step.eqn) else 'host' 
        return f"{where}: {loop_nests.describe(step.eqn, plan.names)}"

    def as_text(self):
        """The steps in run order, then each kernel's CUDA source."""
        host = self.host_steps
        head = [f"jit({self.name}) on the CUDA backend: {len(self.kernels)} kernel(s)"
                + (f" (and {self.body_kernels} in control-flow bodies)" if self.subexecutables else "")
                + f", {len(host)} host step(s)" + (f" ({', '.join(host)})" if host else "")]
        head += [f"  {self._describe(s)}" for s in self.plan.steps]
        parts = ['\n'.join(head)]
        parts += [f"# kernel {k.name}, cached in {k.path}\n{k.source}" for k in self.kernels]
        if any(s.kind == 'dot' and on_device_matmul(s.eqn) for s in self.plan.steps):
            parts.append(f"# dot_general: tiled shared-memory kernel cuda_kernels.MATMUL "
                         f"({cuda_kernels.TILE}x{cuda_kernels.TILE} tiles)")
        parts += [f"# --- {sub.name} ---\n{sub.as_text()}" for sub in self.subexecutables]
        return '\n'.join(parts)

    def launches(self):
        """(name, kernel, argument types) of every kernel a call launches, in
        run order (the tiled matmul once per dtype, if used; then those of the
        control-flow bodies): what `cuda_kernels.compile_ptx` takes."""
        out = [(name, kernel, cuda_kernels.signature(k.kernel.inputs + k.kernel.outputs))
               for k in self.kernels
               for name, kernel in (zip(cuda_kernels.phase_names(k.kernel), k.phases) if k.kernel.loop
                                    else [(k.name, k.function)])]
        for dtype in sorted({s.eqn.out_binders[0].aval.dtype.name for s in self.plan.steps
                             if s.kind == 'dot' and on_device_matmul(s.eqn)}):
            out.append((f"matmul_{dtype}", cuda_kernels.MATMUL[np.dtype(dtype)],
                        cuda_kernels.matmul_signature(dtype)))
        return out + [launch for sub in self.subexecutables for launch in sub.launches()]

    def __repr__(self):
        return f"<cuda Executable jit({self.name}): {len(self.kernels)} kernel(s)>"


def compile(closed_jaxpr, name):
    """Compile `closed_jaxpr` into CUDA kernels and host steps (see the module docstring)."""
    return Executable(closed_jaxpr, name)
