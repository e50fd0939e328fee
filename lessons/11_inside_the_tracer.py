# %% [markdown]
# # Lesson 11 — Inside the tracer: the trace stack, rule tables, the explainer
#
# Lessons 1–10 used the transformations; this one opens them. Every `jnp` call
# binds a primitive; a transformation is a trace on a stack, its values are
# tracers, and its behaviour is one rule table (`jvp_rules[sin_p]`,
# `transpose_rules`, `batching_rules`). `viz.explain` records every `bind` and
# which trace (at which level) handled it, and we check what the log says about
# `grad`: it is `linearize` (a JVP trace on top of a partial-evaluation trace)
# followed by transposition. Open `tinygrad_tracer/core.py`, `jvp.py`,
# `partial_eval.py` and `transpose.py` beside it.

# %%
from _show import show, OUT
import tinygrad_tracer as jax
import tinygrad_tracer.numpy as jnp
from tinygrad_tracer import core, lax
from tinygrad_tracer.jvp import jvp_rules
from tinygrad_tracer.transpose import transpose_rules
from tinygrad_tracer.batching import batching_rules

# %% [markdown]
# ## 1. Every jnp call binds a primitive
# `jnp.sin` does NumPy-style work (turn ints to floats, broadcast) and then
# calls `lax.sin`, which calls `bind(sin_p, x)`. With no transformation
# running, `bind` reaches `EvalTrace`, the bottom of the trace stack, which
# runs the primitive's NumPy implementation.

# %%
print("trace stack now:", core.trace_state.trace_stack)
print("sin_p is", repr(lax.sin_p), "-", lax.sin_p.__doc__)
print(lax.sin_p.impl(1.0))

# %% [markdown]
# ## 2. A transformation is a trace, and its values are tracers
# Inside `jvp`, our function receives a `JVPTracer`: a primal value paired
# with a tangent. Printing it inside the function shows what it is.

# %%
def f(x):
    print("  inside f, x is", x, "at trace level", x._trace.main.level)
    return jnp.sin(x) * 2.0


y, y_dot = jax.jvp(f, (1.0,), (1.0,))
print("f(1) =", y, " f'(1) * 1 =", y_dot)

# %% [markdown]
# `JVPTrace.process_primitive` looks up `jvp_rules[prim]`. The rule for `sin`
# says: the tangent of sin(x) is cos(x) * x_dot. One table, one entry per
# primitive — open `jvp.py` to read them all.

# %%
print("primitives with a JVP rule:", len(jvp_rules))
print("... with a transpose rule:", len(transpose_rules))
print("... with a batching rule:", len(batching_rules))

# %% [markdown]
# ## 3. Watching bind travel down the stack
# `viz.explain` records every `bind`: which trace handled it (its level on the
# stack) and what its rule bound one level down. `jvp` alone pushed one trace,
# so `f` above saw its tracer at level 1. `grad` pushes two: `linearize` first
# starts a partial-evaluation trace (level 1, which computes what is known and
# records the tangent work), then the JVP trace on top of it (level 2). So under
# `grad` each primitive is first seen by the JVP trace at level 2; its rule
# binds the primal and the tangent work on level 1, and what is known falls
# through to `EvalTrace` at level 0. The cotangent lines at the end are the
# transposed program running (section 4).

# %%
import viz

ex = viz.explain(jax.grad(lambda x: jnp.sin(x) * 2.0), 1.0,   # prints the log
                 html=OUT / '11_explain.html')
levels = sorted(set(ex.levels()), reverse=True)
print("traces seen, top first:", levels)
print("under grad, the first bind is handled at level %d by %s" % ex.levels()[0])


def g(x):
    print("  inside grad's function, x is a", type(x).__name__, "at trace level", x._trace.main.level)
    return jnp.sin(x) * 2.0


jax.grad(g)(1.0)

# %% [markdown]
# The same log as a picture: one box per trace level, one node per `bind`,
# arrows from a rule to the binds it made. `lessons/out/11_explain.html`
# steps through it bind by bind in a browser.

# %%
show(ex.graph(), '11_explain')

# %% [markdown]
# ## 4. grad = linearize + transpose
# `linearize` runs the JVP with *unknown* tangents: partial evaluation
# computes everything that depends only on primals (the known part) and
# stages the tangent work into a linear jaxpr.

# %%
y, f_jvp = jax.linearize(lambda x: jnp.sin(x) * 2.0, 1.0)
print("f(1) =", y, "  f_jvp(1) =", f_jvp(1.0))

# %% [markdown]
# Transposing that linear program — running it backwards with cotangents —
# gives the vector-Jacobian product, which for a scalar function is the
# gradient. `make_jaxpr(grad(f))` shows both halves: the primal equations,
# then the cotangent ones.

# %%
print(jax.make_jaxpr(jax.grad(lambda x: jnp.sin(x) * 2.0))(1.0))
show(viz.graph(jax.grad(lambda x: jnp.sin(x) * 2.0), 1.0), '11_grad')

# %% [markdown]
# ## 5. Transformations compose
# Each transformation only sees primitives, and each rule binds primitives
# again, so they stack in any order.

# %%
d3 = jax.grad(jax.grad(jax.grad(jnp.sin)))
print("d^3/dx^3 sin at 0 =", d3(0.0), "(-cos 0 = -1)")
per_example = jax.vmap(jax.grad(lambda w, x: jnp.sum(jnp.tanh(w * x))), in_axes=(None, 0))
print("per-example gradients:", per_example(0.5, jnp.arange(3.0)))

# %% [markdown]
# ## 6. What jit cannot do: branch on a traced value
# Under `jit` values are abstract (shape and dtype only), so a Python `if`
# on them fails — with an error that says why and how to fix it (lesson 10
# shows the fixes: static arguments, `jnp.where`, `lax.cond`).

# %%
@jax.jit
def relu_branchy(x):
    if x > 0:
        return x
    return 0.0


try:
    relu_branchy(1.0)
except jax.errors.TracerBoolConversionError as e:
    print(type(e).__name__ + ":", str(e).splitlines()[0])

# %% [markdown]
# ## Next
#
# Exercise: `lessons/exercises/ex09_new_primitive.py` — add a primitive end to
# end: its impl, abstract evaluation, JVP rule, transpose rule and batching
# rule, one entry in each table you met above.
#
# Read next: `docs/READING.md`, parts 1–4 (steps 1–16: the trace stack, JVP
# rules, jaxprs, partial evaluation and transposition), about 1,500 lines in
# the order that builds each idea on the one before.
