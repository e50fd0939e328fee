"""The machinery every transformation shares: primitives, traces, tracers, avals.

A *primitive* is an operation we know how to evaluate and transform (`sin_p`).
Calling `bind(sin_p, x)` does not compute right away: it asks which
*transformation* owns `x` and lets that trace interpret the primitive.

    trace_state.trace_stack:  level 0  EvalTrace     (computes with NumPy)
                              level 1  JVPTrace      (from jvp / grad)
                              level 2  BatchTrace    (from vmap)
                              ...

Each value a transformation is working on is a `Tracer` that remembers its
trace. `bind` picks the highest-level trace among its arguments (plus the
*dynamic* trace, which `jit`/`make_jaxpr` set so that even constants get
recorded), raises every argument to that level and calls
`trace.process_primitive(prim, tracers, params)`. That trace applies its rule,
which binds more primitives one level down, until EvalTrace runs NumPy.

Each thread has its own trace stack (`trace_state`), as in JAX: a `grad` in one
thread never sees the `jit` another thread is tracing.
"""
import contextlib
import operator
import threading

import numpy as np

from . import dtypes, settings
from .errors import (RuleOutputError, TracerBoolConversionError, TracerIntegerConversionError,
                     TracerArrayConversionError, ConcretizationTypeError, UnexpectedTracerError,
                     MissingRuleError, concretization_message, conversion_message)


# --- primitives --------------------------------------------------------------

class Primitive:
    """An operation with an `impl` (how to compute it) and an `abstract_eval`
    (the shape and dtype of its result). Transformations keep their own rule
    tables keyed by primitive, e.g. `jvp_rules[sin_p]`. An `elementwise` primitive
    computes element i of its result from element i of each operand alone.

        >>> sin_p = Primitive('sin', elementwise=True)
    """

    def __init__(self, name, multiple_results=False, elementwise=False):
        self.name = name
        self.multiple_results = multiple_results
        self.elementwise = elementwise
        self.impl = _missing_rule('impl', self)   # until def_impl / def_abstract_eval
        self.abstract_eval = _missing_rule('abstract_eval', self)
        self.__doc__ = None

    def bind(self, *args, **params):
        return bind(self, *args, **params)

    def def_impl(self, f):
        self.impl = f
        return f

    def def_abstract_eval(self, f):
        self.abstract_eval = f
        return f

    def __repr__(self):
        return self.name


def _missing_rule(kind, prim):
    def missing(*args, **params):
        raise MissingRuleError(kind, prim)
    return missing


def bind(prim, *args, **params):
    """Apply `prim` to `args` under whichever transformation owns them."""
    state = trace_state
    main = state.dynamic_trace
    if main.level == 0 and state.bind_observer is None:
        for a in args:
            if isinstance(a, Tracer):
                break
        else:
            # The eager fast path: no transformation owns any argument, so the answer of
            # find_top_trace is EvalTrace and full_raise would hand every argument back.
            outs = main.trace.process_primitive(prim, args, params)
            return outs if prim.multiple_results else outs[0]
    trace = find_top_trace(args)
    tracers = [full_raise(trace, a) for a in args]
    observer = trace_state.bind_observer
    if observer is None:
        outs = trace.process_primitive(prim, tracers, params)
    else:   # viz.explain is watching: report the bind and everything nested in it
        observer.enter(prim, trace, tracers, params)
        outs = trace.process_primitive(prim, tracers, params)
        observer.exit(outs)
    return outs if prim.multiple_results else outs[0]


# --- abstract values ---------------------------------------------------------

class ShapedArray:
    """What a transformation knows of a value: its shape, dtype and weak type."""
    __slots__ = ('shape', 'dtype', 'weak_type')

    def __init__(self, shape, dtype, weak_type=False):
        self.shape = tuple(int(d) for d in shape)
        self.dtype = np.dtype(dtype)
        self.weak_type = bool(weak_type)

    ndim = property(lambda self: len(self.shape))
    size = property(lambda self: int(np.prod(self.shape, dtype=np.int64)))

    def str_short(self):
        """`f32[3,4]`, as jaxprs print it."""
        return f"{dtypes.short_name(self.dtype)}[{','.join(map(str, self.shape))}]"

    def str_long(self):
        """`~float32[3,4]`, as printed tracers show it (`~` marks a weak type)."""
        return f"{'~' if self.weak_type else ''}{self.dtype.name}[{','.join(map(str, self.shape))}]"

    def update(self, shape=None, dtype=None, weak_type=None):
        return ShapedArray(self.shape if shape is None else shape,
                           self.dtype if dtype is None else dtype,
                           self.weak_type if weak_type is None else weak_type)

    def strip_weak_type(self):
        return self.update(weak_type=False)

    def _key(self):
        return (self.shape, self.dtype, self.weak_type)

    def __eq__(self, other):
        return type(other) is ShapedArray and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        return f"ShapedArray({self.str_short()}{', weak_type=True' if self.weak_type else ''})"

    # Python control flow on an abstract value cannot be decided: say why.
    def to_bool(self, tracer):
        raise TracerBoolConversionError(concretization_message(
            self, "conversion to bool (an `if`, `while`, `and`/`or` or `bool()`)",
            _tracer_context(tracer)))

    def to_scalar(self, tracer, kind):
        integer = kind in (int, operator.index)
        err = TracerIntegerConversionError if integer else ConcretizationTypeError
        raise err(concretization_message(
            self, f"conversion to Python {'int' if integer else kind.__name__}",
            _tracer_context(tracer)))

    def to_numpy(self, tracer, what="conversion to a NumPy array"):
        raise ConcretizationTypeError(concretization_message(self, what, _tracer_context(tracer)))


class ConcreteArray(ShapedArray):
    """A ShapedArray that also knows its value: Python control flow on it works
    (as under `grad` without `jit`)."""
    __slots__ = ('val',)

    def __init__(self, val, weak_type=False):
        super().__init__(val.shape, val.dtype, weak_type)
        self.val = val

    def to_bool(self, tracer):
        return bool(self.val)

    def to_scalar(self, tracer, kind):
        return kind(self.val)

    def to_numpy(self, tracer, what=None):
        return np.asarray(self.val)


def raise_to_shaped(aval, weak_type=None):
    """Forget the value: the abstraction jit and make_jaxpr trace with."""
    out = ShapedArray.__new__(ShapedArray)   # aval's fields are already normalized
    out.shape, out.dtype = aval.shape, aval.dtype
    out.weak_type = aval.weak_type if weak_type is None else bool(weak_type)
    return out


def get_aval(x):
    """The abstract value of a tracer, an Array, a NumPy array or a Python scalar."""
    if isinstance(x, Tracer):
        return x.aval
    aval = getattr(x, 'aval', None)   # Array
    if aval is not None:
        return aval
    if isinstance(x, (bool, int, float, np.ndarray, np.generic)):
        dtype, weak = dtypes.dtype_of(x)
        return ConcreteArray(np.asarray(x, dtype), weak)
    raise TypeError(f"Value {x!r} of type {type(x).__name__} is not a valid JAX type: "
                    "use arrays, Python scalars, or pytrees (tuples, lists, dicts) of them.")


# --- traces and tracers --------------------------------------------------------

class MainTrace:
    """One entry of the trace stack: a running transformation."""

    def __init__(self, level, trace_type, global_data=None, name=None):
        self.level = level
        self.trace_type = trace_type
        self.global_data = global_data
        self.name = name or trace_type.__name__
        self.ended = False
        self.trace = trace_type(self)

    def __repr__(self):
        return f"MainTrace({self.level}, {self.name})"


class Trace:
    """Interprets primitives for one transformation. Subclasses define
    `pure` (wrap a constant), `lift` (wrap a lower-level tracer) and
    `process_primitive`."""

    def __init__(self, main):
        self.main = main

    def __repr__(self):
        return f"{type(self).__name__}(level={self.main.level})"


class Tracer:
    """A value being traced by a transformation. Operators (`+`, `@`, `[]`,
    `.sum()`, ...) are installed by `tinygrad_tracer.numpy`."""
    __array_priority__ = 1000   # numpy defers `np_array + tracer` to us
    _trace = None

    # Subclasses provide `aval` (a ShapedArray or ConcreteArray).
    shape = property(lambda self: self.aval.shape)
    dtype = property(lambda self: self.aval.dtype)
    ndim = property(lambda self: self.aval.ndim)
    size = property(lambda self: self.aval.size)
    weak_type = property(lambda self: self.aval.weak_type)

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of unsized object (a scalar)")
        return self.shape[0]

    # Conversions that only read the value (`if x > 0`, int(), x as an index,
    # .item()) work whenever the aval is concrete: under grad without jit,
    # Python control flow on traced values just works, as in JAX.
    def __bool__(self):
        return self.aval.to_bool(self)

    def __int__(self):
        return self.aval.to_scalar(self, int)

    def __index__(self):
        return self.aval.to_scalar(self, operator.index)

    # Conversions that hand the value to code no transformation sees (NumPy,
    # Python floats) would silently lose what is traced: the derivative under
    # grad, the batch under vmap. As in JAX, every tracer refuses them, unless
    # it is a plain value in disguise (see `untraced_value`).
    def __float__(self):
        return float(untraced_value(self, "float()"))

    def __complex__(self):
        return complex(untraced_value(self, "complex()"))

    def tolist(self):
        return untraced_value(self, ".tolist()").tolist()

    def __array__(self, dtype=None, copy=None):
        val = untraced_value(self, "np.asarray() (or a NumPy function such as np.sin)",
                             TracerArrayConversionError)
        if dtype is not None and np.dtype(dtype) != val.dtype:
            return val.astype(dtype)
        return val.copy() if copy else val   # np.array(x) asks for a writable copy

    def __iter__(self):
        if not self.shape:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(self.shape[0]))

    def __hash__(self):
        raise TypeError(f"unhashable type: {type(self).__name__} (traced arrays cannot be "
                        "dict keys or static arguments; pass a Python value instead)")

    # `print(x)` inside a transformation shows what it knows of x; each
    # transformation's tracer prints the way JAX's does (`JitTracer(~float32[])`).
    def __repr__(self):
        return f"{type(self).__name__}({self.aval.str_long()})"


def _tracer_context(tracer):
    """A sentence naming the transformation (and, for jit, the argument) that traced it."""
    # jit under grad: the jit made the value abstract (lower through a known linearize value)
    primal = full_lower(getattr(tracer, 'primal', None))
    if isinstance(primal, Tracer) and not isinstance(primal.aval, ConcreteArray):
        return _tracer_context(primal)
    main = getattr(getattr(tracer, '_trace', None), 'main', None)
    if main is None:
        return ""
    where = getattr(tracer, 'debug_info', None)
    return f"from {main.name}" + (f" ({where})" if where else "")


def untraced_value(tracer, what, error=ConcretizationTypeError):
    """The NumPy value of `tracer` for `what` (float(), np.asarray(), ...), which
    takes it out of JAX. Allowed only when the tracer is a plain value in
    disguise, one `full_lower` unwraps (a zero tangent, an unbatched value, a
    known value); otherwise raises `error`, naming the transformation and the fix.
    """
    val = full_lower(tracer)
    if isinstance(val, Tracer):
        # Under grad (without jit) the value is known: what would be lost is its derivative.
        raise error(conversion_message(what, val.aval, _tracer_context(val),
                                       differentiated=isinstance(val.aval, ConcreteArray)))
    return get_aval(val).val


class EvalTrace(Trace):
    """Level 0: no transformation, primitives are simply computed."""

    def pure(self, x):
        return x

    lift = pure

    def process_primitive(self, prim, args, params):
        if placed_eval is None:
            outs = prim.impl(*args, **params)
            outs = outs if prim.multiple_results else [outs]
        else:   # some array was committed to a device: the op runs where its arguments are
            outs = placed_eval(prim, args, params)
        if settings.CHECK_IMPLS:   # TT_DEBUG=1 and the tests: cheap, the avals are remembered
            expected = eager_out_avals(prim, args, params)
            check_rule_outputs('impl', prim, 'its result', outs, expected)
        return outs


# Where an eager operation runs. Until an array is committed to a device (device_put(x,
# device), `device=`, a result of jit(f, backend='cuda')), every one runs its NumPy impl
# here, without looking at its arguments. The first commit installs `placed_eval`
# (`device_array.py` owns it; core knows no device): placed_eval(prim, args, params) runs
# prim where its committed arguments are and returns the list of results.
placed_eval = None


def install_placed_eval(rule):
    """Route every eager operation through `rule` from now on (see `placed_eval`)."""
    global placed_eval
    placed_eval = rule


class TraceState(threading.local):
    """What transformations are running, kept per thread (a `threading.local`):
    two threads tracing at once must not push onto, or read, each other's stack.
    Every thread starts with EvalTrace alone at level 0.

    - `trace_stack`: the running transformations, innermost last;
    - `dynamic_trace`: the main that even constant-only operations go to
      (jit/make_jaxpr raise it so constants get staged too);
    - `tags`: see `tag` below;
    - `bind_observer`: `viz.explain` sets it to an object with
      enter(prim, trace, tracers, params) and exit(outs) to record how each
      bind travels down the trace stack.
    """

    def __init__(self):
        self.trace_stack = [MainTrace(0, EvalTrace, name='eval')]
        self.dynamic_trace = self.trace_stack[0]
        self.tags = []
        self.bind_observer = None


trace_state = TraceState()


@contextlib.contextmanager
def new_main(trace_type, global_data=None, name=None):
    """Push a transformation on the trace stack for the duration of the block."""
    stack = trace_state.trace_stack
    main = MainTrace(len(stack), trace_type, global_data, name)
    stack.append(main)
    try:
        yield main
    finally:
        stack.pop()
        main.ended = True   # tracers of this main used later are leaks


@contextlib.contextmanager
def new_dynamic(main):
    """Make `main` the trace that even constant-only operations go to (jit)."""
    prev, trace_state.dynamic_trace = trace_state.dynamic_trace, main
    try:
        yield
    finally:
        trace_state.dynamic_trace = prev


def _check_alive(x):
    main = x._trace.main
    if main.ended:
        raise UnexpectedTracerError(
            f"Encountered an unexpected tracer: a value from {main.name} (level "
            f"{main.level}) was used after {main.name} had finished. {x.aval.str_short()} "
            "escaped its transformation, e.g. by being stored in a global, a list outside "
            "the function, or an object attribute. Return the value from the "
            "transformed function instead of saving it (or use has_aux=True to return "
            "extra values).")


def find_top_trace(xs):
    top = trace_state.dynamic_trace
    for x in xs:
        if isinstance(x, Tracer):
            _check_alive(x)
            if x._trace.main.level > top.level:
                top = x._trace.main
    return top.trace


def full_raise(trace, val):
    """Bring `val` to `trace`'s level: wrap constants, lift lower tracers."""
    if not isinstance(val, Tracer):
        return trace.pure(val)
    main = val._trace.main
    if main is trace.main:
        return val
    if main.level < trace.main.level:
        return trace.lift(val)
    raise UnexpectedTracerError(
        f"Can't lift a tracer of {main.name} (level {main.level}) to {trace.main.name} "
        f"(level {trace.main.level}): a tracer from one transformation reached another "
        "that is not nested inside it. This happens when a traced value is stored "
        "and reused outside the function that created it.")


def full_lower(val):
    """Unwrap a tracer that carries nothing of its transformation (a JVP tracer with
    a zero tangent, an unbatched vmap value, a known partial value); others stay."""
    return val.full_lower() if isinstance(val, Tracer) and hasattr(val, 'full_lower') else val


# --- tags: which transformation produced an equation ------------------------------
# Traces push a tag while they run their rules; jaxpr equations record the most
# telling one so the visualizer can colour primal / tangent / cotangent / batched.
TAG_PRIORITY = {'primal': 0, 'batched': 1, 'tangent': 2, 'cotangent': 3}


@contextlib.contextmanager
def tag(name):
    tags = trace_state.tags
    tags.append(name)
    try:
        yield
    finally:
        tags.pop()


def current_tag():
    return max(trace_state.tags, key=TAG_PRIORITY.__getitem__, default='primal')


# --- checking what a rule returned ---------------------------------------------
# Every rule's result is checked against the primitive's abstract evaluation, so a
# wrong rule (a student's or ours) fails at the rule, never later as a wrong number.

def out_avals(prim, avals_in, params):
    """What `prim` returns for inputs of these avals: a list, one aval per output.

    Every transformation asks this of every primitive it processes (to check what
    its rule returned), so each answer is remembered, keyed by the primitive, each
    input's (shape, dtype, weak_type), the params and the x64 setting: an abstract
    evaluation reads nothing else. Errors are never remembered (a bad call raises
    every time), and neither are answers for params that are not plain values (a
    jaxpr, an array): those are evaluated each time."""
    avals_in = list(avals_in)
    return _remembered(prim, tuple(map(_kind, avals_in)), params, lambda: avals_in)


def eager_out_avals(prim, args, params):
    """`out_avals` for concrete arguments (Arrays, scalars), as an eager impl asks on
    every call: an Array's (shape, dtype, weak_type) is read without making its aval."""
    kinds = tuple((a.shape, a.dtype, a.weak_type) if hasattr(a, 'weak_type') else _kind(get_aval(a))
                  for a in args)
    return _remembered(prim, kinds, params, lambda: [get_aval(a) for a in args])


def _kind(aval):
    return aval.shape, aval.dtype, aval.weak_type


def _remembered(prim, kinds, params, avals_in):
    if params and not all(map(plain_param, params.values())):
        return _abstract_eval(prim, avals_in(), params)
    # (the type of each param too: 1, 1.0 and True are equal as keys, not as params)
    key = (prim, kinds, tuple((k, v, type(v)) for k, v in params.items()) if params else (),
           settings.config.jax_enable_x64)
    out = _OUT_AVALS.get(key)
    if out is None:
        if len(_OUT_AVALS) > 10_000:   # a program sweeping shapes: start over, stay small
            _OUT_AVALS.clear()
        out = _OUT_AVALS[key] = _abstract_eval(prim, avals_in(), params)
    return out


_OUT_AVALS = {}
_PLAIN = (int, float, bool, str, type(None), np.dtype)


def plain_param(value):
    """A param we can key on: a number, string, dtype or None, or a tuple of them."""
    if isinstance(value, tuple):
        return all(map(plain_param, value))
    return isinstance(value, _PLAIN)


def _abstract_eval(prim, avals_in, params):
    out = prim.abstract_eval(*[a if type(a) is ShapedArray else raise_to_shaped(a) for a in avals_in],
                             **params)
    return list(out) if prim.multiple_results else [out]


def describe(x):
    """A rule's result as an error message shows it: `[f32[3], Zero(f32[])]`."""
    if isinstance(x, (list, tuple)):
        inner = ', '.join(map(describe, x))
        return f"[{inner}]" if isinstance(x, list) else f"({inner}{',' if len(x) == 1 else ''})"
    if isinstance(x, Tracer) or hasattr(x, 'block_until_ready'):   # a tracer or an Array
        return f"an array {get_aval(x).str_short()}"
    if hasattr(x, 'aval'):   # ad_util.Zero, transpose.UndefPrimal
        return repr(x)
    try:
        return f"a {type(x).__name__} {get_aval(x).str_short()}"
    except TypeError:
        return f"{x!r} (a {type(x).__name__}, not an array)"


def check_rule_outputs(kind, prim, what, outs, expected):
    """`outs` (a list from a `kind` rule of `prim`) must hold one value per aval of
    `expected`, each of that shape and dtype (weak types may differ). An entry of
    `expected` that is None is not checked; a value with an `aval` but no array
    (a symbolic `Zero`) is checked by that aval."""
    check_rule_list(kind, prim, what, outs, len(expected))
    for i, (x, want) in enumerate(zip(outs, expected)):
        if want is not None:
            check_rule_value(kind, prim, f"{what}[{i}]", x, want)


def check_rule_list(kind, prim, what, outs, n):
    if not isinstance(outs, (list, tuple)) or len(outs) != n:
        raise RuleOutputError(kind, prim, f"must return {what} as a list of {n} "
                              f"(one entry per {'operand' if kind == 'transpose' else 'output'})",
                              describe(outs), f"a list of {n}")


def rule_value_aval(kind, prim, what, x, want):
    """The aval of `x`, one entry of a rule's result; an error if it is not an array."""
    try:
        return x.aval if hasattr(x, 'aval') else get_aval(x)
    except TypeError:
        raise RuleOutputError(kind, prim, f"returned something that is not an array as {what}",
                              describe(x), f"an array {want.str_short()}") from None


def check_rule_value(kind, prim, what, x, want):
    aval = rule_value_aval(kind, prim, what, x, want)
    if aval.shape != want.shape or aval.dtype != want.dtype:
        wrong = 'shape' if aval.shape != want.shape else 'dtype'
        raise RuleOutputError(kind, prim, f"returned {what} with the wrong {wrong}",
                              describe(x), want.str_short())
