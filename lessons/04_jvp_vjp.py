# %% [markdown]
# # Lesson 4 — `jvp` and `vjp`: the two halves of autodiff
#
# `grad` only handles functions with one number out. For a function
# $f:\mathbb{R}^n\to\mathbb{R}^m$ JAX offers the two products with its
# Jacobian $J_f(x)$ that everything else is built from: the
# Jacobian-vector product (`jvp`, forward mode) and the vector-Jacobian
# product (`vjp`, reverse mode). This lesson covers "Jacobian-Vector product"
# and "Vector-Jacobian product" (seed 003), then `linearize`, Jacobians and
# Hessians, and where each mode pays off.
#
# Run: `python -m lessons 4` (`--step` for one cell at a time).

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

import tinygrad_tracer as jax
import tinygrad_tracer.numpy as jnp
from tinygrad_tracer import random
import viz
from _show import show

# %% [markdown]
# ## 1. Forward mode: `jvp`
# `jax.jvp(f, (x,), (v,))` returns $f(x)$ and $df(x)\cdot v$, the
# directional derivative of `f` at `x` along `v`, in one pass that carries
# a tangent `x_dot` next to every value. For $f(x) = \frac{1}{2}(x_1^2,
# \ldots, x_n^2)$ and $v = (1, \ldots, 1)$ the tangent out is $x$ itself.

# %%
key = random.PRNGKey(0)


def f(x):
    return jnp.multiply(x, x) / 2.0


x = random.normal(key, (5,))
v = jnp.ones(5)
print("x =", x)
print("jax.jvp(f, (x,),(v,))")
print(jax.jvp(f, (x,), (v,)))

# %% [markdown]
# The tangents flow *with* the values, from input to output: each primitive
# has a rule that maps its input tangents to its output tangent (for `mul`,
# `x_dot * y + x * y_dot`). In the picture the tangent computation is drawn
# in its own colour next to the primal one.

# %%
show(viz.graph(lambda x, v: jax.jvp(f, (x,), (v,)), x, v), '04_jvp')

# %% [markdown]
# ## 2. Reverse mode: `vjp`
# `jax.vjp(f, x)` returns $f(x)$ and a function $u \mapsto u^T J_f(x)$. It
# runs `f` forward once, keeping what it needs, and the returned function
# runs the cotangent `ct` backwards. With $u = (1, \ldots, 1)$ we get $x$
# again (the Jacobian here is diagonal).

# %%
(val, jvp_fun) = jax.vjp(f, x)   # the seed's name; it is the VJP function
print("x = ", x)
print("v^T Jf(x) = ", jvp_fun(jnp.ones((5,)))[0])

# %% [markdown]
# `grad(g)(x)` is exactly `vjp(g, x)` applied to the cotangent 1.0:

# %%
def g(x):
    return jnp.sum(jnp.sin(x) * x)


_, g_vjp = jax.vjp(g, x)
print(g_vjp(1.0)[0])
print(jax.grad(g)(x))
show(viz.graph(lambda x, u: jax.vjp(f, x)[1](u), x, v), '04_vjp')

# %% [markdown]
# ## 3. A tangent is a slope
# For a scalar function the JVP with $v = 1$ is the derivative, the slope of
# the tangent line. The plot draws `sin` and its tangent lines at a few
# points, each slope computed by `jvp`.

# %%
xs = np.linspace(-3, 3, 200)
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(xs, np.sin(xs), label="sin")
for x0 in (-2.0, 0.0, 1.0, 2.5):
    y0, slope = jax.jvp(jnp.sin, (x0,), (1.0,))
    ax.plot(xs, y0 + slope * (xs - x0), '--', lw=1)
    ax.plot([x0], [y0], 'o', color='k')
ax.set_ylim(-1.6, 1.6)
ax.set_title("tangent lines of sin, slopes from jax.jvp")
show(fig, '04_tangent_lines')

# %% [markdown]
# ## 4. `linearize`: the linear map, kept
# `jax.linearize(f, x)` evaluates `f` once and returns the linear map
# $v \mapsto df(x)\cdot v$ as a function you can call many times. Inside, this
# map is a jaxpr; *transposing* that jaxpr gives the VJP. This is how `grad`
# works here and in JAX (lesson 11 opens it up).

# %%
y, f_lin = jax.linearize(f, x)
print(f_lin(v))
print(f_lin(2.0 * v))                     # linear: twice the input, twice the output
print(jax.make_jaxpr(f_lin)(v))

# %% [markdown]
# ## 5. Jacobians: one column per `jvp`, one row per `vjp`
# The full Jacobian of $f:\mathbb{R}^n\to\mathbb{R}^m$ takes $n$ JVPs (one per
# input direction: `jacfwd`) or $m$ VJPs (one per output: `jacrev`). Both
# batch their products with `vmap` (lesson 5).

# %%
def h(x):
    return jnp.array([x[0] * x[1], jnp.sin(x[2]), x[0] + x[1] + x[2]])


p = jnp.array([1.0, 2.0, 3.0])
print(jax.jacfwd(h)(p))
print(bool(jnp.allclose(jax.jacfwd(h)(p), jax.jacrev(h)(p))))
print("Hessian of sum(x**3):\n", jax.hessian(lambda x: jnp.sum(x ** 3))(p))

# %% [markdown]
# Which to use? A loss has many inputs (parameters) and one output: one VJP
# gives the whole gradient, where forward mode would need one JVP per
# parameter. Timing both on a function with 1000 inputs and one output:

# %%
def loss(w):
    return jnp.sum(jnp.tanh(w) ** 2)


w = jnp.linspace(-1.0, 1.0, 1000)
for name, jac in (("jacrev (1 vjp)", jax.jacrev(loss)), ("jacfwd (1000 jvps)", jax.jacfwd(loss))):
    t0 = time.perf_counter()
    result = jac(w)
    print(f"{name:20s} {(time.perf_counter() - t0) * 1e3:7.1f} ms, shape {result.shape}")

# %% [markdown]
# ## 6. The rule tables
# Each primitive's forward-mode rule lives in one table, `jvp_rules`, keyed by
# the primitive; reverse mode needs one more table, `transpose_rules`, but only
# for the primitives that are linear. `sin` has a JVP rule and no transpose
# rule: its JVP, `cos(x) * x_dot`, is linear in `x_dot` through `mul`.

# %%
from tinygrad_tracer import lax
from tinygrad_tracer.jvp import jvp_rules
from tinygrad_tracer.transpose import transpose_rules

print("jvp rule of sin:", lax.sin_p in jvp_rules,
      "  transpose rule of sin:", lax.sin_p in transpose_rules,
      "  transpose rule of mul:", lax.mul_p in transpose_rules)

# %% [markdown]
# ## Next
# - Exercises: `lessons/exercises/ex02_quotient_jvp.py` (the JVP rule of
#   `x / y`) and `lessons/exercises/ex03_rowscale_transpose.py` (a transpose
#   rule), after exercise 1 (lesson 1's, the JVP rule of softplus).
# - Read: docs/READING.md, "2. Forward mode: `jvp`", then "4. Reverse mode:
#   `linearize`, transpose, `grad`".
# - Lesson 5 (`python -m lessons 5`): `vmap`.
