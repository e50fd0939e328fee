"""The errors users meet when Python meets traced values, and leaked tracers."""
import numpy as np
import pytest

import tinygrad_tracer as jax
import tinygrad_tracer.numpy as jnp
from tinygrad_tracer import lax
from tinygrad_tracer.api import grad
from tinygrad_tracer.errors import (ConcretizationTypeError, TracerArrayConversionError,
                                    TracerBoolConversionError, TracerIntegerConversionError,
                                    UnexpectedTracerError)

FIXES = ("Fixes:\n"
         "  * mark the argument static: jit(f, static_argnums=...) or static_argnames=... (it must "
         "then be hashable, and each new value retraces);\n"
         "  * or keep the decision in the computation: jnp.where(pred, a, b) or "
         "lax.cond(pred, true_fun, false_fun, *operands).")


def test_if_on_traced_value_under_jit():
    def f(x, y):
        if x > 0:
            return y
        return -y
    with pytest.raises(TracerBoolConversionError) as e:
        jax.jit(f)(1.0, 2.0)
    msg = str(e.value)
    assert msg.startswith("Attempted conversion to bool (an `if`, `while`, `and`/`or` or `bool()`) "
                          "of a traced value: abstract array bool[] from jit(f) (while tracing the "
                          "function f; the value depends on argument(s) x).")
    assert msg.endswith(FIXES)
    assert isinstance(e.value, ConcretizationTypeError) and isinstance(e.value, TypeError)


def test_the_static_argnums_fix_works():
    def f(x, flag):
        return x if flag > 0 else -x
    assert float(jax.jit(f, static_argnums=1)(2.0, -1)) == -2.0
    assert float(jax.jit(lambda x: jnp.where(x > 0, x, -x))(-3.0)) == 3.0


def test_int_and_float_of_traced_value():
    with pytest.raises(TracerIntegerConversionError, match=r"conversion to Python int of a traced "
                                                           r"value: abstract array f32\[\] from jit\(g\)"):
        def g(x):
            return jnp.ones(3)[int(x)]
        jax.jit(g)(1.0)
    with pytest.raises(ConcretizationTypeError, match=r"float\(\) was called on a traced value: "
                                                      r"f32\[\] .* argument"):
        jax.jit(lambda x: float(x))(1.0)
    with pytest.raises(TracerArrayConversionError, match=r"np.asarray\(\) .* was called on a "
                                                         r"traced value"):
        jax.jit(lambda x: np.asarray(x))(1.0)


def test_argument_names_in_messages():
    def loss(params, data):
        return params['w'] * data if data.sum() > 0 else params['w']
    with pytest.raises(TracerBoolConversionError, match=r"depends on argument\(s\) data\)"):
        jax.jit(loss)({'w': 1.0}, jnp.ones(3))


def test_shape_from_traced_value_names_static_argnums():
    with pytest.raises(TypeError, match=r"a shape may not depend on traced values: pass it as a "
                                        r"static argument \(jit\(f, static_argnums=...\)\)"):
        jax.jit(lambda n: jnp.zeros(n))(3)
    assert jax.jit(lambda n: jnp.zeros(n), static_argnums=0)(3).shape == (3,)


def test_python_control_flow_keeps_working_under_grad():
    absval = lambda x: x if x > 0 else -x
    assert float(grad(absval)(-2.0)) == -1.0
    assert float(grad(absval)(3.0)) == 1.0

    def clipped_power(x, n):
        for _ in range(int(n)):
            x = x * 1.5 if x < 10 else x
        return x
    assert float(grad(clipped_power)(1.0, 3)) == pytest.approx(1.5 ** 3)


def test_grad_under_jit_needs_lax_cond():
    # the value is abstract because of the jit, so the message names the jitted function
    with pytest.raises(TracerBoolConversionError, match=r"from jit\(\S*absval\S*\) \(while tracing "
                                                         r"the function \S*absval\S*; the value "
                                                         r"depends on argument\(s\) x\)"):
        def absval(x):
            return x if x > 0 else -x
        jax.jit(grad(absval))(-2.0)
    fixed = jax.jit(grad(lambda x: lax.cond(x > 0, lambda x: x, lambda x: -x, x)))
    assert float(fixed(-2.0)) == -1.0


def test_inside_control_flow_bodies():
    with pytest.raises(TracerBoolConversionError, match="from lax.while_loop body_fun"):
        lax.while_loop(lambda c: c < 3, lambda c: c + 1 if c > 1 else c + 2, 0)
    with pytest.raises(TracerBoolConversionError, match="from lax.scan body"):
        lax.scan(lambda c, x: (c, x if x > 0 else -x), 0.0, jnp.ones(3))


# --- leaked tracers --------------------------------------------------------------------------

def leak_through(transform, *args):
    stash = []

    def f(x):
        stash.append(x)
        return x * 2
    transform(f)(*args)
    return stash[0]


@pytest.mark.parametrize('transform, args, name', [
    (jax.jit, (1.0,), 'jit(f)'),
    (jax.vmap, (jnp.ones(2),), 'vmap'),
    (grad, (1.0,), 'jvp'),
])
def test_leaked_tracer_names_its_transformation(transform, args, name):
    leaked = leak_through(transform, *args)
    with pytest.raises(UnexpectedTracerError) as e:
        leaked + 1
    assert str(e.value).startswith(f"Encountered an unexpected tracer: a value from {name} (level ")
    assert f"was used after {name} had finished" in str(e.value)
    assert "Return the value from the transformed function instead of saving it" in str(e.value)


def test_leaked_tracer_used_in_a_later_jit():
    leaked = leak_through(jax.jit, 1.0)
    with pytest.raises(UnexpectedTracerError, match=r"a value from jit\(f\)"):
        jax.jit(lambda y: y + leaked)(1.0)
