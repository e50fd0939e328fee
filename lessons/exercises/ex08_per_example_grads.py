"""Exercise 8: per-example gradients with vmap of grad, without a Python loop.

Read first: lessons/11_inside_the_tracer.py, docs/READING.md steps 16-20.

`loss(w, x, y)` is the squared error of a linear model on ONE example.
Return the gradient with respect to `w` for every example of a batch (`xs`
has shape (n, d), `ys` shape (n,)): an array of shape (n, d). Compose
`jax.grad` and `jax.vmap`: the weights are shared by all examples, the data
is not (mind `in_axes`). A Python loop over the examples does not count: the
check looks at the jaxpr, whose size must not grow with n.

Check:  python lessons/exercises/ex08_per_example_grads.py
   or:  TT_EXERCISES=lessons/exercises python -m pytest tests/test_exercises.py -m ex08
"""
import tinygrad_tracer as jax  # noqa: F401
import tinygrad_tracer.numpy as jnp


def loss(w, x, y):
    return (jnp.dot(w, x) - y) ** 2


def per_example_grads(w, xs, ys):
    # YOUR CODE HERE: return an (n, d) array
    raise NotImplementedError(
        "ex08 is not done yet: write per_example_grads in "
        "lessons/exercises/ex08_per_example_grads.py (read first: lessons/11_inside_the_tracer.py, "
        "docs/READING.md steps 16-20)")


if __name__ == '__main__':
    import classroom
    classroom.check(__file__)
