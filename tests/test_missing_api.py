"""The API JAX's tutorials reach for (issue 15, item 2): jacobian, test_util,
debug.print/callback, typing, Array.sharding, key paths, .at[].get(mode='fill'),
convolve/correlate, gcd/lcm, cross, histogram, interp."""
import collections
import contextlib
import dataclasses
import io

import numpy as np
import pytest

import tinygrad_tracer as tt
import tinygrad_tracer.numpy as jnp
from tinygrad_tracer import tree_util
from tinygrad_tracer.test_util import check_grads


def test_jacobian_is_jacrev():
    assert tt.jacobian is tt.jacrev
    np.testing.assert_allclose(tt.jacobian(lambda x: x ** 2)(jnp.array([1., 2.])), [[2., 0.], [0., 4.]])


# ------------------------------------------------------------------ check_grads

def test_check_grads_passes_on_correct_rules(x64):
    check_grads(lambda x, y: x * jnp.sin(y), (2.0, 1.0), order=2)
    check_grads(lambda x: jnp.tanh(x) ** 2, (jnp.array([0.3, -1.2]),), order=3, modes=['rev'])
    check_grads(lambda d: d['a'] @ d['b'], ({'a': jnp.ones(3), 'b': jnp.arange(3.)},), order=1)


def test_check_grads_catches_a_wrong_rule():
    @tt.custom_jvp
    def f(x):
        return jnp.sin(x)
    f.defjvp(lambda primals, tangents: (f(primals[0]), 2.0 * tangents[0]))   # should be cos
    with pytest.raises(AssertionError, match="finite differences"):
        check_grads(f, (1.0,), order=1, modes=['fwd'])
    with pytest.raises(AssertionError, match="finite differences"):
        check_grads(f, (1.0,), order=1, modes=['rev'])
    with pytest.raises(ValueError, match="modes"):
        check_grads(jnp.sin, (1.0,), order=1, modes=['sideways'])


# ----------------------------------------------------------------------- debug

def _f(x):
    tt.debug.print("x = {}", x)
    tt.debug.print("s = {s}", s=x.sum())
    return x * 2


def _stdout(fn, *args):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        fn(*args)
    return out.getvalue().splitlines()


@pytest.mark.parametrize("backend", ['numba', 'interpret', 'cuda'])   # (cuda: the simulator in CI)
def test_debug_print_runs_at_run_time_under_jit(backend):
    g = tt.jit(_f, backend=backend)
    assert _stdout(g, jnp.arange(3.)) == ["x = [0. 1. 2.]", "s = 3.0"]
    assert _stdout(g, jnp.ones(3)) == ["x = [1. 1. 1.]", "s = 3.0"]   # cached: still prints


CASES = [   # (transform, argument, what JAX 0.10.2 prints)
    (lambda f: tt.vmap(f), jnp.arange(4.).reshape(2, 2), ["x = [0. 1.]", "x = [2. 3.]", "s = 1.0", "s = 5.0"]),
    (lambda f: tt.grad(lambda x: f(x).sum()), jnp.arange(2.), ["x = [0. 1.]", "s = 1.0"]),
    (lambda f: tt.jit(tt.grad(lambda x: f(x).sum())), jnp.arange(2.), ["x = [0. 1.]", "s = 1.0"]),
    (lambda f: tt.grad(lambda x: tt.jit(f)(x).sum()), jnp.arange(2.) + 1, ["x = [1. 2.]", "s = 3.0"]),
    (lambda f: tt.jit(tt.vmap(f)), jnp.arange(4.).reshape(2, 2), ["x = [0. 1.]", "x = [2. 3.]", "s = 1.0", "s = 5.0"]),
    (lambda f: (lambda x: tt.jvp(f, (x,), (x,))), jnp.ones(2), ["x = [1. 1.]", "s = 2.0"]),
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_debug_print_under_transformations(case):
    transform, x, expected = CASES[case]
    assert _stdout(transform(_f), x) == expected


def test_debug_print_matches_live_jax(real_jax):
    def f(x):
        real_jax.debug.print("x = {}", x)
        real_jax.debug.print("s = {s}", s=x.sum())
        return x * 2
    T = {0: lambda f: real_jax.vmap(f), 1: lambda f: real_jax.grad(lambda x: f(x).sum()),
         4: lambda f: real_jax.jit(real_jax.vmap(f))}
    for i, make in T.items():
        assert _stdout(make(f), real_jax.numpy.asarray(np.asarray(CASES[i][1]))) == CASES[i][2]


def test_debug_callback_gets_arrays_and_pytrees():
    seen = []
    tt.jit(lambda x: tt.debug.callback(lambda a, d: seen.append((a, d)), x, {'k': x + 1}))(jnp.ones(2))
    (a, d), = seen
    assert isinstance(a, tt.Array) and a.tolist() == [1.0, 1.0] and d['k'].tolist() == [2.0, 2.0]
    jaxpr = str(tt.make_jaxpr(_f)(1.0))
    assert "debug_callback[callback=flat_callback] a" in jaxpr


# ------------------------------------------------------------- typing, sharding

def test_typing_and_sharding():
    from tinygrad_tracer.typing import ArrayLike, DTypeLike
    assert tt.Array in ArrayLike.__args__ and float in ArrayLike.__args__ and list not in ArrayLike.__args__
    assert np.dtype in DTypeLike.__args__
    x = jnp.ones(3)
    assert repr(x.sharding) == "SingleDeviceSharding(device=CpuDevice(id=0), memory_kind=device)"
    assert x.sharding.device_set == x.devices() == {tt.devices()[0]}
    assert x.sharding.is_fully_replicated and x.sharding == jnp.zeros(2).sharding


def test_sharding_matches_live_jax(real_jax):
    assert repr(real_jax.numpy.ones(3).sharding) == repr(jnp.ones(3).sharding)


# ------------------------------------------------------------------- key paths

def test_tree_paths():
    P = collections.namedtuple("P", "x y")
    tree = {'a': [1, (2, None)], 'b': P(3, 4)}
    pairs, treedef = tree_util.tree_flatten_with_path(tree)
    assert [tree_util.keystr(p) for p, _ in pairs] == ["['a'][0]", "['a'][1][0]", "['b'].x", "['b'].y"]
    assert [leaf for _, leaf in pairs] == [1, 2, 3, 4] and treedef == tree_util.tree_structure(tree)
    assert pairs[0][0] == (tree_util.DictKey('a'), tree_util.SequenceKey(0))
    assert repr(pairs[2][0][1]) == "GetAttrKey(name='x')"
    assert tree_util.keystr(pairs[1][0], simple=True, separator='/') == "a/1/0"
    out = tree_util.tree_map_with_path(lambda p, x, y: f"{tree_util.keystr(p)}={x + y}", [1, 2], [10, 20])
    assert out == ["[0]=11", "[1]=22"]
    assert tt.tree.leaves_with_path([5]) == [((tree_util.SequenceKey(0),), 5)]

    @tree_util.register_dataclass
    @dataclasses.dataclass
    class Params:
        w: object
        b: object
    paths = [tree_util.keystr(p) for p, _ in tree_util.tree_flatten_with_path(Params(1, [2]))[0]]
    assert paths == ['.w', '.b[0]']                      # as JAX: the field names


def test_tree_paths_match_live_jax(real_jax):
    P = collections.namedtuple("P", "x y")
    tree = {'a': [1, (2, None)], 'b': P(3, 4), 'c': collections.OrderedDict(z=7)}
    ours = [tree_util.keystr(p) for p, _ in tree_util.tree_flatten_with_path(tree)[0]]
    theirs = [real_jax.tree_util.keystr(p) for p, _ in real_jax.tree_util.tree_flatten_with_path(tree)[0]]
    assert ours == theirs


# ------------------------------------------------------------- the numpy surface

def test_at_get_fill():
    x = jnp.arange(5.)
    assert x.at[jnp.array([0, 7, -1, -9])].get(mode='fill', fill_value=-1).tolist() == [0., -1., 4., -1.]
    assert np.isnan(x.at[7].get(mode='fill'))
    y = jnp.arange(6).reshape(2, 3)
    assert y.at[:, jnp.array([0, 3])].get(mode='fill', fill_value=-7).tolist() == [[0, -7], [3, -7]]
    assert y.at[jnp.array([1, 2]), 1:].get(mode='fill', fill_value=-7).tolist() == [[4, 5], [-7, -7]]
    g = tt.grad(lambda x: x.at[jnp.array([0, 7, 0])].get(mode='fill', fill_value=0.).sum())(x)
    assert g.tolist() == [2., 0., 0., 0., 0.]
    v = tt.vmap(lambda x: x.at[jnp.array([0, 7])].get(mode='fill', fill_value=0.))(jnp.ones((2, 5)))
    assert v.tolist() == [[1., 0.], [1., 0.]]
    with pytest.raises(ValueError, match="not supported"):
        x.at[0].get(mode='wrap')


A, V = [1., 2., 3., 4., 5.], [0., 1., 0.5, -2.]
CONV = {   # JAX 0.10.2's values
    'full': [0., 1., 2.5, 2., 1.5, 1., -5.5, -10.],
    'same': [1., 2.5, 2., 1.5, 1.],
    'valid': [2., 1.5],
}
CORR = {'full': [-2., -3.5, -4., -4.5, -5., 6.5, 5., 0.], 'same': [-3.5, -4., -4.5, -5., 6.5],
        'valid': [-4.5, -5.]}


@pytest.mark.parametrize("mode", ['full', 'same', 'valid'])
def test_convolve_correlate(mode):
    a, v = jnp.array(A), jnp.array(V)
    np.testing.assert_allclose(jnp.convolve(a, v, mode), CONV[mode], atol=1e-6)
    np.testing.assert_allclose(jnp.convolve(v, a, mode), CONV[mode], atol=1e-6)
    np.testing.assert_allclose(jnp.correlate(a, v, mode), CORR[mode], atol=1e-6)
    np.testing.assert_allclose(jnp.correlate(a, v, mode), np.correlate(A, V, mode), atol=1e-6)
    np.testing.assert_allclose(jnp.correlate(v, a, mode), np.correlate(V, A, mode), atol=1e-6)
    assert jnp.convolve(jnp.array([1, 2, 3]), jnp.array([1, 1])).dtype == jnp.float32   # as JAX


def test_convolve_differentiates_and_vmaps(x64):
    check_grads(lambda a, v: jnp.convolve(a, v, 'same'), (jnp.array(A), jnp.array(V)), order=1)
    batched = tt.vmap(lambda a: jnp.correlate(a, jnp.array(V), 'full'))(jnp.stack([jnp.array(A), 2 * jnp.array(A)]))
    np.testing.assert_allclose(batched, [CORR['full'], [2 * c for c in CORR['full']]])


def test_interp_histogram():
    xp, fp = jnp.array([0., 1., 2.]), jnp.array([0., 10., 0.])
    assert jnp.interp(jnp.array([-1., 0.5, 1.5, 2., 9.]), xp, fp).tolist() == [0., 5., 5., 0., 0.]
    assert jnp.interp(jnp.array([-1., 0.5, 9.]), xp, fp, left=-5, right=7).tolist() == [-5., 5., 7.]
    assert tt.grad(lambda f: jnp.interp(1.5, xp, f))(fp).tolist() == [0., 0.5, 0.5]
    counts, edges = jnp.histogram(jnp.array([0., 1., 1., 3.]), bins=3)
    assert counts.tolist() == [1., 2., 1.] and edges.tolist() == [0., 1., 2., 3.]
    counts, _ = jnp.histogram(jnp.array([0, 1, 1, 3, 7]), bins=jnp.array([0., 2., 4.]), density=True)
    assert counts.tolist() == [0.375, 0.125]
    counts, _ = jnp.histogram(jnp.array([0.5, 1, 1, 3]), bins=4, range=(0, 2), weights=jnp.array([1., 2., 3., 4.]))
    assert counts.tolist() == [0., 1., 5., 0.]


def test_gcd_lcm_cross():
    assert jnp.gcd(jnp.array([12, -18, 0, 0]), jnp.array([8, 8, 8, 0])).tolist() == [4, 2, 8, 0]
    assert jnp.lcm(jnp.array([4, 6, 0, -3]), jnp.array([6, 6, 5, 4])).tolist() == [12, 6, 0, 12]
    assert tt.jit(jnp.gcd)(jnp.array([12, 7]), jnp.array([18, 21])).tolist() == [6, 7]
    assert tt.vmap(jnp.gcd)(jnp.array([12, 7]), jnp.array([18, 21])).tolist() == [6, 7]
    assert jnp.cross(jnp.array([1., 2., 3.]), jnp.array([4., 5., 6.])).tolist() == [-3., 6., -3.]
    assert float(jnp.cross(jnp.array([1., 2.]), jnp.array([4., 5.]))) == -3.
    c = jnp.cross(jnp.arange(6.).reshape(3, 2), jnp.ones((3, 2)), axis=0)
    assert c.tolist() == [[-2., -2.], [4., 4.], [-2., -2.]]
    check_grads(jnp.cross, (jnp.array([1., 2., 3.]), jnp.array([4., 5., 6.])), order=1)


def test_numpy_additions_match_live_jax(real_jax):
    rj = real_jax.numpy
    for mode in ('full', 'same', 'valid'):
        np.testing.assert_allclose(rj.convolve(rj.array(A), rj.array(V), mode), CONV[mode], atol=1e-6)
        np.testing.assert_allclose(rj.correlate(rj.array(A), rj.array(V), mode), CORR[mode], atol=1e-6)
    x = rj.arange(5.)
    assert x.at[rj.array([0, 7, -1, -9])].get(mode='fill', fill_value=-1).tolist() == [0., -1., 4., -1.]
    assert rj.histogram(rj.array([0.5, 1, 1, 3]), bins=4, range=(0, 2),
                        weights=rj.array([1., 2., 3., 4.]))[0].tolist() == [0., 1., 5., 0.]
    assert rj.lcm(rj.array([4, 6, 0, -3]), rj.array([6, 6, 5, 4])).tolist() == [12, 6, 0, 12]
