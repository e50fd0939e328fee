"""jit: trace a function to a jaxpr once per signature, then run it with a backend.

    >>> f = jit(lambda x: jnp.sin(x) * 2)
    >>> f(1.0)                       # traces, compiles, runs
    Array(1.6829419, dtype=float32, weak_type=True)
    >>> f(2.0)                       # same shapes and dtypes: cache hit, no tracing
    Array(1.8185948, dtype=float32, weak_type=True)

The traced program lives in the `jit` primitive (`jit_p`), whose params hold
the ClosedJaxpr. Called on concrete arrays, a jitted function runs the
compiled executable directly; called under another transformation (grad,
vmap, make_jaxpr, an outer jit) it binds `jit_p`, and that transformation's
rule for `jit_p` transforms the inner jaxpr and keeps it a `jit` call, so
`jit` composes with every transformation in any order:

    >>> make_jaxpr(f)(1.0)
    { lambda ; a:f32[]. let
        b:f32[] = jit[
          name=<lambda>
          jaxpr={ lambda ; a:f32[]. let
              c:f32[] = sin a
              b:f32[] = mul c 2.0:f32[]
            in (b,) }
        ] a
      in (b,) }

Backends (`backends/`) turn the jaxpr into an executable; each call of `jit(f)`
on new shapes, dtypes, pytree structure or static values traces again
(`TT_DEBUG=1` logs each trace with its reason).
"""
import inspect
import threading
import weakref

import numpy as np

from . import core, dtypes, tree_util, backends, settings
from .array import Array, as_array
from .device_array import DeviceArray, committed_device, places_itself
from .settings import config
from .core import Primitive, Tracer, raise_to_shaped
from .jaxpr import (ShapeDtypeStruct, trace_to_jaxpr, fun_name, abstractify, hoist_consts,
                    compile_without_float0, pp_eqn_rules, suggest_same_names, arg_names_of, positional_params)
from .batching import batching_rules, batch_jaxpr, moveaxis, not_mapped
from .ad_util import Zero, tangent_aval
from .jvp import jvp_rules, jvp_jaxpr
from .partial_eval import partial_eval_rules, partial_eval_jaxpr
from .transpose import transpose_rules, transpose_jaxpr, is_undefined

jit_p = Primitive('jit', multiple_results=True)
jit_p.__doc__ = "call a traced function (params: jaxpr, name, backend)"


def _jit_impl(*args, jaxpr, name, backend):
    args = list(map(as_array, args))
    names = lambda: placement_names(jaxpr, 0, [f"argument {i}" for i in range(len(args))])
    backend, commit = placed_backend(name, backend, list(jaxpr.consts) + args, names)
    return committed_to_cpu(compiled(jaxpr, backend, name)(*args), commit)


def _jit_abstract_eval(*avals, jaxpr, name, backend):
    want = jaxpr.in_avals
    if len(avals) != len(want) or any(raise_to_shaped(a, False) != raise_to_shaped(w, False)
                                      for a, w in zip(avals, want)):
        raise TypeError(f"jit({name}) was traced for arguments "
                        f"{[w.str_short() for w in want]} but called with "
                        f"{[a.str_short() for a in avals]}")
    return jaxpr.out_avals


jit_p.def_impl(_jit_impl)
jit_p.def_abstract_eval(_jit_abstract_eval)
places_itself.add(jit_p)   # an eager jit_p picks its backend itself (placed_backend)


def _jit_pp(eqn, names):
    """Print like JAX: `name` first, the default backend not at all, and the inner
    jaxpr's variables named after the outer ones they stand for."""
    params = eqn.params
    suggest_same_names(names, params['jaxpr'].jaxpr.invars, eqn.inputs)
    suggest_same_names(names, params['jaxpr'].jaxpr.outvars, eqn.out_binders)
    shown = [('name', params['name']), ('jaxpr', params['jaxpr'])]
    return shown + ([('backend', params['backend'])] if params['backend'] is not None else [])


pp_eqn_rules[jit_p] = _jit_pp


# --- compiling, with the executable cached next to its jaxpr -------------------------------

_executables = weakref.WeakKeyDictionary()   # ClosedJaxpr -> {backend name: Executable}
# One compilation at a time: threads calling the same function would otherwise build
# its executable twice, racing on the kernels (files, Numba dispatchers) they share.
# Numba compiles under a global lock of its own anyway, so little is lost.
_compile_lock = threading.RLock()


def compiled(closed, backend, name):
    """The executable of `closed` on `backend` (None: the default), compiled once."""
    backend = config.jax_default_backend if backend is None else backend
    per_backend = _executables.setdefault(closed, {})
    if backend not in per_backend:
        with _compile_lock:
            if backend not in per_backend:   # another thread may have built it meanwhile
                per_backend[backend] = compile_without_float0(
                    closed, lambda c: backends.get_backend(backend).compile(c, name))
                if settings.DEBUG >= 2:
                    settings.log(f"jit({name}): compiled for backend {backend!r}:\n"
                                 f"{per_backend[backend].as_text()}")
    return per_backend[backend]


# --- where a call runs -----------------------------------------------------------------------
# As an eager operation does (`device_array.py`): on the device of its committed arguments
# (closed-over constants count), its results committed there.

def _is_float0(x):
    return isinstance(x, np.ndarray) and x.dtype == dtypes.float0


def placed_backend(name, backend, args, names):
    """(the backend a call of jit(`name`, backend=`backend`) on `args` runs on, whether its
    results are committed to the CPU); `names()` names the args in errors. With no backend
    named, arguments committed to a GPU choose 'cuda', ones committed to the CPU the
    default backend (or 'numba' if that is 'cuda'). A backend named must be on the device
    of the committed arguments.

        >>> placed_backend('f', None, [device_put(jnp.ones(2), devices('cuda')[0])], None)
        ('cuda', False)
    """
    device = committed_device(f"jit({name})", args, names)
    default = config.jax_default_backend
    if device is None:
        return default if backend is None else backend, False
    on_gpu = device.platform == 'gpu'
    if backend is None:
        backend = default if (default == 'cuda') == on_gpu else 'cuda' if on_gpu else 'numba'
        if backend != default and settings.DEBUG >= 1:
            settings.log(f"jit({name}): its arguments are committed to {device}, so it runs on "
                         f"the {backend!r} backend (not the default {default!r})")
    elif (backend == 'cuda') != on_gpu:
        raise ValueError(
            f"jit({name}, backend={backend!r}) runs on {'a GPU' if backend == 'cuda' else 'the CPU'}, "
            f"but its arguments are committed to {device}. Leave out backend= to run where the "
            f"arguments are, or move them first with device_put(x, devices("
            f"{'cuda' if backend == 'cuda' else 'cpu'!r})[0]).")
    return backend, not on_gpu


def placement_names(closed, n_hoisted, arg_names):
    """A name for each value a call of `closed` reads, in order: its constants, the
    values of outer transformations it closed over, then the arguments."""
    return (["a constant it closes over"] * len(closed.consts)
            + ["a value it closes over"] * n_hoisted + list(arg_names))


def committed_to_cpu(outs, commit):
    """`outs` (a list of Arrays), committed to the CPU if `commit`."""
    return [o.committed_copy() for o in outs] if commit else outs


# --- rules of jit_p under the transformations ----------------------------------------------

def _jit_batching_rule(axis_size, vals, dims, jaxpr, name, backend):
    new_jaxpr, out_batched = batch_jaxpr(jaxpr, axis_size, [d is not not_mapped for d in dims], False)
    vals = [v if d is not_mapped else moveaxis(v, d, 0) for v, d in zip(vals, dims)]
    outs = jit_p.bind(*vals, jaxpr=new_jaxpr, name=name, backend=backend)
    return outs, [0 if b else not_mapped for b in out_batched]


batching_rules[jit_p] = _jit_batching_rule


def _jit_jvp_rule(primals, tangents, jaxpr, name, backend):
    nonzeros = [not isinstance(t, Zero) for t in tangents]
    new_jaxpr, out_nz = jvp_jaxpr(jaxpr, nonzeros, False)
    outs = jit_p.bind(*primals, *[t for t in tangents if not isinstance(t, Zero)],
                      jaxpr=new_jaxpr, name=name, backend=backend)
    n = len(out_nz)
    t_out = iter(outs[n:])
    return outs[:n], [next(t_out) if nz else Zero(tangent_aval(a))
                      for nz, a in zip(out_nz, jaxpr.out_avals)]


jvp_rules[jit_p] = _jit_jvp_rule


def _jit_partial_eval_rule(trace, tracers, jaxpr, name, backend):
    """Two jit calls, as in JAX: one computes the known outputs (and the residuals the
    rest needs) now, the other is recorded for the unknown outputs."""
    in_uk = [not t.pval.is_known for t in tracers]
    known, unknown, out_uk, num_res = partial_eval_jaxpr(jaxpr, in_uk, False)
    outs = jit_p.bind(*[t.pval.const for t in tracers if t.pval.is_known], jaxpr=known,
                      name=name, backend=backend)
    known_out, res = outs[:len(outs) - num_res], outs[len(outs) - num_res:]
    staged = trace.stage(jit_p, [trace.pure(r) for r in res] + [t for t in tracers if not t.pval.is_known],
                         dict(jaxpr=unknown, name=name, backend=backend), unknown.out_avals)
    staged, known_out = iter(staged), iter(known_out)
    return [next(staged) if uk else trace.pure(next(known_out)) for uk in out_uk]


partial_eval_rules[jit_p] = _jit_partial_eval_rule


def _jit_transpose_rule(cts, *args, jaxpr, name, backend):
    linear = [is_undefined(a) for a in args]
    outs = iter(jit_p.bind(*[a for a in args if not is_undefined(a)], *cts,
                           jaxpr=transpose_jaxpr(jaxpr, linear), name=name, backend=backend))
    return [next(outs) if lin else None for lin in linear]


transpose_rules[jit_p] = _jit_transpose_rule


# --- the user-facing jit -----------------------------------------------------------------------

_UNSUPPORTED = ('in_shardings', 'out_shardings', 'device', 'inline', 'keep_unused',
                'abstracted_axes', 'donate_argnames', 'compiler_options')


def jit(fun=None, *, static_argnums=(), static_argnames=(), backend=None, donate_argnums=(),
        **unknown):
    """Trace `fun` once per argument signature and run it with a backend.

    `static_argnums` / `static_argnames` name arguments that are Python values
    rather than arrays (hashable; each new value traces again). `backend` is
    'interpret', 'numba' or 'cuda'. By default a call runs where its committed arguments
    are, as in JAX (arrays on the GPU: 'cuda'; see `device_array.py`), otherwise on
    `config.jax_default_backend`; a backend named must agree with them.
    Usable as a decorator, also as `@partial(jit, static_argnums=1)`.

        >>> jit(lambda x, n: x ** n, static_argnums=1)(2.0, 3)
        Array(8., dtype=float32, weak_type=True)
    """
    if unknown:
        k = sorted(unknown)[0]
        why = (f"{k!r} is a JAX option tinygrad_tracer does not support (arrays live on "
               "one device)" if k in _UNSUPPORTED else f"unexpected keyword argument {k!r}")
        raise TypeError(f"jit() got {why}. Supported options: static_argnums, "
                        "static_argnames, backend.")
    if donate_argnums not in ((), None):
        raise ValueError("jit(donate_argnums=...) is not supported: arrays here are immutable "
                         "NumPy buffers and are never donated. Remove donate_argnums.")
    if backend is not None:
        backends.get_backend(backend)   # an unknown or unavailable backend fails here, early
    if fun is None:
        return lambda f: jit(f, static_argnums=static_argnums, static_argnames=static_argnames,
                             backend=backend)
    return JitFunction(fun, static_argnums, static_argnames, backend)


class JitFunction:
    """What `jit(f)` returns: callable like `f`, plus `.lower(*args)`. Traces are cached
    per function, so `jit(f)(x)` in a loop traces once."""

    def __init__(self, fun, static_argnums, static_argnames, backend):
        if not callable(fun):
            raise TypeError(f"jit expects a callable, got {fun!r} of type {type(fun).__name__}")
        self.fun, self.backend = fun, backend
        self.__name__ = fun_name(fun)
        self.__doc__ = getattr(fun, '__doc__', None)
        self.__wrapped__ = fun
        self._params = positional_params(fun)
        self.static_argnums, self.static_argnames = _resolve_static(
            self._params, static_argnums, static_argnames, fun)
        self._cache = _trace_cache(fun, self.static_argnums, self.static_argnames)
        self._fast = {}        # argument signature -> (executable, out_tree), see __call__
        self.trace_count = 0   # traces this object made (cache misses)

    def __repr__(self):
        return f"<jit-compiled function {self.__name__}>"

    def __get__(self, obj, objtype=None):   # jit on a method binds like a method
        return self if obj is None else _bound(self, obj)

    def __call__(self, *args, **kwargs):
        # Fast path for the common call: positional Arrays, no static arguments, no
        # transformation running. A dict lookup on the arguments' types replaces
        # flattening, abstracting and the trace-cache key (dispatch is ~10x cheaper).
        fast_key = self._fast_key(args, kwargs)
        if fast_key is not None:
            hit = self._fast.get(fast_key)
            if hit is not None:
                executable, out_tree, commit = hit
                return tree_util.tree_unflatten(out_tree, committed_to_cpu(executable(*args), commit))
        closed, out_tree, flat = self._trace(args, kwargs)
        closed, hoisted = hoist_consts(closed)   # values of outer transformations it closed over
        flat = hoisted + flat
        if core.trace_state.dynamic_trace.level == 0 and not any(isinstance(x, Tracer) for x in flat):
            # (a float0 argument, a NumPy array without data, stays one: the executable drops it)
            flat = [x if _is_float0(x) else as_array(x) for x in flat]
            names = lambda: placement_names(closed, len(hoisted), self._arg_names(args, kwargs))
            backend, commit = placed_backend(self.__name__, self.backend, list(closed.consts) + flat,
                                             names)
            executable = compiled(closed, backend, self.__name__)
            outs = committed_to_cpu(executable(*flat), commit)
            if fast_key is not None and not hoisted:
                self._fast[fast_key] = (executable, out_tree, commit)
        else:   # under a transformation: let its rule for jit_p run
            outs = jit_p.bind(*flat, jaxpr=closed, name=self.__name__, backend=self.backend)
        return tree_util.tree_unflatten(out_tree, outs)

    def _fast_key(self, args, kwargs):
        if kwargs or self.static_argnums or core.trace_state.dynamic_trace.level != 0:
            return None
        # Where the arguments are committed is part of the key: it picks the backend.
        key = [self.backend or config.jax_default_backend]
        for a in args:
            cls = type(a)
            if cls is Array:
                key.append((a._value.shape, a._value.dtype, a.weak_type, a.committed))
            elif cls is DeviceArray:   # (its shape and dtype are known without a copy)
                key.append((a.shape, a.dtype, a.weak_type, a.device))
            else:
                return None
        return tuple(key)

    def lower(self, *args, **kwargs):
        """The traced program for these arguments, for the backend a call would run on:
        `.jaxpr` and `.as_text()`."""
        closed, out_tree, flat = self._trace(args, kwargs)
        names = lambda: placement_names(closed, 0, self._arg_names(args, kwargs))
        backend, _ = placed_backend(self.__name__, self.backend, list(closed.consts) + flat, names)
        return Lowered(closed, self.__name__, backend)

    def eval_shape(self, *args, **kwargs):
        closed, out_tree, _ = self._trace(args, kwargs)
        return tree_util.tree_unflatten(out_tree, [ShapeDtypeStruct(a.shape, a.dtype)
                                                   for a in closed.out_avals])

    # -- tracing, cached ---------------------------------------------------------------------

    def _split(self, args, kwargs):
        """(dynamic args, dynamic kwargs, the static values as a hashable key)."""
        n = len(args)
        if any(i < -n for i in self.static_argnums):   # (only a *args function gets here)
            raise ValueError(f"jit({self.__name__}) has static_argnums={self.static_argnums}, "
                             f"but was called with only {n} positional arguments: a negative "
                             f"index counts from the end of the call's arguments.")
        nums = {i % n if -n <= i < n else i for i in self.static_argnums}
        static = tuple((i, args[i]) for i in sorted(nums) if i < n)
        static += tuple((k, kwargs[k]) for k in sorted(kwargs) if k in self.static_argnames)
        for where, value in static:
            try:
                hash(value)
            except TypeError as e:
                name = where if isinstance(where, str) else self._arg_name(where)
                raise ValueError(
                    f"Non-hashable static arguments are not supported: static argument "
                    f"{name} of {self.__name__} is {value!r} of type {type(value).__name__} "
                    f"({e}). Pass a hashable value instead (a tuple rather than a list), or "
                    f"make it a regular (traced) argument.") from None
        dyn_args = tuple(a for i, a in enumerate(args) if i not in nums)
        dyn_kwargs = {k: v for k, v in kwargs.items() if k not in self.static_argnames}
        return dyn_args, dyn_kwargs, static

    def _trace(self, args, kwargs):
        dyn_args, dyn_kwargs, static = self._split(args, kwargs)
        flat, in_tree = tree_util.tree_flatten((dyn_args, dyn_kwargs))
        names = arg_names_of(self.fun, args, kwargs, {w for w, _ in static})
        avals = tuple(self._aval(x, name) for x, name in zip(flat, names))
        key = (in_tree, avals, static)
        # Threads share this cache (and `_fast`) without a lock: a dict lookup or
        # insertion is atomic, and two threads that miss at once each trace, the
        # later insertion replacing an equivalent entry.
        entry = self._cache.get(key)
        if entry is None:
            if settings.DEBUG >= 1:
                settings.log(f"jit({self.__name__}): {self._retrace_reason(key, names)}")
            entry = self._trace_new(args, kwargs, static, in_tree, avals, names)
            if not any(isinstance(c, Tracer) for c in entry[0].consts):
                self._cache[key] = entry   # a trace that closed over tracers is one-off
        return entry[0], entry[1], flat

    def _trace_new(self, args, kwargs, static, in_tree, avals, names):
        static_pos = {i: v for i, v in static if isinstance(i, int)}
        static_kw = {k: v for k, v in static if isinstance(k, str)}
        n_args = len(args)

        def with_static(dyn_args, dyn_kwargs):
            it = iter(dyn_args)
            full = [static_pos[i] if i in static_pos else next(it) for i in range(n_args)]
            return self.fun(*full, **dyn_kwargs, **static_kw)
        flat_fun, out_tree = tree_util.flatten_fun(with_static, in_tree)
        self.trace_count += 1
        closed = trace_to_jaxpr(flat_fun, list(avals), self.__name__, names)
        return closed, out_tree()

    def _retrace_reason(self, key, names):
        in_tree, avals, static = key
        if not self._cache:
            return f"tracing for the first time, for arguments {_signature(names, avals)}"
        # explain against the most recent signature with the same structure, if any
        old = next((k for k in reversed(list(self._cache)) if k[0] == in_tree), None)
        if old is None:
            args_tree = lambda t: t.children()[0]   # (args, kwargs) -> args
            return (f"retracing: new argument structure {args_tree(in_tree)!r} (was "
                    f"{args_tree(list(self._cache)[-1][0])!r})")
        if old[2] != static:
            diffs = [f"{self._arg_name(w) if isinstance(w, int) else w}={v!r} (was "
                     f"{dict(old[2]).get(w, '<not given>')!r})"
                     for w, v in static if dict(old[2]).get(w, object()) != v]
            return f"retracing: new static value {', '.join(diffs)}"
        diffs = [f"{n}: {a.str_short()}{' (weak)' if a.weak_type else ''} (was "
                 f"{b.str_short()}{' (weak)' if b.weak_type else ''})"
                 for n, a, b in zip(names, avals, old[1]) if a != b]
        return f"retracing: new shapes/dtypes {', '.join(diffs)}"

    def _aval(self, x, name):
        try:
            return abstractify(x)
        except TypeError:
            raise TypeError(
                f"Argument {name} of {self.__name__} is {x!r} of type {type(x).__name__}, which "
                f"is not a valid JAX type (arrays, Python scalars, or pytrees of them). "
                f"Mark it static: jit({self.__name__}, static_argnums=...) or "
                f"static_argnames=...") from None

    def _arg_names(self, args, kwargs):
        """A name per traced leaf of the call's arguments (`x`, `params[1]`, ...)."""
        static = self._split(args, kwargs)[2]
        return arg_names_of(self.fun, args, kwargs, {w for w, _ in static})

    def _arg_name(self, i):
        return repr(self._params[i]) if i < len(self._params) else f"args[{i}]"


# fun -> {(static_argnums, static_argnames): {(in_tree, avals, static values): (ClosedJaxpr,
# out_tree)}}: `jit(f)` called again on the same function reuses its traces, as in JAX.
_trace_caches = weakref.WeakKeyDictionary()


def _trace_cache(fun, static_argnums, static_argnames):
    try:
        per_fun = _trace_caches.setdefault(fun, {})
    except TypeError:   # not weak-referenceable or not hashable: a cache of its own
        return {}
    return per_fun.setdefault((static_argnums, static_argnames), {})


def _bound(jitted, obj):
    def method(*args, **kwargs):
        return jitted(obj, *args, **kwargs)
    return method


def _signature(names, avals):
    return ', '.join(f"{n}:{a.str_short()}" for n, a in zip(names, avals)) or '()'


def _fixed_positional_count(fun):
    """How many positional arguments `fun` accepts; None if any number (*args) or unknown."""
    try:
        params = inspect.signature(fun).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return None
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)


def _resolve_static(params, static_argnums, static_argnames, fun=None):
    """Normalize the static specs and make each cover the other where the signature
    says how (`static_argnames='n'` also covers `n` passed positionally).

    As in JAX, a negative static_argnum counts from the end of each call's positional
    arguments, and one out of range of a signature without *args is an error here."""
    nums = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums or ())
    names = (static_argnames,) if isinstance(static_argnames, str) else tuple(static_argnames or ())
    for i in nums:
        if not isinstance(i, (int, np.integer)):
            raise TypeError(f"static_argnums must be ints, got {i!r}")
    nums = tuple(int(i) for i in nums)
    n = _fixed_positional_count(fun)
    if n is not None and any(not -n <= i < n for i in nums):
        name = fun_name(fun)
        raise ValueError(f"jit({name}) has static_argnums={nums}, but {name} only accepts {n} "
                         f"positional arguments (indices -{n} to {n - 1}).")
    nums = set(nums) | {params.index(n) for n in names if n in params}
    names = set(names) | {params[i] for i in nums if 0 <= i < len(params)}
    return tuple(sorted(nums)), frozenset(names)


class Lowered:
    """`jit(f).lower(*args)`: the traced program, before it runs.

    `.jaxpr` is the ClosedJaxpr; `.as_text()` is its text followed, for a compiled
    backend, by the source of the generated kernels."""

    def __init__(self, closed, name, backend):
        self.jaxpr, self.name, self.backend = closed, name, backend

    def compile(self):
        """The backend's executable (called with flat Arrays, returns a list)."""
        return compiled(self.jaxpr, self.backend, self.name)

    def as_text(self):
        text = str(self.jaxpr)
        kernels = self.compile().as_text()
        return text if kernels == text else f"{text}\n\n{kernels}"

    def __repr__(self):
        return f"<Lowered jit({self.name})>"


# --- shapes only -----------------------------------------------------------------------------

def eval_shape(fun, *args, **kwargs):
    """The shapes and dtypes `fun` would return, without computing anything. Arguments
    may be arrays or `ShapeDtypeStruct`s.

        >>> eval_shape(jnp.dot, ShapeDtypeStruct((3, 4), jnp.float32), jnp.ones(4))
        ShapeDtypeStruct(shape=(3,), dtype=float32)
    """
    flat, in_tree = tree_util.tree_flatten((args, kwargs))
    avals = [abstractify(x) for x in flat]
    flat_fun, out_tree = tree_util.flatten_fun(lambda a, k: fun(*a, **k), in_tree)
    closed = trace_to_jaxpr(flat_fun, avals, fun_name(fun))
    return tree_util.tree_unflatten(out_tree(), [ShapeDtypeStruct(a.shape, a.dtype)
                                                 for a in closed.out_avals])
