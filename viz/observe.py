"""Watching binds: install an observer on `core.trace_state.bind_observer` (this
thread's) for a block.

`core.bind` calls `observer.enter(prim, trace, tracers, params)` before a trace
processes a primitive and `observer.exit(outs)` after. Both viz.explain (the
log) and viz.graph (vmap's batch axes) watch this way; they may nest.
"""
import contextlib

from tinygrad_tracer import core


@contextlib.contextmanager
def observing(observer):
    """Install `observer` as core.trace_state.bind_observer for the block, passing
    every bind on to the observer that was there before; restore it afterwards,
    even on error."""
    prev = core.trace_state.bind_observer
    core.trace_state.bind_observer = observer if prev is None else _Both(prev, observer)
    try:
        yield observer
    finally:
        core.trace_state.bind_observer = prev


class _Both:
    def __init__(self, first, second):
        self.first, self.second = first, second

    def enter(self, prim, trace, tracers, params):
        self.first.enter(prim, trace, tracers, params)
        self.second.enter(prim, trace, tracers, params)

    def exit(self, outs):
        self.second.exit(outs)
        self.first.exit(outs)
