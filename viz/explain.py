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

In Jupyter or IPython the log is displayed instead of printed (coloured, in a
notebook), once per cell: also when the Explanation is the cell's value.
"""
import os
import sys

import graphviz
import numpy as np

from tinygrad_tracer import core
from tinygrad_tracer import jaxpr as jx
from tinygrad_tracer.dtypes import short_name
from tinygrad_tracer.tree_util import tree_leaves

from . import legend
from .observe import observing
from .page import LEVEL_FRAME, RULE_EDGE, notebook_html, write_page

# Where a bind came from, in code a reader wrote or would look up: frames in these
# modules (the trace machinery, the primitives, the operators of Array) are skipped.
_PACKAGE = os.path.dirname(os.path.abspath(core.__file__))
_VIZ = os.path.dirname(os.path.abspath(__file__))
_STDLIB = os.path.dirname(os.path.abspath(os.__file__))
_MACHINERY = {'core', 'array', 'jaxpr', 'lax', '_lax_elementwise', '_lax_slicing', '_lax_conv',
              '_lax_xla', 'ad_util', 'jvp', 'partial_eval', 'transpose', 'batching', 'jit', 'api',
              '_indexing', 'custom_derivatives', 'backends'}


class Event:
    """One bind: where it ran and what went in and out."""
    __slots__ = ('index', 'depth', 'parent', 'prim', 'level', 'trace_kind', 'main_name', 'tag',
                 'inputs', 'outputs', 'in_ids', 'out_ids', 'source')

    def __init__(self, index, depth, parent, prim, trace, tag, tracers, source=()):
        self.index, self.depth, self.parent, self.prim = index, depth, parent, prim.name
        self.level, self.main_name = trace.main.level, trace.main.name
        self.trace_kind, self.tag = type(trace).__name__, tag
        self.inputs = [describe(t) for t in tracers]
        self.in_ids = [id(t) for t in tracers]
        self.outputs, self.out_ids = None, []
        self.source = source   # the calling code, innermost first (see call_site)

    def where(self):
        return f"level {self.level} {self.trace_kind} ({self.main_name})"

    def text(self):
        """The log line without its indentation."""
        tag = '' if self.tag == 'primal' else f" [{self.tag}]"
        outs = 'raised' if self.outputs is None else ', '.join(self.outputs)
        return f"{self.prim}  {self.where()}{tag}  in: {', '.join(self.inputs) or '-'}  out: {outs}"

    def line(self):
        return '  ' * self.depth + self.text()


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
    arr = np.asarray(x, dtype=None if _is_value(x) else object)
    if arr.dtype == object:   # not an array (an nnx Module, a string, ...): its type says enough
        return type(x).__name__
    if arr.size <= limit:
        return _values(arr)
    return f"{short_name(arr.dtype)}[{','.join(map(str, arr.shape))}]"


def call_site(frame, limit=10):
    """The code that led to a bind, innermost first: the public functions of
    tinygrad_tracer outside the trace machinery (by name), up to the first frame of
    code outside it, yours, as 'function (file:line)'."""
    sites = []
    while frame is not None and len(sites) < limit:
        path, name = os.path.abspath(frame.f_code.co_filename), frame.f_code.co_name
        ours = path.startswith(_PACKAGE + os.sep)
        if not ours and not path.startswith(_VIZ + os.sep) and not path.startswith(_STDLIB):
            sites.append(f"{name} ({os.path.basename(path)}:{frame.f_lineno})")
            break   # the caller's own code: the rest of the stack is theirs too
        if ours and not _is_machinery(path) and not name.startswith(('_', '<')):
            sites.append(name)
        frame = frame.f_back
    return tuple(sites)


def _is_machinery(path):
    first = os.path.relpath(path, _PACKAGE).split(os.sep)[0]
    return os.path.splitext(first)[0] in _MACHINERY


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
                   tracers, call_site(sys._getframe(1)))
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
    `ex.graph()` the binds as a graph, `ex.write_html(path)` the stepping page.

    In IPython it displays as its log, coloured in a notebook, at most once per cell
    (see `_ipython_display_`); `repr` is one line, so a prompt that echoes a value
    does not repeat the printed log."""

    def __init__(self, title, events, result):
        self.title, self.events, self.result = title, events, result
        self.shown_in = None   # the IPython cell (execution count) that displayed it

    def levels(self):
        return [(e.level, e.trace_kind) for e in self.events]

    def __str__(self):
        lines = [f"explain {self.title}: {len(self.events)} binds"]
        lines += [e.line() for e in self.events]
        lines.append(f"result: {self.result_text()}")
        return '\n'.join(lines)

    def result_text(self):
        return ', '.join(describe(r) for r in tree_leaves(self.result)) or '()'

    def __repr__(self):
        return f"<Explanation of {self.title}: {len(self.events)} binds; print() it for the log>"

    def _repr_html_(self):
        return notebook_html(f"explain {self.title}: {len(self.events)} binds", self.events,
                             self.result_text())

    def _ipython_display_(self):
        """IPython calls this to display the Explanation, both for `display(ex)` and
        for a cell's value. viz.explain displays it as soon as it is made, so when the
        call is also the cell's value it is not shown a second time."""
        from IPython.display import display
        cell = ipython_shell().execution_count
        if self.shown_in != cell:
            self.shown_in = cell
            display({'text/html': self._repr_html_(), 'text/plain': str(self)}, raw=True)

    def graph(self, max_binds=300):
        """The binds as a Graphviz graph: one node per bind (numbered in order,
        coloured by tag), one cluster per trace, solid edges where a bind's result
        feeds a later bind, dashed edges from a bind to the binds its rule made (they
        do not steer the layout, so each level stays a column, the highest on the left).
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
                                   style='rounded', color=LEVEL_FRAME)
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
                         style='dashed', color=RULE_EDGE, arrowhead='empty', constraint='false')
            producer.update((i, e.index) for i in e.out_ids)
        dot.attr(label=self.title + (f" (first {max_binds} binds)" if len(self.events) > max_binds
                                     else ''), labelloc='t')
        return dot

    def write_html(self, path):
        """A self-contained page (inline SVG, CSS and JS) stepping through the log
        next to the growing graph of binds; its folder is made if missing. Returns the path."""
        write_page(path, self.title, self.events, self.graph(), self.result_text())
        return path


def explain(fn, *args, html=None, quiet=None, file=None):
    """Run `fn(*args)` and record every bind: the primitive, the trace that
    handled it (level, kind), its inputs and outputs. Writes the stepping page to
    `html` if given and returns the Explanation. Prints the indented log to `file`
    (default stdout) unless `quiet`; by default (`quiet=None`) Jupyter and IPython
    display it instead (see Explanation._ipython_display_), `quiet=False` prints there too.

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
    shell = ipython_shell()
    if quiet is None and shell is not None:
        ex._ipython_display_()
    elif not quiet:
        print(ex, file=file or sys.stdout)
        if shell is not None:   # printed: the cell's value need not show it again
            ex.shown_in = shell.execution_count
    if html is not None:
        ex.write_html(html)
    return ex


def ipython_shell():
    """The running IPython shell (Jupyter's kernel is one), or None."""
    ipython = sys.modules.get('IPython')   # imported by any running IPython shell
    return ipython.get_ipython() if ipython is not None else None
