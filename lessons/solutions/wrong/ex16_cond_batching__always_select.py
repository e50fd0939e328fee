"""WRONG (always_select): the tests of ex16 must fail on this.
Exercise 16 (solution): one predicate keeps a cond; one per example runs every branch and selects."""
from tinygrad_tracer import batching, lax
from tinygrad_tracer.batching import batch_jaxpr, batching_rules, not_mapped
from tinygrad_tracer.core import get_aval
from tinygrad_tracer.jaxpr import eval_closed_jaxpr
from tinygrad_tracer.lax_control_flow import cond_p


def cond_batch(axis_size, vals, dims, branches):
    (index, *ops), (index_bdim, *op_bdims) = vals, dims
    in_batched = [d is not not_mapped for d in op_bdims]
    ops = [x if d is not_mapped else batching.moveaxis(x, d, 0) for x, d in zip(ops, op_bdims)]
    index = batching.bdim_at_front(index, index_bdim, axis_size)   # one index per example
    results = [eval_closed_jaxpr(batch_jaxpr(b, axis_size, in_batched, True)[0], *ops)
               for b in branches]
    outs = []
    for cases in zip(*results):   # one output, as computed by every branch
        which = lax.broadcast_in_dim(index, get_aval(cases[0]).shape, (0,))
        outs.append(lax.select_n(which, *cases))
    return outs, [0] * len(outs)


batching_rules[cond_p] = cond_batch
