"""scan and map: a loop over the leading axis of arrays, with a carried state.

    scan_p   *consts, *carry, *xs      jaxpr, length, reverse, num_consts, num_carry, unroll

`scan(f, init, xs)` traces `f(carry, x) -> (carry, y)` once, on the carry and
on one slice of xs; the body's jaxpr takes `consts + carry + x` and returns
`carry + y`. Because the number of steps is static, every step's values can
be stacked, which makes scan differentiable in reverse mode: the transpose
is another scan, running backwards over the stacked residuals. (`unroll` is
accepted for JAX compatibility; this implementation always loops.)

The primitive itself (impl: a Python loop; abstract eval) is in
`lax_control_flow.py`. Its rules below: batching (xs and ys keep the scanned
axis first, so their batch axis is second), jvp (tangents join the carry,
consts and xs), partial eval (a known scan that stacks residuals as extra
ys, then an unknown scan that consumes them) and transpose (a reversed scan
accumulating the cotangents of the consts in its carry).
"""
from .. import lax, tree_util
from ..core import get_aval
from ..jaxpr import eval_closed_jaxpr, reorder
from ..lax_control_flow import scan_p
from ..batching import batching_rules, batch_jaxpr, bdim_at_front, moveaxis, not_mapped
from ..ad_util import Zero, tangent_aval, instantiate_zeros, zeros_like_aval
from ..jvp import jvp_rules, jvp_jaxpr
from ..partial_eval import partial_eval_rules, partial_eval_jaxpr
from ..transpose import transpose_rules, transpose_jaxpr, is_undefined
from .common import as_arrays, avals_of, trace_loop_body, fixpoint, split, trace_flat


def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """Loop `carry, y = f(carry, x)` over the leading axis of `xs`; returns the final
    carry and the stacked ys. Differentiable in both modes.

        >>> scan(lambda c, x: (c + x, c), 0.0, jnp.arange(3.))   # (3.0, [0., 0., 1.])
    """
    xs_flat, xs_tree = tree_util.tree_flatten(xs)
    lengths = {get_aval(x).shape[0] if get_aval(x).ndim else None for x in xs_flat}
    if None in lengths:
        raise ValueError("lax.scan: every leaf of xs must have a leading axis to scan over; "
                         f"got shapes {[get_aval(x).shape for x in xs_flat]}.")
    if length is not None:
        lengths.add(int(length))
    if len(lengths) > 1:
        raise ValueError(f"lax.scan got inconsistent lengths: the leading axes of xs have sizes "
                         f"{[get_aval(x).shape[0] for x in xs_flat]}"
                         + (f" and length={length}" if length is not None else "") + ".")
    if not lengths:
        raise ValueError("lax.scan got no values to scan over and `length` not provided: pass "
                         "xs, or length=... when the body needs no per-step input.")
    n = lengths.pop()
    init_flat, carry_tree = tree_util.tree_flatten(init)
    x_avals = [a.update(shape=a.shape[1:]) for a in avals_of(xs_flat)]
    in_tree = tree_util.tree_structure((carry_tree.unflatten([0] * carry_tree.num_leaves),
                                        xs_tree.unflatten([0] * xs_tree.num_leaves)))

    def carry_out_tree(out_tree):
        node = out_tree.node_data()
        if node is None or node[0] is not tuple or len(out_tree.children()) != 2:
            raise TypeError(f"lax.scan body must return a pair (carry, y), got {out_tree!r}.")
        return out_tree.children()[0]

    closed, consts, out_tree = trace_loop_body(f, 'lax.scan body', in_tree, init_flat,
                                               carry_tree, x_avals, carry_out_tree)
    outs = scan_p.bind(*as_arrays(consts + init_flat + xs_flat), jaxpr=closed, length=n, reverse=bool(reverse),
                       num_consts=len(consts), num_carry=len(init_flat), unroll=unroll)
    carry_out, ys_tree = out_tree.children()
    return (carry_out.unflatten(outs[:len(init_flat)]), ys_tree.unflatten(outs[len(init_flat):]))


def map(f, xs):
    """`jnp.stack([f(x) for x in xs])` as one scan (xs may be a pytree).

        >>> map(jnp.sum, jnp.ones((3, 2)))     # [2., 2., 2.]
    """
    return scan(lambda _, x: (None, f(x)), None, xs)[1]


# --- batching ----------------------------------------------------------------------------

def _scan_batching_rule(axis_size, vals, dims, jaxpr, length, reverse, num_consts, num_carry, unroll):
    const_b, carry_b, xs_b = split([d is not not_mapped for d in dims], num_consts, num_carry)
    carry_b = fixpoint(
        lambda cb: batch_jaxpr(jaxpr, axis_size, const_b + cb + xs_b, False)[1][:num_carry], carry_b)
    n_ys = len(jaxpr.out_avals) - num_carry
    new, out_b = batch_jaxpr(jaxpr, axis_size, const_b + carry_b + xs_b, carry_b + [False] * n_ys)
    consts, carry, xs = split(vals, num_consts, num_carry)
    const_d, carry_d, xs_d = split(dims, num_consts, num_carry)
    consts = [v if d is not_mapped else moveaxis(v, d, 0) for v, d in zip(consts, const_d)]
    carry = [bdim_at_front(v, d, axis_size) if b else v for v, d, b in zip(carry, carry_d, carry_b)]
    # xs keep the scanned axis first, so their batch axis goes second (and so do the ys')
    xs = [v if d is not_mapped else moveaxis(v, d, 1) for v, d in zip(xs, xs_d)]
    outs = scan_p.bind(*consts, *carry, *xs, jaxpr=new, length=length, reverse=reverse,
                       num_consts=num_consts, num_carry=num_carry, unroll=unroll)
    return outs, ([0 if b else not_mapped for b in out_b[:num_carry]] +
                  [1 if b else not_mapped for b in out_b[num_carry:]])


batching_rules[scan_p] = _scan_batching_rule


# --- jvp: tangents join the consts, the carry and the xs --------------------------------------

def _scan_jvp(primals, tangents, jaxpr, length, reverse, num_consts, num_carry, unroll):
    consts, carry, xs = split(primals, num_consts, num_carry)
    const_t, carry_t, xs_t = split(tangents, num_consts, num_carry)
    const_nz, carry_nz, xs_nz = ([not isinstance(t, Zero) for t in ts] for ts in (const_t, carry_t, xs_t))
    carry_nz = fixpoint(
        lambda nz: jvp_jaxpr(jaxpr, const_nz + nz + xs_nz, False)[1][:num_carry], carry_nz)
    n_ys = len(jaxpr.out_avals) - num_carry
    jvp_j, out_nz = jvp_jaxpr(jaxpr, const_nz + carry_nz + xs_nz, carry_nz + [False] * n_ys)
    ys_nz = out_nz[num_carry:]
    # jvp_j takes (consts, carry, xs, their tangents) and returns (carry, ys, their tangents);
    # the scan wants each group next to its tangents
    nc, nk, nx = num_consts, num_carry, len(xs)
    nct, nkt, nyt = sum(const_nz), sum(carry_nz), sum(ys_nz)
    t0 = nc + nk + nx
    ins = [*range(nc), *range(t0, t0 + nct), *range(nc, nc + nk), *range(t0 + nct, t0 + nct + nkt),
           *range(nc + nk, t0), *range(t0 + nct + nkt, t0 + nct + nkt + sum(xs_nz))]
    outs = [*range(nk), *range(nk + n_ys, nk + n_ys + nkt), *range(nk, nk + n_ys),
            *range(nk + n_ys + nkt, nk + n_ys + nkt + nyt)]
    new = reorder(jvp_j, ins, outs)
    pick = lambda ts, nz: [instantiate_zeros(t) for t, n in zip(ts, nz) if n]
    res = scan_p.bind(*consts, *pick(const_t, const_nz), *carry, *pick(carry_t, carry_nz), *xs,
                      *pick(xs_t, xs_nz), jaxpr=new, length=length, reverse=reverse,
                      num_consts=nc + nct, num_carry=nk + nkt, unroll=unroll)
    carry_out, carry_t_out, ys, ys_t = split(res, nk, nkt, n_ys)
    out_avals = scan_p.abstract_eval(jaxpr=jaxpr, length=length, reverse=reverse,
                                     num_consts=nc, num_carry=nk, unroll=unroll)
    t_iter = iter(carry_t_out + ys_t)
    return carry_out + ys, [next(t_iter) if nz else Zero(tangent_aval(a))
                            for nz, a in zip(carry_nz + ys_nz, out_avals)]


jvp_rules[scan_p] = _scan_jvp


# --- partial eval: a known scan stacking residuals, then an unknown scan -------------------------

def _scan_partial_eval(trace, tracers, jaxpr, length, reverse, num_consts, num_carry, unroll):
    const_uk, carry_uk, xs_uk = split([not t.pval.is_known for t in tracers], num_consts, num_carry)
    carry_uk = fixpoint(
        lambda uk: partial_eval_jaxpr(jaxpr, const_uk + uk + xs_uk, False)[2][:num_carry], carry_uk)
    n_ys = len(jaxpr.out_avals) - num_carry
    in_uk = const_uk + carry_uk + xs_uk
    known_j, unknown_j, out_uk, num_res = partial_eval_jaxpr(jaxpr, in_uk, carry_uk + [False] * n_ys)
    params = dict(length=length, reverse=reverse, unroll=unroll)
    # the known scan returns its known carry and ys, and each step's residuals as extra ys
    n_ck = carry_uk.count(False)
    known = scan_p.bind(*[t.pval.const for t, uk in zip(tracers, in_uk) if not uk], jaxpr=known_j,
                        num_consts=const_uk.count(False), num_carry=n_ck, **params)
    known_out, res = known[:len(known) - num_res], known[len(known) - num_res:]
    # the unknown scan takes the residuals as xs: (consts, carry, residuals, xs)
    n_cu, n_ku = const_uk.count(True), carry_uk.count(True)
    n_in = len(unknown_j.in_avals)
    order = [*range(num_res, num_res + n_cu + n_ku), *range(num_res), *range(num_res + n_cu + n_ku, n_in)]
    unknown_j = reorder(unknown_j, order)
    consts_u, carry_u, xs_u = split([t for t, uk in zip(tracers, in_uk) if uk], n_cu, n_ku)
    out_avals = scan_p.abstract_eval(jaxpr=unknown_j, num_carry=n_ku, num_consts=n_cu, **params)
    staged = trace.stage(scan_p, consts_u + carry_u + [trace.pure(r) for r in res] + xs_u,
                         dict(jaxpr=unknown_j, num_consts=n_cu, num_carry=n_ku, **params), out_avals)
    staged, known_out = iter(staged), iter(known_out)
    return [next(staged) if uk else trace.pure(next(known_out)) for uk in out_uk]


partial_eval_rules[scan_p] = _scan_partial_eval


# --- transpose: a reversed scan, the consts' cotangents accumulated in its carry --------------------

def _scan_transpose(cts, *args, jaxpr, length, reverse, num_consts, num_carry, unroll):
    consts, carry, xs = split(args, num_consts, num_carry)
    const_lin = [is_undefined(c) for c in consts]
    xs_lin = [is_undefined(x) for x in xs]
    # Every carry is treated as linear (an initial value that is a known constant, like
    # an instantiated zero tangent, just gets a cotangent nobody reads).
    body_t = transpose_jaxpr(jaxpr, const_lin + [True] * num_carry + xs_lin)
    res_consts = [c for c in consts if not is_undefined(c)]
    res_xs = [x for x in xs if not is_undefined(x)]
    lin_const_avals = [c.aval for c in consts if is_undefined(c)]
    ct_carry, ct_ys = split(cts, num_carry)
    n_rc, n_lc, n_ys = len(res_consts), len(lin_const_avals), len(ct_ys)

    def step(*vals):
        # (residual consts; const-cotangent sums, carry cotangents; y cotangents, residual xs)
        res_c, acc, ct_c, ct_y, res_x = split(vals, n_rc, n_lc, num_carry, n_ys)
        cts_in = eval_closed_jaxpr(body_t, *res_c, *res_x, *ct_c, *ct_y)
        ct_lc, ct_c_in, ct_lx = split(cts_in, n_lc, num_carry)
        return [lax.add(a, c) for a, c in zip(acc, ct_lc)] + ct_c_in + ct_lx

    avals = (avals_of(res_consts) + lin_const_avals + avals_of(ct_carry) +
             [a.update(shape=a.shape[1:]) for a in avals_of(ct_ys) + avals_of(res_xs)])
    zeros = [zeros_like_aval(a) for a in lin_const_avals]   # weakly typed if the const is
    outs = scan_p.bind(*res_consts, *zeros, *ct_carry, *ct_ys, *res_xs,
                       jaxpr=trace_flat(step, avals, 'transpose(scan)'), length=length,
                       reverse=not reverse, num_consts=n_rc, num_carry=n_lc + num_carry,
                       unroll=unroll)
    ct_consts, ct_init, ct_xs = (iter(part) for part in split(outs, n_lc, num_carry))
    return ([next(ct_consts) if lin else None for lin in const_lin] +
            [next(ct_init) if is_undefined(c) else (next(ct_init), None)[1] for c in carry] +
            [next(ct_xs) if lin else None for lin in xs_lin])


transpose_rules[scan_p] = _scan_transpose
