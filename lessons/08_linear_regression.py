# %% [markdown]
# # Lesson 8 — Linear regression: a first training loop with grad and jit
#
# Two of the seed tutorials end their tour with a linear regression: "JAX As
# Accelerated NumPy" (seed 001) fits a line `w * x + b` with a hand-written
# gradient-descent `update`, and "JAX for the Impatient" (seed 003) fits
# `W x + b` in ten dimensions with `vmap` inside the loss, then again with
# the parameters in a pytree and with `value_and_grad`. Their cells run here
# with the imports changed and print the numbers JAX prints. Along the way we
# time the update with and without `jit`, draw the graph `grad` builds, and
# plot the fit and the loss.
#
# Run: `python lessons/08_linear_regression.py` (a few seconds).

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

import tinygrad_tracer as jax
import tinygrad_tracer.numpy as jnp
from tinygrad_tracer import random, tree_util
import viz
from _show import show

# %% [markdown]
# ## Seed 001: fitting a line
#
# The seed draws its data from NumPy's global generator without a seed; we
# fix one first so every run (and JAX, given the same data) prints the same
# numbers.

# %%
np.random.seed(0)

# %% [markdown]
# The seed's cells, unchanged: the data `y = 3x - 1 + noise`, the model, the
# squared-error loss and one gradient-descent step.

# %%
xs = np.random.normal(size=(100,))
noise = np.random.normal(scale=0.1, size=(100,))
ys = xs * 3 - 1 + noise

# %%
def model(theta, x):
  """Computes wx + b on a batch of input x."""
  w, b = theta
  return w * x + b

# %%
def loss_fn(theta, x, y):
  prediction = model(theta, x)
  return jnp.mean((prediction-y)**2)

# %%
def update(theta, x, y, lr=0.1):
  return theta - lr * jax.grad(loss_fn)(theta, x, y)

# %% [markdown]
# `jax.grad(loss_fn)` differentiates with respect to the first argument,
# `theta`. Its graph shows the forward equations and, below them, the
# cotangent equations that run backwards (lesson 4).

# %%
theta = jnp.array([1., 1.])
print(jax.make_jaxpr(jax.grad(loss_fn))(theta, xs, ys))
show(viz.graph(jax.grad(loss_fn), theta, xs, ys), '08_grad_loss')

# %% [markdown]
# The seed's training loop (1000 steps), with the loss kept for a plot. The
# seed suggests adding `@jax.jit` to `update`; we run the loop both ways and
# time it.

# %%
def train(step, steps=1000):
  """The seed's loop: `steps` updates from theta = [1, 1]; returns theta and the losses."""
  theta = jnp.array([1., 1.])
  losses = []
  for _ in range(steps):
    theta = step(theta, xs, ys)
    losses.append(loss_fn(theta, xs, ys))
  return theta, losses


update_jit = jax.jit(update)
update_jit(theta, xs, ys)                      # trace and compile once, outside the timing
t = time.perf_counter()
theta_eager, _ = train(update, steps=100)
eager_s = (time.perf_counter() - t) / 100
t = time.perf_counter()
theta, losses = train(update_jit)
jit_s = (time.perf_counter() - t) / 1000
print(f"one step (update + loss): eager {eager_s * 1e3:.2f} ms, jit {jit_s * 1e3:.2f} ms")

w, b = theta
print(f"w: {w:<.2f}, b: {b:<.2f}")

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.2))
ax1.scatter(xs, ys, s=8, label='data')
ax1.plot(np.sort(xs), model(theta, np.sort(xs)), color='C1', label=f'fit: {w:.2f} x {b:+.2f}')
ax1.set(xlabel='x', ylabel='y', title='seed 001: the fitted line')
ax1.legend()
ax2.plot(losses)
ax2.set(xlabel='step', ylabel='mean squared error', yscale='log', title='loss')
show(fig, '08_fit')

# %% [markdown]
# ## Seed 003: `W x + b` in ten dimensions, with `vmap` in the loss
#
# The seed's cells, with the imports changed (`from jax import numpy as jnp,
# random` becomes `import tinygrad_tracer.numpy as jnp` and `from
# tinygrad_tracer import random`). The seed's page lost a few characters in
# `predict`: it reads `return jnp.dot(x, W) + b`. `squared_error` is written for one
# pair `(x, y)`; `jax.vmap` maps it over the batch.

# %%
# Linear feed-forward.
def predict(W, b, x):
  return jnp.dot(x, W) + b

# Loss function: Mean squared error.
def mse(W, b, x_batched, y_batched):
  # Define the squared loss for a single pair (x,y)
  def squared_error(x, y):
    y_pred = predict(W, b, x)
    return jnp.inner(y-y_pred, y-y_pred) / 2.0
  # We vectorize the previous to compute the average of the loss on all samples.
  return jnp.mean(jax.vmap(squared_error)(x_batched, y_batched), axis=0)

# %%
# Set problem dimensions.
n_samples = 20
x_dim = 10
y_dim = 5

# Generate random ground truth W and b.
key = random.PRNGKey(0)
k1, k2 = random.split(key)
W = random.normal(k1, (x_dim, y_dim))
b = random.normal(k2, (y_dim,))

# Generate samples with additional noise.
key_sample, key_noise = random.split(k1)
x_samples = random.normal(key_sample, (n_samples, x_dim))
y_samples = predict(W, b, x_samples) + 0.1 * random.normal(key_noise,(n_samples, y_dim))
print('x shape:', x_samples.shape, '; y shape:', y_samples.shape)

# %% [markdown]
# The `vmap` inside `mse` shows in the graph of its gradient: the batched
# equations carry their batch axis (`bdim`) on the edges.

# %%
show(viz.graph(jax.vmap(lambda x, y: predict(W, b, x) - y), x_samples, y_samples), '08_vmap_residual')

# %%
# Initialize estimated W and b with zeros.
W_hat = jnp.zeros_like(W)
b_hat = jnp.zeros_like(b)

# Ensure we jit the largest-possible jittable block.
def update_params(W, b, x, y, lr):
  W, b = W - lr * jax.grad(mse, 0)(W, b, x, y), b - lr * jax.grad(mse, 1)(W, b, x, y)
  return W, b

learning_rate = 0.3  # Gradient step size.
print('Loss for "true" W,b: ', mse(W, b, x_samples, y_samples))
for i in range(101):
  # Perform one gradient update.
  W_hat, b_hat = update_params(W_hat, b_hat, x_samples, y_samples, learning_rate)
  if (i % 5 == 0):
    print(f"Loss step {i}: ", mse(W_hat, b_hat, x_samples, y_samples))

# %% [markdown]
# ## The same, with the parameters in a pytree
#
# `tree_map` applies a function to every leaf (lesson 3); `grad` of a function
# of a dict returns a dict of the same shape.

# %%
t = [1, {"k1": 2, "k2": (3, 4)}, 5]
print(tree_util.tree_map(lambda x: x*x, t))
t2 = tree_util.tree_map(lambda x: x*x, t)
print(tree_util.tree_map(lambda x,y: x+y, t, t2))

# %%
# Linear feed-forward that takes a params pytree.
def predict_pytree(params, x):
  return jnp.dot(x, params['W']) + params['b']

# Loss function: Mean squared error.
def mse_pytree(params, x_batched,y_batched):
  # Define the squared loss for a single pair (x,y)
  def squared_error(x,y):
    y_pred = predict_pytree(params, x)
    return jnp.inner(y-y_pred, y-y_pred) / 2.0
  # We vectorize the previous to compute the average of the loss on all samples.
  return jnp.mean(jax.vmap(squared_error)(x_batched, y_batched), axis=0)

# Initialize estimated W and b with zeros. Store in a pytree.
params = {'W': jnp.zeros_like(W), 'b': jnp.zeros_like(b)}

# %%
grads = jax.grad(mse_pytree)(params, x_samples, y_samples)
print(jax.tree.map(lambda g: g.shape, grads))
print("grad b:", grads['b'])

# %% [markdown]
# The seed's pytree loop calls `mse_pytree` and `update_params_pytree` with
# arguments missing (a slip in the seed that fails in JAX too); we pass them.
# `jax.tree_map` is `jax.tree.map` in today's JAX. Following the seed's own
# advice ("Always remember to jit!"), the update is jitted.

# %%
# Always remember to jit!
@jax.jit
def update_params_pytree(params, learning_rate, x_samples, y_samples):
  params = jax.tree.map(
        lambda p, g: p - learning_rate * g, params,
        jax.grad(mse_pytree)(params, x_samples, y_samples))
  return params

learning_rate = 0.3  # Gradient step size.
print('Loss for "true" W,b: ', mse_pytree({'W': W, 'b': b}, x_samples, y_samples))
pytree_losses = []
for i in range(101):
  # Perform one gradient update.
  params = update_params_pytree(params, learning_rate, x_samples, y_samples)
  pytree_losses.append(mse_pytree(params, x_samples, y_samples))
  if (i % 5 == 0):
    print(f"Loss step {i}: ", mse_pytree(params, x_samples, y_samples))

# %% [markdown]
# `value_and_grad` returns the loss with the gradient, so the loop needs no
# second call (the loss printed is the one *before* each update).

# %%
# Using jax.value_and_grad instead:
params = {'W': jnp.zeros_like(W), 'b': jnp.zeros_like(b)}
loss_grad_fn = jax.value_and_grad(mse_pytree)
for i in range(101):
  # Note that here the loss is computed before the param update.
    loss_val, grads = loss_grad_fn(params, x_samples, y_samples)
    params = jax.tree.map(
        lambda p, g: p - learning_rate * g, params, grads)
    if (i % 25 == 0):
        print(f"value_and_grad loss step {i}: ", loss_val)

# %%
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(pytree_losses)
ax.axhline(float(mse(W, b, x_samples, y_samples)), color='gray', ls='--', label='true W, b')
ax.set(xlabel='step', ylabel='mse', yscale='log', title='seed 003: W x + b, 10 → 5 dimensions')
ax.legend()
show(fig, '08_loss_pytree')

# %% [markdown]
# ## Next
#
# Exercise: `lessons/exercises/ex14_train_step.py` — the pytree version
# above as one jitted training step: `value_and_grad`, a `tree_map` update,
# traced once, fitting the least-squares solution. Then
# `ex08_per_example_grads.py`: one gradient per example with `vmap` of `grad`.
#
# Read next: `docs/READING.md`, part 5 (steps 17–20: `vmap`, the batch axis
# `bdim` and its rules).
