"""conv_general_dilated and reduce_window: against a direct NumPy loop, their
gradients against finite differences, vmap against a Python loop; then seed
002's ResNet18 (nnx.Conv, BatchNorm, Sequential, max_pool, avg_pool, adamw,
MultiMetric) with only its imports changed.

Golden ResNet18 values were printed by Flax 0.12.8 / Optax 0.2.8 on JAX 0.10.2.
"""
import itertools

import numpy as np
import pytest

import tinygrad_tracer as jax
import tinygrad_tracer.numpy as jnp
from tinygrad_tracer import config, lax

# lhs shape, rhs shape, strides, padding, lhs_dilation, rhs_dilation, dimension_numbers, groups
CONV_CASES = [
    ((2, 7, 6, 4), (3, 3, 4, 5), (1, 1), 'SAME', None, None, ('NHWC', 'HWIO', 'NHWC'), 1),
    ((2, 7, 6, 4), (3, 2, 2, 6), (2, 1), 'VALID', None, (1, 2), ('NHWC', 'HWIO', 'NHWC'), 2),
    ((2, 4, 7, 6), (6, 4, 3, 3), (2, 2), ((1, 2), (0, 1)), (1, 2), None, None, 1),
    ((1, 9, 3), (3, 3, 4), (3,), 'SAME', None, None, ('NWC', 'WIO', 'NWC'), 1),
    ((2, 8, 8, 6), (3, 3, 2, 6), (2, 1), ((2, -1), (1, 1)), None, None, ('NHWC', 'HWIO', 'NCHW'), 3),
]


def conv_reference(lhs, rhs, strides, padding, lhs_dilation, rhs_dilation, dn, groups):
    """The definition, one output element at a time (NC... / OI... layouts)."""
    dn = lax.conv_dimension_numbers(lhs.ndim, dn)
    x, w = np.transpose(lhs, dn.lhs_spec), np.transpose(rhs, dn.rhs_spec)
    n_sp = x.ndim - 2
    ld, rd = lhs_dilation or (1,) * n_sp, rhs_dilation or (1,) * n_sp
    xd = np.zeros(x.shape[:2] + lax.dilate_shape(x.shape[2:], ld))
    xd[(slice(None),) * 2 + tuple(slice(None, None, d) for d in ld)] = x
    ksizes = lax.dilate_shape(w.shape[2:], rd)
    pads = lax.padtype_to_pads(xd.shape[2:], ksizes, strides, padding)
    out_sp = [(m + lo + hi - k) // s + 1 for m, k, s, (lo, hi) in zip(xd.shape[2:], ksizes, strides, pads)]
    o, i = w.shape[:2]
    out = np.zeros((x.shape[0], o, *out_sp))
    for b, f, *pos in itertools.product(range(x.shape[0]), range(o), *map(range, out_sp)):
        g = f // (o // groups)
        total = 0.0
        for c, *tap in itertools.product(range(i), *map(range, w.shape[2:])):
            idx = [p * s + t * d - lo for p, s, t, d, (lo, _) in zip(pos, strides, tap, rd, pads)]
            if all(0 <= j < m for j, m in zip(idx, xd.shape[2:])):
                total += xd[(b, g * i + c, *idx)] * w[(f, c, *tap)]
        out[(b, f, *pos)] = total
    return np.transpose(out, np.argsort(dn.out_spec))


def conv_fn(case):
    _, _, s, p, ld, rd, dn, g = case
    return lambda x, w: lax.conv_general_dilated(x, w, s, p, ld, rd, dn, feature_group_count=g)


def case_data(case, seed=0, dtype=np.float32):
    rng = np.random.RandomState(seed)
    return rng.randn(*case[0]).astype(dtype), rng.randn(*case[1]).astype(dtype)


@pytest.mark.parametrize('case', CONV_CASES, ids=range(len(CONV_CASES)))
def test_conv_matches_the_definition(case):
    x, w = case_data(case)
    np.testing.assert_allclose(np.asarray(conv_fn(case)(x, w)), conv_reference(x, w, *case[2:]),
                               rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(np.asarray(jax.jit(conv_fn(case))(x, w)), conv_reference(x, w, *case[2:]),
                               rtol=1e-4, atol=1e-4)


def finite_difference_check(f, args, seed=0, eps=1e-6):
    """<grad f(args), v> against (f(args + eps v) - f(args - eps v)) / 2 eps, in float64."""
    rng = np.random.RandomState(seed)
    grads = jax.grad(f, argnums=tuple(range(len(args))))(*args)
    for i, (a, g) in enumerate(zip(args, grads)):
        v = rng.randn(*a.shape)
        plus = [b + eps * v if j == i else b for j, b in enumerate(args)]
        minus = [b - eps * v if j == i else b for j, b in enumerate(args)]
        numeric = (float(f(*plus)) - float(f(*minus))) / (2 * eps)
        np.testing.assert_allclose(float(np.sum(np.asarray(g) * v)), numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize('case', CONV_CASES, ids=range(len(CONV_CASES)))
def test_conv_gradients_against_finite_differences(case, x64):
    x, w = case_data(case, dtype=np.float64)
    conv = conv_fn(case)
    finite_difference_check(lambda x, w: jnp.sum(jnp.sin(conv(x, w))), [x, w])


@pytest.mark.parametrize('case', CONV_CASES, ids=range(len(CONV_CASES)))
def test_conv_vmap_matches_a_loop(case):
    x, w = case_data(case)
    xs, ws = np.stack([x, 2 * x]), np.stack([w, -w])
    conv = conv_fn(case)
    for in_axes in [(0, 0), (0, None), (None, 0)]:
        got = jax.vmap(conv, in_axes=in_axes)(xs if in_axes[0] == 0 else x, ws if in_axes[1] == 0 else w)
        want = [conv(xs[k] if in_axes[0] == 0 else x, ws[k] if in_axes[1] == 0 else w) for k in range(2)]
        np.testing.assert_allclose(np.asarray(got), np.stack([np.asarray(o) for o in want]), rtol=1e-5, atol=1e-5)


POOLS = [('max', (1, 2, 2, 1), (1, 2, 2, 1), 'VALID'), ('max', (1, 3, 3, 1), (1, 2, 2, 1), 'SAME'),
         ('sum', (1, 3, 2, 1), (1, 2, 1, 1), 'SAME'), ('min', (2, 2, 1, 1), (1, 1, 1, 1), ((0, 1), (0, 1), (0, 0), (0, 0)))]
COMPUTATION = {'max': (lax.max, -np.inf, np.max), 'sum': (lax.add, 0.0, np.sum), 'min': (lax.min, np.inf, np.min)}


def pool_fn(kind, dims, strides, padding):
    computation, init, _ = COMPUTATION[kind]
    return lambda x: lax.reduce_window(x, init, computation, dims, strides, padding)


@pytest.mark.parametrize('pool', POOLS, ids=[p[0] for p in POOLS])
def test_reduce_window(pool, x64):
    kind, dims, strides, padding = pool
    rng = np.random.RandomState(0)
    x = rng.randn(2, 7, 6, 3)
    f = pool_fn(*pool)
    pads = lax.padtype_to_pads(x.shape, dims, strides, padding)
    identity = COMPUTATION[kind][1]
    xp = np.pad(x, pads, constant_values=identity)
    out_shape = [(n - k) // s + 1 for n, k, s in zip(xp.shape, dims, strides)]
    want = np.empty(out_shape)
    for pos in itertools.product(*map(range, out_shape)):
        window = xp[tuple(slice(p * s, p * s + k) for p, s, k in zip(pos, strides, dims))]
        want[pos] = COMPUTATION[kind][2](window)
    np.testing.assert_allclose(np.asarray(f(x)), want, rtol=1e-12)
    finite_difference_check(lambda x: jnp.sum(jnp.sin(f(x))), [x])
    np.testing.assert_allclose(np.asarray(jax.vmap(f)(np.stack([x, -x]))), np.stack([want, np.asarray(f(-x))]))


def test_conv_against_jax(real_jax):
    for case in CONV_CASES:
        x, w = case_data(case)
        _, _, s, p, ld, rd, dn, g = case
        theirs = real_jax.lax.conv_general_dilated(x, w, s, p, ld, rd, dn, feature_group_count=g)
        np.testing.assert_allclose(np.asarray(conv_fn(case)(x, w)), np.asarray(theirs), rtol=2e-5, atol=2e-5)


# --- seed 002: ResNet18 ----------------------------------------------------------------------

FLAX_RESNET_KERNELS = {'conv1_first': [0.20595580339431763, -0.18662405014038086, -0.15481694042682648, -0.23835182189941406],
                       'fc_last': [-0.024440573528409004, 0.005134639795869589, -0.062471725046634674, 0.04233945533633232],
                       'layer4_last': [-0.01366920955479145, 0.0026824073866009712, -0.025942305102944374, 0.0008014518534764647]}
# model(jnp.ones((4, 32, 32, 3)))[0] in train mode: batch statistics of a nearly
# constant input, so rounding is amplified (checked loosely)
FLAX_RESNET_ONES_LOGITS = [1.0994410514831543, 1.2547051906585693, -1.6489582061767578, -2.9427032470703125,
                           -0.6583289504051208, -0.7017831802368164, 0.07639694213867188, -0.3629496097564697,
                           0.11526292562484741, 0.795167088508606]
# eval mode on np.random.RandomState(0).randn(2, 32, 32, 3)
FLAX_RESNET_EVAL_LOGITS = [
    [-0.5435886979103088, 0.16357392072677612, -3.7901651859283447, -5.881673812866211, -2.323160409927368,
     -1.2962356805801392, -0.7677035331726074, -0.4363454282283783, 0.26068350672721863, 0.27441027760505676],
    [-0.05422639846801758, 0.5197275876998901, -3.7752373218536377, -6.288317680358887, -2.324681043624878,
     -1.9346120357513428, -0.7582561373710632, -0.47829046845436096, 0.2812090218067169, 0.7054162621498108]]
# two train_steps (adamw(0.005, 0.9)) on RandomState(1) batches of 4, then the metrics
FLAX_RESNET_TRAIN_LOSSES = [3.521176815032959, 5.396986961364746]
FLAX_RESNET_TRAIN_METRICS = {'accuracy': 0.0, 'loss': 4.459081649780273}
FLAX_RESNET_BN_MEAN = [0.13598117232322693, -0.05422137677669525, 0.17236995697021484, -0.09531983733177185]


@pytest.fixture
def interpreted_jit():
    """The ResNet train step under the interpreter: Numba would spend minutes
    compiling hundreds of kernels for three calls."""
    config.update('jax_default_backend', 'interpret')
    try:
        yield
    finally:
        config.update('jax_default_backend', 'numba')


def test_seed002_resnet18(interpreted_jit):
    """Seed 002's cells with `from flax import nnx` / `import optax` / `import jax`
    changed; synthetic batches stand in for CIFAR10 (no network in CI)."""
    import tinygrad_tracer as jax
    import tinygrad_tracer.numpy as jnp
    from tinygrad_tracer import nnx

    class BasicBlock(nnx.Module):
        def __init__(
            self, in_planes: int, out_planes: int, do_downsample: bool = False, *, rngs: nnx.Rngs
        ):
            strides = (2, 2) if do_downsample else (1, 1)
            self.conv1_bn1 = nnx.Sequential(
                nnx.Conv(
                    in_planes, out_planes, kernel_size=(3, 3), strides=strides,
                    padding="SAME", use_bias=False, rngs=rngs,
                ),
                nnx.BatchNorm(out_planes, momentum=0.9, epsilon=1e-5, rngs=rngs),
            )
            self.conv2_bn2 = nnx.Sequential(
                nnx.Conv(
                    out_planes, out_planes, kernel_size=(3, 3), strides=(1, 1),
                    padding="SAME", use_bias=False, rngs=rngs,
                ),
                nnx.BatchNorm(out_planes, momentum=0.9, epsilon=1e-5, rngs=rngs),
            )

            if do_downsample:
                self.conv3_bn3 = nnx.Sequential(
                    nnx.Conv(
                        in_planes, out_planes, kernel_size=(1, 1), strides=(2, 2),
                        padding="VALID", use_bias=False, rngs=rngs,
                    ),
                    nnx.BatchNorm(out_planes, momentum=0.9, epsilon=1e-5, rngs=rngs),
                )
            else:
                self.conv3_bn3 = lambda x: x

        def __call__(self, x: jax.Array):
            out = self.conv1_bn1(x)
            out = nnx.relu(out)

            out = self.conv2_bn2(out)
            out = nnx.relu(out)

            shortcut = self.conv3_bn3(x)
            out += shortcut
            out = nnx.relu(out)
            return out

    class ResNet18(nnx.Module):
        def __init__(self, num_classes: int, *, rngs: nnx.Rngs):
            self.num_classes = num_classes
            self.conv1_bn1 = nnx.Sequential(
                nnx.Conv(
                    3, 64, kernel_size=(3, 3), strides=(1, 1), padding="SAME",
                    use_bias=False, rngs=rngs,
                ),
                nnx.BatchNorm(64, momentum=0.9, epsilon=1e-5, rngs=rngs),
            )
            self.layer1 = nnx.Sequential(
                BasicBlock(64, 64, rngs=rngs), BasicBlock(64, 64, rngs=rngs),
            )
            self.layer2 = nnx.Sequential(
                BasicBlock(64, 128, do_downsample=True, rngs=rngs), BasicBlock(128, 128, rngs=rngs),
            )
            self.layer3 = nnx.Sequential(
                BasicBlock(128, 256, do_downsample=True, rngs=rngs), BasicBlock(256, 256, rngs=rngs),
            )
            self.layer4 = nnx.Sequential(
                BasicBlock(256, 512, do_downsample=True, rngs=rngs), BasicBlock(512, 512, rngs=rngs),
            )
            self.fc = nnx.Linear(512, self.num_classes, rngs=rngs)

        def __call__(self, x: jax.Array):
            x = self.conv1_bn1(x)
            x = nnx.relu(x)
            x = nnx.max_pool(x, (2, 2), strides=(2, 2))

            x = self.layer1(x)
            x = self.layer2(x)
            x = self.layer3(x)
            x = self.layer4(x)

            x = nnx.avg_pool(x, (x.shape[1], x.shape[2]))
            x = x.reshape((x.shape[0], -1))
            x = self.fc(x)
            return x

    model = ResNet18(10, rngs=nnx.Rngs(0))

    # Visualize the model architecture
    nnx.display(model)

    x = jnp.ones((4, 32, 32, 3))
    y_pred = model(x)
    assert y_pred.shape == (4, 10)
    np.testing.assert_allclose(np.asarray(y_pred[0]), FLAX_RESNET_ONES_LOGITS, atol=2e-2)
    kernels = {'conv1_first': model.conv1_bn1.layers[0].kernel.value.ravel()[:4],
               'fc_last': model.fc.kernel.value.ravel()[-4:],
               'layer4_last': model.layer4.layers[1].conv2_bn2.layers[0].kernel.value.ravel()[-4:]}
    for name, value in kernels.items():
        assert np.asarray(value).tolist() == FLAX_RESNET_KERNELS[name], name   # Flax's bits
    model.eval()
    np.testing.assert_allclose(np.asarray(model(np.random.RandomState(0).randn(2, 32, 32, 3).astype(np.float32))),
                               FLAX_RESNET_EVAL_LOGITS, rtol=1e-3, atol=2e-3)   # 20 float32 convs, summed in another order
    model.train()

    from tinygrad_tracer import optax

    learning_rate = 0.005
    momentum = 0.9

    optimizer = nnx.Optimizer(model, optax.adamw(learning_rate, momentum))

    def compute_loss_and_logits(model: nnx.Module, batch):
        logits = model(batch[0])
        loss = optax.softmax_cross_entropy_with_integer_labels(
            logits=logits, labels=batch[1]
        ).mean()
        return loss, logits

    @nnx.jit
    def train_step(model: nnx.Module, optimizer: nnx.Optimizer, metrics: nnx.MultiMetric, batch):
        """Train for a single step."""
        # convert numpy arrays to jnp.array on GPU
        x, y_true = jnp.asarray(batch[0]), jnp.asarray(batch[1])

        grad_fn = nnx.value_and_grad(compute_loss_and_logits, has_aux=True)
        (loss, logits), grads = grad_fn(model, (x, y_true))

        metrics.update(loss=loss, logits=logits, labels=y_true)  # In-place updates.

        optimizer.update(grads)  # In-place updates.
        return loss

    @nnx.jit
    def eval_step(model: nnx.Module, metrics: nnx.MultiMetric, batch):
        # convert numpy arrays to jnp.array on GPU
        x, y_true = jnp.asarray(batch[0]), jnp.asarray(batch[1])

        loss, logits = compute_loss_and_logits(model, (x, y_true))

        metrics.update(loss=loss, logits=logits, labels=y_true)  # In-place updates.

    # Define helper object to compute train/test metrics
    metrics = nnx.MultiMetric(
        accuracy=nnx.metrics.Accuracy(),
        loss=nnx.metrics.Average('loss'),
    )

    rng = np.random.RandomState(1)
    batches = [(rng.randn(4, 32, 32, 3).astype(np.float32), rng.randint(0, 10, 4).astype(np.int32))
               for _ in range(2)]
    model.train()  # Set model to the training mode: e.g. update batch statistics
    losses = [train_step(model, optimizer, metrics, batch).item() for batch in batches]
    np.testing.assert_allclose(losses, FLAX_RESNET_TRAIN_LOSSES, rtol=1e-3)
    computed = metrics.compute()
    assert computed['accuracy'].item() == FLAX_RESNET_TRAIN_METRICS['accuracy']
    np.testing.assert_allclose(computed['loss'].item(), FLAX_RESNET_TRAIN_METRICS['loss'], rtol=1e-3)
    np.testing.assert_allclose(np.asarray(model.conv1_bn1.layers[1].mean.value)[:4], FLAX_RESNET_BN_MEAN,
                               rtol=1e-4)
    assert int(optimizer.step.value) == 2
    metrics.reset()  # Reset the metrics for the test set.

    model.eval()  # Set model to evaluation model: e.g. use stored batch statistics
    for test_batch in batches:
        eval_step(model, metrics, test_batch)
    computed = metrics.compute()
    assert set(computed) == {'accuracy', 'loss'} and np.isfinite(computed['loss'].item())
