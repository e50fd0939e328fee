"""How NNX turns a graph of mutable Python objects into the pure values that
`jit` and `grad` need, and back.

A model is ordinary Python objects: a `Module` whose attributes are other
modules, lists of modules, `Variable`s (boxes holding arrays) and plain
settings (sizes, strides, activation functions). `grad` and `jit` only
understand pytrees of arrays, and they must be free to call the function on
new values (tracers). So NNX splits the object graph in two:

    model  --split-->  graphdef  +  state
                       (static:      (a nested dict, path -> Variable:
                        the types,    every array in the model, the
                        settings,     only thing a transform sees)
                        who shares
                        whom)

`split` walks the graph depth first, attributes in sorted order, giving each
object it meets an index. An object met a second time (a layer shared by two
parents, the model held by its optimizer) becomes a `NodeRef` to its index,
so sharing survives the round trip. `merge(graphdef, state)` builds a fresh
copy of the objects from the two halves; `update(model, state)` writes new
values into the existing Variables instead. With those, any function of
modules becomes a pure function of states (see transforms.py):

    graphdef, state = split(model)
    def pure(state, x):
        model = merge(graphdef, state)       # fresh objects holding tracers
        y = f(model, x)                      # may mutate the copy freely
        return y, split(model)[1]            # the mutated state is an output
    y, new_state = jax.jit(pure)(state, x)
    update(model, new_state)                 # the caller's objects see it
"""
from .. import tree_util

__all__ = ['Object', 'Variable', 'Param', 'BatchStat', 'Cache', 'Intermediate', 'State',
           'GraphDef', 'NodeDef', 'VariableDef', 'NodeRef', 'Static', 'split', 'merge',
           'state', 'graphdef', 'update', 'clone', 'iter_graph', 'variables_to_arrays']


# --- the two kinds of objects in a graph -----------------------------------------------

class Object:
    """Base of every object NNX walks into: modules, Rngs, optimizers, metrics.
    Their attributes (in `vars(obj)`) are the graph's edges."""


class Variable:
    """A mutable box around one array: the leaves of the object graph.

    Read and write it as `v.value` or `v[...]`. Its type says what the array is
    for: `Param` (trained by the optimizer), `BatchStat` (running statistics),
    and so on; filters such as `nnx.state(model, nnx.BatchStat)` select by it.
    A Variable is also a pytree node with the value as its one child, so a
    `State` of Params can go through `jax.grad` and come back as a State of
    Params holding gradients.
    """

    def __init__(self, value, **metadata):
        self.value = value
        self.metadata = metadata

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        tree_util.register_pytree_node(cls, _flatten_variable, _unflatten_variable(cls))

    def __getitem__(self, index):
        return self.value if index is Ellipsis else self.value[index]

    def __setitem__(self, index, value):
        self.value = value if index is Ellipsis else self.value.at[index].set(value)

    def get_value(self):
        return self.value

    def set_value(self, value):
        self.value = value

    @property
    def shape(self):
        return self.value.shape

    @property
    def dtype(self):
        return self.value.dtype

    @property
    def size(self):
        return self.value.size

    def __repr__(self):
        value = self.value
        if hasattr(value, 'shape') and getattr(value, 'ndim', 0) > 0:
            value = f'Array(shape={tuple(value.shape)}, dtype={value.dtype})'
        return f'{type(self).__name__}(value={value})'


def _flatten_variable(v):
    return [v.value], tuple(sorted(v.metadata.items()))


def _unflatten_variable(cls):
    def unflatten(metadata, children):
        v = cls.__new__(cls)
        v.value, = children
        v.metadata = dict(metadata)
        return v
    return unflatten


tree_util.register_pytree_node(Variable, _flatten_variable, _unflatten_variable(Variable))


class Param(Variable):
    """A trainable parameter: what `nnx.grad` differentiates and `Optimizer` updates."""


class BatchStat(Variable):
    """A running statistic (BatchNorm's mean and variance): state, not trained."""


class Cache(Variable):
    """Values kept between calls (e.g. a decoder's key/value cache)."""


class Intermediate(Variable):
    """A value recorded during the forward pass (`sow`)."""


# --- State: the arrays of a graph, as a nested dict ------------------------------------------

def _key_order(key):
    return (type(key).__name__, key)


class State(dict):
    """A nested dict from attribute names to Variables: the "state" half of `split`.

    `state['layer1']['kernel']` (or `state.layer1.kernel`) is the Param at that
    path. It is a pytree (keys in sorted order), so it goes through `jax.jit`,
    `jax.grad` and `optax` like any dict of arrays.
    """

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def flat_state(self):
        """[(path, leaf)] for every leaf, paths as tuples of keys."""
        out = []
        for key in sorted(self, key=_key_order):
            value = self[key]
            if isinstance(value, State):
                out.extend(((key,) + path, leaf) for path, leaf in value.flat_state())
            else:
                out.append(((key,), value))
        return out

    @classmethod
    def from_flat_state(cls, pairs):
        root = cls()
        for path, leaf in pairs:
            node = root
            for key in path[:-1]:
                node = node.setdefault(key, cls())
            node[path[-1]] = leaf
        return root

    def __repr__(self):
        return 'State(' + _pretty_dict(self, '') + ')'


def _pretty_dict(d, indent):
    if not d:
        return '{}'
    inner = indent + '  '
    lines = [f'{inner}{key!r}: ' + (_pretty_dict(d[key], inner) if isinstance(d[key], dict) else repr(d[key]))
             for key in sorted(d, key=_key_order)]
    return '{\n' + ',\n'.join(lines) + '\n' + indent + '}'


tree_util.register_pytree_node(
    State,
    lambda s: ([s[k] for k in sorted(s, key=_key_order)], tuple(sorted(s, key=_key_order))),
    lambda keys, values: State(zip(keys, values)))


def variables_to_arrays(tree):
    """The same tree with each Variable replaced by its value (what optax works on)."""
    return tree_util.tree_map(lambda v: v.value, tree, is_leaf=lambda x: isinstance(x, Variable))


# --- GraphDef: the static half ------------------------------------------------------------

class Static:
    """A setting stored in the graphdef (an int, a tuple, a function...).

    GraphDefs are `jit` cache keys, so they must hash and compare; a value
    that cannot (a list) compares by `==` and hashes by its type.
    """
    __slots__ = ('value',)

    def __init__(self, value):
        self.value = value

    def __eq__(self, other):
        if not isinstance(other, Static):
            return NotImplemented
        if self.value is other.value:
            return True
        if type(self.value) is not type(other.value):
            return False
        try:
            equal = self.value == other.value
        except Exception:
            return False
        return equal if isinstance(equal, bool) else False

    def __hash__(self):
        try:
            return hash(self.value)
        except TypeError:
            return hash(type(self.value))

    def __repr__(self):
        return f'Static({self.value!r})'


class NodeDef(tuple):
    """(type, index, attributes): an object and, per attribute name, a NodeDef,
    VariableDef, NodeRef or Static."""
    __slots__ = ()

    def __new__(cls, type_, index, attributes):
        return super().__new__(cls, (type_, index, attributes))

    type = property(lambda self: self[0])
    index = property(lambda self: self[1])
    attributes = property(lambda self: self[2])

    def __repr__(self):
        return f'NodeDef({self.type.__name__}, index={self.index}, attributes={list(self.attributes)})'


class VariableDef(tuple):
    """(type, index, metadata): where a Variable sits; its value is in the State."""
    __slots__ = ()

    def __new__(cls, type_, index, metadata):
        return super().__new__(cls, (type_, index, metadata))

    type = property(lambda self: self[0])
    index = property(lambda self: self[1])
    metadata = property(lambda self: self[2])

    def __repr__(self):
        return f'VariableDef({self.type.__name__}, index={self.index})'


class NodeRef(tuple):
    """An object already met at `index`: the edge that keeps sharing shared."""
    __slots__ = ()

    def __new__(cls, index):
        return super().__new__(cls, (index,))

    index = property(lambda self: self[0])

    def __repr__(self):
        return f'NodeRef({self.index})'


GraphDef = NodeDef   # the root of a graph's definition is its root node's NodeDef


def _is_container(x):
    return type(x) in (list, dict, State) or isinstance(x, tuple) and not isinstance(x, (NodeDef, NodeRef, VariableDef))


def _holds_graph(x):
    """Objects and Variables are graph nodes; so is a list, tuple or dict holding one."""
    if isinstance(x, (Object, Variable)):
        return True
    if _is_container(x):
        return any(_holds_graph(v) for _, v in _children(x))
    return False


def _children(node):
    """(name, value) edges out of a node, in a fixed order."""
    if isinstance(node, Object):
        return sorted(vars(node).items())
    if isinstance(node, dict):
        return [(k, node[k]) for k in sorted(node, key=_key_order)]
    return list(enumerate(node))


def _flatten(root):
    """Walk the graph: (graphdef, [(path, Variable)], [(path, object)])."""
    index, variables, nodes = {}, [], []

    def visit(obj, path):
        if id(obj) in index:
            return NodeRef(index[id(obj)])
        index[id(obj)] = i = len(index)
        nodes.append((path, obj))
        if isinstance(obj, Variable):
            variables.append((path, obj))
            return VariableDef(type(obj), i, Static(tuple(sorted(obj.metadata.items()))))
        attributes = tuple(
            (name, visit(value, path + (name,)) if _holds_graph(value) else Static(value))
            for name, value in _children(obj))
        return NodeDef(type(obj), i, attributes)

    return visit(root, ()), variables, nodes


def _unflatten(graphdef, leaves):
    """Build fresh objects from a graphdef and {path: Variable or array}."""
    built = {}

    def build(d, path):
        if isinstance(d, NodeRef):
            return built[d.index]
        if isinstance(d, VariableDef):
            leaf = leaves[path]
            value = leaf.value if isinstance(leaf, Variable) else leaf
            built[d.index] = v = _unflatten_variable(d.type)(d.metadata.value, [value])
            return v
        cls = d.type
        value_of = lambda name, sub: sub.value if isinstance(sub, Static) else build(sub, path + (name,))
        if issubclass(cls, Object):
            built[d.index] = obj = cls.__new__(cls)
            for name, sub in d.attributes:
                vars(obj)[name] = value_of(name, sub)
        elif issubclass(cls, (list, dict)):
            built[d.index] = obj = cls()
            for name, sub in d.attributes:
                if isinstance(obj, list):
                    obj.append(value_of(name, sub))
                else:
                    obj[name] = value_of(name, sub)
        else:   # tuples and namedtuples: immutable, so built from their children
            items = [value_of(name, sub) for name, sub in d.attributes]
            built[d.index] = obj = cls(*items) if hasattr(cls, '_fields') else cls(items)
        return obj

    return build(graphdef, ())


# --- the public operations ----------------------------------------------------------------

def _matches(flt, path, variable):
    if flt is Ellipsis or flt is True:
        return True
    if isinstance(flt, type):
        return isinstance(variable, flt)
    if isinstance(flt, tuple):
        return any(_matches(f, path, variable) for f in flt)
    if callable(flt):
        return flt(path, variable)
    raise TypeError(f"unsupported filter {flt!r}: use a Variable type, ..., a tuple of filters "
                    "or a function (path, variable) -> bool")


def _snapshot(v):
    """A State holds copies, so writing to a state never changes the model."""
    return _unflatten_variable(type(v))(tuple(sorted(v.metadata.items())), [v.value])


def _partition(variables, filters, leftovers_ok):
    """States by filter: each Variable goes to the first filter it matches."""
    groups = [[] for _ in filters]
    for path, v in variables:
        for group, flt in zip(groups, filters):
            if _matches(flt, path, v):
                group.append((path, _snapshot(v)))
                break
        else:
            if not leftovers_ok:
                raise ValueError(f"no filter matched the {type(v).__name__} at "
                                 f"{'.'.join(map(str, path))}; end the filters with `...` to collect the rest")
    return [State.from_flat_state(g) for g in groups]


def split(node, *filters):
    """`(graphdef, state)`, or `(graphdef, state_1, ..., state_n)` for n filters
    (each Variable goes to the first filter it matches; all must be placed)."""
    graphdef, variables, _ = _flatten(node)
    return (graphdef, *_partition(variables, filters or (Ellipsis,), leftovers_ok=False))


def merge(graphdef, state, *states):
    """New objects built from `graphdef` and the states (the inverse of `split`)."""
    leaves = {}
    for s in (state, *states):
        leaves.update(s.flat_state())
    return _unflatten(graphdef, leaves)


def state(node, *filters):
    """The node's State, or only the Variables a filter selects (one State per
    filter when given several)."""
    states = _partition(_flatten(node)[1], filters or (Ellipsis,), leftovers_ok=True)
    return states[0] if len(states) == 1 else tuple(states)


def graphdef(node):
    """The static half of `split(node)`."""
    return _flatten(node)[0]


def update(node, *states):
    """Write the states' values into node's existing Variables, path by path."""
    new = {}
    for s in states:
        new.update(s.flat_state())
    for path, v in _flatten(node)[1]:
        if path in new:
            leaf = new[path]
            v.value = leaf.value if isinstance(leaf, Variable) else leaf


def clone(node):
    """A deep copy made of new objects (sharing inside it is kept)."""
    return merge(*split(node))


def iter_graph(node):
    """(path, object) for every object and Variable in the graph, each once."""
    return iter(_flatten(node)[2])
