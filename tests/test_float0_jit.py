"""grad(..., allow_int=True) gives integer inputs float0 gradients (zeros with no
data). They must also come out of make_jaxpr (printed as JAX prints them), jit on
every backend, vmap and their compositions, with JAX's values, dtypes and shapes."""
import numpy as np
import pytest

import tinygrad_tracer as tt
import tinygrad_tracer.numpy as tnp
from tinygrad_tracer import backends, dtypes
from tinygrad_tracer.jaxpr import compile_without_float0

BACKENDS = ['interpret', 'numba', 'cuda']


def loss(x, i):
    return (x * i).sum()


def grad_both():
    return tt.grad(loss, argnums=(0, 1), allow_int=True)


def args():
    return np.asarray([1.0, 2.0, 3.0], np.float32), np.asarray([4, 5, 6], np.int32)


def batch_args():
    return np.arange(6, dtype=np.float32).reshape(2, 3), np.arange(6, dtype=np.int32).reshape(2, 3)


def check_float0(t, shape):
    assert isinstance(t, np.ndarray) and t.dtype == dtypes.float0 and t.shape == shape, t


def test_make_jaxpr_prints_float0_zeros_as_jax_does():
    assert str(tt.make_jaxpr(tt.grad(lambda x, i: x * i, argnums=(0, 1), allow_int=True))(1., 2)) == """\
{ lambda ; a:f32[] b:i32[]. let
    c:f32[] = convert_element_type[new_dtype=float32 weak_type=True] b
    _:f32[] = mul a c
    d:f32[] = mul 1.0:f32[] c
  in (d, (b'',):float0[]) }"""
    assert str(tt.make_jaxpr(grad_both())(*args())).endswith("""\
    f:f32[3] = mul e c
    g:float0[3] = broadcast_in_dim (b'',):float0[]
  in (f, g) }""")


def scalar_args():
    return 1.0, 2


@pytest.mark.parametrize('make, inputs', [
    (lambda m: m.grad(lambda x, i: x * i, argnums=(0, 1), allow_int=True), scalar_args),
    (lambda m: m.value_and_grad(lambda x, i: x * i, argnums=(0, 1), allow_int=True), scalar_args),
    (lambda m: m.grad(lambda x, i: x * i, argnums=1, allow_int=True), scalar_args),
    (lambda m: m.grad(loss, argnums=(0, 1), allow_int=True), args),
    (lambda m: m.jit(m.grad(loss, argnums=(0, 1), allow_int=True)), args),
    (lambda m: m.vmap(m.grad(loss, argnums=(0, 1), allow_int=True)), batch_args),
    (lambda m: m.grad(lambda p: loss(p['w'], p['n']), allow_int=True),
     lambda: ({'w': 2.0, 'n': np.arange(3, dtype=np.int32)},)),
], ids=['grad', 'value_and_grad', 'int_only', 'vector', 'jit', 'vmap', 'pytree'])
def test_make_jaxpr_matches_jax(make, inputs, real_jax):
    ours = str(tt.make_jaxpr(make(tt))(*inputs()))
    theirs = str(real_jax.make_jaxpr(make(real_jax))(*inputs()))
    # JAX names a jit after the function grad wraps, and prints NumPy ints in params.
    theirs = theirs.replace('np.int64(1)', '1').replace('name=loss', 'name=grad(loss)')
    if make(tt).__name__.startswith('vmap'):   # JAX batches `broadcast_in_dim 1.0` its own way
        ours, theirs = ([line for line in s.split('\n') if 'float0' in line] for s in (ours, theirs))
    assert ours == theirs


@pytest.mark.parametrize('backend', BACKENDS)
def test_jit_returns_float0_gradients(backend):
    g, i_g = tt.jit(grad_both(), backend=backend)(*args())
    np.testing.assert_array_equal(g, [4, 5, 6])
    check_float0(i_g, (3,))
    (v, (g, i_g)) = tt.jit(tt.value_and_grad(lambda x, i: x * i, argnums=(0, 1), allow_int=True),
                           backend=backend)(1.0, 2)
    assert (float(v), float(g)) == (2.0, 2.0)
    check_float0(i_g, ())


@pytest.mark.parametrize('compose', ['vmap', 'jit_vmap', 'vmap_jit'])
def test_vmap_of_float0_gradients(compose):
    f = {'vmap': lambda g: tt.vmap(g), 'jit_vmap': lambda g: tt.jit(tt.vmap(g)),
         'vmap_jit': lambda g: tt.vmap(tt.jit(g))}[compose](grad_both())
    g, i_g = f(*batch_args())
    np.testing.assert_array_equal(g, np.arange(6).reshape(2, 3))
    check_float0(i_g, (2, 3))
    i_g = tt.vmap(grad_both(), in_axes=1, out_axes=1)(*batch_args())[1]
    check_float0(i_g, (2, 3))


@pytest.mark.parametrize('compose', ['jit', 'vmap', 'jit_vmap', 'jit_value_and_grad'])
def test_values_dtypes_shapes_match_jax(compose, real_jax):
    def build(m):
        g = m.grad(loss, argnums=(0, 1), allow_int=True)
        return {'jit': m.jit(g), 'vmap': m.vmap(g), 'jit_vmap': m.jit(m.vmap(g)),
                'jit_value_and_grad': m.jit(m.value_and_grad(loss, argnums=(0, 1), allow_int=True))
                }[compose]
    inputs = batch_args() if 'vmap' in compose else args()
    ours = tt.tree_util.tree_leaves(build(tt)(*inputs))
    theirs = real_jax.tree_util.tree_leaves(build(real_jax)(*inputs))
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert isinstance(a, np.ndarray) == isinstance(b, np.ndarray)   # float0: a NumPy array
        b = np.asarray(b)
        assert (np.dtype(a.dtype), a.shape) == (b.dtype, b.shape)
        if b.dtype != dtypes.float0:
            np.testing.assert_array_equal(np.asarray(a), b)


def test_a_jaxpr_without_float0_is_compiled_as_it_is():
    closed = tt.make_jaxpr(lambda x: x * 2)(1.0)
    exe = backends.get_backend('interpret').compile(closed, 'f')
    assert compile_without_float0(closed, lambda c: exe) is exe


def test_backends_never_see_float0():
    seen = []

    def compile(closed):
        seen.append(closed)
        return backends.get_backend('numba').compile(closed, 'g')
    exe = compile_without_float0(tt.make_jaxpr(grad_both())(*args()), compile)
    (jaxpr,) = [c.jaxpr for c in seen]
    assert 'float0' not in str(jaxpr) and len(jaxpr.outvars) == 1
    assert exe.host_fallbacks == []   # what the backend's executable knows is still there
    out = exe(*map(tt.Array, args()))
    np.testing.assert_array_equal(out[0], [4, 5, 6])
    check_float0(out[1], (3,))


def test_nested_jit_returning_float0_says_what_to_do():
    f = tt.jit(tt.jit(grad_both()), backend='interpret')
    with pytest.raises(TypeError, match=r"jit cannot compile `jit` from \(f32\[3\], i32\[3\]\) to "
                                        r"\(f32\[3\], float0\[3\]\).*call the inner function without jit"):
        f(*args())


def test_float0_is_no_array_dtype():
    with pytest.raises(TypeError, match=r"float0 .* has no data to compute with.*np.zeros"):
        tnp.zeros(3, dtypes.float0)


@pytest.mark.parametrize('backend', BACKENDS)
def test_jit_passes_a_float0_argument_through_as_jax_does(backend):
    # e.g. a gradient from grad(allow_int=True) handed to a jitted update
    out = tt.jit(lambda a, t: (a * 2, t), backend=backend)(np.float32(1.5), np.zeros(3, dtypes.float0))
    assert float(out[0]) == 3.0
    check_float0(out[1], (3,))


def test_arithmetic_on_a_float0_value_says_why_it_cannot_be_done():
    for f in (tt.jit(lambda t: t + 1), tt.make_jaxpr(lambda t: t * 2.0)):
        with pytest.raises(TypeError, match=r"got a float0 value .* carry no data"):
            f(np.zeros(3, dtypes.float0))
    with pytest.raises(TypeError, match=r"neg does not accept dtype float0"):   # not numpy's "void"
        tt.jit(lambda t: -t)(np.zeros(3, dtypes.float0))
