"""Exercise 15: Adam, written as an Optax gradient transformation.

Read first: tinygrad_tracer/optax.py (GradientTransformation, then `trace` and
`scale_by_rms`, two transformations with state), lessons/09_digits_mlp.py
(seed 000's `nnx.Optimizer(model, optax.sgd(...))`: the optimizer's state is
a pytree beside the model's).

An Optax optimizer is a pair of pure functions: `init(params) -> state` and
`update(grads, state, params=None) -> (updates, new_state)`. Nothing is kept
anywhere else, so a whole training step can be jitted and the state is a
pytree like the parameters. Write `scale_by_adam(b1, b2, eps)`, Adam's step
direction (Kingma & Ba, 2014):
  * `init`: `AdamState(count, mu, nu)`: an int32 step counter at zero
    (`jnp.zeros((), jnp.int32)`) and two trees of zeros shaped like params.
  * `update`: with `tree_util.tree_map` over the leaves, the running means
        mu <- (1 - b1) * g + b1 * mu        nu <- (1 - b2) * g**2 + b2 * nu
    then the step number count + 1, and the bias correction: both means
    started at zero, so after step t they are too small by a factor
    (1 - b**t); divide mu by (1 - b1**t) and nu by (1 - b2**t). The update
    of each leaf is  mu_hat / (sqrt(nu_hat) + eps).  Return it with the
    new state (the new count, mu and nu; not the corrected ones).
`adam(learning_rate)` chains it with `optax.scale_by_learning_rate` (given):
the check compares every step with the library's `optax.adam`, also under jit.

Check:  python lessons/exercises/ex15_adam.py
   or:  TT_EXERCISES=lessons/exercises python -m pytest tests/test_exercises.py -m ex15
"""
from typing import Any, NamedTuple

import tinygrad_tracer.numpy as jnp  # noqa: F401  (you will need them)
from tinygrad_tracer import optax, tree_util  # noqa: F401


class AdamState(NamedTuple):
    count: Any   # int32 scalar: the number of steps taken
    mu: Any      # running mean of the gradients, shaped like the params
    nu: Any      # running mean of their squares


def _todo(function):
    return NotImplementedError(
        f"ex15 is not done yet: write {function} in lessons/exercises/ex15_adam.py "
        "(read first: tinygrad_tracer/optax.py, GradientTransformation, trace, scale_by_rms)")


def scale_by_adam(b1=0.9, b2=0.999, eps=1e-8):
    def init(params):
        raise _todo('scale_by_adam.init')   # YOUR CODE HERE: an AdamState

    def update(updates, state, params=None):
        raise _todo('scale_by_adam.update')   # YOUR CODE HERE: (updates, new AdamState)
    return optax.GradientTransformation(init, update)


def adam(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    return optax.chain(scale_by_adam(b1, b2, eps), optax.scale_by_learning_rate(learning_rate))


if __name__ == '__main__':
    import classroom
    classroom.check(__file__)
