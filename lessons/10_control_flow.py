# %% [markdown]
# # Lesson 10 — Control flow: Python's under jit, and lax's structured loops
#
# Under `grad` a Python `if` on a value just runs; under `jit` the same `if`
# fails, because `jit` traces with abstract values (a shape and a dtype, no
# number). This lesson shows which Python control flow `jit` accepts (on
# shapes, static arguments and Python values: it is unrolled into the jaxpr),
# the errors for the rest and their fixes, and then the structured primitives
# that put the control flow *inside* the program: `lax.cond`, `lax.switch`,
# `lax.fori_loop`, `lax.while_loop` and `lax.scan`, each with its jaxpr, its
# graph, and how `grad` and `vmap` go through it.
#
# Run: `python lessons/10_control_flow.py` (a few seconds).

# %%
import tinygrad_tracer as jax
import tinygrad_tracer.numpy as jnp
from tinygrad_tracer import lax
import viz
from _show import show

# %% [markdown]
# ## 1. Python control flow: fine under `grad`, not on traced values under `jit`
#
# `grad` traces with the actual numbers (a `ConcreteArray`), so the `if`
# picks a branch and the derivative is that branch's.

# %%
def f(x):
  if x < 3:
    return 3. * x ** 2
  else:
    return -4 * x

print("grad(f)(2.) =", jax.grad(f)(2.), "  grad(f)(4.) =", jax.grad(f)(4.))

# %% [markdown]
# Under `jit`, `x < 3` is an abstract boolean: there is no value to branch
# on when the function is traced. The error says so, names the argument the
# value came from, and what to do.

# %%
try:
  jax.jit(f)(2.)
except jax.errors.TracerBoolConversionError as e:
  print(type(e).__name__ + ":", e)

# %% [markdown]
# A loop bound that is a traced value fails the same way, as an integer
# conversion (the same fixes follow the first line):

# %%
def g(x, n):
  y = 0.
  for i in range(n):
    y = y + x[i]
  return y

try:
  jax.jit(g)(jnp.arange(5.), 3)
except jax.errors.TracerIntegerConversionError as e:
  print(type(e).__name__ + ":", str(e).splitlines()[0])

# %% [markdown]
# Fix 1: mark the argument static. `jit` then traces once per value of `n`,
# and the Python loop is *unrolled*: the jaxpr holds one `add` per iteration.

# %%
g_jit = jax.jit(g, static_argnums=1)
print("g(arange(5), 3) =", g_jit(jnp.arange(5.), 3))
print(jax.make_jaxpr(g, static_argnums=1)(jnp.arange(5.), 3))

# %% [markdown]
# Fix 2: keep the branch in the program with `jnp.where` (both sides are
# computed, one is selected) or with `lax.cond` (below). Control flow on
# *shapes* is always fine: shapes are known while tracing.

# %%
f_where = jax.jit(lambda x: jnp.where(x < 3, 3. * x ** 2, -4 * x))
print("where version:", f_where(2.), f_where(4.))
print("on a shape:", jax.jit(lambda x: x.sum() if x.ndim == 1 else x.sum(axis=0))(jnp.ones((2, 3))))

# %% [markdown]
# ## 2. `lax.cond` and `lax.switch`: a branch inside the program
#
# `lax.cond(pred, true_fun, false_fun, *operands)` traces *both* branches into
# jaxprs and records one `cond` equation that picks one at run time. Both
# branches must return the same shapes and dtypes.

# %%
def f_cond(x):
  return lax.cond(x < 3, lambda x: 3. * x ** 2, lambda x: -4. * x, x)

f_cond_jit = jax.jit(f_cond)
print("cond:", f_cond_jit(2.), f_cond_jit(4.))
print(jax.make_jaxpr(f_cond)(2.))
show(viz.graph(f_cond, 2.), '10_cond')

# %% [markdown]
# `grad` differentiates each branch (the `cond` in the gradient's jaxpr has
# JVP'd branches). Under `vmap` with a batched predicate, each example may take
# a different branch, so both run and `select_n` keeps the right one.

# %%
print("grad through cond:", jax.grad(f_cond)(2.), jax.grad(f_cond)(4.))
xs = jnp.array([1., 2., 3., 4.])
print("vmap of cond:", jax.vmap(f_cond)(xs))
print(jax.make_jaxpr(jax.vmap(f_cond))(xs))
show(viz.graph(jax.grad(f_cond), 2.), '10_cond_grad')

# %% [markdown]
# `lax.switch(index, branches, *operands)` is the n-way version; the index is
# clamped into range, as in JAX.

# %%
branches = [lambda x: x + 1., lambda x: x * 10., lambda x: -x]
print("switch:", [float(jax.jit(lambda i, x: lax.switch(i, branches, x))(i, 2.)) for i in (0, 1, 2, 7)])

# %% [markdown]
# ## 3. Loops: `fori_loop`, `while_loop`
#
# `lax.fori_loop(lower, upper, body_fun, init_val)` runs
# `val = body_fun(i, val)` for `i` in `range(lower, upper)`, as *one*
# equation whatever the trip count. With bounds known while tracing it is
# recorded as a `scan` (so `grad` can go through it backwards); with traced
# bounds as a `while`.

# %%
def sum_first(x, n):
  return lax.fori_loop(0, n, lambda i, acc: acc + x[i], 0.)

print("fori_loop, traced n:", jax.jit(sum_first)(jnp.arange(5.), 3))
print(jax.make_jaxpr(sum_first)(jnp.arange(5.), 3))
print("fori_loop, static n:")
print(jax.make_jaxpr(lambda x: sum_first(x, 3))(jnp.arange(5.)))

# %% [markdown]
# `lax.while_loop(cond_fun, body_fun, init_val)` repeats while `cond_fun` is
# true; the number of trips is only known when it runs. Here: Newton's method
# for a square root, stopping when the step is small.

# %%
def newton_sqrt(a):
  def body(state):
    x, _ = state
    x_new = 0.5 * (x + a / x)
    return x_new, jnp.abs(x_new - x)
  x, _ = lax.while_loop(lambda state: state[1] > 1e-6, body, (a, jnp.float32(1.)))
  return x

print("sqrt(2) by while_loop:", jax.jit(newton_sqrt)(2.))
print("vmap over several a:", jax.vmap(newton_sqrt)(jnp.array([1., 2., 9., 100.])))
show(viz.graph(newton_sqrt, 2.), '10_while')

# %% [markdown]
# A `while_loop` is forward-differentiable (`jvp` carries the tangent through
# every trip), but not in reverse: `grad` would have to remember every trip, and
# how many there are is not known in advance. The error says what to use
# instead.

# %%
y, y_dot = jax.jvp(newton_sqrt, (2.,), (1.,))
print("jvp through while_loop: sqrt(2) =", y, " d/da sqrt(a) at 2 =", y_dot, "(1 / (2 sqrt 2))")
try:
  jax.grad(newton_sqrt)(2.)
except Exception as e:
  print(type(e).__name__ + ":", str(e).splitlines()[0])

# %% [markdown]
# ## 4. `lax.scan`: a loop that carries state and stacks outputs
#
# `lax.scan(f, init, xs)` runs `carry, y = f(carry, x)` for each row `x` of
# `xs` and returns the final carry and the stacked `y`s. It is the loop `grad`
# can reverse: the forward pass stacks what the backward pass needs, and the
# backward pass is another scan, run in reverse.

# %%
def cumsum_scan(xs):
  def step(carry, x):
    carry = carry + x
    return carry, carry
  return lax.scan(step, 0., xs)

total, running = cumsum_scan(jnp.arange(1., 6.))
print("scan: total", total, " running sums", running)
print(jax.make_jaxpr(cumsum_scan)(jnp.arange(1., 6.)))

# %% [markdown]
# A small recurrence: `h = tanh(w * h + x)` over a sequence, and its gradient
# with respect to `w` (the same as differentiating the unrolled Python loop).

# %%
def rnn_loss(w, xs):
  h_final, _ = lax.scan(lambda h, x: (jnp.tanh(w * h + x), None), 0., xs)
  return h_final

def rnn_loss_unrolled(w, xs):
  h = 0.
  for x in xs:
    h = jnp.tanh(w * h + x)
  return h

seq = jnp.array([0.5, -1., 0.25, 2.])
print(f"grad via scan:     {jax.grad(rnn_loss)(0.8, seq):.6f}")
print(f"grad via unrolled: {jax.grad(rnn_loss_unrolled)(0.8, seq):.6f}")
show(viz.graph(jax.grad(rnn_loss), 0.8, seq), '10_scan_grad')

# %% [markdown]
# ## Next
#
# Exercise: `lessons/exercises/ex16_cond_batching.py` — the batching rule of
# `cond`, as `vmap` used it above: one predicate for the batch keeps a `cond`
# of batched branches; one per example runs every branch and selects.
#
# Read next: `docs/READING.md`, part 7 (steps 26–27: the control-flow
# primitives and `lax.cond`'s rules).
