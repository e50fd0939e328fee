"""`nnx.Module`: a plain Python object whose attributes form the graph.

There is no registration and no declaration of parameters: whatever a
module's `__init__` assigns is found by walking `vars(self)` (see graph.py).
A `Variable` attribute is state; a module, or a list/dict/tuple holding
modules or Variables, is an edge to walk; anything else is a static setting.
"""
import numpy as np

from .graph import Object, Variable, iter_graph

__all__ = ['Module', 'display']


class Module(Object):
    """Base class of layers and models.

        >>> class Scale(nnx.Module):
        ...     def __init__(self, n):
        ...         self.w = nnx.Param(jnp.ones(n))
        ...     def __call__(self, x):
        ...         return self.w.value * x
    """

    def iter_modules(self):
        """(path, module) for this module and every module below it, each once."""
        for path, obj in iter_graph(self):
            if isinstance(obj, Module):
                yield path, obj

    def set_attributes(self, **attributes):
        """Set each attribute on every module below that already has it."""
        for _, module in self.iter_modules():
            for name, value in attributes.items():
                if name in vars(module):
                    setattr(module, name, value)

    def train(self, **attributes):
        """Training mode: BatchNorm uses and updates batch statistics, Dropout drops."""
        self.set_attributes(deterministic=False, use_running_average=False, **attributes)

    def eval(self, **attributes):
        """Evaluation mode: BatchNorm uses its running statistics, Dropout is off."""
        self.set_attributes(deterministic=True, use_running_average=True, **attributes)

    def __repr__(self):
        return _tree_text(self, set(), '')


def _count(node):
    """{Variable type name: (number of values, bytes)} over the graph below node."""
    totals = {}
    for _, obj in iter_graph(node):
        if isinstance(obj, Variable) and hasattr(obj.value, 'shape'):
            size = int(np.prod(obj.value.shape))
            n, b = totals.get(type(obj).__name__, (0, 0))
            totals[type(obj).__name__] = (n + size, b + size * np.dtype(obj.value.dtype).itemsize)
    return totals


def _summary(node):
    totals = _count(node)
    parts = [f'{name}: {n:,} ({_bytes(b)})' for name, (n, b) in sorted(totals.items())]
    return ('  # ' + ', '.join(parts)) if parts else ''


def _bytes(b):
    for unit in ('B', 'KB', 'MB', 'GB'):
        if b < 1000 or unit == 'GB':
            return f'{b:.0f} {unit}' if unit == 'B' else f'{b:.1f} {unit}'
        b /= 1000


def _tree_text(obj, seen, indent):
    """The text tree `nnx.display` prints: modules, Variables' shapes, settings."""
    if isinstance(obj, Variable):
        return repr(obj)
    if isinstance(obj, (list, tuple)) and any(isinstance(v, (Object, Variable)) for v in obj):
        inner = indent + '  '
        items = [inner + _tree_text(v, seen, inner) for v in obj]
        return '[\n' + ',\n'.join(items) + '\n' + indent + ']'
    if not isinstance(obj, Object):
        return repr(obj) if not callable(obj) else f'<{getattr(obj, "__name__", type(obj).__name__)}>'
    if id(obj) in seen:
        return f'{type(obj).__name__}(...)  # shared, shown above'
    seen.add(id(obj))
    inner = indent + '  '
    lines = [f'{inner}{name}={_tree_text(value, seen, inner)}'
             for name, value in vars(obj).items() if not name.startswith('_')]
    return f'{type(obj).__name__}({_summary(obj)}\n' + ',\n'.join(lines) + f'\n{indent})'


def display(*nodes):
    """Print each node as a text tree: submodules, Variable shapes and dtypes,
    settings, and the number of values (and bytes) of each Variable type."""
    for node in nodes:
        print(_tree_text(node, set(), '') if isinstance(node, Object) else repr(node))
