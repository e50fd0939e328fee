"""`tinygrad_tracer.optax`: Optax's optimizers, schedules and losses.

The seeds' `import optax` becomes `from tinygrad_tracer import optax`; the
names, defaults and float32 order of operations are Optax's, so the numbers
agree step for step (tests/test_optax.py holds Optax's own values).

An optimizer is a pair of pure functions, so the whole training step can be
jit-compiled and its state is just another pytree:

    >>> optimizer = optax.adam(1e-3)
    >>> opt_state = optimizer.init(params)
    >>> grads = jax.grad(loss)(params, batch)
    >>> updates, opt_state = optimizer.update(grads, opt_state, params)
    >>> params = optax.apply_updates(params, updates)

Optimizers are built from small gradient transformations chained together,
as in Optax: `adam(lr)` is `chain(scale_by_adam(), scale_by_learning_rate(lr))`.
The arithmetic follows Optax's order of operations, so float32 results agree.
"""
from typing import Any, Callable, NamedTuple

from . import lax, nn
from . import numpy as jnp
from .tree_util import tree_leaves, tree_map

__all__ = ['GradientTransformation', 'EmptyState', 'chain', 'identity', 'scale',
           'scale_by_learning_rate', 'trace', 'scale_by_adam', 'scale_by_rms', 'scale_by_rss',
           'scale_by_lion', 'add_decayed_weights', 'clip', 'clip_by_global_norm', 'global_norm',
           'sgd', 'momentum', 'adam', 'adamw', 'rmsprop', 'adagrad', 'lion', 'apply_updates',
           'constant_schedule', 'linear_schedule', 'exponential_decay', 'cosine_decay_schedule',
           'join_schedules', 'warmup_cosine_decay_schedule',
           'softmax_cross_entropy_with_integer_labels', 'softmax_cross_entropy',
           'sigmoid_binary_cross_entropy', 'squared_error', 'l2_loss', 'huber_loss']


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


class ScaleByRmsState(NamedTuple):
    nu: Any      # running mean of g**2


class ScaleByRssState(NamedTuple):
    sum_of_squares: Any   # running sum of g**2


class ScaleByLionState(NamedTuple):
    count: Any
    mu: Any      # the momentum that Lion takes the sign of


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


def identity():
    """Leave the updates as they are."""
    return GradientTransformation(lambda params: EmptyState(),
                                  lambda updates, state, params=None: (updates, state))


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


def scale_by_rms(decay=0.9, eps=1e-8, initial_scale=0.0, eps_in_sqrt=True):
    """RMSProp's direction: g / sqrt(running mean of g**2)."""
    def init(params):
        return ScaleByRmsState(nu=tree_map(lambda p: jnp.full_like(p, initial_scale), params))

    def update(updates, state, params=None):
        nu = tree_map(lambda g, v: (1 - decay) * (g ** 2) + decay * v, updates, state.nu)
        if eps_in_sqrt:
            updates = tree_map(lambda g, v: g * lax.rsqrt(v + eps), updates, nu)
        else:
            updates = tree_map(lambda g, v: g / (jnp.sqrt(v) + eps), updates, nu)
        return updates, ScaleByRmsState(nu=nu)
    return GradientTransformation(init, update)


def scale_by_rss(initial_accumulator_value=0.1, eps=1e-7):
    """Adagrad's direction: g / sqrt(sum of all g**2 so far)."""
    def init(params):
        return ScaleByRssState(tree_map(lambda p: jnp.full_like(p, initial_accumulator_value), params))

    def update(updates, state, params=None):
        sums = tree_map(lambda g, s: g ** 2 + s, updates, state.sum_of_squares)
        inv_sqrt = tree_map(lambda s: jnp.where(s > 0, lax.rsqrt(s + eps), 0.0), sums)
        updates = tree_map(lambda r, g: r * g, inv_sqrt, updates)
        return updates, ScaleByRssState(sum_of_squares=sums)
    return GradientTransformation(init, update)


def scale_by_lion(b1=0.9, b2=0.99):
    """Lion's direction (Chen et al., 2023): the sign of a b1-interpolation of the
    gradient and the momentum; the momentum itself decays with b2."""
    def init(params):
        return ScaleByLionState(count=jnp.zeros((), jnp.int32), mu=_zeros_like_tree(params))

    def update(updates, state, params=None):
        direction = tree_map(lambda g, m: jnp.sign((1 - b1) * g + b1 * m), updates, state.mu)
        mu = tree_map(lambda g, m: (1 - b2) * g + b2 * m, updates, state.mu)
        return direction, ScaleByLionState(count=_next_count(state.count), mu=mu)
    return GradientTransformation(init, update)


def clip(max_delta):
    """Clip every update elementwise to [-max_delta, max_delta]."""
    return GradientTransformation(
        lambda params: EmptyState(),
        lambda updates, state, params=None: (
            tree_map(lambda g: jnp.clip(g, -max_delta, max_delta), updates), state))


def global_norm(updates):
    """The L2 norm of all leaves together, as one long vector."""
    return jnp.sqrt(sum(jnp.sum(jnp.square(g)) for g in tree_leaves(updates)))


def clip_by_global_norm(max_norm):
    """Rescale all updates together so that their global norm is at most max_norm."""
    def update(updates, state, params=None):
        norm = global_norm(updates)
        keep = norm < max_norm
        return tree_map(lambda g: jnp.where(keep, g, (g / norm.astype(g.dtype)) * max_norm),
                        updates), state
    return GradientTransformation(lambda params: EmptyState(), update)


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

        >>> opt = optax.sgd(0.1)
        >>> grads = {'w': jnp.ones(2)}
        >>> opt.update(grads, opt.init(grads))[0]
        {'w': Array([-0.1, -0.1], dtype=float32)}
    """
    first = trace(momentum, nesterov) if momentum is not None else identity()
    return chain(first, scale_by_learning_rate(learning_rate))


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


def rmsprop(learning_rate, decay=0.9, eps=1e-8, initial_scale=0.0, eps_in_sqrt=True,
            momentum=None, nesterov=False):
    """RMSProp (Tieleman & Hinton): divide by a running root-mean-square of g."""
    steps = [scale_by_rms(decay, eps, initial_scale, eps_in_sqrt), scale_by_learning_rate(learning_rate)]
    if momentum is not None:
        steps.append(trace(momentum, nesterov))
    return chain(*steps)


def adagrad(learning_rate, initial_accumulator_value=0.1, eps=1e-7):
    """Adagrad (Duchi et al.): divide by the root of the sum of all past g**2."""
    return chain(scale_by_rss(initial_accumulator_value, eps), scale_by_learning_rate(learning_rate))


def lion(learning_rate, b1=0.9, b2=0.99, weight_decay=1e-3):
    """Lion: a step of size learning_rate in the sign direction of scale_by_lion,
    plus decoupled weight decay."""
    return chain(scale_by_lion(b1, b2), add_decayed_weights(weight_decay),
                 scale_by_learning_rate(learning_rate))


def apply_updates(params, updates):
    """params + updates, leaf by leaf, keeping each parameter's dtype."""
    return tree_map(lambda p, u: jnp.asarray(p + u).astype(jnp.asarray(p).dtype), params, updates)


# --- schedules: step count -> learning rate -------------------------------------------------------

def constant_schedule(value):
    """The same value at every step."""
    return lambda count: value


def linear_schedule(init_value, end_value, transition_steps, transition_begin=0):
    """From init_value to end_value linearly over transition_steps, after transition_begin."""
    def schedule(count):
        count = jnp.clip(count - transition_begin, 0, transition_steps)
        fraction = 1 - count / transition_steps
        return (init_value - end_value) * fraction + end_value
    return schedule


def exponential_decay(init_value, transition_steps, decay_rate, transition_begin=0,
                      staircase=False, end_value=None):
    """init_value * decay_rate ** (steps / transition_steps) (floored if staircase),
    held at init_value before transition_begin and bounded by end_value."""
    def schedule(count):
        count = count - transition_begin
        power = count / transition_steps
        if staircase:
            power = jnp.floor(power)
        value = init_value * decay_rate ** power
        if transition_begin > 0:
            value = jnp.where(count <= 0, init_value, value)
        if end_value is not None:
            bound = jnp.maximum if decay_rate < 1 else jnp.minimum
            value = bound(value, end_value)
        return value
    return schedule


def cosine_decay_schedule(init_value, decay_steps, alpha=0.0, exponent=1.0):
    """Half a cosine from init_value down to alpha * init_value over decay_steps."""
    def schedule(count):
        count = jnp.minimum(count, decay_steps)
        cosine = 0.5 * (1 + jnp.cos(jnp.pi * count / decay_steps))
        return init_value * ((1 - alpha) * cosine ** exponent + alpha)
    return schedule


def join_schedules(schedules, boundaries):
    """schedules[i] from boundaries[i-1] on, each restarted at step 0 there."""
    def schedule(count):
        value = schedules[0](count)
        for boundary, later in zip(boundaries, schedules[1:]):
            value = jnp.where(count < boundary, value, later(count - boundary))
        return value
    return schedule


def warmup_cosine_decay_schedule(init_value, peak_value, warmup_steps, decay_steps,
                                 end_value=0.0, exponent=1.0):
    """Linear warmup to peak_value, then cosine decay to end_value; decay_steps counts
    the warmup too."""
    return join_schedules(
        [linear_schedule(init_value, peak_value, warmup_steps),
         cosine_decay_schedule(peak_value, decay_steps - warmup_steps, end_value / peak_value, exponent)],
        [warmup_steps])


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


def sigmoid_binary_cross_entropy(logits, labels):
    """-labels * log sigmoid(logits) - (1 - labels) * log sigmoid(-logits), elementwise."""
    logits = jnp.asarray(logits)
    return -labels * nn.log_sigmoid(logits) - (1.0 - labels) * nn.log_sigmoid(-logits)


def squared_error(predictions, targets=None):
    """(predictions - targets) ** 2, elementwise (targets default to 0)."""
    errors = jnp.asarray(predictions) if targets is None else predictions - jnp.asarray(targets)
    return errors ** 2


def l2_loss(predictions, targets=None):
    """0.5 * squared_error, elementwise (as optax.l2_loss)."""
    return 0.5 * squared_error(predictions, targets)


def huber_loss(predictions, targets=None, *, delta=1.0):
    """Quadratic (0.5 * e**2) for errors up to delta, linear beyond."""
    errors = jnp.asarray(predictions) if targets is None else predictions - jnp.asarray(targets)
    abs_errors = jnp.abs(errors)
    quadratic = jnp.minimum(abs_errors, delta)
    return 0.5 * quadratic ** 2 + delta * (abs_errors - quadratic)
