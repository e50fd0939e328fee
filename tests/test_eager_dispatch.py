"""The eager fast path gives what the slow path gives.

`bind` goes straight to EvalTrace when no transformation owns an argument, and
abstract evaluations are remembered per (primitive, argument kinds, params). The
slow path is still there: a bind observer (what `viz.explain` sets) turns the fast
path off, and clearing the remembered avals makes every evaluation fresh. Each case
runs both ways and must agree on values, dtypes, weak types and errors.
"""
import numpy as np
import pytest

import tinygrad_tracer as tt
import tinygrad_tracer.numpy as jnp
from tinygrad_tracer import core, lax


class _Observer:
    """Watches every bind, so bind takes its general path."""
    def enter(self, prim, trace, tracers, params):
        pass

    def exit(self, outs):
        pass


def _slow(fn):
    core._OUT_AVALS.clear()
    state = core.trace_state
    state.bind_observer = _Observer()
    try:
        return fn()
    finally:
        state.bind_observer = None


def _outcome(fn):
    try:
        out = fn()
    except Exception as e:   # the error is part of the outcome
        return ('error', type(e), str(e))
    return [(np.asarray(o).tolist(), o.dtype, o.weak_type) for o in tt.tree_util.tree_leaves(out)]


x3, i3 = jnp.arange(3.0), jnp.arange(3)
CASES = {
    'x + x': lambda: x3 + x3,
    'x * 2.0 (weak scalar)': lambda: x3 * 2.0,
    'int + float scalar': lambda: i3 + 1.5,
    'weak + weak': lambda: jnp.asarray(1.0) + 2,
    'bool & bool': lambda: (x3 > 1) & (x3 < 2),
    'sin of int': lambda: jnp.sin(i3),
    'broadcast': lambda: x3[:, None] * x3,
    'int8 keeps its type': lambda: jnp.ones(2, jnp.int8) * 3,
    'bfloat16': lambda: jnp.ones(2, jnp.bfloat16) / 3.0,
    'reduce with params': lambda: jnp.sum(x3.reshape(3, 1), axis=0),
    'lax mixed dtypes': lambda: lax.add(x3, i3),
    'lax shapes': lambda: lax.mul(x3, jnp.ones(2)),
    'jnp shapes': lambda: x3 + jnp.ones(2),
    'float op on bool': lambda: lax.sin(x3 > 0),
    'argmax index dtype': lambda: lax.argmax(x3, 0, np.int32),
    'scan (a jaxpr param)': lambda: lax.scan(lambda c, v: (c + v, c * v), 0.0, x3),
}


@pytest.mark.parametrize('name', list(CASES))
def test_fast_and_slow_paths_agree(name):
    fast = _outcome(CASES[name])
    assert _outcome(lambda: _slow(CASES[name])) == fast
    assert _outcome(CASES[name]) == fast   # and again, from the remembered avals


def test_a_failed_evaluation_is_not_remembered():
    for _ in range(2):
        with pytest.raises(TypeError, match="requires arguments to have the same dtypes"):
            lax.add(x3, i3)


def test_a_leaked_tracer_still_raises_on_the_eager_path():
    leaked = []
    tt.grad(lambda v: leaked.append(v) or v * 2)(1.0)
    with pytest.raises(tt.errors.UnexpectedTracerError, match="escaped its transformation"):
        leaked[0] + 1.0


def test_weak_arrays_join_their_own_dtypes():
    # As JAX 0.10.2: when every operand is weak, the result joins their dtypes and stays weak.
    h = lax.convert_element_type(jnp.ones(2, jnp.float16), np.float16, weak_type=True)
    assert ((h + h).dtype, (h + h).weak_type) == (np.float16, True)
    assert ((h + 1.0).dtype, (h + 1.0).weak_type) == (np.float32, True)   # 1.0 is a weak float32
    assert ((h * 2).dtype, (jnp.asarray(2) * 1.5).dtype) == (np.float16, np.float32)
