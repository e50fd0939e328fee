"""The errors autodiff users meet: type and message (each names the fix)."""
import re

import numpy as np
import pytest

import tinygrad_tracer as tt
import tinygrad_tracer.numpy as jnp
from tinygrad_tracer import dtypes
from tinygrad_tracer.errors import UnexpectedTracerError


def assert_raises(exc, *fragments):
    """pytest.raises that checks every fragment appears in the message."""
    return pytest.raises(exc, match=''.join(f"(?=[\\s\\S]*{re.escape(f)})" for f in fragments))


def test_grad_of_a_non_scalar_output():
    with assert_raises(TypeError, "Gradient only defined for scalar-output functions. Output had shape: (3,).",
                "jacrev", "vjp", "has_aux=True"):
        tt.grad(lambda x: x * 2)(jnp.ones(3))


def test_grad_of_a_function_returning_a_tuple_points_at_has_aux():
    # Seed 001, "Auxiliary data": grad of a function returning (loss, aux) without has_aux.
    def squared_error_with_aux(x, y):
        return jnp.sum((x - y) ** 2), x - y
    with assert_raises(TypeError, "Gradient only defined for scalar-output functions. Output was a tuple "
                           "of length 2.", "pass has_aux=True"):
        tt.grad(squared_error_with_aux)(jnp.ones(4), jnp.zeros(4))


def test_grad_of_an_integer_output():
    with assert_raises(TypeError, "grad requires real-valued outputs", "got int32", "astype(jnp.float32)"):
        tt.grad(lambda x: jnp.sum(x > 0).astype(jnp.int32))(1.0)


@pytest.mark.parametrize('arg, name', [(1, 'int32'), (True, 'bool'), (jnp.arange(3), 'int32')])
def test_grad_with_respect_to_integer_or_bool_inputs(arg, name):
    with assert_raises(TypeError, "grad requires real-valued inputs (input dtype that is a sub-dtype of "
                           f"np.floating), but got {name}. If you want to use integer-valued "
                           "inputs, use vjp or set allow_int to True.",
                "pass 1.0 instead of 1, or x.astype(jnp.float32)"):
        tt.grad(lambda x: jnp.sum(x * 2.0))(arg)
    with assert_raises(TypeError, "value_and_grad requires real-valued inputs"):
        tt.value_and_grad(lambda x: jnp.sum(x * 2.0))(arg)


@pytest.mark.parametrize('result, described', [
    (lambda x: x * 2, 'a single array f32[]'),
    (lambda x: (x, x, x), 'a tuple of length 3'),
])
def test_has_aux_needs_a_pair(result, described):
    with assert_raises(TypeError, "grad(..., has_aux=True) requires the function to return a pair "
                           f"(output, aux), but it returned {described}.",
                "`return out, aux`", "drop has_aux=True"):
        tt.grad(result, has_aux=True)(1.0)
    with assert_raises(TypeError, "vjp(..., has_aux=True) requires the function to return a pair"):
        tt.vjp(result, 1.0, has_aux=True)
    with assert_raises(TypeError, "jvp(..., has_aux=True) requires the function to return a pair"):
        tt.jvp(result, (1.0,), (1.0,), has_aux=True)


def test_argnums_out_of_range_or_malformed():
    f = lambda x, y: x * y
    with assert_raises(TypeError, "differentiating with respect to argnums=2 requires at least 3 positional "
                           "arguments to be passed by the caller, but got only 2 positional "
                           "arguments.", "Pass the argument positionally"):
        tt.grad(f, argnums=2)(1.0, 2.0)
    with assert_raises(TypeError, "argnums=(0, 5) requires at least 6 positional arguments"):
        tt.value_and_grad(f, argnums=(0, 5))(1.0, 2.0)
    with assert_raises(TypeError, "differentiating with respect to argnums=1", "got only 1 positional"):
        tt.grad(f, argnums=1)(1.0, y=2.0)
    with assert_raises(TypeError, "grad: argnums must be an int or a non-empty tuple of ints, got '0'."):
        tt.grad(f, argnums='0')(1.0, 2.0)


def test_jvp_argument_errors():
    with assert_raises(TypeError, "primal and tangent arguments to jvp must be tuples or lists",
                "found float and float", "jvp(f, (x,), (v,))"):
        tt.jvp(jnp.sin, 1.0, 1.0)
    with assert_raises(TypeError, "must have the same tree structure", "primals have tree structure"):
        tt.jvp(lambda a, b: a, (1.0, 2.0), (1.0,))
    with assert_raises(ValueError, "jvp called with different primal and tangent shapes: primal shape () "
                            "and tangent shape (2,)."):
        tt.jvp(jnp.sin, (1.0,), (jnp.ones(2),))
    with assert_raises(TypeError, "primal dtype float32 needs tangent dtype float32, but the tangent has "
                           "dtype int32", "v.astype(jnp.float32)"):
        tt.jvp(jnp.sin, (1.0,), (jnp.ones((), jnp.int32),))
    with assert_raises(TypeError, "primal dtype int32 needs tangent dtype float0, but the tangent has dtype "
                           "float32", "dtype=tinygrad_tracer.dtypes.float0"):
        tt.jvp(lambda n: n * 2, (1,), (1.0,))


def test_vjp_cotangent_errors():
    _, f_vjp = tt.vjp(lambda x: {'y': x * 2}, jnp.ones(3))
    with assert_raises(ValueError, "must have the structure of <lambda>'s output"):
        f_vjp(jnp.ones(3))
    with assert_raises(ValueError, "has type float32[2], but the corresponding output of <lambda> has type "
                            "float32[3]", "jnp.ones_like(out)"):
        f_vjp({'y': jnp.ones(2)})
    with assert_raises(ValueError, "has type int32[3]"):
        f_vjp({'y': jnp.ones(3, jnp.int32)})


def test_linearize_tangent_errors():
    _, f_jvp = tt.linearize(lambda x, y: x * y, 1.0, 2.0)
    with assert_raises(TypeError, "linearize's f_jvp takes tangents with the structure of the primals"):
        f_jvp(1.0)
    with assert_raises(TypeError, "primal and tangent arguments to linearize do not match"):
        f_jvp(1.0, jnp.ones((), jnp.int32))


def test_jacobian_dtype_errors():
    with assert_raises(TypeError, "jacfwd requires real-valued inputs", "got int32"):
        tt.jacfwd(lambda x: x * 2)(jnp.arange(3))
    with assert_raises(TypeError, "jacrev requires real-valued outputs", "got int32"):
        tt.jacrev(lambda x: (x > 0).astype(jnp.int32))(jnp.ones(3))


def test_custom_rule_errors():
    f = tt.custom_jvp(lambda x: x)
    with assert_raises(TypeError, "No JVP defined for custom_jvp function <lambda> using defjvp"):
        f(1.0)
    g = tt.custom_vjp(lambda x: x)
    with assert_raises(TypeError, "No VJP defined for custom_vjp function <lambda>", "defvjp(fwd, bwd)"):
        g(1.0)
    g.defvjp(lambda x: (x, None), lambda res, ct: ct)   # bwd must return a tuple
    with assert_raises(TypeError, "must return a tuple with one cotangent per differentiable argument (1), "
                           "but it returned a value of type Array"):
        tt.grad(g)(1.0)
    g.defvjp(lambda x: (x, None), lambda res, ct: (jnp.ones(2),))
    with assert_raises(TypeError, "returned a cotangent of shape (2,) for an argument of shape ()"):
        tt.grad(g)(1.0)
    k = tt.custom_vjp(lambda p: p['a'] * 2)
    k.defvjp(lambda p: (p['a'] * 2, None), lambda res, ct: (ct,))
    with assert_raises(TypeError, "returned a cotangent with structure", "for argument 0"):
        tt.grad(k)({'a': 1.0})
    g.defvjp(lambda x: (x, None), lambda res, ct: (ct,))
    with assert_raises(TypeError, "can't apply forward-mode autodiff (jvp) to a custom_vjp function",
                "Use grad / vjp, or define the function with custom_jvp"):
        tt.jvp(g, (1.0,), (1.0,))
    h = tt.custom_jvp(lambda x: x * 2)
    h.defjvp(lambda p, t: (p[0] * 2, (t[0], t[0])))
    with assert_raises(TypeError, "custom JVP rule of <lambda> must return (primal_out, tangent_out) with "
                           "the structure of the function's output"):
        tt.jvp(h, (1.0,), (1.0,))


def test_custom_rule_closing_over_a_differentiated_value():
    def outer(y):
        f = tt.custom_jvp(lambda x: x * y)
        f.defjvp(lambda p, t: (p[0] * y, t[0] * y))
        return f(y)
    with assert_raises(TypeError, "with respect to a value it closes over", "Pass that value as an argument"):
        tt.grad(outer)(2.0)


def test_leaked_tracer_names_the_transformation():
    leaked = []

    def f(x):
        leaked.append(x)
        return x * 2
    tt.grad(f)(1.0)
    with assert_raises(UnexpectedTracerError, "a value from jvp", "escaped its transformation", "has_aux=True"):
        leaked[0] + 1.0
    assert np.zeros((), dtypes.float0).dtype == dtypes.float0
