"""Forward and reverse mode on every primitive, against finite differences.

For each case of the shared table (tests/functions.py), in float64:
- JVP against central differences along a random direction;
- VJP against JVP by the dot-product identity <ct, J t> == <Jᵀ ct, t>;
plus the machinery: symbolic zeros, tags, jvp_jaxpr, linearize,
partial_eval_jaxpr, transpose_jaxpr, missing rules.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import tinygrad_tracer.numpy as jnp
from tinygrad_tracer import dtypes, lax, tree_util
from tinygrad_tracer.api import jvp, linearize, vjp
from tinygrad_tracer.array import Array
from tinygrad_tracer.core import Primitive
from tinygrad_tracer.errors import MissingRuleError
from tinygrad_tracer.jaxpr import eval_jaxpr, make_jaxpr
from tinygrad_tracer.ad_util import Zero, instantiate_zeros
from tinygrad_tracer.jvp import jvp_jaxpr, jvp_rules
from tinygrad_tracer.partial_eval import partial_eval_jaxpr
from tinygrad_tracer.transpose import UndefPrimal, backward_pass, transpose_jaxpr, transpose_rules

from functions import CASES, CASE_IDS, PRIMITIVE_EXCLUSIONS, extreme_seeds, seeds

SETTINGS = settings(max_examples=3, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def _prepare(case, seed):
    """The case's arguments as Arrays, and `f` of the float arguments only."""
    args = [jnp.asarray(a) for a in case.make_args(np.random.default_rng(seed))]
    float_pos = [i for i, a in enumerate(args) if dtypes.is_float(a.dtype)]

    def f(*floats):
        full = list(args)
        for i, x in zip(float_pos, floats):
            full[i] = x
        return case.fn(*full)

    return f, [args[i] for i in float_pos]


def _random_like(rng, x):
    return Array(rng.normal(size=np.shape(x)).astype(np.dtype(x.dtype)))


def _leaves(tree):
    return tree_util.tree_leaves(tree)


def _is_float(x):
    return dtypes.is_float(np.dtype(x.dtype)) and np.dtype(x.dtype) != dtypes.float0


@pytest.mark.parametrize('case', CASES, ids=CASE_IDS)
@SETTINGS
@given(seed=seeds)
def test_jvp_and_vjp(x64, case, seed):
    """JVP against central differences; VJP against JVP by <ct, J t> == <Jᵀ ct, t>."""
    _check_jvp_and_vjp(case, seed)


@pytest.mark.parametrize('case', CASES, ids=CASE_IDS)
def test_jvp_and_vjp_at_extreme_ranks(x64, case):
    """The same checks on the case's highest- and lowest-rank arguments, chosen
    explicitly: every transpose rule's axis handling runs on every run (a rule that
    applies a permutation where its inverse belongs fails the shape or the identity)."""
    for seed in extreme_seeds(case):
        _check_jvp_and_vjp(case, seed)


def _check_jvp_and_vjp(case, seed):
    f, xs = _prepare(case, seed)
    if not xs:   # integer/bool only: tangents are float0 all the way
        args = case.make_args(np.random.default_rng(seed))
        _, t_out = jvp(case.fn, args, [np.zeros(np.shape(a), dtypes.float0) for a in args])
        assert all(t.dtype == dtypes.float0 for t in _leaves(t_out))
        return
    rng = np.random.default_rng(seed + 1)
    ts = [_random_like(rng, x) for x in xs]
    out, t_out = jvp(f, xs, ts)
    np.testing.assert_array_equal(np.asarray(_leaves(out)[0]), np.asarray(_leaves(f(*xs))[0]))
    if case.differentiable:
        _check_central_differences(f, xs, ts, t_out)
    else:
        for o, t in zip(_leaves(out), _leaves(t_out)):
            if _is_float(o):
                np.testing.assert_array_equal(np.asarray(t), 0)
            else:
                assert np.dtype(t.dtype) == dtypes.float0

    out, f_vjp = vjp(f, *xs)
    cts = tree_util.tree_map(lambda o: _random_like(rng, o) if _is_float(o)
                             else np.zeros(np.shape(o), dtypes.float0), out)
    x_cts = f_vjp(cts)
    assert len(x_cts) == len(xs)
    for x, c in zip(xs, x_cts):
        assert c.shape == x.shape and c.dtype == x.dtype, (seed, c.shape, x.shape, c.dtype, x.dtype)
    lhs = sum(np.vdot(np.asarray(c), np.asarray(t))
              for c, t in zip(_leaves(cts), _leaves(t_out)) if _is_float(c))
    rhs = sum(np.vdot(np.asarray(c), np.asarray(t)) for c, t in zip(x_cts, ts))
    np.testing.assert_allclose(rhs, lhs, rtol=1e-9, atol=1e-9, err_msg=f"<ct, J t> != <Jᵀ ct, t> (seed {seed})")
    if not case.differentiable:
        for c in x_cts:
            np.testing.assert_array_equal(np.asarray(c), 0)


def _check_central_differences(f, xs, ts, t_out, eps=1e-6):
    plus = f(*[x + eps * t for x, t in zip(xs, ts)])
    minus = f(*[x - eps * t for x, t in zip(xs, ts)])
    for t, p, m in zip(_leaves(t_out), _leaves(plus), _leaves(minus)):
        expected = (np.asarray(p) - np.asarray(m)) / (2 * eps)
        np.testing.assert_allclose(np.asarray(t), expected, rtol=1e-5, atol=1e-6)


def _primitives_in(jaxpr, found):
    for eqn in jaxpr.eqns:
        found.add(eqn.primitive.name)
        for p in eqn.params.values():
            inner = getattr(p, 'jaxpr', p)
            if hasattr(inner, 'eqns'):
                _primitives_in(inner, found)
    return found


def test_every_primitive_is_covered_by_a_case():
    covered = set()
    for case in CASES:
        args = case.make_args(np.random.default_rng(0))
        _primitives_in(make_jaxpr(case.fn)(*args).jaxpr, covered)
    missing = set(lax.primitives) - covered - set(PRIMITIVE_EXCLUSIONS)
    assert not missing, f"primitives with no case in tests/functions.py: {sorted(missing)}"


def test_every_primitive_has_a_jvp_rule():
    assert [name for name, p in lax.primitives.items() if p not in jvp_rules] == []


LINEAR = ['add', 'sub', 'neg', 'mul', 'div', 'convert_element_type', 'broadcast_in_dim', 'reshape',
          'transpose', 'squeeze', 'expand_dims', 'rev', 'reduce_sum', 'dot_general', 'concatenate',
          'pad', 'slice', 'dynamic_slice', 'dynamic_update_slice', 'gather', 'scatter-add', 'scatter',
          'select_n', 'cumsum']


def test_every_linear_primitive_has_a_transpose_rule():
    assert [n for n in LINEAR if lax.primitives[n] not in transpose_rules] == []


# --- the machinery --------------------------------------------------------------------------

def test_tangent_equations_are_tagged_and_zero_tangents_cost_nothing():
    def f(x, t):   # cos(2.0) only touches a constant: no tangent work for it
        return jvp(lambda x: jnp.sin(x) * jnp.cos(2.0), (x,), (t,))

    closed = make_jaxpr(f)(1.0, 1.0)
    assert str(closed) == ("{ lambda ; a:f32[] b:f32[]. let\n"
                           "    c:f32[] = sin a\n    d:f32[] = cos a\n    e:f32[] = mul b d\n"
                           "    f:f32[] = cos 2.0:f32[]\n    g:f32[] = mul c f\n    h:f32[] = mul e f\n"
                           "  in (g, h) }")
    assert [(e.primitive.name, e.tag) for e in closed.eqns] == [
        ('sin', 'primal'), ('cos', 'tangent'), ('mul', 'tangent'),
        ('cos', 'primal'), ('mul', 'primal'), ('mul', 'tangent')]


def test_jvp_of_a_constant_function_gives_zeros():
    out, t = jvp(lambda x: jnp.ones(3), (jnp.ones(2),), (jnp.ones(2),))
    assert t.dtype == jnp.float32 and t.tolist() == [0.0, 0.0, 0.0]


def test_jvp_pytrees_and_has_aux():
    def f(p):
        return {'y': p['a'] * p['b'][0]}, 'aux'
    primals = ({'a': 2.0, 'b': [3.0]},)
    tangents = ({'a': 1.0, 'b': [10.0]},)
    out, t, aux = jvp(f, primals, tangents, has_aux=True)
    assert float(out['y']) == 6.0 and float(t['y']) == 3.0 + 20.0 and aux == 'aux'


def test_jvp_with_integer_inputs_takes_float0_tangents():
    f = lambda x, n: x * n
    out, t = jvp(f, (2.0, 3), (1.0, np.zeros((), dtypes.float0)))
    assert float(out) == 6.0 and float(t) == 3.0
    _, t_int = jvp(lambda n: n * 2, (3,), (np.zeros((), dtypes.float0),))
    assert t_int.dtype == dtypes.float0


def test_symbolic_zero_helpers():
    z = Zero.like(jnp.ones((2, 3)))
    assert repr(z) == 'Zero(f32[2,3])'
    assert instantiate_zeros(z).tolist() == [[0.0] * 3] * 2
    assert Zero.like(jnp.arange(3)).aval.dtype == dtypes.float0


def test_jvp_jaxpr():
    closed = make_jaxpr(lambda x, y: [jnp.sin(x) * y, y + 1.0])(1.0, 2.0)
    new, out_nz = jvp_jaxpr(closed, [True, False], instantiate=False)
    assert out_nz == [True, False]
    p1, p2, t1 = eval_jaxpr(new.jaxpr, new.consts, 1.0, 2.0, 1.0)
    np.testing.assert_allclose([float(p1), float(p2), float(t1)], [np.sin(1) * 2, 3.0, np.cos(1) * 2], rtol=1e-6)
    new, out_nz = jvp_jaxpr(closed, [True, False], instantiate=True)
    assert out_nz == [True, True] and float(eval_jaxpr(new.jaxpr, new.consts, 1.0, 2.0, 1.0)[3]) == 0.0
    with pytest.raises(TypeError, match="cannot have a tangent; pass nonzeros=False"):
        jvp_jaxpr(make_jaxpr(lambda n: n * 2)(1), [True], False)


def test_linearize_records_only_the_tangent_map():
    y, f_jvp = linearize(lambda x: jnp.sin(x) * 3.0, 0.5)
    np.testing.assert_allclose(float(y), np.sin(0.5) * 3, rtol=1e-6)
    np.testing.assert_allclose(float(f_jvp(2.0)), np.cos(0.5) * 3 * 2, rtol=1e-6)
    jaxpr = f_jvp.jaxpr   # only tangent work; the residual cos(0.5) is a (literal) constant
    assert str(jaxpr) == ("{ lambda ; a:f32[]. let\n    b:f32[] = mul a 0.8775825500488281:f32[]\n"
                          "    c:f32[] = mul b 3.0:f32[]\n  in (c,) }")
    assert [(e.primitive.name, e.tag) for e in jaxpr.eqns] == [('mul', 'tangent'), ('mul', 'tangent')]
    y, f_jvp = linearize(lambda x: jnp.sin(x) * 3.0, jnp.array([0.5, 1.0]))
    cos_x, = f_jvp.jaxpr.consts   # the residual, computed once (3.0 stays a rank-0 literal)
    np.testing.assert_allclose(np.asarray(cos_x), np.cos([0.5, 1.0]), rtol=1e-6)


def test_linearize_pytrees_and_ints():
    y, f_jvp = linearize(lambda p, n: {'s': p[0] * p[1] * n, 'n': n}, (2.0, 3.0), 4)
    assert float(y['s']) == 24.0
    t = f_jvp((1.0, 0.0), np.zeros((), dtypes.float0))
    assert float(t['s']) == 12.0 and t['n'].dtype == dtypes.float0
    with pytest.raises(ValueError, match="different primal and tangent shapes"):
        f_jvp((jnp.ones(2), 0.0), np.zeros((), dtypes.float0))


def test_partial_eval_jaxpr_splits_known_and_unknown():
    closed = make_jaxpr(lambda x, y: [jnp.sin(x) * y, jnp.cos(x)])(1.0, 2.0)
    known, unknown, out_uk, num_res = partial_eval_jaxpr(closed, [False, True], instantiate=False)
    assert out_uk == [True, False] and num_res == 1
    assert str(known) == "{ lambda ; a:f32[]. let b:f32[] = sin a; c:f32[] = cos a in (c, b) }"
    assert str(unknown) == "{ lambda ; a:f32[] b:f32[]. let c:f32[] = mul a b in (c,) }"
    cos_x, res = eval_jaxpr(known.jaxpr, known.consts, 1.0)
    out, = eval_jaxpr(unknown.jaxpr, unknown.consts, res, 2.0)
    np.testing.assert_allclose([float(out), float(cos_x)], [np.sin(1) * 2, np.cos(1)], rtol=1e-6)
    _, _, out_uk, _ = partial_eval_jaxpr(closed, [False, True], instantiate=True)
    assert out_uk == [True, True]


def test_backward_pass_and_transpose_jaxpr():
    closed = make_jaxpr(lambda c, x: [jnp.sum(x * c), x[1:]])(jnp.arange(3.0), jnp.ones(3))
    c = jnp.arange(3.0)
    cts = backward_pass(closed.jaxpr, closed.consts, [c, UndefPrimal(closed.in_avals[1])],
                        [jnp.asarray(2.0), Zero(closed.out_avals[1])])
    assert cts[0] is None and cts[1].tolist() == [0.0, 2.0, 4.0]
    t = transpose_jaxpr(closed, [False, True])
    ct_x, = eval_jaxpr(t.jaxpr, t.consts, c, jnp.asarray(1.0), jnp.ones(2))
    assert ct_x.tolist() == [0.0, 2.0, 3.0]


def test_missing_rules_name_the_transformation_and_primitive():
    mystery_p = Primitive('mystery')
    mystery_p.def_impl(lambda x: x)
    mystery_p.def_abstract_eval(lambda x: x)
    with pytest.raises(MissingRuleError, match="No jvp rule for primitive 'mystery'"):
        jvp(lambda x: mystery_p.bind(x), (1.0,), (1.0,))
    closed = make_jaxpr(jnp.sin)(1.0)
    with pytest.raises(MissingRuleError, match="No transpose rule for primitive 'sin'"):
        backward_pass(closed.jaxpr, [], [UndefPrimal(closed.in_avals[0])], [jnp.asarray(1.0)])
    closed = make_jaxpr(lambda x: x * x)(1.0)
    with pytest.raises(TypeError, match="Cannot transpose mul: both operands"):
        backward_pass(closed.jaxpr, [], [UndefPrimal(closed.in_avals[0])], [jnp.asarray(1.0)])
