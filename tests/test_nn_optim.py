"""nn (activations, softmax, modules) and optim (optimizers, losses) against
hand-written NumPy formulas, jax.nn where JAX is installed, and gradients."""
import numpy as np
import pytest
from hypothesis import given, settings, HealthCheck, strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_tracer as jax
import tinygrad_tracer.numpy as jnp
from tinygrad_tracer import nn, optim

PROP = settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
floats = hnp.arrays(np.float32, hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
                    elements=st.floats(-8, 8, width=32))

SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def np_softmax(x, axis=-1):
    e = np.exp(x - x.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


def np_gelu_exact(x):
    from math import erf
    return 0.5 * x * (1 + np.vectorize(erf)(x / np.sqrt(2)))


ACTIVATIONS = {   # name: (ours, float64 reference)
    'relu': (nn.relu, lambda x: np.maximum(x, 0)),
    'relu6': (nn.relu6, lambda x: np.clip(x, 0, 6)),
    'leaky_relu': (nn.leaky_relu, lambda x: np.where(x >= 0, x, 0.01 * x)),
    'elu': (nn.elu, lambda x: np.where(x > 0, x, np.expm1(x))),
    'selu': (nn.selu, lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x))),
    'gelu': (nn.gelu, lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))),
    'gelu_exact': (lambda x: nn.gelu(x, approximate=False), np_gelu_exact),
    'sigmoid': (nn.sigmoid, lambda x: 1 / (1 + np.exp(-x))),
    'log_sigmoid': (nn.log_sigmoid, lambda x: -np.logaddexp(0, -x)),
    'softplus': (nn.softplus, lambda x: np.logaddexp(0, x)),
    'silu': (nn.silu, lambda x: x / (1 + np.exp(-x))),
    'tanh': (nn.tanh, np.tanh),
    'softmax': (nn.softmax, np_softmax),
    'log_softmax': (nn.log_softmax, lambda x: np.log(np_softmax(x))),
}


@pytest.mark.parametrize('name', sorted(ACTIVATIONS))
@PROP
@given(x=floats)
def test_activations_match_numpy(name, x):
    ours, reference = ACTIVATIONS[name]
    out = ours(x)
    assert out.dtype == np.float32 and out.shape == x.shape
    np.testing.assert_allclose(np.asarray(out, np.float64), reference(x.astype(np.float64)),
                               rtol=2e-5 if name != 'gelu_exact' else 1e-4, atol=1e-6)


@pytest.mark.parametrize('name', sorted(set(ACTIVATIONS) - {'gelu_exact'}))
def test_activations_match_jax_nn(name, real_jax):
    jax_ = real_jax
    x = np.linspace(-6, 6, 41, dtype=np.float32)
    ours = ACTIVATIONS[name][0](x)
    theirs = getattr(jax_.nn, name)(x)
    # Same formulas; XLA's tanh/exp kernels may differ from ours in the last bit
    # (which gelu's 1 + tanh(...) magnifies for very negative x).
    np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=3e-7, atol=1e-6)
    assert ours.dtype == theirs.dtype


def test_activation_digits_match_jax():
    x = jnp.array([-1.0, 1.0])
    assert repr(nn.selu(x)) == 'Array([-1.1113307,  1.050701 ], dtype=float32)'
    assert repr(nn.relu(jnp.array([-1.0, 2.0]))) == 'Array([0., 2.], dtype=float32)'
    assert repr(nn.softmax(jnp.array([1.0, 2.0, 3.0]))) == 'Array([0.09003057, 0.24472848, 0.66524094], dtype=float32)'
    assert repr(nn.logsumexp(jnp.array([0.0, 0.0]))) == 'Array(0.6931472, dtype=float32)'


@PROP
@given(x=floats, data=st.data(), keepdims=st.booleans())
def test_logsumexp_softmax_axes(x, data, keepdims):
    axis = data.draw(st.none() | st.integers(-x.ndim, x.ndim - 1))
    x64 = x.astype(np.float64)
    m = x64.max(axis, keepdims=True)
    want = np.log(np.sum(np.exp(x64 - m), axis, keepdims=True)) + m
    want = want if keepdims else np.squeeze(want, axis)
    got = nn.logsumexp(x, axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(np.asarray(got, np.float64), want, rtol=1e-5, atol=1e-6)
    if axis is not None:
        np.testing.assert_allclose(np.asarray(nn.softmax(x, axis)), np_softmax(x64, axis), rtol=2e-5, atol=1e-7)
        np.testing.assert_allclose(np.asarray(nn.log_softmax(x, axis)).sum(), np.log(np_softmax(x64, axis)).sum(),
                                   rtol=1e-4, atol=1e-4)


def test_logsumexp_edge_cases():
    assert nn.logsumexp(jnp.array([-np.inf, -np.inf])).item() == -np.inf
    assert nn.logsumexp(jnp.array([1000.0, 1000.0])).item() == pytest.approx(1000 + np.log(2))
    assert nn.logsumexp(jnp.array([0.0, 0.0]), b=jnp.array([1.0, 3.0])).item() == pytest.approx(np.log(4))
    assert not np.isnan(np.asarray(nn.softmax(jnp.array([1e4, 0.0])))).any()


def test_one_hot():
    assert nn.one_hot(jnp.array([0, 2, 5, -1]), 3).tolist() == [[1, 0, 0], [0, 0, 1], [0, 0, 0], [0, 0, 0]]
    assert nn.one_hot(jnp.array([1]), 2, dtype=jnp.int32).dtype == np.int32
    x = jnp.array([[0, 1], [2, 0]])
    assert nn.one_hot(x, 3).shape == (2, 2, 3)
    assert nn.one_hot(x, 3, axis=0).tolist() == np.moveaxis(np.eye(3)[np.asarray(x)], -1, 0).tolist()


# --- gradients -----------------------------------------------------------------------------------

def test_activation_gradients():
    grad = jax.grad
    assert grad(nn.relu)(0.0).item() == 0.0 and grad(nn.relu)(2.0).item() == 1.0
    assert grad(nn.sigmoid)(0.0).item() == pytest.approx(0.25)
    assert grad(nn.selu)(-1.0).item() == pytest.approx(SELU_SCALE * SELU_ALPHA * np.exp(-1.0), rel=1e-6)
    assert grad(nn.softplus)(0.0).item() == pytest.approx(0.5)
    assert grad(nn.elu)(100.0).item() == 1.0   # the unused exp branch does not poison the gradient
    x = jnp.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(np.asarray(jax.grad(nn.logsumexp)(x)), np_softmax(np.array([1., 2., 3.])), rtol=1e-6)
    # d softmax_i / d x_j = s_i (delta_ij - s_j): the gradient of one output.
    s = np_softmax(np.array([1., 2., 3.]))
    np.testing.assert_allclose(np.asarray(jax.grad(lambda v: nn.softmax(v)[0])(x)), s[0] * (np.eye(3)[0] - s),
                               rtol=1e-5, atol=1e-7)


@PROP
@given(logits=hnp.arrays(np.float32, (3, 4), elements=st.floats(-5, 5, width=32)),
       labels=hnp.arrays(np.int32, (3,), elements=st.integers(0, 3)))
def test_cross_entropy(logits, labels):
    l64 = logits.astype(np.float64)
    want = -np.log(np_softmax(l64))[np.arange(3), labels]
    got = optim.softmax_cross_entropy_with_integer_labels(logits, labels)
    np.testing.assert_allclose(np.asarray(got, np.float64), want, rtol=1e-5, atol=1e-6)
    one_hot = np.eye(4, dtype=np.float32)[labels]
    np.testing.assert_allclose(np.asarray(optim.softmax_cross_entropy(logits, one_hot)), want, rtol=1e-5, atol=1e-6)
    # The gradient of the mean loss is (softmax - one_hot) / n.
    g = jax.grad(lambda z: optim.softmax_cross_entropy_with_integer_labels(z, labels).mean())(jnp.asarray(logits))
    np.testing.assert_allclose(np.asarray(g), (np_softmax(l64) - one_hot) / 3, rtol=1e-4, atol=1e-6)


def test_losses():
    p, t = jnp.array([1.0, 2.0]), jnp.array([0.0, 4.0])
    assert optim.squared_error(p, t).tolist() == [1.0, 4.0]
    assert optim.l2_loss(p, t).tolist() == [0.5, 2.0]
    assert optim.l2_loss(p).tolist() == [0.5, 2.0]
    assert repr(optim.softmax_cross_entropy_with_integer_labels(jnp.array([[0., 0.]]), jnp.array([1]))) == \
        'Array([0.6931472], dtype=float32)'
    with pytest.raises(TypeError, match='labels must be integer class indices, got dtype float32'):
        optim.softmax_cross_entropy_with_integer_labels(jnp.zeros((1, 2)), jnp.zeros(1))


def test_loss_matches_jax_digits(real_jax):
    import jax.numpy as jjnp
    from jax import nn as jnn
    logits = np.random.default_rng(0).normal(size=(5, 10)).astype(np.float32)
    labels = np.arange(5, dtype=np.int32)
    # optax's formula, written with jax.nn: log(sum(exp(z - max))) - (z - max)[label]
    z = logits - logits.max(-1, keepdims=True)
    theirs = jjnp.log(jjnp.sum(jjnp.exp(z), -1)) - z[np.arange(5), labels]
    np.testing.assert_allclose(np.asarray(optim.softmax_cross_entropy_with_integer_labels(logits, labels)),
                               np.asarray(theirs), rtol=2e-7)   # XLA's exp may round differently
    np.testing.assert_allclose(np.asarray(nn.log_softmax(logits)), np.asarray(jnn.log_softmax(logits)), rtol=2e-7)


# --- optimizers ------------------------------------------------------------------------------------

def run(optimizer, params, grads_seq, pass_params=True):
    state = optimizer.init(params)
    for g in grads_seq:
        updates, state = optimizer.update(g, state, params if pass_params else None)
        params = optim.apply_updates(params, updates)
    return params, state


GRADS = [np.array([0.5, -1.0, 2.0], np.float32), np.array([0.1, 0.2, -0.3], np.float32),
         np.array([-1.0, 0.0, 1.0], np.float32)]
P0 = np.array([1.0, 2.0, 3.0], np.float32)


def test_sgd():
    params, _ = run(optim.sgd(0.1), {'w': jnp.asarray(P0)}, [{'w': jnp.asarray(g)} for g in GRADS])
    np.testing.assert_allclose(np.asarray(params['w']), P0 - 0.1 * sum(GRADS), rtol=1e-6)


@pytest.mark.parametrize('nesterov', [False, True])
def test_momentum(nesterov):
    p, t = P0.astype(np.float64), np.zeros(3)
    for g in GRADS:
        t = g + 0.9 * t
        p = p - 0.1 * (g + 0.9 * t if nesterov else t)
    for opt in (optim.momentum(0.1, 0.9, nesterov), optim.sgd(0.1, momentum=0.9, nesterov=nesterov)):
        params, state = run(opt, jnp.asarray(P0), [jnp.asarray(g) for g in GRADS])
        np.testing.assert_allclose(np.asarray(params), p, rtol=1e-6)


def np_adam(grads, lr, b1=0.9, b2=0.999, eps=1e-8, wd=0.0):
    p, m, v = P0.astype(np.float64), np.zeros(3), np.zeros(3)
    for k, g in enumerate(grads, start=1):
        m = (1 - b1) * g + b1 * m
        v = (1 - b2) * g ** 2 + b2 * v
        step = (m / (1 - b1 ** k)) / (np.sqrt(v / (1 - b2 ** k)) + eps)
        p = p - lr * (step + wd * p)
    return p


def test_adam():
    params, state = run(optim.adam(0.01), jnp.asarray(P0), [jnp.asarray(g) for g in GRADS], pass_params=False)
    np.testing.assert_allclose(np.asarray(params), np_adam(GRADS, 0.01), rtol=1e-6)
    adam_state = state[0]
    assert adam_state.count.item() == 3 and adam_state.count.dtype == np.int32
    assert type(adam_state).__name__ == 'ScaleByAdamState'


def test_adamw():
    params, _ = run(optim.adamw(0.01, weight_decay=0.1), jnp.asarray(P0), [jnp.asarray(g) for g in GRADS])
    np.testing.assert_allclose(np.asarray(params), np_adam(GRADS, 0.01, wd=0.1), rtol=1e-6)
    # The seed's `optax.adamw(learning_rate, momentum)`: the second argument is b1.
    params, _ = run(optim.adamw(0.005, 0.5), jnp.asarray(P0), [jnp.asarray(g) for g in GRADS])
    np.testing.assert_allclose(np.asarray(params), np_adam(GRADS, 0.005, b1=0.5, wd=1e-4), rtol=1e-6)
    opt = optim.adamw(0.01)
    with pytest.raises(ValueError, match=r'needs the params: call optimizer\.update\(grads, state, params\)'):
        opt.update(jnp.asarray(P0), opt.init(jnp.asarray(P0)))


def test_learning_rate_schedule():
    opt = optim.sgd(lambda step: 0.1 / (1 + step))
    params, state = run(opt, jnp.asarray(P0), [jnp.asarray(g) for g in GRADS])
    want = P0 - sum(0.1 / (1 + k) * g for k, g in enumerate(GRADS))
    np.testing.assert_allclose(np.asarray(params), want, rtol=1e-6)
    assert state[1].count.item() == 3


def test_optimizer_state_is_a_pytree():
    opt = optim.adam(1e-3)
    state = opt.init({'w': jnp.zeros((2, 3)), 'b': jnp.zeros(3)})
    leaves = jax.tree.leaves(state)
    assert [np.shape(l) for l in leaves] == [(), (3,), (2, 3), (3,), (2, 3)]
    assert opt.init.__name__ == 'init' and isinstance(opt, optim.GradientTransformation)
    assert optim.apply_updates({'w': jnp.ones(2, jnp.float16)}, {'w': jnp.ones(2)})['w'].dtype == np.float16


# --- modules ------------------------------------------------------------------------------------------

def test_linear_layer():
    layer = nn.Linear(3, 2, key=jax.random.key(0))
    assert layer.weight.shape == (3, 2) and layer.bias.tolist() == [0.0, 0.0]
    assert repr(layer) == 'Linear(in_features=3, out_features=2)'
    x = jnp.array([[1.0, 2.0, 3.0]])
    np.testing.assert_allclose(np.asarray(layer(x)), np.asarray(x) @ np.asarray(layer.weight), rtol=1e-6)
    assert nn.Linear(3, 2, key=jax.random.key(0), use_bias=False).bias is None
    # LeCun-normal: std about 1/sqrt(fan_in), never beyond two standard deviations.
    big = nn.Linear(400, 300, key=jax.random.key(1)).weight
    assert abs(np.std(np.asarray(big)) * np.sqrt(400) - 1) < 0.02
    assert np.abs(np.asarray(big)).max() <= 2 / np.sqrt(400) / 0.87962566 + 1e-6


def test_modules_are_pytrees():
    k1, k2 = jax.random.split(jax.random.key(0))
    mlp = nn.Sequential(nn.Linear(4, 8, key=k1), nn.relu, nn.Linear(8, 1, key=k2))
    assert repr(mlp) == ('Sequential(Linear(in_features=4, out_features=8), relu, '
                         'Linear(in_features=8, out_features=1))')
    leaves, treedef = jax.tree.flatten(mlp)
    assert [l.shape for l in leaves] == [(8,), (4, 8), (1,), (8, 1)]
    rebuilt = jax.tree.unflatten(treedef, [l * 0 for l in leaves])
    assert isinstance(rebuilt, nn.Sequential) and rebuilt.layers[1] is nn.relu
    assert rebuilt.layers[0].in_features == 4 and rebuilt.layers[0].weight.tolist() == [[0.0] * 8] * 4
    assert jax.tree.structure(rebuilt) == treedef

    class Scale(nn.Module):
        def __init__(self, n):
            self.w, self.n, self.name = jnp.ones(n), n, 'scale'

        def __call__(self, x):
            return self.w * x
    s = Scale(2)
    assert jax.tree.leaves(s) == [s.w] and repr(s) == "Scale(n=2, name='scale')"
    assert jax.tree.map(lambda w: w * 3, s).w.tolist() == [3.0, 3.0]


def test_training_a_module_with_grad_and_jit():
    k1, k2, kx = jax.random.split(jax.random.key(0), 3)
    model = nn.Sequential(nn.Linear(3, 16, key=k1), nn.gelu, nn.Linear(16, 1, key=k2))
    x = jax.random.normal(kx, (32, 3))
    y = jnp.sum(x, axis=1, keepdims=True) ** 2

    def loss(m):
        return jnp.mean(optim.l2_loss(m(x), y))

    grads = jax.grad(loss)(model)
    assert isinstance(grads, nn.Sequential) and grads.layers[0].weight.shape == (3, 16)
    opt = optim.adam(0.05)
    state = opt.init(model)

    @jax.jit
    def step(m, s):
        value, g = jax.value_and_grad(loss)(m)
        updates, s = opt.update(g, s, m)
        return optim.apply_updates(m, updates), s, value

    first = loss(model).item()
    for _ in range(30):
        model, state, value = step(model, state)
    assert value.item() < 0.3 * first
