"""Pytrees: nested containers whose leaves are the values transforms work on.

``grad``, ``vmap`` and ``jit`` accept any nest of tuples, lists, dicts,
namedtuples, ``None`` and registered classes. They *flatten* it into a flat
list of leaves plus a ``PyTreeDef`` (the shape of the nest), work on the
leaves, then *unflatten* the results back into the same shape::

    >>> leaves, treedef = tree_flatten({'b': [1, 2], 'a': 3})
    >>> leaves                       # dict children come in sorted key order
    [3, 1, 2]
    >>> treedef
    PyTreeDef({'a': *, 'b': [*, *]})
    >>> tree_unflatten(treedef, [10, 20, 30])
    {'a': 10, 'b': [20, 30]}

As in JAX, ``None`` is a node with no children (an empty subtree), not a
leaf: ``tree_leaves([None, 1]) == [1]``. Everything that is not a registered
node type (numbers, arrays, strings, any other object) is a leaf. Types are
looked up exactly: a subclass of ``dict`` is a leaf unless registered itself.
"""
import collections
import dataclasses
import functools
import types

__all__ = [
    "PyTreeDef", "tree_flatten", "tree_unflatten", "tree_leaves", "tree_structure",
    "tree_map", "tree_reduce", "tree_all", "tree_transpose", "all_leaves",
    "flatten_up_to", "register_pytree_node", "register_pytree_node_class",
    "register_dataclass", "tree_namespace", "SequenceKey", "DictKey", "GetAttrKey",
    "FlattenedIndexKey", "keystr", "tree_flatten_with_path", "tree_leaves_with_path",
    "tree_map_with_path",
]


# ---------------------------------------------------------------- the registry

class _NodeKind:
    """How to take one node type apart and put it back together.

    ``flatten(x) -> (children, aux)`` and ``unflatten(node_type, aux, children)``.
    ``kind`` only picks how the node is printed and described in errors;
    ``field_names``, when known, names the children in key paths (``.w``).
    """
    def __init__(self, kind, flatten, unflatten, field_names=None):
        self.kind, self.flatten, self.unflatten = kind, flatten, unflatten
        self.field_names = field_names


_registry = {}


def _add(node_type, kind, flatten, unflatten, field_names=None):
    if node_type in _registry:
        raise ValueError(f"Duplicate pytree node registration: {node_type!r} is already "
                         "registered as a pytree node type (register each type only once).")
    _registry[node_type] = _NodeKind(kind, flatten, unflatten, field_names)


def _sorted_keys(d):
    # Sorting makes {'a': 1, 'b': 2} and {'b': 2, 'a': 1} the same structure.
    try:
        return tuple(sorted(d))
    except TypeError as e:  # e.g. {1: .., 'a': ..}; a ValueError, as in JAX
        raise ValueError(f"pytree dict keys must be sortable, got keys {list(d)!r}: {e}") from None


def _flatten_dict(x):
    keys = _sorted_keys(x)
    return [x[k] for k in keys], keys


def _flatten_defaultdict(x):
    children, keys = _flatten_dict(x)
    return children, (x.default_factory, keys)


_add(type(None), "none", lambda x: ((), None), lambda t, aux, cs: None)
_add(tuple, "tuple", lambda x: (x, None), lambda t, aux, cs: tuple(cs))
_add(list, "list", lambda x: (x, None), lambda t, aux, cs: list(cs))
_add(dict, "dict", _flatten_dict, lambda t, aux, cs: dict(zip(aux, cs)))
# OrderedDict keeps its insertion order, as in JAX.
_add(collections.OrderedDict, "ordereddict", lambda x: (list(x.values()), tuple(x)),
     lambda t, aux, cs: collections.OrderedDict(zip(aux, cs)))
_add(collections.defaultdict, "defaultdict", _flatten_defaultdict,
     lambda t, aux, cs: collections.defaultdict(aux[0], zip(aux[1], cs)))

# Namedtuples are not in the registry (each one is its own class): any tuple
# subclass with ``_fields`` is a node whose children are its fields.
_NAMEDTUPLE = _NodeKind("namedtuple", lambda x: (tuple(x), None), lambda t, aux, cs: t(*cs))


def _node_kind(node_type):
    """The registry entry for ``node_type``, or None if values of it are leaves."""
    kind = _registry.get(node_type)
    if kind is None and issubclass(node_type, tuple) and hasattr(node_type, "_fields"):
        kind = _NAMEDTUPLE
    return kind


def register_pytree_node(nodetype, flatten_func, unflatten_func):
    """Make ``nodetype`` a pytree node.

    ``flatten_func(x) -> (children, aux_data)``; ``unflatten_func(aux_data,
    children) -> x``. ``aux_data`` is the static part (kept in the treedef):
    it must be comparable with ``==``, and should be hashable (unhashable aux
    data such as a dict works, as in JAX, but ``jit``'s cache then compares it
    by ``==`` against every entry of the same type).

        >>> class Pair:
        ...     def __init__(self, a, b): self.a, self.b = a, b
        >>> register_pytree_node(Pair, lambda p: ((p.a, p.b), None),
        ...                      lambda aux, cs: Pair(*cs))
        >>> tree_leaves([Pair(1, 2), 3])
        [1, 2, 3]
    """
    _add(nodetype, "custom", lambda x: flatten_func(x),
         lambda t, aux, cs: unflatten_func(aux, cs))


def register_pytree_node_class(cls):
    """Class decorator: register ``cls`` using its own ``tree_flatten`` method
    and ``tree_unflatten(aux_data, children)`` classmethod. Returns ``cls``.

        >>> @register_pytree_node_class
        ... class Box:
        ...     def __init__(self, v): self.v = v
        ...     def tree_flatten(self): return (self.v,), None
        ...     @classmethod
        ...     def tree_unflatten(cls, aux, children): return cls(*children)
    """
    register_pytree_node(cls, lambda x: x.tree_flatten(), cls.tree_unflatten)
    return cls


def register_dataclass(nodetype=None, data_fields=None, meta_fields=None):
    """Register a dataclass as a pytree node; usable as a decorator.

    ``data_fields`` are children (arrays, traced values); ``meta_fields`` are
    static, kept in the treedef, and must be hashable. With neither given, a
    field declared ``dataclasses.field(metadata=dict(static=True))`` is meta
    and every other field is data. With one given, the other defaults to the
    remaining fields.

        >>> @register_dataclass
        ... @dataclasses.dataclass
        ... class Params:
        ...     w: object
        ...     b: object
        >>> tree_leaves(Params(w=1, b=2))
        [1, 2]

    With explicit fields, decorate with
    ``@register_dataclass(data_fields=['w'], meta_fields=['name'])``.
    """
    if nodetype is None:  # called with keyword arguments only: return a decorator
        return lambda cls: register_dataclass(cls, data_fields, meta_fields)
    if not dataclasses.is_dataclass(nodetype):
        raise TypeError(f"register_dataclass expects a dataclass, got {nodetype!r}; "
                        "decorate it with @dataclasses.dataclass first.")
    init_fields = [f for f in dataclasses.fields(nodetype) if f.init]
    names = [f.name for f in init_fields]
    if data_fields is None and meta_fields is None:
        meta_fields = [f.name for f in init_fields if f.metadata.get("static", False)]
    if data_fields is None:
        data_fields = [n for n in names if n not in meta_fields]
    if meta_fields is None:
        meta_fields = [n for n in names if n not in data_fields]
    data_fields, meta_fields = tuple(data_fields), tuple(meta_fields)
    if sorted(data_fields + meta_fields) != sorted(names):
        raise ValueError(f"register_dataclass({nodetype.__name__}): data_fields {list(data_fields)} "
                         f"and meta_fields {list(meta_fields)} must together name each "
                         f"init field {names} exactly once.")

    def flatten(x):
        meta = tuple(getattr(x, n) for n in meta_fields)
        for n, v in zip(meta_fields, meta):  # fail here, not later inside a jit cache
            try:
                hash(v)
            except TypeError:
                raise TypeError(f"meta field {n!r} of {nodetype.__name__} must be hashable, "
                                f"got {type(v).__name__}; make it a data field or use a tuple.") from None
        return [getattr(x, n) for n in data_fields], meta

    def unflatten(aux, children):
        return nodetype(**dict(zip(data_fields, children)), **dict(zip(meta_fields, aux)))

    _add(nodetype, "custom", flatten, lambda t, aux, cs: unflatten(aux, cs), field_names=data_fields)
    return nodetype


# ----------------------------------------------------------------- PyTreeDef

class PyTreeDef:
    """The shape of a pytree: node types, their static data, and where leaves go.

    A leaf is a PyTreeDef with ``node_type is None``. Treedefs are immutable
    and hashable, so ``jit`` can use them in its cache key.
    """
    __slots__ = ("_type", "_aux", "_children", "num_leaves", "num_nodes")

    def __init__(self, node_type, aux, children):
        set_ = functools.partial(object.__setattr__, self)
        set_("_type", node_type)
        set_("_aux", aux)
        set_("_children", tuple(children))
        set_("num_leaves", 1 if node_type is None else sum(c.num_leaves for c in self._children))
        set_("num_nodes", 1 + sum(c.num_nodes for c in self._children))

    def __setattr__(self, name, value):
        raise AttributeError("PyTreeDef is immutable")

    def __reduce__(self):  # lets copy/pickle rebuild it through __init__
        return PyTreeDef, (self._type, self._aux, self._children)

    def children(self):
        """The treedefs of this node's direct children."""
        return list(self._children)

    def node_data(self):
        """``(node_type, aux_data)`` of the root node; None for a leaf."""
        return None if self._type is None else (self._type, self._aux)

    def unflatten(self, leaves):
        """Build a pytree of this shape from ``leaves`` (any iterable)."""
        leaves = list(leaves)
        if len(leaves) != self.num_leaves:
            few = "few" if len(leaves) < self.num_leaves else "many"
            raise ValueError(f"Too {few} leaves for {self!r}; expected {self.num_leaves}, "
                             f"got {len(leaves)}.")
        return self._build(iter(leaves))

    def _build(self, leaves):
        if self._type is None:
            return next(leaves)
        children = [c._build(leaves) for c in self._children]
        return _node_kind(self._type).unflatten(self._type, self._aux, children)

    def flatten_up_to(self, tree):
        """The subtrees of ``tree`` that sit at this treedef's leaves.

        ``self`` must be a prefix of ``tree``'s structure: every node of
        ``self`` must appear in ``tree``, while a leaf of ``self`` may stand
        for a whole subtree of ``tree`` (this is how ``vmap``'s ``in_axes=(0,
        None)`` applies to pytree arguments)::

            >>> tree_structure((0, 0)).flatten_up_to(([1, 2], {'a': 3}))
            [[1, 2], {'a': 3}]
        """
        try:
            return _match(self, tree)
        except _Mismatch as e:
            raise ValueError(f"Tree structure mismatch in flatten_up_to: the tree "
                             f"{tree_structure(tree)!r} does not have the prefix {self!r}; "
                             f"{e}") from None

    # Equality: same node types, same aux data, same children, recursively.
    def __eq__(self, other):
        if not isinstance(other, PyTreeDef):
            return NotImplemented
        return (self._type is other._type and self._aux == other._aux
                and self._children == other._children)

    def __hash__(self):
        # Aux data only has to be comparable with ``==`` (a custom node may keep a
        # dict there, as JAX allows): unhashable aux data hashes by its type, and
        # ``__eq__`` then tells equal-hash treedefs apart.
        try:
            aux_hash = hash(self._aux)
        except TypeError:
            aux_hash = hash(type(self._aux))
        return hash((self._type, aux_hash, self._children))

    def __repr__(self):
        return f"PyTreeDef({self._str()})"

    def _str(self):
        if self._type is None:
            return "*"
        kind, cs = _node_kind(self._type).kind, [c._str() for c in self._children]
        if kind == "none":
            return "None"
        if kind == "tuple":
            return "(" + ", ".join(cs) + ("," if len(cs) == 1 else "") + ")"
        if kind == "list":
            return "[" + ", ".join(cs) + "]"
        if kind == "namedtuple":   # as JAX prints it: a custom node tagged with the class
            return f"CustomNode(namedtuple[{self._type.__name__}], [{', '.join(cs)}])"
        if kind in ("dict", "ordereddict", "defaultdict"):
            keys = self._aux[1] if kind == "defaultdict" else self._aux
            body = "{" + ", ".join(f"{k!r}: {c}" for k, c in zip(keys, cs)) + "}"
            if kind == "ordereddict":
                return f"OrderedDict({body})"
            return f"defaultdict({self._aux[0]!r}, {body})" if kind == "defaultdict" else body
        return f"CustomNode({self._type.__name__}[{self._aux!r}], [{', '.join(cs)}])"


# ------------------------------------------------------------ flatten / match

def _flatten(x, is_leaf, leaves):
    if is_leaf is not None and is_leaf(x):
        leaves.append(x)
        return PyTreeDef(None, None, ())
    kind = _node_kind(type(x))
    if kind is None:
        leaves.append(x)
        return PyTreeDef(None, None, ())
    children, aux = kind.flatten(x)
    return PyTreeDef(type(x), aux, [_flatten(c, is_leaf, leaves) for c in children])


class _Mismatch(Exception):
    """Internal: a structure mismatch found by _match; callers add context."""


def _describe(node_type, aux, n_children):
    """A short phrase for a node in error messages, e.g. 'a list of length 3'."""
    if node_type is None:
        return "a leaf"
    kind = _node_kind(node_type).kind
    if kind == "none":
        return "None"
    if kind in ("tuple", "list"):
        return f"a {kind} of length {n_children}"
    if kind in ("dict", "ordereddict", "defaultdict"):
        keys = aux[1] if kind == "defaultdict" else aux
        return f"a {node_type.__name__} with keys {list(keys)}"
    if kind == "namedtuple":
        return f"a namedtuple {node_type.__name__}"
    return f"a {node_type.__name__} node with aux data {aux!r}"


# ------------------------------------------------------------------ key paths

# One step of a path from the root to a leaf; a path is a tuple of them, and
# `keystr` joins their strings: (DictKey('a'), SequenceKey(0)) is "['a'][0]".
@dataclasses.dataclass(frozen=True)
class SequenceKey:
    """The child at position `idx` of a tuple or list: prints `[0]`."""
    idx: int

    def __str__(self):
        return f"[{self.idx!r}]"


@dataclasses.dataclass(frozen=True)
class DictKey:
    """The child under `key` of a dict: prints `['a']`."""
    key: object

    def __str__(self):
        return f"[{self.key!r}]"


@dataclasses.dataclass(frozen=True)
class GetAttrKey:
    """The field `name` of a namedtuple or registered dataclass: prints `.x`."""
    name: str

    def __str__(self):
        return f".{self.name}"


@dataclasses.dataclass(frozen=True)
class FlattenedIndexKey:
    """The child at position `key` of a registered node's flattened children."""
    key: int

    def __str__(self):
        return f"[<flat index {self.key}>]"


def _child_keys(node_type, aux, n):
    """The key of each child of a node: its step in a path."""
    kind = _node_kind(node_type).kind
    if kind in ("dict", "ordereddict"):
        return [DictKey(k) for k in aux]
    if kind == "defaultdict":
        return [DictKey(k) for k in aux[1]]
    if kind == "namedtuple":
        return [GetAttrKey(f) for f in node_type._fields]
    if kind == "custom":
        names = _node_kind(node_type).field_names
        return [GetAttrKey(f) for f in names] if names else [FlattenedIndexKey(i) for i in range(n)]
    return [SequenceKey(i) for i in range(n)]


def keystr(keys, *, simple=False, separator=""):
    """A path as text: ``keystr((DictKey('a'), SequenceKey(0)))`` is ``"['a'][0]"``.

    ``simple=True`` writes just each key's value, joined by ``separator``:
    ``keystr(path, simple=True, separator='/')`` is ``"a/0"``.
    """
    if not simple:
        return separator.join(map(str, keys))
    values = [next(iter(dataclasses.asdict(k).values())) for k in keys]
    return separator.join(map(str, values))


def _leaf_paths(x, is_leaf, path, out):
    """Append the path of each leaf of ``x``, in ``tree_flatten``'s order."""
    kind = None if is_leaf is not None and is_leaf(x) else _node_kind(type(x))
    if kind is None:
        out.append(path)
        return
    children, aux = kind.flatten(x)
    children = list(children)
    for key, child in zip(_child_keys(type(x), aux, len(children)), children):
        _leaf_paths(child, is_leaf, path + (key,), out)


def _match(treedef, tree, path="tree"):
    """List the subtrees of ``tree`` at the leaves of ``treedef`` (a prefix)."""
    if treedef._type is None:
        return [tree]
    kind = _node_kind(type(tree))
    if kind is None:
        children, aux = None, None
        got = f"a leaf of type {type(tree).__name__}: {tree!r:.60}"
    else:
        children, aux = kind.flatten(tree)
        children = list(children)
        got = _describe(type(tree), aux, len(children))
    want = _describe(treedef._type, treedef._aux, len(treedef._children))
    if type(tree) is not treedef._type or aux != treedef._aux \
            or len(children) != len(treedef._children):
        detail = f"at {path}: expected {want}, got {got}"
        if type(tree) is treedef._type and kind.kind in ("dict", "ordereddict"):
            missing = [k for k in treedef._aux if k not in aux]
            extra = [k for k in aux if k not in treedef._aux]
            if missing or extra:
                detail += f" (missing keys {missing}, unexpected keys {extra})"
            else:
                detail += " (same keys in a different order)"
        raise _Mismatch(detail)
    keys = _child_keys(treedef._type, treedef._aux, len(children))
    out = []
    for key, child, sub in zip(keys, children, treedef._children):
        out.extend(_match(sub, child, path + str(key)))
    return out


# ------------------------------------------------------------- public API

def tree_flatten(tree, is_leaf=None):
    """Split ``tree`` into ``(leaves, treedef)``.

    ``is_leaf(x) -> True`` stops the recursion at ``x`` (it becomes a leaf).

        >>> tree_flatten((1, [2, None]))
        ([1, 2], PyTreeDef((*, [*, None])))
    """
    leaves = []
    treedef = _flatten(tree, is_leaf, leaves)
    return leaves, treedef


def tree_unflatten(treedef, leaves):
    """Inverse of ``tree_flatten``: ``tree_unflatten(treedef, [1, 2])``."""
    return treedef.unflatten(leaves)


def tree_leaves(tree, is_leaf=None):
    """The leaves of ``tree``, left to right: ``tree_leaves([None, 1]) == [1]``."""
    return tree_flatten(tree, is_leaf)[0]


def tree_structure(tree, is_leaf=None):
    """The ``PyTreeDef`` of ``tree``: ``tree_structure((1, 2))`` is ``PyTreeDef((*, *))``."""
    return tree_flatten(tree, is_leaf)[1]


def flatten_up_to(treedef, tree):
    """Function form of ``PyTreeDef.flatten_up_to``."""
    return treedef.flatten_up_to(tree)


def tree_map(f, tree, *rest, is_leaf=None):
    """Apply ``f`` to each leaf, returning a tree of the same shape.

    With several trees, ``f`` gets the matching leaves of each. ``tree``
    must be a prefix of every tree in ``rest``: where ``tree`` has a leaf,
    the others may hold a whole subtree, which ``f`` then receives.

        >>> tree_map(lambda x, y: x + y, {'a': 1, 'b': (2, 3)}, {'a': 10, 'b': (20, 30)})
        {'a': 11, 'b': (22, 33)}
    """
    leaves, treedef = tree_flatten(tree, is_leaf)
    others = _rest_leaves(treedef, rest, "tree_map")
    return treedef.unflatten(f(*xs) for xs in zip(leaves, *others))


def _rest_leaves(treedef, rest, who):
    """The subtrees of each tree in ``rest`` at ``treedef``'s leaves (a prefix)."""
    others = []
    for i, r in enumerate(rest):
        try:
            others.append(_match(treedef, r, path=f"rest[{i}]"))
        except _Mismatch as e:
            raise ValueError(f"Tree structures do not match: {who}(f, tree, *rest) got "
                             f"tree {treedef!r} and rest[{i}] {tree_structure(r)!r}; "
                             f"{e}") from None
    return others


def tree_flatten_with_path(tree, is_leaf=None):
    """Like ``tree_flatten``, with each leaf's path from the root.

        >>> tree_flatten_with_path({'a': [1, 2]})[0]
        [((DictKey(key='a'), SequenceKey(idx=0)), 1), ((DictKey(key='a'), SequenceKey(idx=1)), 2)]
    """
    leaves, treedef = tree_flatten(tree, is_leaf)
    paths = []
    _leaf_paths(tree, is_leaf, (), paths)
    return list(zip(paths, leaves)), treedef


def tree_leaves_with_path(tree, is_leaf=None):
    """The ``(path, leaf)`` pairs of ``tree``: ``tree_flatten_with_path(tree)[0]``."""
    return tree_flatten_with_path(tree, is_leaf)[0]


def tree_map_with_path(f, tree, *rest, is_leaf=None):
    """``tree_map`` where ``f`` also gets each leaf's path first.

        >>> tree_map_with_path(lambda path, x: keystr(path), {'a': [1, 2]})
        {'a': ["['a'][0]", "['a'][1]"]}
    """
    pairs, treedef = tree_flatten_with_path(tree, is_leaf)
    others = _rest_leaves(treedef, rest, "tree_map_with_path")
    return treedef.unflatten(f(path, x, *xs) for (path, x), *xs in zip(pairs, *others))


_no_initializer = object()


def tree_reduce(function, tree, initializer=_no_initializer, is_leaf=None):
    """``functools.reduce`` over the leaves: ``tree_reduce(operator.add, [1, (2, 3)]) == 6``."""
    if initializer is _no_initializer:
        return functools.reduce(function, tree_leaves(tree, is_leaf))
    return functools.reduce(function, tree_leaves(tree, is_leaf), initializer)


def tree_all(tree, is_leaf=None):
    """True when every leaf is truthy: ``tree_all([True, {'a': 1}])``."""
    return all(tree_leaves(tree, is_leaf))


def all_leaves(iterable, is_leaf=None):
    """True when no element of ``iterable`` is a pytree node (``None`` is a node)."""
    return all(tree_structure(x, is_leaf)._type is None for x in iterable)


def tree_transpose(outer_treedef, inner_treedef, pytree_to_transpose):
    """Turn an outer tree of inner trees into an inner tree of outer trees.

        >>> tree_transpose(tree_structure([0, 0]), tree_structure((0, 0)), [(1, 2), (3, 4)])
        ([1, 3], [2, 4])
    """
    outer = outer_treedef.flatten_up_to(pytree_to_transpose)
    inner = [inner_treedef.flatten_up_to(sub) for sub in outer]
    columns = [outer_treedef.unflatten(col) for col in zip(*inner)]
    if not inner:  # an empty outer tree: every inner leaf is an empty outer tree
        columns = [outer_treedef.unflatten([])] * inner_treedef.num_leaves
    return inner_treedef.unflatten(columns)


# ``tinygrad_tracer.tree`` (like ``jax.tree``): short names for the functions above.
def flatten_fun(fun, in_tree):
    """Wrap `fun` (of pytrees) as a function of flat leaves returning flat leaves.

    Returns (flat_fun, out_tree) where `out_tree()` gives the output treedef once
    flat_fun has run. Transformations work on flat lists; this is the adapter.
    """
    store = []

    def flat_fun(*leaves):
        args = tree_unflatten(in_tree, leaves)
        out_leaves, out_treedef = tree_flatten(fun(*args))
        store[:] = [out_treedef]
        return out_leaves

    def out_tree():
        if not store:
            raise RuntimeError("out_tree() is only known after the function has been called")
        return store[0]
    return flat_fun, out_tree


tree_namespace = types.SimpleNamespace(
    map=tree_map, leaves=tree_leaves, structure=tree_structure, flatten=tree_flatten,
    unflatten=tree_unflatten, reduce=tree_reduce, all=tree_all, transpose=tree_transpose,
    flatten_with_path=tree_flatten_with_path, leaves_with_path=tree_leaves_with_path,
    map_with_path=tree_map_with_path,
)
