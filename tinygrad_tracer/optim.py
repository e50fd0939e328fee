"""`tinygrad_tracer.optim`: Optax-style optimizers and losses.

An optimizer is a pair of pure functions, so the whole training step can be
jit-compiled and its state is just another pytree:

    >>> optimizer = optim.adam(1e-3)
    >>> opt_state = optimizer.init(params)
    >>> grads = jax.grad(loss)(params, batch)
    >>> updates, opt_state = optimizer.update(grads, opt_state, params)
    >>> params = optim.apply_updates(params, updates)

Optimizers are built from small gradient transformations chained together,
as in Optax: `adam(lr)` is `chain(scale_by_adam(), scale_by_learning_rate(lr))`.
The arithmetic follows Optax's order of operations, so float32 results agree.
"""
from typing import Any, Callable, NamedTuple

from . import lax, nn
from . import numpy as jnp
from .tree_util import tree_map

__all__ = ['GradientTransformation', 'EmptyState', 'chain', 'scale', 'scale_by_learning_rate',
           'trace', 'scale_by_adam', 'add_decayed_weights', 'sgd', 'momentum', 'adam', 'adamw',
           'apply_updates', 'softmax_cross_entropy_with_integer_labels', 'softmax_cross_entropy',
           'squared_error', 'l2_loss']


class GradientTransformation(NamedTuple):
    """`init(params) -> state` and `update(grads, state, params=None) -> (updates, state)`."""
    init: Callable
    update: Callable


class EmptyState(NamedTuple):
    """The state of a transformation that keeps none."""


class ScaleByScheduleState(NamedTuple):
    count: Any   # int32 step counter


class TraceState(NamedTuple):
    trace: Any   # momentum buffers, shaped like the params


class ScaleByAdamState(NamedTuple):
    count: Any   # int32 step counter, for bias correction
    mu: Any      # first moment estimates, shaped like the params
    nu: Any      # second moment estimates


def _zeros_like_tree(params):
    return tree_map(jnp.zeros_like, params)


def _next_count(count):
    # Saturate instead of wrapping around after 2**31 - 1 steps.
    return jnp.where(count < 2**31 - 1, count + 1, count)


def chain(*transforms):
    """Apply transformations one after the other; the state is a tuple of theirs."""
    def init(params):
        return tuple(t.init(params) for t in transforms)

    def update(updates, state, params=None):
        new_state = []
        for t, s in zip(transforms, state):
            updates, s = t.update(updates, s, params)
            new_state.append(s)
        return updates, tuple(new_state)
    return GradientTransformation(init, update)


def scale(step_size):
    """Multiply every update by a constant."""
    return GradientTransformation(
        lambda params: EmptyState(),
        lambda updates, state, params=None: (tree_map(lambda g: step_size * g, updates), state))


def scale_by_learning_rate(learning_rate):
    """Multiply by -learning_rate (descend); `learning_rate` may be a schedule step -> rate."""
    if not callable(learning_rate):
        return scale(-learning_rate)

    def init(params):
        return ScaleByScheduleState(count=jnp.zeros((), jnp.int32))

    def update(updates, state, params=None):
        step_size = -jnp.asarray(learning_rate(state.count))
        updates = tree_map(lambda g: (step_size * g).astype(g.dtype), updates)
        return updates, ScaleByScheduleState(count=_next_count(state.count))
    return GradientTransformation(init, update)


def trace(decay, nesterov=False):
    """Momentum: keep t = g + decay * t and use t (or g + decay * t for Nesterov)."""
    def init(params):
        return TraceState(trace=_zeros_like_tree(params))

    def update(updates, state, params=None):
        accumulate = lambda g, t: g + decay * t
        new_trace = tree_map(accumulate, updates, state.trace)
        updates = tree_map(accumulate, updates, new_trace) if nesterov else new_trace
        return updates, TraceState(trace=new_trace)
    return GradientTransformation(init, update)


def scale_by_adam(b1=0.9, b2=0.999, eps=1e-8, eps_root=0.0):
    """Adam's step direction: bias-corrected mean of g over the root of the
    bias-corrected mean of g**2 (Kingma & Ba, 2014)."""
    def init(params):
        return ScaleByAdamState(count=jnp.zeros((), jnp.int32), mu=_zeros_like_tree(params),
                                nu=_zeros_like_tree(params))

    def update(updates, state, params=None):
        mu = tree_map(lambda g, m: (1 - b1) * g + b1 * m, updates, state.mu)
        nu = tree_map(lambda g, v: (1 - b2) * (g ** 2) + b2 * v, updates, state.nu)
        count = _next_count(state.count)
        mu_hat = _bias_corrected(mu, b1, count)
        nu_hat = _bias_corrected(nu, b2, count)
        updates = tree_map(lambda m, v: m / (jnp.sqrt(v + eps_root) + eps), mu_hat, nu_hat)
        return updates, ScaleByAdamState(count=count, mu=mu, nu=nu)
    return GradientTransformation(init, update)


def _bias_corrected(moment, decay, count):
    correction = 1 - decay ** count
    return tree_map(lambda t: t / correction.astype(t.dtype), moment)


def add_decayed_weights(weight_decay=0.0):
    """Add weight_decay * params to the updates (decoupled weight decay)."""
    def update(updates, state, params=None):
        if params is None:
            raise ValueError("add_decayed_weights (used by adamw) needs the params: call "
                             "optimizer.update(grads, state, params).")
        return tree_map(lambda g, p: g + weight_decay * p, updates, params), state
    return GradientTransformation(lambda params: EmptyState(), update)


# --- the optimizers ------------------------------------------------------------------------------

def sgd(learning_rate, momentum=None, nesterov=False):
    """Stochastic gradient descent: p -= learning_rate * g (with optional momentum).

        >>> opt = optim.sgd(0.1)
        >>> grads = {'w': jnp.ones(2)}
        >>> opt.update(grads, opt.init(grads))[0]
        {'w': Array([-0.1, -0.1], dtype=float32)}
    """
    steps = [trace(momentum, nesterov)] if momentum is not None else []
    return chain(*steps, scale_by_learning_rate(learning_rate))


def momentum(learning_rate, beta=0.9, nesterov=False):
    """SGD with momentum `beta` (heavy ball, or Nesterov's variant)."""
    return sgd(learning_rate, momentum=beta, nesterov=nesterov)


def adam(learning_rate, b1=0.9, b2=0.999, eps=1e-8, eps_root=0.0):
    """Adam with learning rate `learning_rate`."""
    return chain(scale_by_adam(b1, b2, eps, eps_root), scale_by_learning_rate(learning_rate))


def adamw(learning_rate, b1=0.9, b2=0.999, eps=1e-8, eps_root=0.0, weight_decay=1e-4):
    """Adam with decoupled weight decay (Loshchilov & Hutter): the decay is added to
    Adam's step, not to the gradient."""
    return chain(scale_by_adam(b1, b2, eps, eps_root), add_decayed_weights(weight_decay),
                 scale_by_learning_rate(learning_rate))


def apply_updates(params, updates):
    """params + updates, leaf by leaf, keeping each parameter's dtype."""
    return tree_map(lambda p, u: jnp.asarray(p + u).astype(jnp.asarray(p).dtype), params, updates)


# --- losses -----------------------------------------------------------------------------------------

def softmax_cross_entropy_with_integer_labels(logits, labels, axis=-1):
    """-log softmax(logits)[label] for each example (integer class labels).

        >>> softmax_cross_entropy_with_integer_labels(jnp.array([[0., 0.]]), jnp.array([1]))
        Array([0.6931472], dtype=float32)
    """
    logits, labels = jnp.asarray(logits), jnp.asarray(labels)
    if not jnp.issubdtype(labels.dtype, jnp.integer):
        raise TypeError(f"labels must be integer class indices, got dtype {labels.dtype.name}; "
                        "for one-hot or soft labels use softmax_cross_entropy.")
    logits = jnp.moveaxis(logits, axis, -1)
    # Shift by the max (no overflow), but subtract the normalizer only at the labels.
    logits = logits - lax.stop_gradient(jnp.max(logits, axis=-1, keepdims=True))
    label_logits = jnp.take_along_axis(logits, labels[..., None], axis=-1)[..., 0]
    log_normalizers = jnp.log(jnp.sum(jnp.exp(logits), axis=-1))
    return log_normalizers - label_logits


def softmax_cross_entropy(logits, labels, axis=-1):
    """-sum(labels * log_softmax(logits)) along `axis` (labels: probabilities)."""
    return -jnp.sum(jnp.asarray(labels) * nn.log_softmax(logits, axis), axis=axis)


def squared_error(predictions, targets=None):
    """(predictions - targets) ** 2, elementwise (targets default to 0)."""
    errors = jnp.asarray(predictions) if targets is None else predictions - jnp.asarray(targets)
    return errors ** 2


def l2_loss(predictions, targets=None):
    """0.5 * squared_error, elementwise (as optax.l2_loss)."""
    return 0.5 * squared_error(predictions, targets)
