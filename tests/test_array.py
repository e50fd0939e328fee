"""`Array`: how it prints, converts, where it lives, and that it cannot change."""
import pickle

import numpy as np
import pytest

import tinygrad_tracer as tt
import tinygrad_tracer.numpy as jnp
from tinygrad_tracer import Array

# (expression, JAX's repr). The same expressions are re-checked against JAX when it is installed.
REPRS = [
    ("M.array([1., 2.])", "Array([1., 2.], dtype=float32)"),
    ("M.arange(3) + 1.5", "Array([1.5, 2.5, 3.5], dtype=float32, weak_type=True)"),
    ("M.asarray(2.0)", "Array(2., dtype=float32, weak_type=True)"),
    ("M.array(3)", "Array(3, dtype=int32, weak_type=True)"),
    ("M.float32(-1.0)", "Array(-1., dtype=float32)"),
    ("M.array(True)", "Array(True, dtype=bool)"),
    ("M.array([[True, False]])", "Array([[ True, False]], dtype=bool)"),
    ("M.ones((2, 3), M.int32)", "Array([[1, 1, 1],\n       [1, 1, 1]], dtype=int32)"),
    ("M.arange(12.).reshape(3, 4)", "Array([[ 0.,  1.,  2.,  3.],\n       [ 4.,  5.,  6.,  7.],\n"
                                    "       [ 8.,  9., 10., 11.]], dtype=float32)"),
    ("M.zeros((0,))", "Array([], shape=(0,), dtype=float32)"),
    ("M.zeros((2, 0), M.int32)", "Array([], shape=(2, 0), dtype=int32)"),
    ("M.array([1e10, 1.])", "Array([1.e+10, 1.e+00], dtype=float32)"),
    ("M.array(1e20)", "Array(1.e+20, dtype=float32, weak_type=True)"),
    ("M.array([M.nan, M.inf, -M.inf])", "Array([ nan,  inf, -inf], dtype=float32)"),
    ("M.array([1.5], M.float16)", "Array([1.5], dtype=float16)"),
    ("M.array([1.5], M.bfloat16)", "Array([1.5], dtype=bfloat16)"),
    ("M.arange(5.) / 3", "Array([0.        , 0.33333334, 0.6666667 , 1.        , 1.3333334 ],      dtype=float32)"),
    ("M.arange(20.).reshape(4, 5)[1] / 3", "Array([1.6666667, 2.       , 2.3333335, 2.6666667, 3.       ], dtype=float32)"),
    ("M.arange(24) * 1000", "Array([    0,  1000,  2000,  3000,  4000,  5000,  6000,  7000,  8000,\n"
                            "        9000, 10000, 11000, 12000, 13000, 14000, 15000, 16000, 17000,\n"
                            "       18000, 19000, 20000, 21000, 22000, 23000], dtype=int32)"),
    ("M.full((2, 2), 7)", "Array([[7, 7],\n       [7, 7]], dtype=int32, weak_type=True)"),
    ("M.array(0.1) + 0.2", "Array(0.3, dtype=float32, weak_type=True)"),
    ("M.array([1, 2], M.uint8)", "Array([1, 2], dtype=uint8)"),
]


@pytest.mark.parametrize('expr, expected', REPRS)
def test_repr_like_jax(expr, expected):
    assert repr(eval(expr, {'M': jnp})) == expected


def test_reprs_match_installed_jax(real_jax):
    import jax.numpy as jjnp
    for expr, expected in REPRS:
        assert repr(eval(expr, {'M': jjnp})) == expected, expr


def test_str_and_format():
    assert str(jnp.array([1., 2.])) == '[1. 2.]'
    assert str(jnp.float32(2.0)) == '2.0'
    assert str(jnp.asarray(1e20)) == '1e+20'
    assert str(jnp.array(True)) == 'True'
    assert f"{jnp.float32(2.5):.3f}" == '2.500'
    assert f"{jnp.array([1, 2])}" == '[1 2]'
    assert f"w: {jnp.float32(2.994):<.2f}" == 'w: 2.99'
    assert '{:>6}'.format(jnp.int32(7)) == '     7'


def test_python_conversions():
    x = jnp.array([1.5, -2.0])
    assert x[0].item() == 1.5 and type(x[0].item()) is float
    assert x.item(1) == -2.0
    assert type(jnp.int32(3).item()) is int and type(jnp.array(True).item()) is bool
    assert float(x[1]) == -2.0 and int(x[0]) == 1 and bool(x[0]) is True
    assert not jnp.array(0.0)
    assert x.tolist() == [1.5, -2.0]
    assert [1, 2, 3][jnp.int32(1)] == 2          # __index__
    assert complex(jnp.float32(2)) == 2 + 0j
    with pytest.raises(ValueError, match='can only convert an array of size 1 to a Python scalar'):
        x.item()
    with pytest.raises(TypeError, match='only 0-dimensional arrays can be converted to Python scalars'):
        float(x)
    with pytest.raises(ValueError, match='truth value of an array with more than one element is ambiguous'):
        bool(x)


def test_numpy_interop():
    x = jnp.array([[1, 2], [3, 4]])
    a = np.asarray(x)
    assert a.dtype == np.int32 and a.tolist() == [[1, 2], [3, 4]]
    assert np.asarray(x, np.float64).dtype == np.float64
    assert np.array(x).flags.writeable                       # a copy may be written ...
    assert not np.asarray(x).flags.writeable                 # ... the buffer itself may not
    assert np.sum(x) == 10
    # NumPy arrays on the left defer to Array's operators.
    out = np.ones(2, np.float32) + jnp.array([1.0, 2.0])
    assert isinstance(out, Array) and out.tolist() == [2.0, 3.0]


def test_buffer_is_read_only_and_decoupled():
    src = np.arange(3, dtype=np.float32)
    x = jnp.asarray(src)
    src[0] = 100.0   # the caller keeps a writable array ...
    assert src.flags.writeable
    with pytest.raises(ValueError, match='read-only'):
        np.asarray(x)[0] = 5.0   # ... but nobody can write through the Array
    with pytest.raises(TypeError, match=r'x = x\.at\[0\]\.set\(5\)'):
        x[0] = 5
    with pytest.raises(AttributeError):
        x.shape = (3, 1)
    with pytest.raises(TypeError, match="unhashable type: 'Array'"):
        hash(x)


def test_attributes_and_methods():
    x = jnp.arange(6.0).reshape(2, 3)
    assert (x.shape, x.ndim, x.size, x.nbytes, x.dtype) == ((2, 3), 2, 6, 24, np.float32)
    assert x.T.shape == (3, 2) and x.mT.shape == (3, 2) and x.transpose(1, 0).shape == (3, 2)
    assert x.reshape(3, 2).shape == (3, 2) and x.reshape((6,)).shape == (6,)
    assert x.astype(jnp.int32).dtype == np.int32
    assert x.sum().item() == 15.0 and x.sum(axis=0).tolist() == [3.0, 5.0, 7.0]
    assert x.mean().item() == 2.5 and x.max().item() == 5.0 and x.min(axis=1).tolist() == [0.0, 3.0]
    assert x.argmax().item() == 5 and x.argmin(axis=1).tolist() == [0, 0]
    assert x.prod(axis=1).tolist() == [0.0, 60.0]
    assert x.clip(1, 4).tolist() == [[1, 1, 2], [3, 4, 4]]
    assert x.flatten().tolist() == x.ravel().tolist() == [0, 1, 2, 3, 4, 5]
    assert x.cumsum().tolist()[-1] == 15.0
    assert x.var().item() == pytest.approx(35 / 12) and x.std().item() == pytest.approx((35 / 12) ** .5)
    assert (x @ x.T).tolist() == [[5.0, 14.0], [14.0, 50.0]] and x.dot(x.T).shape == (2, 2)
    assert x.any().item() and not x.all().item()
    assert x.round().dtype == np.float32 and x.squeeze().shape == (2, 3)
    assert x.take(jnp.array([5, 0])).tolist() == [5.0, 0.0]
    assert x.copy().tolist() == x.tolist() and x.copy().dtype == x.dtype
    assert (-x).tolist()[1] == [-3.0, -4.0, -5.0] and abs(-x).tolist() == x.tolist()
    assert (2 ** jnp.arange(3)).tolist() == [1, 2, 4]
    assert divmod(jnp.array(7), 2)[0].item() == 3 and (jnp.array(7) % 3).item() == 1
    assert (~jnp.array([True])).tolist() == [False] and (jnp.array(6) >> 1).item() == 3
    assert isinstance(x, jnp.ndarray) and isinstance(x, tt.Array)


def test_devices():
    cpu = tt.devices()[0]
    assert tt.devices() == [cpu] == tt.devices('cpu')
    assert repr(cpu) == 'CpuDevice(id=0)' and str(cpu) == 'cpu:0'
    assert cpu.platform == 'cpu' and cpu.id == 0
    x = jnp.ones(3)
    assert x.device == cpu and x.devices() == {cpu}
    assert f"{x.device}" == 'cpu:0'
    assert tt.default_backend() == 'cpu'
    assert jnp.ones((3, 4), device=cpu).device == cpu
    with pytest.raises(RuntimeError, match="Unknown backend 'tpu'"):
        tt.devices('tpu')


def test_device_put():
    cpu = tt.devices('cpu')[0]
    x = tt.device_put(np.ones(2), device=cpu)
    assert isinstance(x, Array) and repr(x) == 'Array([1., 1.], dtype=float32)'
    assert repr(tt.device_put(1.5)) == 'Array(1.5, dtype=float32, weak_type=True)'
    tree = tt.device_put({'a': np.float64(1), 'b': [2, True]})
    assert repr(tree) == ("{'a': Array(1., dtype=float32), 'b': [Array(2, dtype=int32, weak_type=True), "
                          "Array(True, dtype=bool)]}")
    y = jnp.arange(3)
    assert tt.device_put(y) is y
    # (device_put and device= a GPU: tests/test_device_arrays.py.) A device we do not have:
    unknown = r"'tpu' is not a device arrays can be placed on.*device_put\(x, devices\('cuda'\)\[0\]\)"
    with pytest.raises(ValueError, match=unknown):
        jnp.ones(2, device='tpu')


def test_block_until_ready_returns_the_array():
    x = jnp.dot(jnp.arange(4.0), jnp.arange(4.0))
    assert x.block_until_ready() is x and x.item() == 14.0


def test_pickle_round_trip():
    for x in (jnp.asarray(1.5), jnp.arange(6).reshape(2, 3), jnp.array([True])):
        y = pickle.loads(pickle.dumps(x))
        assert repr(y) == repr(x)


def test_direct_construction():
    x = Array(np.arange(3, dtype=np.float64))   # 64-bit values are canonicalized
    assert x.dtype == np.float32 and not x.weak_type
    assert Array(np.float32(2), weak_type=True).weak_type
    assert x.aval.shape == (3,) and x.aval.dtype == np.float32
    assert repr(x.aval) == 'ShapedArray(f32[3])'
