"""jax.checkpoint / jax.remat (issue 16, item 3): the backward pass recomputes what
the policy does not save. The jaxprs print as JAX 0.10 prints them, the recomputation
shows in them and happens at run time, and the gradients equal the plain ones."""
import importlib

import numpy as np
import pytest

import tinygrad_tracer as tt
import tinygrad_tracer.numpy as jnp
from tinygrad_tracer.ad_checkpoint import checkpoint_name, remat_p
from tinygrad_tracer.jaxpr import eval_closed_jaxpr

P = tt.checkpoint_policies


def two_sines(x):
    return jnp.sum(jnp.sin(jnp.sin(x)) * 2.0)


REMAT = """{ lambda ; a:f32[3]. let
    b:f32[] = remat2[
      differentiated=False
      jaxpr={ lambda ; c:f32[3]. let
          d:f32[3] = sin c
          e:f32[3] = sin d
          f:f32[3] = mul e 2.0:f32[]
          g:f32[] = reduce_sum[axes=(0,) out_sharding=None] f
        in (g,) }
      policy=None
      prevent_cse=True
    ] a
  in (b,) }"""

GRAD_OF_REMAT = """{ lambda ; a:f32[3]. let
    b:f32[3] = sin a
    c:f32[3] = sin b
    d:f32[3] = mul c 2.0:f32[]
    _:f32[] = reduce_sum[axes=(0,) out_sharding=None] d
    e:f32[3] = remat2[
      differentiated=True
      jaxpr={ lambda ; f:f32[3] g:f32[]. let
          h:f32[3] = sin f
          i:f32[3] = cos f
          j:f32[3] = cos h
          k:f32[3] = broadcast_in_dim g
          l:f32[3] = mul k 2.0:f32[]
          m:f32[3] = mul l j
          n:f32[3] = mul m i
        in (n,) }
      policy=None
      prevent_cse=True
    ] a 1.0:f32[]
  in (e,) }"""


def test_jaxprs_print_as_in_jax():
    x = jnp.ones(3)
    assert str(tt.make_jaxpr(tt.checkpoint(two_sines))(x)) == REMAT
    assert str(tt.make_jaxpr(tt.grad(tt.checkpoint(two_sines)))(x)) == GRAD_OF_REMAT
    assert tt.remat is tt.checkpoint and tt.ad_checkpoint.checkpoint is tt.checkpoint


def test_jaxprs_print_as_in_real_jax(real_jax):
    x = real_jax.numpy.ones(3)
    f = lambda x: real_jax.numpy.sum(real_jax.numpy.sin(real_jax.numpy.sin(x)) * 2.0)
    assert str(real_jax.make_jaxpr(real_jax.checkpoint(f))(x)) == REMAT
    assert str(real_jax.make_jaxpr(real_jax.grad(real_jax.checkpoint(f)))(x)) == GRAD_OF_REMAT


def _remat_eqns(closed):
    return [e for e in closed.jaxpr.eqns if e.primitive is remat_p]


def _count(jaxpr, name):
    return sum(e.primitive.name == name for e in jaxpr.eqns)


def test_the_backward_pass_recomputes_the_forward_one():
    x = jnp.ones(3)
    plain = tt.make_jaxpr(tt.grad(two_sines))(x)
    ckpt = tt.make_jaxpr(tt.grad(tt.checkpoint(two_sines)))(x)
    saved = tt.make_jaxpr(tt.grad(tt.checkpoint(two_sines, policy=P.everything_saveable)))(x)
    assert _count(plain.jaxpr, 'sin') == 2 and _count(ckpt.jaxpr, 'sin') == 2   # the forward pass
    backward, = _remat_eqns(ckpt)
    # Only the input is kept; both sines (and the cos of the first) are computed again.
    assert _count(backward.params['jaxpr'].jaxpr, 'sin') == 1 and len(backward.inputs) == 2
    assert backward.params['differentiated'] and backward.params['policy'] is None
    backward, = _remat_eqns(saved)   # everything saved: cos a and cos b come in, no sine again
    assert _count(backward.params['jaxpr'].jaxpr, 'sin') == 0
    assert _count(backward.params['jaxpr'].jaxpr, 'cos') == 0 and len(backward.inputs) == 3
    for g in (ckpt, saved):
        np.testing.assert_allclose(eval_closed_jaxpr(g, x)[0], tt.grad(two_sines)(x), rtol=1e-6)


def _counting_sin(calls):
    """sin computed on the host, counting its calls: a custom_jvp gives it a derivative."""
    def host(x):
        calls.append(1)
        return np.sin(np.asarray(x))

    @tt.custom_jvp
    def sin(x):
        return tt.pure_callback(host, tt.ShapeDtypeStruct(x.shape, x.dtype), x)
    sin.defjvp(lambda p, t: (sin(p[0]), jnp.cos(p[0]) * t[0]))
    return sin


def test_the_recomputation_happens_at_run_time():
    calls = []
    sin = _counting_sin(calls)
    f = lambda x: jnp.sum(jnp.sin(sin(x)))
    x, want = jnp.ones(3), np.cos(np.sin(1.0)) * np.cos(1.0)
    for g, runs in [(f, 1), (tt.checkpoint(f), 2), (tt.checkpoint(f, policy=P.everything_saveable), 1)]:
        calls.clear()
        np.testing.assert_allclose(tt.grad(g)(x), [want] * 3, rtol=1e-6)
        assert len(calls) == runs


def test_run_time_recomputation_matches_real_jax(real_jax):
    jnp_ = real_jax.numpy
    calls = []

    def host(x):
        calls.append(1)
        return np.sin(np.asarray(x))

    @real_jax.custom_jvp
    def sin(x):
        return real_jax.pure_callback(host, real_jax.ShapeDtypeStruct(x.shape, x.dtype), x)
    sin.defjvp(lambda p, t: (sin(p[0]), jnp_.cos(p[0]) * t[0]))
    f = lambda x: jnp_.sum(jnp_.sin(sin(x)))
    runs = []
    for g in (f, real_jax.checkpoint(f),
              real_jax.checkpoint(f, policy=real_jax.checkpoint_policies.everything_saveable)):
        calls.clear()
        real_jax.grad(g)(jnp_.ones(3))
        runs.append(len(calls))
    assert runs == [1, 2, 1]


def test_debug_callbacks_run_again_when_recomputed():
    """As in JAX: once in the forward pass, once more in the recomputation."""
    seen = []

    def f(x):
        tt.debug.callback(lambda v: seen.append(1), x)
        return jnp.sum(jnp.sin(jnp.sin(x)))
    for grad_f, runs in [(tt.grad(f), 1), (tt.grad(tt.checkpoint(f)), 2),
                         (tt.jit(tt.grad(tt.checkpoint(f))), 2)]:
        seen.clear()
        grad_f(jnp.ones(3))
        assert len(seen) == runs
    seen.clear()
    tt.checkpoint(f)(jnp.ones(3))   # no differentiation: runs once
    assert len(seen) == 1


def layer(W, x):
    h = jnp.dot(W, x)
    return jnp.sum(jnp.tanh(checkpoint_name(jnp.cos(jnp.sin(h)), 'w')))


RECOMPUTED = ('sin', 'cos', 'tanh', 'dot_general')
POLICIES = {   # policy -> (residuals the backward remat takes, how many of each RECOMPUTED it runs)
    'None': (None, 2, [2, 2, 1, 2]),   # W and x only: everything again (the 2nd dot is the transposed one)
    'everything_saveable': (P.everything_saveable, 5, [0, 0, 0, 1]),
    'nothing_saveable': (P.nothing_saveable, 2, [2, 2, 1, 2]),
    'dots_saveable': (P.dots_saveable, 2, [2, 2, 1, 1]),   # W @ x and x
    'checkpoint_dots': (P.checkpoint_dots, 2, [2, 2, 1, 1]),
    'dots_with_no_batch_dims_saveable': (P.dots_with_no_batch_dims_saveable, 2, [2, 2, 1, 1]),
    'save_only_these_names': (P.save_only_these_names('w'), 3, [2, 1, 1, 2]),
    'save_any_names_but_these': (P.save_any_names_but_these('w'), 2, [2, 2, 1, 2]),
    'save_from_both_policies': (P.save_from_both_policies(P.dots_saveable, P.save_only_these_names('w')),
                                3, [2, 1, 1, 1]),
}


def _backward_pass_of(jax, policy, W, x, name):
    """(residual count, RECOMPUTED counts) of the backward remat of grad(checkpoint(layer))."""
    jnp_ = jax.numpy

    def layer_(W, x):
        return jnp_.sum(jnp_.tanh(name(jnp_.cos(jnp_.sin(jnp_.dot(W, x))), 'w')))
    closed = jax.make_jaxpr(jax.grad(jax.checkpoint(layer_, policy=policy)))(W, x)
    backward, = [e for e in closed.jaxpr.eqns if e.primitive.name == 'remat2']
    inner = backward.params['jaxpr']
    inner = getattr(inner, 'jaxpr', inner)   # ours is a ClosedJaxpr, JAX's a Jaxpr
    n_in = len(getattr(backward, 'invars', None) or backward.inputs)
    return n_in - 1, [sum(e.primitive.name == k for e in inner.eqns) for k in RECOMPUTED]


@pytest.mark.parametrize('name', list(POLICIES))
def test_policies_choose_the_residuals(name):
    policy, n_res, counts = POLICIES[name]
    W, x = jnp.arange(9.0).reshape(3, 3) / 10, jnp.ones(3)
    assert _backward_pass_of(tt, policy, W, x, checkpoint_name) == (n_res, counts)
    np.testing.assert_allclose(tt.grad(tt.checkpoint(layer, policy=policy))(W, x), tt.grad(layer)(W, x),
                               rtol=1e-6)


def test_policies_choose_the_residuals_as_real_jax_does(real_jax):
    ad_checkpoint = importlib.import_module('jax.ad_checkpoint')
    Pj, jnp_ = real_jax.checkpoint_policies, real_jax.numpy
    policies = {'None': None, 'everything_saveable': Pj.everything_saveable,
                'nothing_saveable': Pj.nothing_saveable, 'dots_saveable': Pj.dots_saveable,
                'checkpoint_dots': Pj.checkpoint_dots,
                'dots_with_no_batch_dims_saveable': Pj.dots_with_no_batch_dims_saveable,
                'save_only_these_names': Pj.save_only_these_names('w'),
                'save_any_names_but_these': Pj.save_any_names_but_these('w'),
                'save_from_both_policies': Pj.save_from_both_policies(Pj.dots_saveable,
                                                                      Pj.save_only_these_names('w'))}
    W, x = jnp_.arange(9.0).reshape(3, 3) / 10, jnp_.ones(3)
    for name, policy in policies.items():
        got = _backward_pass_of(real_jax, policy, W, x, ad_checkpoint.checkpoint_name)
        assert got == POLICIES[name][1:], name


def test_checkpoint_composes():
    f = tt.checkpoint(lambda x: jnp.sin(x) * x)
    plain = lambda x: jnp.sin(x) * x
    xs = jnp.array([0.5, 1.0, 2.0])
    np.testing.assert_allclose(tt.vmap(tt.grad(f))(xs), tt.vmap(tt.grad(plain))(xs), rtol=1e-6)
    np.testing.assert_allclose(tt.grad(tt.grad(f))(1.0), tt.grad(tt.grad(plain))(1.0), rtol=1e-6)
    np.testing.assert_allclose(tt.jvp(f, (1.0,), (2.0,))[1], tt.jvp(plain, (1.0,), (2.0,))[1], rtol=1e-6)
    np.testing.assert_allclose(tt.hessian(lambda x: jnp.sum(f(x)))(xs),
                               tt.hessian(lambda x: jnp.sum(plain(x)))(xs), rtol=1e-5, atol=1e-6)
    for backend in ('interpret', 'numba'):
        np.testing.assert_allclose(tt.jit(tt.grad(f), backend=backend)(1.0), tt.grad(plain)(1.0), rtol=1e-6)
        np.testing.assert_allclose(tt.jit(lambda x: checkpoint_name(x, 'a') * 2, backend=backend)(xs), xs * 2)
    scanned = lambda x: tt.lax.scan(lambda c, xi: (f(c) + xi, None), x, xs)[0]
    np.testing.assert_allclose(tt.grad(scanned)(1.0),
                               tt.grad(lambda x: tt.lax.scan(lambda c, xi: (plain(c) + xi, None), x, xs)[0])(1.0),
                               rtol=1e-6)


def test_static_argnums_and_prevent_cse_are_accepted():
    f = tt.checkpoint(lambda x, n: x ** n if n > 1 else x, static_argnums=(1,), prevent_cse=False)
    assert float(tt.grad(f)(2.0, 3)) == 12.0 and float(tt.grad(f)(2.0, 1)) == 1.0
    eqn, = _remat_eqns(tt.make_jaxpr(lambda x: f(x, 3))(2.0))
    assert eqn.params['prevent_cse'] is False
    with pytest.raises(ValueError, match=r"checkpoint's static_argnums \(2,\) must be ints from -2 to 1"):
        tt.checkpoint(lambda x, n: x, static_argnums=2)(1.0, 2)


def test_a_policy_must_answer_true_or_false():
    f = tt.checkpoint(jnp.sin, policy=lambda prim, *avals, **params: 'yes')
    with pytest.raises(TypeError, match="A checkpoint policy must return True .save. or False .recompute."):
        tt.grad(f)(1.0)
