"""Exercise 4: per-example gradients.

`loss(w, x, y)` is the squared error of a linear model on ONE example.
Return the gradient with respect to `w` for every example of a batch
(`xs` has shape (n, d), `ys` shape (n,)): an array of shape (n, d), without a
Python loop. Compose `jax.grad` and `jax.vmap` (mind `in_axes`).

Check: TT_EXERCISES=exercises python -m pytest tests/test_exercises.py -k ex4
"""
import tinygrad_tracer as jax  # noqa: F401
import tinygrad_tracer.numpy as jnp


def loss(w, x, y):
    return (jnp.dot(w, x) - y) ** 2


def per_example_grads(w, xs, ys):
    # YOUR CODE HERE
    return None
