"""The classroom's checks: one group of tests per exercise (lessons/exercises/README.md).

Which folder is checked: `TT_EXERCISES=PATH` or `pytest --student PATH` (any
folder holding files named like lessons/exercises/ex01_softplus_jvp.py).
Without either, the teacher's answers in lessons/solutions/ are checked (what
CI runs), and the header of the run says so. One exercise: `-m ex05`.

Each check says what is wrong in the student's terms. `CHECKS` maps each
exercise to its check functions; tests/test_classroom.py runs them on the
stubs (which must fail), and on every kept wrong answer (which must fail too).
"""
import contextlib
import importlib.util
import pathlib
import sys

import numpy as np
import pytest

import tinygrad_tracer as jax
import tinygrad_tracer.numpy as jnp

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXERCISES = ROOT / 'lessons' / 'exercises'
sys.path.insert(0, str(EXERCISES))   # `classroom`: the primitives every exercise shares
import classroom  # noqa: E402


def load(folder, name):
    """The module `name` (e.g. 'ex01_softplus_jvp') from the file in `folder`."""
    path = pathlib.Path(folder) / f'{name}.py'
    if not path.exists():
        pytest.fail(f"{path} does not exist: copy lessons/exercises/{name}.py there and solve it.")
    return load_file(path, name)


def load_file(path, name):
    """Run the file `path` afresh as exercise `name`'s module: its rules are (re-)registered."""
    spec = importlib.util.spec_from_file_location(f'student_{name}', path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@contextlib.contextmanager
def own_rules():
    """Run with the rule tables as they are, restored afterwards: what an exercise file
    registers (a student's rule, a kept wrong answer) does not outlive its check."""
    from tinygrad_tracer.backends import codegen
    from tinygrad_tracer.batching import batching_rules
    from tinygrad_tracer.jvp import jvp_rules
    from tinygrad_tracer.transpose import transpose_rules
    tables = [jvp_rules, transpose_rules, batching_rules, codegen.SCALAR_RULES]
    saved = [dict(t) for t in tables]
    try:
        yield
    finally:
        for table, entries in zip(tables, saved):
            table.clear()
            table.update(entries)


def close(got, want, message, rtol=1e-5, atol=1e-6):
    got = np.asarray(got)
    assert got.shape == np.shape(want), f"{message}: got shape {got.shape}, expected {np.shape(want)}"
    assert np.allclose(got, want, rtol=rtol, atol=atol), f"{message}:\n  got      {got}\n  expected {np.asarray(want)}"


CHECKS = {}


def check(name):
    """Register a check of exercise `name`, and a pytest test (marked with the exercise's
    number) that runs it on the folder being checked."""
    def deco(fn):
        CHECKS.setdefault(name, []).append(fn)
        marker = getattr(pytest.mark, name.split('_')[0])

        @marker
        def test(exercise_dir):
            with own_rules():
                fn(load(exercise_dir, name))
        test.__name__ = f"test_{fn.__name__}"
        globals()[test.__name__] = test
        return fn
    return deco


# --- ex01: the JVP rule of softplus ---------------------------------------------------

@check('ex01_softplus_jvp')
def ex01_values(ex):
    x = np.linspace(-3, 3, 7).astype(np.float32)
    t = np.linspace(0.5, 2, 7).astype(np.float32)
    y, y_dot = jax.jvp(classroom.softplus, (jnp.asarray(x),), (jnp.asarray(t),))
    close(y, np.logaddexp(0, x), "softplus_jvp's primal output is not softplus(x)")
    sig = 1 / (1 + np.exp(-x))
    if np.allclose(np.asarray(y_dot), sig, rtol=1e-4):
        pytest.fail("your rule's tangent does not scale with x_dot: it returns the derivative "
                    "logistic(x) itself; multiply it by the input tangent x_dot")
    if np.allclose(np.asarray(y_dot), (1 - sig) * t, rtol=1e-4):
        pytest.fail("your rule's tangent has the slope of softplus(-x) (logistic(-x)): "
                    "check the sign inside logistic")
    close(y_dot, sig * t, "softplus_jvp's tangent is not logistic(x) * x_dot")


@check('ex01_softplus_jvp')
def ex01_higher_order(ex):
    assert float(jax.grad(classroom.softplus)(0.0)) == pytest.approx(0.5), "grad(softplus)(0) should be 0.5"
    # Only a rule made of lax/jnp operations can itself be differentiated: s(x)(1 - s(x)).
    assert float(jax.grad(jax.grad(classroom.softplus))(0.0)) == pytest.approx(0.25), \
        "grad(grad(softplus))(0) should be 0.25: is your tangent made of lax/jnp operations?"
    close(jax.jit(jax.grad(classroom.softplus))(jnp.asarray(2.0)), 1 / (1 + np.exp(-2.0)),
          "jit(grad(softplus)) gives a wrong derivative")


@check('ex01_softplus_jvp')
def ex01_tangent_tag(ex):
    jaxpr = jax.make_jaxpr(lambda x, t: jax.jvp(classroom.softplus, (x,), (t,)))(1.0, 1.0).jaxpr
    tags = {e.primitive.name: e.tag for e in jaxpr.eqns}
    untagged = [n for n, tag in tags.items() if n != 'softplus' and tag != 'tangent']
    assert not untagged, (f"the tangent's equations ({', '.join(untagged)}) are not tagged "
                          "'tangent': compute the tangent inside `with core.tag('tangent'):`, "
                          "so graphs colour your rule as the library's own")


# --- ex02: the JVP rule of a quotient ------------------------------------------------

@check('ex02_quotient_jvp')
def ex02_values(ex):
    x, y = np.float32([1.0, -2.0, 3.0]), np.float32([2.0, 4.0, -0.5])
    xd, yd = np.float32([0.5, 1.0, 2.0]), np.float32([1.0, -1.0, 0.25])
    out, out_dot = jax.jvp(classroom.quotient, (jnp.asarray(x), jnp.asarray(y)), (jnp.asarray(xd), jnp.asarray(yd)))
    close(out, x / y, "quotient_jvp's primal output is not x / y")
    want = xd / y - x * yd / y ** 2
    if np.allclose(np.asarray(out_dot), xd / y + x * yd / y ** 2, rtol=1e-4):
        pytest.fail("your tangent adds the y term: d(x/y) = x_dot / y MINUS x * y_dot / y**2")
    if np.allclose(np.asarray(out_dot), xd / y, rtol=1e-4):
        pytest.fail("your tangent does not change with y_dot: the quotient depends on y too "
                    "(- x * y_dot / y**2)")
    close(out_dot, want, "quotient_jvp's tangent is not x_dot / y - x * y_dot / y**2")


@check('ex02_quotient_jvp')
def ex02_grads_one_operand(ex):
    # grad with respect to one operand: the other one's tangent is a symbolic Zero.
    assert float(jax.grad(classroom.quotient, argnums=0)(3.0, 2.0)) == pytest.approx(0.5), \
        "d/dx (x / y) at (3, 2) should be 1/y = 0.5"
    assert float(jax.grad(classroom.quotient, argnums=1)(3.0, 2.0)) == pytest.approx(-0.75), \
        "d/dy (x / y) at (3, 2) should be -x / y**2 = -0.75"
    assert float(jax.grad(jax.grad(classroom.quotient, argnums=1), argnums=1)(3.0, 2.0)) == pytest.approx(0.75), \
        "d2/dy2 (x / y) at (3, 2) should be 2x / y**3 = 0.75: is your tangent made of lax operations?"


# --- ex03: a transpose rule that sums over broadcast axes -------------------------------

def transpose_shape_hint(err):
    return ("your transpose rule returned a cotangent of the wrong shape. x is f32[n], and "
            "rowscale broadcast it over the m rows of c: the cotangent of x must be summed "
            f"over that broadcast axis (axis 0), back to shape (n,).\n{err}")


@check('ex03_rowscale_transpose')
def ex03_vjp(ex):
    from tinygrad_tracer.errors import RuleOutputError
    c = np.float32([[1, 2, 3, 4], [-1, 0.5, 2, 1], [3, 1, -2, 0]])   # m=3 rows, n=4
    x, ct = np.float32([1, -1, 2, 0.5]), np.float32([[1, 0, 2, 1], [0.5, 1, 1, -1], [2, 1, 0, 3]])
    try:
        out, f_vjp = jax.vjp(lambda x: classroom.rowscale(x, jnp.asarray(c)), jnp.asarray(x))
        (x_bar,) = f_vjp(jnp.asarray(ct))
    except RuleOutputError as err:
        pytest.fail(transpose_shape_hint(err))
    close(out, c * x, "rowscale itself gives a wrong value (did you edit rowscale_jvp?)")
    if np.allclose(np.asarray(x_bar), ct.sum(0)):
        pytest.fail("your cotangent does not depend on c: the output was c * x, so each row's "
                    "cotangent is multiplied by c before summing")
    close(x_bar, (ct * c).sum(0), "the cotangent of x should be sum over rows of ct * c")


@check('ex03_rowscale_transpose')
def ex03_grad(ex):
    from tinygrad_tracer.errors import RuleOutputError
    c = jnp.asarray(np.float32([[1, 2], [3, -1], [0.5, 2]]))
    f = lambda x: jnp.sum(classroom.rowscale(x, c) ** 2)   # d/dx_j = 2 x_j sum_i c_ij**2
    try:
        g = jax.grad(f)(jnp.asarray([1.0, -2.0]))
    except RuleOutputError as err:
        pytest.fail(transpose_shape_hint(err))
    close(g, 2 * np.float32([1, -2]) * (np.asarray(c) ** 2).sum(0), "grad of sum(rowscale(x, c)**2)")


# --- ex04: the batching rule of a reduction --------------------------------------------

@check('ex04_sum_batching')
def ex04_batch_axis_anywhere(ex):
    from tinygrad_tracer.errors import RuleOutputError
    xs = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    for in_axis in range(4):
        for axis in range(3):
            batch = np.moveaxis(xs, 0, in_axis)   # 2 examples of shape (3, 4, 5), batch at in_axis
            try:
                got = jax.vmap(lambda x: classroom.sum_axis(x, axis), in_axes=in_axis)(jnp.asarray(batch))
            except RuleOutputError as err:
                pytest.fail(f"vmap(in_axes={in_axis}) of sum_axis(x, axis={axis}): your rule's result "
                            f"does not fit what it says of the batch axis.\n{err}")
            want = xs.sum(axis + 1)
            if np.shape(got) == want.shape and not np.allclose(np.asarray(got), want):
                pytest.fail(f"vmap(in_axes={in_axis}) of sum_axis(x, axis={axis}) sums the wrong "
                            "axis: the batch axis at x_bdim must be moved first (or the axis "
                            "number shifted past it), and `axis` counts the axes of one example")
            close(got, want, f"vmap(in_axes={in_axis}) of sum_axis(x, axis={axis})")


@check('ex04_sum_batching')
def ex04_under_grad_and_jit(ex):
    xs = jnp.asarray(np.arange(24, dtype=np.float32).reshape(4, 2, 3))
    close(jax.jit(jax.vmap(lambda x: classroom.sum_axis(x, 1), in_axes=1))(xs), np.asarray(xs).sum(2).T,
          "jit(vmap(sum_axis(x, 1), in_axes=1))")


# --- ex05: the batching rule of a dot product -------------------------------------------

@check('ex05_vecdot_batching')
def ex05_every_in_axes(ex):
    from tinygrad_tracer.errors import RuleOutputError
    rng = np.random.default_rng(5)
    xs, ys = rng.normal(size=(3, 4)).astype(np.float32), rng.normal(size=(3, 4)).astype(np.float32)
    v = rng.normal(size=4).astype(np.float32)
    cases = [((0, 0), xs, ys, (xs * ys).sum(1)), ((1, 0), xs.T, ys, (xs * ys).sum(1)),
             ((0, 1), xs, ys.T, (xs * ys).sum(1)), ((0, None), xs, v, xs @ v),
             ((None, 1), v, ys.T, ys @ v), ((1, None), xs.T, v, xs @ v)]
    for in_axes, x, y, want in cases:
        try:
            got = jax.vmap(classroom.vecdot, in_axes=in_axes)(jnp.asarray(x), jnp.asarray(y))
        except RuleOutputError as err:
            pytest.fail(f"vmap(vecdot, in_axes={in_axes}): your rule's result does not fit its "
                        f"batch dim.\n{err}")
        except Exception as err:
            pytest.fail(f"vmap(vecdot, in_axes={in_axes}) fails: remember that an operand may be "
                        f"unbatched (its bdim is not_mapped) or batched along axis 1.\n"
                        f"{type(err).__name__}: {err}")
        close(got, want, f"vmap(vecdot, in_axes={in_axes})")


@check('ex05_vecdot_batching')
def ex05_any_batch_size_and_no_python_loop(ex):
    xs = jnp.asarray(np.arange(20, dtype=np.float32).reshape(5, 4))
    jaxpr = jax.make_jaxpr(jax.vmap(classroom.vecdot, in_axes=(0, None)))(xs, jnp.ones(4))
    n_eqns = len(jaxpr.jaxpr.eqns)
    assert n_eqns <= 4, (f"vmap(vecdot) of 5 examples records {n_eqns} equations: batch the whole "
                         "batch with one operation, not a Python loop over examples")
    close(jax.vmap(classroom.vecdot, in_axes=(0, None))(xs, jnp.ones(4)), np.asarray(xs).sum(1),
          "vmap(vecdot) over a batch of 5")


# --- ex06: registering a pytree node --------------------------------------------------

def ex06_particle(ex):
    return ex.Particle(jnp.asarray([1.0, 2.0]), jnp.asarray([3.0, -1.0]), 'proton')


@check('ex06_pytree_node')
def ex06_flatten(ex):
    from tinygrad_tracer import tree_util
    p = ex06_particle(ex)
    leaves, tree = tree_util.tree_flatten(p)
    assert len(leaves) == 2 and all(hasattr(x, 'shape') for x in leaves), \
        f"a Particle should flatten to its two arrays (pos, vel), got leaves {leaves}"
    q = tree_util.tree_unflatten(tree, [leaves[0] * 10, leaves[1]])
    assert isinstance(q, ex.Particle), f"unflatten should give a Particle back, got {q!r}"
    assert q.label == 'proton', f"unflatten lost the label: {q.label!r} (keep it in aux_data)"
    close(q.pos, [10, 20], "unflatten(flatten(p)) puts the children back in the wrong fields (pos)")
    close(q.vel, [3, -1], "unflatten(flatten(p)) puts the children back in the wrong fields (vel)")


@check('ex06_pytree_node')
def ex06_grad_and_jit(ex):
    def energy(p):
        return jnp.sum(p.pos ** 2) + 0.5 * jnp.sum(p.vel ** 2) * (2.0 if p.label == 'proton' else 1.0)

    g = jax.grad(energy)(ex06_particle(ex))
    assert isinstance(g, ex.Particle) and g.label == 'proton', \
        f"grad of a function of a Particle should be a Particle with the same label, got {g!r}"
    close(g.pos, [2, 4], "grad(energy).pos should be 2 * pos")
    close(g.vel, [6, -2], "grad(energy).vel should be 2 * vel (the label is 'proton')")
    assert float(jax.jit(energy)(ex06_particle(ex))) == pytest.approx(15.0), "jit(energy) is wrong"


# --- ex07: custom_vjp for a numerically stable function ---------------------------------

@check('ex07_custom_vjp')
def ex07_stable_gradient(ex):
    x = np.float32([-100, -3, 0, 2, 100])
    sig = 1 / (1 + np.exp(-x.astype(np.float64)))
    close(ex.log1pexp(jnp.asarray(x)), np.logaddexp(0, x), "log1pexp's value changed")
    g = np.asarray(jax.vmap(jax.grad(ex.log1pexp))(jnp.asarray(x)))
    assert np.all(np.isfinite(g)), (f"your gradient is not finite: {g} (at x = 100, exp(x) "
                                    "overflows: compute the derivative with jax.nn.sigmoid)")
    if np.allclose(g, 1 - sig, atol=1e-6):
        pytest.fail(f"your gradient {g} is the sigmoid of -x: d/dx log(1 + exp(x)) = sigmoid(x)")
    close(g, sig, "grad(log1pexp) should be sigmoid(x)")


@check('ex07_custom_vjp')
def ex07_cotangent_scales(ex):
    out, f_vjp = jax.vjp(ex.log1pexp, jnp.asarray([0.0, 1.0]))
    (x_bar,) = f_vjp(jnp.asarray([2.0, -3.0]))
    sig = 1 / (1 + np.exp(-np.float32([0.0, 1.0])))
    if np.allclose(np.asarray(x_bar), sig):
        pytest.fail("your bwd ignores the output cotangent ct: return ct * sigmoid(x), "
                    "so that vjp with a cotangent of 2 gives twice the gradient")
    close(x_bar, np.float32([2.0, -3.0]) * sig, "the vjp of log1pexp with cotangent [2, -3]")


# --- ex08: per-example gradients ------------------------------------------------------

def ex08_data(n, seed=8):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=3).astype(np.float32), rng.normal(size=(n, 3)).astype(np.float32),
            rng.normal(size=n).astype(np.float32))


@check('ex08_per_example_grads')
def ex08_values(ex):
    w, xs, ys = ex08_data(5)
    got = ex.per_example_grads(jnp.asarray(w), jnp.asarray(xs), jnp.asarray(ys))
    want = 2 * (xs @ w - ys)[:, None] * xs
    if np.shape(got) == want.shape and np.allclose(np.asarray(got), want.sum(0), rtol=1e-4):
        pytest.fail("every row is the gradient of the TOTAL loss: take grad of the loss of one "
                    "example, then vmap it over the examples")
    close(got, want, "per_example_grads: row i should be the gradient of loss(w, xs[i], ys[i]) "
          "with respect to w", rtol=1e-4, atol=1e-5)


@check('ex08_per_example_grads')
def ex08_no_python_loop(ex):
    sizes = {}
    for n in (3, 7):
        w, xs, ys = ex08_data(n)
        sizes[n] = len(jax.make_jaxpr(ex.per_example_grads)(w, xs, ys).jaxpr.eqns)
    assert sizes[3] == sizes[7], (
        f"per_example_grads records {sizes[3]} equations for 3 examples and {sizes[7]} for 7: "
        "it loops over the examples in Python. Let jax.vmap batch them.")


# --- ex09: a new primitive end to end ---------------------------------------------------

@check('ex09_new_primitive')
def ex09_eval_and_jit(ex):
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    close(ex.cumsum(jnp.asarray(x)), np.cumsum(x, -1), "cumsum(x) (eager: your impl) on a 3x4 matrix")
    jaxpr = jax.make_jaxpr(ex.cumsum)(x)
    assert jaxpr.jaxpr.out_avals[0].shape == (3, 4), "your abstract eval gives the wrong shape"
    close(jax.jit(lambda x: ex.cumsum(x) * 2)(jnp.asarray(x)), 2 * np.cumsum(x, -1), "jit of cumsum")


@check('ex09_new_primitive')
def ex09_jvp_and_grad(ex):
    x, t = jnp.asarray([1.0, 2.0, 3.0]), jnp.asarray([1.0, 0.0, 2.0])
    _, y_dot = jax.jvp(ex.cumsum, (x,), (t,))
    close(y_dot, [1, 1, 3], "jvp of cumsum: the tangent is the cumsum of the input tangent")
    w = np.float32([1, 10, 100])
    g = jax.grad(lambda x: jnp.sum(ex.cumsum(x) * w))(x)
    if np.allclose(np.asarray(g), np.cumsum(w)):
        pytest.fail("your transpose is cumsum itself: x[i] feeds every y[j] with j >= i, so the "
                    "cotangent of x[i] sums ct[j] for j >= i (a reversed cumsum)")
    close(g, [111, 110, 100], "grad of sum(cumsum(x) * [1, 10, 100])")
    close(jax.jit(jax.grad(lambda x: jnp.sum(ex.cumsum(x) * w)))(x), [111, 110, 100],
          "jit(grad(...)) of cumsum")


@check('ex09_new_primitive')
def ex09_vmap(ex):
    xs = np.arange(12, dtype=np.float32).reshape(3, 4)
    close(jax.vmap(ex.cumsum)(jnp.asarray(xs)), np.cumsum(xs, -1), "vmap(cumsum) of 3 vectors")
    got = jax.vmap(ex.cumsum, in_axes=1)(jnp.asarray(xs))
    close(got, np.cumsum(xs.T, -1), "vmap(cumsum, in_axes=1): 4 vectors stored as columns, "
          "so the batch axis is the last axis: move it out of the way first")
    g = jax.vmap(jax.grad(lambda x: jnp.sum(ex.cumsum(x))))(jnp.asarray(xs))
    close(g, np.broadcast_to(np.float32([4, 3, 2, 1]), (3, 4)), "vmap(grad(sum(cumsum(x))))")


# --- ex10: eval_jaxpr ---------------------------------------------------------------

def ex10_replay(ex, f, *args):
    closed = jax.make_jaxpr(f)(*args)
    try:
        return ex.eval_jaxpr(closed.jaxpr, closed.consts, *args)
    except KeyError as err:
        pytest.fail(f"your eval_jaxpr looked up {err} in the environment and it was not there: "
                    "literals are not in the environment (use literal_value), and the constvars "
                    "must be bound to consts first, and a primitive with multiple_results returns a list, "
                    "one value per out_binder")


@check('ex10_eval_jaxpr')
def ex10_replays(ex):
    from tinygrad_tracer import lax
    table = jnp.asarray([1.0, 2.0, 3.0])   # a closed-over array: a constvar of the jaxpr
    x = jnp.asarray([0.5, -1.0, 2.0])
    (out,) = ex10_replay(ex, lambda x: jnp.sin(x) * 2.0 + 1.0, x)
    close(out, np.sin(np.asarray(x)) * 2 + 1, "replaying sin(x) * 2.0 + 1.0 (literals 2.0 and 1.0)")
    (out,) = ex10_replay(ex, lambda x: x * table, x)
    close(out, np.asarray(x) * np.asarray(table), "replaying x * c for a captured array c (a constvar)")
    loop = lambda x: lax.fori_loop(0, 3, lambda i, c: c * 2.0, x)   # while: several results
    outs = ex10_replay(ex, loop, x)
    assert isinstance(outs, list) and len(outs) == 1, f"eval_jaxpr should return a list of 1, got {outs!r}"
    close(outs[0], np.asarray(x) * 8, "replaying a fori_loop (its while primitive has multiple "
          "results: bind returns a list)")


@check('ex10_eval_jaxpr')
def ex10_replay_is_transformable(ex):
    closed = jax.make_jaxpr(lambda x: jnp.sin(x) * x)(1.0)
    replay = lambda x: ex.eval_jaxpr(closed.jaxpr, closed.consts, x)[0]
    try:
        g = jax.grad(replay)(1.0)
    except TypeError as err:
        pytest.fail(f"grad of your replay fails: apply each primitive with bind (which asks the "
                    f"current transformation), not with its NumPy impl.\n{err}")
    assert float(g) == pytest.approx(np.cos(1.0) + np.sin(1.0), rel=1e-5), "grad of the replay is wrong"
    close(jax.vmap(replay)(jnp.asarray([1.0, 2.0])), np.sin([1.0, 2.0]) * [1.0, 2.0], "vmap of the replay")


# --- ex11: a code-generation rule of the Numba backend -------------------------------------

def ex11_compiled(run):
    try:
        return run()
    except Exception as err:   # Numba's typing errors, the student's own exceptions, ...
        if isinstance(err, NotImplementedError):
            raise
        pytest.fail("the kernel holding your axpb line does not compile. Is each constant typed "
                    "(codegen.const: a bare 2.5 is float64, and float32 helpers like exp_f32 "
                    f"refuse float64)?\n{type(err).__name__}: {str(err)[:1500]}")


@check('ex11_codegen_rule')
def ex11_fused_into_the_kernel(ex):
    x = jnp.asarray(np.linspace(-1, 1, 8, dtype=np.float32))
    f = lambda x: jnp.exp(classroom.axpb(x, 2.5, 1.0)) * 3.0   # a fresh function: traced anew
    text = ex11_compiled(lambda: jax.jit(f).lower(x).as_text())
    fallbacks = [line for line in text.splitlines() if 'fallbacks:' in line]
    assert not any('axpb' in line for line in fallbacks), (
        "axpb was not compiled: your rule returned None (or the jit could not use it), so it ran "
        f"through its NumPy impl outside the fused kernel:\n{fallbacks}")
    assert 'np.float32(2.5)' in text and 'np.float32(1.0)' in text, (
        "the kernel's line for axpb should use typed constants (codegen.const): "
        f"{[line.strip() for line in text.splitlines() if '2.5' in line and '=' in line]}")


@check('ex11_codegen_rule')
def ex11_same_bits_as_eager(ex):
    x = jnp.asarray(np.random.default_rng(11).normal(size=1000).astype(np.float32))
    f = lambda x: classroom.axpb(x, 0.1, 0.3) * 1.0
    got, want = np.asarray(ex11_compiled(lambda: jax.jit(f)(x))), np.asarray(f(x))
    if np.allclose(got, 0.3 * np.asarray(x) + 0.1, rtol=1e-5):
        pytest.fail("the compiled axpb computes b * x + a: a multiplies, b is added")
    close(got, want, "jit(axpb(x, 0.1, 0.3)) should equal the eager result")
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, (f"{bad.size} of 1000 compiled results differ from eager in the last bit "
                           f"(e.g. x={np.asarray(x)[bad[0]]}: {got[bad[0]]} vs {want[bad[0]]}): "
                           "compute in float32, with typed constants (codegen.const)")


# --- ex12: a CUDA block reduction under the simulator -----------------------------------------

@check('ex12_cuda_block_sum')
def ex12_block_sums(ex):
    for n in (32, 100):   # a multiple of the block size, and not
        x = np.arange(n, dtype=np.float32) + 1
        want = [x[b * ex.BLOCK:(b + 1) * ex.BLOCK].sum() for b in range(-(-n // ex.BLOCK))]
        try:
            got = ex.total(x)
        except IndexError as err:
            pytest.fail(f"with {n} elements a thread reads past the end of x: a thread whose index "
                        f"i >= len(x) must load 0 instead.\n{err}")
        if n > ex.BLOCK and np.allclose(got, want[0]):
            pytest.fail("every block summed the first BLOCK elements: block b starts at "
                        "element b * BLOCK (cuda.blockIdx.x)")
        close(got, want, f"the per-block sums of 1..{n}")


# --- ex13: threefry2x32 -----------------------------------------------------------------

@check('ex13_threefry')
def ex13_known_answer(ex):
    zero = np.zeros(1, np.uint32)
    y1, y2 = ex.threefry2x32(np.uint32(0), np.uint32(0), zero, zero)
    assert np.asarray(y1).dtype == np.uint32, f"threefry2x32 should return uint32, got {np.asarray(y1).dtype}"
    assert (int(y1[0]), int(y2[0])) == (1797259609, 2579123966), (
        f"threefry2x32 of key (0, 0) and counter (0, 0) gives {(int(y1[0]), int(y2[0]))}, not "
        "Random123's known answer (1797259609, 2579123966)")


@check('ex13_threefry')
def ex13_matches_the_library(ex):
    from tinygrad_tracer import prng
    from tinygrad_tracer.array import Array
    rng = np.random.default_rng(13)
    k1, k2 = (np.uint32(v) for v in rng.integers(0, 2 ** 32, 2))
    x1, x2 = (rng.integers(0, 2 ** 32, 16).astype(np.uint32) for _ in range(2))
    got = ex.threefry2x32(k1, k2, x1, x2)
    want = prng.threefry2x32(Array(k1), Array(k2), Array(x1), Array(x2))
    for g, w, word in zip(got, want, ('first', 'second')):
        assert np.array_equal(np.asarray(g, np.uint32), np.asarray(w)), (
            f"the {word} output word differs from tinygrad_tracer.prng.threefry2x32 on random "
            "keys and counters: check the rotation direction, the key schedule (with PARITY), "
            "the 5 groups of 4 rounds, and the group number added at each key injection")


# --- ex14: a jitted training step on a pytree ----------------------------------------------------

def ex14_data(n=40, d=3, k=2, seed=14):
    """xs (n, d) and ys (n, k) from a line plus noise, and a starting point."""
    rng = np.random.default_rng(seed)
    xs = rng.normal(size=(n, d)).astype(np.float32)
    ys = (xs @ rng.normal(size=(d, k)) + rng.normal(size=k) + 0.1 * rng.normal(size=(n, k))).astype(np.float32)
    start = {'W': rng.normal(size=(d, k)).astype(np.float32), 'b': rng.normal(size=k).astype(np.float32)}
    return xs, ys, start


@check('ex14_train_step')
def ex14_one_step(ex):
    xs, ys, start = ex14_data()
    new, value = ex.train_step({k: jnp.asarray(v) for k, v in start.items()}, xs, ys)
    errors = xs @ start['W'] + start['b'] - ys
    want_loss = (errors ** 2).sum(-1).mean() / 2
    if np.isclose(float(value), want_loss * len(xs), rtol=1e-4):
        pytest.fail("your loss is the SUM over the examples: take the mean over the examples "
                    "(of sum((predict(params, x) - y) ** 2) / 2)")
    close(value, want_loss, "the loss train_step returns (before the step: the mean over the "
          "examples of sum((predict(params, x) - y) ** 2) / 2)", rtol=1e-4)
    assert isinstance(new, dict) and sorted(new) == ['W', 'b'], (
        f"train_step should return (params, loss) with params a dict like the one it got "
        f"({{'W', 'b'}}), got {type(new).__name__}")
    grads = {'W': xs.T @ errors / len(xs), 'b': errors.mean(0)}
    lr = ex.LEARNING_RATE
    if np.allclose(np.asarray(new['W']), start['W'] + lr * grads['W'], rtol=1e-4):
        pytest.fail("your step goes UP the gradient: the loss grows. Subtract "
                    "LEARNING_RATE * gradient from each parameter")
    if np.allclose(np.asarray(new['b']), start['b']):
        pytest.fail("train_step left b as it was: update every leaf of params "
                    "(tree_util.tree_map over params and the gradient)")
    for name in ('W', 'b'):
        close(new[name], start[name] - lr * grads[name],
              f"params['{name}'] after one step (params - LEARNING_RATE * gradient)", rtol=1e-4, atol=1e-5)


@check('ex14_train_step')
def ex14_traced_once(ex):
    xs, ys, start = ex14_data()
    traces, predict = [], ex.predict

    def counted_predict(params, x):   # runs in Python only while a trace records it
        traces.append(1)
        return predict(params, x)
    ex.predict = counted_predict       # `loss` finds it by its global name
    params = {k: jnp.asarray(v) for k, v in start.items()}
    for _ in range(5):
        params, _ = ex.train_step(params, xs, ys)
    assert traces, "train_step never called predict: write loss with predict(params, xs)"
    assert len(traces) == 1, (
        f"5 calls of train_step with arrays of the same shapes ran predict in Python "
        f"{len(traces)} times: it is traced on every call. Decorate train_step with @jax.jit "
        "(once, where it is defined): a jitted function traces once per shape and replays its jaxpr")


@check('ex14_train_step')
def ex14_fit_reaches_least_squares(ex):
    xs, ys, _ = ex14_data()
    with np.errstate(over='ignore', invalid='ignore'):   # a diverging fit: the check says so below
        params, losses = ex.fit(jnp.asarray(xs), jnp.asarray(ys), 300)
    losses = [float(v) for v in losses]
    assert len(losses) == 300, f"fit(xs, ys, 300) should return 300 losses, got {len(losses)}"
    up = [i for i in range(1, 300) if losses[i] > losses[i - 1] * (1 + 1e-6) + 1e-7]
    assert not up, (f"the loss went up at step {up[0]} ({losses[up[0] - 1]:.4g} -> {losses[up[0]]:.4g}, "
                    f"last {losses[-1]:.4g}): with this step size, gradient descent lowers the "
                    "loss at every step. Subtract LEARNING_RATE * gradient, and take the mean "
                    "over the examples (a sum over 40 examples makes each step 40 times too long)")
    solution = np.linalg.lstsq(np.c_[xs, np.ones(len(xs))], ys, rcond=None)[0]
    if np.allclose(np.asarray(params['b']), 0):
        pytest.fail("after 300 steps b is still zero: update every leaf (tree_util.tree_map)")
    close(params['W'], solution[:-1], "W after 300 steps should be the least-squares fit", atol=1e-3)
    close(params['b'], solution[-1], "b after 300 steps should be the least-squares fit", atol=1e-3)


# --- ex15: Adam as an Optax gradient transformation -------------------------------------------------

def ex15_grads(steps, seed=15):
    """A dict of gradients per step, a vector leaf and a scalar leaf."""
    rng = np.random.default_rng(seed)
    return [{'w': jnp.asarray(rng.normal(size=3).astype(np.float32)),
             'b': jnp.asarray(np.float32(rng.normal()))} for _ in range(steps)]


@check('ex15_adam')
def ex15_init(ex):
    from tinygrad_tracer import tree_util
    params = {'w': jnp.ones(3), 'b': jnp.asarray(2.0)}
    state = ex.scale_by_adam().init(params)
    count = np.asarray(state.count)
    assert count.shape == () and count.dtype == np.int32 and count == 0, (
        f"init's count should be an int32 scalar 0 (jnp.zeros((), jnp.int32)), got {state.count!r}")
    for name in ('mu', 'nu'):
        moment = getattr(state, name)
        assert tree_util.tree_structure(moment) == tree_util.tree_structure(params), (
            f"init's {name} should be a tree shaped like params ({{'w', 'b'}}), got {moment!r}: "
            "tree_util.tree_map(jnp.zeros_like, params)")
        for leaf, p in zip(tree_util.tree_leaves(moment), tree_util.tree_leaves(params)):
            close(leaf, np.zeros_like(np.asarray(p)), f"init's {name} should be zeros like params")


@check('ex15_adam')
def ex15_steps_match_optax(ex):
    from tinygrad_tracer import optax
    params = {'w': jnp.ones(3), 'b': jnp.asarray(2.0)}
    mine, ref = ex.adam(0.01), optax.adam(0.01)
    state, ref_state = mine.init(params), ref.init(params)
    for step, grads in enumerate(ex15_grads(4), 1):
        updates, state = mine.update(grads, state, params)
        want, ref_state = ref.update(grads, ref_state, params)
        for name in ('w', 'b'):
            got = np.asarray(updates[name])
            assert np.all(np.isfinite(got)), (
                f"step {step}'s update of {name} is {got}: not finite. Is a bias correction "
                "1 - b**count zero? Count this step (count + 1) before correcting")
            if step == 1 and np.allclose(got, -0.01 * 0.1 / np.sqrt(1e-3) * np.sign(np.asarray(grads[name])), rtol=1e-3):
                pytest.fail("step 1's update is 3.16 times optax.adam's: the running means start at "
                            "zero, so divide mu by (1 - b1**count) and nu by (1 - b2**count)")
            if step > 1 and not np.allclose(got, np.asarray(want[name]), rtol=1e-4, atol=1e-7):
                pytest.fail(f"step 1 agrees with optax.adam but step {step} does not ({name}: got "
                            f"{got}, expected {np.asarray(want[name])}): does update return the NEW "
                            "count, mu and nu in its state, so the next step continues from them?")
            close(got, want[name], f"step {step}'s update of {name}, against optax.adam: check the "
                  "running means (mu with b1 and g, nu with b2 and g**2) and "
                  "update = mu_hat / (sqrt(nu_hat) + eps)", rtol=1e-5, atol=1e-8)


@check('ex15_adam')
def ex15_trains_under_jit(ex):
    from tinygrad_tracer import optax

    def train(opt):
        def loss(p):
            return jnp.sum((p['w'] - jnp.asarray([1.0, -2.0, 3.0])) ** 2) + (p['b'] - 0.5) ** 2

        @jax.jit
        def step(params, state):
            grads = jax.grad(loss)(params)
            updates, state = opt.update(grads, state, params)
            return optax.apply_updates(params, updates), state
        params = {'w': jnp.zeros(3), 'b': jnp.asarray(0.0)}
        state = opt.init(params)
        for _ in range(60):
            params, state = step(params, state)
        return params, state
    params, state = train(ex.adam(0.1))
    want, _ = train(optax.adam(0.1))
    count = np.asarray(state[0].count)
    assert count.dtype == np.int32 and count == 60, (
        f"after 60 jitted steps the state's count is {state[0].count!r}: it should be the int32 60")
    for name in ('w', 'b'):
        close(params[name], want[name], f"params['{name}'] after 60 jitted steps of your adam(0.1) "
              "on a quadratic, against optax.adam(0.1)", rtol=1e-4, atol=1e-5)


# --- ex16: the batching rule of cond ---------------------------------------------------------------

def ex16_vmapped(what, run):
    """run(), explaining what a batching rule commonly gets wrong when it fails."""
    from tinygrad_tracer.errors import RuleOutputError
    try:
        return run()
    except NotImplementedError:
        raise
    except RuleOutputError as err:
        pytest.fail(f"{what}: your rule's outputs do not fit the out_dims it returns. Did the "
                    "branches agree on which outputs are batched (any branch batched: all "
                    f"batched)?\n{err}")
    except Exception as err:
        pytest.fail(f"{what} fails inside your rule: with a predicate per example, every case "
                    "given to select_n must have the batch axis in front (instantiate=True), and "
                    "`which` the output's shape (lax.broadcast_in_dim(index, shape, (0,))); and "
                    f"move each operand's batch axis to the front first.\n{type(err).__name__}: {err}")


def ex16_f(x):   # lesson 10's cond
    from tinygrad_tracer import lax
    return lax.cond(x < 3, lambda x: 3. * x ** 2, lambda x: -4. * x, x)


@check('ex16_cond_batching')
def ex16_predicate_per_example(ex):
    from tinygrad_tracer import lax
    xs = np.float32([1, 2, 3, 4, 5])
    got = ex16_vmapped("vmap(cond(x < 3, ...)) over 5 numbers", lambda: jax.vmap(ex16_f)(jnp.asarray(xs)))
    if np.allclose(np.asarray(got), np.where(xs < 3, -4 * xs, 3 * xs ** 2)):
        pytest.fail("every example took the OTHER branch: select_n(which, *cases) picks "
                    "cases[which], and branches are (false_fun, true_fun): index 1 is true_fun")
    close(got, np.where(xs < 3, 3 * xs ** 2, -4 * xs), "vmap of cond(x < 3, 3x**2, -4x) over 1..5")
    rows = np.float32([[1, -2, 3, -4], [-1, -1, -1, 5], [2, 0, -1, -3]])   # 4 examples, as columns
    flip = lambda r: lax.cond(jnp.sum(r) > 0, lambda r: 2. * r, lambda r: -r, r)
    got = ex16_vmapped("vmap(cond, in_axes=1)", lambda: jax.vmap(flip, in_axes=1)(jnp.asarray(rows)))
    cols = rows.T
    close(got, np.where(cols.sum(1, keepdims=True) > 0, 2 * cols, -cols),
          "vmap(cond(sum(r) > 0, 2r, -r), in_axes=1): the examples are the columns, so the batch "
          "axis of the operand is 1: move it to the front first")
    one = lambda x: lax.cond(x > 0, lambda x: x, lambda x: jnp.float32(7.0), x)   # one branch unbatched
    got = ex16_vmapped("vmap of a cond whose false branch returns a constant",
                       lambda: jax.vmap(one)(jnp.asarray(xs - 3)))
    close(got, np.where(xs > 3, xs - 3, 7), "vmap of cond(x > 0, x, 7.0): the constant branch's "
          "output must be batched too (instantiate=True) before select_n")


@check('ex16_cond_batching')
def ex16_one_predicate_keeps_a_cond(ex):
    from tinygrad_tracer import lax
    xs = jnp.asarray([1.0, 2.0, 3.0])
    f = lambda p, x: lax.cond(p, lambda x: x * 2., lambda x: jnp.float32(7.0), x)
    for p, want in ((True, [2, 4, 6]), (False, [7, 7, 7])):
        got = ex16_vmapped(f"vmap(cond, in_axes=(None, 0)) with p={p}",
                           lambda: jax.vmap(f, in_axes=(None, 0))(p, xs))
        close(got, want, f"vmap(cond(p, 2x, 7.0), in_axes=(None, 0)) with p={p}: the batched "
              "true branch and the constant false branch must agree that the output is batched")
    jaxpr = ex16_vmapped("make_jaxpr(vmap(cond, in_axes=(None, 0)))",
                         lambda: jax.make_jaxpr(jax.vmap(f, in_axes=(None, 0)))(True, xs))
    names = [e.primitive.name for e in jaxpr.jaxpr.eqns]
    assert 'cond' in names and 'select_n' not in names, (
        f"with one predicate for the whole batch (in_axes=None) your rule records {names}: it runs "
        "every branch and selects. Only one branch needs to run: keep a cond (of batched branches) "
        "when the index is not batched")


@check('ex16_cond_batching')
def ex16_switch_grad_and_jit(ex):
    from tinygrad_tracer import lax
    xs = np.float32([1, 2, 3, 4, 5])
    pick = lambda i, x: lax.switch(i, [lambda x: x + 1., lambda x: 10. * x, lambda x: -x], x)
    idx = np.int32([2, 0, 1, 1, 0])
    got = ex16_vmapped("vmap of a switch with 3 branches",
                       lambda: jax.vmap(pick)(jnp.asarray(idx), jnp.asarray(xs)))
    close(got, np.choose(idx, [xs + 1, 10 * xs, -xs]), "vmap of switch(i, [x + 1, 10x, -x]): "
          "lax.switch binds the same cond_p, with 3 branches")
    got = ex16_vmapped("vmap(grad(cond))", lambda: jax.vmap(jax.grad(ex16_f))(jnp.asarray(xs)))
    close(got, np.where(xs < 3, 6 * xs, -4), "vmap(grad(cond(x < 3, 3x**2, -4x)))")
    got = ex16_vmapped("jit(vmap(cond))", lambda: jax.jit(jax.vmap(ex16_f))(jnp.asarray(xs)))
    close(got, np.where(xs < 3, 3 * xs ** 2, -4 * xs), "jit(vmap(cond(x < 3, 3x**2, -4x)))")


# --- ex17: convolution as im2col and one matmul ---------------------------------------------------

EX17_CASES = [((1, 1), ((0, 0), (0, 0))), ((1, 1), ((1, 1), (1, 1))), ((2, 1), ((2, 0), (0, 1))),
              ((2, 3), ((1, 2), (2, 0)))]   # (strides, padding), the last two lopsided


def ex17_data(seed=17):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(2, 3, 7, 6)).astype(np.float32),    # N, C, H, W
            rng.normal(size=(4, 3, 3, 2)).astype(np.float32))    # O, C, KH, KW


@check('ex17_conv_im2col')
def ex17_patches(ex):
    x = np.arange(2 * 2 * 3 * 3, dtype=np.float32).reshape(2, 2, 3, 3)
    got = np.asarray(ex.im2col(jnp.asarray(x), 2, 2, (1, 1), ((0, 0), (0, 0))))
    windows = [x[n, :, y:y + 2, z:z + 2] for n in range(2) for y in range(2) for z in range(2)]
    want = np.stack([win.reshape(-1) for win in windows])          # rows (n, y, z), columns (c, i, j)
    tap_major = np.stack([win.transpose(1, 2, 0).reshape(-1) for win in windows])   # columns (i, j, c)
    if got.shape == want.shape and np.array_equal(got, tap_major):
        pytest.fail("im2col's columns are in the order (i, j, c): they must be in the order "
                    "(c, i, j), that of w.reshape(O, C * KH * KW), or the matmul pairs each "
                    "patch entry with the wrong kernel weight")
    close(got, want, "im2col of a 2x2x3x3 input with 2x2 windows: row (n, y, z) should hold the "
          "window x[n, :, y:y+2, z:z+2] flattened in the order (c, i, j)")


@check('ex17_conv_im2col')
def ex17_matches_conv_general_dilated(ex):
    from tinygrad_tracer import lax
    x, w = ex17_data()
    for strides, padding in EX17_CASES:
        try:
            got = ex.conv2d(jnp.asarray(x), jnp.asarray(w), strides, padding)
        except NotImplementedError:
            raise
        except Exception as err:
            pytest.fail(f"conv2d with strides={strides}, padding={padding} fails: pad each side by "
                        "its own amount (top, bottom, left, right), so the padded input has "
                        "H + top + bottom rows, and every tap's slice is (N, C, OH, OW).\n"
                        f"{type(err).__name__}: {err}")
        want = np.asarray(lax.conv_general_dilated(x, w, strides, padding))
        flipped = np.asarray(lax.conv_general_dilated(x, w[:, :, ::-1, ::-1].copy(), strides, padding))
        if np.shape(got) == want.shape and np.allclose(np.asarray(got), flipped, rtol=1e-4, atol=1e-5):
            pytest.fail("your conv2d flips the kernel (a textbook convolution): "
                        "conv_general_dilated multiplies xp[.., y*sh + i, z*sw + j] by w[.., i, j], unflipped")
        close(got, want, f"conv2d with strides={strides}, padding={padding} against "
              "lax.conv_general_dilated (padding is ((top, bottom), (left, right)))", rtol=1e-4, atol=1e-5)


@check('ex17_conv_im2col')
def ex17_gradients(ex):
    from tinygrad_tracer import lax
    x, w = ex17_data()
    strides, padding = EX17_CASES[-1]
    for argnum, name in ((0, 'x'), (1, 'w')):
        mine = jax.grad(lambda x, w: jnp.sum(ex.conv2d(x, w, strides, padding) ** 2), argnums=argnum)
        ref = jax.grad(lambda x, w: jnp.sum(lax.conv_general_dilated(x, w, strides, padding) ** 2),
                       argnums=argnum)
        close(mine(jnp.asarray(x), jnp.asarray(w)), ref(x, w),
              f"the gradient with respect to {name} of sum(conv2d(x, w) ** 2)", rtol=1e-4, atol=1e-4)


@check('ex17_conv_im2col')
def ex17_one_matmul(ex):
    x, w = ex17_data()
    jaxpr = jax.make_jaxpr(lambda x, w: ex.conv2d(x, w, (2, 1), ((1, 1), (1, 1))))(x, w)
    names = [e.primitive.name for e in jaxpr.jaxpr.eqns]
    assert 'conv_general_dilated' not in names, "conv2d calls lax.conv_general_dilated: write it with im2col"
    assert names.count('dot_general') == 1, (
        f"the jaxpr of conv2d holds {names.count('dot_general')} dot_general equations: im2col "
        "gathers every patch first, so that ONE matmul (patches @ kernels.T) does all the work")
