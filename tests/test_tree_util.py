"""Tests for tinygrad_tracer.tree_util (JAX's jax.tree_util semantics)."""
import collections
import copy
import dataclasses
import operator
import pickle
import re

import pytest
from hypothesis import given, strategies as st

from tinygrad_tracer import tree_util
from tinygrad_tracer.tree_util import (
    PyTreeDef, all_leaves, flatten_up_to, register_dataclass, register_pytree_node,
    register_pytree_node_class, tree_all, tree_flatten, tree_leaves, tree_map,
    tree_reduce, tree_structure, tree_transpose, tree_unflatten)

Point = collections.namedtuple("Point", "x y")


# --------------------------------------------------------------- strategies

def _extend(children):
    return st.one_of(
        st.lists(children, max_size=3).map(tuple),
        st.lists(children, max_size=3),
        st.dictionaries(st.text("abc", min_size=1, max_size=2), children, max_size=3),
        st.builds(Point, children, children),
    )


trees = st.recursive(st.one_of(st.integers(), st.none()), _extend, max_leaves=12)


def reference_leaves(t):
    """An independent, obvious walk: sorted dict keys, None has no leaves."""
    if t is None:
        return []
    if isinstance(t, (tuple, list)):
        return [leaf for c in t for leaf in reference_leaves(c)]
    if isinstance(t, dict):
        return [leaf for k in sorted(t) for leaf in reference_leaves(t[k])]
    return [t]


def reference_num_nodes(t):
    if isinstance(t, (tuple, list)):
        return 1 + sum(map(reference_num_nodes, t))
    if isinstance(t, dict):
        return 1 + sum(map(reference_num_nodes, t.values()))
    return 1


# ------------------------------------------------------------ property tests

@given(trees)
def test_flatten_unflatten_round_trip(t):
    leaves, treedef = tree_flatten(t)
    assert leaves == reference_leaves(t)
    assert treedef.num_leaves == len(leaves)
    assert treedef.num_nodes == reference_num_nodes(t)
    rebuilt = tree_unflatten(treedef, leaves)
    assert rebuilt == t
    assert tree_structure(rebuilt) == treedef  # types (tuple vs list vs Point) survive


@given(trees)
def test_structure_ignores_leaf_values_and_hashes_equal(t):
    treedef = tree_structure(t)
    other = tree_structure(tree_map(lambda x: str(x * 3), t))
    assert treedef == other and hash(treedef) == hash(other)
    assert {treedef: "cached"}[other] == "cached"


@given(trees)
def test_tree_map_two_trees_and_self_prefix(t):
    scaled = tree_map(lambda x: 10 * x, t)
    summed = tree_map(operator.add, t, scaled)
    assert tree_leaves(summed) == [11 * x for x in tree_leaves(t)]
    assert tree_structure(t).flatten_up_to(t) == tree_leaves(t)
    assert tree_structure(0).flatten_up_to(t) == [t]  # a leaf is a prefix of anything


# ------------------------------------------------------------ structure basics

def test_treedef_equality_distinguishes_node_types_and_keys():
    s = tree_structure
    assert s((1, 2)) != s([1, 2])
    assert s({"a": 1}) != s({"b": 1})
    assert s(Point(1, 2)) != s((1, 2))
    assert s(None) != s(1)
    assert s(collections.OrderedDict(a=1)) != s({"a": 1})
    assert s([1, [2]]) != s([1, [2, 3]])
    assert s((1, 2)) != (1, 2)  # not equal to non-treedefs


def test_reprs():
    s = tree_structure
    assert repr(s((1, {"b": [2, 3], "a": 4}))) == "PyTreeDef((*, {'a': *, 'b': [*, *]}))"
    assert repr(s(None)) == "PyTreeDef(None)"
    assert repr(s(1)) == "PyTreeDef(*)"
    assert repr(s((1,))) == "PyTreeDef((*,))"
    assert repr(s(())) == "PyTreeDef(())"
    assert repr(s(Point(1, (2, None)))) == "PyTreeDef(CustomNode(namedtuple[Point], [*, (*, None)]))"
    assert repr(s(collections.OrderedDict(b=1, a=2))) == "PyTreeDef(OrderedDict({'b': *, 'a': *}))"


def test_dict_children_sorted_by_key():
    leaves, treedef = tree_flatten({"b": 1, "a": 2, "c": 3})
    assert leaves == [2, 1, 3]
    assert list(tree_unflatten(treedef, [7, 8, 9])) == ["a", "b", "c"]
    assert tree_structure({"b": 1, "a": 2}) == tree_structure({"a": 1, "b": 2})
    # OrderedDict keeps insertion order, like JAX.
    assert tree_leaves(collections.OrderedDict(b=1, a=2)) == [1, 2]
    dd = collections.defaultdict(list, {"b": 1, "a": 2})
    out = tree_map(lambda x: x + 1, dd)
    assert isinstance(out, collections.defaultdict) and out.default_factory is list
    assert dict(out) == {"a": 3, "b": 2}


def test_none_is_an_empty_subtree():
    assert tree_leaves([None, 1]) == [1]
    leaves, treedef = tree_flatten(None)
    assert leaves == [] and treedef.num_leaves == 0 and treedef.num_nodes == 1
    assert tree_unflatten(treedef, []) is None
    assert tree_map(lambda x: x + 1, (None, 1)) == (None, 2)
    # is_leaf can turn None into a leaf, as vmap does for in_axes.
    assert tree_leaves([None, 1], is_leaf=lambda x: x is None) == [None, 1]


def test_is_leaf_stops_recursion():
    pairs = [(1, 2), (3,), {"k": (4, 5)}]
    is_pair = lambda x: isinstance(x, tuple) and len(x) == 2  # noqa: E731
    assert tree_leaves(pairs, is_leaf=is_pair) == [(1, 2), 3, (4, 5)]
    # the pairs reach f whole: x * 2 repeats a tuple, doubles an int
    assert tree_map(lambda x: x * 2, pairs, is_leaf=is_pair) == [(1, 2, 1, 2), (6,), {"k": (4, 5, 4, 5)}]
    assert tree_leaves((1, 2), is_leaf=lambda x: True) == [(1, 2)]


def test_children_node_data_and_immutability():
    treedef = tree_structure((1, [2, 3]))
    assert treedef.children() == [tree_structure(1), tree_structure([2, 3])]
    assert treedef.node_data() == (tuple, None)
    assert tree_structure(5).node_data() is None
    with pytest.raises(AttributeError, match="immutable"):
        treedef.num_leaves = 7
    assert copy.deepcopy(treedef) == treedef
    assert pickle.loads(pickle.dumps(treedef)) == treedef


def test_unflatten_wrong_number_of_leaves():
    treedef = tree_structure({"a": 1, "b": (2, 3)})
    with pytest.raises(ValueError, match="Too many leaves.*expected 3, got 4"):
        tree_unflatten(treedef, [1, 2, 3, 4])
    with pytest.raises(ValueError, match="Too few leaves.*expected 3, got 1"):
        treedef.unflatten([1])
    assert tree_unflatten(treedef, iter([1, 2, 3])) == {"a": 1, "b": (2, 3)}


def test_unsortable_dict_keys_give_clear_error():
    with pytest.raises(ValueError, match="keys must be sortable"):
        tree_leaves({1: "x", "a": "y"})


# ------------------------------------------------------------ registration

class Pair:
    def __init__(self, a, b, tag="t"):
        self.a, self.b, self.tag = a, b, tag


register_pytree_node(Pair, lambda p: ((p.a, p.b), p.tag), lambda tag, cs: Pair(*cs, tag=tag))


def test_register_pytree_node():
    leaves, treedef = tree_flatten([Pair(1, (2, 3)), 4])
    assert leaves == [1, 2, 3, 4]
    assert repr(treedef) == "PyTreeDef([CustomNode(Pair['t'], [*, (*, *)]), *])"
    out = tree_unflatten(treedef, [10, 20, 30, 40])
    assert isinstance(out[0], Pair) and (out[0].a, out[0].b, out[0].tag) == (10, (20, 30), "t")
    # aux data is part of the structure
    assert tree_structure(Pair(1, 2, "x")) != tree_structure(Pair(1, 2, "y"))
    with pytest.raises(ValueError, match="already registered"):
        register_pytree_node(Pair, lambda p: ((), None), lambda aux, cs: Pair(0, 0))
    with pytest.raises(ValueError, match="already registered"):
        register_pytree_node(tuple, lambda p: ((), None), lambda aux, cs: ())


@register_pytree_node_class
class Box:
    def __init__(self, value):
        self.value = value

    def tree_flatten(self):
        return (self.value,), ()

    @classmethod
    def tree_unflatten(cls, aux, children):
        return cls(*children)


def test_register_pytree_node_class():
    assert isinstance(Box(1), Box)  # the decorator returned the class itself
    boxed = tree_map(lambda x: x * 2, {"b": Box([1, 2])})
    assert isinstance(boxed["b"], Box) and boxed["b"].value == [2, 4]
    assert repr(tree_structure(Box(1))) == "PyTreeDef(CustomNode(Box[()], [*]))"


@register_dataclass
@dataclasses.dataclass
class Params:
    w: object
    b: object
    name: str = dataclasses.field(default="p", metadata=dict(static=True))


@register_dataclass(data_fields=["x"], meta_fields=["scale"])
@dataclasses.dataclass
class Scaled:
    x: object
    scale: object


def test_register_dataclass_default_fields():
    p = Params(w=[1, 2], b=3, name="layer")
    assert tree_leaves(p) == [1, 2, 3]  # static field `name` is not a leaf
    out = tree_map(lambda v: v + 1, p)
    assert out == Params(w=[2, 3], b=4, name="layer")
    assert tree_structure(p) != tree_structure(Params(w=[1, 2], b=3, name="other"))


def test_register_dataclass_meta_fields():
    s = Scaled(x=(1, 2), scale=0.5)
    assert tree_leaves(s) == [1, 2]
    assert tree_map(lambda v: -v, s) == Scaled(x=(-1, -2), scale=0.5)
    assert tree_structure(s) != tree_structure(Scaled(x=(1, 2), scale=2.0))
    with pytest.raises(TypeError, match="meta field 'scale' of Scaled must be hashable"):
        tree_flatten(Scaled(x=1, scale=[1, 2]))


def test_register_dataclass_rejects_bad_fields():
    @dataclasses.dataclass
    class D:
        a: int
        b: int
    with pytest.raises(ValueError, match="exactly once"):
        register_dataclass(D, data_fields=["a"], meta_fields=["a", "b"])
    with pytest.raises(TypeError, match="expects a dataclass"):
        register_dataclass(Pair)


# ------------------------------------------------------- mismatches & prefixes

def test_tree_map_mismatch_messages():
    with pytest.raises(ValueError, match=re.escape(
            "Tree structures do not match: tree_map(f, tree, *rest) got tree "
            "PyTreeDef({'a': *, 'b': [*, *]}) and rest[0] PyTreeDef({'a': *, 'b': [*, *, *]}); "
            "at rest[0]['b']: expected a list of length 2, got a list of length 3")):
        tree_map(operator.add, {"a": 1, "b": [2, 3]}, {"a": 1, "b": [2, 3, 4]})
    with pytest.raises(ValueError, match=r"rest\[1\].*missing keys \['b'\], unexpected keys \['c'\]"):
        tree_map(lambda *xs: 0, {"a": 1, "b": 2}, {"a": 1, "b": 2}, {"a": 1, "c": 2})
    with pytest.raises(ValueError, match=r"at rest\[0\]\[0\]: expected a tuple of length 1, got a list"):
        tree_map(lambda *xs: 0, [(1,)], [[1]])
    with pytest.raises(ValueError, match=r"at rest\[0\]\.y: expected None, got a leaf of type int"):
        tree_map(lambda *xs: 0, Point(1, None), Point(1, 2))
    with pytest.raises(ValueError, match=r"expected a Pair node with aux data 'x', got a Pair node"):
        tree_map(lambda *xs: 0, Pair(1, 2, "x"), Pair(1, 2, "y"))


def test_tree_map_prefix_passes_subtrees():
    out = tree_map(lambda a, b: (a, b), (1, 2), ([3, 4], {"k": 5}))
    assert out == ((1, [3, 4]), (2, {"k": 5}))


def test_flatten_up_to():
    axes = tree_structure((0, None, {"w": 1}), is_leaf=lambda x: x is None)
    args = ([1, 2], Point(3, 4), {"w": (5, 6)})
    assert axes.flatten_up_to(args) == [[1, 2], Point(3, 4), (5, 6)]
    assert flatten_up_to(axes, args) == axes.flatten_up_to(args)
    with pytest.raises(ValueError, match=re.escape(
            "the tree PyTreeDef((*, *)) does not have the prefix PyTreeDef((*, *, {'w': *})); "
            "at tree: expected a tuple of length 3, got a tuple of length 2")):
        axes.flatten_up_to((1, 2))
    with pytest.raises(ValueError, match=r"at tree\[2\]: expected a dict with keys \['w'\], got a leaf"):
        axes.flatten_up_to((1, 2, 3))


# ------------------------------------------------------------ small helpers

def test_reduce_all_transpose_all_leaves():
    assert tree_reduce(operator.add, [1, (2, {"a": 3})]) == 6
    assert tree_reduce(operator.add, [], initializer=10) == 10
    assert tree_all([True, {"a": 1}]) and not tree_all([True, (0,)])
    assert tree_all(None)  # no leaves: vacuously true
    assert all_leaves([1, "a", 2.0]) and not all_leaves([1, None]) and not all_leaves([(1,)])
    outer, inner = tree_structure([0, 0, 0]), tree_structure((0, 0))
    assert tree_transpose(outer, inner, [(1, 2), (3, 4), (5, 6)]) == ([1, 3, 5], [2, 4, 6])


def test_tree_namespace():
    ns = tree_util.tree_namespace
    assert ns.map(lambda x: x + 1, {"a": 1}) == {"a": 2}
    leaves, treedef = ns.flatten((1, [2]))
    assert leaves == [1, 2] and ns.unflatten(treedef, [3, 4]) == (3, [4])
    assert ns.leaves([None, 1]) == [1]
    assert isinstance(ns.structure(1), PyTreeDef)
    assert ns.reduce(operator.mul, (2, 3)) == 6 and ns.all([1, 1])


# ------------------------------------------- matching JAX (issue 15, items 3-5)

class _WithDictAux:
    """A custom node whose aux data is a dict (unhashable), as JAX allows."""
    def __init__(self, a, meta):
        self.a, self.meta = a, meta


register_pytree_node(_WithDictAux, lambda d: ((d.a,), d.meta), lambda meta, cs: _WithDictAux(cs[0], meta))


def test_unhashable_aux_data_works_under_jit():
    import tinygrad_tracer as tt
    t1, t2 = tree_structure(_WithDictAux(1.0, {"k": 1})), tree_structure(_WithDictAux(2.0, {"k": 1}))
    assert t1 == t2 and hash(t1) == hash(t2)
    assert t1 != tree_structure(_WithDictAux(1.0, {"k": 2}))
    f = tt.jit(lambda d: d.a * 2)
    assert float(f(_WithDictAux(1.0, {"k": 1}))) == 2.0
    assert float(f(_WithDictAux(2.0, {"k": 1}))) == 4.0
    assert f.trace_count == 1                    # equal aux data: one trace
    assert float(f(_WithDictAux(3.0, {"k": 2}))) == 6.0
    assert f.trace_count == 2                    # different aux data: a new trace
    out = tt.jit(lambda d: d)(_WithDictAux(1.0, {"k": 1}))
    assert out.meta == {"k": 1} and float(out.a) == 1.0


def test_namedtuple_and_mixed_keys_match_jax(real_jax):
    P = collections.namedtuple("Params", "w b")
    tree = P(1, (2, 3))
    assert repr(tree_structure(tree)) == "PyTreeDef(CustomNode(namedtuple[Params], [*, (*, *)]))"
    assert repr(tree_structure(tree)) == repr(real_jax.tree_util.tree_structure(tree))
    with pytest.raises(ValueError):
        real_jax.tree_util.tree_flatten({1: 2, "a": 3})
    with pytest.raises(ValueError):
        tree_flatten({1: 2, "a": 3})
