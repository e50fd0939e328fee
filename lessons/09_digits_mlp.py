# %% [markdown]
# # Lesson 9 — Train a digit classifier with NNX and Optax
#
# JAX's "Getting started with JAX for AI" (seed 000) trains a small network on
# scikit-learn's 8x8 digits with Flax NNX and Optax; its cells run here with
# only the imports changed, print the losses and the accuracy JAX prints, and
# draw the loss curve and the seed's grid of predicted digits. Then we time the
# same training step with and without `jit`, and open the box: how `nnx.jit`
# turns a step that *mutates* a model and an optimizer into a pure function.
#
# The imports that change:
#
#     import jax             ->  import tinygrad_tracer as jax
#     from flax import nnx   ->  from tinygrad_tracer import nnx
#     import optax           ->  from tinygrad_tracer import optax
#
# Run: `python lessons/09_digits_mlp.py` (about fifteen seconds; `--epochs 50`
# for a quick look).

# %%
import argparse
import time

import matplotlib.pyplot as plt

import viz
from _show import show

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument('--epochs', type=int, default=300)
args, _ = parser.parse_known_args()

# %% [markdown]
# ## Loading the data (the seed's cells)

# %%
from sklearn.datasets import load_digits
digits = load_digits()

print(f"{digits.data.shape=}")
print(f"{digits.target.shape=}")

# %%
from sklearn.model_selection import train_test_split
splits = train_test_split(digits.images, digits.target, random_state=0)

# %%
import tinygrad_tracer.numpy as jnp
images_train, images_test, label_train, label_test = map(jnp.asarray, splits)
print(f"{images_train.shape=} {label_train.shape=}")
print(f"{images_test.shape=}  {label_test.shape=}")

# %% [markdown]
# ## Defining the Flax model (the seed's cell)
#
# An `nnx.Module` is an ordinary Python object. `nnx.Linear` draws its kernel
# from `rngs.params()` with Flax's LeCun-normal initializer, so the numbers are
# the very bits Flax would hold for `nnx.Rngs(0)`.

# %%
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

# %% [markdown]
# ## Training the model (the seed's cells)

# %%
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

# %% [markdown]
# The seed's loop, with two additions: a progress line redrawn in place
# (`\r`), and the test loss of every tenth epoch kept for a plot. The loss
# is computed under `nnx.jit` too, so watching costs little.

# %%
def progress(i, total, width=30):
  """Redraw one line: a bar of `width` characters and the epoch count."""
  done = width * i // total
  print(f"\r[{'#' * done}{'.' * (width - done)}] epoch {i}/{total}", end='', flush=True)

test_loss = nnx.jit(loss_fun)
curve = []            # (epoch, test loss)

t0 = time.perf_counter()
for i in range(args.epochs + 1):  # 300 training epochs
  train_step(model, optimizer, images_train, label_train)
  if i % 10 == 0:
    curve.append((i, float(test_loss(model, images_test, label_test)[0])))
    progress(i, args.epochs)
  if i % 50 == 0:  # Print metrics.
    loss, _ = loss_fun(model, images_test, label_test)
    print(f"\r{' ' * 60}\r", end='')   # wipe the progress line first
    print(f"epoch {i}: loss={loss:.2f}")
print(f"\rtrained {args.epochs} epochs in {time.perf_counter() - t0:.1f} s{' ' * 30}")

# %%
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(*zip(*curve), marker='.')
ax.set(xlabel='epoch', ylabel='test loss', yscale='log', title='softmax cross-entropy on the test set')
show(fig, '09_loss')

# %%
label_pred = model(images_test).argmax(axis=1)
num_matches = jnp.count_nonzero(label_pred == label_test)
num_total = len(label_test)
accuracy = num_matches / num_total
print(f"{num_matches} labels match out of {num_total}:"
      f" accuracy = {num_matches/num_total:%}")

# %% [markdown]
# The seed's picture: test digits with the predicted label, green when right
# and red when wrong.

# %%
fig, axes = plt.subplots(10, 10, figsize=(6, 6),
                         subplot_kw={'xticks':[], 'yticks':[]},
                         gridspec_kw=dict(hspace=0.1, wspace=0.1))

for i, ax in enumerate(axes.flat):
    ax.imshow(images_test[i], cmap='binary', interpolation='gaussian')
    color = 'green' if label_pred[i] == label_test[i] else 'red'
    ax.text(0.05, 0.05, str(label_pred[i]), transform=ax.transAxes, color=color)

show(fig, '09_predictions')

# %% [markdown]
# ## What `jit` buys here
#
# `train_step.__wrapped__` is the seed's step without `nnx.jit`: every
# primitive then runs on its own, through the trace stack, with NumPy (lesson
# 1's "eager" mode). A fresh model and optimizer keep the trained ones intact.
# The jitted step runs one compiled program per call.

# %%
def time_steps(step, n):
  """Median seconds per call of step(...) over n calls on a fresh model."""
  fresh = SimpleNN(rngs=nnx.Rngs(0))
  opt = nnx.Optimizer(fresh, optax.sgd(learning_rate=0.05))
  step(fresh, opt, images_train, label_train)     # warm up (jit: trace and compile)
  times = []
  for _ in range(n):
    t = time.perf_counter()
    step(fresh, opt, images_train, label_train)
    times.append(time.perf_counter() - t)
  return sorted(times)[n // 2]

eager_s = time_steps(train_step.__wrapped__, 5)
jit_s = time_steps(train_step, 21)
print(f"one training step: eager {eager_s * 1e3:.1f} ms, jit {jit_s * 1e3:.1f} ms: "
      f"{eager_s / jit_s:.0f}x faster with jit")

# %% [markdown]
# ## How `nnx.jit` makes a stateful step pure
#
# `train_step` returns nothing: it changes `model` and `optimizer` in place.
# `jit` can only trace pure functions of arrays. NNX bridges the two by
# walking the object graph (`tinygrad_tracer/nnx/graph.py`):
#
# 1. `nnx.split(obj)` gives a **graphdef** (types, settings, who shares whom:
#    static, a jit cache key) and a **state** (a nested dict of Variables:
#    the arrays, the only thing jit traces);
# 2. inside the traced function `nnx.merge(graphdef, state)` builds fresh
#    objects holding tracers, the step mutates *those*, and their new state is
#    returned as an extra output;
# 3. `nnx.update(obj, new_state)` writes it back into the caller's objects.
#
# The optimizer holds the model (`optimizer.model is model`), and both are
# split *together*, so the model's Params appear once in the state: the update
# the optimizer makes is the update the model sees.

# %%
graphdef, state = nnx.split(model)
print(graphdef)
print(jax.tree.map(lambda a: a.shape, nnx.state(model, nnx.Param)))

both = nnx.state([model, optimizer])
print("split together: the model's Params under [0]:", sorted(both[0]),
      "| the optimizer's own state under [1]:", sorted(both[1]), "(its .model is a reference)")

# %% [markdown]
# The pure function `nnx.jit` traces is, in effect:

# %%
def pure_step(state, data, labels):
    model, optimizer = nnx.merge(graphdef_both, state)     # fresh objects
    train_step.__wrapped__(model, optimizer, data, labels)  # the seed's step, unchanged
    return nnx.split([model, optimizer])[1]                 # its new state: an output

graphdef_both, state_both = nnx.split([model, optimizer])
jaxpr = jax.make_jaxpr(pure_step)(state_both, images_train, label_train)
print(f"the jitted step is one jaxpr of {len(jaxpr.jaxpr.eqns)} equations: "
      f"{len(jaxpr.jaxpr.invars)} inputs (6 Params, the optimizer's step count, images, labels), "
      f"{len(jaxpr.jaxpr.outvars)} outputs (the new state)")

# %% [markdown]
# Its graph: the forward pass, the backward pass (cotangents) and the SGD
# update of each Param, from the 9 inputs to the 7 new state arrays.

# %%
show(viz.graph(pure_step, state_both, images_train, label_train, kernels=False), '09_train_step')

# %% [markdown]
# ## Next
#
# Exercise: `lessons/exercises/ex15_adam.py` — Adam as an Optax gradient
# transformation: `init` and `update`, its state a pytree beside the
# parameters, bias-corrected, matched step by step against `optax.adam`.
#
# Read next: `docs/READING.md`, part 4 (steps 14–16: how `value_and_grad`
# becomes linearize + transpose), and `tinygrad_tracer/nnx/graph.py` for split
# and merge.
