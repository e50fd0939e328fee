"""Differential testing: random small programs agree everywhere (issue 10).

`programs.py` draws programs over the primitive vocabulary (elementwise ops with
broadcasting, reductions with keepdims over any axes, reshapes, transposes,
slicing, gather/scatter with out-of-bounds indices, concatenate, cumsum, dot,
where, cond/switch/fori_loop/scan); each test here runs them several ways and
asserts that every way agrees:

    test_forward      eager == jit(backend='interpret'), bit for bit; jit(backend='numba')
                      within rtol 1e-5 / atol 1e-6, nan and inf in the same places; on
                      edge values (±0, ±inf, nan, subnormals, the largest float32, ties)
                      and on plain ones
    test_derivatives  jvp (random tangent) and vjp (random cotangent) agree with each
                      other (<ct, J t> == <J^T ct, t>) and with central finite
                      differences computed in float64 (rtol 1e-2 for the float32
                      derivatives; 1e-4 for float64 ones, so a rule off by 0.1%
                      fails); grad == vjp;
                      jit(grad) and grad(jit) == grad within rtol 1e-5 / atol 1e-6, on
                      the interpreter and on Numba. (Not bit for bit: a jit boundary
                      changes which divisions XLA turns into x * (1 / y), so JAX's own
                      grad, grad(jit) and jit(grad) differ in the last bits, and ours
                      follow JAX's; see lax.divides_by_reciprocal.)
    test_vmap         vmap == a Python loop over the batch (edge values), and
                      vmap(grad) == a loop of grad; random in_axes and out_axes, batch
                      sizes 1-3
    test_cuda         jit(backend='cuda') and jit(grad) on the CUDA simulator (small shapes)
    test_against_jax  (marked `jax`; runs where JAX is installed) the same programs
                      built with jax.numpy/jax.lax/jax.nn: values, shapes, dtypes,
                      weak types and gradients agree with JAX

Shapes, dtypes and weak types must match exactly everywhere. A failure prints the
program and its arguments as a script to paste (Hypothesis shrinks the program
first, so it is usually a line or two).

Profiles (TT_FUZZ): 'ci' (the default: 630 programs, plus 60 against JAX, in about a
minute of CPU on the 2-core CI machine), 'smoke' (a
few dozen, for a quick look) and 'long' (thousands; run by hand:
`TT_FUZZ=long python -m pytest tests/test_differential.py`). Examples are the same on
every run (conftest's Hypothesis profile); TT_HYPOTHESIS=explore draws new ones.
"""
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings, strategies as st

import tinygrad_tracer as tt
import tinygrad_tracer.numpy as jnp
from tinygrad_tracer import config, lax, nn
from programs import args_source, draw_arg, draw_args, programs

PROFILES = {
    # programs per test; numba_every=k: one program in k also runs on Numba (a new kernel
    # costs ~0.3 s to compile), numba_grad_every likewise for jit(grad) on Numba.
    'ci': dict(forward=150, derivatives=150, vmap=300, cuda=30, jax=60, numba_every=1,
               numba_grad_every=2),
    'smoke': dict(forward=20, derivatives=20, vmap=20, cuda=5, jax=20, numba_every=1, numba_grad_every=1),
    'long': dict(forward=3000, derivatives=3000, vmap=2000, cuda=400, jax=1000, numba_every=1,
                 numba_grad_every=1),
}
PROFILE = PROFILES[os.environ.get('TT_FUZZ', 'ci')]


def fuzz(n):
    # derandomize and the database come from conftest's profile: 'ci' (the same examples
    # every run) or TT_HYPOTHESIS=explore (fresh ones)
    settings_ = settings(max_examples=n, deadline=None, suppress_health_check=list(HealthCheck),
                         print_blob=False)

    def wrap(test):
        # overflow, 0/0 and friends are what the edge values are for: no NumPy warnings
        return settings_(pytest.mark.filterwarnings('ignore::RuntimeWarning')(test))
    return wrap


seeds = st.integers(0, 2 ** 32 - 1)
lanes = st.integers(0, 11)   # which programs also run on Numba (0 -> all: shrinking keeps Numba on)

REL, ABS = 1e-5, 1e-6          # Numba / CUDA against eager (their exp/tanh are within 2 ulp)
FD_RTOL = 1e-2                 # float32 derivatives against central differences in float64
FD64_RTOL = 1e-4               # float64 derivatives against them: a rule off by 0.1% fails


# --- arguments and results ----------------------------------------------------------------------

def tt_args(prog, args, float_dtype=np.float32):
    """The arguments as the program takes them: Arrays, and Python floats for 'weak' inputs."""
    out = []
    for inp, a in zip(prog.inputs, args):
        if inp.kind == 'weak':
            out.append(float(a))
        elif inp.kind == 'float':
            out.append(jnp.asarray(np.asarray(a, float_dtype)))
        else:
            out.append(jnp.asarray(a))
    return out


def leaves(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def diff_positions(prog):
    return tuple(k for k, inp in enumerate(prog.inputs) if inp.differentiable)


def loss_of(fn, cts):
    """sum_k sum(fn(...)[k] * cts[k]): a scalar whose gradient is vjp(fn)(cts)."""
    def loss(*args):
        total = 0.0
        for o, c in zip(leaves(fn(*args)), cts):
            total = total + jnp.sum(o * jnp.asarray(c))
        return total
    return loss


def only(fn, full, positions):
    """fn as a function of the arguments at `positions`, the others fixed to `full`'s."""
    def restricted(*xs):
        args = list(full)
        for k, x in zip(positions, xs):
            args[k] = x
        return fn(*args)
    return restricted


def _np(x):
    return np.asarray(x)


def repro(prog, args, call, note=''):
    return (f"{note}\n--- repro (paste into Python) ---\n"
            "import numpy as np\nfrom numpy import nan, inf\n"
            "import tinygrad_tracer as jax\nimport tinygrad_tracer.numpy as jnp\n"
            "from tinygrad_tracer import lax, nn\n\n"
            f"{prog.source()}\n{args_source(prog, args)}\n{call}\n")


def loss_src(fn):
    return ("def loss(*a):\n"
            f"    out = {fn}(*a)\n"
            "    out = out if isinstance(out, tuple) else (out,)\n"
            "    return sum(jnp.sum(o * np.float32(c)) for o, c in zip(out, cts))\n")


def call_src(prog, fn='f'):
    return f"{fn}({', '.join(i.name for i in prog.inputs)})"


def mismatch(got, want, exact, rtol=REL, atol=ABS, weak=True):
    """Why got differs from want, or None. Checks shape, dtype and (unless `weak` is
    False) weak type exactly."""
    g_leaves, w_leaves = leaves(got), leaves(want)
    if len(g_leaves) != len(w_leaves):
        return f"{len(g_leaves)} outputs, expected {len(w_leaves)}"
    for k, (g, w) in enumerate(zip(g_leaves, w_leaves)):
        gw, ww = getattr(g, 'weak_type', None), getattr(w, 'weak_type', None)
        g, w = _np(g), _np(w)
        if g.shape != w.shape or g.dtype != w.dtype or (weak and gw != ww):
            return (f"output {k}: {g.dtype}{list(g.shape)} weak_type={gw}, expected "
                    f"{w.dtype}{list(w.shape)} weak_type={ww}")
        why = (_bits_differ if exact else _not_close)(g, w, rtol, atol)
        if why:
            return f"output {k}: {why}\n got:      {g!r}\n expected: {w!r}"
    return None


def _bits_differ(g, w, rtol, atol):
    if not np.array_equal(g, w, equal_nan=True):
        return "values differ (a bit-exact match is required)"
    if g.dtype.kind == 'f':
        both = ~np.isnan(g)
        if not np.array_equal(np.signbit(g[both]), np.signbit(w[both])):
            return "signs of zeros differ (a bit-exact match is required)"
    return None


def _not_close(g, w, rtol, atol):
    if g.dtype.kind not in 'fc':
        return None if np.array_equal(g, w) else "values differ"
    g64, w64 = g.astype(np.float64), w.astype(np.float64)
    if not np.array_equal(np.isnan(g64), np.isnan(w64)):
        return "nan in different places"
    inf = np.isinf(w64)
    if not np.array_equal(np.isinf(g64), inf) or not np.array_equal(g64[inf], w64[inf]):
        return "inf in different places"
    fin = np.isfinite(w64)
    err = np.abs(g64[fin] - w64[fin]) - (atol + rtol * np.abs(w64[fin]))
    if err.size and err.max() > 0:
        return f"not within rtol={rtol} atol={atol} (largest excess {err.max():.3g})"
    return None


def check(what, got, want, prog, args, call, exact=False, rtol=REL, atol=ABS, weak=True):
    why = mismatch(got, want, exact, rtol, atol, weak)
    if why:
        raise AssertionError(repro(prog, args, call, f"{what}: {why}"))


def note_labels(prog):
    for label in prog.labels:
        event(label.split(':')[0])


# --- forward: eager, the interpreter, Numba ----------------------------------------------------

@fuzz(PROFILE['forward'])
@given(prog=programs(), seed=seeds, lane=lanes)
def test_forward(prog, seed, lane):
    note_labels(prog)
    rng = np.random.default_rng(seed)
    f = prog.build(jnp, lax, nn)
    interpret = tt.jit(f, backend='interpret')
    numba = tt.jit(f, backend='numba') if lane % PROFILE['numba_every'] == 0 else None
    for domain in ('edge', 'smooth'):
        args = draw_args(rng, prog, domain)
        xs = tt_args(prog, args)
        want = f(*xs)
        for k, (o, shape) in enumerate(zip(leaves(want), prog.out_shapes)):
            assert (o.shape, o.dtype) == (shape, np.float32), repro(
                prog, args, f"print({call_src(prog)})",
                f"eager output {k}: {o.dtype}{list(o.shape)}, expected float32{list(shape)}")
        check("jit(backend='interpret') vs eager", interpret(*xs), want, prog, args,
              f"print(jax.jit(f, backend='interpret')({', '.join(i.name for i in prog.inputs)}))\n"
              f"print({call_src(prog)})", exact=True)
        if numba is not None:
            check("jit(backend='numba') vs eager", numba(*xs), want, prog, args,
                  f"print(jax.jit(f, backend='numba')({', '.join(i.name for i in prog.inputs)}))\n"
                  f"print({call_src(prog)})")


# --- derivatives: jvp, vjp, grad, finite differences, jit∘grad, grad∘jit -------------------

def _tangent(rng, inp):
    if inp.kind == 'weak':
        return float(np.float32(rng.normal()))
    return rng.normal(size=inp.shape).astype(np.float32)


def _as_tangent(t, dtype=np.float32):
    return t if isinstance(t, float) else jnp.asarray(np.asarray(t, dtype))


def _dot(xs, ys):
    """sum_k <xs[k], ys[k]> in float64, and the same sum of absolute products (its scale)."""
    total = scale = 0.0
    for x, y in zip(xs, ys):
        p = np.asarray(x, np.float64) * np.asarray(y, np.float64)
        total += p.sum()
        scale += np.abs(p).sum()
    return total, scale


@fuzz(PROFILE['derivatives'])
@given(prog=programs(), seed=seeds, lane=lanes)
def test_derivatives(prog, seed, lane):
    note_labels(prog)
    rng = np.random.default_rng(seed)
    f = prog.build(jnp, lax, nn)
    args = draw_args(rng, prog, 'smooth')
    full = tt_args(prog, args)
    pos = diff_positions(prog)
    primals = [full[k] for k in pos]
    names = ', '.join(prog.inputs[k].name for k in pos)
    all_names = ', '.join(i.name for i in prog.inputs)
    fr = only(f, full, pos)
    out = f(*full)
    outs = leaves(out)
    tangents = [_tangent(rng, prog.inputs[k]) for k in pos]
    cts = [rng.normal(size=o.shape).astype(np.float32) for o in outs]
    ct_tree = tuple(jnp.asarray(c) for c in cts) if prog.multiple_outputs else jnp.asarray(cts[0])
    setup = (f"fr = lambda {names}: f({all_names})\n"
             f"tangents = {[t if isinstance(t, float) else t.tolist() for t in tangents]!r}\n"
             f"cts = {[c.tolist() for c in cts]!r}\n")

    # jvp with a random tangent, vjp with a random cotangent
    p_out, t_out = tt.jvp(fr, primals, [_as_tangent(t) for t in tangents])
    call = setup + f"print(jax.jvp(fr, ({names},), tuple(jnp.asarray(np.float32(t)) for t in tangents)))"
    check("jvp primal output vs eager", p_out, out, prog, args, call, exact=True)
    for k, (t, o) in enumerate(zip(leaves(t_out), outs)):
        assert (_np(t).shape, _np(t).dtype) == (o.shape, o.dtype), repro(
            prog, args, call, f"jvp tangent output {k}: {_np(t).dtype}{list(_np(t).shape)}, "
                              f"expected {o.dtype}{list(o.shape)}")
    v_out, f_vjp = tt.vjp(fr, *primals)
    ct_in = f_vjp(ct_tree)
    ct_src = ('tuple(jnp.asarray(np.float32(c)) for c in cts)' if prog.multiple_outputs
              else 'jnp.asarray(np.float32(cts[0]))')
    call = setup + f"out, f_vjp = jax.vjp(fr, {names})\nprint(f_vjp({ct_src}))"
    check("vjp primal output vs eager", v_out, out, prog, args, call, exact=True)
    for k, (c, p) in enumerate(zip(ct_in, primals)):
        want = (np.float32, (), True) if isinstance(p, float) else (np.float32, p.shape, p.weak_type)
        got = (_np(c).dtype, _np(c).shape, getattr(c, 'weak_type', None))
        assert got == want, repro(prog, args, call, f"vjp cotangent for input {k}: {got}, expected {want}")

    # <ct, J t> == <J^T ct, t> (except through clamped out-of-bounds reads: see programs.py)
    if prog.vjp_is_transpose:
        lhs, s1 = _dot(cts, leaves(t_out))
        rhs, s2 = _dot(ct_in, tangents)
        assert abs(lhs - rhs) <= 1e-4 * (s1 + s2) + 1e-6, repro(
            prog, args, call, f"<ct, jvp t> = {lhs!r} but <vjp ct, t> = {rhs!r}")

    # grad of sum(out * ct) == vjp(ct); jit(grad) and grad(jit) agree with grad
    loss = loss_of(f, cts)
    grad = tt.grad(loss, argnums=pos)
    g = grad(*full)
    gcall = setup + loss_src('f')
    check("grad(sum(f * ct)) vs vjp(f)(ct)", g, tuple(ct_in), prog, args,
          gcall + f"print(jax.grad(loss, argnums={pos!r})({all_names}))", rtol=1e-6, atol=1e-6)
    check("jit(grad, backend='interpret') vs grad", tt.jit(grad, backend='interpret')(*full), g, prog,
          args, gcall + f"print(jax.jit(jax.grad(loss, argnums={pos!r}), backend='interpret')({all_names}))\n"
          f"print(jax.grad(loss, argnums={pos!r})({all_names}))")
    check("grad(jit(f, backend='interpret')) vs grad",
          tt.grad(loss_of(tt.jit(f, backend='interpret'), cts), argnums=pos)(*full), g, prog, args,
          setup + loss_src("jax.jit(f, backend='interpret')") +
          f"print(jax.grad(loss, argnums={pos!r})({all_names}))  # against grad of the plain f")
    if lane % PROFILE['numba_grad_every'] == 0:
        check("jit(grad, backend='numba') vs grad", tt.jit(grad, backend='numba')(*full), g, prog, args,
              gcall + f"print(jax.jit(jax.grad(loss, argnums={pos!r}), backend='numba')({all_names}))\n"
              f"print(jax.grad(loss, argnums={pos!r})({all_names}))")

    if prog.smooth:
        _finite_differences(prog, f, args, pos, tangents, cts, leaves(t_out), ct_in, setup)


def _finite_differences(prog, f, args, pos, tangents, cts, t_out32, ct_in32, setup):
    """Central differences in float64 against jvp and vjp, in float64 and in float32."""
    h = 1e-5
    config.update('jax_enable_x64', True)
    try:
        full = tt_args(prog, args, np.float64)
        fr = only(f, full, pos)
        primals = [full[k] for k in pos]

        def moved(sign):
            return [p + sign * h * t if isinstance(p, float) else
                    jnp.asarray(np.asarray(p) + sign * h * np.asarray(t, np.float64))
                    for p, t in zip(primals, tangents)]
        plus, minus = leaves(fr(*moved(1))), leaves(fr(*moved(-1)))
        fd = [(_np(a) - _np(b)) / (2 * h) for a, b in zip(plus, minus)]
        _, t_out = tt.jvp(fr, primals, [_as_tangent(t, np.float64) for t in tangents])
        _, f_vjp = tt.vjp(fr, *primals)
        cts64 = [jnp.asarray(c.astype(np.float64)) for c in cts]
        ct_in = f_vjp(tuple(cts64) if prog.multiple_outputs else cts64[0])
    finally:
        config.update('jax_enable_x64', False)
    note = setup + ("# in float64: from tinygrad_tracer import config; "
                    "config.update('jax_enable_x64', True)\n# central differences with h=1e-5 "
                    "along `tangents`, against jax.jvp(fr, primals, tangents)")
    for k, (d, t64, t32) in enumerate(zip(fd, leaves(t_out), t_out32)):
        scale = 1.0 + float(np.abs(d).max(initial=0.0))
        for what, t, rtol, atol in (('float64', t64, FD64_RTOL, 1e-6 * scale),
                                    ('float32', t32, FD_RTOL, 1e-3 * scale)):
            err = np.abs(_np(t).astype(np.float64) - d) - (atol + rtol * np.abs(d))
            assert not (err.size and err.max() > 0), repro(
                prog, args, note, f"jvp ({what}) output {k} vs central differences: not within "
                                  f"rtol={rtol} atol={atol:.3g}\n jvp: {_np(t)!r}\n fd:  {d!r}")
    if not prog.vjp_is_transpose:
        return
    fd_dot, s1 = _dot(cts, fd)
    for what, ct_in_, rtol in (('float64', ct_in, FD64_RTOL), ('float32', ct_in32, FD_RTOL)):
        v_dot, s2 = _dot(ct_in_, tangents)
        assert abs(fd_dot - v_dot) <= rtol * (s1 + s2) * 0.5 + 1e-6, repro(
            prog, args, note, f"vjp ({what}): <vjp ct, t> = {v_dot!r}, but central differences "
                              f"give <ct, J t> = {fd_dot!r}")


# --- vmap -------------------------------------------------------------------------------------

def _batched(rng, prog, batch, domain):
    """Batched arguments and in_axes: floats batched along a random axis, index and mask
    inputs batched or shared, Python floats shared."""
    args, axes = [], []
    for k, inp in enumerate(prog.inputs):
        if inp.kind == 'weak':
            axis = None
        elif inp.kind == 'float':
            axis = 0 if k == 0 or rng.random() < 0.6 else int(rng.integers(0, len(inp.shape) + 1))
        else:
            axis = None if rng.random() < 0.5 else int(rng.integers(0, len(inp.shape) + 1))
        if axis is None:
            args.append(draw_arg(rng, inp, domain))
        else:
            args.append(np.stack([draw_arg(rng, inp, domain) for _ in range(batch)], axis=axis))
        axes.append(axis)
    return args, tuple(axes)


def _unbatched(prog, args, axes, b):
    return [a if ax is None else np.take(a, b, axis=ax) for a, ax in zip(args, axes)]


def _stack(outs, axes=None):
    """Per-example results stacked along a new axis (axes[k] for output k, else 0),
    weakly typed if they all are."""
    stacked = []
    for k, group in enumerate(zip(*outs)):
        x = jnp.asarray(np.stack([_np(o) for o in group], axis=0 if axes is None else axes[k]))
        if all(getattr(o, 'weak_type', False) for o in group):
            x = lax.convert_element_type(x, x.dtype, weak_type=True)
        stacked.append(x)
    return tuple(stacked)


@fuzz(PROFILE['vmap'])
@given(prog=programs(), seed=seeds)
def test_vmap(prog, seed):
    note_labels(prog)
    rng = np.random.default_rng(seed)
    f = prog.build(jnp, lax, nn)
    batch = int(rng.integers(1, 4))
    args, axes = _batched(rng, prog, batch, 'edge')
    out_axes = tuple(int(rng.integers(0, len(s) + 1)) if rng.random() < 0.3 else 0 for s in prog.out_shapes)
    out_axes_arg = out_axes if prog.multiple_outputs else out_axes[0]
    call = (f"print(jax.vmap(f, in_axes={axes!r}, out_axes={out_axes_arg!r})"
            f"({', '.join(i.name for i in prog.inputs)}))\n"
            f"# against f on each slice along in_axes ({batch} of them), stacked along out_axes")
    with np.errstate(all='ignore'):
        got = tt.vmap(f, in_axes=axes, out_axes=out_axes_arg)(*tt_args(prog, args))
        loop = [leaves(f(*tt_args(prog, _unbatched(prog, args, axes, b)))) for b in range(batch)]
    check("vmap(f) vs a loop", tuple(leaves(got)), _stack(loop, out_axes), prog, args, call)

    # vmap(grad) against a loop of grad, on smooth values
    args, axes = _batched(rng, prog, batch, 'smooth')
    pos = diff_positions(prog)
    cts = [rng.normal(size=s).astype(np.float32) for s in prog.out_shapes]
    grad = tt.grad(loss_of(f, cts), argnums=pos)
    got = tt.vmap(grad, in_axes=axes)(*tt_args(prog, args))
    loop = [grad(*tt_args(prog, _unbatched(prog, args, axes, b))) for b in range(batch)]
    check("vmap(grad(sum(f * ct))) vs a loop of grad", tuple(leaves(got)), _stack(loop), prog, args,
          f"cts = {[c.tolist() for c in cts]!r}\n" + loss_src('f') +
          f"print(jax.vmap(jax.grad(loss, argnums={pos!r}), in_axes={axes!r})"
          f"({', '.join(i.name for i in prog.inputs)}))")


# --- the CUDA backend (under the simulator in CI: small shapes) ------------------------------

@fuzz(PROFILE['cuda'])
@given(prog=programs(max_ops=5, max_size=12), seed=seeds)
def test_cuda(prog, seed):
    note_labels(prog)
    rng = np.random.default_rng(seed)
    f = prog.build(jnp, lax, nn)
    cuda = tt.jit(f, backend='cuda')
    names = ', '.join(i.name for i in prog.inputs)
    for domain in ('edge', 'smooth'):
        args = draw_args(rng, prog, domain)
        xs = tt_args(prog, args)
        with np.errstate(all='ignore'):
            want = f(*xs)
        check("jit(backend='cuda') vs eager", cuda(*xs), want, prog, args,
              f"print(jax.jit(f, backend='cuda')({names}))\nprint(f({names}))")
    pos = diff_positions(prog)
    cts = [rng.normal(size=s).astype(np.float32) for s in prog.out_shapes]
    grad = tt.grad(loss_of(f, cts), argnums=pos)
    check("jit(grad, backend='cuda') vs grad", tt.jit(grad, backend='cuda')(*xs), grad(*xs), prog, args,
          f"cts = {[c.tolist() for c in cts]!r}\n" + loss_src('f') +
          f"print(jax.jit(jax.grad(loss, argnums={pos!r}), backend='cuda')({names}))\n"
          f"print(jax.grad(loss, argnums={pos!r})({names}))")


# --- against JAX ------------------------------------------------------------------------------

def _jax_args(real_jax, prog, args):
    return [float(a) if inp.kind == 'weak' else real_jax.numpy.asarray(a)
            for inp, a in zip(prog.inputs, args)]


@pytest.mark.jax
@fuzz(PROFILE['jax'])
@given(prog=programs(), seed=seeds)
def test_against_jax(real_jax, prog, seed):
    note_labels(prog)
    rng = np.random.default_rng(seed)
    f = prog.build(jnp, lax, nn)
    fj = prog.build(real_jax.numpy, real_jax.lax, real_jax.nn)
    names = ', '.join(i.name for i in prog.inputs)
    call = (f"print({call_src(prog)})\n"
            "# and the same with `import jax, jax.numpy as jnp; from jax import lax, nn`")
    # Edge values, but not those XLA:CPU computes differently on purpose: it flushes
    # subnormals to zero (1e-38 / 4.7 is 0 in JAX, 2.5e-39 here) and multiplies and sums
    # in another order (cumprod is a parallel scan: inf * (1e-31 * 1e-43) is nan there).
    for domain in ('edge_for_jax', 'smooth'):
        args = draw_args(rng, prog, domain)
        with np.errstate(all='ignore'):
            want = fj(*_jax_args(real_jax, prog, args))
            got = f(*tt_args(prog, args))
        check(f"eager vs JAX ({domain} values)", got, want, prog, args, call, rtol=1e-5, atol=1e-6)
    if any(label.startswith('scatter:mul') and label.endswith(':repeated') for label in prog.labels):
        return   # JAX differentiates x.at[i].mul(u) only with unique_indices=True
    pos = diff_positions(prog)
    cts = [rng.normal(size=s).astype(np.float32) for s in prog.out_shapes]
    got = tt.grad(loss_of(f, cts), argnums=pos)(*tt_args(prog, args))

    def jloss(*a):
        out = fj(*a)
        return sum(real_jax.numpy.sum(o * c) for o, c in zip(leaves(out), cts))
    want = real_jax.grad(jloss, argnums=pos)(*_jax_args(real_jax, prog, args))
    check("grad vs JAX's grad", got, want, prog, args,
          f"cts = {[c.tolist() for c in cts]!r}\n" + loss_src('f') +
          f"print(jax.grad(loss, argnums={pos!r})({names}))  # here and in JAX",
          # A known difference (README): our gradient always has its primal's weak
          # type; JAX's depends on the path (grad(nn.logsumexp)(0.4) is strong there).
          rtol=1e-4, atol=1e-5, weak=False)


# --- the generator itself ---------------------------------------------------------------------

def test_generator_covers_the_vocabulary():
    """A thousand drawn programs (no execution) use every op family and the edge cases
    the issue lists: keepdims, size-1 and empty reductions, out-of-bounds gathers and
    scatters, negative-step slices, zero-trip loops, reversed scans, weak scalars."""
    seen, count = set(), []

    @fuzz(1000)
    @given(prog=programs())
    def collect(prog):
        seen.update(prog.labels)
        count.append(1)
        compile(prog.source(), '<program>', 'exec')
    collect()
    wanted = {'add', 'mul', 'div', 'exp', 'log', 'tanh', 'where', 'sum', 'max', 'logsumexp',
              'sum:keepdims', 'reduce:noaxes', 'cumsum', 'lax_cumsum_reverse', 'reshape', 'transpose',
              'squeeze', 'expand_dims', 'broadcast_to', 'slice', 'slice:neg_step', 'slice:int', 'flip',
              'concatenate', 'stack', 'pad', 'lax_pad', 'dot', 'matmul_batched', 'dot_general',
              'gather:axis0:oob', 'gather:axis1', 'gather:two', 'gather:scalar', 'scatter:add:oob',
              'scatter:set', 'scatter:mul', 'scatter:max', 'dynamic_slice', 'dynamic_update_slice',
              'cond', 'switch', 'fori_loop', 'fori_loop:zero_trips', 'scan', 'scan:reverse',
              'weak_input', 'integer_pow', 'maximum'}
    missing = [w for w in wanted if not any(label.startswith(w) for label in seen)]
    assert not missing, (missing, len(count))
