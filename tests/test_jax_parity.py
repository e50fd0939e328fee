"""What JAX's own tutorials show, and we must show too (issue 15, items 4 and 5):
the errors the "common gotchas" page teaches, and how traced values print."""
import io
import contextlib

import pytest

import tinygrad_tracer as tt
import tinygrad_tracer.numpy as jnp
from tinygrad_tracer.errors import NonConcreteBooleanIndexError


# ------------------------------------------------------------------ errors (item 4)

LIST_CALLS = [
    lambda np_: np_.sum([1, 2, 3]),
    lambda np_: np_.sin((1.0, 2.0)),
    lambda np_: np_.add([1, 2], 1),
    lambda np_: np_.mean([1.0, 2.0]),
    lambda np_: np_.argmax([1, 3, 2]),
    lambda np_: np_.cumsum((1, 2)),
    lambda np_: np_.where([True, False], 1, 2),
    lambda np_: np_.dot(np_.ones(2), [1.0, 2.0]),
    lambda np_: np_.matmul([[1.0]], np_.ones((1, 1))),
    lambda np_: np_.clip([1, 5], 0, 3),
]


@pytest.mark.parametrize("call", LIST_CALLS)
def test_lists_and_tuples_are_refused(call):
    with pytest.raises(TypeError, match=r"requires arrays or scalars, but argument \d is a (list|tuple)"):
        call(jnp)


def test_array_constructors_still_take_lists():
    assert jnp.sum(jnp.array([1, 2, 3])) == 6
    assert jnp.asarray((1.0, 2.0)).shape == (2,)
    assert jnp.stack([jnp.ones(2), jnp.zeros(2)]).shape == (2, 2)
    assert jnp.concatenate([jnp.ones(2), jnp.zeros(1)]).shape == (3,)


def test_traced_boolean_mask_raises_jax_error_class():
    for f in (lambda x: x[x > 0], lambda x: x.at[x > 0].set(0.0)):
        with pytest.raises(NonConcreteBooleanIndexError, match="boolean indices must be concrete"):
            tt.jit(f)(jnp.arange(3.0))
    assert issubclass(NonConcreteBooleanIndexError, IndexError)
    x = jnp.arange(3.0)
    assert x[x > 0].tolist() == [1.0, 2.0]     # a concrete mask is fine


def test_errors_match_jax(real_jax):
    for call in LIST_CALLS:
        with pytest.raises(TypeError):
            call(real_jax.numpy)
    with pytest.raises(real_jax.errors.NonConcreteBooleanIndexError):
        real_jax.jit(lambda x: x[x > 0])(real_jax.numpy.arange(3.0))


# ---------------------------------------------------------------- printing (item 5)

def _printed(transform, x):
    out = io.StringIO()

    def show(v):
        print(v)
        return v
    with contextlib.redirect_stdout(out):
        transform(show)(x)
    return out.getvalue().strip()


CASES = [   # (name, transform, argument, what JAX 0.10.2 prints)
    ("jit scalar", tt.jit, 1.0, "JitTracer(~float32[])"),
    ("jit array", tt.jit, "ones3", "JitTracer(float32[3])"),
    ("make_jaxpr", tt.make_jaxpr, 1, "JitTracer(~int32[])"),
    ("jvp", lambda f: lambda x: tt.jvp(f, (x,), (x,)), "ones2", "JVPTracer(primal=[1. 1.], tangent=[1. 1.])"),
    ("vmap", tt.vmap, "ones32", "VmapTracer(aval=float32[2], batched=float32[3,2])"),
    ("grad", tt.grad, 1.0, "GradTracer(primal=1.0, typeof(tangent)=f32[])"),
    ("jit of grad", lambda f: tt.jit(tt.grad(f)), 1.0, "GradTracer(primal=JitTracer(~float32[]), typeof(tangent)=f32[])"),
    ("jit of vmap", lambda f: tt.jit(tt.vmap(f)), "ones3", "VmapTracer(aval=float32[], batched=float32[3])"),
]
ARGS = {"ones3": (3,), "ones2": (2,), "ones32": (3, 2)}


def _arg(np_, a):
    return np_.ones(ARGS[a]) if isinstance(a, str) else a


@pytest.mark.parametrize("name,transform,arg,expected", CASES, ids=[c[0] for c in CASES])
def test_tracers_print_like_jax(name, transform, arg, expected):
    assert _printed(transform, _arg(jnp, arg)) == expected


def test_tracer_printing_matches_live_jax(real_jax):
    jax_transforms = {"jit scalar": real_jax.jit, "jit array": real_jax.jit, "make_jaxpr": real_jax.make_jaxpr,
                      "jvp": lambda f: lambda x: real_jax.jvp(f, (x,), (x,)), "vmap": real_jax.vmap,
                      "grad": real_jax.grad, "jit of grad": lambda f: real_jax.jit(real_jax.grad(f)),
                      "jit of vmap": lambda f: real_jax.jit(real_jax.vmap(f))}
    for name, _, arg, expected in CASES:
        assert _printed(jax_transforms[name], _arg(real_jax.numpy, arg)) == expected, name
