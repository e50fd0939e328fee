"""Exercise 9: a new primitive end to end: cumsum over the last axis.

Read first: docs/READING.md steps 5-6 (how a primitive is made), then 9-10
(JVP rules), 15 (transpose rules) and 17-18 (batching rules).

`cumsum_p` computes y[..., j] = x[..., 0] + ... + x[..., j]. Give it
  * an impl: the NumPy computation, returning an `Array` of x's dtype;
  * an abstract eval: the output's `ShapedArray` (shape and dtype) from x's;
  * a JVP rule: cumsum is linear, so the tangent is cumsum of the tangent
    (`instantiate_zeros`, `core.tag('tangent')` as in ex01);
  * a transpose rule: which x[i] contributed to y[j]? Every j >= i, so the
    cotangent of x is a *reversed* cumsum of the cotangent (jnp.flip);
  * a batching rule: the batch axis may be anywhere, even the last axis
    (`vmap(f, in_axes=1)` of vectors): move it to the front first.
Then grad, vmap and jit of functions using `cumsum` all work.

Check:  python lessons/exercises/ex09_new_primitive.py
   or:  TT_EXERCISES=lessons/exercises python -m pytest tests/test_exercises.py -m ex09
"""
import numpy as np  # noqa: F401

import tinygrad_tracer.numpy as jnp  # noqa: F401
from tinygrad_tracer import batching, core  # noqa: F401
from tinygrad_tracer.ad_util import instantiate_zeros  # noqa: F401
from tinygrad_tracer.array import Array  # noqa: F401
from tinygrad_tracer.batching import batching_rules
from tinygrad_tracer.core import Primitive, ShapedArray, bind  # noqa: F401
from tinygrad_tracer.jvp import jvp_rules
from tinygrad_tracer.transpose import transpose_rules

cumsum_p = Primitive('cumsum_last')


def cumsum(x):
    return bind(cumsum_p, x)


def _todo(function):
    return NotImplementedError(
        f"ex09 is not done yet: write {function} in lessons/exercises/ex09_new_primitive.py "
        "(read first: docs/READING.md steps 5-6, then 9-10, 15, 17-18)")


def cumsum_impl(x):
    raise _todo('cumsum_impl')   # YOUR CODE HERE: an Array


def cumsum_abstract_eval(x):
    raise _todo('cumsum_abstract_eval')   # YOUR CODE HERE: a ShapedArray


def cumsum_jvp(primals, tangents):
    raise _todo('cumsum_jvp')   # YOUR CODE HERE: [primal_out], [tangent_out]


def cumsum_transpose(cts, x):
    raise _todo('cumsum_transpose')   # YOUR CODE HERE: [cotangent of x]


def cumsum_batch(axis_size, vals, dims):
    raise _todo('cumsum_batch')   # YOUR CODE HERE: [out], [out_bdim]


cumsum_p.def_impl(cumsum_impl)
cumsum_p.def_abstract_eval(cumsum_abstract_eval)
jvp_rules[cumsum_p] = cumsum_jvp
transpose_rules[cumsum_p] = cumsum_transpose
batching_rules[cumsum_p] = cumsum_batch

if __name__ == '__main__':
    import classroom
    classroom.check(__file__)
