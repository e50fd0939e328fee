"""What the differentiation transforms share: symbolic zeros and tangent types.

`jvp.py` pushes tangents forward, `partial_eval.py` records them, `transpose.py`
pulls cotangents back, and the jit, control-flow and custom-derivative rules
do all three. They agree on these few pieces:

- `tangent_aval(aval)`: the type of a tangent of a value of type `aval`. A
  float's tangent is a float of the same shape; an integer or bool value
  cannot be perturbed, so its tangent has NumPy dtype `float0` (as in JAX).
- `Zero(aval)`: a tangent (or cotangent) known to be zero. It costs nothing:
  no array is built, and a primitive whose input tangents are all `Zero` is
  not differentiated at all. `instantiate_zeros` makes a real array of zeros
  where a rule needs one; `add_tangents` adds, skipping `Zero`s.
- `full_like(x, value)`: a constant with x's shape, dtype and weak type.
  For a whole array (a case of `select`); a rule that multiplies by 2 needs no
  array: lax spreads a rank-0 operand, `lax.mul(t, 2.0)` (jvp.py's `_const`).
- `instantiate_flags(instantiate, n)`: the `instantiate` argument of
  `jvp_jaxpr`, `partial_eval_jaxpr`, `trace_partial` and `batch_jaxpr` (force
  an output to have a tangent / be unknown / be batched) is a bool for every
  output or a list with one bool per output; this turns it into the list.
"""
import numpy as np

from . import dtypes, lax
from .array import Array
from .core import ShapedArray, get_aval


def tangent_aval(aval):
    """The abstract value of a tangent of `aval`: the same for floats, float0 otherwise."""
    if dtypes.is_float(aval.dtype):
        return ShapedArray(aval.shape, aval.dtype, aval.weak_type)
    return ShapedArray(aval.shape, dtypes.float0)


class Zero:
    """A tangent (or cotangent) known to be zero, of abstract value `aval`."""
    __slots__ = ('aval',)

    def __init__(self, aval):
        self.aval = aval

    @staticmethod
    def like(x):
        """The zero tangent of the value `x`."""
        return Zero(tangent_aval(get_aval(x)))

    def __repr__(self):
        return f"Zero({self.aval.str_short()})"


def zeros_like_aval(aval):
    """A real array of zeros (float0 tangents become NumPy float0 arrays, as in JAX)."""
    if aval.dtype == dtypes.float0:   # traced, a broadcast of a float0 literal (as JAX prints)
        return lax.broadcast_in_dim(np.zeros((), dtypes.float0), aval.shape, ())
    return full_like(aval, 0)


def instantiate_zeros(t):
    """Turn a symbolic `Zero` into an array of zeros; leave real tangents alone."""
    return zeros_like_aval(t.aval) if isinstance(t, Zero) else t


def add_tangents(a, b):
    """a + b, where either may be a `Zero`."""
    if isinstance(a, Zero):
        return b
    if isinstance(b, Zero):
        return a
    return lax.add_any(a, b)   # JAX's jaxprs show the sums autodiff makes as add_any


def full_like(like, value):
    """An array of `value` with the shape, dtype and weak type of `like` (a value or
    an aval): the constants of rules, since lax operands must match exactly."""
    aval = like if isinstance(like, ShapedArray) else get_aval(like)
    return lax.broadcast_in_dim(Array(np.full((), value, aval.dtype), aval.weak_type), aval.shape, ())


def instantiate_flags(instantiate, n_out):
    """One bool per output from `instantiate`: a bool for all `n_out` outputs, or
    already a list (or tuple) with one per output."""
    if isinstance(instantiate, bool):
        return [instantiate] * n_out
    flags = list(instantiate)
    if len(flags) != n_out:
        raise ValueError(f"instantiate has {len(flags)} entries for {n_out} outputs")
    return flags
