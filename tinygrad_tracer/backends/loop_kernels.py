"""Kernels that are loops, not elementwise maps: scatters and sorts.

These do not compute one independent element per output element: a scatter
combines updates into elements chosen by data, a sort reorders a whole line.
(A running sum, which carries a total along one axis, is a fused kernel's
innermost loop instead: see `loop_nests.SCANS`.) Each is described once, here,
as *phases*: a phase is a loop over every index `i0, i1, ...` of its `shape`
and a body of Python lines run at each index. Both compiling backends run the
same bodies and differ only in how a phase's loop is launched:

    phase           CPU (numba_cpu)               CUDA (cuda_kernels)
    parallel        nested loops, `prange` outer  a grid-stride loop, a thread per index
    serial          nested `range` loops          the same loop on a single thread
    atomic combine  (serial)                      a thread per index, `cuda.atomic.<op>`

A scatter is two phases: the result starts as a copy of the operand (parallel),
then every update is combined into the element its indices pick, an update
whose index is out of bounds dropped, repeated indices combining in order (as
NumPy's `np.add.at`, the reference). `x.at[i].add(u)` of an f32[5, 3] `x` and
4 rows of updates:

    for i0 in prange(5):
        for i1 in range(3):
            D[i0, i1] = A[i0, i1]
    for i0 in range(4):
        for i1 in range(3):
            _a0 = np.int64(B[i0, 0])
            if (0 <= _a0) and (_a0 < 5):
                _u = C[i0, i1]
                D[_a0, i1] = _u + D[_a0, i1]   (the add rule of `codegen`)

A sort is a phase over the lines along its dimension: a stable merge sort of
a permutation, comparing the keys (NaN last, as `np.argsort`), then every
operand written in that order.

Inputs are read through the layout operations that produced them (the index
maps of `loop_nests`), so a broadcast zero array is never materialized.
"""
import numpy as np

from .. import lax
from .codegen import SCALAR_RULES, dtypes_supported
from .loop_nests import describe, read_element

# scatter primitive -> the elementwise primitive combining an update into the result
# (None: the update replaces it); the name is that of the `cuda.atomic` function.
_SCATTERS = {lax.scatter_p: None, lax.scatter_add_p: lax.add_p, lax.scatter_mul_p: lax.mul_p,
             lax.scatter_min_p: lax.min_p, lax.scatter_max_p: lax.max_p}


# The longest line a CUDA thread sorts: its two scratch arrays live in the thread's
# local memory (512 KiB at most); a longer sort runs on the host, logged as such.
CUDA_SORT_MAX = 1 << 14


def describable(eqn, backend):
    """Does `eqn` run as a loop kernel on `backend` (a scatter or sort of supported dtypes)?"""
    prim = eqn.primitive
    if prim is lax.sort_p and backend == 'cuda':
        return dtypes_supported(eqn) and eqn.inputs[0].aval.shape[eqn.params['dimension']] <= CUDA_SORT_MAX
    return (prim in _SCATTERS or prim is lax.sort_p) and dtypes_supported(eqn)


class Phase:
    """One loop of a loop kernel: the body runs at every index of `shape`. `parallel`:
    the iterations write different elements, so they may run at once. `combine`: for
    a scatter's update loop, the primitive combining each update (its atomic form lets
    a GPU run the iterations at once). `lines(read, out, target)` writes the body:
    `read(var, index)` and `out(n, index)` are sources of elements, `target` a `Target`."""

    def __init__(self, shape, parallel, lines, combine=None):
        self.shape, self.parallel, self.lines, self.combine = tuple(shape), parallel, lines, combine


class Target:
    """What a backend's bodies differ in: `scratch(n)`, the source of a fresh int64 array
    of n elements for one iteration; `atomic(op_name, array, index, value)` (index: a
    list of index sources), the source of an atomic update, or None to combine with a
    plain read and write."""

    def __init__(self, scratch, atomic=None):
        self.scratch, self.atomic = scratch, atomic


CPU = Target(lambda n: f"np.empty({n}, np.int64)")


class Loops:
    """The phases of loop kernel `eqn` (see the module docstring).

        >>> [p.shape for p in Loops(scatter_add_eqn).phases]   # x: f32[5, 3], 4 updates
        [(5, 3), (4, 3)]
    """

    def __init__(self, eqn):
        self.eqn = eqn
        self.phases = (_scatter if eqn.primitive in _SCATTERS else _sort)(eqn)

    def bodies(self, plan, subscript, target_of):
        """Each phase's body lines for the backend's `target_of(phase)` (a `Target`),
        reading and writing arrays at indices as `subscript` writes them."""
        comments = []
        names = plan.py_names

        def read(var, idx):
            return read_element(plan, var, idx, subscript, comments)

        def out(n, idx=None):
            """Output n's array name, or the source of its element at `idx`."""
            name = names[self.eqn.out_binders[n]].upper()
            return name if idx is None else f"{name}{subscript(idx)}"
        bodies, what = [], [f"# {describe(self.eqn, plan.names)}"]
        for phase in self.phases:
            lines = phase.lines(read, out, target_of(phase))
            bodies.append(what + [f"# {c}" for c in dict.fromkeys(comments)] + lines)
            comments.clear()
        return bodies


def _loop_index(shape):
    return [f"i{d}" for d in range(len(shape))]


def _insert(idx, axis, i):
    return idx[:axis] + [i] + idx[axis:]


# --- scatters ---------------------------------------------------------------------------------------

def _scatter(eqn):
    (x, ind, upd), axes = (v.aval for v in eqn.inputs), eqn.params['axes']
    combine = _SCATTERS[eqn.primitive]
    nb = ind.ndim - 1

    def copy(read, out, target):
        idx = _loop_index(x.shape)
        return [f"{out(0, idx)} = {read(eqn.inputs[0], idx)}"]

    def update(read, out, target):
        idx = _loop_index(upd.shape)
        lines = [f"_a{j} = np.int64({read(eqn.inputs[1], idx[:nb] + [str(j)])})" for j in range(len(axes))]
        rest = iter(idx[nb:])
        at = [f"_a{axes.index(a)}" if a in axes else next(rest) for a in range(x.ndim)]
        inside = ' and '.join(f"(0 <= _a{j}) and (_a{j} < {x.shape[a]})" for j, a in enumerate(axes))
        value = read(eqn.inputs[2], idx)
        if combine is None:
            new = [f"{out(0, at)} = {value}"]
        elif target.atomic is not None:
            new = [target.atomic(combine.name, out(0), at, value)]
        else:
            new = [f"_u = {value}", f"{out(0, at)} = {SCALAR_RULES[combine](eqn, out(0, at), '_u')}"]
        if not inside:   # no index axes: every update lands
            return lines + new
        return lines + [f"if {inside}:"] + ['    ' + line for line in new]
    return [Phase(x.shape, True, copy), Phase(upd.shape, False, update, combine)]


# --- sorting -------------------------------------------------------------------------------------

def _less(dtype, a, b):
    """Source of `a < b` in the sort's order: NaN after every number, as np.argsort."""
    if np.dtype(dtype).kind == 'f':
        return f"(({a} < {b}) or (({b} != {b}) and ({a} == {a})))"
    return f"({a} < {b})"


def _equal(dtype, a, b):
    if np.dtype(dtype).kind == 'f':
        return f"(({a} == {b}) or (({a} != {a}) and ({b} != {b})))"
    return f"({a} == {b})"


def _sort(eqn):
    shape, d = eqn.inputs[0].aval.shape, eqn.params['dimension']
    n, num_keys = shape[d], eqn.params['num_keys']
    lines_shape = shape[:d] + shape[d + 1:]

    def lines(read, out, target):
        idx = _loop_index(lines_shape)
        at = lambda i: _insert(idx, d, i)
        keys = eqn.inputs[:num_keys]
        # _b's element goes first only if strictly less: equal keys keep their order.
        loads = [f"_x{k} = {read(v, at('_p[_b]'))}" for k, v in enumerate(keys)]
        loads += [f"_y{k} = {read(v, at('_p[_a]'))}" for k, v in enumerate(keys)]
        less = _less(keys[-1].aval.dtype, f"_x{num_keys - 1}", f"_y{num_keys - 1}")
        for k in range(num_keys - 2, -1, -1):   # lexicographic: the first key decides first
            dt = keys[k].aval.dtype
            less = f"({_less(dt, f'_x{k}', f'_y{k}')} or ({_equal(dt, f'_x{k}', f'_y{k}')} and {less}))"
        merge = ["for _t in range(_lo, _hi):",
                 "    _take = _b < _hi",
                 "    if _take and _a < _mid:"]
        merge += ['        ' + line for line in loads] + [f"        _take = {less}"]
        merge += ["    if _take:", "        _q[_t] = _p[_b]", "        _b += 1",
                  "    else:", "        _q[_t] = _p[_a]", "        _a += 1"]
        body = [f"_p = {target.scratch(max(n, 1))}", f"_q = {target.scratch(max(n, 1))}",
                f"for _t in range({n}):", "    _p[_t] = _t",
                "_w = 1",
                f"while _w < {n}:   # a bottom-up merge sort of the permutation _p",
                f"    for _lo in range(0, {n}, 2 * _w):",
                f"        _mid = min(_lo + _w, {n})",
                f"        _hi = min(_lo + 2 * _w, {n})",
                "        _a = _lo",
                "        _b = _mid"]
        body += ['        ' + line for line in merge]
        body += [f"    for _t in range({n}):", "        _p[_t] = _q[_t]", "    _w *= 2",
                 f"for _t in range({n}):"]
        body += [f"    {out(k, at('_t'))} = {read(v, at('_p[_t]'))}" for k, v in enumerate(eqn.inputs)]
        return body
    return [Phase(lines_shape, True, lines)]


# --- the CPU's loops ---------------------------------------------------------------------------------

def cpu_function(k, plan):
    """Source of the `def` of loop kernel `k` (a `fusion.Kernel` with `loop`) for the CPU:
    each phase in nested loops, the outer one a `prange` where the phase is parallel."""
    names = plan.py_names
    arrays = [names[v].upper() for v in k.inputs + k.outputs]
    lines = [f"def {k.name}({', '.join(arrays)}):"]
    lines += [f"    {a} = {a}.reshape(1)" for v, a in zip(k.inputs + k.outputs, arrays) if not v.aval.shape]
    subscript = lambda idx: f"[{', '.join(idx)}]" if idx else "[0]"
    for phase, body in zip(k.loop.phases, k.loop.bodies(plan, subscript, lambda phase: CPU)):
        depth = 1
        for d, size in enumerate(phase.shape):
            loop = 'prange' if d == 0 and phase.parallel and k.parallel else 'range'
            lines.append('    ' * depth + f"for i{d} in {loop}({size}):")
            depth += 1
        lines += ['    ' * depth + line for line in body]
    return '\n'.join(lines) + '\n'

