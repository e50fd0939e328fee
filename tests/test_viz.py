"""viz: graphs of jaxprs (DOT source, SVG), the trace explainer, its HTML page, the CLI."""
import html.parser
import json
import os
import re
import shutil
import struct
import subprocess
import sys

import numpy as np
import pytest

import tinygrad_tracer as tt
import tinygrad_tracer.numpy as jnp
from tinygrad_tracer import lax
from tinygrad_tracer.jaxpr import make_jaxpr

import viz
from viz import legend
from viz.graph import layout_attrs, param_lines

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def dot_installed():
    """Rendering needs Graphviz's `dot` program (CI installs it): without it these tests
    fail, saying how to install it, instead of skipping."""
    if shutil.which('dot') is None:
        pytest.fail("Graphviz's `dot` program is not on PATH: install Graphviz "
                    "(apt-get install graphviz, brew install graphviz, or "
                    "conda install -c conda-forge graphviz) to run the rendering tests.")

X = np.arange(12, dtype=np.float32).reshape(4, 3) / 10
W = np.ones((3, 2), np.float32)


def fill(role):
    return f'fillcolor="{legend.ROLES[role].fill}"'


def node_labels(dot):
    """{node id: label} of a DOT source."""
    found = re.findall(r'^\s*(n\d+) \[label=(.*?) (?:color|fillcolor)=', dot.source, re.M | re.S)
    return dict(found)


def edge_labels(dot):
    return re.findall(r'-> n\d+ \[label="([^"]*)"', dot.source)


def clusters(dot):
    """Labels of the clusters, in order."""
    found = re.findall(r'subgraph cluster_\d+ \{\s*[^\n]*?label=(?:"([^"]*)"|(\S+))', dot.source)
    return [quoted or bare for quoted, bare in found]


# --- plain functions -----------------------------------------------------------------------

def test_graph_of_plain_function_has_inputs_equations_outputs_and_aval_edges():
    g = viz.graph(lambda x, w: jnp.tanh(x @ w).sum(), X, W)
    labels = node_labels(g)
    assert '"x\nf32[4,3]"' in labels.values() and '"w\nf32[3,2]"' in labels.values()
    for prim in ('dot_general', 'tanh', 'reduce_sum'):
        assert f'<b>{prim}</b>' in g.source
    assert 'axes=(0,1)' in g.source                        # params, short
    assert edge_labels(g) == ['a:f32[4,3]', 'b:f32[3,2]', 'c:f32[4,2]', 'd:f32[4,2]', 'e:f32[]']
    assert 'n6 [label=out' in g.source and 'peripheries=2' in g.source
    assert g.source.count(fill('primal')) == 3            # one per equation, no other role
    assert legend.ROLES['tangent'].fill not in g.source   # ...also not in the legend


def test_edge_names_are_the_printed_jaxpr_names():
    f = lambda x: jnp.cos(jnp.sin(x) * 3.0) + x
    text = str(make_jaxpr(f)(X))
    decls = set(re.findall(r'[a-z]+:f32\[[\d,]*\]', text))
    named = [e for e in edge_labels(viz.graph(f, X)) if ':' in e]
    assert named and set(named) <= decls


def test_constants_and_literals_are_nodes_with_their_values():
    c = np.array([1.0, 2.0, 3.0], np.float32)
    g = viz.graph(lambda x: (x * c).sum() * 2.0, X)
    assert '"a:f32[3]\n[1.,2.,3.]"' in node_labels(g).values()
    assert 'label="2.0:f32[]"' in g.source and 'shape=note' in g.source   # as printed
    assert '' in edge_labels(g)                           # ...so its edge needs no label


def test_param_lines_are_short_and_skip_none_and_jaxprs():
    closed = make_jaxpr(jnp.sin)(1.0)
    lines = param_lines({'axes': (0, 1), 'strides': None, 'dtype': np.dtype('float32'),
                         'jaxpr': closed, 'long': tuple(range(40))})
    assert lines[0] == 'axes=(0,1)' and lines[1] == 'dtype=float32'
    assert lines[2].startswith('long=(0,1,2') and lines[2].endswith('…') and len(lines[2]) == 44
    assert len(lines) == 3


def test_graph_of_a_jaxpr_and_bad_input_errors():
    closed = make_jaxpr(lambda x: jnp.exp(x) * 2.0)(1.0)
    g = viz.graph(closed)
    assert '<b>exp</b>' in g.source and 'label=jaxpr' in g.source
    with pytest.raises(TypeError, match=r'takes no arguments.*got 1'):
        viz.graph(closed, 1.0)
    with pytest.raises(TypeError, match=r'needs a function \(or a jaxpr\).*got int'):
        viz.graph(3, 1.0)


def test_unknown_tag_names_the_known_ones():
    with pytest.raises(ValueError, match="unknown equation tag 'sideways'.*primal, tangent"):
        legend.role_style('sideways')


def test_large_graphs_are_spaced_tighter_never_scaled_down():
    small, large = layout_attrs(5), layout_attrs(400)
    assert float(large['nodesep']) < float(small['nodesep'])
    assert float(large['ranksep']) < float(small['ranksep'])
    assert 'size' not in small and 'size' not in large
    g = viz.graph(lambda x: sum(jnp.sin(x + i) for i in range(40)), 1.0)
    n_nodes = len(re.findall(r'^\s*n\d+ \[', g.source, re.M))
    assert n_nodes > 100 and f'nodesep={large["nodesep"]}' in g.source
    assert not re.search(r'[^a-z]size=', g.source)


def test_legend_lists_the_roles_used_and_matches_docs():
    g = viz.graph(lambda x: jnp.sin(x), 1.0)
    assert 'legend [label=<' in g.source and '>primal<' in g.source and '>batched<' not in g.source
    assert 'legend' not in viz.graph(lambda x: jnp.sin(x), 1.0, legend=False).source
    with open(os.path.join(ROOT, 'docs', 'viz.md'), encoding='utf-8') as f:
        docs = f.read()
    assert legend.markdown_table() in docs   # docs/viz.md shows exactly the legend's rows
    assert set(legend.ROLES) == {'primal', 'tangent', 'cotangent', 'batched'}


# --- transformed functions ---------------------------------------------------------------------

def equation_fills(dot):
    """[(primitive, fill colour)] of the equation nodes, in the order they are drawn."""
    return re.findall(r'^\s*n\d+ \[label=<(?:\d+: )?<b>([\w-]+)</b>.*?fillcolor="([^"]+)"', dot.source, re.M)


def test_grad_graph_colours_tangent_and_cotangent_equations():
    f = tt.grad(lambda x: jnp.sin(x) * 2.0)
    g = viz.graph(f, 1.0)
    # each equation in the colour of its role: cos(x) is the tangent work that linearize
    # kept (the derivative of sin), the backward pass's muls are cotangent work; the
    # primal value sin(x) * 2 is not an output of grad, so it is dead: grey
    dead = legend.KINDS['dead'].fill
    assert equation_fills(g) == [('sin', dead), ('cos', legend.ROLES['tangent'].fill),
                                 ('mul', dead), ('mul', legend.ROLES['cotangent'].fill),
                                 ('mul', legend.ROLES['cotangent'].fill)]
    assert [e.tag for e in make_jaxpr(f)(1.0).eqns] == ['primal', 'tangent', 'primal', 'cotangent', 'cotangent']
    assert '>dead<' in g.source and '>tangent<' in g.source and '>cotangent<' in g.source   # legend rows
    assert '>primal<' not in g.source                     # no live primal equation: no row
    assert 'out' in g.source and 'f32[]' in ' '.join(edge_labels(g))


def test_jvp_graph_colours_tangent_equations():
    g = viz.graph(lambda x, t: tt.jvp(lambda x: jnp.sin(x) * 3.0, (x,), (t,)), 1.0, 1.0)
    assert equation_fills(g) == [('sin', legend.ROLES['primal'].fill), ('cos', legend.ROLES['tangent'].fill),
                                 ('mul', legend.ROLES['tangent'].fill), ('mul', legend.ROLES['primal'].fill),
                                 ('mul', legend.ROLES['tangent'].fill)]
    assert '>tangent<' in g.source and '>cotangent<' not in g.source


def test_vmap_graph_marks_batched_equations_and_batch_axes():
    g = viz.graph(tt.vmap(lambda x, w: jnp.tanh(x @ w).sum(0), in_axes=(1, None)),
                  np.ones((4, 5, 3), np.float32), W)
    assert fill('batched') in g.source and '>batched<' in g.source
    labels = edge_labels(g)
    assert 'a:f32[4,5,3] bdim=1' in labels                # the input, batched along axis 1
    assert any(e.endswith('bdim=0') for e in labels)       # the rules moved it to the front
    assert 'b:f32[3,2]' in labels                          # w is not batched: no bdim


def test_batch_axis_option_marks_the_inputs():
    g = viz.graph(lambda xs: jnp.sin(xs), np.ones((5, 3), np.float32), batch_axis=-1)
    assert 'a:f32[5,3] bdim=1' in edge_labels(g)


def test_jit_graph_is_a_cluster_with_the_backends_steps():
    g = viz.graph(tt.jit(lambda x: jnp.tanh(jnp.sin(x) * 2.0).sum()), X)
    (title, *kernels) = clusters(g)
    assert title.startswith('jit(<lambda>)')
    exe = tt.jit(lambda x: x).lower(X).compile()
    if hasattr(exe, 'kernels'):                           # a compiling backend: kernel clusters
        assert 'kernel' in title and kernels and kernels[0].startswith('kernel 0: ')
        assert re.search(r'kernel 0: (\d+ ops fused|1 op)', g.source)
    else:                                                 # the interpreter: one op per step
        assert title.endswith('interpret: one op per step') and not kernels
        assert '0: <b>sin</b>' in g.source and '3: <b>tanh</b>' in g.source
    assert 'a:f32[4,3]' in edge_labels(g)


class _KernelBackend:
    """A jitted function whose backend reports kernels, as the Numba backend does:
    `lower(x).compile().kernels`, each with `.name`, `.eqn_indices`, `.source`."""
    class Kernel:
        def __init__(self, name, eqn_indices):
            self.name, self.eqn_indices, self.source = name, eqn_indices, f"def {name}(): pass"

    def __init__(self, fn, groups):
        self.jitted, self.groups, self.__name__ = tt.jit(fn), groups, 'f'

    def __call__(self, *args):
        return self.jitted(*args)

    def lower(self, *args):
        lowered = self.jitted.lower(*args)
        kernels = [self.Kernel(f"f_kernel{i}", g) for i, g in enumerate(self.groups)]
        exe = type('Executable', (), {'kernels': kernels})()
        return type('Lowered', (), {'jaxpr': lowered.jaxpr, 'backend': 'numba',
                                    'compile': lambda self: exe})()


def test_kernels_reported_by_the_backend_become_clusters():
    fn = lambda x: jnp.tanh(jnp.sin(x) * 2.0).sum()
    prims = [e.primitive.name for e in make_jaxpr(fn)(X).eqns]   # sin ... tanh, reduce_sum
    last = len(prims) - 1
    f = _KernelBackend(fn, [list(range(last)), [last]])
    g = viz.graph(f, X)
    names = clusters(g)
    assert names[0] == 'jit(<lambda>)\n· numba: 2 kernels'
    assert names[1:] == [f'kernel 0: {last} ops fused\nf_kernel0', 'kernel 1: 1 op\nf_kernel1']
    kernel0 = g.source[g.source.index('kernel 0:'):g.source.index('kernel 1:')]
    assert '0: <b>sin</b>' in kernel0 and f'{last - 1}: <b>tanh</b>' in kernel0
    reduce = f'{last}: <b>reduce_sum</b>'
    assert reduce not in kernel0 and reduce in g.source
    assert f'fillcolor="{legend.KINDS["kernel"].fill}"' in g.source and '>kernel<' in g.source
    assert 'cluster' not in viz.graph(f, X, expand=False).source
    assert 'kernel 0' not in viz.graph(f, X, kernels=False).source


def test_numba_backend_kernels_are_drawn():
    def f(x, w):
        return jnp.tanh(x @ w + 1.0).sum(axis=1) * 2.0
    jitted = tt.jit(f, backend='numba')
    kernels = jitted.lower(X, W).compile().kernels
    g = viz.graph(jitted, X, W)
    names = clusters(g)
    assert names[0].endswith(f"numba: {len(kernels)} kernel{'s' * (len(kernels) > 1)}")
    for i, k in enumerate(kernels):
        n = len(k.eqn_indices)
        assert f"kernel {i}: {f'{n} ops fused' if n > 1 else '1 op'}\n{k.name}" in names
    assert '<b>dot_general</b>' in g.source and '<b>tanh</b>' in g.source


def test_jit_cluster_collapses_and_repeats_are_drawn_once():
    inner = tt.jit(lambda x: jnp.sin(x) * 2.0)
    f = lambda x: inner(inner(x))
    g = viz.graph(f, 1.0, kernels=False)
    assert len(clusters(g)) == 1 and 'same as the first jit(&lt;lambda&gt;)' in g.source
    g = viz.graph(f, 1.0, collapse_repeats=False)
    assert len(clusters(g)) == 2
    g = viz.graph(f, 1.0, expand=False)
    assert 'cluster' not in g.source and g.source.count('1 jaxpr, 2 eqns inside') == 2


def test_cond_branches_are_sub_clusters():
    f = lambda p, x: lax.cond(p, lambda y: jnp.sin(y), lambda y: jnp.cos(y) * 2.0, x)
    g = viz.graph(f, True, X)
    names = clusters(g)
    assert any(n.startswith('cond') for n in names)
    assert sum('branches[' in n for n in names) == 2
    assert '<b>sin</b>' in g.source and '<b>cos</b>' in g.source
    assert 'style=dashed' in g.source                      # head -> branch parameters
    assert 'cluster' not in viz.graph(f, True, X, expand=False).source


def test_loop_body_runs_many_times_so_it_gets_a_head_node_not_wires():
    f = lambda x: lax.fori_loop(0, 3, lambda i, v: v * 2.0, x)
    g = viz.graph(f, 1.0)
    (title, body) = clusters(g)
    assert title.startswith('scan')   # fori_loop with static bounds is a scan
    head = re.search(r'(n\d+) \[label=<<b>scan</b>>', g.source).group(1)
    # the loop's inputs go to the head node only; the body has its own parameter nodes
    assert re.search(rf'n1 -> {head} \[label="a:f32\[\]"\]', g.source)
    assert len(re.findall(rf'{head} -> n\d+ \[label="" arrowhead=none', g.source)) >= 2


def test_custom_rule_is_a_call_cluster_named_after_its_rule():
    @tt.custom_jvp
    def log1pexp(x):
        return jnp.log(1.0 + jnp.exp(x))

    @log1pexp.defjvp
    def log1pexp_jvp(primals, tangents):
        (x,), (x_dot,) = primals, tangents
        return log1pexp(x), x_dot / (1.0 + jnp.exp(-x))
    g = viz.graph(lambda x: log1pexp(x) * 2.0, 1.0)
    assert clusters(g) == ['custom_jvp_call(log1pexp)\njvp=log1pexp_jvp num_consts=0']
    assert 'n1 -> n3 [label="c:f32[]"]' in g.source        # wired straight into exp
    assert '<b>exp</b>' in g.source and '<b>log</b>' in g.source


def test_nested_transforms_vmap_of_grad():
    f = lambda x: jnp.sin(x) * x
    g = viz.graph(tt.vmap(tt.grad(f)), np.ones(5, np.float32))
    assert '<b>cos</b>' in g.source and fill('cotangent') in g.source
    assert any('bdim=0' in e for e in edge_labels(g))
    assert str(make_jaxpr(tt.vmap(tt.grad(f)))(np.ones(5, np.float32))).count('cos') == \
        g.source.count('<b>cos</b>')


def test_nested_transforms_grad_of_jit_keeps_jit_clusters():
    g = viz.graph(tt.grad(tt.jit(lambda x: jnp.sin(x) * 2.0)), 1.0)
    assert any(n.startswith('jit') for n in clusters(g))
    assert '<b>cos</b>' in g.source


# --- structure: the gradient of the digits MLP ---------------------------------------------
# The network of lessons/09 and seed 000 (64-100-100-10, SELU, softmax cross-entropy with
# integer labels), written with plain pytree params and a named_scope per layer.

def _mlp_params():
    rng = np.random.default_rng(0)
    sizes = [64, 100, 100, 10]
    return [{'w': (rng.normal(size=(m, n)) / np.sqrt(m)).astype(np.float32),
             'b': np.zeros(n, np.float32)} for m, n in zip(sizes[:-1], sizes[1:])]


MLP_PARAMS = _mlp_params()
MLP_X = np.random.default_rng(1).normal(size=(8, 64)).astype(np.float32)
MLP_Y = np.array([2, 1, 5, 5, 9, 5, 9, 8], np.int32)


def predict(params, x):
    for i, layer in enumerate(params[:-1]):
        with tt.named_scope(f'layer{i}'):
            x = tt.nn.selu(x @ layer['w'] + layer['b'])
    with tt.named_scope('head'):
        return x @ params[-1]['w'] + params[-1]['b']


def loss(params, x, y):
    logits = predict(params, x)
    with tt.named_scope('loss'):
        return tt.optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()


MLP_ARGS = (MLP_PARAMS, MLP_X, MLP_Y)


@pytest.fixture(scope='module')
def mlp_jaxpr():
    return make_jaxpr(tt.grad(loss))(*MLP_ARGS)


@pytest.fixture(scope='module')
def mlp_graph():
    return viz.graph(tt.grad(loss), *MLP_ARGS)


def cluster_text(dot, label):
    """The DOT text of the cluster titled `label` (up to the next cluster)."""
    start = re.search(rf'label=(?:"{re.escape(label)}"|{re.escape(label)}\b)', dot.source).start()
    end = dot.source.find('subgraph cluster_', start)
    return dot.source[start:end if end > 0 else None]


def eqn_nodes(dot):
    return re.findall(r'^\s*n\d+ \[label=<(?:\d+: )?<b>[^<]+</b>.*$', dot.source, re.M)


def test_named_scope_and_the_users_line_are_recorded_on_each_equation(mlp_jaxpr):
    infos = [e.source_info for e in mlp_jaxpr.eqns]
    assert all(i is not None for i in infos)
    by_scope = {}
    for e in mlp_jaxpr.eqns:
        by_scope.setdefault((e.source_info.name_stack, e.tag), []).append(e.primitive.name)
    assert by_scope[(('layer0',), 'primal')][0] == 'dot_general'
    assert 'expm1' in by_scope[(('layer1',), 'primal')]
    assert 'gather' in by_scope[(('loss',), 'primal')]
    # the backward pass runs long after the scopes closed: each transposed equation
    # keeps the scope of the equation it is the transpose of
    assert by_scope[(('layer0',), 'cotangent')].count('dot_general') == 1
    assert by_scope[(('head',), 'cotangent')].count('dot_general') == 2
    assert 'scatter-add' in by_scope[(('loss',), 'cotangent')]
    first = infos[0]   # the innermost frame outside tinygrad_tracer: `x @ layer['w']`
    assert (os.path.basename(first.file), first.function) == ('test_viz.py', 'predict')
    src = open(first.file).read().splitlines()[first.line - 1]
    assert "x @ layer['w']" in src


def test_named_scopes_nest_and_check_their_name():
    def f(x):
        with tt.named_scope('outer'):
            y = jnp.sin(x)
            with tt.named_scope('inner'):
                y = y * 2.0
        return jnp.cos(y)
    eqns = make_jaxpr(f)(1.0).eqns
    assert [e.source_info.name_stack for e in eqns] == [('outer',), ('outer', 'inner'), ()]

    @tt.named_scope('block')   # as a decorator, and reentered by recursion
    def g(x, depth):
        return jnp.sin(x) if depth == 0 else g(x, depth - 1) * 2.0
    eqns = make_jaxpr(lambda x: g(x, 1))(1.0).eqns
    assert [e.source_info.name_stack for e in eqns] == [('block', 'block'), ('block',)]
    with pytest.raises(TypeError, match=r"named_scope needs a non-empty string name, got 3"):
        tt.named_scope(3)


def test_named_scopes_are_recorded_as_jax_records_them(real_jax):
    def scoped(named_scope, np_):
        def f(x):
            with named_scope('outer'):
                y = np_.sin(x)
                with named_scope('inner'):
                    y = y * 2.0
            return np_.cos(y)
        return f
    ours = [(e.primitive.name, '/'.join(e.source_info.name_stack))
            for e in make_jaxpr(scoped(tt.named_scope, jnp))(1.0).eqns]
    theirs = [(e.primitive.name, str(e.source_info.name_stack))
              for e in real_jax.make_jaxpr(scoped(real_jax.named_scope, real_jax.numpy))(1.0).eqns]
    assert ours == theirs == [('sin', 'outer'), ('mul', 'outer/inner'), ('cos', '')]


def test_printer_does_not_print_source_info():
    def scoped(x):
        with tt.named_scope('layer0'):
            return jnp.sin(x) * 2.0
    text = str(make_jaxpr(scoped)(1.0))
    assert text == str(make_jaxpr(lambda x: jnp.sin(x) * 2.0)(1.0))
    assert 'layer0' not in text and 'test_viz' not in text


def test_eager_path_records_no_source_info(monkeypatch):
    """Eager ops (and eager grad / vmap, which build no jaxpr below them) never walk the
    stack for a source location: no SourceInfo is made. make_jaxpr makes them."""
    from tinygrad_tracer import jaxpr as jx
    made = []

    class Counting(jx.SourceInfo):
        def __new__(cls, *fields):
            made.append(fields)
            return super().__new__(cls, *fields)
    monkeypatch.setattr(jx, 'SourceInfo', Counting)
    jnp.sin(X) @ W
    tt.grad(loss)(*MLP_ARGS)
    tt.vmap(lambda r: jnp.tanh(r).sum())(X)
    with tt.named_scope('eager'):
        jnp.cos(X)
    assert made == []
    make_jaxpr(lambda x: jnp.sin(x))(1.0)   # the counter does count
    assert len(made) == 1


def test_dead_equations_are_those_nothing_needs():
    from viz.structure import dead_eqns
    # exp reads cos and nothing reads exp: both are dead (the printer names only exp `_`)
    closed = make_jaxpr(lambda x: (jnp.exp(jnp.cos(x)), jnp.sin(x))[1])(1.0)
    assert [e.primitive.name for e in closed.eqns] == ['cos', 'exp', 'sin']
    assert dead_eqns(closed.jaxpr) == {0, 1}
    g = viz.graph(lambda x: (jnp.exp(jnp.cos(x)), jnp.sin(x))[1], 1.0)
    dead = legend.KINDS['dead'].fill
    assert equation_fills(g) == [('cos', dead), ('exp', dead), ('sin', legend.ROLES['primal'].fill)]
    assert 'style="rounded,filled,dashed"' in g.source and '>dead<' in g.source


def test_digits_mlp_inputs_and_outputs_are_named_by_pytree_path(mlp_graph):
    labels = set(node_labels(mlp_graph).values())
    for i, (m, n) in enumerate([(64, 100), (100, 100), (100, 10)]):
        assert f'"params[{i}][\'w\']\nf32[{m},{n}]"' in labels
        assert f'"params[{i}][\'b\']\nf32[{n}]"' in labels
        assert f'"out[{i}][\'w\']"' in labels and f'"out[{i}][\'b\']"' in labels
    assert '"x\nf32[8,64]"' in labels and '"y\ni32[8]"' in labels
    assert viz.graph.__module__ and \
        __import__('viz.graph', fromlist=['path_names']).path_names('p', [{'b': 0, 'w': 1}]) == \
        ["p[0]['b']", "p[0]['w']"]


def test_digits_mlp_dead_code_is_grey_or_hidden(mlp_jaxpr, mlp_graph):
    from viz.structure import dead_eqns
    dead = dead_eqns(mlp_jaxpr.jaxpr)
    # the loss value itself, and what only it reads, is dead under grad
    assert str(mlp_jaxpr).count(' _:') >= 4 and len(dead) > str(mlp_jaxpr).count(' _:')
    names = [mlp_jaxpr.eqns[i].primitive.name for i in sorted(dead)]
    assert 'log' in names and 'div' in names   # log(sum(exp)) - label logit, / 8: the value
    grey = f'fillcolor="{legend.KINDS["dead"].fill}"'
    assert sum(grey in line for line in eqn_nodes(mlp_graph)) == len(dead)
    hidden = viz.graph(tt.grad(loss), *MLP_ARGS, hide_dead=True)
    assert len(eqn_nodes(hidden)) == len(mlp_jaxpr.eqns) - len(dead)
    assert grey not in hidden.source


def test_digits_mlp_blas_calls_are_marked(mlp_graph):
    blas = [line for line in eqn_nodes(mlp_graph) if '<b>dot_general</b>' in line]
    # 3 forward; backward 2 per layer (for w and for the layer's input), but none for the
    # input x of layer0, which is not differentiated
    assert len(blas) == 3 + 2 + 2 + 1
    border = legend.KINDS['BLAS'].border
    assert all(f'color="{border}"' in line and 'peripheries=2' in line for line in blas)
    assert sum('peripheries=2' in line for line in eqn_nodes(mlp_graph)) == len(blas)
    assert '>BLAS<' in mlp_graph.source


def test_digits_mlp_clusters_per_named_scope_and_per_function(mlp_graph):
    names = clusters(mlp_graph)
    assert set(names) == {'layer0', 'layer1', 'head', 'loss', 'layer0 · backward',
                          'layer1 · backward', 'head · backward', 'loss · backward'}
    layer0 = cluster_text(mlp_graph, 'layer0')
    assert '<b>dot_general</b>' in layer0 and '<b>expm1</b>' in layer0
    assert '<b>gather</b>' not in layer0 and '<b>gather</b>' in cluster_text(mlp_graph, 'loss')
    back = cluster_text(mlp_graph, 'head · backward')
    assert back.count('<b>dot_general</b>') == 2 and legend.ROLES['cotangent'].fill in back
    by_fn = viz.graph(tt.grad(loss), *MLP_ARGS, group_by='function')
    assert {'predict()  test_viz.py', 'loss()  test_viz.py',
            'predict()  test_viz.py · backward'} <= set(clusters(by_fn))
    assert 'cluster' not in viz.graph(tt.grad(loss), *MLP_ARGS, group_by=None).source
    with pytest.raises(ValueError, match=r"group_by='layer'.*'scope'.*'function'"):
        viz.graph(tt.grad(loss), *MLP_ARGS, group_by='layer')


def test_digits_mlp_groups_collapse_to_one_box_each():
    g = viz.graph(tt.grad(loss), *MLP_ARGS, collapse_groups=True)
    assert 'cluster' not in g.source
    boxes = {re.search(r'<b>([^<]+)</b>', line).group(1): line for line in eqn_nodes(g)}
    assert {'layer0', 'layer1', 'head', 'loss', 'layer1 · backward'} <= set(boxes)
    assert '13 eqns:' in boxes['layer0'] and 'dot_general' in boxes['layer0']
    assert 'peripheries=2' in boxes['layer0']            # it makes a BLAS call
    assert 'peripheries=2' not in boxes['loss']
    assert legend.ROLES['cotangent'].fill in boxes['layer1 · backward']
    assert '-> n' in g.source and len(eqn_nodes(g)) < 20


def test_index_bookkeeping_rule():
    from viz.structure import index_eqns

    def f(logits, y):
        mask = jnp.where(logits > 0.0, 1.0, 0.0)             # a float comparison: data
        return (tt.nn.one_hot(y, 3) * logits * mask).sum()
    closed = make_jaxpr(f)(np.ones((2, 3), np.float32), np.array([0, 2], np.int32))
    folded = {closed.eqns[i].primitive.name for i in index_eqns(closed.jaxpr)}
    kept = {e.primitive.name for i, e in enumerate(closed.eqns)
            if i not in index_eqns(closed.jaxpr)}
    assert {'eq', 'convert_element_type'} <= folded        # the one-hot mask
    assert 'gt' in kept and 'mul' in kept and 'reduce_sum' in kept
    assert 'gt' not in folded and 'mul' not in folded


def test_digits_mlp_index_bookkeeping_folds_into_one_node(mlp_graph):
    g = viz.graph(tt.grad(loss), *MLP_ARGS, fold_indexing=True)
    folded = [line for line in eqn_nodes(g) if '<b>index bookkeeping</b>' in line]
    assert len(folded) == 1 and 'concatenate' in folded[0] and 'shape=hexagon' in folded[0]
    n = int(re.search(r'(\d+) eqns:', folded[0]).group(1))
    assert n >= 10   # the label arithmetic of the integer labels
    assert len(eqn_nodes(g)) == len(eqn_nodes(mlp_graph)) - n + 1
    assert '<b>concatenate</b>' in mlp_graph.source and '<b>concatenate</b>' not in g.source
    assert '<b>gather</b>' in g.source and '<b>dot_general</b>' in g.source   # data stays
    assert '>index<' in g.source
    assert '<b>index bookkeeping</b>' in cluster_text(g, 'loss')   # in its scope's cluster


def test_values_show_shapes_and_small_numbers():
    g = viz.graph(lambda x, w: (jnp.sin(x) * 2.0, x @ w), np.array([0.0, 1.0], np.float32),
                  np.ones((2, 5), np.float32), values=True)
    src = g.source
    assert '"x\nf32[2]\n[0.,1.]"' in src                   # a small input: its numbers
    assert '<b>sin</b><br/><font point-size="10">f32[2] = [0.    ,0.8415]</font>' in src
    assert 'f32[2] = [0.    ,1.6829]' in src              # sin(x) * 2.0
    assert 'out[1]\n[1.,1.,1.,1.,1.]' in src               # 5 elements: still numbers
    w = viz.graph(lambda w: w * 2.0, np.ones((3, 3), np.float32), values=True).source
    assert '<font point-size="10">f32[3,3]</font>' in w     # 9 elements: the type only
    with pytest.raises(TypeError, match=r'values=True\) has no arguments'):
        viz.graph(make_jaxpr(jnp.sin)(1.0), values=True)


def test_digits_mlp_values(mlp_graph):
    g = viz.graph(tt.grad(loss), *MLP_ARGS, values=True)
    assert '"y\ni32[8]\n[2,1,5,5,9,5,9,8]"' in g.source
    assert '<font point-size="10">dimension_numbers=(((1,),(0,)),((),()))<br/>f32[8,100]' \
        in g.source


def _xdot_font_sizes(obj, out):
    """Every font size (xdot `F` operation) in Graphviz's -Tjson output."""
    if isinstance(obj, dict):
        if obj.get('op') == 'F':
            out.append(obj['size'])
        for v in obj.values():
            _xdot_font_sizes(v, out)
    elif isinstance(obj, list):
        for v in obj:
            _xdot_font_sizes(v, out)
    return out


def test_labels_are_at_least_10_px_high_at_the_default_size(dot_installed, tmp_path):
    """At the default size every label is at least 10 px high in the PNG. Two honest
    halves: (1) Graphviz's own layout (`dot -Tjson`, the fonts it actually draws with)
    uses no font under 10 pt, and the DOT asks for none smaller; (2) the PNG is not
    scaled down: its width is the layout's width at 96 dpi (plus the 4 pt pad on each
    side), which fails if a `size` attribute shrank the drawing. 10 pt at 96 dpi is
    13.3 px, so every label is at least that high."""
    g = viz.graph(tt.grad(loss), *MLP_ARGS, values=True)
    asked = [float(s) for s in re.findall(r'(?:fontsize|point-size)="?([\d.]+)', g.source)]
    assert asked and min(asked) >= 10
    layout = json.loads(subprocess.run(['dot', '-Tjson'], input=g.source, text=True,
                                       capture_output=True, check=True).stdout)
    sizes = _xdot_font_sizes(layout, [])
    assert sizes and min(sizes) >= 10
    png = subprocess.run(['dot', '-Tpng'], input=g.source.encode(), capture_output=True,
                         check=True).stdout
    width_px, height_px = struct.unpack('>II', png[16:24])
    bb = [float(v) for v in layout['bb'].split(',')]    # points
    pad = 2 * 4 * 96 / 72
    assert abs(width_px - (bb[2] * 96 / 72 + pad)) <= 2
    assert abs(height_px - (bb[3] * 96 / 72 + pad)) <= 2
    assert min(sizes) * 96 / 72 >= 10


def test_loop_cluster_titles_are_wrapped_and_kept_off_the_entering_edges():
    f = lambda x: lax.fori_loop(0, 3, lambda i, v: v * 2.0, x)
    src = viz.graph(f, 1.0).source
    title = re.search(r'label="(scan[^"]*)"([^\n]*)', src)
    assert '\n' in title.group(1) and all(len(t) <= 40 for t in title.group(1).split('\n'))
    assert 'labelloc=b' in title.group(2)


def _title_crossings(dot):
    """{cluster title: how many edge points (spline control points, label positions) fall
    inside the title's box} in Graphviz's own layout (`dot -Tjson`, in points)."""
    layout = json.loads(subprocess.run(['dot', '-Tjson'], input=dot.source, text=True,
                                       capture_output=True, check=True).stdout)
    points = []
    for e in layout.get('edges', []):
        points += [tuple(p) for op in e.get('_draw_', []) if op['op'] in 'bB'
                   for p in op['points']]
        if 'lp' in e:
            points.append(tuple(map(float, e['lp'].split(','))))
    crossings = {}
    for c in layout['objects']:
        if 'nodes' in c and 'lp' in c:   # a cluster with a title
            x, y = map(float, c['lp'].split(','))
            w, h = float(c['lwidth']) * 36, float(c['lheight']) * 36   # half, in points
            crossings[c['label']] = sum(abs(px - x) <= w and abs(py - y) <= h
                                        for px, py in points)
    return crossings


def test_no_edge_runs_through_a_cluster_title(dot_installed):
    """The overprint of issue 13: a long one-line loop title at the top of its cluster,
    crossed by the edges entering the loop. Checked in the laid-out drawing: no edge
    passes through any cluster's title (a one-line title at the top fails this)."""
    scan = viz.graph(lambda x: lax.scan(lambda c, xi: (c * 2.0 + xi, jnp.sin(c)), x[0], x),
                     np.ones(3, np.float32))
    cond = viz.graph(lambda p, x: lax.cond(p, jnp.sin, lambda y: jnp.cos(y) * 2.0, x), True, X)
    mlp = viz.graph(tt.grad(loss), *MLP_ARGS)
    for g in (scan, cond, mlp):
        crossings = _title_crossings(g)
        assert crossings and not any(crossings.values()), crossings


# --- rendering ----------------------------------------------------------------------------------

def test_render_svg_names_the_nodes(dot_installed, tmp_path):
    path = viz.render(lambda x: jnp.sin(x) * 2.0, 1.0, path=str(tmp_path / 'g.svg'))
    svg = open(path, encoding='utf-8').read()
    assert svg.lstrip().startswith('<?xml') and '<svg' in svg
    for text in ('sin', 'mul', 'out', 'a:f32[]', 'legend', 'primal'):
        assert f'>{text}</text>' in svg


def test_render_picks_format_by_extension(dot_installed, tmp_path):
    f = lambda x: jnp.sin(x)
    assert open(viz.render(f, 1.0, path=str(tmp_path / 'g.png')), 'rb').read(4) == b'\x89PNG'
    assert open(viz.render(f, 1.0, path=str(tmp_path / 'g.pdf')), 'rb').read(4) == b'%PDF'
    assert open(viz.render(f, 1.0, path=str(tmp_path / 'g'), format='svg')).read().count('<svg')
    dot = open(viz.render(f, 1.0, path=str(tmp_path / 'g.dot'))).read()
    assert dot.startswith('digraph jaxpr {') and '<b>sin</b>' in dot
    with pytest.raises(ValueError, match=r"cannot write a graph as 'jpeg'.*\.svg, \.png, \.pdf"):
        viz.render(f, 1.0, path=str(tmp_path / 'g.jpeg'))


def test_missing_dot_gives_install_instructions_and_dot_text_still_works(tmp_path, monkeypatch):
    monkeypatch.setenv('PATH', str(tmp_path))             # no `dot` anywhere on PATH
    g = viz.graph(lambda x: jnp.sin(x), 1.0)
    assert '<b>sin</b>' in g.source
    with pytest.raises(viz.GraphvizNotInstalled) as err:
        viz.render(lambda x: jnp.sin(x), 1.0, path=str(tmp_path / 'g.svg'))
    msg = str(err.value)
    assert '`dot` program was not found' in msg and 'as svg' in msg
    for how in ('apt-get install graphviz', 'brew install graphviz',
                'conda install -c conda-forge graphviz', '.source'):
        assert how in msg
    assert not (tmp_path / 'g.svg').exists()
    path = viz.render(lambda x: jnp.sin(x), 1.0, path=str(tmp_path / 'g.dot'))
    assert open(path).read() == g.source


# --- the explainer ----------------------------------------------------------------------------

def test_explain_records_every_bind_with_level_kind_and_values(capsys):
    ex = viz.explain(lambda x: jnp.sin(x) * 2.0, 1.0)
    assert [e.prim for e in ex.events] == ['sin', 'mul']
    assert ex.levels() == [(0, 'EvalTrace'), (0, 'EvalTrace')]
    assert ex.events[0].inputs == ['1.0'] and ex.events[0].outputs == ['0.84147096']
    assert ex.events[1].inputs == ['0.84147096', '2.0'] and ex.events[1].outputs == ['1.6829419']
    out = capsys.readouterr().out
    assert out.splitlines()[0] == 'explain <lambda>(1.0): 2 binds'
    assert 'sin  level 0 EvalTrace (eval)  in: 1.0  out: 0.84147096' in out
    assert out.splitlines()[-1] == 'result: 1.6829419'
    assert float(ex.result) == pytest.approx(2 * np.sin(1.0))


def test_explain_restores_the_observer_even_when_fn_raises():
    from tinygrad_tracer import core
    before = core.trace_state.bind_observer

    def bad(x):
        jnp.sin(x)
        raise RuntimeError('boom')
    with pytest.raises(RuntimeError, match='boom'):
        viz.explain(bad, 1.0, quiet=True)
    assert core.trace_state.bind_observer is before
    with pytest.raises(TypeError, match='needs a function to run, got float'):
        viz.explain(1.0, quiet=True)


def test_observers_nest_and_both_see_every_bind():
    from tinygrad_tracer import core
    from viz.observe import observing

    class Names:
        def __init__(self):
            self.seen = []

        def enter(self, prim, trace, tracers, params):
            self.seen.append(prim.name)

        def exit(self, outs):
            self.seen.append('/')
    outer, inner = Names(), Names()
    with observing(outer):
        jnp.sin(1.0)
        with observing(inner):
            jnp.cos(1.0)
        assert core.trace_state.bind_observer is outer
    assert core.trace_state.bind_observer is None
    assert outer.seen == ['sin', '/', 'cos', '/'] and inner.seen == ['cos', '/']


def test_explain_grad_sin_lists_jvp_then_eval_levels_in_order():
    ex = viz.explain(tt.grad(jnp.sin), 1.0, quiet=True)
    first = ex.events[0]
    assert (first.prim, first.trace_kind, first.depth) == ('sin', 'JVPTrace', 0)
    assert first.level >= 1 and first.inputs[0].startswith('JVPTracer f32[]=1.0')
    # the JVP rule's binds travel down the stack, level by level, to EvalTrace's sin
    evals = [e for e in ex.events if e.trace_kind == 'EvalTrace']
    sin0 = evals[0]
    assert (sin0.prim, sin0.level, sin0.outputs) == ('sin', 0, ['0.84147096'])
    chain, e = [], sin0
    while e is not None:
        chain.append(e)
        e = ex.events[e.parent] if e.parent is not None else None
    assert chain[-1] is first
    levels = [c.level for c in reversed(chain)]
    assert levels == sorted(levels, reverse=True) and len(set(levels)) == len(levels)
    assert any(e.prim == 'cos' and e.level == 0 and e.tag == 'tangent' for e in ex.events)
    last = ex.events[-1]   # the backward pass runs at level 0, tagged cotangent
    assert (last.level, last.tag, last.depth) == (0, 'cotangent', 0)
    assert float(ex.result) == pytest.approx(np.cos(1.0), rel=1e-6)
    lines = str(ex).splitlines()
    assert lines[1].startswith('sin  level') and '  sin  level' in lines[2]
    assert lines[-2].startswith('mul  level 0 EvalTrace (eval) [cotangent]')
    assert lines[-1] == 'result: 0.5403023'


def test_explain_jit_traces_once_then_runs_without_binds():
    f = tt.jit(lambda x: jnp.sin(x) * 2.0)
    first = viz.explain(f, 1.0, quiet=True)
    assert [(e.prim, e.trace_kind, e.main_name) for e in first.events] == \
        [('sin', 'JaxprTrace', 'jit(<lambda>)'), ('mul', 'JaxprTrace', 'jit(<lambda>)')]
    assert first.events[0].inputs == ['JaxprTracer f32[]']
    again = viz.explain(f, 2.0, quiet=True)   # same signature: the cached executable runs
    assert again.events == [] and str(again).splitlines() == ['explain <lambda>(2.0): 0 binds',
                                                              f'result: {again.result_text()}']
    assert float(again.result) == pytest.approx(2 * np.sin(2.0))


def test_explain_vmap_shows_batch_dims():
    ex = viz.explain(tt.vmap(lambda x: jnp.sin(x).sum()), np.ones((3, 2), np.float32), quiet=True)
    assert ex.events[0].inputs == ['BatchTracer f32[2] bdim=0']
    assert ex.events[1].tag == 'batched' and ex.events[1].level == 0


class _Checker(html.parser.HTMLParser):
    """Fails on a closing tag that does not match the open one; collects src/href values."""
    VOID = {'meta', 'br', 'img', 'input', 'hr', 'link', 'col', 'area', 'base', 'source', 'wbr'}

    def __init__(self):
        super().__init__()
        self.stack, self.urls, self.tags = [], [], set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.urls += [v for k, v in attrs if k in ('src', 'href', 'xlink:href') and v]
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.add(tag)
        self.urls += [v for k, v in attrs if k in ('src', 'href', 'xlink:href') and v]

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1:]}>"
        self.stack.pop()


def _explain_page(tmp_path):
    path = str(tmp_path / 'trace.html')
    ex = viz.explain(lambda x: jnp.cos(jnp.sin(x) * 2.0), 1.0, html=path, quiet=True)
    return ex, open(path, encoding='utf-8').read()


def test_explain_html_is_well_formed_and_self_contained(dot_installed, tmp_path):
    ex, page = _explain_page(tmp_path)
    checker = _Checker()
    checker.feed(page)
    checker.close()
    assert checker.stack == []
    assert not [u for u in checker.urls if re.match(r'\s*(https?:)?//', u)]
    assert not re.search(r'<(script|img|link)[^>]*\b(src|href)=', page)
    assert {'button', 'script', 'style', 'ol', 'li'} <= checker.tags
    for button in ('id="prev"', 'id="next"'):
        assert button in page
    assert page.count('<li ') == len(ex.events) == 3
    steps = re.search(r'<script type="application/json" id="steps">(.*?)</script>', page, re.S)
    import json
    details = json.loads(steps.group(1))
    assert details[0].startswith('bind #0: sin\ntrace:   level 0 EvalTrace (eval)')
    # the graph of binds, inline, with the ids the page steps through
    assert '<svg' in page and '<?xml' not in page and '<!DOCTYPE svg' not in page
    assert all(f'id="ev_{i}"' in page for i in range(3)) and 'id="ed_1_1"' in page
    js = re.findall(r'<script>(.*?)</script>', page, re.S)
    assert len(js) == 1 and 'function show(k)' in js[0]
    if shutil.which('node'):
        path = tmp_path / 'page.js'
        path.write_text(js[0])
        assert subprocess.run(['node', '--check', str(path)]).returncode == 0


def test_explain_html_without_dot_embeds_the_dot_text(tmp_path, monkeypatch):
    monkeypatch.setenv('PATH', str(tmp_path))
    _, page = _explain_page(tmp_path)
    assert 'apt-get install graphviz' in page and 'digraph binds {' in page and '<svg' not in page


def test_bind_graph_clusters_levels_and_links_results():
    ex = viz.explain(lambda x: jnp.cos(jnp.sin(x)), 1.0, quiet=True)
    src = ex.graph().source
    assert 'label="level 0: eval (EvalTrace)"' in src
    assert 'ev_0 -> ev_1 [id=ed_1_1]' in src            # sin's result feeds cos
    assert '"0: sin"' in src and '"1: cos"' in src
    small = ex.graph(max_binds=1).source            # long logs: the graph keeps the first binds
    assert 'ev_0' in small and 'ev_1' not in small and '(first 1 binds)' in small


# --- the command line -------------------------------------------------------------------------
# One subprocess proves `python -m viz` runs; the rest call its main() in-process (fast).

def test_cli_runs_as_a_module_and_writes_a_file(dot_installed, tmp_path):
    r = subprocess.run([sys.executable, '-m', 'viz', 'lambda x, y: jnp.sin(x) * y', '--args',
                        '1.0', 'jnp.ones(3)', '-o', 'g.svg'], cwd=tmp_path, capture_output=True,
                       text=True, env={**os.environ, 'PYTHONPATH': ROOT})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == 'wrote g.svg (svg, lambda x, y: jnp.sin(x) * y)'
    svg = (tmp_path / 'g.svg').read_text()
    assert '>sin</text>' in svg and '>b:f32[3]</text>' in svg


def cli(capsys, *argv):
    """(exit code, stdout, stderr) of `python -m viz argv`, run in-process."""
    from viz.__main__ import main
    try:
        code = main(list(argv))
    except SystemExit as e:   # argparse: --help, usage errors
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_help_documents_every_flag_with_an_example(capsys):
    code, out, _ = cli(capsys, '--help')
    assert code == 0
    for flag in ('--args', '--grad', '--vmap', '--jit', '--explain', '--output', '--format',
                 '--collapse', '--rankdir', '--group-by', '--collapse-groups', '--fold-indexing',
                 '--hide-dead', '--values'):
        assert flag in out
    assert out.count('e.g.') >= 14
    assert 'python -m viz "lambda x: jnp.sin(x) * 2" --args 1.0 --grad -o g.svg' in out


def test_cli_prints_dot_explains_and_formats(tmp_path, capsys):
    code, out, _ = cli(capsys, 'lambda x: jnp.exp(x)', '--args', '2.0')
    assert code == 0 and out.startswith('digraph jaxpr {') and '<b>exp</b>' in out
    code, out, _ = cli(capsys, 'lambda x: jnp.exp(x)', '--args', '2.0', '--explain')
    assert code == 0 and 'exp  level 0 EvalTrace (eval)  in: 2.0' in out
    page = str(tmp_path / 'trace.html')
    code, out, _ = cli(capsys, 'jnp.sin', '--args', '1.0', '--explain', '-o', page)
    assert code == 0 and '<button id="next"' in open(page).read()
    dot = str(tmp_path / 'g')
    code, out, _ = cli(capsys, 'lambda x: x * 2.0', '--args', '1.0', '--format', 'dot', '-o', dot)
    assert code == 0 and open(dot).read().startswith('digraph jaxpr {')
    assert out == f'wrote {dot} (dot, lambda x: x * 2.0)\n'


def test_cli_reports_bad_input(capsys):
    code, _, err = cli(capsys, 'lambda x: jnp.exp(')
    assert code == 2 and "could not evaluate the function 'lambda x: jnp.exp('" in err
    code, _, err = cli(capsys, 'lambda x: x', '--args', 'undefined_name')
    assert code == 2 and "could not evaluate the argument 'undefined_name': NameError" in err
    code, _, err = cli(capsys, '3')
    assert code == 2 and 'evaluated to int, not a function' in err
    code, _, err = cli(capsys, 'jnp.sin', '--args', '1.0', '--explain', '-o', 'x.svg')
    assert code == 2 and '--explain writes an .html page' in err


def test_cli_grad_example_from_the_issue(dot_installed, tmp_path, capsys):
    path = str(tmp_path / 'g.svg')
    code, out, _ = cli(capsys, 'lambda x: jnp.sin(x) * 2', '--args', '1.0', '--grad', '-o', path)
    assert code == 0 and out == f'wrote {path} (svg, grad(lambda x: jnp.sin(x) * 2))\n'
    assert '>cos</text>' in open(path).read()


def test_cli_transforms_apply_in_order(capsys):
    code, out, _ = cli(capsys, 'lambda x: jnp.sin(x)', '--args', 'jnp.ones(3)', '--grad', '--vmap')
    assert code == 0 and 'label="vmap(grad(lambda x: jnp.sin(x)))"' in out and 'bdim=0' in out


def test_cli_without_dot_names_the_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv('PATH', str(tmp_path))
    code, out, err = cli(capsys, 'lambda x: jnp.sin(x)', '--args', '1.0', '-o',
                         str(tmp_path / 'g.png'))
    assert code == 1 and err.startswith('error: ') and 'brew install graphviz' in err


def test_cli_structure_flags(capsys):
    code, out, _ = cli(capsys, 'lambda x, w: (jnp.cos(x), jnp.tanh(x @ w))[1]', '--args',
                       'jnp.ones((2, 3))', 'jnp.ones((3, 2))', '--hide-dead', '--values',
                       '--group-by', 'function')
    assert code == 0 and '<b>tanh</b>' in out and '<b>cos</b>' not in out   # cos is dead
    assert 'f32[2,2] = [[0.9951,0.9951],' in out         # tanh(3.0), 4 elements
    assert 'label="<lambda>()  <string>"' in out          # the function the CLI evaluated
    code, out, _ = cli(capsys, 'lambda x, y: (tt.nn.one_hot(y, 3) * x).sum()', '--args',
                       'jnp.ones((2, 3))', 'jnp.array([0, 2])', '--fold-indexing')
    assert code == 0 and '<b>index bookkeeping</b>' in out and '<b>eq</b>' not in out
    code, out, _ = cli(capsys, 'lambda x: jnp.sin(x) * 2', '--args', '1.0',
                       '--group-by', 'function', '--collapse-groups')
    assert code == 0 and '<b>&lt;lambda&gt;()  &lt;string&gt;</b>' in out
    assert 'cluster' not in out and '2 eqns:' in out


def test_named_scopes_inside_jit_and_loop_bodies_are_clusters_too():
    def step(v):
        with tt.named_scope('update'):
            return jnp.tanh(v) * 0.5

    g = viz.graph(tt.jit(lambda x: step(step(x)), backend='interpret'), X)
    names = clusters(g)
    # one cluster per scope name: both calls' equations are in it
    assert names[0].startswith('jit(<lambda>)') and names.count('update') == 1
    update = cluster_text(g, 'update')
    assert '0: <b>tanh</b>' in update and '2: <b>tanh</b>' in update   # numbered in run order
    g = viz.graph(lambda x: lax.fori_loop(0, 3, lambda i, v: step(v), x), 1.0)
    assert 'update' in clusters(g) and '<b>tanh</b>' in cluster_text(g, 'update')
