"""Jaxprs: a program as data, recorded by tracing, printed as JAX prints it.

    >>> make_jaxpr(lambda x: jnp.sin(x) * 2.0)(1.0)
    { lambda ; a:f32[]. let b:f32[] = sin a; c:f32[] = mul b 2.0:f32[] in (c,) }

`JaxprTrace` is the trace that *records* instead of computing: every
primitive bound on its tracers becomes a `JaxprEqn`. `jit`, `make_jaxpr`,
control flow and `linearize` all use it. `eval_jaxpr` replays a jaxpr by
binding each equation again, so a replay can itself be transformed. The
editing helpers (`hoist_consts`, `reorder`, `drop_outputs`, ...) give the same
program with its constants, inputs or outputs rearranged.
"""
import contextlib
import inspect
import os
import sys
import threading
from typing import NamedTuple

import numpy as np

from . import core, dtypes, tree_util
from .array import Array
from .core import ShapedArray, Tracer, Trace, get_aval, raise_to_shaped, bind


class Var:
    """A variable of a jaxpr; it gets its printed name (a, b, ...) when printed."""
    __slots__ = ('aval',)

    def __init__(self, aval):
        self.aval = aval

    def __repr__(self):
        return f"Var({self.aval.str_short()})"


class Literal:
    """A scalar constant written inline: `2.0:f32[]`."""
    __slots__ = ('val', 'aval')

    def __init__(self, val, aval):
        self.val = np.asarray(val, aval.dtype)
        self.aval = raise_to_shaped(aval)

    def __repr__(self):
        v = self.val[()]
        # JAX writes a float literal's value as a Python float: 1.1 in float32 is 1.100000023841858
        text = (str(bool(v)) if self.aval.dtype == dtypes.bool_ else
                str(float(v)) if dtypes.is_float(self.aval.dtype) else str(v))
        return f"{text}:{self.aval.str_short()}"


class JaxprEqn:
    """`outvars = primitive[params] invars`, plus the tag of the transformation
    that produced it ('primal', 'tangent', 'cotangent' or 'batched') and where
    it came from (`source_info`: a `SourceInfo`, or None; the printer ignores it)."""
    __slots__ = ('primitive', 'inputs', 'params', 'out_binders', 'tag', 'source_info')

    def __init__(self, primitive, inputs, params, out_binders, tag='primal', source_info=None):
        self.primitive, self.inputs, self.params = primitive, inputs, params
        self.out_binders, self.tag, self.source_info = out_binders, tag, source_info

    def __repr__(self):
        return f"JaxprEqn({self.primitive}, tag={self.tag})"


class Jaxpr:
    """`{ lambda constvars ; invars . let eqns in outvars }`."""

    def __init__(self, constvars, invars, outvars, eqns):
        self.constvars, self.invars = list(constvars), list(invars)
        self.outvars, self.eqns = list(outvars), list(eqns)

    in_avals = property(lambda self: [v.aval for v in self.invars])
    out_avals = property(lambda self: [v.aval for v in self.outvars])

    def __str__(self):
        return pp_jaxpr(self)

    __repr__ = __str__


class ClosedJaxpr:
    """A jaxpr together with the values of its constvars."""

    def __init__(self, jaxpr, consts):
        self.jaxpr, self.consts = jaxpr, list(consts)

    in_avals = property(lambda self: self.jaxpr.in_avals)
    out_avals = property(lambda self: self.jaxpr.out_avals)
    eqns = property(lambda self: self.jaxpr.eqns)

    def __str__(self):
        return pp_jaxpr(self.jaxpr)

    __repr__ = __str__

    def _repr_pretty_(self, p, cycle):   # IPython shows the printout, not an object repr
        p.text(str(self))


# --- the recording trace -----------------------------------------------------------

class JaxprTracer(Tracer):
    """A value being recorded: it knows only its aval (and which arguments it
    depends on, so errors can name them)."""
    __slots__ = ('_trace', 'aval', 'deps')

    def __init__(self, trace, aval, deps=frozenset()):
        self._trace, self.aval, self.deps = trace, aval, deps

    def __repr__(self):   # JAX's name for a value recorded by jit or make_jaxpr
        return f"JitTracer({self.aval.str_long()})"

    @property
    def debug_info(self):
        builder = self._trace.main.global_data
        args = ', '.join(sorted(self.deps))
        where = f"while tracing the function {builder.fn_name}"
        return f"{where}; the value depends on argument(s) {args}" if args else where


class JaxprTrace(Trace):
    def pure(self, val):
        return self.main.global_data.new_const(self, val)

    lift = pure   # a tracer of an outer transformation is a constant in here

    def new_arg(self, aval, name=None):
        builder = self.main.global_data
        tracer = JaxprTracer(self, raise_to_shaped(aval), frozenset([name]) if name else frozenset())
        builder.tracers.append(tracer)
        builder.add_var(tracer)
        return tracer

    def process_primitive(self, prim, tracers, params):
        avals_in = [t.aval for t in tracers]
        avals_out = prim.abstract_eval(*avals_in, **params)
        avals_out = avals_out if prim.multiple_results else [avals_out]
        deps = frozenset().union(*(t.deps for t in tracers))
        outs = [JaxprTracer(self, a, deps) for a in avals_out]
        builder = self.main.global_data
        builder.tracers.extend(outs)
        builder.eqns.append(JaxprEqn(prim, [builder.getvar(t) for t in tracers], params,
                                     [builder.add_var(t) for t in outs], core.current_tag(),
                                     current_source_info()))
        return outs


class JaxprBuilder:
    """Collects equations, variables and constants while a function is traced."""

    def __init__(self, fn_name='f'):
        self.fn_name = fn_name
        self.eqns = []
        self.tracer_to_var = {}
        self.const_tracers = {}   # id(value) -> tracer
        self.constvals = {}       # Var -> value
        self.tracers = []         # keeps tracers alive so ids stay unique

    def new_const(self, trace, val):
        tracer = self.const_tracers.get(id(val))
        if tracer is None:
            aval = raise_to_shaped(get_aval(val))
            tracer = JaxprTracer(trace, aval, getattr(val, 'deps', frozenset()))
            self.tracers.append(tracer)
            self.const_tracers[id(val)] = tracer
            self.constvals[self.add_var(tracer)] = val
        return tracer

    def add_var(self, tracer):
        var = self.tracer_to_var[id(tracer)] = Var(tracer.aval)
        return var

    def getvar(self, tracer):
        try:
            return self.tracer_to_var[id(tracer)]
        except KeyError:
            raise core.UnexpectedTracerError(
                f"A tracer {tracer.aval.str_short()} from another jaxpr trace was used while "
                f"tracing {self.fn_name}: a traced value leaked from an earlier trace.") from None

    def build(self, in_tracers, out_tracers):
        constvars, constvals = zip(*self.constvals.items()) if self.constvals else ((), ())
        invars = [self.getvar(t) for t in in_tracers]
        outvars = [self.getvar(t) for t in out_tracers]
        jaxpr = Jaxpr(constvars, invars, outvars, self.eqns)
        return inline_literals(jaxpr, list(constvals))


def _is_literal_const(val):
    # Scalars that are not tracers print inline as literals; anything else stays a constvar.
    if isinstance(val, Tracer):
        return False
    return isinstance(val, (bool, int, float, np.generic)) or np.shape(val) == ()


def inline_literals(jaxpr, consts):
    """A ClosedJaxpr of `jaxpr` with `consts`, the scalar ones written inline as
    Literals (`2.0:f32[]`) rather than kept as constvars, as JAX prints them."""
    lits = {v: Literal(np.asarray(c), v.aval) for v, c in zip(jaxpr.constvars, consts)
            if _is_literal_const(c)}
    constvars = [v for v in jaxpr.constvars if v not in lits]
    consts = [c for v, c in zip(jaxpr.constvars, consts) if v not in lits]
    sub = lambda x: lits.get(x, x) if isinstance(x, Var) else x
    eqns = [JaxprEqn(e.primitive, [sub(x) for x in e.inputs], e.params, e.out_binders, e.tag,
                     e.source_info) for e in jaxpr.eqns]
    return ClosedJaxpr(Jaxpr(constvars, jaxpr.invars, [sub(x) for x in jaxpr.outvars], eqns), consts)


def trace_to_jaxpr(flat_fun, in_avals, fn_name='f', arg_names=None, trace_name=None):
    """Trace `flat_fun` (a function of a flat list of arrays returning a flat
    list) on abstract inputs; returns a ClosedJaxpr. `trace_name` is what errors
    call this trace (default `jit(fn_name)`; control flow passes e.g. 'lax.cond')."""
    builder = JaxprBuilder(fn_name)
    arg_names = arg_names or [None] * len(in_avals)
    with core.new_main(JaxprTrace, builder, name=trace_name or f"jit({fn_name})") as main:
        with core.new_dynamic(main):
            trace = main.trace
            in_tracers = [trace.new_arg(a, n) for a, n in zip(in_avals, arg_names)]
            outs = flat_fun(*in_tracers)
            out_tracers = [core.full_raise(trace, o) for o in outs]
            return builder.build(in_tracers, out_tracers)


def positional_params(fun):
    """The names of `fun`'s positional parameters (not `*args`); [] if it has no signature."""
    try:
        params = inspect.signature(fun).parameters.values()
    except (TypeError, ValueError):
        return []
    return [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


def arg_names_of(fun, args, kwargs=None, static=()):
    """A name per leaf of `args` and `kwargs` (in flattening order), for error messages:
    `x`, `params[1]` (leaf 1 of params), `args[2]` (past the named parameters), `scale`
    (a keyword). Positions and keywords in `static` are left out, as they are not traced."""
    params = positional_params(fun)
    named = [(params[i] if i < len(params) else f"args[{i}]", a)
             for i, a in enumerate(args) if i not in static]
    named += [(k, kwargs[k]) for k in sorted(kwargs or {}) if k not in static]
    names = []
    for base, arg in named:
        n = len(tree_util.tree_leaves(arg))
        names += [base] if n == 1 else [f"{base}[{j}]" for j in range(n)]
    return names


def fun_name(fun):
    return getattr(fun, '__name__', None) or type(fun).__name__


def make_jaxpr(fun, static_argnums=(), return_shape=False):
    """A function that returns the jaxpr of `fun` at the given arguments.

        >>> make_jaxpr(lambda x: jnp.sin(x) * 2.0)(1.0)
        { lambda ; a:f32[]. let b:f32[] = sin a; c:f32[] = mul b 2.0:f32[] in (c,) }
    """
    static_argnums = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)

    def make(*args, **kwargs):
        static = {i % len(args) for i in static_argnums}
        dyn = [a for i, a in enumerate(args) if i not in static]

        def with_static(*dyn_args):
            it = iter(dyn_args)
            return fun(*[args[i] if i in static else next(it) for i in range(len(args))], **kwargs)

        flat, in_tree = tree_util.tree_flatten(tuple(dyn))
        flat_fun, out_tree = tree_util.flatten_fun(with_static, in_tree)
        avals = [abstractify(x) for x in flat]
        closed = trace_to_jaxpr(flat_fun, avals, fun_name(fun), arg_names_of(fun, args, static=static))
        if return_shape:
            shapes = [ShapeDtypeStruct(a.shape, a.dtype) for a in closed.out_avals]
            return closed, tree_util.tree_unflatten(out_tree(), shapes)
        return closed
    return make


class ShapeDtypeStruct:
    """Just a shape and a dtype (what `eval_shape` returns; `make_jaxpr`, `eval_shape` and
    `jit(f).lower` accept it in place of an array)."""

    def __init__(self, shape, dtype, weak_type=False):
        self.shape, self.dtype, self.weak_type = tuple(shape), np.dtype(dtype), weak_type

    def __repr__(self):
        return f"ShapeDtypeStruct(shape={self.shape}, dtype={self.dtype.name})"

    def __eq__(self, other):
        return isinstance(other, ShapeDtypeStruct) and (self.shape, self.dtype) == (other.shape, other.dtype)

    def __hash__(self):
        return hash((self.shape, self.dtype))


def abstractify(x):
    """The ShapedArray a trace starts from: of an array or scalar, or of a ShapeDtypeStruct."""
    if isinstance(x, ShapeDtypeStruct):
        return ShapedArray(x.shape, x.dtype, x.weak_type)
    return raise_to_shaped(get_aval(x))


def eval_jaxpr(jaxpr, consts, *args):
    """Replay `jaxpr` by binding each equation: under a transformation, each
    replayed primitive is transformed."""
    env = {}
    read = lambda x: x.val if isinstance(x, Literal) else env[x]
    for v, val in zip(jaxpr.constvars, consts):
        env[v] = val
    for v, val in zip(jaxpr.invars, args):
        env[v] = val
    for eqn in jaxpr.eqns:
        with source_context(eqn.source_info):   # a replay under make_jaxpr keeps the origin
            outs = bind(eqn.primitive, *[literal_value(x) if isinstance(x, Literal) else env[x]
                                         for x in eqn.inputs], **eqn.params)
        outs = outs if eqn.primitive.multiple_results else [outs]
        for v, o in zip(eqn.out_binders, outs):
            env[v] = o
    return [literal_value(x) if isinstance(x, Literal) else read(x) for x in jaxpr.outvars]


def eval_closed_jaxpr(closed, *args):
    """`eval_jaxpr` of a ClosedJaxpr: its own constants, then `args` as its inputs."""
    return eval_jaxpr(closed.jaxpr, closed.consts, *args)


def literal_value(lit):
    """The Array a Literal stands for (a float0 one: its NumPy array, as there are no
    float0 Arrays)."""
    if lit.aval.dtype == dtypes.float0:
        return lit.val
    return Array(lit.val, lit.aval.weak_type)


def check_jaxpr(jaxpr):
    """Type-check a jaxpr: every variable defined once before use, every equation's
    output avals equal to what its primitive's abstract eval says."""
    env = set()

    def use(x, where):
        if isinstance(x, Var) and x not in env:
            raise TypeError(f"Jaxpr type error: variable {x} used in {where} before it is defined")

    def define(v, where):
        if v in env:
            raise TypeError(f"Jaxpr type error: variable {v} defined twice ({where})")
        env.add(v)
    for v in jaxpr.constvars + jaxpr.invars:
        define(v, 'binders')
    for eqn in jaxpr.eqns:
        for x in eqn.inputs:
            use(x, eqn.primitive.name)
        avals = eqn.primitive.abstract_eval(*[x.aval for x in eqn.inputs], **eqn.params)
        avals = avals if eqn.primitive.multiple_results else [avals]
        for v, a in zip(eqn.out_binders, avals):
            if raise_to_shaped(a, False) != raise_to_shaped(v.aval, False):
                raise TypeError(f"Jaxpr type error in {eqn.primitive.name}: binder has "
                                f"{v.aval.str_short()} but the primitive gives {a.str_short()}")
            define(v, eqn.primitive.name)
    for x in jaxpr.outvars:
        use(x, 'outputs')


# --- where an equation came from -------------------------------------------------------
# Only traces that build a jaxpr ask for this (never the eager path): the user's
# line and the `named_scope`s in force, so viz can group equations by them.

class SourceInfo(NamedTuple):
    """The innermost frame outside tinygrad_tracer when an equation was recorded,
    and the `named_scope` names in force, outermost first."""
    file: str
    line: int
    function: str
    name_stack: tuple


class _SourceState(threading.local):
    """Per thread, like the trace stack: the open named scopes, and the SourceInfo
    that replaces the current one while a transpose re-emits an equation."""
    def __init__(self):
        self.name_stack = ()
        self.override = None


_source_state = _SourceState()
_PACKAGE_DIR = os.path.dirname(__file__) + os.sep   # same spelling as our frames' co_filename


class named_scope(contextlib.ContextDecorator):
    """Name the equations recorded inside the block, as `jax.named_scope`; scopes nest,
    and it also decorates a function (`@named_scope('mlp')`).

        >>> with named_scope('layer1'):
        ...     y = jnp.tanh(x @ w)
        >>> make_jaxpr(f)(x).eqns[0].source_info.name_stack
        ('layer1',)

    Eager code pays only for the push and pop; `viz.graph` draws one cluster per scope.
    """

    def __init__(self, name):
        if not isinstance(name, str) or not name:
            raise TypeError(f"named_scope needs a non-empty string name, got {name!r}; "
                            "e.g. `with tt.named_scope('layer1'):`")
        self.name = name

    def __enter__(self):   # keeps no state of its own, so one scope object can be reentered
        _source_state.name_stack += (self.name,)

    def __exit__(self, *exc):
        _source_state.name_stack = _source_state.name_stack[:-1]


class source_context:
    """Record the equations made inside as coming from `info` (a SourceInfo or None:
    then nothing changes). The transpose emits an equation's backward work under
    it, so the cotangent equations keep the scope of the primal ones."""
    __slots__ = ('info', 'prev')

    def __init__(self, info):
        self.info = info

    def __enter__(self):
        self.prev = _source_state.override
        if self.info is not None:
            _source_state.override = self.info

    def __exit__(self, *exc):
        _source_state.override = self.prev


def current_source_info():
    """The SourceInfo of an equation recorded now: the innermost frame outside this
    package and the open named scopes (or the `source_context` in force)."""
    if _source_state.override is not None:
        return _source_state.override
    frame = sys._getframe(1)
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
    code = frame.f_code
    return SourceInfo(code.co_filename, frame.f_lineno, code.co_name, _source_state.name_stack)


def building_jaxpr():
    """Is a jaxpr being recorded below the running transformations (jit, make_jaxpr)?"""
    return core.trace_state.dynamic_trace.trace_type is JaxprTrace


# --- editing: the same program with its inputs, outputs or constants rearranged ----------------

def hoist_consts(closed, keep=lambda c: not isinstance(c, Tracer)):
    """Turn the constants of `closed` that `keep` rejects (by default: tracers of an
    outer transformation) into leading inputs, so that transformation sees them as
    operands ("closure conversion"). Returns (new ClosedJaxpr, the hoisted values)."""
    jaxpr = closed.jaxpr
    kept = [(v, c) for v, c in zip(jaxpr.constvars, closed.consts) if keep(c)]
    moved = [(v, c) for v, c in zip(jaxpr.constvars, closed.consts) if not keep(c)]
    if not moved:
        return closed, []
    new = Jaxpr([v for v, _ in kept], [v for v, _ in moved] + jaxpr.invars, jaxpr.outvars, jaxpr.eqns)
    return ClosedJaxpr(new, [c for _, c in kept]), [c for _, c in moved]


def reorder(closed, invars=None, outvars=None):
    """The same jaxpr with its inputs / outputs listed in a new order (lists of indices)."""
    j = closed.jaxpr
    ins = j.invars if invars is None else [j.invars[i] for i in invars]
    outs = j.outvars if outvars is None else [j.outvars[i] for i in outvars]
    return ClosedJaxpr(Jaxpr(j.constvars, ins, outs, j.eqns), closed.consts)


def with_unused_inputs(closed, avals, at):
    """The same jaxpr taking extra inputs of `avals` (ignored) inserted at position `at`."""
    j = closed.jaxpr
    ins = j.invars[:at] + [Var(a) for a in avals] + j.invars[at:]
    return ClosedJaxpr(Jaxpr(j.constvars, ins, j.outvars, j.eqns), closed.consts)


def drop_outputs(closed, keep):
    """The same jaxpr returning only its first `keep` outputs."""
    j = closed.jaxpr
    return ClosedJaxpr(Jaxpr(j.constvars, j.invars, j.outvars[:keep], j.eqns), closed.consts)


def compile_without_float0(closed, compile):
    """`compile(closed)`, where float0 values (the tangents of int and bool values:
    zeros with no data) are left out of what `compile` gets and put back around the
    executable it returns: float0 arguments are ignored, float0 results are NumPy
    float0 zeros (what JAX returns). Backends then never meet float0.

        >>> g = grad(lambda x, i: x * i, argnums=(0, 1), allow_int=True)
        >>> exe = compile_without_float0(make_jaxpr(g)(1.0, 2),
        ...                              lambda c: interpret.compile(c, 'g'))
        >>> exe(Array(1.0), Array(2))
        [Array(2., dtype=float32, weak_type=True), array((b'',), dtype=[('float0', 'V')])]
    """
    j = closed.jaxpr
    is_f0 = lambda x: x.aval.dtype == dtypes.float0
    if not any(map(is_f0, [*j.constvars, *j.invars, *j.outvars]
                   + [v for e in j.eqns for v in e.out_binders])):
        return compile(closed)
    eqns = []
    for e in j.eqns:
        outs_f0 = [is_f0(v) for v in e.out_binders]
        if e.out_binders and all(outs_f0):
            continue   # computes only zeros without data
        if any(outs_f0) or any(map(is_f0, e.inputs)):
            raise TypeError(
                f"jit cannot compile `{e.primitive}` from {_types(e.inputs)} to "
                f"{_types(e.out_binders)}: float0 values (the tangents of integer and bool "
                f"values) carry no data, and may only be computed from each other. A nested "
                f"jit returning float0 values does this: call the inner function without "
                f"jit, or return the float0 results from the outermost jit only.")
        eqns.append(e)
    consts = [(v, c) for v, c in zip(j.constvars, closed.consts) if not is_f0(v)]
    inner = compile(ClosedJaxpr(Jaxpr([v for v, _ in consts], [v for v in j.invars if not is_f0(v)],
                                      [v for v in j.outvars if not is_f0(v)], eqns),
                                [c for _, c in consts]))
    return _Float0Around(inner, [is_f0(v) for v in j.invars], [x.aval for x in j.outvars])


def _types(xs):
    return f"({', '.join(x.aval.str_short() for x in xs)})"


class _Float0Around:
    """An executable of a jaxpr with float0 values, around one (`inner`) of the same
    jaxpr without them; otherwise it is `inner` (`kernels`, `as_text()`, ...)."""

    def __init__(self, inner, in_f0, out_avals):
        self.inner, self.in_f0, self.out_avals = inner, in_f0, out_avals

    def __call__(self, *args):
        outs = iter(self.inner(*[a for a, f0 in zip(args, self.in_f0) if not f0]))
        return [np.zeros(a.shape, dtypes.float0) if a.dtype == dtypes.float0 else next(outs)
                for a in self.out_avals]

    def __getattr__(self, name):
        return getattr(self.inner, name)


# --- printing --------------------------------------------------------------------------
# JAX lays jaxprs out with a Wadler-style pretty printer: a document is text,
# breaks and groups; a group goes on one line when its contents (and the text
# right after it) fit in the 80 columns left, otherwise each of its own breaks
# starts a new, indented line.
# We build the same documents as JAX, so the text is character for character
# what `jax.make_jaxpr` prints.

def _text(s):
    return ('text', s)


def _cat(*docs):
    return ('cat', docs)


def _brk(s=' '):
    return ('brk', s)


def _group(doc):
    return ('group', doc)


def _nest(n, doc):
    return ('nest', n, doc)


def _join(sep, docs):
    out = []
    for i, d in enumerate(docs):
        out += [sep, d] if i else [d]
    return _cat(*out)


def _fits(doc, room):
    """Does `doc` fit in `room` columns when printed flat?"""
    stack = [doc]
    while stack and room >= 0:
        d = stack.pop()
        if d[0] in ('text', 'brk'):
            room -= len(d[1])
        elif d[0] == 'cat':
            stack.extend(reversed(d[1]))
        else:   # group, nest: flat either way
            stack.append(d[-1])
    return room >= 0


def _trailing_text(siblings, i):
    """Columns taken by the text documents right after siblings[i] in their concatenation:
    a group must leave room for them (JAX keeps a jaxpr's closing ` }` on its line)."""
    n = 0
    for d in siblings[i + 1:]:
        if d[0] != 'text':
            break
        n += len(d[1])
    return n


def _layout(doc, width=80):
    out, col = [], 0
    stack = [(0, False, doc, 0)]   # (indent, break mode?, doc, room to leave after it)
    while stack:
        indent, breaking, d, after = stack.pop()
        kind = d[0]
        if kind == 'text':
            out.append(d[1])
            col += len(d[1])
        elif kind == 'cat':
            kids = d[1]
            stack.extend((indent, breaking, c, _trailing_text(kids, i))
                         for i, c in reversed(list(enumerate(kids))))
        elif kind == 'brk':
            if breaking:
                out.append('\n' + ' ' * indent)
                col = indent
            else:
                out.append(d[1])
                col += len(d[1])
        elif kind == 'nest':
            stack.append((indent + d[1], breaking, d[2], after))
        else:   # group
            stack.append((indent, not _fits(d[1], width - col - after), d[1], 0))
    return ''.join(out)


class Names:
    """a, b, ..., z, ba, bb, ...: shared by a jaxpr and the jaxprs nested in it."""

    def __init__(self):
        self.names = {}
        self._count = 0

    def __getitem__(self, var):
        if isinstance(var, Literal):
            return repr(var)
        if var not in self.names:
            i, s = self._count, ''
            self._count += 1
            while True:
                s = chr(ord('a') + i % 26) + s
                i //= 26
                if i == 0:
                    break
            self.names[var] = s
        return self.names[var]


def suggest_same_names(names, for_vars, like_vars):
    """Print the inner variables `for_vars` under the names of the outer `like_vars`
    they stand for (JAX does this for `jit`)."""
    for v, like in zip(for_vars, like_vars):
        if isinstance(v, Var) and isinstance(like, Var) and v not in names.names:
            names.names[v] = names[like]


# primitive -> rule(eqn, names) -> [(param name, value)] in print order, for primitives
# that print their params differently from the default (sorted by name).
pp_eqn_rules = {}


def _pp_vars(names, vs, sep='', types=False):
    def one(v):
        return _text(f"{names[v]}:{v.aval.str_short()}" if types else names[v])
    return _nest(2, _group(_join(_cat(_text(sep), _group(_brk())), [one(v) for v in vs])))


def _pp_value(value, names):
    if isinstance(value, ClosedJaxpr):
        value = value.jaxpr
    if isinstance(value, Jaxpr):
        return _pp_jaxpr_doc(value, names)
    if type(value) is tuple and value and all(isinstance(j, (Jaxpr, ClosedJaxpr)) for j in value):
        inner = [_pp_value(j, names) for j in value]
        return _group(_cat(_nest(2, _cat(_text('('), _brk(''), _join(_brk(), inner))),
                           _brk(''), _text(')')))
    if isinstance(value, np.dtype):
        return _text(value.name)
    if callable(value) and hasattr(value, '__name__'):
        return _text(value.__name__)
    return _text(str(value))


def _pp_eqn(eqn, names):
    rule = pp_eqn_rules.get(eqn.primitive)
    outs = _pp_vars(names, eqn.out_binders, types=True)
    params = rule(eqn, names) if rule else sorted(eqn.params.items())
    kvs = [_cat(_text(f"{k}="), _pp_value(v, names)) for k, v in params]
    rhs = [_text(eqn.primitive.name)]
    if kvs:
        rhs.append(_group(_cat(_nest(2, _cat(_text('['), _brk(''), _join(_brk(), kvs))),
                               _brk(''), _text(']'))))
    rhs.append(_cat(_text(' '), _pp_vars(names, eqn.inputs)))
    return _cat(outs, _text(' = '), *rhs) if eqn.out_binders else _cat(*rhs)


def _pp_jaxpr_doc(jaxpr, names):
    consts = _pp_vars(names, jaxpr.constvars, types=True)
    ins = _pp_vars(names, jaxpr.invars, types=True)
    eqns = _join(_brk('; '), [_pp_eqn(e, names) for e in jaxpr.eqns])
    outs = _cat(_text('('), _pp_vars(names, jaxpr.outvars, sep=','),
                _text(',)' if len(jaxpr.outvars) == 1 else ')'))
    body = _cat(_text('{ lambda '), consts, _text('; '), ins, _text('. let'),
                _nest(2, _cat(_brk(), eqns)), _brk(), _text('in '), outs)
    return _cat(_group(_nest(2, body)), _text(' }'))


def _named_doc(jaxpr, names):
    used = {x for e in jaxpr.eqns for x in e.inputs} | set(jaxpr.outvars)
    for e in jaxpr.eqns:   # results nothing reads print as `_`
        for v in e.out_binders:
            if v not in used:
                names.names.setdefault(v, '_')
    return _pp_jaxpr_doc(jaxpr, names)


def name_vars(jaxpr, names=None):
    """The `Names` that `pp_jaxpr` gives `jaxpr`'s variables (nested jaxprs included),
    without laying out the text: generated kernels and viz labels use the printed names."""
    names = names if names is not None else Names()
    _named_doc(jaxpr, names)   # building the document names the variables in print order
    return names


def pp_jaxpr(jaxpr, names=None, width=80):
    """The text of a jaxpr, laid out as JAX lays it out: one line when it fits in
    80 columns, else one equation per line, nested jaxprs indented; variables
    named a, b, ... in order of appearance, unused results of the outer jaxpr printed `_`."""
    return _layout(_named_doc(jaxpr, names if names is not None else Names()), width)
