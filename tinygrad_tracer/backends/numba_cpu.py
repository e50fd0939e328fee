"""The Numba backend: a jaxpr becomes fused loop kernels compiled for the CPU.

    >>> f = jit(lambda x: 1.05 * jnp.where(x > 0, x, 1.67 * jnp.exp(x) - 1.67), backend='numba')
    >>> print(f.lower(jnp.ones(1000)).as_text())    # the jaxpr, the partition, the source

`compile(closed_jaxpr, name)` does four things:

1. `fusion.partition` splits the equations into steps: fused loop kernels,
   BLAS calls for `dot_general`, NumPy views, control flow, and fallbacks
   (a primitive without code generation runs its NumPy impl; `TT_DEBUG=1`
   logs each one).
2. `loops.kernel_function` (with `codegen`'s scalar rules) writes each
   kernel's Python source. The file is named by a hash of its text and saved
   in the cache folder (`TT_CACHE_DIR`, default `~/.cache/tinygrad_tracer`),
   then compiled with `numba.njit(cache=True)`, right away, for argument
   types known from the avals: a second process finds the machine code on
   disk and skips compilation. `TT_DEBUG=2` prints each kernel and its time.
3. It writes a *driver*: one plain Python function that unwraps the input
   Arrays, calls the steps in order and wraps the results. Kernels get their
   output arrays from it (allocating inside Numba is slower); intermediates
   live in an arena allocated once. Everything is decided at compile time,
   so a call costs little more than the kernel calls themselves.
4. The `Executable` it returns runs the driver; `as_text()` shows the
   partition, the driver and every kernel's source, and `kernels` lists the
   kernels (name, fused equation indices, source) for the visualizer.

Threads: big kernels (`PARALLEL_MIN` elements) split their outer loop over
the cores, and BLAS uses them too, but only the cores no other program is
using at the time of the call (see `threads.py`).
"""
import builtins
import contextlib
import glob
import hashlib
import importlib
import importlib.util
import os
import pickle
import sys
import tempfile
import threading
import time
import warnings

import numpy as np

# Kernels alternate with BLAS calls (and, in a benchmark, with JAX's threads):
# OpenMP workers that spin after a parallel loop would take the core those
# need. Let them sleep instead, unless the user chose otherwise. (This must be
# set before Numba starts its threads.)
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

import numba   # noqa: E402
from numba import types as nb_types   # noqa: E402

from .. import lax
from ..array import Array
from ..jaxpr import Literal, Var
from . import _fastmath, codegen, compiled_loops, fusion, loops, threads

_settings = importlib.import_module('..config', __package__)   # DEBUG may change at run time

# Kernels over at least this many elements run their outer loop on every free
# core (prange); below it, waking the threads costs more than it saves.
PARALLEL_MIN = 1 << 16

# Kernels this process compiled, loaded from the disk cache, or reused from memory.
stats = {'compiled': 0, 'loaded': 0, 'reused': 0}


def cache_dir():
    """Where kernel sources and Numba's compiled code are kept."""
    if os.environ.get('TT_CACHE_DIR'):
        return os.environ['TT_CACHE_DIR']
    base = os.environ.get('XDG_CACHE_HOME') or os.path.join(os.path.expanduser('~'), '.cache')
    return os.path.join(base, 'tinygrad_tracer')


def _library_version():
    # Numba's cache only notices edits to the kernel file itself, not to the
    # helpers it calls: their source goes into every kernel file (so into its hash).
    h = hashlib.sha256()
    with open(_fastmath.__file__, 'rb') as f:
        h.update(f.read())
    h.update(numba.__version__.encode())
    return h.hexdigest()[:16]


LIBRARY_VERSION = _library_version()

_MODULE_HEADER = """\
# {name} of jit({fn}), written by tinygrad_tracer's Numba backend.
# Fuses the jaxpr equations {eqns}. Library version {version}.
import math

import numpy as np
from numba import njit, prange

from tinygrad_tracer.backends._fastmath import (
    {helpers})


"""


def _module_text(name, fn, eqns, source):
    """A kernel (or loop) module: the header, then the functions' source."""
    return _MODULE_HEADER.format(name=name, fn=fn, eqns=eqns, version=LIBRARY_VERSION,
                                 helpers=',\n    '.join(codegen.HELPERS)) + source


def _log(msg):
    print(f"[tinygrad_tracer] {msg}", file=sys.stderr)


# --- kernels: source file, module, compiled code --------------------------------------------------

def _kernel_source(k, plan):
    return (f"@njit(cache=True, parallel={k.parallel}, error_model='numpy')\n"
            + loops.kernel_function(k, plan))


_modules = {}   # kernel file path -> imported module

# Held while a kernel module is written, imported and compiled: two threads
# jitting at once must not import one module twice, nor re-enable compilation of
# a dispatcher the other has just sealed (Numba compiles one thing at a time anyway).
_lock = threading.RLock()


def _load_module(text):
    """Import the kernel module with source `text`, writing its file if new."""
    digest = hashlib.sha256(text.encode()).hexdigest()[:20]
    folder = os.path.join(cache_dir(), 'kernels')
    path = os.path.join(folder, f"k_{digest}.py")
    with _lock:
        if path not in _modules:
            _write_source(path, text.encode())
            name = f"tinygrad_tracer_kernels.k_{digest}"
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module   # Numba's cache finds the kernel's globals by module name
            spec.loader.exec_module(module)
            _discard_damaged(module, f"k_{digest}.")
            _modules[path] = module
        return _modules[path]


def _write_source(path, data):
    """Write a kernel file unless it holds `data` already. It is named by the hash of
    its text, so other contents mean a damaged file: it is replaced."""
    try:
        with open(path, 'rb') as f:
            if f.read() == data:
                return
        _warn_damaged(path, "its text is not the kernel's")
    except FileNotFoundError:
        os.makedirs(os.path.dirname(path), exist_ok=True)
    _atomic_write(path, data)


def _atomic_write(path, data):
    """Write a file so that no process (or thread) ever reads half of it: a temporary
    file in the same folder, then renamed over `path` (an atomic step)."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix='.tmp')
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _discard_damaged(module, prefix):
    """Delete Numba's cache files of `module` that cannot be read (a process killed
    while writing, a full disk): Numba then compiles again instead of failing on
    every later run. (Numba writes them atomically itself; damage comes from outside.)"""
    ours = [f for f in vars(module).values()
            if isinstance(f, numba.core.dispatcher.Dispatcher) and f.py_func.__module__ == module.__name__]
    if not ours or not ours[0].stats.cache_path:
        return
    for path in glob.glob(os.path.join(ours[0].stats.cache_path, f"{glob.escape(prefix)}*.nb[ic]")):
        try:
            with open(path, 'rb') as f:
                if path.endswith('.nbi'):
                    pickle.load(f)   # Numba's version, then the index itself
                pickle.loads(f.read())
        except FileNotFoundError:
            pass   # replaced by another process meanwhile
        except Exception as e:   # unpickling garbage raises almost anything
            _warn_damaged(path, f"{type(e).__name__}: {' '.join(str(e).split())}")
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)


def _warn_damaged(path, why):
    warnings.warn(f"tinygrad_tracer: discarded the damaged kernel cache file {path} ({why}); "
                  "it will be rebuilt.", RuntimeWarning, stacklevel=2)


def _array_type(aval, readonly):
    return nb_types.Array(numba.from_dtype(aval.dtype), len(aval.shape), 'C', readonly=readonly)


def _build_kernel(k, plan, fn_name):
    """Write, import and compile kernel `k`; returns its Numba dispatcher."""
    k.source = _kernel_source(k, plan)
    module = _load_module(_module_text(k.name, fn_name, _ranges(k.eqn_indices), k.source))
    k.path = module.__file__
    dispatcher = getattr(module, k.name)
    # Inputs are typed read-only (Arrays are) and C-contiguous (the driver makes
    # sure); a writable array converts safely, so one signature serves every call.
    sig = tuple([nb_types.int64] * len(k.domain)
                + [_array_type(v.aval, True) for v in k.inputs]
                + [_array_type(v.aval, False) for v in k.outputs])
    with _lock:
        hits = sum(dispatcher.stats.cache_hits.values())
        start = time.perf_counter()
        if sig in dispatcher.overloads:
            k.origin = 'reused'     # the same kernel, already compiled by this process
        else:
            dispatcher.disable_compile(False)
            dispatcher.compile(sig)
            k.origin = 'loaded' if sum(dispatcher.stats.cache_hits.values()) > hits else 'compiled'
        k.compile_seconds = time.perf_counter() - start
        dispatcher.disable_compile()   # a call with other types is a bug: fail, do not recompile
        stats[k.origin] += 1
    if _settings.DEBUG >= 2:
        how = {'compiled': 'compiled', 'loaded': 'loaded from the disk cache',
               'reused': 'reused (compiled earlier in this process)'}[k.origin]
        _log(f"numba: kernel {k.name} {how} in {k.compile_seconds:.3f} s ({k.path})\n{k.source}")
    return dispatcher


# --- values outside the kernels ------------------------------------------------------------------

def _contiguous(v):
    """Kernels read C-contiguous arrays."""
    return v if v.flags.c_contiguous else np.ascontiguousarray(v)


if Array.__slots__ == ('_value', 'weak_type', '_aval'):
    _new = object.__new__

    def _wrap(value, weak_type):
        """An Array around a result we own, without Array.__init__'s checks (it is
        already the right dtype): this is most of a small call's overhead."""
        value.flags.writeable = False
        a = _new(Array)
        a._value, a.weak_type, a._aval = value, weak_type, None
        return a
else:   # pragma: no cover - Array changed its layout: take the general path
    def _wrap(value, weak_type):
        return Array(value, weak_type)


def _dot_expr(eqn, lhs, rhs, out=None):
    """NumPy source for dot_general: `a @ b` (BLAS) on transposed views where it can.
    With `out`, the BLAS call writes into that buffer; None where it cannot."""
    (lc, rc), (lb, rb) = eqn.params['dimension_numbers']
    ls, rs = eqn.inputs[0].aval.shape, eqn.inputs[1].aval.shape
    aval = eqn.out_binders[0].aval
    same_dtype = aval.dtype == eqn.inputs[0].aval.dtype
    if not lb and len(lc) == 1 and len(ls) <= 2 and len(rs) <= 2 and len(ls) + len(rs) >= 3:
        left = lhs if len(ls) == 1 or lc[0] == 1 else f"{lhs}.T"
        right = rhs if len(rs) == 1 or rc[0] == 0 else f"{rhs}.T"
        if out is not None:
            return f"_np.matmul({left}, {right}, out={out})" if same_dtype else None
        expr = f"{left} @ {right}"
    else:   # (batch, free, contracted) @ (batch, contracted, free)
        if out is not None:
            return None
        lfree = [i for i in range(len(ls)) if i not in lc and i not in lb]
        rfree = [i for i in range(len(rs)) if i not in rc and i not in rb]
        size = lambda shape, axes: int(np.prod([shape[i] for i in axes], dtype=np.int64))
        b, m, kk, n = size(ls, lb), size(ls, lfree), size(ls, lc), size(rs, rfree)
        expr = (f"_np.matmul(_np.transpose({lhs}, {tuple(lb) + tuple(lfree) + tuple(lc)}).reshape({b}, {m}, {kk}), "
                f"_np.transpose({rhs}, {tuple(rb) + tuple(rc) + tuple(rfree)}).reshape({b}, {kk}, {n}))"
                f".reshape({tuple(aval.shape)})")
    return expr if same_dtype else f"({expr}).astype(_np.{aval.dtype.name})"


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


def _fallback(eqn):
    """Run one equation through its primitive's NumPy impl."""
    prim, params = eqn.primitive, eqn.params
    weak = [x.aval.weak_type for x in eqn.inputs]
    if _settings.DEBUG >= 1:
        _log(f"numba: no code generation for {prim.name}; it runs through its NumPy impl")

    def run(*values):
        outs = prim.impl(*[Array(v, w) for v, w in zip(values, weak)], **params)
        return [_contiguous(o._value) for o in (outs if prim.multiple_results else [outs])]
    return run


# --- control flow: each body is compiled, the loop runs here ----------------------------------------

def _control(eqn, subs, loops_text):
    """A Python function running a cond / while / scan equation on NumPy arrays. Its
    results are C-contiguous, as the kernels reading them need: a branch (or a loop
    that runs no step) may hand back a broadcast view or an argument as it is."""
    run = _control_flow(eqn, subs, loops_text)
    return lambda *args: [_contiguous(v) for v in run(*args)]


def _control_flow(eqn, subs, loops_text):
    p = eqn.params
    name = eqn.primitive.name
    if name in ('while', 'scan'):
        source = compiled_loops.loop_source(eqn, _kernel_source, PARALLEL_MIN)
        if source is not None:   # the whole loop in one Numba function
            loops_text.append(source)
            if _settings.DEBUG >= 2:
                _log(f"numba: the {name} loop runs compiled whole (compiled on its first "
                     f"call):\n{source}")
            module = _load_module(_module_text('loop', name, 'of the loop body', source))
            return _compiled_loop(eqn, module.loop)
    if name == 'cond':
        branches = [_sub(b, 'cond_branch', subs) for b in p['branches']]

        def run_cond(index, *ops):
            return branches[min(max(int(index), 0), len(branches) - 1)](*ops)
        return run_cond
    if name == 'while':
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
    if eqn.primitive.name == 'while':
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
        self.plan = fusion.partition(closed_jaxpr, name, PARALLEL_MIN)
        self.kernels = self.plan.kernels
        self.subexecutables, self.compiled_loops = [], []   # control-flow bodies
        self.fallbacks = [s.eqn.primitive.name for s in self.plan.steps if s.kind == 'fallback']
        self._run = self._make_driver()

    def __call__(self, *args):
        return self._run(*args)

    def _make_driver(self):
        plan, py = self.plan, self.plan.py_names
        g = {'_np': np, '_Array': Array, '_wrap': _wrap, '_empty': np.empty,
             '_contiguous': _contiguous}
        for v, c in zip(plan.constvars, plan.consts):
            g[py[v]] = _contiguous(np.asarray(c._value if isinstance(c, Array) else c))
        for step in plan.steps:   # compile every kernel, prepare every call, once
            if step.kind == 'kernel':
                g[step.name] = _build_kernel(step, plan, self.name)
            elif step.kind in ('control', 'fallback'):
                g[f"_{step.kind}{step.index}"] = (
                    _control(step.eqn, self.subexecutables, self.compiled_loops)
                    if step.kind == 'control' else _fallback(step.eqn))
        arena = self._arena_vars()
        for v in arena:
            g[f"_arena_{py[v]}"] = np.empty(v.aval.shape, v.aval.dtype)
        self.driver_source = self._driver(g, arena)
        run = g[self._fn]
        if arena:
            self._driver(g, set(), suffix='_fresh')
            run = _with_arena(run, g[self._fn + '_fresh'])
        return threads.limit_threads(run, any(k.parallel for k in self.kernels),
                                     any(s.kind == 'dot' for s in self.plan.steps))

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
                 if s.kind == 'dot' and _dot_expr(s.eqn, 'l', 'r', 'out') is not None]
        return {v for v in made if stays_inside(v)}

    @property
    def _fn(self):
        return fusion._identifier(self.name)

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

        kernel_inputs = {v for k in self.kernels for v in k.inputs}
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
                outs.append(f"_wrap({py[x]}, {x.aval.weak_type})")
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
            return lines + [f"{step.name}({', '.join(args)})   # eqns {_ranges(step.eqn_indices)}"]
        if step.kind == 'view':
            chain, var = [], step.var
            while var in plan.access:
                chain.append(plan.eqns[plan.access[var]])
                var = chain[-1].inputs[0]
            expr = value(var)
            for eqn in reversed(chain):
                expr = _view_expr(eqn, expr)
            return [f"{py[step.var]} = {expr}"]
        eqn = step.eqn
        ins = [value(x) for x in eqn.inputs]
        outs = ', '.join(py[v] for v in eqn.out_binders)
        comment = f"   # {loops.describe(eqn, plan.names)}" if step.kind != 'control' else \
            f"   # {eqn.primitive.name}"
        if step.kind == 'dot':
            out = eqn.out_binders[0]
            expr = _dot_expr(eqn, *ins, buffer(out)) if out in arena else _dot_expr(eqn, *ins)
            return [f"{outs} = {expr}{comment}"]
        return [f"{outs}, = _{step.kind}{step.index}({', '.join(ins)}){comment}"]

    def as_text(self):
        """The kernel partition, the driver and each kernel's source."""
        plan = self.plan
        head = [f"jit({self.name}) on the Numba backend: {len(self.kernels)} kernel(s), "
                f"{sum(s.kind == 'dot' for s in plan.steps)} BLAS call(s)"
                + (f", fallbacks: {', '.join(self.fallbacks)}" if self.fallbacks else "")]
        for k in self.kernels:
            prims = list(dict.fromkeys(plan.eqns[m].primitive.name for m in k.members))
            loop = f"loop over {k.domain}" + (f" reducing positions {k.reduced}" if k.reduced else "")
            head.append(f"  {k.name}: eqns {_ranges(k.eqn_indices)} ({', '.join(prims)}); {loop}"
                        + ("; parallel" if k.parallel else ""))
        parts = ['\n'.join(head), f"# driver\n{self.driver_source}"]
        parts += [f"# kernel {k.name}, cached in {k.path}\n{k.source}" for k in self.kernels]
        for sub in self.subexecutables:
            parts.append(f"# --- {sub.name} ---\n{sub.as_text()}")
        parts += [f"# --- a loop compiled whole ---\n{text}" for text in self.compiled_loops]
        return '\n'.join(parts)

    def __repr__(self):
        return f"<numba Executable jit({self.name}): {len(self.kernels)} kernel(s)>"


def _ranges(indices):
    """[0, 1, 2, 5] -> '0-2, 5'."""
    runs = []
    for i in indices:
        if runs and runs[-1][1] == i - 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    return ', '.join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def compile(closed_jaxpr, name):
    """Compile `closed_jaxpr` into fused Numba kernels (see the module docstring)."""
    return Executable(closed_jaxpr, name)
