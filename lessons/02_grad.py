# %% [markdown]
# # Lesson 2 — `grad`: derivatives of Python functions
#
# `jax.grad(f)` is a new function that returns the gradient of `f`. This
# lesson uses it the way the seeds do: "JAX first transformation: `grad`",
# "Value and Grad" and "Auxiliary data" (seed 001), "Automatic
# differentiation (`jax.grad`)" (seed 000), "Automatic differentiation with
# JAX" (seed 002) and "Gradients and autodiff" (seed 003). How `grad` works
# inside is lessons 4 and 11.
#
# Run: `python -m lessons 2` (`--step` for one cell at a time).

# %%
import matplotlib.pyplot as plt

import tinygrad_tracer as jax
import tinygrad_tracer.numpy as jnp
import viz
from _show import show

# %% [markdown]
# ## 1. `grad` of a scalar function
# `grad` takes a function returning one number and gives back a function with
# the same arguments, returning the gradient with respect to the first. For
# $\sum x_i^2$ the gradient is $2x$.

# %%
def sum_of_squares(x):
    return jnp.sum(x**2)


sum_of_squares_dx = jax.grad(sum_of_squares)
x = jnp.asarray([1.0, 2.0, 3.0, 4.0])
print(sum_of_squares(x))
print(sum_of_squares_dx(x))

# %% [markdown]
# The picture is the program `grad` built: the forward computation (`x**2`
# and its sum) and the backward one, which starts from a cotangent of 1.0 at
# the output and ends at `x`.

# %%
show(viz.graph(sum_of_squares_dx, x), '02_grad_sum_of_squares')

# %% [markdown]
# Is it right? Compare with a finite difference, as seed 000 does for SELU.
# Automatic differentiation is exact up to rounding; the finite difference is
# off by about `eps` (and float32 rounding).

# %%
def selu(x, alpha=1.67, lam=1.05):
    return lam * jnp.where(x > 0, x, alpha * jnp.exp(x) - alpha)


x1 = jnp.float32(-1.0)
eps = 1e-3
print("grad:", jax.grad(selu)(x1), "  finite difference:", (selu(x1 + eps) - selu(x1)) / eps)

# %% [markdown]
# ## 2. Several arguments: `argnums`
# By default `grad` differentiates with respect to the first argument;
# `argnums` picks others (a tuple gives a tuple of gradients).

# %%
def sum_squared_error(x, y):
    return jnp.sum((x - y) ** 2)


sum_squared_error_dx = jax.grad(sum_squared_error)
y = jnp.asarray([1.1, 2.1, 3.1, 4.1])
print(sum_squared_error_dx(x, y))
print(jax.grad(sum_squared_error, argnums=(0, 1))(x, y))

# %% [markdown]
# ## 3. The value too: `value_and_grad`
# Training needs the loss *and* its gradient; computing them together costs
# one forward pass, not two.

# %%
print(jax.value_and_grad(sum_squared_error)(x, y))

# %% [markdown]
# ## 4. Something else out: `has_aux`
# A function that returns more than its loss cannot be differentiated as it
# is (what would the gradient of a pair be?). `has_aux=True` says: the first
# output is the loss, the second is along for the ride.

# %%
def squared_error_with_aux(x, y):
    return sum_squared_error(x, y), x - y


try:
    jax.grad(squared_error_with_aux)(x, y)
except TypeError as e:
    print("TypeError:", e)
print(jax.grad(squared_error_with_aux, has_aux=True)(x, y))

# %% [markdown]
# ## 5. A model's gradients (seed 002)
# The PyTorch-style example: a linear layer, a mean squared error, and the
# gradients with respect to the weights and the bias at once.

# %%
x = jnp.ones(5)
y_true = jnp.zeros(3)
seed = 123
key = jax.random.key(seed)
key, w_key, b_key = jax.random.split(key, 3)
w = jax.random.normal(w_key, (5, 3))
b = jax.random.normal(b_key, (3, ))


def predict(x, w, b):
    return jnp.matmul(x, w) + b


def compute_loss(w, b, x, y_true):
    y_pred = predict(x, w, b)
    return jnp.mean((y_true - y_pred) ** 2)


loss = compute_loss(w, b, x, y_true)
print(loss)
w_grad, b_grad = jax.grad(compute_loss, argnums=(0, 1))(w, b, x, y_true)
print(f'{w_grad=}')
print(f'{b_grad=}')
loss_value, (w_grad, b_grad) = jax.value_and_grad(compute_loss, argnums=(0, 1))(w, b, x, y_true)
print(f'{loss_value=}')

# %% [markdown]
# ## 6. A gradient you know (seed 003)
# For $f(x) = \frac{1}{2} x^T x$ the gradient is $x$ itself.

# %%
def f(x):
    return jnp.dot(x.T, x) / 2.0


v = jnp.ones((4,))
print(f(v))
v = jax.random.normal(jax.random.PRNGKey(0), (4,))
print("Original v:")
print(v)
print("Gradient of f taken at point v")
print(jax.grad(f)(v))   # should be equal to v !

# %% [markdown]
# Seed 003 prints other numbers for `v` (`[ 1.8160859 -0.7548852 ...]`): it
# was written for an older JAX whose random stream differed. The numbers here
# are the ones today's JAX prints (lesson 7 is about random numbers).

# %% [markdown]
# ## 7. Gradients of gradients
# `grad` returns an ordinary function, so it can be differentiated again.
# The plot shows `tanh` and its first three derivatives, each one `grad` of
# the one before, mapped over 200 points with `vmap` (lesson 5).

# %%
derivatives = [jnp.tanh]
for _ in range(3):
    derivatives.append(jax.grad(derivatives[-1]))
xs = jnp.linspace(-4.0, 4.0, 200)
fig, ax = plt.subplots(figsize=(6, 3.5))
for order, d in enumerate(derivatives):
    ax.plot(xs, jax.vmap(d)(xs), label=f"order {order}")
ax.legend()
ax.set_title("tanh and grad(tanh), grad(grad(tanh)), ...")
show(fig, '02_tanh_derivatives')
print("d^3/dx^3 tanh at 0 =", derivatives[3](0.0))

# %% [markdown]
# ## 8. What `grad` refuses
# Only a scalar output has a gradient: for a vector output you want a
# Jacobian (`jax.jacrev`, lesson 4) or a vector-Jacobian product (`jax.vjp`).
# Integer inputs have no gradient either. Both errors say what to do.

# %%
for bad in (lambda: jax.grad(lambda x: x * 2.0)(jnp.ones(3)),
            lambda: jax.grad(lambda x: x * 2)(3)):
    try:
        bad()
    except TypeError as e:
        print("TypeError:", str(e).splitlines()[0])

# %% [markdown]
# ## Next
# - Exercise: `lessons/exercises/ex07_custom_vjp.py` — a gradient rule of your
#   own that keeps `log(1 + exp(x))`'s gradient finite where the naive one is `nan`.
# - Read: docs/READING.md, "4. Reverse mode: `linearize`, transpose, `grad`".
# - Lesson 3 (`python -m lessons 3`): pytrees, so that `grad` can take a dict of parameters.
