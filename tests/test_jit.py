"""jit: every primitive against eager, the trace cache, static arguments, lower, backends."""

import numpy as np
import pytest
from hypothesis import given, settings

import tinygrad_tracer as jax
import tinygrad_tracer.numpy as jnp
from tinygrad_tracer import backends, nn, random, tree_util
from tinygrad_tracer.errors import TracerBoolConversionError
from tinygrad_tracer.jaxpr import check_jaxpr
from tinygrad_tracer.jit import jit_p
from functions import CASES, CASE_IDS, seeds


@pytest.mark.parametrize('case', CASES, ids=CASE_IDS)
@settings(max_examples=2, deadline=None)
@given(seed=seeds)
def test_jit_matches_eager(case, seed):
    # The interpreter replays the jaxpr with the eager impls, so results are bit-exact.
    # (The Numba backend's ulp-level differences are tested in test_numba_backend.py.)
    args = [jnp.asarray(a) for a in case.make_args(np.random.default_rng(seed))]
    f = jax.jit(case.fn, backend='interpret')
    check_jaxpr(f.lower(*args).jaxpr.jaxpr)
    got, want = f(*args), case.fn(*args)
    assert tree_util.tree_structure(got) == tree_util.tree_structure(want)
    for g, w in zip(tree_util.tree_leaves(got), tree_util.tree_leaves(want)):
        assert g.dtype == w.dtype and g.shape == w.shape and g.weak_type == w.weak_type
        np.testing.assert_array_equal(np.asarray(g), np.asarray(w))


# --- the cache ------------------------------------------------------------------------------

def counting(fn):
    calls = []

    def f(*args, **kwargs):
        calls.append(1)
        return fn(*args, **kwargs)
    f.__name__ = fn.__name__
    return f, calls


def test_cache_hit_and_retrace_on_new_shapes():
    f, calls = counting(lambda x: jnp.sin(x) * 2)
    jf = jax.jit(f)
    jf(jnp.ones(3))
    jf(jnp.zeros(3))                      # same shape and dtype: cache hit
    assert len(calls) == 1 and jf.trace_count == 1
    jf(jnp.ones(4))                       # new shape
    jf(jnp.ones(3, jnp.int32))            # new dtype
    assert len(calls) == 3
    jf(jnp.ones(4))
    assert len(calls) == 3


def test_weak_type_is_part_of_the_key():
    f, calls = counting(lambda x: x * 2)
    jf = jax.jit(f)
    assert jf(1.0).weak_type                              # a Python float: weakly typed f32
    assert not jf(jnp.float32(1.0)).weak_type             # a strong f32: traced again
    assert len(calls) == 2


def test_pytree_structure_is_part_of_the_key():
    f, calls = counting(lambda p: p['a'] + p['b'])
    jf = jax.jit(f)
    jf({'a': 1.0, 'b': 2.0})
    jf({'a': 3.0, 'b': 4.0})
    assert len(calls) == 1
    jf({'a': 1.0, 'b': jnp.ones(2)})
    assert len(calls) == 2


def test_static_argnums_and_argnames():
    f, calls = counting(lambda x, n: x ** n)
    jf = jax.jit(f, static_argnums=1)
    assert float(jf(2.0, 3)) == 8.0
    assert float(jf(3.0, 3)) == 27.0
    assert len(calls) == 1
    assert float(jf(2.0, 2)) == 4.0       # a new static value traces again
    assert len(calls) == 2
    g = jax.jit(lambda x, n=2: x * n, static_argnames='n')
    assert float(g(2.0, n=5)) == 10.0
    assert float(g(2.0, 5)) == 10.0       # static_argnames also covers it passed positionally
    assert float(g(2.0)) == 4.0


def test_negative_static_argnums_count_from_the_end():
    def f(x, n):
        return x * 2.0 if n > 1 else x   # Python control flow: n must be static
    jf = jax.jit(f, static_argnums=-1)
    assert float(jf(1.5, 3)) == 3.0 and float(jf(1.5, 0)) == 1.5
    assert float(jax.jit(f, static_argnums=(-1, -1))(1.5, 3)) == 3.0

    def g(x, n, m=1):   # -1 is whichever positional argument comes last in the call
        return x * n * m if n > m else x
    assert float(jax.jit(g, static_argnums=(-2, -1))(1.0, 3, 2)) == 6.0
    with pytest.raises(TracerBoolConversionError):   # -1 is m here, so n is traced
        jax.jit(g, static_argnums=-1)(1.0, 3, 2)

    def h(*args):   # the count comes from the call
        return args[0] * args[-1] if args[-1] > 1 else args[0]
    jh = jax.jit(h, static_argnums=-1)
    assert float(jh(2.0, 3)) == 6.0 and float(jh(2.0, 5.0, 3)) == 6.0
    with pytest.raises(ValueError, match=r"jit\(h\) has static_argnums=\(-3,\), but was called with "
                                         r"only 2 positional arguments"):
        jax.jit(h, static_argnums=-3)(2.0, 3)


def test_static_argnums_out_of_range_fail_when_jitting():
    def f(x, n):
        return x
    for nums in (2, -3, (0, 5)):
        with pytest.raises(ValueError, match=r"jit\(f\) has static_argnums=\(.*\), but f only accepts "
                                             r"2 positional arguments \(indices -2 to 1\)"):
            jax.jit(f, static_argnums=nums)


def test_static_argument_can_drive_python_control_flow():
    def f(x, flag):
        return x + 1 if flag else x - 1
    jf = jax.jit(f, static_argnums=(1,))
    assert float(jf(1.0, True)) == 2.0 and float(jf(1.0, False)) == 0.0


def test_unhashable_static_argument():
    jf = jax.jit(lambda x, shape: x.reshape(shape), static_argnums=1)
    with pytest.raises(ValueError, match=r"Non-hashable static arguments are not supported: static "
                                         r"argument 'shape' of <lambda> is \[2, 2\] of type list"):
        jf(jnp.ones(4), [2, 2])
    assert jf(jnp.ones(4), (2, 2)).shape == (2, 2)


def test_kwargs_are_traced():
    jf = jax.jit(lambda x, y=1.0: x * y)
    assert float(jf(2.0, y=3.0)) == 6.0


def test_unknown_options_rejected():
    with pytest.raises(TypeError, match="unexpected keyword argument 'foo'.*static_argnums, "
                                        "static_argnames, backend"):
        jax.jit(lambda x: x, foo=1)
    with pytest.raises(TypeError, match="'device' is a JAX option tinygrad_tracer does not support"):
        jax.jit(lambda x: x, device='cpu')
    with pytest.raises(ValueError, match="donate_argnums=...\\) is not supported"):
        jax.jit(lambda x: x, donate_argnums=0)


def test_non_array_argument_must_be_static():
    with pytest.raises(TypeError, match="Argument s of f is 'abc' of type str.*static_argnums"):
        def f(x, s):
            return x
        jax.jit(f)(1.0, 'abc')


def test_decorator_forms():
    @jax.jit
    def f(x):
        return x + 1

    @jax.jit(static_argnums=1)
    def g(x, n):
        return x * n
    assert float(f(1.0)) == 2.0 and float(g(2.0, 4)) == 8.0
    assert f.__name__ == 'f' and 'jit-compiled function f' in repr(f)


def test_jit_of_method():
    class Scale:
        def __init__(self, k):
            self.k = k

        @jax.jit(static_argnums=0)   # self is a (hashable) Python object: static
        def apply(self, x):
            return x * self.k

    assert float(Scale(3).apply(2.0)) == 6.0
    with pytest.raises(TypeError, match="Argument self of apply is .* not a valid JAX type"):
        jax.jit(Scale.apply.__wrapped__)(Scale(3), 2.0)


def test_debug_log_explains_retraces(capsys, monkeypatch):
    monkeypatch.setattr(jax.settings, 'DEBUG', 1)
    jf = jax.jit(lambda x, n: x * n, static_argnums=1)
    jf(jnp.ones(3), 2)
    jf(jnp.ones(3), 2)
    jf(jnp.ones(4), 2)
    jf(jnp.ones(4), 5)
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "[tinygrad_tracer] jit(<lambda>): tracing for the first time, for arguments x:f32[3]",
        "[tinygrad_tracer] jit(<lambda>): retracing: new shapes/dtypes x: f32[4] (was f32[3])",
        "[tinygrad_tracer] jit(<lambda>): retracing: new static value 'n'=5 (was 2)",
    ]


# --- lower, backends, eval_shape ------------------------------------------------------------------

def test_lower_gives_jaxpr_and_text():
    lowered = jax.jit(lambda x: jnp.sin(x) * 2, backend='interpret').lower(1.0)
    assert str(lowered.jaxpr) == "{ lambda ; a:f32[]. let b:f32[] = sin a; c:f32[] = mul b 2.0:f32[] in (c,) }"
    assert lowered.as_text() == str(lowered.jaxpr)   # the interpreter runs the jaxpr as is
    exe = lowered.compile()
    assert float(exe(jnp.float32(1.0))[0]) == pytest.approx(2 * np.sin(1.0), rel=1e-6)


def test_backend_param_printed_when_chosen():
    text = str(jax.make_jaxpr(jax.jit(lambda x: x + 1, backend='interpret'))(1.0))
    assert "backend=interpret" in text


def test_get_backend_errors():
    with pytest.raises(ValueError, match="Unknown jit backend 'tpu': choose one of 'interpret', "
                                         "'numba', 'cuda'"):
        backends.get_backend('tpu')
    with pytest.raises(ValueError, match="Unknown jit backend 'tpu'"):
        jax.jit(lambda x: x, backend='tpu')
    assert backends.get_backend('interpret').compile is not None


def test_interpreter_executable_interface():
    closed = jax.make_jaxpr(lambda x, y: (x + y, x * y))(1.0, 2.0)
    exe = backends.get_backend('interpret').compile(closed, 'f')
    outs = exe(jnp.float32(3.0), jnp.float32(4.0))
    assert isinstance(outs, list) and [float(o) for o in outs] == [7.0, 12.0]
    assert exe.as_text() == str(closed)
    with pytest.raises(TypeError, match="f takes 2 arrays, got 1"):
        exe(jnp.float32(1.0))


def test_executable_compiled_once_per_trace(monkeypatch):
    interp = backends.get_backend('interpret')
    compiles = []
    real = interp.compile
    monkeypatch.setattr(interp, 'compile', lambda c, n: compiles.append(n) or real(c, n))
    jf = jax.jit(lambda x: x + 1, backend='interpret')
    jf(1.0)
    jf(2.0)
    jf(jnp.ones(2))
    assert compiles == ['<lambda>', '<lambda>']


def test_eval_shape():
    out = jax.eval_shape(jnp.dot, jax.ShapeDtypeStruct((3, 4), jnp.float32), jnp.ones(4))
    assert out == jax.ShapeDtypeStruct((3,), jnp.float32)
    tree = jax.eval_shape(lambda p: {'y': p['w'] @ p['x'], 'n': p['x'].sum()},
                          {'w': jnp.ones((2, 3)), 'x': jnp.ones(3)})
    assert tree == {'y': jax.ShapeDtypeStruct((2,), jnp.float32), 'n': jax.ShapeDtypeStruct((), jnp.float32)}


def test_jit_p_abstract_eval_checks_arguments():
    closed = jax.make_jaxpr(lambda x: x + 1)(1.0)
    with pytest.raises(TypeError, match=r"jit\(f\) was traced for arguments \['f32\[\]'\] but "
                                        r"called with \['f32\[3\]'\]"):
        jax.make_jaxpr(lambda x: jit_p.bind(x, jaxpr=closed, name='f', backend=None))(jnp.ones(3))


def test_nested_jit():
    inner = jax.jit(lambda x: x * 2)
    outer = jax.jit(lambda x: inner(x) + 1)
    assert float(outer(3.0)) == 7.0
    names = [e.primitive.name for e in outer.lower(3.0).jaxpr.eqns]
    assert names == ['jit', 'add']


def test_jit_closing_over_a_traced_value():
    # the closed-over tracer becomes an explicit operand, so grad sees it
    from tinygrad_tracer.api import grad
    g = grad(lambda x: jax.jit(lambda y: x * y)(3.0))(2.0)
    assert float(g) == 3.0


# --- seed cells -------------------------------------------------------------------------------

def test_seed_000_selu_jit():
    def selu(x, alpha=1.67, lam=1.05):
        return lam * jnp.where(x > 0, x, alpha * jnp.exp(x) - alpha)

    x = jnp.arange(5.0)
    np.testing.assert_allclose(selu(x), [0., 1.05, 2.1, 3.1499999, 4.2], rtol=1e-6)
    selu_jit = jax.jit(selu)
    x = jnp.arange(1E6)
    assert bool(jnp.allclose(selu(x), selu_jit(x)))  # results match
    assert selu_jit(x).block_until_ready().shape == (1000000,)


def test_seed_003_selu_jit():
    key = random.PRNGKey(0)

    def selu(x, alpha=1.67, lmbda=1.05):
        return lmbda * jnp.where(x > 0, x, alpha * jnp.exp(x) - alpha)

    v = random.normal(key, (1000000,))
    selu_jit = jax.jit(selu)
    # The Numba backend's float32 exp is within 2 ulp of eager's; alpha * exp(x) - alpha
    # cancels near 0, so the absolute error there is about one ulp of alpha.
    np.testing.assert_allclose(selu_jit(v).block_until_ready(), selu(v), rtol=1e-6, atol=3e-7)


def test_seed_002_matmul_relu_add():
    jax.nn, jax.random = nn, random   # as `import jax` exposes them

    def matmul_relu_add(x, y):
        z = x * y
        return jax.nn.relu(z) + x

    key = jax.random.key(123)
    key1, key2 = jax.random.split(key)
    x = jax.random.uniform(key1, (2500, 3000))
    y = jax.random.uniform(key2, (2500, 3000))
    eager = matmul_relu_add(x, y)
    jit_matmul_relu = jax.jit(matmul_relu_add)
    _ = jit_matmul_relu(x, y)
    np.testing.assert_array_equal(jit_matmul_relu(x, y), eager)


def test_cache_is_shared_by_jit_objects_of_one_function():
    f, calls = counting(lambda x: x + 1)
    for _ in range(3):
        jax.jit(f)(jnp.ones(2))
    assert len(calls) == 1
    jax.jit(f, static_argnums=0)(2)   # other static options: a cache of their own
    assert len(calls) == 2


def test_debug_log_new_structure(capsys, monkeypatch):
    monkeypatch.setattr(jax.settings, 'DEBUG', 1)
    jf = jax.jit(lambda x: x)
    jf(1.0)
    jf({'a': 1.0})
    assert capsys.readouterr().err.splitlines()[-1] == (
        "[tinygrad_tracer] jit(<lambda>): retracing: new argument structure "
        "PyTreeDef(({'a': *},)) (was PyTreeDef((*,)))")
