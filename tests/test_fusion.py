"""The Numba backend's partition and code generation (backends/fusion.py, loop_nests.py):
programs that once compiled to wrong code, each against the interpreter.

    reductions   a reduction over size-1 axes only is elementwise, even fused beside
                 a real reduction (it once got an accumulator and read an undefined name)
    scheduling   merging two kernels must not make them wait on each other through a
                 third (a cycle dropped steps: `NameError` in the driver)
    control flow a branch or a loop may hand back a broadcast view or its argument:
                 kernels reading it need C-contiguous arrays
    reads        a gather or dynamic_update_slice reads its operand whole, even one of
                 its result's shape: that operand is never fused in as a scalar
"""
from types import SimpleNamespace

import numpy as np
import pytest

import tinygrad_tracer as jax
import tinygrad_tracer.numpy as jnp
from tinygrad_tracer import lax
from tinygrad_tracer.backends import fusion
from tinygrad_tracer.core import ShapedArray
from tinygrad_tracer.jaxpr import Var


def assert_same_as_interpreter(f, *args, grad_argnums=None):
    """jit(f) on the Numba backend gives the interpreter's values, shapes and dtypes."""
    if grad_argnums is not None:
        f = jax.grad(lambda *a, fn=f: jnp.sum(fn(*a)), grad_argnums)
    want = jax.jit(f, backend='interpret')(*args)
    got = jax.jit(f, backend='numba')(*args)
    for g, w in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want)):
        assert (g.shape, g.dtype) == (w.shape, w.dtype)
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-6, atol=1e-6)


# --- reductions over size-1 axes ----------------------------------------------------------------

COLUMN = np.array([[0.5], [-1.25], [2.0], [0.75], [-0.5]], np.float32)   # shape (5, 1)

REDUCTIONS = {
    'max of a sum over the unit axis': lambda x: jnp.max(jnp.sum(x, axis=1)),
    'mean of a min, keepdims': lambda x: jnp.mean(jnp.min(x), keepdims=True),
    'normalized by a column sum': lambda x: (v := x - jax.nn.logsumexp(x, axis=1, keepdims=True))
    / (jnp.sum(v * v, axis=0, keepdims=True) + 1.0),
    'argmax over the unit axis, then a sum': lambda x: jnp.sum(jnp.argmax(x, axis=1) + x[:, 0]),
    'prod over all axes of a unit-axis max': lambda x: jnp.prod(jnp.max(x, axis=1, keepdims=True)),
    'reduction of a reduction of a broadcast':
        lambda x: jnp.sum(jnp.max(jnp.broadcast_to(x, (3, 5, 1)), axis=2), axis=1),
}


@pytest.mark.parametrize('name', REDUCTIONS)
def test_reductions_over_unit_axes_beside_real_ones(name):
    assert_same_as_interpreter(REDUCTIONS[name], COLUMN)


def test_reductions_of_0d_and_unit_inputs():
    scalar = np.float32(1.5)
    assert_same_as_interpreter(lambda s: jnp.sum(jnp.max(s) * jnp.ones(4)), scalar)
    assert_same_as_interpreter(lambda x: jnp.max(jnp.sum(x, axis=(0, 1))) + jnp.min(x), np.ones((1, 1, 3), np.float32))


# --- scheduling: fused groups never wait on each other ------------------------------------------

def _transposed_mean_program(x0, x1):
    v3 = x0.T - x0
    return jnp.arctan2(jnp.cumprod(x1), v3 - jnp.mean(v3, axis=1, keepdims=True))


X0 = np.array([[0.13439271, 1.7227018]], np.float32)
X1 = np.array([1.5016869, 1.2795191], np.float32)


@pytest.mark.parametrize('f', [
    _transposed_mean_program,
    lambda x0, x1: jnp.arctan2(jnp.cumprod(x1), (v := x0.T - x0) - jnp.mean(v, axis=1, keepdims=True)),
], ids=['def', 'lambda'])
def test_grad_of_a_jitted_function_schedules_every_step(f):
    """The transposed program had two kernels fused from unconnected pieces, each
    needing the other's result: only a group-level path check sees that."""
    want = jax.grad(lambda a, b: jnp.sum(jax.jit(f, backend='interpret')(a, b)), (0, 1))(X0, X1)
    got = jax.grad(lambda a, b: jnp.sum(jax.jit(f)(a, b)), (0, 1))(X0, X1)
    for g, w in zip(got, want):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-6)


def test_a_cycle_between_steps_is_an_error_not_a_missing_step():
    x, y = Var(ShapedArray((), np.float32)), Var(ShapedArray((), np.float32))
    steps = [SimpleNamespace(kind='fallback', index=0, inputs=[y], outputs=[x]),
             SimpleNamespace(kind='fallback', index=1, inputs=[x], outputs=[y])]
    with pytest.raises(RuntimeError, match="cycle"):
        fusion._schedule(None, steps)


# --- control-flow results feeding kernels ---------------------------------------------------------

def _cond_program(a, b):
    return lax.cond(jnp.max(b) > 0.5, lambda c: jnp.abs(c * a),
                    lambda c: jnp.maximum(c, 0.1) + jnp.sin(b), a)


A = np.linspace(-1, 1, 5, dtype=np.float32)


@pytest.mark.parametrize('b', [0.3, 0.7], ids=['false branch', 'true branch'])
def test_grad_through_cond_either_branch(b):
    b = np.array([b], np.float32)
    assert_same_as_interpreter(_cond_program, A, b, grad_argnums=(0, 1))
    want = jax.jit(jax.grad(lambda a, b: jnp.sum(_cond_program(a, b)), (0, 1)), backend='interpret')(A, b)
    got = jax.grad(lambda a, b: jnp.sum(jax.jit(_cond_program)(a, b)), (0, 1))(A, b)
    for g, w in zip(got, want):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-6)


def test_branch_returning_a_broadcast_feeds_a_kernel():
    f = lambda x: lax.cond(x[0] > 0, lambda x: jnp.broadcast_to(x[1], (3,)), lambda x: x * 2.0, x) + 1.0
    assert_same_as_interpreter(f, np.array([1.0, 2.0, 3.0], np.float32))


def test_loop_that_never_runs_returns_its_broadcast_argument():
    """A while loop whose body has a matrix product runs from Python; run zero
    times, it hands back its (broadcast, non-contiguous) initial value."""
    w = np.eye(3, dtype=np.float32)

    def f(x):
        c = jnp.broadcast_to(x[0], (3,))
        return lax.while_loop(lambda c: jnp.sum(c) > 100.0, lambda c: jnp.asarray(w) @ c, c) * 2.0
    assert_same_as_interpreter(f, np.arange(3, dtype=np.float32))


def test_a_function_named_like_a_jaxpr_variable():
    # The driver used to be defined under the function's own name in the globals
    # that also hold the jaxpr's consts: `a` hid the scatter's index const `a`.
    def a(x, i):
        return x.at[i].add(1.0)
    x, i = jnp.zeros((2, 3)), jnp.array([1])
    expected = np.array([[0, 0, 0], [1, 1, 1]], np.float32)
    np.testing.assert_array_equal(np.asarray(jax.jit(a, backend='numba')(x, i)), expected)
    np.testing.assert_array_equal(np.asarray(jax.jit(a, backend='interpret')(x, i)), expected)


def test_a_0d_input_in_a_parallel_kernel():
    # Numba's parallel loops turn a 0-d array into a scalar, so `W[()]` inside a
    # prange failed to compile (adamw's step on a conv kernel: 73,728 elements).
    x = np.linspace(-1, 1, 3 * 3 * 64 * 128, dtype=np.float32).reshape(3, 3, 64, 128)
    s = np.float32(0.5)
    f = lambda x, s: jnp.sqrt(x * x / s + 1.0) * s
    want = np.asarray(jax.jit(f, backend='interpret')(x, s))
    np.testing.assert_allclose(np.asarray(jax.jit(f, backend='numba')(x, s)), want, rtol=1e-6)
    total = jax.jit(lambda x, s: jnp.sum(x * s))(x, s)   # a 0-d output written from the loop
    np.testing.assert_allclose(float(total), float(np.sum(x * s, dtype=np.float64)), rtol=1e-5, atol=1e-3)


# --- reads at computed indices inside fused kernels -----------------------------------------------
# A gather (dynamic slice, concatenate, pad) is a member whose inputs come from other
# steps; its result fuses on, into elementwise work and reductions (row and column).

IDX = np.array([4, -1, 0, 2, 2, 7], np.int32)

READS = {
    'row sum of gathered rows': lambda x, i: jnp.sum(x[i] * 2.0, axis=1),
    'column sum of gathered rows': lambda x, i: jnp.sum(jnp.tanh(x[i]), axis=0),
    'index from a kernel, reused after the gather': lambda x, i: x[(i * 3) % 5] + ((i * 3) % 5)[:, None],
    'padded, then a column max': lambda x, i: jnp.max(jnp.pad(x, ((1, 0), (2, 1))) + 1.0, axis=0),
    'concatenate of a kernel result and an input': lambda x, i: jnp.concatenate([jnp.exp(x), x], 1).sum(1),
    'dynamic slice at a computed start': lambda x, i: lax.dynamic_slice(x, (i[0] - 2, i[1]), (2, 3)) * x[0, 0],
    # the operand has the result's shape: it still comes whole from an earlier kernel
    'gather of a kernel result of the same shape': lambda x, i: jnp.exp(x)[i[:5]] + 1.0,
    'update of a kernel result': lambda x, i: lax.dynamic_update_slice(jnp.exp(x), x[:2, :2], (i[0], i[1])) - x,
}


@pytest.mark.parametrize('name', READS)
def test_reads_fuse_with_what_reads_them(name):
    x = np.linspace(-1, 1, 15, dtype=np.float32).reshape(5, 3)
    assert_same_as_interpreter(READS[name], jnp.asarray(x), jnp.asarray(IDX))


def test_grad_of_a_gather_is_a_scatter_add_kernel():
    x = jnp.asarray(np.linspace(-1, 1, 15, dtype=np.float32).reshape(5, 3))
    f = lambda x: jnp.sum(jnp.sin(x[jnp.asarray(IDX)]) ** 2)   # noqa: E731
    assert_same_as_interpreter(f, x, grad_argnums=0)
    exe = jax.jit(jax.grad(f), backend='numba').lower(x).compile()
    assert not exe.fallbacks and any(k.kernel.loop for k in exe.kernels)
