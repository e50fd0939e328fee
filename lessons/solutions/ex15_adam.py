"""Exercise 15 (solution): two running means in the state, bias-corrected by the step count."""
from typing import Any, NamedTuple

import tinygrad_tracer.numpy as jnp
from tinygrad_tracer import optax, tree_util


class AdamState(NamedTuple):
    count: Any   # int32 scalar: the number of steps taken
    mu: Any      # running mean of the gradients, shaped like the params
    nu: Any      # running mean of their squares


def scale_by_adam(b1=0.9, b2=0.999, eps=1e-8):
    def init(params):
        zeros = lambda: tree_util.tree_map(jnp.zeros_like, params)
        return AdamState(jnp.zeros((), jnp.int32), zeros(), zeros())

    def update(updates, state, params=None):
        mu = tree_util.tree_map(lambda g, m: (1 - b1) * g + b1 * m, updates, state.mu)
        nu = tree_util.tree_map(lambda g, v: (1 - b2) * g ** 2 + b2 * v, updates, state.nu)
        count = state.count + 1
        mu_fix, nu_fix = 1 - b1 ** count, 1 - b2 ** count   # the moments started at zero
        updates = tree_util.tree_map(lambda m, v: (m / mu_fix) / (jnp.sqrt(v / nu_fix) + eps), mu, nu)
        return updates, AdamState(count, mu, nu)
    return optax.GradientTransformation(init, update)


def adam(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
    return optax.chain(scale_by_adam(b1, b2, eps), optax.scale_by_learning_rate(learning_rate))
