"""WRONG (python_loop): the tests of ex08 must fail on this.
Exercise 8 (solution): vmap of grad, mapping the data but not the weights."""
import tinygrad_tracer as jax
import tinygrad_tracer.numpy as jnp


def loss(w, x, y):
    return (jnp.dot(w, x) - y) ** 2


def per_example_grads(w, xs, ys):
    return jnp.stack([jax.grad(loss)(w, xs[i], ys[i]) for i in range(xs.shape[0])])
