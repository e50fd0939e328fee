"""Turning a tracer into a NumPy array or a Python number: what works, what raises.

Under grad (without jit) a tracer knows its value, so conversions that only
*read* it work (`if x > 0`, `int(x)`, `.item()` of an integer). Conversions that
hand the value to code no transformation sees (`np.sin(x)`, `np.asarray(x)`,
`float(x)`, `x.tolist()`, `.item()` of a float) would silently drop its
derivative, so they raise, as in JAX (which lets a float `.item()` through and
returns a zero derivative: we refuse that one too). Under
jit and vmap nothing about the value is known: every conversion raises.
"""
import builtins
import operator

import numpy as np
import pytest

import tinygrad_tracer as jax
import tinygrad_tracer.numpy as jnp
from tinygrad_tracer import errors, lax
from tinygrad_tracer.errors import (ConcretizationTypeError, TracerArrayConversionError,
                                    TracerBoolConversionError, TracerIntegerConversionError)


def run_under(jax, kind, f, x):
    """Call `f` on a tracer of `x` made by the transformation `kind` (`jax` is
    tinygrad_tracer or the real JAX: the code is the same)."""
    jnp = jax.numpy
    return {
        'jvp': lambda: jax.jvp(f, (x,), (x,)),
        'grad': lambda: jax.grad(lambda x: jnp.sum(f(x)))(x),
        'vjp': lambda: jax.vjp(f, x),
        'linearize': lambda: jax.linearize(f, x),
        'vmap': lambda: jax.vmap(f)(jnp.stack([x, x])),
        'jit': lambda: jax.jit(f)(x),
        'make_jaxpr': lambda: jax.make_jaxpr(f)(x),
    }[kind]()


DIFFERENTIATING = ['jvp', 'grad', 'vjp', 'linearize']   # the tracer knows its value
ABSTRACT = ['vmap', 'jit', 'make_jaxpr']                  # it does not
KINDS = DIFFERENTIATING + ABSTRACT

# name -> (conversion, what it returns for a concrete 2.0)
CONVERSIONS = {
    'np.asarray': (np.asarray, 2.0),
    'np.array': (np.array, 2.0),
    'np.sin': (np.sin, np.sin(np.float32(2.0))),
    'float': (float, 2.0),
    'complex': (complex, 2.0),
    'tolist': (lambda t: t.tolist(), 2.0),
    'int': (int, 2),
    'bool': (bool, True),
    'if': (lambda t: 'yes' if t else 'no', 'yes'),
    'item': (lambda t: t.item(), 2.0),
    'index': (operator.index, None),   # a float is never an index
}
TO_NUMPY = ['np.asarray', 'np.array', 'np.sin']
LEAVES_JAX = ['float', 'complex', 'tolist', 'item']   # refused on every float tracer
READS_VALUE = ['int', 'bool', 'if']                   # fine where the value is known


def expected(kind, conv):
    """What JAX 0.10.2 does (see test_matches_jax): an error class, or 'ok'."""
    if conv in TO_NUMPY:
        return TracerArrayConversionError
    if conv in LEAVES_JAX:
        return ConcretizationTypeError
    if conv == 'index':
        return TypeError
    if kind in DIFFERENTIATING:
        return 'ok'
    return TracerBoolConversionError if conv in ('bool', 'if') else ConcretizationTypeError


def convert_under(jax, kind, conv, x):
    """'ok' and the converted value, or the exception `conv` raised on a tracer of `x`."""
    fn, _ = CONVERSIONS[conv]
    seen = []

    def f(x):
        seen.append(fn(x))
        return x * 2.0
    try:
        run_under(jax, kind, f, x)
    except Exception as e:
        return e
    return 'ok', seen[0]


@pytest.mark.parametrize('conv', list(CONVERSIONS))
@pytest.mark.parametrize('kind', KINDS)
def test_every_conversion_under_every_transformation(kind, conv):
    got, want = convert_under(jax, kind, conv, jnp.float32(2.0)), expected(kind, conv)
    if want == 'ok':
        assert got == ('ok', CONVERSIONS[conv][1])
        return
    assert isinstance(got, want), f"{kind}/{conv}: expected {want.__name__}, got {got!r}"
    if conv in TO_NUMPY + LEAVES_JAX:
        msg = str(got)
        assert " was called on a traced value: f32[] from " in msg
        assert "jnp.sin instead of np.sin" in msg
        if kind in DIFFERENTIATING:
            assert "from jvp" in msg and "derivative" in msg
            assert "jax.lax.stop_gradient(x)" in msg
        else:
            assert f"from {'vmap' if kind == 'vmap' else 'jit('}" in msg
            assert "static_argnums" in msg


def test_error_classes_are_jax_s():
    assert issubclass(TracerArrayConversionError, errors.TinyTracerError)
    assert issubclass(TracerArrayConversionError, TypeError)
    assert not issubclass(TracerArrayConversionError, ConcretizationTypeError)   # as in JAX
    assert jax.errors.TracerArrayConversionError is TracerArrayConversionError


# --- the examples of issue 10: each used to give a silently wrong derivative ------------------

X = jnp.array([.7, -.3, .4])


def test_numpy_function_on_a_grad_tracer_raises():
    with pytest.raises(TracerArrayConversionError) as e:
        jax.grad(lambda x: jnp.sum(np.sin(x)))(X)   # used to give [0, 0, 0]
    msg = str(e.value)
    assert msg.startswith("np.asarray() (or a NumPy function such as np.sin) was called on a "
                          "traced value: f32[3] from jvp.\nThe value is being differentiated")
    assert "the derivative flowing through it would be silently lost" in msg
    assert "use jax.numpy instead of NumPy (jnp.sin instead of np.sin" in msg
    np.testing.assert_allclose(jax.grad(lambda x: jnp.sum(jnp.sin(x)))(X), np.cos(X), rtol=1e-6)


def test_float_of_a_grad_tracer_raises():
    with pytest.raises(ConcretizationTypeError, match=r"float\(\) was called on a traced value: "
                                                      r"f32\[\] from jvp"):
        jax.grad(lambda x: float(x) ** 2)(3.0)   # used to give 0.0
    assert float(jax.grad(lambda x: x ** 2)(3.0)) == 6.0


def test_float_inside_a_gradient_computation_raises():
    f = lambda x: jnp.sum(x * float(jnp.sum(x)))
    with pytest.raises(ConcretizationTypeError, match="remove the float()"):
        jax.grad(f)(X)   # used to give [0.8 0.8 0.8]; the derivative is 1.6
    np.testing.assert_allclose(jax.grad(lambda x: jnp.sum(x * jnp.sum(x)))(X), [1.6] * 3, rtol=1e-6)


def test_stop_gradient_drops_the_derivative_deliberately():
    f = lambda x: jnp.sum(x * float(lax.stop_gradient(jnp.sum(x))))
    np.testing.assert_allclose(jax.grad(f)(X), [0.8] * 3, rtol=1e-6)
    g = lambda x: jnp.sum(np.asarray(lax.stop_gradient(x)) * x)
    np.testing.assert_allclose(jax.grad(g)(X), X, rtol=1e-6)


# --- values that carry nothing to lose convert, as in JAX --------------------------------------

def test_values_without_a_derivative_convert():
    def f(x):
        i = jnp.argmax(x)                        # an integer: its tangent is zero
        assert float(i) == 0.0 and np.asarray(i).tolist() == 0 and i.tolist() == 0
        big = np.array(x > 0)                    # a comparison: no derivative either
        big[0] = False                           # np.array gives a writable copy
        return jnp.sum(x * np.asarray(jnp.sign(x))) + i
    np.testing.assert_allclose(jax.grad(f)(X), np.sign(X))
    np.testing.assert_allclose(jax.linearize(f, X)[1](jnp.ones(3)), np.sum(np.sign(X)), rtol=1e-6)


def test_unbatched_and_integer_inputs_convert():
    # vmap(in_axes=None) leaves a value unbatched; jvp gives integers no tangent
    out = jax.vmap(lambda a, b: a * float(b), (0, None))(X, 2.0)
    np.testing.assert_allclose(out, 2 * X, rtol=1e-6)
    zero = np.zeros((), jax.dtypes.float0)
    out, _ = jax.jvp(lambda n: jnp.ones(3)[operator.index(n)] * float(n), (jnp.int32(2),), (zero,))
    assert float(out) == 2.0
    out, f_vjp = jax.vjp(lambda x, n: x * float(n) + np.asarray(n), X, 2)   # a known value
    np.testing.assert_allclose(out, 2 * X + 2, rtol=1e-6)
    np.testing.assert_allclose(f_vjp(jnp.ones(3))[0], [2.0] * 3)


def test_integer_index_under_abstract_transformations():
    take = lambda n: jnp.arange(4.0)[[0, 1, 2, 3][n]]
    with pytest.raises(TracerIntegerConversionError, match=r"from vmap"):
        jax.vmap(take)(jnp.arange(2))
    with pytest.raises(TracerIntegerConversionError, match=r"from jit\(<lambda>\)"):
        jax.jit(take)(1)
    assert float(take(jnp.int32(3))) == 3.0


def test_item_reads_integers_and_refuses_floats_under_grad():
    seen = []
    jax.grad(lambda x: (seen.append(((x > 0).item(0), jnp.argmax(x).item())), jnp.sum(x))[1])(X)
    assert seen == [(True, 0)]
    # JAX returns 0.0 here (the derivative silently lost); we refuse, as for float(x)
    with pytest.raises(ConcretizationTypeError, match=r"\.item\(\) was called on a traced value"):
        jax.grad(lambda x: x.item() ** 2)(3.0)
    assert jax.grad(lambda x: lax.stop_gradient(x).item() * x)(3.0) == 3.0
    with pytest.raises(ConcretizationTypeError, match=r"\.item\(\).* from jit"):
        jax.jit(lambda x: x.item())(1.0)


# --- nested transformations: the message names the one that made the value abstract ------------

def test_float_under_grad_of_jit_names_the_jit():
    with pytest.raises(ConcretizationTypeError, match=r"(?s)f32\[\] from jit\(grad\(f\)\) .*"
                                                      r"static_argnums"):
        def f(x):
            return float(x) * x
        jax.jit(jax.grad(f))(1.0)


def test_numpy_under_vmap_of_grad_names_the_vmap():
    with pytest.raises(TracerArrayConversionError, match=r"f32\[\] from vmap\.\nUnder jit"):
        jax.vmap(jax.grad(lambda x: np.sin(x) * x))(X)


def test_numpy_under_grad_of_vmap_names_jvp():
    with pytest.raises(TracerArrayConversionError, match=r"f32\[3\] from jvp\.\nThe value is being "
                                                         r"differentiated"):
        jax.grad(lambda x: jnp.sum(jax.vmap(lambda y: y * np.asarray(x))(X)))(X)


# --- the same matrix in JAX ---------------------------------------------------------------------

def test_matches_jax(real_jax):
    for kind in KINDS:
        for conv in CONVERSIONS:
            ours = convert_under(jax, kind, conv, jnp.float32(2.0))
            theirs = convert_under(real_jax, kind, conv, real_jax.numpy.float32(2.0))
            if conv == 'item' and kind in DIFFERENTIATING:
                assert isinstance(ours, ConcretizationTypeError)   # stricter than JAX, on purpose
            elif isinstance(theirs, tuple):
                assert ours == theirs, (kind, conv)
            else:
                name = type(theirs).__name__
                cls = getattr(errors, name, None) or getattr(builtins, name)
                assert isinstance(ours, cls), (kind, conv, ours, theirs)
