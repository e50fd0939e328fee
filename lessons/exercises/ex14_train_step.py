"""Exercise 14: a jitted training step for linear regression, on a pytree of parameters.

Read first: lessons/08_linear_regression.py (seed 003's `update_params`, then
its pytree version), lessons/03_pytrees.py (`tree_map`), lessons/06_jaxprs_jit.py
(when `jit` traces).

The model is `predict(params, x) = x @ params['W'] + params['b']`, its
parameters a dict. Write
  * `loss(params, xs, ys)`: seed 003's loss, the mean over the examples of
    `sum((predict(params, x) - y) ** 2) / 2`. Call `predict`.
  * `train_step(params, xs, ys)`: one gradient-descent step of size
    LEARNING_RATE; return `(new_params, loss)`, the loss *before* the step.
    One `jax.value_and_grad` gives both; the gradient is a dict shaped like
    `params`, so `tree_util.tree_map` updates every leaf at once. Decorate it
    with `@jax.jit`: called again with arrays of the same shapes, it must not
    trace again (the check counts the traces).
  * `fit(xs, ys, steps)`: start from zeros (`W` of shape (d, k), `b` of shape
    (k,)), take `steps` steps and return `(params, losses)`, the list of the
    losses `train_step` returned.
After a few hundred steps the parameters are the least-squares fit, which the
check computes in closed form (np.linalg.lstsq).

Check:  python lessons/exercises/ex14_train_step.py
   or:  TT_EXERCISES=lessons/exercises python -m pytest tests/test_exercises.py -m ex14
"""
import tinygrad_tracer as jax  # noqa: F401  (you will need them)
import tinygrad_tracer.numpy as jnp  # noqa: F401
from tinygrad_tracer import tree_util  # noqa: F401

LEARNING_RATE = 0.1


def predict(params, x):
    return jnp.dot(x, params['W']) + params['b']


def _todo(function):
    return NotImplementedError(
        f"ex14 is not done yet: write {function} in lessons/exercises/ex14_train_step.py "
        "(read first: lessons/08_linear_regression.py, lessons/03_pytrees.py)")


def loss(params, xs, ys):
    raise _todo('loss')   # YOUR CODE HERE: a scalar


def train_step(params, xs, ys):
    raise _todo('train_step')   # YOUR CODE HERE: (new_params, loss before the step)


def fit(xs, ys, steps):
    raise _todo('fit')   # YOUR CODE HERE: (params, losses)


if __name__ == '__main__':
    import classroom
    classroom.check(__file__)
