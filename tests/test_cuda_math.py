"""The device math of the CUDA backend (`backends/cuda_math.py`) against NumPy, run
by simulated GPU threads (conftest.py turns the CUDA simulator on).

Only our own algorithms are checked here: where cuda_math names libdevice
(`math.exp` is `__nv_expf` on a GPU) the simulator runs NumPy instead, and
libdevice's accuracy is NVIDIA's (test_ptx.py checks that it compiles).
"""
import numpy as np
import pytest
from numba import cuda

from tinygrad_tracer.backends import _fastmath, cuda_math

SPECIAL = [0.0, -0.0, 0.5, -0.5, 1.5, 2.5, -2.5, 3.5, 1e-30, -1e-30, 1e30, 7.0, np.inf, -np.inf, np.nan]


@cuda.jit
def _unary(fn, x, out):
    i = cuda.grid(1)
    if i < x.size:
        out[i] = fn(x[i])


@cuda.jit
def _binary(fn, x, y, out):
    i = cuda.grid(1)
    if i < x.size:
        out[i] = fn(x[i], y[i])


def on_device(fn, *xs, dtype=None):
    out = np.zeros(xs[0].shape, dtype or xs[0].dtype)
    kernel = _unary if len(xs) == 1 else _binary
    kernel[1, xs[0].size](fn, *xs, out)
    return out


def floats(dtype, n=48, seed=0):
    rng = np.random.default_rng(seed)
    x = np.concatenate([SPECIAL, rng.normal(0, 30, n), rng.integers(-8, 8, 16) * 0.5])
    return x.astype(dtype)


@pytest.mark.filterwarnings('ignore:invalid value:RuntimeWarning')   # inf - inf, on purpose
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_rint_rounds_half_to_even(dtype):
    x = floats(dtype)
    np.testing.assert_array_equal(on_device(cuda_math.rint, x), np.rint(x))


def test_logistic_f32_within_2_ulp():
    x = floats(np.float32)
    got = on_device(cuda_math.logistic_f32, x)
    want = (1 / (1 + np.exp(-x.astype(np.float64)))).astype(np.float32)
    ulp = np.abs(got.view(np.int32).astype(np.int64) - want.view(np.int32))
    assert np.all(ulp[~np.isnan(want)] <= 2) and np.array_equal(np.isnan(got), np.isnan(want))


def test_logistic_f64():
    x = floats(np.float64)
    with np.errstate(over='ignore'):
        want = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(on_device(cuda_math.logistic_f64, x), want, rtol=1e-15)


def test_integer_division_truncates_and_divides_by_zero_as_xla():
    rng = np.random.default_rng(1)
    x = rng.integers(-100, 100, 64).astype(np.int64)
    y = np.concatenate([[0, 0], rng.integers(-9, 10, 62)]).astype(np.int64)
    safe = np.where(y == 0, 1, y)
    want_q = np.where(y == 0, -1, np.trunc(x / safe).astype(np.int64))
    want_r = np.where(y == 0, x, np.fmod(x, safe))
    np.testing.assert_array_equal(on_device(cuda_math.int_div, x, y), want_q)
    np.testing.assert_array_equal(on_device(cuda_math.int_rem, x, y), want_r)


def test_float_to_int_saturates_and_maps_nan_to_zero():
    x = np.array([0.0, -0.0, 2.7, -2.7, 3e9, -3e9, 2147483647.5, -2147483648.5, 2147483520.0,
                  np.inf, -np.inf, np.nan], np.float32)
    info = np.iinfo(np.int32)

    def to_int32(v):
        return cuda_math.float_to_int(v, info.min, info.max, float(info.min), float(info.max))
    got = on_device(to_int32, x, dtype=np.int32)
    want = [_fastmath.float_to_int(v, info.min, info.max, float(info.min), float(info.max)) for v in x]
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(got, [0, 0, 2, -2, info.max, info.min, info.max, info.min,
                                        2147483520, info.max, info.min, 0])


@pytest.mark.parametrize('dtype,to', [(np.float32, np.uint32), (np.float64, np.int64), (np.int32, np.float32)])
def test_bitcast_is_numpy_view(dtype, to):
    x = floats(np.float32).astype(dtype) if dtype != np.int32 else np.arange(-5, 60, dtype=np.int32) * 77777

    def cast(v):
        return cuda_math.bitcast(v, to)
    np.testing.assert_array_equal(on_device(cast, x, dtype=to).view(np.uint8), x.view(to).view(np.uint8))


def test_fma_rounds_once_in_float32():
    a = np.array([1 + 2.0 ** -12, 3.0, -0.0], np.float32)
    b = np.array([1 + 2.0 ** -12, 0.5, 2.0], np.float32)
    c = np.array([-(1 + 2.0 ** -11), 1.0, 0.0], np.float32)

    @cuda.jit
    def k(a, b, c, out):
        i = cuda.grid(1)
        if i < a.size:
            out[i] = cuda_math.fma(a[i], b[i], c[i])
    out = np.zeros(3, np.float32)
    k[1, 3](a, b, c, out)
    want = (a.astype(np.float64) * b + c).astype(np.float32)
    np.testing.assert_array_equal(out, want)
    assert out[0] == np.float32(2.0 ** -24)   # a * b rounded to float32 first would give 0
