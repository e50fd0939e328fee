"""Draw a function's jaxpr as a Graphviz graph.

    >>> import viz, tinygrad_tracer as tt, tinygrad_tracer.numpy as jnp
    >>> g = viz.graph(tt.grad(lambda x: jnp.sin(x) * 2.0), 1.0)
    >>> 'cos' in g.source
    True

Nodes are values and equations: ellipses for inputs, notes for constants,
one box per equation (primitive name and its parameters), double ellipses for
outputs. An edge carries one variable and is labelled the way the jaxpr
printer declares it (`b:f32[4,3]`), so the picture and `make_jaxpr`'s text use
the same names. Equations are coloured by their tag (primal, tangent,
cotangent, batched; see viz/legend.py). A nested jaxpr (jit, a cond branch, a
loop body, a custom rule) is a dashed cluster, or one node with `expand=False`.
"""
import html
import inspect

import graphviz
import numpy as np

from tinygrad_tracer import jaxpr as jx

from .legend import KINDS, SHAPES, legend_label, role_style
from .batch import batch_dims
from .kernels import kernel_partition


def graph(fn, *args, expand=True, collapse_repeats=True, batch_axis=None, kernels=True,
          legend=True, title=None, rankdir='TB', static_argnums=()):
    """The Graphviz graph of `fn(*args)`'s jaxpr (`fn` may itself be a transformed function).

        viz.graph(tt.grad(f), x)              # primal, tangent and cotangent equations
        viz.graph(tt.vmap(f), xs)             # batched equations; edges say bdim=
        viz.graph(tt.jit(f), x)               # the backend's kernels as clusters
        viz.graph(f, x, expand=False)         # nested jaxprs drawn as one node each

    Options: `expand` draws nested jaxprs as clusters (else one node each);
    `collapse_repeats` draws a nested jaxpr that already appeared as one node
    naming the first copy; `batch_axis` (int) marks that axis of every input as
    the batch axis (vmap graphs find their batch axes themselves); `kernels`
    groups equations by the jit backend's kernels when it reports them; `legend`
    draws the colour key; `title` replaces the default title; `rankdir` is
    Graphviz's direction ('TB' top to bottom, 'LR' left to right).
    `fn` may also be a `Jaxpr` or `ClosedJaxpr` (then pass no arguments).
    The result renders itself in Jupyter; `.source` is the DOT text.
    """
    if isinstance(fn, (jx.Jaxpr, jx.ClosedJaxpr)):
        if args:
            raise TypeError("viz.graph(jaxpr) takes no arguments: the jaxpr already fixes its "
                            f"inputs (got {len(args)}); pass a function to trace it at arguments")
        closed = fn if isinstance(fn, jx.ClosedJaxpr) else jx.ClosedJaxpr(fn, [])
        bdims, partition, arg_names = {}, {}, None
        title = title or 'jaxpr'
    else:
        if not callable(fn):
            raise TypeError(f"viz.graph needs a function (or a jaxpr) to draw, got "
                            f"{type(fn).__name__}; e.g. viz.graph(lambda x: jnp.sin(x), 1.0)")
        closed, bdims = batch_dims(fn, args, static_argnums)
        partition = kernel_partition(fn, args) if kernels else {}
        arg_names = _arg_names(fn, args, static_argnums)
        title = title or f"{jx.fun_name(fn)}({', '.join(a.str_short() for a in closed.in_avals)})"
    if batch_axis is not None:
        bdims.update(_input_bdims(closed.jaxpr, batch_axis))
    drawer = _Drawer(closed.jaxpr, expand, collapse_repeats, bdims, partition, rankdir)
    drawer.top(closed, arg_names)
    return drawer.finish(title, legend)


def sub_jaxprs(params):
    """(label, ClosedJaxpr-or-Jaxpr) for every jaxpr among an equation's params:
    `jaxpr`, `branches[0]`, `body_jaxpr`, ..."""
    subs = []
    for k, v in sorted(params.items()):
        if isinstance(v, (jx.Jaxpr, jx.ClosedJaxpr)):
            subs.append((k, v))
        elif isinstance(v, (list, tuple)):
            subs += [(f"{k}[{i}]", s) for i, s in enumerate(v)
                     if isinstance(s, (jx.Jaxpr, jx.ClosedJaxpr))]
    return subs


def _open(j):
    """(Jaxpr, consts) of a Jaxpr or ClosedJaxpr."""
    return (j.jaxpr, j.consts) if isinstance(j, jx.ClosedJaxpr) else (j, [])


def param_lines(params, width=44):
    """Short `key=value` lines for an equation's non-jaxpr params (None omitted)."""
    lines = []
    for k, v in sorted(params.items()):
        if v is None or sub_jaxprs({k: v}):
            continue
        if isinstance(v, np.dtype) or (isinstance(v, type) and issubclass(v, np.generic)):
            v = np.dtype(v).name
        elif callable(v):
            v = getattr(v, '__name__', type(v).__name__)
        text = f"{k}={v}".replace(', ', ',')
        lines.append(text if len(text) <= width else text[:width - 1] + '…')
    return lines


def _value_text(val, limit=4):
    """A constant's value when it is small enough to read, else ''."""
    arr = np.asarray(val)
    if arr.size > limit:
        return ''
    return np.array2string(arr, precision=4, separator=',') if arr.ndim else str(arr[()])


def _arg_names(fn, args, static_argnums):
    """The argument names of `fn` for the input nodes ('x', 'params[0]', ...), or None
    when its signature cannot name them all (e.g. `*args`)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return None
    static = {i % len(args) for i in ((static_argnums,) if isinstance(static_argnums, int)
                                      else static_argnums)} if args else set()
    return jx.arg_names_of(fn, args, static=static)


def _input_bdims(jaxpr, axis):
    out = {}
    for v in jaxpr.invars:
        if v.aval.ndim:
            out[v] = axis % v.aval.ndim
    return out


# Primitives that call their one jaxpr once on exactly their inputs. Loops also
# hold one jaxpr with matching avals, but run it many times: they get a head node.
CALL_PRIMITIVES = {'jit', 'custom_jvp_call', 'custom_vjp_call'}


def _is_call(eqn, subs):
    if eqn.primitive.name not in CALL_PRIMITIVES or len(subs) != 1:
        return False
    jaxpr = _open(subs[0][1])[0]
    return len(jaxpr.outvars) == len(eqn.out_binders) and len(jaxpr.invars) == len(eqn.inputs) \
        and all((x.aval.shape, x.aval.dtype) == (v.aval.shape, v.aval.dtype)
                for x, v in zip(eqn.inputs, jaxpr.invars))


def layout_attrs(n_nodes):
    """Graph attributes that keep a graph readable as it grows: small graphs are
    not blown up, large ones get a bigger canvas (never shrunk to a thumbnail)
    and tighter spacing."""
    side = round(4 + 1.2 * n_nodes ** 0.5, 1)
    attrs = {'size': f"{side},{side}", 'fontsize': '12', 'nodesep': '0.3', 'ranksep': '0.35'}
    if n_nodes > 60:
        attrs.update(fontsize='10', nodesep='0.2', ranksep='0.25')
    return attrs


class _Drawer:
    """Walks a jaxpr (and the jaxprs nested in it) and emits nodes and edges."""

    def __init__(self, jaxpr, expand, collapse_repeats, bdims, partition, rankdir):
        self.names = jx.name_vars(jaxpr)   # the graph says what make_jaxpr prints
        self.expand, self.collapse_repeats = expand, collapse_repeats
        self.bdims, self.partition = bdims, partition
        self.dot = graphviz.Digraph('jaxpr',
                                    graph_attr={'rankdir': rankdir, 'fontname': 'Helvetica'},
                                    node_attr={'fontname': 'Helvetica', 'fontsize': '11'},
                                    edge_attr={'fontname': 'Helvetica', 'fontsize': '9'})
        self.edges = []       # added to the root last, so no edge pulls a node into a cluster
        self.n_nodes = self.n_ids = 0
        self.roles, self.kinds = set(), set()
        self.seen = {}        # printed text of a nested jaxpr -> label of its first cluster

    # --- nodes and edges ---------------------------------------------------------------
    def new_id(self, prefix):
        self.n_ids += 1
        return f"{prefix}{self.n_ids}"

    def node(self, g, kind, label, role=None, **attrs):
        self.n_nodes += 1
        nid = self.new_id('n')
        if role is not None:
            style = role_style(role)
            self.roles.add(role)
            attrs = {'shape': 'box', 'style': 'rounded,filled', **attrs}
        else:
            style = KINDS[kind]
            self.kinds.add(kind)
            attrs = {'shape': SHAPES[kind], 'style': 'filled', **attrs}
        g.node(nid, label, fillcolor=style.fill, color=style.border, **attrs)
        return nid

    def edge(self, src, dst, var, **attrs):
        # a literal's node already says `2.0:f32[]`, as the printer writes it
        label = f"{self.names[var]}:{var.aval.str_short()}" if isinstance(var, jx.Var) else ''
        if var in self.bdims:
            label += f" bdim={self.bdims[var]}"
        self.edges.append((src, dst, label, attrs))

    def source_of(self, g, x, env):
        """The node producing `x`: its producer, or a fresh constant node for a literal."""
        if isinstance(x, jx.Literal):
            return self.node(g, 'constant', repr(x), fontsize='9',
                             height='0.3', width='0.3', margin='0.05')
        return env[x]

    # --- jaxprs ---------------------------------------------------------------------------
    def top(self, closed, arg_names):
        jaxpr, consts = _open(closed)
        env = {}
        for i, v in enumerate(jaxpr.invars):
            name = arg_names[i] if arg_names else self.names[v]
            env[v] = self.node(self.dot, 'input', f"{name}\n{v.aval.str_short()}")
        self.body(self.dot, jaxpr, consts, env)
        self.outputs(self.dot, jaxpr.outvars, env)

    def outputs(self, g, outvars, env, **attrs):
        single = len(outvars) == 1
        for i, x in enumerate(outvars):
            out = self.node(g, 'output', 'out' if single else f"out[{i}]", peripheries='2', **attrs)
            self.edge(self.source_of(g, x, env), out, x)

    def body(self, g, jaxpr, consts, env):
        """Constants and equations of `jaxpr` into `g`; `env` maps its inputs to nodes."""
        for v, c in zip(jaxpr.constvars, consts):
            text = _value_text(c)
            env[v] = self.node(g, 'constant', f"{self.names[v]}:{v.aval.str_short()}"
                               + (f"\n{text}" if text else ''))
        part = self.partition.get(jaxpr)
        clusters, groups = self.kernel_clusters(part.kernels if part else [])
        for i, eqn in enumerate(jaxpr.eqns):   # a jit backend's steps are numbered
            self.eqn(groups.get(i, g), eqn, env, step=i if part else None)
        for c in clusters:   # a cluster is copied into its parent when added: add it filled
            g.subgraph(c)

    def kernel_clusters(self, kernels):
        """One cluster per (label, eqn indices) and eqn index -> its cluster."""
        style = KINDS['kernel']
        clusters, groups = [], {}
        for label, indices in kernels:
            self.kinds.add('kernel')
            c = graphviz.Digraph(name=self.new_id('cluster_'))
            c.attr(label=label, style='bold,filled', fillcolor=style.fill, color=style.border)
            clusters.append(c)
            groups.update((i, c) for i in indices)
        return clusters, groups

    def eqn(self, g, eqn, env, step=None):
        subs = sub_jaxprs(eqn.params)
        name = eqn.params.get('name')
        head_text = f"{eqn.primitive.name}({name})" if isinstance(name, str) else eqn.primitive.name
        lines = param_lines({k: v for k, v in eqn.params.items() if k != 'name'})
        key = (eqn.primitive.name, tuple(jx.pp_jaxpr(_open(s)[0]) for _, s in subs))
        if subs and self.expand and not (self.collapse_repeats and key in self.seen):
            self.seen[key] = head_text
            return self.cluster(g, eqn, subs, head_text, lines, env)
        if subs:
            n = sum(len(_open(s)[0].eqns) for _, s in subs)
            lines.append(f"same as the first {self.seen[key]}" if key in self.seen and self.expand
                         else f"{len(subs)} jaxpr{'s' * (len(subs) > 1)}, {n} eqns inside")
        label = _eqn_label(head_text, lines, step)
        nid = self.node(g, None, label, role=eqn.tag)
        for x in eqn.inputs:
            self.edge(self.source_of(g, x, env), nid, x)
        for v in eqn.out_binders:
            env[v] = nid

    def cluster(self, g, eqn, subs, head_text, lines, env):
        """A nested jaxpr as a dashed cluster. A call (jit: one jaxpr run once on
        exactly the equation's inputs) is wired straight through; otherwise
        (cond, loops) a head node takes the inputs and each jaxpr is drawn with
        its own parameter and result nodes."""
        style = KINDS['sub-jaxpr']
        self.kinds.add('sub-jaxpr')
        part = self.partition.get(_open(subs[0][1])[0])
        if part:   # the note names the backend that compiled it
            lines = [t for t in lines if not t.startswith('backend=')] + [f"· {part.note}"]
        title = ' '.join([head_text, *lines])
        with g.subgraph(name=self.new_id('cluster_')) as c:
            c.attr(label=title, style='dashed,rounded', color=style.border, fontcolor='#374151')
            if _is_call(eqn, subs):
                inner_jaxpr, consts = _open(subs[0][1])
                inner = {v: self.source_of(g, x, env)
                         for v, x in zip(inner_jaxpr.invars, eqn.inputs)}
                self.body(c, inner_jaxpr, consts, inner)
                for v, x in zip(eqn.out_binders, inner_jaxpr.outvars):
                    env[v] = self.source_of(c, x, inner)
                return
            head = self.node(c, None, _eqn_label(eqn.primitive.name, [], None), role=eqn.tag)
            for x in eqn.inputs:
                self.edge(self.source_of(g, x, env), head, x)
            for label, sub in subs:
                self.sub_cluster(c, head, label, sub)
            for v in eqn.out_binders:
                env[v] = head

    def sub_cluster(self, g, head, label, sub):
        jaxpr, consts = _open(sub)
        with g.subgraph(name=self.new_id('cluster_')) as c:
            c.attr(label=label, style='dotted', color=KINDS['sub-jaxpr'].border,
                   fontcolor='#374151')
            env = {v: self.node(c, 'input', f"{self.names[v]}\n{v.aval.str_short()}",
                                fontsize='9') for v in jaxpr.invars}
            for nid in env.values():
                self.edges.append((head, nid, '', {'style': 'dashed', 'arrowhead': 'none',
                                                   'color': '#9ca3af'}))
            self.body(c, jaxpr, consts, env)
            self.outputs(c, jaxpr.outvars, env, fontsize='9')

    def finish(self, title, with_legend):
        for src, dst, label, attrs in self.edges:
            self.dot.edge(src, dst, label=label, **attrs)
        if with_legend:
            self.dot.node('legend', legend_label(self.roles, self.kinds), shape='plain')
        self.dot.attr(label=title, labelloc='t')
        self.dot.graph_attr.update(layout_attrs(self.n_nodes))
        return self.dot


def _eqn_label(head, lines, step):
    """HTML-like label: bold primitive name, parameters in small type."""
    text = f"<b>{html.escape(head, quote=False)}</b>"
    if step is not None:
        text = f"{step}: {text}"
    if lines:
        small = '<br/>'.join(html.escape(t, quote=False) for t in lines)
        text += f'<br/><font point-size="9">{small}</font>'
    return f"<{text}>"
