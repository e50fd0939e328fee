"""The package's layers, checked: imports run one way, downward, through public names.

Run `python -m pytest -q -s tests/test_layering.py` to see the map. Each layer
may import from the layers listed above it (and from its own layer, as long as
no cycle forms); `surface` (the jax.numpy layer) stands on `prims` and what is
above it only. Every import counts, lazy ones inside functions included.
Package `__init__` files are facades that re-export: their own imports are not
edges (importing the package counts as importing the layer it is listed in).

A module's `_name` is private to it. Importing another module's `_name` (or
reading `other._name`) fails this test: give the helper a public name in the
module that owns it. A private *module* (`_indexing`) may be imported within
its own package.

When a new module lands, add it to LAYERS; when this test fails, move the code,
not the list (DESIGN.md's architecture is the contract).
"""
import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]

# Top to bottom; a module imports only from layers above it (or its own).
LAYERS = {
    'base': ['settings', 'errors', 'dtypes', 'tree_util', 'xla_math'],
    'core': ['core', 'array', 'device_array'],
    'ir': ['jaxpr'],
    'prims': ['_lax_xla', '_lax_elementwise', '_lax_slicing', '_lax_conv', '_lax_cumulative', 'lax', 'lax_control_flow', 'lax_callback'],
    'ad_util': ['ad_util'],
    'transforms': ['jvp', 'partial_eval', 'transpose', 'batching'],
    'backends': ['backends', 'backends.*'],
    'surface': ['_numpy_base', '_numpy_*', '_indexing', 'numpy'],
    'api': ['jit', 'device_eval', 'api', 'control_flow', 'control_flow.*', 'custom_derivatives', 'ad_checkpoint', 'callbacks', 'debug',
            'test_util', 'typing'],
    'libs': ['prng', 'random', 'nn', 'optim', 'optax', 'nnx', 'nnx.*', 'scipy', 'scipy.*'],
    'viz': ['<viz>'],
}
# What each layer may NOT import even though it is above it.
FORBIDDEN = {
    'surface': {'ir', 'ad_util', 'transforms', 'backends'},   # jax.numpy is written on lax alone
    'backends': {'ad_util', 'transforms'},                     # a backend runs jaxprs, never differentiates
    'prims': set(),
}
ORDER = list(LAYERS)


def _modules():
    """Module name (dotted, relative to tinygrad_tracer; 'viz.x' for viz) -> path."""
    mods = {}
    for path in sorted((ROOT / 'tinygrad_tracer').rglob('*.py')):
        rel = path.relative_to(ROOT / 'tinygrad_tracer').with_suffix('')
        parts = rel.parts[:-1] if rel.name == '__init__' else rel.parts
        mods['.'.join(parts) or '<tinygrad_tracer>'] = path
    for path in sorted((ROOT / 'viz').rglob('*.py')):
        mods['<viz>.' + path.stem] = path
    return mods


MODULES = _modules()


def layer_of(mod):
    if mod.startswith('<viz>'):
        return 'viz'
    if mod == '<tinygrad_tracer>':
        return 'api'   # the public facade: importing it means using the public API
    for layer, pats in LAYERS.items():
        for pat in pats:
            if mod == pat or (pat.endswith('*') and mod.startswith(pat[:-1]) and mod != pat[:-2]):
                return layer
    return None


def _is_facade(mod, path):
    return path.name == '__init__.py' and mod in ('<tinygrad_tracer>', 'control_flow', 'scipy', 'nnx')


def _resolve(mod, path, node):
    """The project modules an import statement names, with the names it takes."""
    pkg = mod.split('.')[:-1] if path.name != '__init__.py' else mod.split('.')
    if mod.startswith('<viz>') or mod == '<tinygrad_tracer>':
        pkg = [] if mod == '<tinygrad_tracer>' else ['<viz>']
    out = []
    if isinstance(node, ast.Import):
        for alias in node.names:
            name = alias.name
            if name == 'tinygrad_tracer':
                out.append(('<tinygrad_tracer>', None))
            elif name.startswith('tinygrad_tracer.'):
                out.append((name[len('tinygrad_tracer.'):], None))
        return out
    if node.level:
        base = pkg[:len(pkg) - (node.level - 1)] if node.level > 1 else pkg
        target = base + (node.module.split('.') if node.module else [])
    elif node.module and (node.module == 'tinygrad_tracer' or node.module.startswith('tinygrad_tracer.')):
        target = node.module.split('.')[1:]
    elif node.module and node.module.split('.')[0] == 'viz':
        target = ['<viz>'] + node.module.split('.')[1:]
    else:
        return out
    target_mod = '.'.join(target) or '<tinygrad_tracer>'
    for alias in node.names:
        sub = f"{target_mod}.{alias.name}" if target_mod != '<tinygrad_tracer>' else alias.name
        if sub in MODULES:        # `from . import lax`: the module itself
            out.append((sub, None))
        else:
            out.append((target_mod, alias.name))
    return out


def _imports(mod, path):
    tree = ast.parse(path.read_text(), filename=str(path))
    edges, private = [], []
    aliases = {}   # local name -> project module, to catch `lax._int_div`
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for target, name in _resolve(mod, path, node):
                edges.append((target, node.lineno))
                if name and name.startswith('_') and not name.startswith('__'):
                    private.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {name} from {target}")
            for alias in node.names:
                for target, name in _resolve(mod, path, node):
                    if name is None and target.split('.')[-1] == alias.name.split('.')[-1]:
                        aliases[alias.asname or alias.name] = target
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in aliases and node.attr.startswith('_')
                and not node.attr.startswith('__') and aliases[node.value.id] != mod):
            private.append(f"{path.relative_to(ROOT)}:{node.lineno} reads "
                           f"{node.value.id}.{node.attr}")
    return edges, private


GRAPH, PRIVATE = {}, []
for _mod, _path in MODULES.items():
    _edges, _priv = _imports(_mod, _path)
    PRIVATE += _priv
    if not _is_facade(_mod, _path):
        GRAPH[_mod] = sorted({t for t, _ in _edges if t != _mod and t in MODULES})


def test_every_module_has_a_layer():
    missing = [m for m in MODULES if layer_of(m) is None]
    assert not missing, f"modules with no layer: add them to LAYERS in {__file__}: {missing}"


def test_print_the_layers():
    """`pytest -s` shows the map a newcomer reads the package by."""
    print()
    for layer in ORDER:
        mods = sorted(m.replace('<viz>.', 'viz/') for m in MODULES if layer_of(m) == layer)
        print(f"  {layer:<11} {', '.join(mods)}")
    assert set(ORDER) >= {layer_of(m) for m in MODULES}


def find_cycles(graph):
    """Every import cycle in `graph` (module -> modules it imports), as text."""
    seen, stack, cycles = {}, [], []

    def visit(m):
        seen[m] = 'active'
        stack.append(m)
        for t in graph.get(m, ()):
            if seen.get(t) == 'active':
                cycles.append(' -> '.join(stack[stack.index(t):] + [t]))
            elif t not in seen:
                visit(t)
        stack.pop()
        seen[m] = 'done'

    for m in graph:
        if m not in seen:
            visit(m)
    return cycles


def layer_violations(graph):
    """Imports that point up the layers, or into a layer this one must not use."""
    wrong = []
    for importer, targets in graph.items():
        li = layer_of(importer)
        for t in targets:
            lt = layer_of(t)
            if ORDER.index(lt) > ORDER.index(li) or lt in FORBIDDEN.get(li, ()):
                wrong.append(f"{importer} ({li}) imports {t} ({lt})")
    return sorted(wrong)


def test_no_import_cycles():
    cycles = find_cycles(GRAPH)
    assert not cycles, "import cycles (lazy imports count):\n  " + "\n  ".join(cycles)


def test_imports_point_down_the_layers():
    wrong = layer_violations(GRAPH)
    assert not wrong, "imports against the layers:\n  " + "\n  ".join(wrong)


def test_no_private_cross_imports():
    assert not PRIVATE, "private names used across modules:\n  " + "\n  ".join(sorted(PRIVATE))


def test_the_checks_can_fail():
    """Planted mistakes are caught: an upward import, a cycle, jnp on a transform."""
    planted = {k: list(v) for k, v in GRAPH.items()}
    planted['core'] = planted['core'] + ['jit']
    planted['numpy'] = planted['numpy'] + ['jvp']
    wrong = layer_violations(planted)
    assert 'core (core) imports jit (api)' in wrong
    assert 'numpy (surface) imports jvp (transforms)' in wrong
    assert find_cycles({'a': ['b'], 'b': ['c'], 'c': ['a']}) == ['a -> b -> c -> a']
