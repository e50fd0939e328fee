"""`while` and `scan` loops that run entirely in compiled code.

When every step of a loop's body (and of a while loop's condition) is a fused
kernel, the whole loop becomes one Numba function: the kernels, a function
per body calling them, and the loop itself, in one source file (cached on
disk like a kernel). `fori_loop(0, 1000, body, x)` then costs one call from
Python instead of a thousand:

    @njit(cache=True, error_model='numpy')
    def while_body(a, b, c):               # the body's driver
        d = np.empty((), np.int32)
        e = np.empty((3,), np.float32)
        while_body_k0(3, a, c, d, e)
        return (d, b, e)

    @njit(cache=True, error_model='numpy')
    def loop(x0, x1, x2):
        x0, x1, x2 = x0.copy(), x1.copy(), x2.copy()
        while while_cond(x0, x1, x2)[0][()]:
            x0, x1, x2 = while_body(x0, x1, x2)
        return (x0, x1, x2)

A float matrix product in the body is a `@` in the compiled function (Numba
calls SciPy's BLAS). Bodies with another dot_general, a fallback or nested
control flow keep the loop in Python (in `numba_cpu`), calling the body's
compiled steps.
"""
from . import fusion
from .codegen import np_type
from ..jaxpr import Var
from ..lax_control_flow import while_p


def _driver(plan, name, kernel_source, dot_expr):
    """An @njit function running the body's kernels and matrix products (`dot_expr(eqn,
    lhs, rhs)`: the source of one, or None); None if some step is neither."""
    py = plan.py_names
    dots = {s: dot_expr(s.eqn, *(py[x] for x in s.eqn.inputs)) for s in plan.steps
            if s.kind == 'dot' and all(isinstance(x, Var) for x in s.eqn.inputs)}
    made = {v for s in plan.steps if s.kind == 'kernel' or dots.get(s) for v in s.outputs}
    if plan.constvars or any(s.kind != 'kernel' and not dots.get(s) for s in plan.steps) or any(
            not isinstance(v, Var) or (v not in made and v not in plan.invars)
            for v in plan.outvars):
        return None, []
    lines = [f"def {name}({', '.join(py[v] for v in plan.invars)}):"]
    sources = []
    for k in plan.steps:   # kernels, and dots
        if k in dots:   # a new C-contiguous array, as the kernels after it expect
            lines.append(f"    {py[k.eqn.out_binders[0]]} = np.ascontiguousarray({dots[k]})")
            continue
        sources.append(kernel_source(k, plan))
        lines += [f"    {py[v]} = np.empty({tuple(v.aval.shape)}, {np_type(v.aval.dtype)})"
                  for v in k.outputs]
        args = [str(n) for n in k.domain] + [py[v] for v in k.inputs + k.outputs]
        lines.append(f"    {k.name}({', '.join(args)})")
    outs = ', '.join(py[v] for v in plan.outvars)
    lines.append(f"    return ({outs}{',' if len(plan.outvars) == 1 else ''})")
    return "@njit(cache=True, error_model='numpy')\n" + '\n'.join(lines) + '\n', sources


def loop_source(eqn, kernel_source, parallel_min, dot_expr=lambda eqn, lhs, rhs: None):
    """Source of a module whose `loop` function runs the whole `while` or `scan`
    equation, or None when its body needs Python (see the module docstring).
    `dot_expr(eqn, lhs, rhs)`: the source of a dot_general the compiled loop can
    run, or None."""
    p = eqn.params
    if eqn.primitive is while_p:
        parts = [('while_cond', p['cond_jaxpr']), ('while_body', p['body_jaxpr'])]
    else:
        parts = [('scan_body', p['jaxpr'])]
    functions, kernels = [], []
    for name, closed in parts:
        plan = fusion.partition(closed, name, parallel_min, 'numba')
        fn, sources = _driver(plan, name, kernel_source, dot_expr)
        if fn is None:
            return None
        functions.append(fn)
        kernels += sources
    loop = _while_loop(p) if eqn.primitive is while_p else _scan_loop(p)
    if loop is None:
        return None
    return '\n\n'.join(kernels + functions + [loop])


def _names(prefix, n):
    return [f"{prefix}{i}" for i in range(n)]


def _while_loop(p):
    cc, bc = _names('cc', p['cond_nconsts']), _names('bc', p['body_nconsts'])
    carry = _names('x', len(p['body_jaxpr'].out_avals))
    tup = ', '.join(carry) + (',' if len(carry) == 1 else '')
    return (f"@njit(cache=True, error_model='numpy')\n"
            f"def loop({', '.join(cc + bc + carry)}):\n"
            f"    {tup} = {', '.join(f'{x}.copy()' for x in carry)}{',' if len(carry) == 1 else ''}"
            f"   # writable, like the body's results\n"
            f"    while while_cond({', '.join(cc + carry)})[0][()]:\n"
            f"        {tup} = while_body({', '.join(bc + carry)})\n"
            f"    return ({tup})\n")


def _scan_loop(p):
    nconst, ncarry, length = p['num_consts'], p['num_carry'], p['length']
    out_avals = p['jaxpr'].out_avals
    consts, carry = _names('c', nconst), _names('x', ncarry)
    xs = _names('xs', len(p['jaxpr'].in_avals) - nconst - ncarry)
    ys = _names('ys', len(out_avals) - ncarry)
    if not carry:
        return None
    tup = ', '.join(carry) + (',' if len(carry) == 1 else '')
    index = f"{length - 1} - it" if p['reverse'] else "it"
    body_args = consts + carry + [f"np.asarray({x}[i])" for x in xs]   # 0-d arrays, never scalars
    lines = ["@njit(cache=True, error_model='numpy')",
             f"def loop({', '.join(consts + carry + xs + ys)}):",
             f"    {tup} = {', '.join(f'{x}.copy()' for x in carry)}{',' if len(carry) == 1 else ''}",
             f"    for it in range({length}):",
             f"        i = {index}",
             f"        outs = scan_body({', '.join(body_args)})"]
    lines += [f"        {x} = outs[{n}]" for n, x in enumerate(carry)]
    lines += [f"        {y}[i] = outs[{ncarry + n}]{'[()]' if not out_avals[ncarry + n].shape else ''}"
              for n, y in enumerate(ys)]
    lines.append(f"    return ({tup})")
    return '\n'.join(lines) + '\n'
