"""Which code a custom_jvp / custom_vjp call runs under each transformation (issue 16,
item 2): as in JAX, jvp/grad/vjp call the rule and never the function (so a function
with Python control flow on its argument differentiates), eager calls, vmap and jit
run the function. Golden call logs, and the same logs from JAX."""
import numpy as np
import pytest

import tinygrad_tracer as tt

JVP_ORDERS = {   # transformation -> what runs, in order (JAX 0.10.2)
    'grad': ['g_jvp'], 'jvp': ['g_jvp'], 'vjp': ['g_jvp'], 'eager': ['g'], 'jit': ['g'],
    'vmap': ['g'], 'jit(grad)': ['g_jvp'], 'grad(jit)': ['g_jvp'], 'grad(grad)': ['g_jvp'],
    'vmap(grad)': ['g_jvp'], 'make_jaxpr(grad)': ['g_jvp'],
}
VJP_ORDERS = {
    'grad': ['fwd', 'bwd'], 'vjp': ['fwd'], 'vjp and pullback': ['fwd', 'bwd'], 'eager': ['h'],
    'jit': ['h'], 'vmap': ['h'], 'make_jaxpr(grad)': ['fwd', 'bwd'], 'jit(grad)': ['fwd', 'bwd'],
    'vmap(grad)': ['fwd', 'bwd'], 'grad(vmap)': ['fwd', 'bwd'],
}


def _jvp_logs(jax):
    jnp, calls = jax.numpy, []

    @jax.custom_jvp
    def g(x):
        calls.append('g')
        return jnp.sin(x)

    @g.defjvp
    def g_jvp(primals, tangents):
        calls.append('g_jvp')
        (x,), (x_dot,) = primals, tangents
        return jnp.sin(x), jnp.cos(x) * x_dot
    runs = {
        'grad': lambda: jax.grad(g)(1.0), 'jvp': lambda: jax.jvp(g, (1.0,), (1.0,)),
        'vjp': lambda: jax.vjp(g, 1.0)[1](1.0), 'eager': lambda: g(1.0),
        'jit': lambda: jax.jit(g)(1.0), 'vmap': lambda: jax.vmap(g)(jnp.ones(2)),
        'jit(grad)': lambda: jax.jit(jax.grad(g))(1.0), 'grad(jit)': lambda: jax.grad(jax.jit(g))(1.0),
        'grad(grad)': lambda: jax.grad(jax.grad(g))(1.0),
        'vmap(grad)': lambda: jax.vmap(jax.grad(g))(jnp.ones(2)),
        'make_jaxpr(grad)': lambda: jax.make_jaxpr(jax.grad(g))(1.0),
    }
    return _log(runs, calls)


def _vjp_logs(jax):
    jnp, calls = jax.numpy, []

    @jax.custom_vjp
    def h(x):
        calls.append('h')
        return jnp.sin(x)

    def h_fwd(x):
        calls.append('fwd')
        return jnp.sin(x), jnp.cos(x)

    def h_bwd(cos_x, ct):
        calls.append('bwd')
        return (cos_x * ct,)
    h.defvjp(h_fwd, h_bwd)
    runs = {
        'grad': lambda: jax.grad(h)(1.0), 'vjp': lambda: jax.vjp(h, 1.0),
        'vjp and pullback': lambda: jax.vjp(h, 1.0)[1](1.0), 'eager': lambda: h(1.0),
        'jit': lambda: jax.jit(h)(1.0), 'vmap': lambda: jax.vmap(h)(jnp.ones(2)),
        'make_jaxpr(grad)': lambda: jax.make_jaxpr(jax.grad(h))(1.0),
        'jit(grad)': lambda: jax.jit(jax.grad(h))(1.0),
        'vmap(grad)': lambda: jax.vmap(jax.grad(h))(jnp.ones(2)),
        'grad(vmap)': lambda: jax.grad(lambda x: jax.vmap(h)(x).sum())(jnp.ones(2)),
    }
    return _log(runs, calls)


def _log(runs, calls):
    logs = {}
    for name, run in runs.items():
        calls.clear()
        run()
        logs[name] = list(calls)
    return logs


def test_custom_jvp_runs_the_rule_not_the_function():
    assert _jvp_logs(tt) == JVP_ORDERS


def test_custom_vjp_runs_fwd_not_the_function():
    assert _vjp_logs(tt) == VJP_ORDERS


def test_call_orders_match_real_jax(real_jax):
    assert _jvp_logs(real_jax) == JVP_ORDERS
    assert _vjp_logs(real_jax) == VJP_ORDERS


def _branchy(jax):
    """A custom_jvp function branching on its argument in Python, with a traceable rule."""
    jnp = jax.numpy

    @jax.custom_jvp
    def f(x):
        return jnp.sin(x) if x > 0 else jnp.cos(x)
    f.defjvp(lambda primals, tangents: (f(primals[0]), 2.0 * tangents[0]))
    return f


def test_a_function_with_python_control_flow_differentiates():
    f = _branchy(tt)
    assert float(tt.grad(f)(1.0)) == 2.0 and float(tt.grad(f)(-1.0)) == 2.0
    out, t = tt.jvp(f, (1.0,), (3.0,))
    assert float(out) == pytest.approx(np.sin(1.0)) and float(t) == 6.0
    assert float(tt.grad(tt.grad(f))(1.0)) == 0.0
    with pytest.raises(tt.errors.TracerBoolConversionError):   # vmap runs f itself, as in JAX
        tt.vmap(tt.grad(f))(tt.numpy.ones(3))


def test_branchy_function_matches_real_jax(real_jax):
    f = _branchy(real_jax)
    assert float(real_jax.grad(f)(1.0)) == 2.0 and float(real_jax.grad(f)(-1.0)) == 2.0
    assert float(real_jax.grad(real_jax.grad(f))(1.0)) == 0.0


def _closing_over(jax):
    def outer(y):
        f = jax.custom_vjp(lambda x: x * y)
        f.defvjp(lambda x: (x * y, None), lambda res, ct: (ct * 100.0,))
        return f(3.0)
    return outer


VJP_WITH_CONSTS = """{ lambda ; a:f32[]. let
    b:f32[] = custom_vjp_call[
      name=<lambda>
      bwd=<lambda>
      call_jaxpr={ lambda ; c:f32[] d:f32[]. let e:f32[] = mul d c in (e,) }
      fwd=<lambda>
      num_consts=1
      symbolic_zeros=False
    ] a 3.0:f32[]
  in (b,) }"""


def test_recorded_calls_print_as_in_jax():
    assert str(tt.make_jaxpr(_closing_over(tt))(2.0)) == VJP_WITH_CONSTS


def test_recorded_calls_print_as_in_real_jax(real_jax):
    assert str(real_jax.make_jaxpr(_closing_over(real_jax))(2.0)) == VJP_WITH_CONSTS


def test_differentiating_a_closed_over_value_is_an_error():
    """JAX fails here with an escaped-tracer error; we say what is wrong."""
    with pytest.raises(TypeError, match="custom_vjp function with respect to a value it closes over"):
        tt.grad(_closing_over(tt))(2.0)


def test_symbolic_zeros_is_refused_in_our_words():
    f = tt.custom_jvp(lambda x: x)
    with pytest.raises(NotImplementedError, match=r"symbolic_zeros=True\) is not supported"):
        f.defjvp(lambda p, t: (p[0], t[0]), symbolic_zeros=True)
    g = tt.custom_vjp(lambda x: x)
    with pytest.raises(NotImplementedError, match=r"symbolic_zeros=True\) is not supported"):
        g.defvjp(lambda x: (x, None), lambda r, ct: (ct,), symbolic_zeros=True)


def test_rules_survive_vmap_and_jit_of_the_recorded_call():
    """The recorded equation keeps the rule: vmap of jit of grad, and grad of jit, use it."""
    g = tt.custom_jvp(lambda x: tt.numpy.sin(x))
    g.defjvp(lambda p, t: (tt.numpy.sin(p[0]), 10.0 * t[0]))
    assert float(tt.grad(tt.jit(g))(1.0)) == 10.0
    assert tt.vmap(tt.jit(tt.grad(g)))(tt.numpy.ones(2)).tolist() == [10.0, 10.0]
    assert tt.grad(lambda x: tt.vmap(tt.jit(g))(x).sum())(tt.numpy.ones(2)).tolist() == [10.0, 10.0]
    assert float(tt.jit(tt.grad(g))(1.0)) == 10.0
