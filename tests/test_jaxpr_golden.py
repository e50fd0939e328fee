"""Our jaxprs, equation for equation, against JAX 0.10.2's for the functions of JAX's tutorials.

tests/data/jaxpr_cases.py holds the functions; tests/data/jaxprs_golden.txt what JAX
printed for them (regenerate with `python tests/data/make_jaxpr_golden.py` in the JAX
environment). Without JAX the golden file is the reference; with JAX the file is also
checked against live JAX, so it cannot go stale.
"""
import pathlib
import sys

import pytest

import tinygrad_tracer as tt
import tinygrad_tracer.numpy as tnp
from tinygrad_tracer import lax as tlax

DATA = pathlib.Path(__file__).parent / 'data'
sys.path.insert(0, str(DATA))
from jaxpr_cases import cases  # noqa: E402

# The cases whose text still differs from JAX's, and why (README: "Where our jaxprs
# still differ from JAX's"). A case listed here that starts matching fails the test
# below, so the list stays exact.
DIFFERENT = {
    'jit_selu': "JAX's jnp.where is a jit-wrapped function (jit[name=_where]); ours is "
                "inline (the numpy layer sits below jit and cannot call it)",
    'jit_selu_jit': "jnp.where's jit[name=_where], as jit_selu",
    'control_where': "jnp.where's jit[name=_where], as jit_selu",
    'jit_norm': "JAX's std/var are jit-wrapped (jit[name=_std], a shared `let _var`), it has "
                "a `square` primitive where we use integer_pow[y=2], and its lax ops broadcast "
                "size-1 axes (`sub a:f32[4,3] e:f32[1,3]`) where ours broadcast only rank 0",
    'pytrees_mlp_loss': "JAX's nn.relu is a custom_jvp around jit; its `x + b` broadcasts b to "
                        "f32[1,4] and lets `add` spread the size-1 axis (ours: broadcast to f32[6,4])",
    'sharp_at_set': "JAX's scatter prints XLA's ScatterDimensionNumbers and modes; ours has "
                    "one param, axes",
    'sharp_index_oob': "JAX indexes out of bounds with dynamic_slice (clamped at run time); we "
                       "clamp the static index and slice",
    'autodiff_jacfwd': "JAX builds the basis of one-hot tangents in the jaxpr (iota, eq, split) "
                       "and broadcasts size-1 axes; ours is a constant, broadcast fully",
    'autodiff_jacrev': "the one-hot cotangent basis, as autodiff_jacfwd",
    'autodiff_hessian': "the one-hot bases, as autodiff_jacfwd",
    'jaxprs_func11': "a weakly typed scan carry: JAX converts it to strong in the body "
                     "(control-flow weak types are another change)",
}


def _golden():
    text = (DATA / 'jaxprs_golden.txt').read_text()
    blocks = text.split('\n## ')[1:]
    return {b.split('\n', 1)[0]: b.split('\n', 1)[1].rstrip('\n') for b in blocks}


GOLDEN = _golden()
OURS = cases(tt, tnp, tlax)


def test_every_case_has_golden_text_and_there_are_enough():
    assert set(GOLDEN) == set(OURS)
    assert len(OURS) >= 30
    assert set(DIFFERENT) <= set(OURS)
    assert len(OURS) - len(DIFFERENT) >= 30


@pytest.mark.parametrize('name', sorted(OURS))
def test_same_text_as_jax_golden(name):
    f, args = OURS[name]
    ours = str(tt.make_jaxpr(f)(*args))
    if name in DIFFERENT:
        assert ours != GOLDEN[name], f"{name} now prints as JAX does: remove it from DIFFERENT"
    else:
        assert ours == GOLDEN[name]


def test_golden_file_is_what_live_jax_prints(real_jax):
    import jax.numpy as jnp
    live = {name: str(real_jax.make_jaxpr(f)(*args))
            for name, (f, args) in cases(real_jax, jnp, real_jax.lax).items()}
    assert live == GOLDEN, ("tests/data/jaxprs_golden.txt is stale: run "
                            "`python tests/data/make_jaxpr_golden.py` with JAX installed")


@pytest.mark.parametrize('name', sorted(set(OURS) - set(DIFFERENT)))
def test_same_text_as_live_jax(name, real_jax):
    import jax.numpy as jnp
    f_jax, args = cases(real_jax, jnp, real_jax.lax)[name]
    f_ours, _ = OURS[name]
    assert str(tt.make_jaxpr(f_ours)(*args)) == str(real_jax.make_jaxpr(f_jax)(*args))
