"""WRONG (grad_of_total): the tests of ex08 must fail on this.
Exercise 8 (solution): vmap of grad, mapping the data but not the weights."""
import tinygrad_tracer as jax
import tinygrad_tracer.numpy as jnp


def loss(w, x, y):
    return (jnp.dot(w, x) - y) ** 2


def per_example_grads(w, xs, ys):
    total = lambda w: jnp.sum(jax.vmap(loss, in_axes=(None, 0, 0))(w, xs, ys))
    return jnp.broadcast_to(jax.grad(total)(w), xs.shape)
