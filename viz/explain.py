"""The trace explainer: watch every `bind` travel down the trace stack.

    >>> ex = viz.explain(tt.grad(jnp.sin), 1.0)        # prints the log, returns it
    explain grad(sin)(1.0): 7 binds
    sin  level 2 JVPTrace (jvp)  in: JVPTracer f32[]=1.0 tangent=PartialEvalTracer f32[]  ...
      sin  level 1 PartialEvalTrace (linearize)  in: PartialEvalTracer f32[]=1.0  out: 0.84147096
        sin  level 0 EvalTrace (eval)  in: 1.0  out: 0.84147096
      cos  level 1 PartialEvalTrace (linearize) [tangent]  ...
      ...
    mul  level 0 EvalTrace (eval) [cotangent]  in: 1.0, 0.5403023  out: 0.5403023
    result: 0.5403023

Each line is one `bind`: which primitive, which trace handled it (its level
on the stack, its kind, the name of the transformation), what went in and what
came out. A transformation's rule binds primitives one level down, so those
binds are printed indented under the bind that caused them. The tag in
brackets ([tangent], [cotangent], [batched]) says which part of a
transformation was running when the bind happened; it picks the colour in
the HTML page (same legend as viz.graph).
"""
import sys

import graphviz
import numpy as np

from tinygrad_tracer import core
from tinygrad_tracer import jaxpr as jx
from tinygrad_tracer.dtypes import short_name
from tinygrad_tracer.tree_util import tree_leaves

from . import legend
from .observe import observing
from .page import write_page


class Event:
    """One bind: where it ran and what went in and out."""
    __slots__ = ('index', 'depth', 'parent', 'prim', 'level', 'trace_kind', 'main_name', 'tag',
                 'inputs', 'outputs', 'in_ids', 'out_ids')

    def __init__(self, index, depth, parent, prim, trace, tag, tracers):
        self.index, self.depth, self.parent, self.prim = index, depth, parent, prim.name
        self.level, self.main_name = trace.main.level, trace.main.name
        self.trace_kind, self.tag = type(trace).__name__, tag
        self.inputs = [describe(t) for t in tracers]
        self.in_ids = [id(t) for t in tracers]
        self.outputs, self.out_ids = None, []

    def where(self):
        return f"level {self.level} {self.trace_kind} ({self.main_name})"

    def line(self):
        tag = '' if self.tag == 'primal' else f" [{self.tag}]"
        outs = 'raised' if self.outputs is None else ', '.join(self.outputs)
        return (f"{'  ' * self.depth}{self.prim}  {self.where()}{tag}  "
                f"in: {', '.join(self.inputs) or '-'}  out: {outs}")


def describe(x, limit=4):
    """A short text for a bind argument: a tracer's kind and aval (and its value
    when the tracer knows it), or a concrete value (its aval when large)."""
    if isinstance(x, core.Tracer):
        aval = x.aval
        text = f"{type(x).__name__} {aval.str_short()}"
        if isinstance(aval, core.ConcreteArray) and np.size(aval.val) <= limit:
            text += f"={_values(aval.val)}"
        if hasattr(x, 'tangent'):   # a JVP tracer: the tangent riding along
            t = x.tangent
            text += f" tangent={describe(t) if _is_value(t) else repr(t)}"
        if hasattr(x, 'bdim'):      # a vmap tracer: where its batch axis is
            text += f" bdim={x.bdim}"
        return text
    arr = np.asarray(x)
    if arr.size <= limit:
        return _values(arr)
    return f"{short_name(arr.dtype)}[{','.join(map(str, arr.shape))}]"


def _is_value(x):
    return isinstance(x, (core.Tracer, bool, int, float, np.ndarray, np.generic)) \
        or hasattr(x, '__array__')


def _values(arr):
    arr = np.asarray(arr)
    return str(arr[()]) if arr.ndim == 0 else np.array2string(arr, precision=4, separator=',')


class _Recorder:
    """The bind observer: an Event per bind, nested by the stack of open binds."""

    def __init__(self):
        self.events, self.open = [], []
        self.keep = []   # every argument and result stays alive, so ids name one value each

    def enter(self, prim, trace, tracers, params):
        parent = self.open[-1].index if self.open else None
        ev = Event(len(self.events), len(self.open), parent, prim, trace, core.current_tag(),
                   tracers)
        self.keep += tracers
        self.events.append(ev)
        self.open.append(ev)

    def exit(self, outs):
        ev = self.open.pop()
        ev.outputs = [describe(o) for o in outs]
        ev.out_ids = [id(o) for o in outs]
        self.keep += outs


class Explanation:
    """The log of one explained call: `.events` (one Event per bind), `.result`,
    `str(ex)` the indented log, `ex.levels()` the (level, trace kind) of each bind,
    `ex.graph()` the binds as a graph, `ex.write_html(path)` the stepping page."""

    def __init__(self, title, events, result):
        self.title, self.events, self.result = title, events, result

    def levels(self):
        return [(e.level, e.trace_kind) for e in self.events]

    def __str__(self):
        lines = [f"explain {self.title}: {len(self.events)} binds"]
        lines += [e.line() for e in self.events]
        lines.append(f"result: {self.result_text()}")
        return '\n'.join(lines)

    def result_text(self):
        return ', '.join(describe(r) for r in tree_leaves(self.result)) or '()'

    def _repr_pretty_(self, p, cycle):
        p.text(str(self))

    def graph(self, max_binds=300):
        """The binds as a Graphviz graph: one node per bind (numbered in order,
        coloured by tag), one cluster per trace, solid edges where a bind's result
        feeds a later bind, dashed edges from a bind to the binds its rule made.
        Node ids are `ev_<i>` and edge ids `ed_<i>_<n>` (i: the step at which it
        appears) so the HTML page can grow the graph step by step."""
        dot = graphviz.Digraph('binds', graph_attr={'rankdir': 'TB', 'fontname': 'Helvetica',
                                                    'fontsize': '11', 'nodesep': '0.25',
                                                    'ranksep': '0.3'},
                               node_attr={'fontname': 'Helvetica', 'fontsize': '10',
                                          'shape': 'box', 'style': 'rounded,filled'},
                               edge_attr={'fontname': 'Helvetica', 'fontsize': '8'})
        events = self.events[:max_binds]
        clusters = {}
        for e in events:
            key = (e.level, e.main_name, e.trace_kind)
            if key not in clusters:
                clusters[key] = graphviz.Digraph(name=f"cluster_{len(clusters)}")
                clusters[key].attr(label=f"level {e.level}: {e.main_name} ({e.trace_kind})",
                                   style='rounded', color='#9ca3af')
            style = legend.role_style(e.tag)
            clusters[key].node(f"ev_{e.index}", f"{e.index}: {e.prim}", id=f"ev_{e.index}",
                               fillcolor=style.fill, color=style.border)
        for c in sorted(clusters.items(), key=lambda kv: -kv[0][0]):
            dot.subgraph(c[1])
        producer, n = {}, 0
        for e in events:
            edges = {producer[i] for i in e.in_ids if i in producer}
            for src in sorted(edges):
                n += 1
                dot.edge(f"ev_{src}", f"ev_{e.index}", id=f"ed_{e.index}_{n}")
            if e.parent is not None:
                n += 1
                dot.edge(f"ev_{e.parent}", f"ev_{e.index}", id=f"ed_{e.index}_{n}",
                         style='dashed', color='#9ca3af', arrowhead='empty')
            producer.update((i, e.index) for i in e.out_ids)
        dot.attr(label=self.title + (f" (first {max_binds} binds)" if len(self.events) > max_binds
                                     else ''), labelloc='t')
        return dot

    def write_html(self, path):
        """A self-contained page (inline SVG, CSS and JS) stepping through the log
        next to the growing graph of binds. Returns the path."""
        write_page(path, self.title, self.events, self.graph(), self.result_text())
        return path


def explain(fn, *args, html=None, quiet=False, file=None):
    """Run `fn(*args)` and record every bind: the primitive, the trace that
    handled it (level, kind), its inputs and outputs. Prints the indented log
    to `file` (default stdout) unless `quiet`, writes the stepping page to `html` if given,
    and returns the Explanation.

        >>> ex = viz.explain(tt.grad(jnp.sin), 1.0, html='trace.html')
        >>> ex.levels()[:3]
        [(2, 'JVPTrace'), (1, 'PartialEvalTrace'), (0, 'EvalTrace')]

    The observer is removed afterwards, also when `fn` raises.
    """
    if not callable(fn):
        raise TypeError(f"viz.explain needs a function to run, got {type(fn).__name__}; "
                        "e.g. viz.explain(tt.grad(jnp.sin), 1.0)")
    title = f"{jx.fun_name(fn)}({', '.join(describe(a) for a in tree_leaves(args))})"
    recorder = _Recorder()
    with observing(recorder):
        result = fn(*args)
    ex = Explanation(title, recorder.events, result)
    if not quiet:
        print(ex, file=file or sys.stdout)
    if html is not None:
        ex.write_html(html)
    return ex
