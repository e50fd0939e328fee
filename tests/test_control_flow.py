"""lax.cond / switch / while_loop / fori_loop / scan / map: values, errors, and every transform."""
import numpy as np
import pytest

import tinygrad_tracer as jax
import tinygrad_tracer.numpy as jnp
from tinygrad_tracer import lax
from tinygrad_tracer.api import grad, linearize, vjp
from tinygrad_tracer.batching import batching_rules
from tinygrad_tracer.control_flow import cond_p, while_p, scan_p
from tinygrad_tracer.jit import jit_p
from tinygrad_tracer.api import jvp
from tinygrad_tracer.jvp import jvp_rules
from tinygrad_tracer.partial_eval import partial_eval_rules
from tinygrad_tracer.transpose import transpose_rules

WHILE_GRAD_ERROR = ("Reverse-mode differentiation does not work for lax.while_loop or "
                    "lax.fori_loop with dynamic start/stop values. Try using lax.scan, or "
                    "using fori_loop with static start/stop.")


def prims(f, *args):
    return [e.primitive.name for e in jax.make_jaxpr(f)(*args).eqns]


def close(a, b, **kw):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=kw.get('rtol', 1e-5),
                               atol=kw.get('atol', 1e-6))


@pytest.mark.parametrize('prim', [jit_p, cond_p, while_p, scan_p], ids=lambda p: p.name)
def test_higher_order_primitives_have_every_rule(prim):
    for table in (jvp_rules, batching_rules, partial_eval_rules, transpose_rules):
        assert prim in table


def test_lax_offers_the_control_flow_functions():
    """control_flow installs them into lax (which cannot import what sits above it)."""
    from tinygrad_tracer import control_flow
    from tinygrad_tracer.lax import cond, scan   # noqa: F401  (a from-import works too)
    for name in ('cond', 'switch', 'while_loop', 'fori_loop', 'scan', 'map'):
        assert getattr(lax, name) is getattr(control_flow, name)


# --- cond and switch ------------------------------------------------------------------------

def test_cond_eager_goes_through_the_primitive():
    assert float(lax.cond(True, jnp.sin, jnp.cos, 1.0)) == pytest.approx(np.sin(1.0))
    assert float(lax.cond(0.0, jnp.sin, jnp.cos, 1.0)) == pytest.approx(np.cos(1.0))
    assert prims(lambda x: lax.cond(True, jnp.sin, jnp.cos, x), 1.0) == ['cond']
    assert prims(lambda x: lax.cond(x > 0, jnp.sin, jnp.cos, x), 1.0) == ['gt', 'convert_element_type', 'cond']


def test_cond_pytrees_several_operands_and_closures():
    w = jnp.arange(3.)
    out = lax.cond(jnp.int32(2), lambda a, b: {'s': a * w, 't': b},
                   lambda a, b: {'s': a + w, 't': b[::-1]}, 2.0, (1.0, 2.0))
    close(out['s'], [0., 2., 4.])
    assert [float(v) for v in out['t']] == [1.0, 2.0]
    assert float(lax.cond(False, lambda: 1.0, lambda: 2.0)) == 2.0


def test_cond_under_jit():
    f = jax.jit(lambda x: lax.cond(x > 0, lambda x: x * 2, lambda x: -x, x))
    assert float(f(3.0)) == 6.0 and float(f(-3.0)) == 3.0


def test_cond_branch_type_errors():
    with pytest.raises(TypeError) as e:
        lax.cond(True, lambda x: x, lambda x: jnp.ones(3), 1.0)
    assert str(e.value) == ("lax.cond: branches must return identical types (shapes and dtypes), "
                            "but they differ:\n  * output: true_fun returns f32[] but false_fun "
                            "returns f32[3]\nCast (x.astype(...)) or broadcast so both branches agree.")
    with pytest.raises(TypeError, match=r"branches\[0\] returns f32\[\] but branches\[1\] returns i32\[\]"):
        lax.switch(0, [lambda x: x, lambda x: jnp.int32(1)], 1.0)
    with pytest.raises(TypeError, match="every branch must return the same structure"):
        lax.cond(True, lambda x: (x, x), lambda x: x, 1.0)
    with pytest.raises(TypeError, match=r"predicate must be a scalar, got shape \(2,\).*jnp.where"):
        lax.cond(jnp.ones(2) > 0, lambda x: x, lambda x: x, 1.0)


def test_switch_clamps_the_index():
    branches = [lambda x: x, lambda x: x * 10, lambda x: x * 100]
    assert [float(lax.switch(i, branches, 1.0)) for i in (-5, 0, 1, 2, 9)] == [1, 1, 10, 100, 100]
    f = jax.jit(lambda i, x: lax.switch(i, branches, x))
    assert [float(f(i, 2.0)) for i in (-1, 1, 7)] == [2, 20, 200]
    with pytest.raises(TypeError, match="switch's index must be an integer scalar"):
        lax.switch(1.0, branches, 1.0)


# --- loops ------------------------------------------------------------------------------------

def test_fori_loop_static_bounds_is_a_scan():
    assert float(lax.fori_loop(0, 3, lambda i, c: c * 2, 1.0)) == 8.0
    assert float(lax.fori_loop(2, 5, lambda i, c: c + i, 0)) == 9
    assert float(lax.fori_loop(3, 3, lambda i, c: c + 1.0, 5.0)) == 5.0
    assert prims(lambda x: lax.fori_loop(0, 3, lambda i, c: c * 2, x), 1.0) == ['scan']


def test_fori_loop_traced_bounds_is_a_while():
    f = jax.jit(lambda n: lax.fori_loop(0, n, lambda i, c: c + i, 0))
    assert int(f(5)) == 10
    assert prims(lambda n: lax.fori_loop(0, n, lambda i, c: c + i, 0), 5)[-1] == 'while'


def test_while_loop():
    assert int(lax.while_loop(lambda x: x < 10, lambda x: x * 2, 1)) == 16
    i, acc = lax.while_loop(lambda c: c[0] < 4, lambda c: (c[0] + 1, c[1] + c[0] * 1.5), (0, 0.0))
    assert int(i) == 4 and float(acc) == 9.0
    f = jax.jit(lambda x, limit: lax.while_loop(lambda c: c < limit, lambda c: c * 3, x))
    assert float(f(1.0, 50.0)) == 81.0


def test_while_loop_errors():
    with pytest.raises(TypeError, match=r"cond_fun must return a boolean scalar, but got output "
                                        r"type\(s\) \['f32\[\]'\]"):
        lax.while_loop(lambda x: x, lambda x: x, 1.0)
    with pytest.raises(TypeError, match=r"carry cannot change type.*\n  \* carry: expected f32\[\], "
                                        r"got f32\[2\]"):
        lax.while_loop(lambda x: True, lambda x: jnp.ones(2), 1.0)
    with pytest.raises(TypeError, match=r"expected i32\[\], got f32\[\]"):
        lax.fori_loop(0, 3, lambda i, c: c + 0.5, 0)


def test_weak_initial_carry_takes_the_body_type():
    out = lax.fori_loop(0, 3, lambda i, c: c + jnp.float32(1), 0.0)
    assert out.dtype == np.float32 and not out.weak_type and float(out) == 3.0


def test_scan_matches_python_loop():
    xs = jnp.arange(5.)

    def f(c, x):
        return c * 0.5 + x, c * x
    carry, ys = lax.scan(f, 1.0, xs)
    c, want = 1.0, []
    for x in np.arange(5.):
        c, y = c * 0.5 + x, c * x
        want.append(y)
    close(carry, c)
    close(ys, want)
    rc, rys = lax.scan(f, 1.0, xs, reverse=True)
    c, want = 1.0, []
    for x in np.arange(5.)[::-1]:
        c, y = c * 0.5 + x, c * x
        want.append(y)
    close(rc, c)
    close(rys, want[::-1])


def test_scan_pytrees_length_and_map():
    carry, ys = lax.scan(lambda c, x: ({'n': c['n'] + 1}, (x['a'] * 2, x['b'].sum())),
                         {'n': 0}, {'a': jnp.arange(3.), 'b': jnp.ones((3, 2))})
    assert int(carry['n']) == 3
    close(ys[0], [0., 2., 4.])
    close(ys[1], [2., 2., 2.])
    c, ys = lax.scan(lambda c, _: (c + 1, c), 0, None, length=4)
    assert int(c) == 4 and ys.tolist() == [0, 1, 2, 3]
    close(lax.map(jnp.sum, jnp.ones((3, 2))), [2., 2., 2.])


def test_scan_errors():
    with pytest.raises(ValueError, match=r"inconsistent lengths.*\[3, 4\]"):
        lax.scan(lambda c, x: (c, x), 0.0, (jnp.ones(3), jnp.ones(4)))
    with pytest.raises(ValueError, match="no values to scan over and `length` not provided"):
        lax.scan(lambda c, x: (c, x), 0.0, None)
    with pytest.raises(TypeError, match=r"scan body must return a pair \(carry, y\)"):
        lax.scan(lambda c, x: c, 0.0, jnp.ones(3))
    with pytest.raises(TypeError, match=r"lax.scan body must return a carry with the same shapes"):
        lax.scan(lambda c, x: (jnp.ones(2), x), 0.0, jnp.ones(3))


def test_python_control_flow_inside_bodies_errors_naming_the_construct():
    from tinygrad_tracer.errors import TracerBoolConversionError
    with pytest.raises(TracerBoolConversionError, match="from lax.cond"):
        lax.cond(True, lambda x: x if x > 0 else -x, lambda x: x, 1.0)


# --- vmap ------------------------------------------------------------------------------------

def test_vmap_cond_batched_predicate_becomes_select():
    f = lambda x: lax.cond(x > 0, jnp.sin, jnp.cos, x)
    xs = jnp.array([-1., 2., 0.5])
    close(jax.vmap(f)(xs), np.where(np.asarray(xs) > 0, np.sin(xs), np.cos(xs)))
    names = prims(jax.vmap(f), xs)
    assert 'cond' not in names and 'select_n' in names


def test_vmap_cond_unbatched_predicate_stays_a_cond():
    f = lambda p, x: lax.cond(p, lambda x: x * 2, lambda x: x + 1, x)
    out = jax.vmap(f, in_axes=(None, 0))(True, jnp.arange(3.))
    close(out, [0., 2., 4.])
    assert 'cond' in prims(jax.vmap(f, in_axes=(None, 0)), True, jnp.arange(3.))


def test_vmap_switch_batched_index():
    branches = [lambda x: x, lambda x: x * 10, lambda x: x * 100]
    out = jax.vmap(lambda i, x: lax.switch(i, branches, x))(jnp.array([0, 2, 1, 5]), jnp.ones(4))
    close(out, [1., 100., 10., 100.])


def test_vmap_while_batched_predicate():
    f = lambda x: lax.while_loop(lambda c: c < 10, lambda c: c * 2, x)
    close(jax.vmap(f)(jnp.array([1., 3., 20.])), [16., 12., 20.])
    # only the loop bound batched: the carry becomes batched too
    g = lambda limit: lax.while_loop(lambda c: c[0] < limit, lambda c: (c[0] + 1, c[1] * 2.0), (0, 1.0))[1]
    close(jax.vmap(g)(jnp.array([0, 1, 3])), [1., 2., 8.])


def test_vmap_scan_and_fori():
    xs = jnp.arange(6.).reshape(2, 3)
    carry, ys = jax.vmap(lambda x: lax.scan(lambda c, v: (c + v, c * v), 0.0, x))(xs)
    close(carry, [3., 12.])
    close(ys, [[0., 0., 2.], [0., 12., 35.]])
    # batched along the scanned axis's neighbour, and a batched closed-over constant
    w = jnp.array([1., 2.])
    out = jax.vmap(lambda x, w: lax.scan(lambda c, v: (c + v * w, c), 0.0, x)[0], in_axes=(1, 0))(xs.T, w)
    close(out, [3., 24.])
    close(jax.vmap(lambda x: lax.fori_loop(0, 3, lambda i, c: c * x, 1.0))(jnp.array([1., 2.])), [1., 8.])


# --- jvp, grad, linearize ----------------------------------------------------------------------

def test_grad_cond():
    f = lambda x: lax.cond(x > 0, jnp.sin, jnp.cos, x)
    close(grad(f)(1.0), np.cos(1.0))
    close(grad(f)(-1.0), np.sin(1.0))
    close(jax.jit(grad(f))(-1.0), np.sin(1.0))


def test_grad_cond_with_residuals_in_one_branch_only():
    f = lambda x, y: lax.cond(x > 0, lambda x, y: jnp.sin(x) * y, lambda x, y: y * 3.0, x, y)
    close(grad(f, argnums=(0, 1))(0.5, 2.0), [np.cos(0.5) * 2, np.sin(0.5)])
    close(grad(f, argnums=(0, 1))(-0.5, 2.0), [0.0, 3.0])


def test_jvp_and_grad_scan():
    def f(xs):
        return lax.scan(lambda c, x: (c * x, c), 1.0, xs)
    xs = jnp.array([1., 2., 3.])
    (c, ys), (dc, dys) = jvp(f, (xs,), (jnp.ones(3),))
    close(c, 6.0)
    close(dc, 11.0)
    close(dys, [0., 1., 3.])
    close(grad(lambda xs: f(xs)[0])(xs), [6., 3., 2.])
    close(grad(lambda xs: f(xs)[1].sum())(xs), [3., 1., 0.])


def test_grad_scan_through_closed_over_weights():
    # the cotangent of a loop constant is accumulated across iterations
    def loss(w, xs):
        return lax.scan(lambda c, x: (jnp.tanh(c * w + x), None), 0.5, xs)[0]
    xs = jnp.array([0.1, -0.2, 0.3, 0.4])
    eps = 1e-3
    num = (loss(0.7 + eps, xs) - loss(0.7 - eps, xs)) / (2 * eps)
    close(grad(loss)(0.7, xs), num, rtol=2e-3)
    close(jax.jit(grad(loss))(0.7, xs), grad(loss)(0.7, xs))


def test_grad_fori_loop_static_bounds():
    f = lambda x: lax.fori_loop(0, 10, lambda i, c: c * x, 1.0)
    close(grad(f)(1.1), 10 * 1.1 ** 9, rtol=1e-5)
    close(jax.jit(grad(f))(1.1), 10 * 1.1 ** 9, rtol=1e-5)


def test_jvp_while_loop_forward_mode_works():
    f = lambda x: lax.while_loop(lambda c: c[0] < 10, lambda c: (c[0] + 1, c[1] * x), (0, 1.0))[1]
    out, t = jvp(f, (1.1,), (1.0,))
    close(out, 1.1 ** 10, rtol=1e-5)
    close(t, 10 * 1.1 ** 9, rtol=1e-5)


def test_reverse_mode_through_while_raises_jax_error():
    with pytest.raises(ValueError) as e:
        grad(lambda x: lax.while_loop(lambda c: c < 10, lambda c: c * x, 1.0))(2.0)
    assert str(e.value) == WHILE_GRAD_ERROR
    with pytest.raises(ValueError, match="Reverse-mode differentiation does not work"):
        jax.jit(lambda n: grad(lambda x: lax.fori_loop(0, n, lambda i, c: c * x, 1.0))(2.0))(3)


def test_linearize_while_keeps_the_primal_known():
    f = lambda x: lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1] * x), (0, 1.0))[1]
    y, f_jvp = linearize(f, 2.0)
    close(y, 8.0)
    close(f_jvp(1.0), 12.0)


def test_vjp_of_jit_of_cond():
    f = jax.jit(lambda x: lax.cond(x.sum() > 0, lambda x: x * x, lambda x: -x, x))
    out, f_vjp = vjp(f, jnp.array([1., 2.]))
    close(f_vjp(jnp.ones(2))[0], [2., 4.])
