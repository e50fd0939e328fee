"""Draw a function's jaxpr as a Graphviz graph.

    >>> import viz, tinygrad_tracer as tt, tinygrad_tracer.numpy as jnp
    >>> g = viz.graph(tt.grad(lambda x: jnp.sin(x) * 2.0), 1.0)
    >>> 'cos' in g.source
    True

Nodes are values and equations: ellipses for inputs (named by their pytree path,
`params[0]['w']`), notes for constants, one box per equation (primitive name and
its parameters), double ellipses for outputs (`out[1]['b']`). An edge carries one
variable and is labelled the way the jaxpr printer declares it (`b:f32[4,3]`), so
the picture and `make_jaxpr`'s text use the same names. Equations are coloured by
their tag (primal, tangent, cotangent, batched; see viz/legend.py); dead ones are
grey, BLAS calls have a double border. A nested jaxpr (jit, a cond branch, a loop
body, a custom rule) is a dashed cluster, or one node with `expand=False`; a
`named_scope` is a solid cluster. The rules for what is dead, what is index
bookkeeping and which cluster an equation joins are in viz/structure.py.
"""
import html
import textwrap
from collections import Counter

import graphviz
import numpy as np

from tinygrad_tracer import jaxpr as jx
from tinygrad_tracer import tree_util

from .legend import KINDS, SHAPES, legend_label, role_style
from .batch import batch_dims
from .kernels import kernel_partition
from .structure import (check_group_by, connected, dead_eqns, group_path, index_eqns,
                        open_jaxpr, sub_jaxprs)

# Type sizes in points. Graphviz draws 1 pt as 1/72 inch, and PNG at 96 dpi, so the
# smallest (10 pt) is 13 px high at the default size: nothing is drawn smaller,
# because the layout never scales the drawing down (no `size` attribute).
FONT = {'title': 16, 'cluster': 13, 'node': 12, 'small': 10, 'edge': 10}
MIN_FONT = min(FONT.values())
VALUE_LIMIT = 8   # values=True writes the numbers of arrays with at most this many elements


def graph(fn, *args, expand=True, collapse_repeats=True, batch_axis=None, kernels=True,
          legend=True, title=None, rankdir='TB', static_argnums=(), group_by='scope',
          collapse_groups=False, fold_indexing=False, hide_dead=False, values=False):
    """The Graphviz graph of `fn(*args)`'s jaxpr (`fn` may itself be a transformed function).

        viz.graph(tt.grad(f), x)              # primal, tangent and cotangent equations
        viz.graph(tt.vmap(f), xs)             # batched equations; edges say bdim=
        viz.graph(tt.jit(f), x)               # the backend's kernels as clusters
        viz.graph(f, x, expand=False)         # nested jaxprs drawn as one node each
        viz.graph(tt.grad(loss), params, x, y, collapse_groups=True, fold_indexing=True)

    Structure: `group_by` draws a cluster per `tt.named_scope` ('scope', the default),
    per Python function that recorded the equations ('function'), or none (None);
    backward work gets clusters of its own. `collapse_groups` draws each outermost
    group as one box. `fold_indexing` draws each connected piece of index
    bookkeeping (integer and mask arithmetic: iota, label normalisation, one-hot) as
    one node. Dead equations (nothing uses them) are grey; `hide_dead` leaves them out.
    `values` runs the jaxpr on `args` and writes each value on its node: its type,
    and its numbers when it has at most 8 elements (`f32[2] = [0.,0.8415]`).

    Other options: `expand` draws nested jaxprs as clusters (else one node each);
    `collapse_repeats` draws a nested jaxpr that already appeared as one node
    naming the first copy; `batch_axis` (int) marks that axis of every input as
    the batch axis (vmap graphs find their batch axes themselves); `kernels`
    groups equations by the jit backend's kernels when it reports them; `legend`
    draws the colour key; `title` replaces the default title; `rankdir` is
    Graphviz's direction ('TB' top to bottom, 'LR' left to right).
    `fn` may also be a `Jaxpr` or `ClosedJaxpr` (then pass no arguments).
    The result renders itself in Jupyter; `.source` is the DOT text.
    """
    check_group_by(group_by)   # before tracing, which may be slow
    if isinstance(fn, (jx.Jaxpr, jx.ClosedJaxpr)):
        if args:
            raise TypeError("viz.graph(jaxpr) takes no arguments: the jaxpr already fixes its "
                            f"inputs (got {len(args)}); pass a function to trace it at arguments")
        if values:
            raise TypeError("viz.graph(jaxpr, values=True) has no arguments to evaluate the "
                            "jaxpr at: pass the function and its arguments instead")
        closed = fn if isinstance(fn, jx.ClosedJaxpr) else jx.ClosedJaxpr(fn, [])
        bdims, partition, in_names, out_names = {}, {}, None, None
        title = title or 'jaxpr'
    else:
        if not callable(fn):
            raise TypeError(f"viz.graph needs a function (or a jaxpr) to draw, got "
                            f"{type(fn).__name__}; e.g. viz.graph(lambda x: jnp.sin(x), 1.0)")
        closed, bdims, out_shape = batch_dims(fn, args, static_argnums)
        partition = kernel_partition(fn, args) if kernels else {}
        static = _static_positions(static_argnums, len(args))
        in_names = input_names(fn, args, static)
        out_names = path_names('out', out_shape)
        title = title or f"{jx.fun_name(fn)}({', '.join(a.str_short() for a in closed.in_avals)})"
    if batch_axis is not None:
        bdims.update(_input_bdims(closed.jaxpr, batch_axis))
    drawer = _Drawer(closed.jaxpr, expand=expand, collapse_repeats=collapse_repeats, bdims=bdims,
                     partition=partition, group_by=group_by, collapse_groups=collapse_groups,
                     fold_indexing=fold_indexing, hide_dead=hide_dead,
                     values=var_values(closed, args, static) if values else {})
    drawer.top(closed, in_names, out_names)
    return drawer.finish(title, legend, rankdir)


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


def value_text(val, limit=VALUE_LIMIT):
    """A value's numbers when it has at most `limit` elements, else ''."""
    arr = np.asarray(val)
    if arr.size > limit:
        return ''
    return np.array2string(arr, precision=4, separator=',') if arr.ndim else str(arr[()])


# --- names and values of the top-level variables --------------------------------------------

def path_names(base, tree):
    """A name per leaf of `tree`, in flattening order: `base` and the leaf's pytree path.

        >>> path_names('params', [{'b': 0, 'w': 1}])
        ["params[0]['b']", "params[0]['w']"]
    """
    return [base + tree_util.keystr(path) for path, _ in tree_util.tree_leaves_with_path(tree)]


def _static_positions(static_argnums, n_args):
    nums = (static_argnums,) if isinstance(static_argnums, int) else static_argnums
    return {i % n_args for i in nums} if n_args else set()


def input_names(fn, args, static):
    """A name per traced leaf of `args`: the parameter's name and the leaf's path
    (`x`, `params[0]['w']`; `args[2]` past the named parameters)."""
    params = jx.positional_params(fn)
    names = []
    for i, arg in enumerate(args):
        if i not in static:
            names += path_names(params[i] if i < len(params) else f"args[{i}]", arg)
    return names


def var_values(closed, args, static):
    """{Var: value} for the constants, inputs and every equation result of the top-level
    jaxpr at `args` (less the `static` positions): the public `eval_jaxpr` of a copy of
    the jaxpr that returns every variable."""
    j = closed.jaxpr
    every = [*j.invars, *(v for e in j.eqns for v in e.out_binders)]
    leaves = tree_util.tree_leaves([a for i, a in enumerate(args) if i not in static])
    vals = jx.eval_jaxpr(jx.Jaxpr(j.constvars, j.invars, every, j.eqns), closed.consts, *leaves)
    return {**dict(zip(j.constvars, closed.consts)), **dict(zip(every, vals))}


def _input_bdims(jaxpr, axis):
    out = {}
    for v in jaxpr.invars:
        if v.aval.ndim:
            out[v] = axis % v.aval.ndim
    return out


# Primitives that call their one jaxpr once on exactly their inputs. Loops also
# hold one jaxpr with matching avals, but run it many times: they get a head node.
CALL_PRIMITIVES = {'jit', 'custom_jvp_call', 'custom_vjp_call', 'remat2'}


def _is_call(eqn, subs):
    if eqn.primitive.name not in CALL_PRIMITIVES or len(subs) != 1:
        return False
    jaxpr = open_jaxpr(subs[0][1])[0]
    return len(jaxpr.outvars) == len(eqn.out_binders) and len(jaxpr.invars) == len(eqn.inputs) \
        and all((x.aval.shape, x.aval.dtype) == (v.aval.shape, v.aval.dtype)
                for x, v in zip(eqn.inputs, jaxpr.invars))


def layout_attrs(n_nodes):
    """Graph attributes for a graph of `n_nodes` nodes. The drawing is never scaled
    down (no `size`): a large graph gets a large canvas, so its labels stay readable
    at the default size, and tighter spacing instead."""
    attrs = {'fontsize': str(FONT['title']), 'nodesep': '0.3', 'ranksep': '0.4'}
    if n_nodes > 60:
        attrs.update(nodesep='0.18', ranksep='0.3')
    return attrs


def _wrapped(head, lines, width=40):
    """A cluster title: the head on its own line, then the parameters wrapped at `width`."""
    return '\n'.join([head, *textwrap.wrap(' '.join(lines), width)])


class _Drawer:
    """Walks a jaxpr (and the jaxprs nested in it) and emits nodes and edges."""

    def __init__(self, jaxpr, *, expand, collapse_repeats, bdims, partition, group_by,
                 collapse_groups, fold_indexing, hide_dead, values):
        self.names = jx.name_vars(jaxpr)   # the graph says what make_jaxpr prints
        self.expand, self.collapse_repeats = expand, collapse_repeats
        self.bdims, self.partition = bdims, partition
        self.group_by, self.collapse_groups = group_by, collapse_groups
        self.fold_indexing, self.hide_dead, self.values = fold_indexing, hide_dead, values
        font = {'fontname': 'Helvetica'}
        self.dot = graphviz.Digraph('jaxpr', graph_attr=font,
                                    node_attr={**font, 'fontsize': str(FONT['node'])},
                                    edge_attr={**font, 'fontsize': str(FONT['edge'])})
        self.edges = []       # added to the root last, so no edge pulls a node into a cluster
        self.n_nodes = self.n_ids = 0
        self.roles, self.kinds = set(), set()
        self.seen = {}        # printed text of a nested jaxpr -> label of its first cluster
        self.folded_reads = set()   # (folded node, variable) pairs already wired

    # --- nodes and edges ---------------------------------------------------------------
    def new_id(self, prefix):
        self.n_ids += 1
        return f"{prefix}{self.n_ids}"

    def node(self, g, kind, label, role=None, dead=False, blas=False, **attrs):
        """A node of `kind` (a legend.KINDS key) or, with `role`, an equation box in the
        role's colour; a dead one is grey and dashed, a BLAS call has a double border."""
        self.n_nodes += 1
        nid = self.new_id('n')
        shape, fill = ('box', 'rounded,filled') if role is not None else (SHAPES[kind], 'filled')
        if role is not None:
            role_style(role)   # an unknown tag fails, even on a dead equation
        if dead:   # grey replaces the role's colour (and its legend row)
            kind, role, fill = 'dead', None, fill + ',dashed'
            attrs['fontcolor'] = '#6b7280'
        style = role_style(role) if role is not None else KINDS[kind]
        (self.roles if role is not None else self.kinds).add(role or kind)
        if blas:
            self.kinds.add('BLAS')
            attrs.update(peripheries='2', penwidth='2')
            style = style._replace(border=KINDS['BLAS'].border)
        g.node(nid, label, shape=shape, style=fill, fillcolor=style.fill, color=style.border,
               **attrs)
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
            return self.node(g, 'constant', repr(x), fontsize=str(FONT['small']),
                             height='0.3', width='0.3', margin='0.05')
        return env[x]

    def value_line(self, v):
        """'f32[2] = [1.,2.]' for a small value, its type 'f32[8,100]' for a large one;
        '' when values were not asked for (or `v` was not evaluated: in a nested jaxpr)."""
        if v not in self.values:
            return ''
        text = value_text(self.values[v])
        return f"{v.aval.str_short()} = {text}" if text else v.aval.str_short()

    # --- jaxprs ---------------------------------------------------------------------------
    def top(self, closed, in_names, out_names):
        jaxpr, consts = open_jaxpr(closed)
        env = {}
        for i, v in enumerate(jaxpr.invars):
            name = in_names[i] if in_names else self.names[v]
            value = value_text(self.values[v]) if v in self.values else ''
            env[v] = self.node(self.dot, 'input', '\n'.join(
                t for t in (name, v.aval.str_short(), value) if t))
        self.body(self.dot, jaxpr, consts, env)
        self.outputs(self.dot, jaxpr.outvars, env, out_names)

    def outputs(self, g, outvars, env, names=None, **attrs):
        single = len(outvars) == 1
        for i, x in enumerate(outvars):
            name = names[i] if names else ('out' if single else f"out[{i}]")
            value = value_text(self.values[x]) if x in self.values else ''
            out = self.node(g, 'output', f"{name}\n{value}" if value else name,
                            peripheries='2', **attrs)
            self.edge(self.source_of(g, x, env), out, x)

    def body(self, g, jaxpr, consts, env):
        """Constants and equations of `jaxpr` into `g`; `env` maps its inputs to nodes."""
        for v, c in zip(jaxpr.constvars, consts):
            text = value_text(c, limit=4)
            env[v] = self.node(g, 'constant', f"{self.names[v]}:{v.aval.str_short()}"
                               + (f"\n{text}" if text else ''))
        dead = dead_eqns(jaxpr)
        part = self.partition.get(jaxpr)
        if part and part.kernels:   # a compiling jit backend's kernels; nothing is folded
            clusters, where = self.kernel_clusters(part.kernels)
            merged = {}
        else:
            clusters, where, merged = self.scope_clusters(jaxpr, dead)
        folded = {}   # merge key -> its node
        for i, eqn in enumerate(jaxpr.eqns):
            if i in dead and self.hide_dead:
                continue
            if i in merged:
                self.merged(where.get(i, g), jaxpr, merged, i, folded, env, dead)
            else:
                # a jit backend runs the equations in order: number them
                self.eqn(where.get(i, g), eqn, env, step=i if part else None, dead=i in dead)
        for c in clusters:   # a cluster is copied into its parent when added: add it filled
            g.subgraph(c)

    def kernel_clusters(self, kernels):
        """One cluster per (label, eqn indices) and eqn index -> its cluster."""
        style = KINDS['kernel']
        clusters, where = [], {}
        for label, indices in kernels:
            self.kinds.add('kernel')
            c = graphviz.Digraph(name=self.new_id('cluster_'))
            c.attr(label=label, style='bold,filled', fillcolor=style.fill, color=style.border,
                   fontsize=str(FONT['cluster']))
            clusters.append(c)
            where.update((i, c) for i in indices)
        return clusters, where

    def scope_clusters(self, jaxpr, dead):
        """([outermost clusters], {eqn index: its innermost cluster}, {eqn index: merge
        key}): nested clusters per group path; with collapse_groups an outermost group,
        and with fold_indexing a connected piece of index bookkeeping, is one node
        (drawn in the cluster of its first equation)."""
        hidden = dead if self.hide_dead else set()
        paths = {i: group_path(e, self.group_by) for i, e in enumerate(jaxpr.eqns) if i not in hidden}
        merged = {}
        if self.collapse_groups:
            merged = {i: ('group', p[0]) for i, p in paths.items() if p}
        if self.fold_indexing:
            index = index_eqns(jaxpr) - set(merged) - hidden
            merged.update((i, ('index', c)) for i, c in connected(jaxpr, index).items())
        style = KINDS['scope']
        made, where = {}, {}   # path -> cluster

        def cluster(path):
            if path not in made:
                made[path] = graphviz.Digraph(name=self.new_id('cluster_'))
                # nohtml: a name like `<lambda>()  <string>` is text, not an HTML label
                made[path].attr(label=graphviz.nohtml(path[-1]), style='rounded,filled',
                                fillcolor=style.fill, color=style.border, penwidth='1.5',
                                fontcolor='#334155', labeljust='l', fontsize=str(FONT['cluster']))
                self.kinds.add('scope')
                if len(path) > 1:
                    cluster(path[:-1])
            return made[path]
        for i, path in paths.items():
            if path and merged.get(i, ('index',))[0] == 'index':
                where[i] = cluster(path)
        for path in sorted(made, key=len, reverse=True):   # fill the innermost first
            if len(path) > 1:
                made[path[:-1]].subgraph(made[path])
        return [c for p, c in made.items() if len(p) == 1], where, merged

    def merged(self, g, jaxpr, merged, i, folded, env, dead):
        """Equation `i` as part of the one node of its merge key (made at its first member)."""
        key = merged[i]
        if key not in folded:
            members = [j for j, k in merged.items() if k == key]
            eqns = [jaxpr.eqns[j] for j in members]
            prims = Counter(e.primitive.name for e in eqns)
            head = key[1] if key[0] == 'group' else 'index bookkeeping'
            what = ', '.join(f"{p}×{n}" if n > 1 else p for p, n in prims.items())
            label = _eqn_label(head, [f"{len(eqns)} eqn{'s' * (len(eqns) > 1)}:",
                                      *textwrap.wrap(what, 36)], None)
            all_dead = all(j in dead for j in members)
            if key[0] == 'group':
                role = Counter(e.tag for e in eqns).most_common(1)[0][0]
                folded[key] = self.node(g, None, label, role=role, dead=all_dead,
                                        blas='dot_general' in prims)
            else:
                folded[key] = self.node(g, 'index', label, dead=all_dead)
        nid = folded[key]
        eqn = jaxpr.eqns[i]
        for x in eqn.inputs:   # one edge per variable from outside; literals are not drawn
            if isinstance(x, jx.Var) and env[x] != nid and (nid, x) not in self.folded_reads:
                self.folded_reads.add((nid, x))
                self.edge(env[x], nid, x)
        for v in eqn.out_binders:
            env[v] = nid

    def eqn(self, g, eqn, env, step=None, dead=False):
        subs = sub_jaxprs(eqn.params)
        name = eqn.params.get('name')
        head_text = f"{eqn.primitive.name}({name})" if isinstance(name, str) else eqn.primitive.name
        lines = param_lines({k: v for k, v in eqn.params.items() if k != 'name'})
        key = (eqn.primitive.name, tuple(jx.pp_jaxpr(open_jaxpr(s)[0]) for _, s in subs))
        if subs and self.expand and not (self.collapse_repeats and key in self.seen):
            self.seen[key] = head_text
            return self.cluster(g, eqn, subs, head_text, lines, env)
        if subs:
            n = sum(len(open_jaxpr(s)[0].eqns) for _, s in subs)
            lines.append(f"same as the first {self.seen[key]}" if key in self.seen and self.expand
                         else f"{len(subs)} jaxpr{'s' * (len(subs) > 1)}, {n} eqns inside")
        lines += [t for t in map(self.value_line, eqn.out_binders) if t]
        label = _eqn_label(head_text, lines, step)
        nid = self.node(g, None, label, role=eqn.tag, dead=dead,
                        blas=eqn.primitive.name == 'dot_general')
        for x in eqn.inputs:
            self.edge(self.source_of(g, x, env), nid, x)
        for v in eqn.out_binders:
            env[v] = nid

    def cluster(self, g, eqn, subs, head_text, lines, env):
        """A nested jaxpr as a dashed cluster. A call (jit: one jaxpr run once on
        exactly the equation's inputs) is wired straight through; otherwise
        (cond, loops) a head node takes the inputs and each jaxpr is drawn with
        its own parameter and result nodes. Titles go at the bottom left, away from
        the edges that enter at the top."""
        style = KINDS['sub-jaxpr']
        self.kinds.add('sub-jaxpr')
        part = self.partition.get(open_jaxpr(subs[0][1])[0])
        if part:   # the note names the backend that compiled it
            lines = [t for t in lines if not t.startswith('backend=')] + [f"· {part.note}"]
        with g.subgraph(name=self.new_id('cluster_')) as c:
            c.attr(label=_wrapped(head_text, lines), style='dashed,rounded', color=style.border,
                   fontcolor='#374151', labelloc='b', labeljust='l',
                   fontsize=str(FONT['cluster']))
            if _is_call(eqn, subs):
                inner_jaxpr, consts = open_jaxpr(subs[0][1])
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
        jaxpr, consts = open_jaxpr(sub)
        with g.subgraph(name=self.new_id('cluster_')) as c:
            c.attr(label=label, style='dotted', color=KINDS['sub-jaxpr'].border,
                   fontcolor='#374151', labelloc='b', fontsize=str(FONT['small']))
            env = {v: self.node(c, 'input', f"{self.names[v]}\n{v.aval.str_short()}",
                                fontsize=str(FONT['small'])) for v in jaxpr.invars}
            for nid in env.values():
                self.edges.append((head, nid, '', {'style': 'dashed', 'arrowhead': 'none',
                                                   'color': '#9ca3af'}))
            self.body(c, jaxpr, consts, env)
            self.outputs(c, jaxpr.outvars, env, fontsize=str(FONT['small']))

    def finish(self, title, with_legend, rankdir):
        for src, dst, label, attrs in self.edges:
            self.dot.edge(src, dst, label=label, **attrs)
        if with_legend:
            self.dot.node('legend', legend_label(self.roles, self.kinds), shape='plain')
        self.dot.attr(label=title, labelloc='t')
        self.dot.graph_attr.update(rankdir=rankdir, **layout_attrs(self.n_nodes))
        return self.dot


def _eqn_label(head, lines, step):
    """HTML-like label: bold primitive name, parameters in small type."""
    text = f"<b>{html.escape(head, quote=False)}</b>"
    if step is not None:
        text = f"{step}: {text}"
    if lines:
        small = '<br/>'.join(html.escape(t, quote=False) for t in lines)
        text += f'<br/><font point-size="{FONT["small"]}">{small}</font>'
    return f"<{text}>"
