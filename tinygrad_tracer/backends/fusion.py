"""Partitioning a jaxpr into the steps a compiling backend runs. Both `numba_cpu`
and `numba_cuda` use this partition; they differ in how each step runs:

    step kind   what                                         runs on the CPU as
    kernel      fused elementwise work + reductions          one compiled loop nest
                (and gathers, dynamic slices, concatenate,
                pad: reads at computed indices; cumsum,
                cummax, ...: running values)
    kernel      a loop kernel: a scatter or a sort, alone    compiled loops (`loop_kernels`)
    dot         dot_general                                  BLAS (`a @ b`)
    view        a layout op whose result leaves the kernels  a NumPy view
    control     cond / while / scan                          its bodies, compiled
    fallback    anything without code generation             the primitive's NumPy impl

(On CUDA a kernel is a `@cuda.jit` kernel (a loop kernel one per phase), a float
matrix dot a tiled matmul kernel, a view a copy kernel (or the same buffer,
reshaped), control flow a loop on the host launching its bodies' kernels, and
a fallback the NumPy impl on the host: see `numba_cuda.py`.)

Fusion works on equations that compute one scalar per element (*members*):
elementwise primitives and reductions. Each starts as its own group; a
producer's group merges into its consumer's when

  * both loop over the same *domain* (the shape without its size-1 axes):
    elementwise work either runs on the full domain, inside the loops, or on
    the domain left after the group's reduction, after the inner loops;
  * the value passes elementwise (the consumer reads element i of element i);
  * no path between the two groups leaves them (which would need the other
    group's result in the middle of the loop).

A gather, dynamic_slice, dynamic_update_slice, concatenate or pad is a member
too (`loop_nests.READ_RULES`): each element of its result is one element of an
input, at an index computed from the result's. Its result fuses with the
elementwise work that reads it; its inputs are read whole, so they come from
earlier steps (edges into it are never fusible). A cumsum, cumprod, cummax,
cummin or cumlogsumexp is a member that runs its kernel's innermost loop along
its axis, in order, carrying the running value (`loop_nests.SCANS`): one scanned
axis per kernel, and no reduction.

Layout operations (broadcast_in_dim, reshape, transpose, slice, squeeze,
expand_dims, rev) are *accesses*: a kernel that reads their result computes
where the element sits in the input (`B[i1]` for a broadcast row, `A[i1, i0]`
for a transpose), so they cost nothing and never break a chain of fusion.
Nested `jit` calls (and custom_jvp/custom_vjp functions) are inlined first, so
they fuse with their callers.
"""
import heapq
import math

import numpy as np

from .. import lax
from ..array import Array
from ..jaxpr import Jaxpr, Literal, Var, name_vars
from ..lax_control_flow import cond_p, while_p, scan_p
from ..lax_callback import debug_callback_p
from . import codegen, loop_kernels, loop_nests
from .codegen import key

VIEWS = set(loop_nests.INDEX_MAPS)
CONTROL_FLOW = (cond_p, while_p, scan_p)


class Kernel:
    """One fused loop nest, as the partition decided it. `eqn_indices` index the
    original jaxpr's equations (the visualizer draws each kernel as a cluster of
    them). What compiling it gives lives in the backend's `common.CompiledKernel`."""

    kind = 'kernel'

    def __init__(self, members, domain, reduced):
        self.members, self.domain, self.reduced = members, tuple(domain), tuple(reduced)
        self.inputs, self.outputs = [], []
        self.name = None
        self.eqn_indices = []
        self.parallel = False
        self.loop = None   # a `loop_kernels.Loops` for a scatter or sort; None when fused
        self.scan = None   # (position, reverse) of the axis a cumsum, cummax, ... runs along

    @property
    def size(self):
        return math.prod(self.domain)

    def __repr__(self):
        return f"Kernel({self.name}, eqns={self.eqn_indices})"


class Call:
    """A dot, control-flow or fallback equation, run outside the kernels."""

    def __init__(self, kind, index, eqn):
        self.kind, self.index, self.eqn = kind, index, eqn
        self.inputs = [x for x in eqn.inputs if isinstance(x, Var)]
        self.outputs = list(eqn.out_binders)


class View:
    """Materialize a layout operation's result (for a dot, a fallback or an output)."""

    kind = 'view'

    def __init__(self, var, base):
        self.var, self.inputs, self.outputs = var, [base] if isinstance(base, Var) else [], [var]


class Plan:
    """The partitioned program: flattened equations, and the steps in run order."""

    def __init__(self, closed, backend):
        self.constvars, self.consts, self.invars, self.outvars, self.eqns, self.origin = \
            _flatten(closed, backend)
        self.names = name_vars(closed.jaxpr)   # kernels use the printed jaxpr's names
        self.py_names = _PyNames(self.names)
        self.producer = {v: i for i, e in enumerate(self.eqns) for v in e.out_binders}
        self.users = {}
        for i, e in enumerate(self.eqns):
            for x in e.inputs:
                if isinstance(x, Var):
                    self.users.setdefault(x, []).append(i)
        self.access = {}    # var -> index of the layout equation computing it
        self.steps = []

    @property
    def kernels(self):
        return [s for s in self.steps if s.kind == 'kernel']

    def layout_chain(self, var):
        """(base, chain): the materialized array (or literal) that `var` is a layout of,
        and the layout equations in between, the one computing `var` first."""
        chain = []
        while var in self.access:
            chain.append(self.eqns[self.access[var]])
            var = chain[-1].inputs[0]
        return var, chain


class _PyNames:
    def __init__(self, names):
        self.names = names

    def __getitem__(self, var):
        return codegen.py_name(self.names[var])


def partition(closed, name, parallel_min, backend):
    """The Plan of `closed` for `backend` (the name `jit(f, backend=...)` takes):
    kernels larger than `parallel_min` elements use prange; nested `jit` calls
    for the default backend or this one are inlined."""
    plan = Plan(closed, backend)
    eqns = plan.eqns
    plan.backend = backend
    kind = _classify(plan)
    fusible = _fusible_edges(plan, kind)
    groups = _Groups(plan, [i for i, k in enumerate(kind) if k == 'member'], fusible)
    for c, e in enumerate(eqns):
        if kind[c] == 'member':
            for x in e.inputs:
                p = plan.producer.get(x) if isinstance(x, Var) else None
                if (p, c) in fusible:
                    groups.try_merge(p, c)

    # Siblings: kernels over the same domain with no path between them share one loop.
    roots = [ms[0] for ms in groups.members()]
    for n, a in enumerate(roots):
        for b in roots[n + 1:]:
            if groups.domain(a) == groups.domain(b):
                groups.try_merge(a, b)

    outvars = {v for v in plan.outvars if isinstance(v, Var)}
    steps = []
    for members in groups.members():
        k = Kernel(members, *groups.domain(members[0]))
        mset = set(members)
        for m in members:
            for x in eqns[m].inputs:
                if not isinstance(x, Var) or plan.producer.get(x) in mset:
                    continue
                base = plan.layout_chain(x)[0]
                if isinstance(base, Var) and base not in k.inputs:
                    k.inputs.append(base)
            for v in eqns[m].out_binders:
                if v in outvars or any(u not in mset for u in plan.users.get(v, [])):
                    k.outputs.append(v)
        k.scan = next(filter(None, map(loop_nests.scan_of, (eqns[m] for m in members))), None)
        k.parallel = (k.size >= parallel_min and len(k.reduced) < len(k.domain) - bool(k.scan)
                      and not loop_nests.reduced_outer(k.domain, k.reduced))
        steps.append(k)
    for i, e in enumerate(eqns):
        if kind[i] in ('dot', 'control', 'fallback'):
            steps.append(Call(kind[i], i, e))
        elif kind[i] == 'loop':
            steps.append(_loop_kernel(plan, i, parallel_min))
    needed = {x for s in steps if s.kind != 'kernel' for x in s.inputs} | outvars
    steps += [View(v, plan.layout_chain(v)[0]) for v in plan.access if v in needed]
    plan.steps = _schedule(plan, steps)
    for n, k in enumerate(plan.kernels):
        k.name = f"{codegen.identifier(name)}_k{n}"
        k.eqn_indices = sorted({plan.origin[i] for i in k.members + _owned_accesses(plan, k)})
    return plan


def _loop_kernel(plan, i, parallel_min):
    """The kernel of a `loop_kernels` equation (a scatter or a sort): alone in it."""
    eqn = plan.eqns[i]
    k = Kernel([i], (), ())
    k.loop = loop_kernels.Loops(eqn)
    for x in eqn.inputs:
        base = plan.layout_chain(x)[0] if isinstance(x, Var) else x
        if isinstance(base, Var) and base not in k.inputs:
            k.inputs.append(base)
    k.outputs = list(eqn.out_binders)
    k.parallel = any(p.parallel and math.prod(p.shape) >= parallel_min for p in k.loop.phases)
    return k


# --- classification ----------------------------------------------------------------------------

def _congruent(eqn):
    """Does this layout op keep every element in place (only adding/removing size-1 axes)?"""
    (x,), (out,) = eqn.inputs, eqn.out_binders
    if eqn.primitive not in codegen.IDENTITY_VIEWS or key(x.aval.shape) != key(out.aval.shape):
        return False
    if eqn.primitive is lax.transpose_p:
        moved = [p for p in eqn.params['permutation'] if x.aval.shape[p] != 1]
        return moved == sorted(moved)
    if eqn.primitive is lax.reshape_p:
        return eqn.params.get('dimensions') is None
    return True


def _classify(plan):
    """'member' (fusible), 'access' (layout op read through), 'dot', 'control' or 'fallback'."""
    kind = []
    for e in plan.eqns:
        if e.primitive in VIEWS:
            x = e.inputs[0]
            p = plan.producer.get(x) if isinstance(x, Var) else None
            if p is not None and kind[p] == 'member' and _congruent(e) and codegen.dtypes_supported(e):
                kind.append('member')   # passes its input's scalar straight through
            else:
                kind.append('access')
                plan.access[e.out_binders[0]] = len(kind) - 1
        elif e.primitive in codegen.REDUCTIONS and codegen.dtypes_supported(e):
            kind.append('member')
        elif (e.primitive is lax.iota_p and codegen.dtypes_supported(e)) or codegen.has_scalar_rule(e):
            kind.append('member')
        elif e.primitive in loop_nests.READ_RULES and codegen.dtypes_supported(e):
            kind.append('member')   # reads its inputs whole, at computed indices
        elif e.primitive in loop_nests.SCANS and codegen.dtypes_supported(e) and e.inputs[0].aval.ndim:
            kind.append('member')   # a running total along the kernel's innermost loop
        elif loop_kernels.describable(e, plan.backend):
            kind.append('loop')
        elif e.primitive is lax.dot_general_p:
            kind.append('dot')
        elif e.primitive in CONTROL_FLOW:
            kind.append('control')
        else:
            kind.append('fallback')
    return kind


def _domain(eqn):
    """(domain, reduced positions) of one member equation."""
    if eqn.primitive in codegen.REDUCTIONS:
        red = codegen.reduced_positions(eqn)
        if red:
            return key(eqn.inputs[0].aval.shape), red
    return key(eqn.out_binders[0].aval.shape), ()


def _fusible_edges(plan, kind):
    """(producer, consumer) pairs of members where the value passes elementwise."""
    edges = set()
    for c, e in enumerate(plan.eqns):
        if kind[c] != 'member' or e.primitive in loop_nests.READ_RULES:
            continue
        dom, red = _domain(e)
        at = dom if red else key(e.out_binders[0].aval.shape)
        for x in e.inputs:
            p = plan.producer.get(x) if isinstance(x, Var) else None
            if p is not None and kind[p] == 'member' and key(x.aval.shape) == at:
                edges.add((p, c))
    return edges


# --- grouping ------------------------------------------------------------------------------------

class _Groups:
    """Union-find over member equations, merging only where a fused loop nest exists."""

    def __init__(self, plan, members, fusible):
        self.plan, self.fusible = plan, fusible
        self.parent = {i: i for i in members}
        self.sets = {i: [i] for i in self.parent}
        self.succ = [sorted({u for v in e.out_binders for u in plan.users.get(v, [])})
                     for e in plan.eqns]

    def find(self, i):
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def domain(self, i):
        doms = {_domain(self.plan.eqns[m]) for m in self.sets[self.find(i)]}
        reds = {d for d in doms if d[1]}
        if reds:
            return next(iter(reds))
        return next(iter(doms))

    def _compatible(self, a, b):
        doms = {_domain(self.plan.eqns[m]) for m in self.sets[a] + self.sets[b]}
        reds = {d for d in doms if d[1]}
        keys = {d[0] for d in doms if not d[1]}
        # One scanned axis per kernel (its innermost loop), and no reduction beside it.
        scans = {loop_nests.scan_of(self.plan.eqns[m]) for m in self.sets[a] + self.sets[b]} - {None}
        if len(scans) > 1:
            return False
        if not reds:
            return len(keys) == 1
        if len(reds) > 1:
            return False
        (dom, red), = reds
        post = tuple(n for p, n in enumerate(dom) if p not in red)
        return keys <= {dom, post} and not scans

    def _direct_edges_fusible(self, a, b):
        inside = set(self.sets[a]) | set(self.sets[b])
        for m in inside:
            for x in self.plan.eqns[m].inputs:
                p = self.plan.producer.get(x) if isinstance(x, Var) else None
                if p in inside and self.find(p) != self.find(m) and (p, m) not in self.fusible:
                    return False
        return True

    def _after(self, i):
        """Equations that read a result of i's step. A group runs as one loop nest, so
        its results all wait for all its inputs: every member's readers count."""
        unit = self.sets[self.find(i)] if i in self.parent else [i]
        return [u for m in unit for u in self.succ[m]]

    def _path_outside(self, src, dst):
        """Is there a path src -> (something in neither group) -> dst?"""
        inside = set(self.sets[src]) | set(self.sets[dst])
        targets = set(self.sets[dst])
        todo = [u for m in self.sets[src] for u in self.succ[m] if u not in inside]
        seen = set(todo)
        while todo:
            i = todo.pop()
            for u in self._after(i):
                if u in targets:
                    return True
                if u not in seen and u not in inside:
                    seen.add(u)
                    todo.append(u)
        return False

    def try_merge(self, p, c):
        a, b = self.find(p), self.find(c)
        if a == b or not self._compatible(a, b) or not self._direct_edges_fusible(a, b):
            return False
        if self._path_outside(a, b) or self._path_outside(b, a):
            return False
        self.parent[b] = a
        self.sets[a] = sorted(self.sets[a] + self.sets.pop(b))
        return True

    def members(self):
        return sorted(self.sets.values(), key=lambda ms: ms[0])


def _owned_accesses(plan, k):
    """Layout equations whose results only this kernel reads (drawn inside its cluster)."""
    owned, mset = [], set(k.members)
    for i in sorted(plan.access.values(), reverse=True):
        users = plan.users.get(plan.eqns[i].out_binders[0], [])
        if users and all(u in mset or u in owned for u in users) and \
                plan.eqns[i].out_binders[0] not in plan.outvars:
            owned.append(i)
    return owned


# --- scheduling --------------------------------------------------------------------------------

def _schedule(plan, steps):
    """Steps in an order where every input is computed before it is read (Kahn's
    algorithm, preferring the step whose first equation comes first)."""
    made_by = {v: s for s, step in enumerate(steps) for v in step.outputs}
    deps = [{made_by[v] for v in step.inputs if v in made_by} - {s} for s, step in enumerate(steps)]
    users = [[] for _ in steps]
    for s, ds in enumerate(deps):
        for d in ds:
            users[d].append(s)
    first = [_first_eqn(plan, step) for step in steps]
    ready = [(first[s], s) for s, ds in enumerate(deps) if not ds]
    heapq.heapify(ready)
    order = []
    while ready:
        _, s = heapq.heappop(ready)
        order.append(steps[s])
        for u in users[s]:
            deps[u].discard(s)
            if not deps[u]:
                heapq.heappush(ready, (first[u], u))
    if len(order) != len(steps):   # a cycle: fusion merged groups it must not have
        raise RuntimeError("tinygrad_tracer bug: the Numba backend's steps depend on each "
                           "other in a cycle; use jit(f, backend='interpret') meanwhile and "
                           "please report this program.")
    return order


def _first_eqn(plan, step):
    if step.kind == 'kernel':
        return step.members[0]
    if step.kind == 'view':
        return plan.access[step.var]
    return step.index


# --- flattening: inline nested calls, fold constants, drop dead equations -----------------------

# Call-like primitives whose result is their jaxpr's: inlined, so their bodies fuse
# with the code around them. (A custom derivative or a checkpoint only matters to autodiff.)
_CALLS = {'jit': 'jaxpr', 'custom_jvp_call': 'call_jaxpr', 'custom_vjp_call': 'call_jaxpr',
          'remat2': 'jaxpr'}
# The identity, there for autodiff only (checkpoint_name): its output is its operand.
_ALIASES = {'name'}


def _inlined(eqn, backend):
    """The jaxpr to inline in place of `eqn`, or None (a call for another backend
    stays a call: its own backend runs it)."""
    param = _CALLS.get(eqn.primitive.name)
    if param is None or eqn.params.get('backend') not in (None, backend):
        return None
    return eqn.params[param]


def _foldable(prim, ins, outs):
    return (prim in codegen.SCALAR_RULES and all(isinstance(x, Literal) for x in ins)
            and len(outs) == 1 and outs[0].aval.shape == ())


def _flatten(closed, backend):
    jaxpr = closed.jaxpr
    constvars, consts = list(jaxpr.constvars), list(closed.consts)
    eqns, origin = [], []

    def inline(jaxpr, sub, where, fresh):
        for n, eqn in enumerate(jaxpr.eqns):
            at = n if where is None else where
            ins = [sub.get(x, x) if isinstance(x, Var) else x for x in eqn.inputs]
            params = eqn.params
            inner = _inlined(eqn, backend)
            if inner is not None:
                s = dict(zip(inner.jaxpr.invars, ins))
                for v, c in zip(inner.jaxpr.constvars, inner.consts):
                    s[v] = Var(v.aval)
                    constvars.append(s[v])
                    consts.append(c)
                inline(inner.jaxpr, s, at, True)
                for ob, iv in zip(eqn.out_binders, inner.jaxpr.outvars):
                    sub[ob] = s.get(iv, iv) if isinstance(iv, Var) else iv
                continue
            if eqn.primitive.name in _ALIASES:
                sub[eqn.out_binders[0]] = ins[0]
                continue
            if _foldable(eqn.primitive, ins, eqn.out_binders):
                # Constants only (`convert_element_type 2:i32[]`): compute it now.
                out = eqn.primitive.impl(*[Array(x.val, x.aval.weak_type) for x in ins], **params)
                sub[eqn.out_binders[0]] = Literal(np.asarray(out), eqn.out_binders[0].aval)
                continue
            outs = eqn.out_binders
            if fresh:
                outs = [Var(v.aval) for v in outs]
                sub.update(zip(eqn.out_binders, outs))
            # kernels index every operand alike: rank-0 operands get broadcast first
            for e in lax.spread_rank0(type(eqn)(eqn.primitive, ins, params, outs, eqn.tag)):
                eqns.append(e)
                origin.append(at)

    sub = {}
    inline(jaxpr, sub, None, False)
    outvars = [sub.get(v, v) if isinstance(v, Var) else v for v in jaxpr.outvars]
    # Dead code: every primitive but debug_callback is pure, so an equation nobody
    # reads can go; a debug callback stays for its effect (printing).
    live = {v for v in outvars if isinstance(v, Var)}
    keep = []
    for i in range(len(eqns) - 1, -1, -1):
        if eqns[i].primitive is debug_callback_p or any(v in live for v in eqns[i].out_binders):
            keep.append(i)
            live.update(x for x in eqns[i].inputs if isinstance(x, Var))
    keep.reverse()
    # Divide as XLA would compile the whole program (the same marks in every backend).
    flat = lax.mark_reciprocal_divisions(
        Jaxpr(constvars, jaxpr.invars, outvars, [eqns[i] for i in keep]))
    return constvars, consts, flat.invars, outvars, flat.eqns, [origin[i] for i in keep]
