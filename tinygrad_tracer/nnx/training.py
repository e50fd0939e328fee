"""`nnx.Optimizer`: an optax transformation and its state, attached to a model.

The optimizer state is a pytree of arrays from `tx.init(params)`; each array
is kept in an `OptState` Variable, so the optimizer is an object graph like
the model and goes through `nnx.jit` the same way. `update(grads)` runs the
optax step and writes the new parameters into the model's Params in place.
"""
from .. import numpy as jnp
from .. import optax, tree_util
from .graph import Object, Param, Variable, state, update, variables_to_arrays

__all__ = ['Optimizer', 'ModelAndOptimizer', 'OptState']


class OptState(Variable):
    """One array of an optimizer's state (a moment, a step count)."""


def _is_variable(x):
    return isinstance(x, Variable)


class Optimizer(Object):
    """`Optimizer(model, tx, wrt=nnx.Param)`; then `optimizer.update(grads)` (as
    the seeds call it) or `optimizer.update(model, grads)` (current Flax).

    The model is kept as `optimizer.model`, so passing both to an `nnx.jit`
    step splits them as one graph, and the update is seen by the model.
    """

    def __init__(self, model, tx, wrt=Param):
        self.model = model
        self.tx = tx
        self.wrt = wrt
        self.step = OptState(jnp.zeros((), jnp.uint32))
        params = variables_to_arrays(state(model, wrt))
        self.opt_state = tree_util.tree_map(OptState, tx.init(params))

    def update(self, *args, **kwargs):
        """One optax step: `update(grads)` or `update(model, grads)`."""
        model, grads = (self.model, *args) if len(args) == 1 else args
        params = variables_to_arrays(state(model, self.wrt))
        opt_state = variables_to_arrays(self.opt_state)
        updates, new_opt_state = self.tx.update(variables_to_arrays(grads), opt_state, params, **kwargs)
        update(model, optax.apply_updates(params, updates))
        for variable, value in zip(tree_util.tree_leaves(self.opt_state, is_leaf=_is_variable),
                                   tree_util.tree_leaves(new_opt_state)):
            variable.value = value
        self.step.value = self.step.value + 1


ModelAndOptimizer = Optimizer
