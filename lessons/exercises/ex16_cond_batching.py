"""Exercise 16: the batching rule of lax.cond: keep one cond, or run every branch and select.

Read first: lessons/10_control_flow.py (section 2: vmap of a cond),
docs/READING.md step 26 (the control-flow primitives), then
tinygrad_tracer/batching.py (`batch_jaxpr`, `moveaxis`). Step 27 is the
library's own version of this rule: compare with it once yours passes.

`lax.cond(pred, true_fun, false_fun, x)` binds `cond_p` with the operands
`(index, *ops)` and the param `branches = (false_jaxpr, true_jaxpr)`,
ClosedJaxprs of which `branches[index]` runs (`lax.switch` binds the same
primitive, with more branches). Write its batching rule
`cond_batch(axis_size, vals, dims, branches) -> (outs, out_dims)`; this file
puts it in `batching_rules[cond_p]`, in place of the library's, while the
checks run. First move the batch axis of every batched operand to the front
(`batching.moveaxis`): `in_batched` then says which operands are batched.
Then two cases:
  * the index is not batched (`dims[0] is not_mapped`): the whole batch takes
    one branch. Keep ONE cond, of batched branches:
    `batch_jaxpr(branch, axis_size, in_batched, instantiate)` returns (the
    branch on a batch, which outputs are batched). The branches must agree:
    an output is batched if it is in any branch, so batch each branch once
    with `instantiate=False` to learn that, then again with `instantiate=`
    the agreed list. Bind `cond_p` with the same index and the new branches.
  * the index is batched (a predicate per example): examples may take
    different branches, and a cond runs only one. Run EVERY branch on the
    whole batch (`eval_closed_jaxpr` of the branch batched with
    `instantiate=True`, so every output has the batch axis in front), then
    pick per example with `lax.select_n(which, *cases)` (cases[which],
    elementwise), `which` being the index broadcast to the output's shape
    (`lax.broadcast_in_dim(index, shape, (0,))`).
Return the outputs and where their batch axes are (0, or not_mapped).

Check:  python lessons/exercises/ex16_cond_batching.py
   or:  TT_EXERCISES=lessons/exercises python -m pytest tests/test_exercises.py -m ex16
"""
from tinygrad_tracer import batching, lax  # noqa: F401  (you will need them)
from tinygrad_tracer.batching import batch_jaxpr, batching_rules, not_mapped  # noqa: F401
from tinygrad_tracer.core import get_aval  # noqa: F401
from tinygrad_tracer.jaxpr import eval_closed_jaxpr  # noqa: F401
from tinygrad_tracer.lax_control_flow import cond_p


def cond_batch(axis_size, vals, dims, branches):
    (index, *ops), (index_bdim, *op_bdims) = vals, dims
    # YOUR CODE HERE: return outs, out_dims
    raise NotImplementedError(
        "ex16 is not done yet: write cond_batch in lessons/exercises/ex16_cond_batching.py "
        "(read first: lessons/10_control_flow.py section 2, docs/READING.md step 26, "
        "tinygrad_tracer/batching.py batch_jaxpr)")


batching_rules[cond_p] = cond_batch

if __name__ == '__main__':
    import classroom
    classroom.check(__file__)
