"""Helpers shared by the control-flow functions and their rules: tracing bodies, type checks."""
import numpy as np

from .. import lax, tree_util
from ..array import Array, device_put
from ..core import Tracer, get_aval, raise_to_shaped
from ..jaxpr import trace_to_jaxpr, fun_name, hoist_consts


def avals_of(flat):
    return [raise_to_shaped(get_aval(x)) for x in flat]


def trace_body(fun, in_tree, in_avals, what):
    """Trace `fun` (taking pytree args of structure in_tree) to a jaxpr without
    constants: what it closes over is returned as operands to pass first.
    Returns (ClosedJaxpr, consts, out_tree)."""
    flat_fun, out_tree = tree_util.flatten_fun(fun, in_tree)
    closed = trace_to_jaxpr(flat_fun, in_avals, fun_name(fun), trace_name=what)
    closed, consts = hoist_consts(closed, keep=lambda c: False)
    return closed, consts, out_tree()


def type_mismatches(names, want, got):
    return [f"  * {n}: expected {w.str_short()}, got {g.str_short()}"
            for n, w, g in zip(names, want, got) if w.strip_weak_type() != g.strip_weak_type()]


def leaf_names(prefix, treedef):
    if treedef.node_data() is None:
        return [prefix]
    return [f"{prefix} leaf {i}" for i in range(treedef.num_leaves)]


def _check_carry(what, in_tree, out_tree, in_avals, out_avals):
    if in_tree != out_tree:
        raise TypeError(f"{what} must return a value with the same structure as its input "
                        f"carry: the carry is {in_tree!r} but the body returned {out_tree!r}.")
    bad = type_mismatches(leaf_names('carry', in_tree), in_avals, out_avals)
    if bad:
        raise TypeError(f"{what} must return a carry with the same shapes and dtypes as its "
                        f"input carry (the loop carry cannot change type), but they differ:\n"
                        + "\n".join(bad) + "\nCast or reshape inside the body, or change the "
                        "initial value.")


def _strengthen(init_flat, in_avals, out_avals):
    """A weakly typed initial value (a Python scalar) whose body result is strongly typed
    takes the strong type, as in JAX; True if something changed."""
    changed = False
    for i, (a, b) in enumerate(zip(in_avals, out_avals)):
        if a.weak_type and not b.weak_type and a.strip_weak_type() == b.strip_weak_type():
            x = init_flat[i]
            init_flat[i] = (lax.convert_element_type(x, a.dtype, weak_type=False)
                            if isinstance(x, Tracer) else scalar(lax.to_numpy(x), a.dtype))
            in_avals[i] = a.strip_weak_type()
            changed = True
    return changed


def trace_loop_body(fun, what, in_tree, init_flat, carry_tree, extra_avals, carry_out_tree):
    """Trace a loop body whose carry must keep its type (`carry_out_tree(out_tree)` picks
    the carry out of the body's result). Retraces once if a weakly typed initial value
    must become strongly typed; `init_flat` is updated in place then."""
    carry_avals = avals_of(init_flat)
    for _ in range(2):
        closed, consts, out_tree = trace_body(fun, in_tree, carry_avals + extra_avals, what)
        out_avals = closed.out_avals[:len(carry_avals)]
        if carry_out_tree(out_tree) != carry_tree or not _strengthen(init_flat, carry_avals, out_avals):
            break
    _check_carry(what, carry_tree, carry_out_tree(out_tree), carry_avals, out_avals)
    return closed, consts, out_tree


def as_arrays(flat):
    """Operands as Arrays (Python scalars weakly typed, float64 as float32): a loop that
    runs zero times or a branch that returns its input hands them back, and must give
    Arrays, never the caller's NumPy array or Python float."""
    return device_put(list(flat))


def scalar(value, dtype, weak_type=False):
    """A concrete constant, strongly typed unless asked (it prints as a literal in jaxprs)."""
    return Array(np.asarray(value, dtype), weak_type)


def fixpoint(step, flags):
    """Grow a list of booleans (which loop-carried values are batched / have tangents /
    are unknown) until the loop body maps it to itself: `step(flags)` says which body
    outputs get the property when the inputs marked in `flags` have it."""
    for _ in range(len(flags) + 1):
        new = [a or b for a, b in zip(flags, step(flags))]
        if new == flags:
            break
        flags = new
    return flags


def split(seq, *sizes):
    """Cut seq into consecutive pieces of the given sizes, plus the rest."""
    out, i = [], 0
    for n in sizes:
        out.append(list(seq[i:i + n]))
        i += n
    return out + [list(seq[i:])]


def trace_flat(fun, avals, name):
    """Trace a flat function (list in, list out) to a ClosedJaxpr."""
    return trace_to_jaxpr(fun, avals, name, trace_name=name)
