"""grad, value_and_grad, vjp, linearize, jacfwd, jacrev, hessian, custom rules.

Closed forms, higher-order derivatives, pytrees, weak types, and the
custom_jvp / custom_vjp decorators.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tinygrad_tracer as tt
import tinygrad_tracer.numpy as jnp
from tinygrad_tracer import dtypes, lax

FAST = settings(max_examples=15, deadline=None, database=None)
finite = st.floats(-3, 3, allow_nan=False)


def close(a, b, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=atol)


# --- closed forms ------------------------------------------------------------------------

@FAST
@given(x=finite)
def test_derivative_of_sin_is_cos(x):
    close(tt.grad(jnp.sin)(x), np.cos(np.float32(x)))


def test_grad_of_half_squared_norm_is_identity():
    x = jnp.array([1.5, -2.0, 0.25])
    assert tt.grad(lambda x: 0.5 * jnp.dot(x, x))(x).tolist() == [1.5, -2.0, 0.25]


def test_hessian_of_a_quadratic(x64):
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(3, 3)), rng.normal(size=3)
    f = lambda x: 0.5 * x @ jnp.asarray(a) @ x + jnp.asarray(b) @ x
    x = jnp.asarray(rng.normal(size=3))
    close(tt.hessian(f)(x), (a + a.T) / 2, rtol=1e-12, atol=1e-12)
    close(tt.jacfwd(tt.grad(f))(x), (a + a.T) / 2, rtol=1e-12, atol=1e-12)
    close(tt.grad(f)(x), (a + a.T) / 2 @ np.asarray(x) + b, rtol=1e-12, atol=1e-12)


def test_softmax_cross_entropy_gradient_is_softmax_minus_onehot():
    logits = jnp.array([[1.0, 2.0, 0.5], [0.1, -1.0, 3.0]])
    onehot = jnp.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])

    def loss(z):
        log_softmax = z - jnp.log(jnp.sum(jnp.exp(z), axis=1, keepdims=True))
        return -jnp.sum(onehot * log_softmax)

    z = np.asarray(logits)
    softmax = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    close(tt.grad(loss)(logits), softmax - np.asarray(onehot))


# --- higher order --------------------------------------------------------------------------

def test_third_derivative():
    assert float(tt.grad(tt.grad(tt.grad(jnp.sin)))(1.0)) == pytest.approx(-np.cos(1.0), rel=1e-6)
    assert float(tt.grad(tt.grad(tt.grad(lambda x: x ** 4)))(2.0)) == 48.0


def test_forward_over_reverse_and_reverse_over_forward():
    f = lambda x: jnp.sin(x) * x
    d2 = lambda x: 2 * np.cos(x) - x * np.sin(x)
    _, t = tt.jvp(tt.grad(f), (1.5,), (1.0,))
    close(t, d2(1.5))
    close(tt.grad(lambda x: tt.jvp(f, (x,), (1.0,))[1])(1.5), d2(1.5))
    close(tt.jacrev(tt.jacfwd(lambda x: jnp.sum(x ** 3)))(jnp.array([1.0, 2.0])), np.diag([6.0, 12.0]))


def test_python_control_flow_under_grad_sees_concrete_values():
    def f(x):
        return x ** 2 if x > 0 else -x
    assert float(tt.grad(f)(3.0)) == 6.0 and float(tt.grad(f)(-3.0)) == -1.0


def test_stop_gradient():
    assert float(tt.grad(lambda x: x * lax.stop_gradient(x))(3.0)) == 3.0
    g = tt.grad(lambda p: p['a'] * lax.stop_gradient(p)['b'])({'a': 2.0, 'b': 5.0})
    assert float(g['a']) == 5.0 and float(g['b']) == 0.0


def test_grad_through_reductions_with_ties_and_zeros():
    assert tt.grad(lambda x: jnp.max(x))(jnp.array([1.0, 3.0, 3.0])).tolist() == [0.0, 0.5, 0.5]
    assert tt.grad(lambda x: jnp.prod(x))(jnp.array([0.0, 2.0, 3.0])).tolist() == [6.0, 0.0, 0.0]
    assert tt.grad(jnp.abs)(0.0) == 1.0
    assert float(tt.grad(lambda x: jnp.maximum(x, 0.0))(0.0)) == 0.5


# --- API details --------------------------------------------------------------------------------

def test_value_and_grad_argnums_and_has_aux():
    f = lambda x, y: (x * y ** 2, {'ratio': x / y})
    (value, aux), (gx, gy) = tt.value_and_grad(f, argnums=(0, 1), has_aux=True)(2.0, 3.0)
    assert float(value) == 18.0 and float(aux['ratio']) == pytest.approx(2 / 3)
    assert (float(gx), float(gy)) == (9.0, 12.0)
    g, aux = tt.grad(f, argnums=1, has_aux=True)(2.0, 3.0)
    assert float(g) == 12.0 and isinstance(aux['ratio'], tt.Array)
    assert float(tt.grad(f, argnums=-1, has_aux=True)(2.0, 3.0)[0]) == 12.0


def test_aux_may_hold_any_python_object():
    g, aux = tt.grad(lambda x: (x * 2.0, ['note', None, 3]), has_aux=True)(1.0)
    assert float(g) == 2.0 and aux == ['note', None, 3]


def test_pytree_arguments_and_keyword_arguments():
    def loss(params, x, scale=1.0):
        return scale * jnp.sum((params['w'] * x + params['b'][0]) ** 2)
    params = {'w': jnp.array([1.0, 2.0]), 'b': (jnp.array(0.5), None)}
    g = tt.grad(loss)(params, jnp.array([1.0, -1.0]), scale=2.0)
    assert g['b'][1] is None
    close(g['w'], [2 * 2 * 1.5 * 1.0, 2 * 2 * -1.5 * -1.0])
    close(g['b'][0], 2 * 2 * (1.5 - 1.5))


def test_weak_types_follow_the_input():
    assert repr(tt.grad(jnp.sin)(1.0)) == 'Array(0.5403023, dtype=float32, weak_type=True)'
    assert repr(tt.grad(jnp.sin)(jnp.float32(1.0))) == 'Array(0.5403023, dtype=float32)'
    assert repr(tt.grad(lambda x: jnp.sum(x * jnp.ones(3)))(1.0)) == 'Array(3., dtype=float32, weak_type=True)'


def test_constant_and_identity_functions():
    assert repr(tt.grad(lambda x: 3.0)(1.0)) == 'Array(0., dtype=float32, weak_type=True)'
    assert repr(tt.grad(lambda x: x)(1.0)) == 'Array(1., dtype=float32, weak_type=True)'
    out, t = tt.jvp(lambda x: (x, 3.0), (1.0,), (1.0,))
    assert isinstance(out[1], tt.Array) and float(t[0]) == 1.0 and float(t[1]) == 0.0


def test_allow_int_gives_float0_gradients():
    gx, gn = tt.grad(lambda x, n: x * n, argnums=(0, 1), allow_int=True)(2.0, 3)
    assert float(gx) == 3.0 and gn.dtype == dtypes.float0 and gn.shape == ()


def test_vjp_with_pytrees_and_aux():
    out, f_vjp, aux = tt.vjp(lambda p: ({'s': p[0] * p[1]}, 'aux'), (2.0, 3.0), has_aux=True)
    (ct,) = f_vjp({'s': 1.0})
    assert aux == 'aux' and float(out['s']) == 6.0 and (float(ct[0]), float(ct[1])) == (3.0, 2.0)


def test_vjp_of_integer_outputs_and_inputs():
    out, f_vjp = tt.vjp(lambda x, n: (x * 2.0, n + 1), jnp.ones(2), jnp.arange(2))
    ct_x, ct_n = f_vjp((jnp.ones(2), np.zeros(2, dtypes.float0)))
    assert ct_x.tolist() == [2.0, 2.0] and ct_n.dtype == dtypes.float0


def test_linearize_matches_jvp():
    f = lambda x: jnp.tanh(x) * jnp.sum(x)
    x, t = jnp.array([0.5, -1.0, 2.0]), jnp.array([1.0, 0.5, -0.25])
    y, f_jvp = tt.linearize(f, x)
    y2, t2 = tt.jvp(f, (x,), (t,))
    close(y, y2)
    close(f_jvp(t), t2)


@pytest.mark.parametrize('jac', [tt.jacfwd, tt.jacrev], ids=['jacfwd', 'jacrev'])
def test_jacobians_of_pytrees(jac):
    # Laid out as JAX lays them out: output structure outside, argument structure
    # inside, each leaf of shape out.shape + in.shape.
    f = lambda p, s: {'a': jnp.sin(p['x']) * s, 'b': p['x'].sum() * p['y']}
    x, y, s = np.array([0.5, 1.0, -1.5], np.float32), np.float32(2.0), 3.0
    p = {'x': jnp.asarray(x), 'y': jnp.asarray(y)}
    j = jac(f)(p, s)
    assert sorted(j) == ['a', 'b'] and sorted(j['a']) == ['x', 'y']
    assert [j['a']['x'].shape, j['a']['y'].shape, j['b']['x'].shape, j['b']['y'].shape] == [(3, 3), (3,), (3,), ()]
    close(j['a']['x'], np.diag(np.cos(x) * s))
    close(j['a']['y'], np.zeros(3))
    close(j['b']['x'], np.full(3, y))
    close(j['b']['y'], x.sum())
    j0, j1 = jac(f, argnums=(0, 1))(p, s)['a']
    close(j0['x'], np.diag(np.cos(x) * s))
    close(j1, np.sin(x))


def test_jacobian_has_aux_and_hessian_shapes():
    jac, aux = tt.jacrev(lambda x: (x ** 2, 'aux'), has_aux=True)(jnp.array([1.0, 2.0]))
    assert aux == 'aux' and jac.tolist() == [[2.0, 0.0], [0.0, 4.0]]
    jac, aux = tt.jacfwd(lambda x: (x ** 2, x.sum()), has_aux=True)(jnp.array([1.0, 2.0]))
    assert float(aux) == 3.0 and jac.tolist() == [[2.0, 0.0], [0.0, 4.0]]
    h = tt.hessian(lambda m: jnp.sum(m ** 3))(jnp.ones((2, 2)))
    assert h.shape == (2, 2, 2, 2) and float(h[1, 0, 1, 0]) == 6.0 and float(h[1, 0, 0, 1]) == 0.0


def test_grad_composes_with_vmap_and_jit():
    per_example = tt.vmap(tt.grad(lambda w, x: jnp.sum(jnp.tanh(w * x))), in_axes=(None, 0))
    w, xs = jnp.array([0.5, -1.0]), jnp.array([[1.0, 2.0], [3.0, 4.0]])
    close(per_example(w, xs), [np.asarray(xs[i]) / np.cosh(np.asarray(w * xs[i])) ** 2 for i in range(2)])
    close(tt.jit(tt.grad(jnp.sin))(1.0), np.cos(1.0))
    close(tt.grad(tt.jit(jnp.sin))(1.0), np.cos(1.0))


# --- custom_jvp / custom_vjp -----------------------------------------------------------------------

@tt.custom_jvp
def log1pexp(x):
    return jnp.log(1.0 + jnp.exp(x))


@log1pexp.defjvp
def _log1pexp_jvp(primals, tangents):
    x, = primals
    t, = tangents
    return log1pexp(x), t * (1.0 - 1.0 / (1.0 + jnp.exp(x)))


@pytest.mark.filterwarnings('ignore:overflow encountered')   # exp(100.0) is inf in float32
def test_custom_jvp_is_used_by_every_mode():
    # Differentiating the formula gives nan at x = 100 (inf / inf); the rule does not.
    assert np.isnan(float(tt.grad(lambda x: jnp.log(1.0 + jnp.exp(x)))(100.0)))
    assert float(log1pexp(3.0)) == pytest.approx(np.log1p(np.exp(3.0)), rel=1e-6)
    assert float(tt.grad(log1pexp)(100.0)) == 1.0
    assert float(tt.jvp(log1pexp, (100.0,), (2.0,))[1]) == 2.0
    assert float(tt.jit(tt.grad(log1pexp))(100.0)) == 1.0
    assert float(tt.grad(tt.jit(log1pexp))(100.0)) == 1.0
    assert tt.vmap(tt.grad(log1pexp))(jnp.array([100.0, 0.0])).tolist() == [1.0, 0.5]
    assert tt.grad(lambda x: tt.vmap(log1pexp)(x).sum())(jnp.array([100.0, 0.0])).tolist() == [1.0, 0.5]
    close(tt.grad(tt.grad(log1pexp))(0.0), 0.25)


def test_custom_jvp_nondiff_argnums_and_defjvps():
    @tt.custom_jvp
    def scaled(x, y):
        return x * y
    scaled.defjvps(lambda t, out, x, y: t * y * 10.0, None)
    assert float(tt.grad(scaled)(2.0, 3.0)) == 30.0 and float(tt.grad(scaled, 1)(2.0, 3.0)) == 0.0

    def apply(f, x):
        return f(x)
    apply = tt.custom_jvp(apply, nondiff_argnums=(0,))
    apply.defjvp(lambda f, primals, tangents: (f(primals[0]), 7.0 * tangents[0]))
    assert float(tt.grad(lambda x: apply(jnp.sin, x))(1.0)) == 7.0


@pytest.mark.parametrize('nondiff', [(1,), (-1,)], ids=['positive', 'negative'])
def test_custom_jvp_negative_nondiff_argnums_count_from_the_end(nondiff):
    """nondiff_argnums=(-1,) is the last argument, exactly like (1,) for two arguments.
    (JAX 0.10 itself does not normalise a negative entry: its rule would get n twice.)"""
    def power(x, n):
        return x ** n
    power = tt.custom_jvp(power, nondiff_argnums=nondiff)
    seen = []

    @power.defjvp
    def power_jvp(n, primals, tangents):   # nondiff arguments first, then the rest
        seen.append(n)
        (x,), (t,) = primals, tangents
        return power(x, n), 10.0 * n * x ** (n - 1) * t   # 10x: the rule is visibly used
    assert float(power(2.0, 3)) == 8.0
    assert float(tt.grad(power)(2.0, 3)) == 120.0 and seen == [3]
    assert float(tt.jvp(lambda x: power(x, 3), (2.0,), (1.0,))[1]) == 120.0
    assert float(tt.jit(tt.grad(power), static_argnums=1)(2.0, 3)) == 120.0
    assert tt.vmap(tt.grad(power), in_axes=(0, None))(jnp.array([1.0, 2.0]), 2).tolist() == [20.0, 40.0]

    def apply(f, x, scale):   # a function and a float: nondiff (0, -1) is (0, 2)
        return f(x) * scale
    apply = tt.custom_jvp(apply, nondiff_argnums=(0, -1) if nondiff == (-1,) else (0, 2))
    apply.defjvp(lambda f, scale, primals, tangents: (apply(f, primals[0], scale),
                                                     7.0 * scale * tangents[0]))
    assert float(tt.grad(apply, 1)(jnp.sin, 1.0, 2.0)) == 14.0
    bad = tt.custom_jvp(lambda x, n: x * n, nondiff_argnums=(-3,))
    bad.defjvp(lambda n, primals, tangents: (primals[0] * n, tangents[0] * n))
    with pytest.raises(TypeError, match=r"custom_jvp: nondiff_argnums \(-3,\) out of range for a call "
                                        r"with 2 positional arguments"):
        tt.grad(bad)(1.0, 2.0)


@pytest.mark.parametrize('nondiff', [(1,), (-1,)], ids=['positive', 'negative'])
def test_custom_vjp_negative_nondiff_argnums_count_from_the_end(nondiff):
    def power(x, n):
        return x ** n
    power = tt.custom_vjp(power, nondiff_argnums=nondiff)
    power.defvjp(lambda x, n: (x ** n, x),
                 lambda n, x, g: (10.0 * n * x ** (n - 1) * g,))   # nondiff first; 10x as above
    assert float(power(2.0, 3)) == 8.0
    assert float(tt.grad(power)(2.0, 3)) == 120.0
    assert float(tt.jit(tt.grad(power), static_argnums=1)(2.0, 3)) == 120.0
    assert tt.vmap(tt.grad(power), in_axes=(0, None))(jnp.array([1.0, 2.0]), 2).tolist() == [20.0, 40.0]
    bad = tt.custom_vjp(lambda x, n: x * n, nondiff_argnums=(2,))
    bad.defvjp(lambda x, n: (x * n, None), lambda n, res, g: (g * n,))
    with pytest.raises(TypeError, match=r"custom_vjp: nondiff_argnums \(2,\) out of range"):
        tt.grad(bad)(1.0, 2.0)


@tt.custom_vjp
def clip_gradient(x, lo, hi):
    return x


clip_gradient.defvjp(lambda x, lo, hi: (x, (lo, hi)),
                     lambda res, g: (jnp.clip(g, res[0], res[1]), None, None))


def test_custom_vjp_is_used_by_reverse_mode():
    assert float(clip_gradient(5.0, -1.0, 1.0)) == 5.0
    assert float(tt.grad(lambda x: 3.0 * clip_gradient(x, -1.0, 1.0))(5.0)) == 1.0
    assert float(tt.jit(tt.grad(lambda x: 3.0 * clip_gradient(x, -1.0, 1.0)))(5.0)) == 1.0
    grads = tt.vmap(tt.grad(lambda x: 3.0 * clip_gradient(x, -1.0, 1.0)))(jnp.ones(2))
    assert grads.tolist() == [1.0, 1.0]
    assert tt.grad(lambda x: jnp.sum(tt.vmap(clip_gradient, (0, None, None))(x, -1.0, 1.0) * 3.0))(
        jnp.ones(2)).tolist() == [1.0, 1.0]


def test_custom_vjp_higher_order():
    @tt.custom_vjp
    def my_sin(x):
        return jnp.sin(x)
    my_sin.defvjp(lambda x: (jnp.sin(x), jnp.cos(x)), lambda cos_x, g: (g * cos_x,))
    close(tt.grad(tt.grad(my_sin))(1.0), -np.sin(1.0))
    close(tt.jacrev(tt.vmap(my_sin))(jnp.array([0.0, 1.0])), np.diag(np.cos([0.0, 1.0])))


def test_custom_rules_show_in_jaxprs():
    text = str(tt.make_jaxpr(log1pexp)(1.0))
    # as JAX 0.10 prints it: name first, num_consts only when the function closes over values
    assert text.startswith("{ lambda ; a:f32[]. let\n    b:f32[] = custom_jvp_call[\n      name=log1pexp\n"
                           "      call_jaxpr={ lambda ; c:f32[]. let")
    assert "      jvp=_log1pexp_jvp\n      symbolic_zeros=False\n    ] a" in text
    assert "num_consts" not in text
    # grad runs fwd, records custom_lin for the tangent, and transposing it runs bwd (the clip).
    assert str(tt.make_jaxpr(tt.grad(lambda x: clip_gradient(x, -1.0, 1.0)))(2.0)) == (
        "{ lambda ; a:f32[]. let\n    b:f32[] = max 1.0:f32[] -1.0:f32[]\n"
        "    c:f32[] = min b 1.0:f32[]\n  in (c,) }")
