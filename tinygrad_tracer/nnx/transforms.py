"""`nnx.jit`, `nnx.grad`, `nnx.value_and_grad`, `nnx.vmap`: the JAX transforms,
for functions that take (and mutate) modules.

Each one follows the same three steps (graph.py explains split and merge):

1. outside the transform, `split` the module arguments into a graphdef
   (static) and a State (arrays);
2. inside, a pure function `merge`s fresh modules from the State, calls the
   user's function on them, and returns the mutated modules' State as an
   extra output;
3. outside again, `update` writes that State into the caller's modules.

Modules passed together are split together, so an optimizer that holds the
model and the model itself stay one object graph: `optimizer.update(grads)`
inside a jitted step updates the very Params the caller's model holds.
"""
import functools

from .. import api, batching
from ..jit import jit as jax_jit
from .graph import Object, Param, merge, split, update

__all__ = ['jit', 'grad', 'value_and_grad', 'vmap']


def _is_node(x):
    return isinstance(x, Object)


def jit(fun=None, *, static_argnums=(), static_argnames=(), **jit_kwargs):
    """`jax.jit` for functions of modules: the modules' state goes in as
    arrays, the graphdefs as static arguments (a changed graphdef, e.g. after
    `model.eval()`, traces again), and the mutated state comes back out.

        >>> @nnx.jit
        ... def train_step(model, optimizer, x, y):
        ...     ...; optimizer.update(grads)     # persists after the call
    """
    if fun is None:
        return functools.partial(jit, static_argnums=static_argnums,
                                 static_argnames=static_argnames, **jit_kwargs)
    static_argnums = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)

    def pure(graphdef, positions, state, kwargs, *args):
        nodes = merge(graphdef, state)
        args = list(args)
        for i, node in zip(positions, nodes):
            args[i] = node
        out = fun(*args, **kwargs)
        return out, split(nodes)[1]

    jitted = jax_jit(pure, static_argnums=(0, 1) + tuple(4 + i for i in static_argnums),
                         static_argnames=static_argnames, **jit_kwargs)

    @functools.wraps(fun)
    def wrapper(*args, **kwargs):
        positions = tuple(i for i, a in enumerate(args) if _is_node(a))
        nodes = [args[i] for i in positions]
        graphdef, state = split(nodes)
        rest = [None if i in positions else a for i, a in enumerate(args)]
        out, new_state = jitted(graphdef, positions, state, kwargs, *rest)
        update(nodes, new_state)
        return out
    return wrapper


def value_and_grad(fun, argnums=0, has_aux=False):
    """`jax.value_and_grad`, where a module argument is differentiated with
    respect to its `Param`s: the gradient is a State of Params shaped like
    `nnx.state(model, nnx.Param)`. Other state the function changes (batch
    statistics, rng counters) is written back to the module."""
    several = not isinstance(argnums, int)
    nums = tuple(argnums) if several else (argnums,)

    @functools.wraps(fun)
    def wrapper(*args, **kwargs):
        plan, diff_inputs = [], []
        for i in nums:
            if _is_node(args[i]):
                graphdef, params, rest = split(args[i], Param, ...)
                plan.append((i, graphdef, rest))
                diff_inputs.append(params)
            else:
                plan.append((i, None, None))
                diff_inputs.append(args[i])

        def pure(diff_inputs):
            call_args, copies = list(args), []
            for (i, graphdef, rest), d in zip(plan, diff_inputs):
                if graphdef is None:
                    call_args[i] = d
                else:
                    call_args[i] = merge(graphdef, d, rest)
                    copies.append(call_args[i])
            out = fun(*call_args, **kwargs)
            value, aux = out if has_aux else (out, None)
            return value, (aux, [split(c, Param, ...)[2] for c in copies])

        (value, (aux, rests)), grads = api.value_and_grad(pure, has_aux=True)(diff_inputs)
        for (i, graphdef, _), rest in zip([p for p in plan if p[1] is not None], rests):
            update(args[i], rest)
        grads = tuple(grads) if several else grads[0]
        return ((value, aux), grads) if has_aux else (value, grads)
    return wrapper


def grad(fun, argnums=0, has_aux=False):
    """`jax.grad` for functions of modules (see value_and_grad): the gradient,
    or `(gradient, aux)` with `has_aux`."""
    vg = value_and_grad(fun, argnums, has_aux)

    def wrapper(*args, **kwargs):
        if has_aux:
            (_, aux), g = vg(*args, **kwargs)
            return g, aux
        return vg(*args, **kwargs)[1]
    return functools.wraps(fun)(wrapper)


def vmap(fun, in_axes=0, out_axes=0, axis_size=None):
    """`jax.vmap` for functions of modules, simple cases: a module argument
    with axis None is shared by every batch element (its state must come out
    unbatched); with an int axis, every array in its state is mapped along it."""
    def wrapper(*args):
        axes = in_axes if isinstance(in_axes, (tuple, list)) else (in_axes,) * len(args)
        positions = tuple(i for i, a in enumerate(args) if _is_node(a))
        defs = {i: split(args[i]) for i in positions}
        call = [defs[i][1] if i in defs else a for i, a in enumerate(args)]

        def pure(*call):
            call = list(call)
            copies = {i: merge(defs[i][0], call[i]) for i in positions}
            out = fun(*[copies.get(i, a) for i, a in enumerate(call)])
            return out, [split(copies[i])[1] for i in positions]

        state_axes = [axes[i] for i in positions]
        out, states = batching.vmap(pure, in_axes=tuple(axes), out_axes=(out_axes, state_axes),
                                    axis_size=axis_size)(*call)
        for i, s in zip(positions, states):
            update(args[i], s)
        return out
    return functools.wraps(fun)(wrapper)
