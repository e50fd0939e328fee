"""nnx: the object graph (split / merge / update), Rngs, the layers' Flax-identical
initialisation, the transforms' state write-back, Optimizer and metrics, and
seed 000's digits example run with only its imports changed.

Golden values were printed by Flax 0.12.8 / Optax 0.2.8 on JAX 0.10.2 (the same
code, `from flax import nnx` and `import optax`); `test_live_flax` recomputes
them when Flax is installed.
"""
import contextlib
import io
import re

import numpy as np
import pytest

import tinygrad_tracer as jax
import tinygrad_tracer.numpy as jnp
from tinygrad_tracer import nnx, optax

# nnx.Linear(3, 2, rngs=nnx.Rngs(0)).kernel, as Flax initialises it.
FLAX_LINEAR_3_2 = [[0.6178674101829529, -0.5598721504211426],
                   [-0.46445077657699585, -0.7150554656982422],
                   [-0.5388410091400146, 0.3668934404850006]]
# nnx.Embed(5, 3, rngs=nnx.Rngs(0)).embedding[0]
FLAX_EMBED_ROW0 = [0.57966787, -0.523274, -0.43195742]
# key_data of rngs.params(), rngs.dropout(), rngs() for nnx.Rngs(0, dropout=1)
FLAX_RNG_KEYS = [[1797259609, 2579123966], [507451445, 1853169794], [928981903, 3453687069]]
# How many keys each layer draws from rngs.params() (later layers' bits depend on it).
FLAX_KEYS_DRAWN = {'Linear': 2, 'Linear(use_bias=False)': 1, 'Conv(use_bias=False)': 1,
                   'BatchNorm': 2, 'LayerNorm': 2, 'Embed': 1}
# Seed 000's SimpleNN: float64 sums of the three kernels, the first training losses,
# the test losses the seed prints every 50 epochs, and its final accuracy.
FLAX_SIMPLENN_KERNEL_SUMS = [5.985138517422456, -1.4540698843456994, -3.397536163287441]
FLAX_FIRST_LOSSES = [6.421506881713867, 20.815584182739258, 11.227350234985352,
                     12.495465278625488, 28.837472915649414]
FLAX_PRINTED_TEST_LOSSES = ['20.18', '0.21', '0.14', '0.12', '0.12', '0.11', '0.11']
FLAX_MATCHES = 433


# --- the object graph -----------------------------------------------------------------------

class Block(nnx.Module):
    def __init__(self, rngs):
        self.linear = nnx.Linear(2, 3, rngs=rngs)
        self.bn = nnx.BatchNorm(3, rngs=rngs)
        self.act = nnx.relu           # a function: static

    def __call__(self, x):
        return self.act(self.bn(self.linear(x)))


class Shared(nnx.Module):
    def __init__(self, rngs):
        self.a = nnx.Linear(2, 2, rngs=rngs)
        self.b = self.a               # the same layer twice
        self.blocks = [Block(rngs), Block(rngs)]


def test_split_merge_round_trip_keeps_sharing():
    model = Shared(nnx.Rngs(0))
    graphdef, params, stats = nnx.split(model, nnx.Param, nnx.BatchStat)
    assert set(params) == {'a', 'blocks'} and set(params['blocks']) == {0, 1}
    assert 'b' not in params                          # a shared layer's state appears once
    assert set(stats['blocks'][0]['bn']) == {'mean', 'var'}
    copy = nnx.merge(graphdef, params, stats)
    assert copy is not model and copy.a is copy.b and isinstance(copy.blocks, list)
    np.testing.assert_array_equal(copy.a.kernel.value, model.a.kernel.value)
    assert copy.blocks[0].act is nnx.relu
    assert nnx.graphdef(copy) == graphdef and hash(nnx.graphdef(copy)) == hash(graphdef)


def test_state_filters_update_and_clone():
    model = Block(nnx.Rngs(0))
    assert set(nnx.state(model, nnx.BatchStat)['bn']) == {'mean', 'var'}
    params = nnx.state(model, nnx.Param)
    assert isinstance(params.linear.kernel, nnx.Param)
    new = jax.tree.map(lambda p: p + 1, params)        # a State of Params is a pytree
    nnx.update(model, new)
    np.testing.assert_array_equal(model.bn.scale.value, np.full(3, 2.0, np.float32))
    twin = nnx.clone(model)
    twin.bn.scale.value = jnp.zeros(3)
    assert model.bn.scale.value.tolist() == [2.0, 2.0, 2.0]
    with pytest.raises(ValueError, match=r"no filter matched the BatchStat at bn\.mean"):
        nnx.split(model, nnx.Param)


def test_train_eval_switch_attributes():
    model = nnx.Sequential(Block(nnx.Rngs(0)), nnx.Dropout(0.5, rngs=nnx.Rngs(dropout=1)))
    model.eval()
    assert model.layers[0].bn.use_running_average and model.layers[1].deterministic
    x = jnp.ones((4, 2))
    np.testing.assert_array_equal(model(x), model(x))            # eval: deterministic
    model.train()
    assert not model.layers[0].bn.use_running_average and not model.layers[1].deterministic


def test_display_shows_modules_shapes_and_counts():
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        nnx.display(Block(nnx.Rngs(0)))
    text = out.getvalue()
    assert text.startswith('Block(  # BatchStat: 6 (24 B), Param: 15 (60 B)')
    assert 'kernel=Param(value=Array(shape=(2, 3), dtype=float32))' in text
    assert 'linear=Linear(  # Param: 9 (36 B)' in text


# --- initialisation and Rngs match Flax --------------------------------------------------

def test_linear_init_is_flax_bit_for_bit():
    layer = nnx.Linear(3, 2, rngs=nnx.Rngs(0))
    np.testing.assert_array_equal(np.asarray(layer.kernel.value), np.float32(FLAX_LINEAR_3_2))
    assert layer.bias.value.tolist() == [0.0, 0.0]
    np.testing.assert_allclose(nnx.Embed(5, 3, rngs=nnx.Rngs(0)).embedding.value[0], FLAX_EMBED_ROW0,
                               rtol=1e-6)


def test_rngs_streams_and_counts():
    rngs = nnx.Rngs(0, dropout=1)
    keys = [rngs.params(), rngs.dropout(), rngs()]
    assert [np.asarray(jax.random.key_data(k)).tolist() for k in keys] == FLAX_RNG_KEYS
    assert int(rngs.default.count.value) == 2 and rngs['dropout'].count.value.dtype == np.uint32
    layers = {'Linear': lambda r: nnx.Linear(2, 3, rngs=r),
              'Linear(use_bias=False)': lambda r: nnx.Linear(2, 3, use_bias=False, rngs=r),
              'Conv(use_bias=False)': lambda r: nnx.Conv(2, 3, (3, 3), use_bias=False, rngs=r),
              'BatchNorm': lambda r: nnx.BatchNorm(3, rngs=r), 'LayerNorm': lambda r: nnx.LayerNorm(3, rngs=r),
              'Embed': lambda r: nnx.Embed(5, 3, rngs=r)}
    for name, make in layers.items():
        rngs = nnx.Rngs(0)
        make(rngs)
        assert int(rngs.default.count.value) == FLAX_KEYS_DRAWN[name], name


# --- transforms write state back ------------------------------------------------------------

class Counter(nnx.Module):
    def __init__(self):
        self.count = nnx.BatchStat(jnp.zeros((), jnp.int32))
        self.w = nnx.Param(jnp.array([1.0, 2.0]))

    def __call__(self, x):
        self.count.value = self.count.value + 1
        return jnp.sum(self.w.value * x)


def test_jit_writes_mutations_back_and_retraces_on_graph_change():
    model, traces = Counter(), []

    @nnx.jit
    def step(model, x):
        traces.append(1)
        return model(x)

    for _ in range(3):
        assert step(model, jnp.ones(2)).item() == 3.0
    assert int(model.count.value) == 3 and len(traces) == 1
    model.flag = True                    # a new static attribute: a new graphdef, a new trace
    step(model, jnp.ones(2))
    assert len(traces) == 2 and int(model.count.value) == 4


def test_grad_differentiates_params_and_keeps_other_state():
    model = Counter()
    (loss, aux), grads = nnx.value_and_grad(lambda m, x: (m(x), x * 2), has_aux=True)(model, jnp.ones(2))
    assert loss.item() == 3.0 and aux.tolist() == [2.0, 2.0]
    assert isinstance(grads, nnx.State) and set(grads) == {'w'} and grads.w.value.tolist() == [1.0, 1.0]
    assert int(model.count.value) == 1                  # the BatchStat change came back out
    g_model, g_x = nnx.grad(lambda m, x: m(x), argnums=(0, 1))(model, jnp.array([3.0, 4.0]))
    assert g_model.w.value.tolist() == [3.0, 4.0] and g_x.tolist() == [1.0, 2.0]


def test_vmap_broadcasts_a_module():
    model = nnx.Linear(2, 3, rngs=nnx.Rngs(0))
    xs = jnp.arange(8.0).reshape(4, 2)
    ys = nnx.vmap(lambda m, x: m(x), in_axes=(None, 0))(model, xs)
    np.testing.assert_allclose(ys, model(xs), rtol=1e-6)


def test_batchnorm_train_updates_running_stats_eval_uses_them():
    bn = nnx.BatchNorm(2, momentum=0.9, rngs=nnx.Rngs(0))
    x = jnp.array([[1.0, 10.0], [3.0, 30.0]])
    y = bn(x)
    np.testing.assert_allclose(y, [[-1, -1], [1, 1]], atol=1e-4)
    np.testing.assert_allclose(bn.mean.value, [0.2, 2.0], rtol=1e-6)
    np.testing.assert_allclose(bn.var.value, [0.9 + 0.1 * 1.0, 0.9 + 0.1 * 100.0], rtol=1e-6)
    bn.eval()
    np.testing.assert_allclose(bn(x), (x - bn.mean.value) / jnp.sqrt(bn.var.value + 1e-5), rtol=1e-5)


def test_layernorm_dropout_embed_sequential():
    ln = nnx.LayerNorm(3, rngs=nnx.Rngs(0))
    y = ln(jnp.array([[1.0, 2.0, 3.0]]))
    np.testing.assert_allclose(y, [[-1.2247, 0.0, 1.2247]], atol=1e-3)
    drop = nnx.Dropout(0.5, rngs=nnx.Rngs(dropout=0))
    kept = np.asarray(drop(jnp.ones(1000)))
    assert set(np.unique(kept).tolist()) == {0.0, 2.0} and 400 < (kept > 0).sum() < 600
    with pytest.raises(ValueError, match='Dropout in training mode needs random keys'):
        nnx.Dropout(0.5)(jnp.ones(3))
    emb = nnx.Embed(5, 3, rngs=nnx.Rngs(0))
    np.testing.assert_array_equal(emb(jnp.array([4, 0])), emb.embedding.value[jnp.array([4, 0])])
    seq = nnx.Sequential(nnx.Linear(2, 4, rngs=nnx.Rngs(0)), nnx.relu)
    assert seq(jnp.ones((3, 2))).shape == (3, 4)


def test_optimizer_both_signatures_and_metrics():
    model = Counter()
    grads = nnx.state(model, nnx.Param)
    grads = jax.tree.map(jnp.ones_like, grads)
    opt = nnx.Optimizer(model, optax.sgd(0.5), wrt=nnx.Param)
    opt.update(grads)                    # the seeds' form
    opt.update(model, grads)             # current Flax's form
    assert model.w.value.tolist() == [0.0, 1.0] and int(opt.step.value) == 2
    assert nnx.ModelAndOptimizer is nnx.Optimizer
    metrics = nnx.MultiMetric(accuracy=nnx.metrics.Accuracy(), loss=nnx.metrics.Average('loss'))
    metrics.update(loss=jnp.float32(2.0), logits=jnp.array([[0.0, 1.0], [1.0, 0.0]]), labels=jnp.array([1, 1]))
    metrics.update(loss=jnp.float32(4.0), logits=jnp.array([[0.0, 1.0]]), labels=jnp.array([1]))
    got = metrics.compute()
    assert got['loss'].item() == 3.0 and abs(got['accuracy'].item() - 2 / 3) < 1e-6
    metrics.reset()
    assert np.isnan(metrics.compute()['loss'].item())


def test_adam_optimizer_state_goes_through_jit():
    model = Counter()
    opt = nnx.Optimizer(model, optax.adam(0.1))

    @nnx.jit
    def step(model, opt, x):
        _, grads = nnx.value_and_grad(lambda m: m(x))(model)
        opt.update(grads)

    for _ in range(2):
        step(model, opt, jnp.ones(2))
    assert int(opt.opt_state[0].count.value) == 2
    np.testing.assert_allclose(model.w.value, [0.8, 1.8], rtol=1e-5)


# --- seed 000, its digits example, with only the imports changed ----------------------------

def test_seed000_digits_example():
    """The seed's cells, verbatim apart from `from flax import nnx` / `import optax`
    / `import jax` (and without the matplotlib cells)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        from sklearn.datasets import load_digits
        digits = load_digits()

        print(f"{digits.data.shape=}")
        print(f"{digits.target.shape=}")

        from sklearn.model_selection import train_test_split
        splits = train_test_split(digits.images, digits.target, random_state=0)

        import tinygrad_tracer.numpy as jnp
        images_train, images_test, label_train, label_test = map(jnp.asarray, splits)
        print(f"{images_train.shape=} {label_train.shape=}")
        print(f"{images_test.shape=}  {label_test.shape=}")

        from tinygrad_tracer import nnx

        N_FEATURES = 64  # Number of pixels.
        N_INTERMEDIATE = 100  # Hidden layer size
        N_TARGETS = 10  # Number of categories.

        class SimpleNN(nnx.Module):

            def __init__(self, *, rngs: nnx.Rngs):
                self.layer1 = nnx.Linear(N_FEATURES, N_INTERMEDIATE, rngs=rngs)
                self.layer2 = nnx.Linear(N_INTERMEDIATE, N_INTERMEDIATE, rngs=rngs)
                self.layer3 = nnx.Linear(N_INTERMEDIATE, N_TARGETS, rngs=rngs)

            def __call__(self, x):
                x = x.reshape(-1, 64)  # flatten 8x8 images
                x = nnx.selu(self.layer1(x))
                x = nnx.selu(self.layer2(x))
                x = self.layer3(x)
                return x

        model = SimpleNN(rngs=nnx.Rngs(0))

        nnx.display(model)  # Interactive display if penzai is installed.

        import tinygrad_tracer as jax
        from tinygrad_tracer import optax

        optimizer = nnx.Optimizer(model, optax.sgd(learning_rate=0.05))

        def loss_fun(
                model: nnx.Module,
                data: jax.Array,
                labels: jax.Array):
            logits = model(data)
            loss = optax.softmax_cross_entropy_with_integer_labels(
                logits=logits, labels=labels
            ).mean()
            return loss, logits

        @nnx.jit  # JIT-compile the function.
        def train_step(
                model: nnx.Module,
                optimizer: nnx.Optimizer,
                data: jax.Array,
                labels: jax.Array):
            loss_gradient = nnx.value_and_grad(loss_fun, has_aux=True)  # Gradient transform!
            (loss, logits), grads = loss_gradient(model, data, labels)
            optimizer.update(grads)  # In-place update.

        # (not in the seed) the initial kernels, and the training loss before each of the first steps
        kernel_sums = [float(np.asarray(layer.kernel.value, np.float64).sum())
                       for layer in (model.layer1, model.layer2, model.layer3)]
        first_losses = []

        for i in range(301):  # 300 training epochs
            if i < 5:
                first_losses.append(float(loss_fun(model, images_train, label_train)[0]))
            train_step(model, optimizer, images_train, label_train)
            if i % 50 == 0:  # Print metrics.
                loss, _ = loss_fun(model, images_test, label_test)
                print(f"epoch {i}: loss={loss:.2f}")

        label_pred = model(images_test).argmax(axis=1)
        num_matches = jnp.count_nonzero(label_pred == label_test)
        num_total = len(label_test)
        accuracy = num_matches / num_total
        print(f"{num_matches} labels match out of {num_total}:"
              f" accuracy = {num_matches/num_total:%}")

    text = out.getvalue()
    assert kernel_sums == FLAX_SIMPLENN_KERNEL_SUMS                  # Flax's bits
    np.testing.assert_allclose(first_losses, FLAX_FIRST_LOSSES, rtol=1e-5)
    assert re.findall(r"epoch \d+: loss=([\d.]+)", text) == FLAX_PRINTED_TEST_LOSSES
    assert f"{FLAX_MATCHES} labels match out of 450: accuracy = 96.222222%" in text
    assert float(accuracy) >= 0.95
    assert 'SimpleNN(  # Param: 17,610 (70.4 KB)' in text


# --- against the installed Flax -------------------------------------------------------------

def test_live_flax(real_flax):
    """With Flax installed, its initialisation still gives the golden bits above."""
    layer = real_flax.Linear(3, 2, rngs=real_flax.Rngs(0))
    np.testing.assert_array_equal(np.asarray(layer.kernel[...]), np.float32(FLAX_LINEAR_3_2))
    rngs = real_flax.Rngs(0, dropout=1)
    import jax as real_jax
    keys = [rngs.params(), rngs.dropout(), rngs()]
    assert [np.asarray(real_jax.random.key_data(k)).tolist() for k in keys] == FLAX_RNG_KEYS


def test_a_metric_subclass_must_define_its_methods():
    class Incomplete(nnx.metrics.Metric):
        pass
    for call in (lambda m: m.reset(), lambda m: m.update(loss=1.0), lambda m: m.compute()):
        with pytest.raises(TypeError, match=r"Incomplete is a Metric but does not define \w+\(\)"):
            call(Incomplete())
