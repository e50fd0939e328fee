"""The Numba backend: a jaxpr becomes fused loop kernels compiled for the CPU.

    >>> f = jit(lambda x: 1.05 * jnp.where(x > 0, x, 1.67 * jnp.exp(x) - 1.67), backend='numba')
    >>> print(f.lower(jnp.ones(1000)).as_text())    # the jaxpr, the partition, the source

`compile(closed_jaxpr, name)` does four things:

1. `fusion.partition` splits the equations into steps: fused loop kernels
   (gathers and other reads at computed indices, and running totals, among
   them), loop kernels (scatters, sort: `loop_kernels.py`), BLAS calls for matrix
   products (any other `dot_general` runs its NumPy impl), NumPy views,
   control flow, and fallbacks (a primitive without code generation runs its
   NumPy impl; `TT_DEBUG=1` logs each one, `as_text()` counts them).
2. `loop_nests.kernel_function` (with `codegen`'s scalar rules) writes each
   kernel's Python source. The file is named by a hash of its text and saved
   in the kernel cache (`common.py`; `TT_CACHE_DIR`, default
   `~/.cache/tinygrad_tracer`), then compiled with `numba.njit(cache=True)`,
   right away, for argument types known from the avals: a second process
   finds the machine code on disk and skips compilation. `TT_DEBUG=2` prints each kernel and its time.
3. It writes a *driver*: one plain Python function that unwraps the input
   Arrays, calls the steps in order and wraps the results. Kernels get their
   output arrays from it (allocating inside Numba is slower); intermediates
   live in an arena allocated once. Everything is decided at compile time,
   so a call costs little more than the kernel calls themselves.
4. The `Executable` it returns runs the driver; `as_text()` shows the
   partition, the driver and every kernel's source, and `kernels` lists the
   compiled kernels (`common.CompiledKernel`: name, fused equation indices,
   source, where its machine code came from) for the visualizer.

Threads: big kernels (`PARALLEL_MIN` elements) split their outer loop over
the cores, and BLAS uses them too, but only the cores no other program is
using at the time of the call (see `threads.py`).
"""
import builtins
import hashlib
import importlib.util
import os
import threading
import time

import numpy as np

# Kernels alternate with BLAS calls (and, in a benchmark, with JAX's threads):
# OpenMP workers that spin after a parallel loop would take the core those
# need. Let them sleep instead, unless the user chose otherwise. (This must be
# set before Numba starts its threads.)
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

import numba   # noqa: E402
from numba import types as nb_types   # noqa: E402

from .. import _lax_xla, lax, settings
from ..array import Array
from ..jaxpr import Literal, Var
from ..lax_control_flow import cond_p, while_p, scan_p
from . import _fastmath, common, compiled_control_flow, fusion, loop_kernels, loop_nests, threads
from .codegen import identifier

# Kernels over at least this many elements run their outer loop on every free
# core (prange); below it, waking the threads costs more than it saves.
PARALLEL_MIN = 1 << 16

# Kernels this process compiled, loaded from the disk cache, or reused from memory.
stats = {'compiled': 0, 'loaded': 0, 'reused': 0}


def _library_version():
    # Numba's cache only notices edits to the kernel file itself, not to the
    # helpers it calls: their source goes into every kernel file (so into its hash).
    h = hashlib.sha256()
    with open(_fastmath.__file__, 'rb') as f:
        h.update(f.read())
    h.update(numba.__version__.encode())
    return h.hexdigest()[:16]


LIBRARY_VERSION = _library_version()


def _module_text(name, fn, eqns, source):
    """A kernel (or loop) module: the header, then the functions' source."""
    return common.module_text(f"{name} of jit({fn}), written by tinygrad_tracer's Numba backend.\n"
                              f"Fuses the jaxpr equations {eqns}. Library version {LIBRARY_VERSION}.",
                              'from numba import njit, prange', source)


# --- kernels: source file, module, compiled code --------------------------------------------------

def _kernel_source(k, plan):
    function = loop_kernels.cpu_function if k.loop else loop_nests.kernel_function
    # fastmath 'contract' only: LLVM fuses a * b + c into one fma where the product has
    # no other use, as it does in XLA's kernels, so jit prints JAX's jit digits.
    return (f"@njit(cache=True, parallel={k.parallel}, error_model='numpy', fastmath={{'contract'}})\n"
            + function(k, plan))


# Held while a kernel is compiled: two threads jitting at once must not re-enable
# compilation of a dispatcher the other has just sealed (Numba compiles one thing
# at a time anyway).
_lock = threading.RLock()


def _array_type(aval, readonly):
    return nb_types.Array(numba.from_dtype(aval.dtype), len(aval.shape), 'C', readonly=readonly)


def _build_kernel(k, plan, fn_name):
    """Write, import and compile kernel `k` (a `fusion.Kernel`): a `common.CompiledKernel`
    whose `function` is the Numba dispatcher."""
    source = _kernel_source(k, plan)
    built = common.CompiledKernel(k, source, common.load_module(
        _module_text(k.name, fn_name, common.ranges(k.eqn_indices), source)))
    dispatcher = built.function
    # Inputs are typed read-only (Arrays are) and C-contiguous (the driver makes
    # sure); a writable array converts safely, so one signature serves every call.
    sig = tuple([nb_types.int64] * len(k.domain)
                + [_array_type(v.aval, True) for v in k.inputs]
                + [_array_type(v.aval, False) for v in k.outputs])
    with _lock:
        hits = sum(dispatcher.stats.cache_hits.values())
        start = time.perf_counter()
        if sig in dispatcher.overloads:
            built.origin = 'reused'     # the same kernel, already compiled by this process
        else:
            dispatcher.disable_compile(False)
            dispatcher.compile(sig)
            built.origin = 'loaded' if sum(dispatcher.stats.cache_hits.values()) > hits else 'compiled'
        built.compile_seconds = time.perf_counter() - start
        dispatcher.disable_compile()   # a call with other types is a bug: fail, do not recompile
        stats[built.origin] += 1
    if settings.DEBUG >= 2:
        how = {'compiled': 'compiled', 'loaded': 'loaded from the disk cache',
               'reused': 'reused (compiled earlier in this process)'}[built.origin]
        settings.log(f"numba: kernel {k.name} {how} in {built.compile_seconds:.3f} s "
                     f"({built.path})\n{source}")
    return built


# --- values outside the kernels ------------------------------------------------------------------

def _contiguous(v):
    """Kernels read C-contiguous arrays."""
    return v if v.flags.c_contiguous else np.ascontiguousarray(v)


def _host(eqn, backend=None):
    """`common.host_impl` with C-contiguous results, as the kernels reading them need."""
    run = common.host_impl(eqn, backend)
    return lambda *values: [_contiguous(v) for v in run(*values)]


def _blas_expr(eqn, lhs, rhs, out=None, in_loop=False):
    """NumPy source for a dot_general that is a matrix (or vector) product: `a @ b`
    (BLAS) on transposed views; with `out`, the call writes into that buffer. None for
    any other dot_general (it runs through its NumPy impl), or when `out` cannot be used.
    Also None for the vector products whose order of sums XLA's differs from (the impl
    repeats XLA's), except `in_loop`: a compiled loop keeps its `@`, an ulp apart."""
    (lc, rc), (lb, rb) = eqn.params['dimension_numbers']
    ls, rs = eqn.inputs[0].aval.shape, eqn.inputs[1].aval.shape
    aval = eqn.out_binders[0].aval
    same_dtype = aval.dtype == eqn.inputs[0].aval.dtype
    if lb or len(lc) != 1 or len(ls) > 2 or len(rs) > 2 or len(ls) + len(rs) < 3:
        return None
    if not in_loop and not _lax_xla.sums_like_blas(ls, rs, eqn.params['dimension_numbers'],
                                                   eqn.inputs[0].aval.dtype):
        return None
    left = lhs if len(ls) == 1 or lc[0] == 1 else f"{lhs}.T"
    right = rhs if len(rs) == 1 or rc[0] == 0 else f"{rhs}.T"
    if out is not None:
        return f"_np.matmul({left}, {right}, out={out})" if same_dtype else None
    expr = f"{left} @ {right}"
    return expr if same_dtype else f"({expr}).astype(_np.{aval.dtype.name})"


def _loop_dot(eqn, lhs, rhs):
    """`_blas_expr` inside a compiled loop: a float matrix product (Numba's `@` calls
    SciPy's BLAS, so SciPy must be installed), else None (the loop stays in Python)."""
    dtypes = {x.aval.dtype for x in eqn.inputs + eqn.out_binders}
    if len(dtypes) != 1 or dtypes.pop() not in (np.float32, np.float64) or \
            importlib.util.find_spec('scipy') is None:
        return None
    return _blas_expr(eqn, lhs, rhs, in_loop=True)


def _with_arena(run_arena, run_fresh):
    """Use the arena unless another thread is using it right now."""
    lock = threading.Lock()

    def run(*args):
        if lock.acquire(False):
            try:
                return run_arena(*args)
            finally:
                lock.release()
        return run_fresh(*args)
    return run


def _view_expr(eqn, x):
    """NumPy source for a layout op (a view where NumPy can make one)."""
    p, out = eqn.params, eqn.out_binders[0].aval.shape
    prim = eqn.primitive
    if prim is lax.reshape_p and p.get('dimensions') is not None:
        return f"_np.transpose({x}, {tuple(p['dimensions'])}).reshape({tuple(out)})"
    if prim in (lax.reshape_p, lax.squeeze_p, lax.expand_dims_p):
        return f"{x}.reshape({tuple(out)})"
    if prim is lax.transpose_p:
        return f"{x}.transpose({tuple(p['permutation'])})"
    if prim is lax.broadcast_in_dim_p:
        expanded = [1] * len(out)
        for src, dst in enumerate(p['broadcast_dimensions']):
            expanded[dst] = eqn.inputs[0].aval.shape[src]
        return f"_np.broadcast_to({x}.reshape({tuple(expanded)}), {tuple(out)})"
    if prim is lax.slice_p:
        strides = p['strides'] or (1,) * len(out)
        window = zip(p['start_indices'], p['limit_indices'], strides)
        return f"{x}[{', '.join(f'{s}:{l}:{st}' for s, l, st in window)},]"
    return f"{x}[{', '.join('::-1' if d in p['dimensions'] else ':' for d in range(len(out)))},]"   # rev


# --- control flow: each body is compiled, the loop runs here ----------------------------------------

def _control(eqn, subs, loops_text):
    """A Python function running a cond / while / scan equation on NumPy arrays. Its
    results are C-contiguous, as the kernels reading them need: a branch (or a loop
    that runs no step) may hand back a broadcast view or an argument as it is."""
    run = _control_flow(eqn, subs, loops_text)
    return lambda *args: [_contiguous(v) for v in run(*args)]


def _control_flow(eqn, subs, loops_text):
    p = eqn.params
    prim, name = eqn.primitive, eqn.primitive.name
    if prim in (while_p, scan_p):
        source = compiled_control_flow.loop_source(eqn, _kernel_source, PARALLEL_MIN, _loop_dot)
        if source is not None:   # the whole loop in one Numba function
            loops_text.append(source)
            if settings.DEBUG >= 2:
                settings.log(f"numba: the {name} loop runs compiled whole (compiled on its "
                             f"first call):\n{source}")
            module = common.load_module(_module_text('loop', name, 'of the loop body', source))
            return _compiled_loop(eqn, module.loop)
    if prim is cond_p:
        branches = [_sub(b, 'cond_branch', subs) for b in p['branches']]

        def run_cond(index, *ops):
            return branches[min(max(int(index), 0), len(branches) - 1)](*ops)
        return run_cond
    if prim is while_p:
        cond, body = _sub(p['cond_jaxpr'], 'while_cond', subs), _sub(p['body_jaxpr'], 'while_body', subs)
        nc, nb = p['cond_nconsts'], p['body_nconsts']

        def run_while(*args):
            cconsts, bconsts, carry = args[:nc], args[nc:nc + nb], list(args[nc + nb:])
            while cond(*cconsts, *carry)[0]:
                carry = body(*bconsts, *carry)
            return carry
        return run_while
    body = _sub(p['jaxpr'], 'scan_body', subs)   # scan
    nc, ncarry, length = p['num_consts'], p['num_carry'], p['length']
    y_avals = p['jaxpr'].out_avals[ncarry:]
    order = range(length - 1, -1, -1) if p['reverse'] else range(length)

    def run_scan(*args):
        consts, carry, xs = args[:nc], list(args[nc:nc + ncarry]), args[nc + ncarry:]
        ys = [np.empty((length, *a.shape), a.dtype) for a in y_avals]
        for i in order:
            outs = body(*consts, *carry, *[x[i, ...] for x in xs])   # arrays, even 0-d
            carry = outs[:ncarry]
            for y, o in zip(ys, outs[ncarry:]):
                y[i] = o
        return carry + ys
    return run_scan


def _compiled_loop(eqn, loop):
    if eqn.primitive is while_p:
        return lambda *args: list(loop(*args))
    p = eqn.params
    y_avals = p['jaxpr'].out_avals[p['num_carry']:]

    def run_scan(*args):
        ys = [np.empty((p['length'], *a.shape), a.dtype) for a in y_avals]
        return list(loop(*args, *ys)) + ys
    return run_scan


def _sub(closed, what, subs):
    exe = Executable(closed, what, raw=True)
    subs.append(exe)
    return exe


# --- the driver and the executable -------------------------------------------------------------

class Executable:
    """A compiled jaxpr: call it with Arrays (one per input), get a list of Arrays.
    With raw=True (control-flow bodies) it takes and returns NumPy arrays.

    Intermediate arrays that only kernels and BLAS calls read live in an
    *arena* allocated once: reusing them saves NumPy's allocation and the
    operating system's page faults on every call (a call from a second thread
    while the first runs gets fresh buffers instead)."""

    def __init__(self, closed_jaxpr, name, raw=False):
        self.closed_jaxpr, self.name, self.raw = closed_jaxpr, name, raw
        self.plan = fusion.partition(closed_jaxpr, name, PARALLEL_MIN, 'numba')
        self.kernels = []   # common.CompiledKernel, in run order
        self.subexecutables, self.compiled_loops = [], []   # control-flow bodies
        self.fallbacks = [s.eqn.primitive.name for s in self.plan.steps if s.kind == 'fallback']
        self._run = self._make_driver()

    def __call__(self, *args):
        return self._run(*args)

    def _make_driver(self):
        plan, py = self.plan, self.plan.py_names
        g = {'_np': np, '_Array': Array, '_adopt': Array.adopt, '_empty': np.empty,
             '_contiguous': _contiguous}
        for v, c in zip(plan.constvars, plan.consts):
            g[py[v]] = _contiguous(np.asarray(c))
        for step in plan.steps:   # compile every kernel, prepare every call, once
            if step.kind == 'kernel':
                self.kernels.append(_build_kernel(step, plan, self.name))
                g[step.name] = self.kernels[-1].function
            elif step.kind == 'control':
                g[f"_control{step.index}"] = _control(step.eqn, self.subexecutables, self.compiled_loops)
            elif step.kind == 'fallback':
                g[f"_fallback{step.index}"] = _host(step.eqn, 'numba')
            elif step.kind == 'dot' and _blas_expr(step.eqn, 'l', 'r') is None:
                g[f"_dot{step.index}"] = _host(step.eqn)   # not a matrix product: NumPy's impl
        arena = self._arena_vars()
        for v in arena:
            g[f"_arena_{py[v]}"] = np.empty(v.aval.shape, v.aval.dtype)
        self.driver_source = self._driver(g, arena)
        run = g[self._fn]
        if arena:
            self._driver(g, set(), suffix='_fresh')
            run = _with_arena(run, g[self._fn + '_fresh'])
        # (a loop compiled whole may multiply matrices: its BLAS calls count too)
        return threads.limit_threads(run, any(k.parallel for k in plan.kernels),
                                     any(s.kind == 'dot' for s in self.plan.steps) or bool(self.compiled_loops))

    def _arena_vars(self):
        """Intermediates written by kernels or BLAS calls that never leave the call."""
        plan = self.plan
        outvars = {v for v in plan.outvars if isinstance(v, Var)}
        readers = {}
        for step in plan.steps:
            for v in step.inputs:
                readers.setdefault(v, []).append(step)

        def stays_inside(v):
            return v not in outvars and all(
                s.kind in ('kernel', 'dot') or (s.kind == 'view' and stays_inside(s.var))
                for s in readers.get(v, []))
        made = [v for s in plan.steps if s.kind == 'kernel' for v in s.outputs]
        made += [s.eqn.out_binders[0] for s in plan.steps
                 if s.kind == 'dot' and _blas_expr(s.eqn, 'l', 'r', 'out') is not None]
        return {v for v in made if stays_inside(v)}

    @property
    def _fn(self):
        # `jit_` keeps the driver's name apart from the jaxpr's variable names,
        # which are its globals too (a function named `a` would hide a const `a`).
        return f"jit_{identifier(self.name)}"

    def _driver(self, g, arena, suffix=''):
        """The driver's source (defined in g): unwrap, run each step, wrap."""
        plan, raw, py = self.plan, self.raw, self.plan.py_names
        lines = []

        literals = {}

        def value(x):
            """Source naming the value of x (a global for literals)."""
            if isinstance(x, Literal):
                key = literals.setdefault(id(x), f"_lit{len(literals)}")
                g[key] = np.asarray(x.val)
                return key
            return py[x]

        kernel_inputs = {v for k in plan.kernels for v in k.inputs}
        params = []
        for i, v in enumerate(plan.invars):
            params.append(py[v] if raw else f"x{i}")
            if not raw:
                dt = g.setdefault(f"_{v.aval.dtype.name}", v.aval.dtype)
                lines.append(f"{py[v]} = x{i}._value if x{i}.__class__ is _Array "
                             f"else _np.asarray(x{i}, _{dt.name})")
            if v in kernel_inputs:
                lines.append(f"if not {py[v]}.flags.c_contiguous: {py[v]} = _contiguous({py[v]})")
        for step in plan.steps:
            lines += self._step_lines(step, g, value, arena)
        outs = []
        for x in plan.outvars:
            if raw:
                outs.append(value(x))
            elif isinstance(x, Literal) or x in plan.constvars:
                key = f"_out{len(outs)}"
                g[key] = Array(np.asarray(x.val if isinstance(x, Literal) else g[py[x]]),
                               x.aval.weak_type)
                outs.append(key)
            else:
                outs.append(f"_adopt({py[x]}, {x.aval.weak_type})")
        lines.append(f"return [{', '.join(outs)}]")
        fn = self._fn + suffix
        source = f"def {fn}({', '.join(params)}):\n" + ''.join(f"    {l}\n" for l in lines)
        exec(builtins.compile(source, f"<tinygrad_tracer driver of jit({self.name})>", 'exec'), g)
        return source

    def _step_lines(self, step, g, value, arena):
        plan, py = self.plan, self.plan.py_names

        def buffer(v):   # where a step's result goes
            if v in arena:
                return f"_arena_{py[v]}"
            g.setdefault(f"_{v.aval.dtype.name}", v.aval.dtype)
            return f"_empty({tuple(v.aval.shape)}, _{v.aval.dtype.name})"
        if step.kind == 'kernel':
            lines = [f"{py[v]} = {buffer(v)}" for v in step.outputs]
            args = [str(n) for n in step.domain] + [py[v] for v in step.inputs + step.outputs]
            return lines + [f"{step.name}({', '.join(args)})   # eqns {common.ranges(step.eqn_indices)}"]
        if step.kind == 'view':
            base, chain = plan.layout_chain(step.var)
            expr = value(base)
            for eqn in reversed(chain):
                expr = _view_expr(eqn, expr)
            return [f"{py[step.var]} = {expr}"]
        eqn = step.eqn
        ins = [value(x) for x in eqn.inputs]
        outs = ', '.join(py[v] for v in eqn.out_binders)
        comment = f"   # {loop_nests.describe(eqn, plan.names)}" if step.kind != 'control' else \
            f"   # {eqn.primitive.name}"
        if step.kind == 'dot':
            out = eqn.out_binders[0]
            expr = _blas_expr(eqn, *ins, buffer(out) if out in arena else None)
            if expr is not None:   # else a call of its NumPy impl, as a fallback's
                return [f"{outs} = {expr}{comment}"]
        target = f"{outs}, = " if outs else ""   # (a debug callback has no results)
        return [f"{target}_{step.kind}{step.index}({', '.join(ins)}){comment}"]

    @property
    def host_fallbacks(self):
        """The primitives that run through their NumPy impl, here and in the bodies of
        control flow run from Python (`fallbacks` lists this jaxpr's own)."""
        return self.fallbacks + [p for sub in self.subexecutables for p in sub.host_fallbacks]

    def as_text(self):
        """The kernel partition, the driver and each kernel's source (the first line
        counts the host fallbacks, those of control-flow bodies included)."""
        plan = self.plan
        head = [f"jit({self.name}) on the Numba backend: {len(self.kernels)} kernel(s), "
                f"{sum(s.kind == 'dot' for s in plan.steps)} BLAS call(s)"
                + f", {len(self.host_fallbacks)} host fallback(s)"
                + (f", fallbacks: {', '.join(self.host_fallbacks)}" if self.host_fallbacks else "")]
        for k in plan.kernels:
            prims = list(dict.fromkeys(plan.eqns[m].primitive.name for m in k.members))
            loop = (f"a loop kernel, phases over {' then '.join(str(p.shape) for p in k.loop.phases)}"
                    if k.loop else
                    f"loop over {k.domain}" + (f" reducing positions {k.reduced}" if k.reduced else ""))
            head.append(f"  {k.name}: eqns {common.ranges(k.eqn_indices)} ({', '.join(prims)}); {loop}"
                        + ("; parallel" if k.parallel else ""))
        parts = ['\n'.join(head), f"# driver\n{self.driver_source}"]
        parts += [f"# kernel {k.name}, cached in {k.path}\n{k.source}" for k in self.kernels]
        for sub in self.subexecutables:
            parts.append(f"# --- {sub.name} ---\n{sub.as_text()}")
        parts += [f"# --- a loop compiled whole ---\n{text}" for text in self.compiled_loops]
        return '\n'.join(parts)

    def __repr__(self):
        return f"<numba Executable jit({self.name}): {len(self.kernels)} kernel(s)>"


def compile(closed_jaxpr, name):
    """Compile `closed_jaxpr` into fused Numba kernels (see the module docstring)."""
    return Executable(closed_jaxpr, name)
