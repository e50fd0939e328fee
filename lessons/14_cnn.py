# %% [markdown]
# # Lesson 14 — Convolutions, batch norm and a CNN, with NNX
#
# Seed 002 ("JAX for PyTorch users") builds a ResNet18 from `nnx.Conv`,
# `nnx.BatchNorm`, `nnx.Sequential`, `nnx.max_pool` and `nnx.avg_pool`. This
# lesson looks at the two new primitives underneath (`conv_general_dilated`
# and `reduce_window`) and their gradients, draws the graph of one of the
# seed's residual blocks, and trains a small CNN on the 8x8 digits of lesson 9,
# with `model.train()` / `model.eval()` switching BatchNorm between batch and
# running statistics.
#
# Run: `python lessons/14_cnn.py` (about ten seconds; `--epochs N` trains
# longer or shorter, `--graph PATH` also writes the block's graph there,
# `--resnet` builds the seed's full ResNet18, which takes half a minute to
# initialise).

# %%
import argparse
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import matplotlib.pyplot as plt

import tinygrad_tracer as jax
import tinygrad_tracer.numpy as jnp
from tinygrad_tracer import lax, nnx, optax
import viz
from _show import show

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument('--epochs', type=int, default=6)
parser.add_argument('--resnet', action='store_true')
parser.add_argument('--graph', default='', help='write the graph of one block here (.svg, .png, .dot)')
args, _ = parser.parse_known_args()

# %% [markdown]
# ## A convolution is one primitive
#
# `nnx.Conv` calls `lax.conv_general_dilated` with Flax's layout: images
# NHWC, kernels HWIO. Its NumPy implementation cuts the image into patches
# (im2col) and multiplies them with the kernel as one matrix. `grad` needs
# two more convolutions (its transpose rules): the image's cotangent is the
# output cotangent convolved with the flipped kernel, the kernel's is the
# image convolved with the output cotangent.

# %%
x = jnp.arange(16.0).reshape(1, 4, 4, 1)
edge = jnp.array([[1.0, -1.0]]).reshape(1, 2, 1, 1)       # a horizontal difference
print(lax.conv_general_dilated(x, edge, (1, 1), 'VALID', dimension_numbers=('NHWC', 'HWIO', 'NHWC'))[0, ..., 0])
def conv_loss(k):
    return lax.conv_general_dilated(x, k, (1, 1), 'VALID',
                                    dimension_numbers=('NHWC', 'HWIO', 'NHWC')).sum()


print(jax.make_jaxpr(jax.grad(conv_loss))(edge))
show(viz.graph(jax.grad(conv_loss), edge), '14_conv_grad')

# %% [markdown]
# Pooling is `reduce_window`: a reduction over every window. The JVP of max
# pooling passes on the tangent of each window's winner.

# %%
print(nnx.max_pool(x, (2, 2), strides=(2, 2))[0, ..., 0])
print(jax.grad(lambda x: nnx.max_pool(x, (2, 2), strides=(2, 2)).sum())(x)[0, ..., 0])

# %% [markdown]
# ## One residual block of the seed's ResNet18
#
# The seed's `BasicBlock`, shown with `nnx.display`, and the graph of its
# forward pass as a pure function of its state (`nnx.split`, lesson 9).

# %%
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


block = BasicBlock(8, 16, do_downsample=True, rngs=nnx.Rngs(0))
nnx.display(block)

graphdef, state = nnx.split(block)


def block_forward(state, x):
    return nnx.merge(graphdef, state)(x)


images = jnp.ones((2, 8, 8, 8))
jaxpr = jax.make_jaxpr(block_forward)(state, images)
convs = [e for e in jaxpr.jaxpr.eqns if e.primitive.name == 'conv_general_dilated']
print(f"one block: {len(jaxpr.jaxpr.eqns)} equations, {len(convs)} convolutions")
show(viz.graph(block_forward, state, images, rankdir='LR'), '14_block')
if args.graph:
    viz.render(block_forward, state, images, path=args.graph)
    print(f"graph written to {args.graph}")

# %% [markdown]
# The seed's full ResNet18 (11 million parameters) with `--resnet`:

# %%
if args.resnet:
  class ResNet18(nnx.Module):
    def __init__(self, num_classes: int, *, rngs: nnx.Rngs):
      self.num_classes = num_classes
      self.conv1_bn1 = nnx.Sequential(
        nnx.Conv(3, 64, kernel_size=(3, 3), strides=(1, 1), padding="SAME",
                 use_bias=False, rngs=rngs),
        nnx.BatchNorm(64, momentum=0.9, epsilon=1e-5, rngs=rngs),
      )
      self.layer1 = nnx.Sequential(BasicBlock(64, 64, rngs=rngs), BasicBlock(64, 64, rngs=rngs))
      self.layer2 = nnx.Sequential(BasicBlock(64, 128, do_downsample=True, rngs=rngs),
                                   BasicBlock(128, 128, rngs=rngs))
      self.layer3 = nnx.Sequential(BasicBlock(128, 256, do_downsample=True, rngs=rngs),
                                   BasicBlock(256, 256, rngs=rngs))
      self.layer4 = nnx.Sequential(BasicBlock(256, 512, do_downsample=True, rngs=rngs),
                                   BasicBlock(512, 512, rngs=rngs))
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

  resnet = ResNet18(10, rngs=nnx.Rngs(0))
  print(repr(resnet).splitlines()[0])
  print(resnet(jnp.ones((4, 32, 32, 3))).shape)

# %% [markdown]
# ## A small CNN on the digits
#
# Two Conv-BatchNorm-ReLU-max_pool stages and a Linear layer. The training
# step is the seed's pattern: `nnx.value_and_grad`, `metrics.update`,
# `optimizer.update`, all inside one `nnx.jit`. In training mode BatchNorm
# normalises with each batch's statistics and updates its running averages
# (state written back by `nnx.jit`); `model.eval()` switches it to those
# averages, which is a new graphdef, so `jit` traces once more.
#
# The step runs under the interpreter backend: compiling its hundred-odd
# Numba kernels would take longer than this whole training.

# %%
digits = load_digits()
x_train, x_test, y_train, y_test = train_test_split(
    digits.images[..., None] / 16.0, digits.target, random_state=0)
x_train, x_test = jnp.asarray(x_train, jnp.float32), jnp.asarray(x_test, jnp.float32)
y_train, y_test = jnp.asarray(y_train), jnp.asarray(y_test)


class CNN(nnx.Module):
    def __init__(self, *, rngs: nnx.Rngs):
        self.conv1 = nnx.Conv(1, 16, kernel_size=(3, 3), rngs=rngs)
        self.bn1 = nnx.BatchNorm(16, rngs=rngs)
        self.conv2 = nnx.Conv(16, 32, kernel_size=(3, 3), rngs=rngs)
        self.bn2 = nnx.BatchNorm(32, rngs=rngs)
        self.fc = nnx.Linear(2 * 2 * 32, 10, rngs=rngs)

    def __call__(self, x):
        x = nnx.max_pool(nnx.relu(self.bn1(self.conv1(x))), (2, 2), strides=(2, 2))   # 4x4x16
        x = nnx.max_pool(nnx.relu(self.bn2(self.conv2(x))), (2, 2), strides=(2, 2))   # 2x2x32
        return self.fc(x.reshape(x.shape[0], -1))


model = CNN(rngs=nnx.Rngs(0))
optimizer = nnx.Optimizer(model, optax.sgd(0.1, momentum=0.9))
metrics = nnx.MultiMetric(accuracy=nnx.metrics.Accuracy(), loss=nnx.metrics.Average('loss'))


def loss_fn(model, x, y):
    logits = model(x)
    return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean(), logits


@nnx.jit(backend='interpret')
def train_step(model, optimizer, metrics, x, y):
    (loss, logits), grads = nnx.value_and_grad(loss_fn, has_aux=True)(model, x, y)
    metrics.update(loss=loss, logits=logits, labels=y)
    optimizer.update(grads)


@nnx.jit(backend='interpret')
def accuracy(model, x, y):
    return (model(x).argmax(-1) == y).mean()


# %%
t0 = time.perf_counter()
history = []          # (train accuracy, test accuracy) per epoch
order = np.random.RandomState(0)
for epoch in range(args.epochs):
    model.train()
    metrics.reset()
    perm = order.permutation(len(y_train))
    for i in range(0, len(perm) - 63, 64):
        batch = perm[i:i + 64]
        train_step(model, optimizer, metrics, x_train[batch], y_train[batch])
    train = metrics.compute()
    model.eval()
    history.append((float(train['accuracy']), float(accuracy(model, x_test, y_test))))
    print(f"epoch {epoch}: train loss={float(train['loss']):.3f} "
          f"train accuracy={history[-1][0]:.3f} test accuracy={history[-1][1]:.3f}")
print(f"trained {args.epochs} epochs in {time.perf_counter() - t0:.1f} s")
print(f"running mean of bn1 (first 3): {np.asarray(model.bn1.mean.value)[:3].round(3)}")

# %%
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(range(1, len(history) + 1), history, marker='o', label=['train', 'test'])
ax.set(xlabel='epoch', ylabel='accuracy', title='CNN on the 8x8 digits')
ax.legend()
show(fig, '14_accuracy')

# %% [markdown]
# ## Next
#
# Exercise: `lessons/exercises/ex17_conv_im2col.py` — a convolution as im2col
# and one matrix product, checked against `lax.conv_general_dilated`, its
# gradients included.
#
# Read next: `docs/READING.md`, part 4 (steps 14–16: partial evaluation and
# transposition), then `tinygrad_tracer/_lax_conv.py` for im2col.
