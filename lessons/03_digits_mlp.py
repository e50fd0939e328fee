# %% [markdown]
# # Lesson 3 — Train a digit classifier
#
# The same network as JAX's "Getting started with JAX for AI" (64-100-100-10,
# SELU, softmax cross-entropy, SGD with learning rate 0.05, 300 full-batch
# epochs on scikit-learn's 8x8 digits), written with tinygrad_tracer's own
# `nn` and `optim` instead of Flax and Optax. Everything the training step
# does — the forward pass, `value_and_grad`, the optimizer update — is traced
# once by `jit` and compiled into Numba kernels.
#
# Run: `python lessons/03_digits_mlp.py` (a few seconds, most of it compiling;
# `--epochs 50` for a quick look).

# %%
import argparse
import time

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import tinygrad_tracer as jax
import tinygrad_tracer.numpy as jnp
from tinygrad_tracer import nn, optim

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument('--epochs', type=int, default=300)
args, _ = parser.parse_known_args()

# %% [markdown]
# ## Data

# %%
digits = load_digits()
splits = train_test_split(digits.images, digits.target, random_state=0)
images_train, images_test, label_train, label_test = map(jnp.asarray, splits)
print(f"{images_train.shape=} {label_train.shape=}")
print(f"{images_test.shape=}  {label_test.shape=}")

# %% [markdown]
# ## The model: parameters are a pytree
# A dict of weight matrices and biases. `jax.grad` returns a dict of the same
# shape, and `tree_map` walks both together.

# %%
N_FEATURES, N_INTERMEDIATE, N_TARGETS = 64, 100, 10


def init_params(key):
    sizes = [N_FEATURES, N_INTERMEDIATE, N_INTERMEDIATE, N_TARGETS]
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        key, wkey = jax.random.split(key)
        # LeCun-normal initialisation, as Flax's Linear uses.
        w = jax.random.truncated_normal(wkey, -2.0, 2.0, (n_in, n_out)) / jnp.sqrt(n_in) / 0.87962566
        params.append({'w': w, 'b': jnp.zeros(n_out)})
    return params


def model(params, x):
    x = x.reshape(-1, 64)   # flatten 8x8 images
    for layer in params[:-1]:
        x = nn.selu(x @ layer['w'] + layer['b'])
    return x @ params[-1]['w'] + params[-1]['b']


def loss_fun(params, data, labels):
    logits = model(params, data)
    loss = optim.softmax_cross_entropy_with_integer_labels(logits, labels).mean()
    return loss, logits


optimizer = optim.sgd(learning_rate=0.05)


@jax.jit
def train_step(params, opt_state, data, labels):
    (loss, logits), grads = jax.value_and_grad(loss_fun, has_aux=True)(params, data, labels)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    return optim.apply_updates(params, updates), opt_state, loss


# %% [markdown]
# ## Training

# %%
params = init_params(jax.random.PRNGKey(0))
opt_state = optimizer.init(params)
t0 = time.perf_counter()
for i in range(args.epochs + 1):
    params, opt_state, _ = train_step(params, opt_state, images_train, label_train)
    if i % 50 == 0:
        loss, _ = loss_fun(params, images_test, label_test)
        print(f"epoch {i}: loss={loss:.2f}")
print(f"trained {args.epochs} epochs in {time.perf_counter() - t0:.1f} s")

# %% [markdown]
# ## Accuracy

# %%
label_pred = model(params, images_test).argmax(axis=1)
num_matches = jnp.count_nonzero(label_pred == label_test)
num_total = len(label_test)
print(f"{num_matches} labels match out of {num_total}: accuracy = {num_matches / num_total:%}")
