"""Weak types through control flow (issue 16, item 5): a loop started from a Python
scalar stays weakly typed, so `fori_loop(0, 3, f, 0) + jnp.int8(1)` is int8, as in JAX;
and where JAX drops the weak type (cond: the outputs are typed like branch 0's, which is
false_fun), so do we. Every case is a golden value here and a cross-check against JAX."""
import pytest

import tinygrad_tracer as tt


def _cases(jax):
    """name -> (a thunk running the case with `jax`, (dtype name, weak_type) JAX 0.10 gives)."""
    lax, jnp = jax.lax, jax.numpy
    return {
        'fori_loop from a Python int': (lambda: lax.fori_loop(0, 3, lambda i, c: c + 1, 0), ('int32', True)),
        'fori_loop from a Python float': (lambda: lax.fori_loop(0, 3, lambda i, c: c * 2., 1.), ('float32', True)),
        'fori_loop index is weak': (lambda: lax.fori_loop(0, 3, lambda i, c: c + i, 0), ('int32', True)),
        'fori_loop index alone': (lambda: lax.fori_loop(0, 3, lambda i, c: i, 0), ('int32', True)),
        'fori_loop strong body': (lambda: lax.fori_loop(0, 3, lambda i, c: c + jnp.int32(1), 0), ('int32', False)),
        'fori_loop traced bounds': (lambda: jax.jit(lambda n: lax.fori_loop(0, n, lambda i, c: c + i, 0))(3),
                                    ('int32', True)),
        'fori_loop int8 lower, Python upper': (
            lambda: lax.fori_loop(jnp.int8(0), 3, lambda i, c: c + i, jnp.int8(0)), ('int8', False)),
        'fori_loop tuple carry': (lambda: lax.fori_loop(0, 3, lambda i, c: (c[0] + 1, c[1] * 2.), (0, 1.))[1],
                                  ('float32', True)),
        'fori_loop under vmap': (lambda: jax.vmap(lambda x: lax.fori_loop(0, 3, lambda i, c: c + x, 0))(
            jnp.arange(3)), ('int32', False)),
        'fori_loop under jit': (lambda: jax.jit(lambda: lax.fori_loop(0, 3, lambda i, c: c + 1, 0))(), ('int32', True)),
        'grad through fori_loop': (lambda: jax.grad(lambda x: lax.fori_loop(0, 3, lambda i, c: c * x, 1.))(2.),
                                   ('float32', True)),
        'while_loop from a Python int': (lambda: lax.while_loop(lambda c: c < 5, lambda c: c + 1, 0), ('int32', True)),
        'while_loop strong body': (lambda: lax.while_loop(lambda c: c < 5, lambda c: c + jnp.int32(1), 0),
                                   ('int32', False)),
        'while_loop tuple carry': (lambda: lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1] + 1.),
                                                          (0, 0.))[1], ('float32', True)),
        'scan carry': (lambda: lax.scan(lambda c, x: (c + 1, c), 0, None, length=3)[0], ('int32', True)),
        'scan ys': (lambda: lax.scan(lambda c, x: (c + 1, c), 0, None, length=3)[1], ('int32', True)),
        'scan ys of a Python float': (lambda: lax.scan(lambda c, x: (c, 2.0), 0., None, length=3)[1],
                                      ('float32', True)),
        'scan carry meets strong xs': (lambda: lax.scan(lambda c, x: (c + x, x), 0, jnp.arange(3))[0],
                                       ('int32', False)),
        'map': (lambda: lax.map(lambda x: x + 1, jnp.arange(3)), ('int32', False)),
        'cond both weak': (lambda: lax.cond(True, lambda: 1, lambda: 2), ('int32', True)),
        'cond true_fun weak, false_fun strong': (lambda: lax.cond(True, lambda: 1, lambda: jnp.int32(2)),
                                                 ('int32', False)),
        'cond true_fun strong, false_fun weak': (lambda: lax.cond(True, lambda: jnp.int32(2), lambda: 1),
                                                 ('int32', True)),
        'cond traced, false_fun weak': (lambda: jax.jit(lambda p: lax.cond(p, lambda: jnp.int32(2), lambda: 1))(True),
                                        ('int32', True)),
        'cond traced, false_fun strong': (lambda: jax.jit(lambda p: lax.cond(p, lambda: 1, lambda: jnp.int32(2)))(True),
                                          ('int32', False)),
        'cond weak operand': (lambda: lax.cond(True, lambda x: x, lambda x: x + 1, 3), ('int32', True)),
        'cond float operand': (lambda: lax.cond(True, lambda x: x * 2, lambda x: x, 1.0), ('float32', True)),
        'cond false_fun casts': (lambda: lax.cond(True, lambda x: x, lambda x: x.astype(jnp.int32), 1),
                                 ('int32', False)),
        'switch weak branch 0, runs the strong one': (
            lambda: lax.switch(1, [lambda: 1, lambda: jnp.int32(2)]), ('int32', True)),
        'switch strong branch 0, runs the weak one': (
            lambda: lax.switch(1, [lambda: jnp.int32(1), lambda: 2]), ('int32', False)),
        'grad through cond': (lambda: jax.grad(lambda x: lax.cond(x > 0, lambda x: x * 2., lambda x: x, x))(1.),
                              ('float32', True)),
    }


def _typed(x, jnp):
    x = jnp.asarray(x)
    return x.dtype.name, bool(x.weak_type)


CASES = _cases(tt)


@pytest.mark.parametrize('name', list(CASES))
def test_weak_types_match_jax_golden(name):
    run, expected = CASES[name]
    assert _typed(run(), tt.numpy) == expected


def test_weak_loop_result_promotes_like_a_python_scalar():
    """The issue's example: the weak int32 result adds to an int8 as an int8."""
    r = tt.lax.fori_loop(0, 3, lambda i, c: c + 1, 0)
    assert (r + tt.numpy.int8(1)).dtype == tt.numpy.int8 and int(r) == 3
    r = tt.lax.while_loop(lambda c: c < 5, lambda c: c + 1, 0)
    assert (r + tt.numpy.int8(1)).dtype == tt.numpy.int8 and int(r) == 5
    r = tt.lax.fori_loop(0, 3, lambda i, c: c * 2., 1.)
    assert (r + tt.numpy.float16(1)).dtype == tt.numpy.float16 and float(r) == 8.0


def test_fori_loop_bounds_of_different_strong_types_are_an_error():
    with pytest.raises(TypeError, match="lower and upper arguments to fori_loop must have equal types, "
                                        "got int8 and int16"):
        tt.lax.fori_loop(tt.numpy.int8(0), tt.numpy.int16(3), lambda i, c: c + i, 0)


def test_weak_types_match_real_jax(real_jax):
    jax_cases = _cases(real_jax)
    for name, (run, expected) in jax_cases.items():
        assert _typed(run(), real_jax.numpy) == expected, name
    with pytest.raises(TypeError, match="lower and upper arguments to fori_loop must have equal types"):
        real_jax.lax.fori_loop(real_jax.numpy.int8(0), real_jax.numpy.int16(3), lambda i, c: c + i, 0)
