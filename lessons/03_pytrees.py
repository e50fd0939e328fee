# %% [markdown]
# # Lesson 3 — Pytrees: nested containers of arrays
#
# Real models have many parameters, kept in dicts, lists and tuples. JAX calls
# any such nest a *pytree*; `grad`, `vmap` and `jit` take and return pytrees
# and see the arrays at their leaves. This lesson covers "`jax.grad` and
# PyTrees" (seed 002) and "Refining a bit with pytrees" / "Pytrees basics"
# (seed 003); lesson 8 trains a linear regression with a pytree of parameters.
#
# Run: `python -m lessons 3` (`--step` for one cell at a time).

# %%
import dataclasses

import tinygrad_tracer as jax
import tinygrad_tracer.numpy as jnp
from tinygrad_tracer import tree_util
import viz
from _show import show

# %% [markdown]
# ## 1. Leaves and structure
# Lists, tuples, dicts (and `None`, which has no leaves) are containers;
# everything else is a leaf, even a string. Flattening splits a tree into its
# leaves and a *treedef* (the shape of the nest); unflattening puts new leaves
# back in the same shape.

# %%
examples = {'[1, "a", object()]': [1, "a", object()],
            '(1, (2, 3), ())': (1, (2, 3), ()),
            '[1, {"k1": 2, "k2": (3, 4)}, 5]': [1, {"k1": 2, "k2": (3, 4)}, 5]}
for text, t in examples.items():
    print(f"{text}: {len(tree_util.tree_leaves(t))} leaves")

t = [1, {"k1": 2, "k2": (3, 4)}, 5]
leaves, treedef = tree_util.tree_flatten(t)
print(leaves)
print(treedef)
print(tree_util.tree_unflatten(treedef, [10 * v for v in leaves]))

# %% [markdown]
# Dict keys are flattened in sorted order, so two dicts with the same keys
# give the same treedef, whatever order they were written in.

# %%
print(tree_util.tree_leaves({"b": 1, "a": 2}), tree_util.tree_structure({"b": 1, "a": 2}) ==
      tree_util.tree_structure({"a": 0, "b": 0}))

# %% [markdown]
# ## 2. `tree_map`
# `tree_map(f, tree)` applies `f` to every leaf and keeps the structure. With
# more trees of the same structure, `f` gets one leaf of each.

# %%
print(tree_util.tree_map(lambda x: x*x, t))
t2 = tree_util.tree_map(lambda x: x*x, t)
print(tree_util.tree_map(lambda x, y: x+y, t, t2))
print(jax.tree.map(lambda x: x + 1, {"w": 1, "b": (2, 3)}))   # the same, as jax.tree.map

# %% [markdown]
# Trees that do not match are an error that says where they differ:

# %%
try:
    tree_util.tree_map(lambda x, y: x + y, {"W": 1, "b": 2}, {"W": 1, "bias": 2})
except ValueError as e:
    print("ValueError:", e)

# %% [markdown]
# ## 3. `grad` of a pytree of parameters (seed 002)
# The gradient has the structure of the argument: a dict in, a dict out.

# %%
x = jnp.ones(5)
y_true = jnp.zeros(3)
key = jax.random.key(123)
key, w_key, b_key = jax.random.split(key, 3)
w = jax.random.normal(w_key, (5, 3))
b = jax.random.normal(b_key, (3, ))


def predict(x, w, b):
    return jnp.matmul(x, w) + b


net_params = {
    "weights": w,
    "bias": b,
}


def compute_loss2(net_params, x, y_true):
    y_pred = predict(x, net_params["weights"], net_params["bias"])
    return jnp.mean((y_true - y_pred) ** 2)


loss, grads = jax.value_and_grad(compute_loss2, argnums=0)({"weights": w, "bias": b}, x, y_true)
print(loss)
print(jax.tree.map(jnp.shape, grads))
print(grads["bias"])

# %% [markdown]
# In the graph, the dict is flattened: `grad` works on its two leaves, and
# gives back one gradient per leaf, which are put back into a dict.

# %%
show(viz.graph(jax.grad(compute_loss2), net_params, x, y_true), '03_grad_of_a_dict')

# %% [markdown]
# One step of gradient descent is one `tree_map` over the parameters and
# their gradients, however many there are:

# %%
learning_rate = 0.1
new_params = jax.tree.map(lambda p, g: p - learning_rate * g, net_params, grads)
print("loss before:", compute_loss2(net_params, x, y_true), " after one step:",
      compute_loss2(new_params, x, y_true))

# %% [markdown]
# ## 4. Your own classes as pytrees
# A class is a leaf unless you register it. `register_dataclass` says which
# fields hold arrays (children) and which are fixed settings (metadata, part of
# the treedef). Exercise 6 writes the flatten/unflatten pair by hand.

# %%
@dataclasses.dataclass
class Linear:
    w: jax.Array
    b: jax.Array
    name: str


tree_util.register_dataclass(Linear, data_fields=['w', 'b'], meta_fields=['name'])
layer = Linear(w, b, "dense")
print(tree_util.tree_structure(layer))
g = jax.grad(lambda layer, x: jnp.sum(x @ layer.w + layer.b))(layer, x)
print(type(g).__name__, g.name, g.w.shape, g.b)

# %% [markdown]
# ## Next
# - Exercise: `lessons/exercises/ex06_pytree_node.py` — flatten and unflatten
#   for a class so that `grad` and `jit` see inside it.
# - Read: docs/READING.md, "2. Forward mode: `jvp`" (step 11 shows where the
#   public functions flatten their pytrees), and `tinygrad_tracer/tree_util.py`.
# - Lesson 4 (`python -m lessons 4`): `jvp` and `vjp`, the two halves of autodiff.
