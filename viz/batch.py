"""Which axis of a value is the batch axis, for graphs of vmap(f).

A jaxpr does not say where vmap put the batch axis: the equations only see
whole-batch arrays. vmap's own tracers do know (`BatchTracer.val`, `.bdim`), so
while `fn` is traced to a jaxpr we watch every bind (the
`core.trace_state.bind_observer` hook) and note, for each value crossing the
vmap trace, its batch axis; the jaxpr builder then tells which variable that
value became. Values made inside a
batching rule (a transpose that moves the batch axis, say) never cross the vmap
trace, so their edges carry no `bdim=`.
"""
from tinygrad_tracer import jaxpr as jx

from .observe import observing


def batch_dims(fn, args, static_argnums=()):
    """(ClosedJaxpr of `fn` at `args`, {Var: batch axis} for every variable that
    vmap saw with a batch axis, the output pytree of ShapeDtypeStructs)."""
    watcher = _BdimWatcher()
    with observing(watcher):
        closed, out_shape = jx.make_jaxpr(fn, static_argnums, return_shape=True)(*args)
    return closed, watcher.bdims(), out_shape


def _is_batch_tracer(t):
    return hasattr(t, 'bdim') and hasattr(t, 'val')


class _BdimWatcher:
    def __init__(self):
        self.seen = []       # (value, bdim); holding the values keeps their ids unique
        self.builders = []   # the jaxpr builders whose tracers became variables
        self.stack = []      # is the bind being processed a vmap bind?

    def enter(self, prim, trace, tracers, params):
        if isinstance(trace, jx.JaxprTrace) and trace.main.global_data not in self.builders:
            self.builders.append(trace.main.global_data)
        batched = any(_is_batch_tracer(t) for t in tracers)
        self.stack.append(batched)
        if batched:
            self.seen += [(t.val, t.bdim) for t in tracers if _is_batch_tracer(t)]

    def exit(self, outs):
        if self.stack.pop():
            self.seen += [(o.val, o.bdim) for o in outs if _is_batch_tracer(o)]

    def bdims(self):
        out = {}
        for val, bdim in self.seen:
            if bdim is None or not isinstance(val, jx.JaxprTracer):
                continue
            for b in self.builders:
                var = b.tracer_to_var.get(id(val))
                if var is not None:
                    out[var] = bdim
        return out
