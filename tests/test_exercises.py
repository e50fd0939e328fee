"""Checks the classroom exercises (lessons/exercises/README.md).

By default the teacher's solutions are checked; a student runs
`TT_EXERCISES=exercises python -m pytest tests/test_exercises.py`.
"""
import importlib
import os
import pathlib
import sys

import numpy as np
import pytest

import tinygrad_tracer as jax
import tinygrad_tracer.numpy as jnp

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / 'lessons'))
PACKAGE = os.environ.get('TT_EXERCISES', 'solutions')


def load(name):
    return importlib.import_module(f'{PACKAGE}.{name}')


def test_ex1_softplus_jvp():
    ex = load('ex1_jvp_rule')
    softplus = ex.softplus
    x = np.linspace(-3, 3, 7).astype(np.float32)
    y, y_dot = jax.jvp(softplus, (jnp.asarray(x),), (jnp.ones(7),))
    np.testing.assert_allclose(np.asarray(y), np.logaddexp(0, x), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(y_dot), 1 / (1 + np.exp(-x)), rtol=1e-6)
    # The rule must work under grad, and under grad of grad (d2/dx2 = s(x)(1 - s(x))).
    assert float(jax.grad(softplus)(0.0)) == pytest.approx(0.5)
    assert float(jax.grad(jax.grad(softplus))(0.0)) == pytest.approx(0.25)


def test_ex2_vecdot_batching():
    ex = importlib.import_module('exercises._prims')
    load('ex2_batching_rule')
    xs = np.arange(12, dtype=np.float32).reshape(3, 4)
    ys = np.arange(12, dtype=np.float32).reshape(4, 3) / 10
    v = np.arange(4, dtype=np.float32)
    np.testing.assert_allclose(np.asarray(jax.vmap(ex.vecdot)(jnp.asarray(xs), jnp.asarray(ys.T))),
                               np.sum(xs * ys.T, axis=1), rtol=1e-6)
    out = jax.vmap(ex.vecdot, in_axes=(0, None))(jnp.asarray(xs), jnp.asarray(v))
    np.testing.assert_allclose(np.asarray(out), xs @ v, rtol=1e-6)
    out = jax.vmap(ex.vecdot, in_axes=(None, 1))(jnp.asarray(v), jnp.asarray(ys))
    np.testing.assert_allclose(np.asarray(out), v @ ys, rtol=1e-6)


def test_ex3_scale_transpose():
    ex = load('ex3_transpose_rule')
    f = lambda x: jnp.sum(ex.scale(x, 3.0) ** 2)   # d/dx sum(9 x^2) = 18 x
    x = jnp.arange(3.0)
    np.testing.assert_allclose(np.asarray(jax.grad(f)(x)), 18 * np.arange(3.0), rtol=1e-6)
    _, f_vjp = jax.vjp(lambda x: ex.scale(x, -2.0), x)
    np.testing.assert_allclose(np.asarray(f_vjp(jnp.ones(3))[0]), [-2.0] * 3)


def test_ex4_per_example_grads():
    ex = load('ex4_per_example_grads')
    rng = np.random.default_rng(0)
    w = rng.normal(size=3).astype(np.float32)
    xs = rng.normal(size=(5, 3)).astype(np.float32)
    ys = rng.normal(size=5).astype(np.float32)
    got = ex.per_example_grads(jnp.asarray(w), jnp.asarray(xs), jnp.asarray(ys))
    want = 2 * (xs @ w - ys)[:, None] * xs
    assert got is not None and np.shape(got) == (5, 3)
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-5, atol=1e-6)
