"""The loop nest of one fused kernel, as Python source for Numba.

A kernel (see `fusion.py`) loops over a *domain*: the non-unit dimensions of
the arrays it computes. Each fused equation becomes one line of the loop
body, named like the jaxpr variable it computes, under a comment showing the
equation. Arrays are upper case (`A`, `BA`), the scalars read from them lower
case. `selu` compiles to

    @njit(cache=True, parallel=True, error_model='numpy')
    def selu_k0(n0, A, K):
        for i0 in prange(n0):
            a = A[i0]
            # c:bool[1000000] = gt a b
            c = a > np.float32(0.0)
            # d:f32[1000000] = exp a
            d = exp_f32(a)
            ...
            K[i0] = k

A layout operation read by the kernel is an *index map*: the broadcast row
`b[j]` of `broadcast_in_dim b` is read as `B[i1]`, a transpose as `A[i1, i0]`.

A gather (or dynamic slice, concatenate, pad) reads an input at an index it
computes (`READ_RULES`): `x[i]` of a (5, 3) array is `A[min(max(np.int64(
B[i0]), 0), 4), i1]`, the index clamped as XLA clamps it.

A reduction splits the domain into kept axes (one result each) and reduced
axes. When the reduced axes come last (a row sum), the kept axes are the
outer loops (run in parallel) and each inner loop updates a scalar
accumulator; elementwise work on the result follows the inner loops. When
they come first (a column sum, like a bias gradient), the loops keep the
array's order and update a row of accumulators, so memory is read in order
and the inner loop vectorizes; the result is finished in a last loop.
"""
import re

import numpy as np

from .. import lax
from ..jaxpr import Literal, pp_eqn_rules
from .codegen import (REDUCTIONS, SCAN_STEPS, const, key, np_type, reduced_positions, scalar_expr,
                      unit_reduction)


# --- index maps: reading a layout operation's result straight from its input ---------------------

def paren(e):
    """`e` as an operand in generated source: parenthesized unless a name or a number."""
    return e if e.isidentifier() or e.isdigit() else f"({e})"


def _affine(start, stride, i):
    term = i if stride == 1 else f"{stride} * {paren(i)}"
    if i == '0':
        return str(start)
    return term if start == 0 else f"{start} + {term}"


def _c_strides(shape):
    strides, s = [], 1
    for n in reversed(shape):
        strides.append(s)
        s *= n
    return strides[::-1]


def _unravel(idx, out_shape, in_shape):
    """Index into `in_shape` of the element at `idx` of its reshape to `out_shape`."""
    flat = ' + '.join(i if st == 1 else f"{paren(i)} * {st}"
                      for i, st, n in zip(idx, _c_strides(out_shape), out_shape) if n != 1) or '0'
    out = []
    for st, n in zip(_c_strides(in_shape), in_shape):
        if n == 1:
            out.append('0')
        else:
            e = flat if st == 1 else f"{paren(flat)} // {st}"
            out.append(e if st * n == int(np.prod(in_shape)) else f"{paren(e)} % {n}")
    return out


def _reshape_index(eqn, in_shape, idx):
    dims = eqn.params.get('dimensions')
    mid_shape = in_shape if dims is None else [in_shape[d] for d in dims]
    out_shape = eqn.out_binders[0].aval.shape
    if [n for n in mid_shape if n != 1] == [n for n in out_shape if n != 1]:
        it = iter([i for i, n in zip(idx, out_shape) if n != 1])
        mid = [next(it) if n != 1 else '0' for n in mid_shape]
    else:
        mid = _unravel(idx, out_shape, mid_shape)
    if dims is None:
        return mid
    out = [None] * len(in_shape)
    for j, d in enumerate(dims):
        out[d] = mid[j]
    return out


def _broadcast_index(eqn, in_shape, idx):
    return ['0' if n == 1 else idx[d] for n, d in zip(in_shape, eqn.params['broadcast_dimensions'])]


def _transpose_index(eqn, in_shape, idx):
    out = [None] * len(in_shape)
    for j, p in enumerate(eqn.params['permutation']):
        out[p] = idx[j]
    return out


def _squeeze_index(eqn, in_shape, idx):
    it = iter(idx)
    return ['0' if d in eqn.params['dimensions'] else next(it) for d in range(len(in_shape))]


def _expand_dims_index(eqn, in_shape, idx):
    return [i for d, i in enumerate(idx) if d not in eqn.params['dimensions']]


def _slice_index(eqn, in_shape, idx):
    strides = eqn.params['strides'] or (1,) * len(in_shape)
    return [_affine(s, st, i) for s, st, i in zip(eqn.params['start_indices'], strides, idx)]


def _rev_index(eqn, in_shape, idx):
    return [f"{n - 1} - {paren(i)}" if d in eqn.params['dimensions'] and n != 1 else i
            for d, (n, i) in enumerate(zip(in_shape, idx))]


# layout primitive -> (eqn, input shape, index of the output element) -> index into the input
INDEX_MAPS = {lax.reshape_p: _reshape_index, lax.broadcast_in_dim_p: _broadcast_index,
              lax.transpose_p: _transpose_index, lax.squeeze_p: _squeeze_index,
              lax.expand_dims_p: _expand_dims_index, lax.slice_p: _slice_index,
              lax.rev_p: _rev_index}


# --- reads at computed indices: gather, dynamic slices, concatenate, pad -------------------------
# Each output element of these is one element of an input (or the padding value),
# at an index computed from the output's: `READ_RULES[prim](eqn, idx, read, let)`
# is the source of the element at `idx` (index names, one per output axis), where
# `read(n, index)` reads input n at `index` and `let(expr)` names a temporary. Their
# outputs fuse with the elementwise work reading them; their inputs are arrays.

def clamp(expr, high):
    """`expr` as an int64 index moved into [0, high] (as XLA clamps indices)."""
    return f"min(max(np.int64({expr}), 0), {max(high, 0)})"


def _gather_read(eqn, idx, read, let):
    x, ind = eqn.inputs[0].aval.shape, eqn.inputs[1].aval.shape
    axes, batch = eqn.params['axes'], idx[:len(ind) - 1]
    rest = iter(idx[len(ind) - 1:])
    at = [let(clamp(read(1, batch + [str(axes.index(a))]), n - 1)) if a in axes else next(rest)
          for a, n in enumerate(x)]
    return read(0, at)


def _dynamic_slice_read(eqn, idx, read, let):
    x, sizes = eqn.inputs[0].aval.shape, eqn.params['slice_sizes']
    starts = [let(clamp(read(d + 1, []), n - k)) for d, (n, k) in enumerate(zip(x, sizes))]
    return read(0, [f"{paren(i)} + {s}" for i, s in zip(idx, starts)])


def _dynamic_update_slice_read(eqn, idx, read, let):
    x, u = eqn.inputs[0].aval.shape, eqn.inputs[1].aval.shape
    starts = [let(clamp(read(d + 2, []), n - k)) for d, (n, k) in enumerate(zip(x, u))]
    inside = ' and '.join(f"({s} <= {i}) and ({i} < {s} + {k})" for i, s, k in zip(idx, starts, u))
    update = read(1, [f"{paren(i)} - {s}" for i, s in zip(idx, starts)])
    return f"({update} if {inside} else {read(0, idx)})" if inside else update


def _concatenate_read(eqn, idx, read, let):
    d = eqn.params['dimension']
    parts, offset = [], 0
    for n, x in enumerate(eqn.inputs):
        size = x.aval.shape[d]
        at = idx[d] if offset == 0 else f"{paren(idx[d])} - {offset}"
        if size:   # an empty operand adds nothing
            parts.append((offset + size, read(n, idx[:d] + [at] + idx[d + 1:])))
        offset += size
    if not parts:   # an empty result: the loop never runs
        return read(0, idx)
    expr = parts[-1][1]
    for end, e in reversed(parts[:-1]):
        expr = f"({e} if {idx[d]} < {end} else {expr})"
    return expr


def _pad_read(eqn, idx, read, let):
    inside, at = [], []
    for i, n, (lo, _, interior) in zip(idx, eqn.inputs[0].aval.shape, eqn.params['padding_config']):
        j = i if lo == 0 else f"{paren(i)} - {lo}" if lo > 0 else f"{paren(i)} + {-lo}"
        if interior:   # an element every interior + 1 positions
            j = let(j)
            inside.append(f"({j} % {interior + 1} == 0)")
            j = f"{j} // {interior + 1}"
        inside += [f"({j} >= 0)", f"({j} < {n})"]
        at.append(j)
    return f"({read(0, at)} if {' and '.join(inside)} else {read(1, [])})" if inside else read(0, at)


READ_RULES = {lax.gather_p: _gather_read, lax.dynamic_slice_p: _dynamic_slice_read,
              lax.dynamic_update_slice_p: _dynamic_update_slice_read,
              lax.concatenate_p: _concatenate_read, lax.pad_p: _pad_read}


def read_element(plan, var, idx, subscript, comments):
    """Source of the element at `idx` of `var` (a literal, or a layout of a kernel input,
    read through the index maps); the layout equations go into `comments`."""
    if isinstance(var, Literal):
        return const(var.val, var.aval.dtype)
    base, chain = plan.layout_chain(var)
    for eqn in chain:   # map the index back through each layout op
        comments.append(describe(eqn, plan.names))
        idx = INDEX_MAPS[eqn.primitive](eqn, eqn.inputs[0].aval.shape, idx)
    if isinstance(base, Literal):
        return const(base.val, base.aval.dtype)
    return f"{plan.py_names[base].upper()}{subscript(idx)}"


# --- running values: cumsum, cumprod, cummax, cummin, cumlogsumexp ---------------------------------
# A kernel with a scan loops over the scanned axis innermost, in order (from the end
# when reversed), carrying the running value in a scalar: `acc_c = acc_c + b`.
# Elementwise work before and after it fuses into the same inner loop.

SCANS = SCAN_STEPS


def scan_of(eqn):
    """(position among the non-unit axes, reverse) of a scan's axis; None along a
    size-1 axis (the scan is then the identity) or for any other equation."""
    if eqn.primitive not in SCANS:
        return None
    shape, axis = eqn.inputs[0].aval.shape, eqn.params['axis']
    if shape[axis] == 1:
        return None
    return sum(n != 1 for n in shape[:axis]), bool(eqn.params.get('reverse', False))


# --- printing an equation as a comment ----------------------------------------------------------

def describe(eqn, names):
    """One line in the jaxpr's own notation: `c:bool[5] = gt a b`."""
    def fmt(v):
        if isinstance(v, np.dtype):
            return v.name
        if hasattr(v, 'eqns') or (isinstance(v, tuple) and v and hasattr(v[0], 'eqns')):
            return '{...}'   # a nested jaxpr: see the jaxpr printout
        return ' '.join(str(v).split())
    outs = ' '.join(f"{names[v]}:{v.aval.str_short()}" for v in eqn.out_binders)
    rule = pp_eqn_rules.get(eqn.primitive)   # the params as the printer shows them
    params = ' '.join(f"{k}={fmt(v)}" for k, v in (rule(eqn, names) if rule else sorted(eqn.params.items())))
    ins = ' '.join(names[x] for x in eqn.inputs)
    return f"{outs} = {eqn.primitive.name}{f'[{params}]' if params else ''} {ins}".rstrip()


# --- the loop nest -------------------------------------------------------------------------------

class _Writer:
    def __init__(self):
        self.lines, self.depth = [], 0

    def __call__(self, text):
        self.lines.append('    ' * self.depth + text)

    def nest(self, positions, body, parallel=False, backwards=()):
        """`for i{p} in range(n{p}):` for each position around the body (from the end
        for those in `backwards`): lines, and (positions, body, ...) tuples for inner
        loop nests."""
        depth = self.depth
        for n, p in enumerate(positions):
            bounds = f"n{p} - 1, -1, -1" if p in backwards else f"n{p}"
            self(f"for i{p} in {'prange' if parallel and n == 0 else 'range'}({bounds}):")
            self.depth += 1
        for line in body:
            if isinstance(line, tuple):
                self.nest(*line)
            else:
                self(line)
        self.depth = depth

    def text(self):
        return '\n'.join(self.lines) + '\n'


def _accumulate(eqn, name, x, i, kept):
    """Lines (allocate, initialize, update, finish, merge) of reduction `eqn` of element
    `x` at reduced index `i`, with a scalar accumulator, or a row of them indexed by
    the `kept` positions; and the accumulators' (name, dtype)."""
    red = REDUCTIONS[eqn.primitive](eqn)
    at = f"[{', '.join(f'i{p}' for p in kept)}]" if kept else ''
    sub = {a: f"{a}_{name}{at}" for a in red.init}
    sub.update({f"other_{a}": f"{a}_{name}_other" for a in red.init})
    sub.update(v=x, i=i, take=f"take_{name}")

    def fill(line):   # one pass, so a substituted name is never replaced again
        return re.sub(r"\b(other_acc|other_idx|acc|idx|v|i|take)\b", lambda m: sub[m.group()], line)
    sizes = ', '.join(f"n{p}" for p in kept or ()) + (',' if kept and len(kept) == 1 else '')
    allocs = [f"{a}_{name} = np.empty(({sizes}), {np_type(dtype)})"
              for a, (_, dtype) in red.init.items()] if kept else []
    init = [f"{sub[a]} = {const(value, dtype)}" for a, (value, dtype) in red.init.items()]
    return (allocs, init, [fill(line) for line in red.update], [f"{name} = {fill(red.final)}"],
            [fill(line) for line in red.merge], [(f"{a}_{name}", dtype) for a, (_, dtype) in red.init.items()])


def reduced_outer(domain, reduced):
    """Do the reduced axes all come before the kept ones (a column-style reduction)?"""
    kept = [p for p in range(len(domain)) if p not in reduced]
    return bool(reduced) and bool(kept) and max(reduced) < min(kept)


class KernelBody:
    """The statements of one fused kernel, sorted by where they go in the loop nest:
    `full` runs at every point of the domain, `post` after the reduced axes are done,
    and a reduction contributes `allocs`/`init` (before), `update` (inside) and
    `final` (after), and `merge` to combine the `accumulators` of two GPU threads.
    The CPU and CUDA code generators wrap the same body in their own loops (nested
    `prange` loops, or a grid-stride loop and a block per reduction result)."""

    def __init__(self, k, plan, subscript, columns):
        eqns, names = plan.eqns, plan.py_names
        K, R = k.domain, k.reduced
        kept = [p for p in range(len(K)) if p not in R]
        self.subscript, self.positions = subscript, {'full': list(range(len(K))), 'post': kept}
        members = set(k.members)

        def level_of(var):
            return 'full' if not R or key(var.aval.shape) == tuple(K) else 'post'

        def read(var, idx, comments):
            return read_element(plan, var, idx, subscript, comments)

        loaded = set()

        def operand(x, level, body):
            """The scalar name (or constant) for input x of a member computed at `level`."""
            if isinstance(x, Literal):
                return const(x.val, x.aval.dtype)
            if plan.producer.get(x) in members or x in loaded:
                return names[x]
            comments = []
            expr = read(x, self.index(x.aval.shape, level), comments)
            body.extend(f"# {c}" for c in reversed(comments))
            body.append(f"{names[x]} = {expr}")
            loaded.add(x)
            return names[x]

        full, post, allocs, init, update, final, merge, accumulators = [], [], [], [], [], [], [], []
        for m in k.members:
            eqn = eqns[m]
            out = eqn.out_binders[0]
            name = names[out]
            # A reduction over size-1 axes only is elementwise, even beside a real one.
            if eqn.primitive in REDUCTIONS and reduced_positions(eqn):
                x = operand(eqn.inputs[0], 'full', full)
                lines = _accumulate(eqn, name, x, f"i{R[0]}", kept if columns else None)
                for part, new in zip((allocs, init, update, final, merge, accumulators), lines):
                    part += new
                update.insert(len(update) - len(lines[2]), f"# {describe(eqn, plan.names)}")
                continue
            level = level_of(out)
            body = full if level == 'full' else post
            if eqn.primitive in SCANS and scan_of(eqn):   # a running total: updated along the loop
                x = operand(eqn.inputs[0], level, body)
                step, start = SCANS[eqn.primitive]
                init.append(f"acc_{name} = {const(start(out.aval.dtype), out.aval.dtype)}")
                body += [f"# {describe(eqn, plan.names)}",
                         f"acc_{name} = {step(eqn, f'acc_{name}', x)}", f"{name} = acc_{name}"]
                continue
            if eqn.primitive in READ_RULES:
                body.append(f"# {describe(eqn, plan.names)}")
                body += self._read_lines(eqn, name, self.index(out.aval.shape, level), read)
                continue
            if eqn.primitive is lax.iota_p:
                expr = f"{np_type(out.aval.dtype)}({self.index(out.aval.shape, level)[eqn.params['dimension']]})"
            else:
                args = [operand(x, level, body) for x in eqn.inputs]
                expr = (unit_reduction(eqn, args[0]) if eqn.primitive in REDUCTIONS
                        else args[0] if eqn.primitive in SCANS   # along a size-1 axis
                        else scalar_expr(eqn, args))
            body.append(f"# {describe(eqn, plan.names)}")
            body.append(f"{name} = {expr}")
        for v in k.outputs:
            level = level_of(v)
            (full if level == 'full' else post).append(
                f"{names[v].upper()}{subscript(self.index(v.aval.shape, level))} = {names[v]}")
        self.full, self.post, self.allocs = full, post, allocs
        self.init, self.update, self.final = init, update, final
        # Combining two threads' accumulators (`merge`, the other's named `<acc>_other`).
        self.merge, self.accumulators = merge, accumulators

    @staticmethod
    def _read_lines(eqn, name, idx, read):
        """Lines computing `name`, the element at `idx` of a `READ_RULES` equation."""
        comments, lets = [], []

        def let(expr):
            lets.append(f"{name}_{len(lets)} = {expr}")
            return f"{name}_{len(lets) - 1}"
        expr = READ_RULES[eqn.primitive](eqn, idx, lambda n, at: read(eqn.inputs[n], at, comments), let)
        return [f"# {c}" for c in reversed(comments)] + lets + [f"{name} = {expr}"]

    def index(self, shape, level):
        """Loop-index names addressing an array of `shape` at `level` (size-1 axes: 0)."""
        it = iter(self.positions[level])
        return [f"i{next(it)}" if n != 1 else '0' for n in shape]


def kernel_function(k, plan):
    """Source of the `def` of kernel `k` (a `fusion.Kernel`) of `plan`."""
    names = plan.py_names
    K, R = k.domain, k.reduced
    kept = [p for p in range(len(K)) if p not in R]
    columns = reduced_outer(K, R)
    # A 0-d array is read and written as a 1-element view: Numba's parallel loops
    # turn a 0-d array into a scalar, and `X[()]` inside a `prange` then fails to type.
    b = KernelBody(k, plan, lambda idx: f"[{', '.join(idx)}]" if idx else "[0]", columns)
    full, post, allocs, init, update, final = b.full, b.post, b.allocs, b.init, b.update, b.final

    w = _Writer()
    arrays = [names[v].upper() for v in k.inputs + k.outputs]
    w(f"def {k.name}({', '.join([f'n{p}' for p in range(len(K))] + arrays)}):")
    w.depth += 1
    for v in k.inputs + k.outputs:
        if not v.aval.shape:
            w(f"{names[v].upper()} = {names[v].upper()}.reshape(1)")
    if k.scan:          # the other axes outside, the scanned one inside, in order
        p, reverse = k.scan
        w.nest([q for q in range(len(K)) if q != p], init + [([p], full, False, (p,) if reverse else ())],
               k.parallel)
    elif not R:
        w.nest(range(len(K)), full, k.parallel)
    elif not columns:   # kept axes outside, a scalar accumulator per result
        w.nest(kept, init + [(R, full + update)] + final + post, k.parallel)
    else:               # reduced axes outside, a row of accumulators
        for line in allocs:
            w(line)
        w.nest(kept, init)
        w.nest(list(R) + kept, full + update)
        w.nest(kept, final + post, k.parallel)
    if len(w.lines) == 1:
        w("pass")
    return w.text()
