"""NumPy that computes what XLA:CPU computes, down to the last bit.

A primitive's meaning is simple (`div` divides, `reduce_sum` adds up); the
digits JAX prints depend on how XLA does it: in which order a sum adds, where
an integer division rounds, what a float-to-int conversion does out of range.
NumPy makes other choices, so the primitives' implementations in `lax` call
these helpers wherever the two differ. Each one says which XLA behaviour it
repeats; none of them is needed to understand what a primitive *is*.

The float32 polynomials XLA uses for log, log1p, erf and erf_inv are in
`xla_math`; this module is the rest.
"""
import ctypes
import ctypes.util
import functools
import math

import numpy as np

from . import dtypes, xla_math


def in_float64(np_fn):
    """`np_fn` computed in float64 and rounded once: NumPy's float32
    transcendentals can be an ulp off, the correctly rounded result is what
    XLA prints."""
    return lambda x: np_fn(x.astype(np.float64)) if x.dtype.kind == 'f' and x.dtype.itemsize < 8 else np_fn(x)


def c_library(name, np_fn):
    """The float32 function `name` of the C library (`sinf`), which XLA:CPU calls
    for sin, cos and tan (not for atan: it has its own). NumPy's float32 versions
    are its own SIMD code and the float64 detour is correctly rounded: both differ
    from it by an ulp now and then. float16 and bfloat16 go through float32 (as
    XLA); float64 is NumPy's. (Measured against JAX 0.10.2 with glibc.)

        >>> float(c_library('sin', np.sin)(np.float32(0.13771885633468628)))  # float64: ...21
        0.13728393614292145
    """
    def impl(x):
        if x.dtype.kind == 'f' and x.dtype.itemsize < 8 or dtypes.is_bfloat16(x.dtype):
            return _float32_c_library(name, x.astype(np.float32)).astype(x.dtype)
        return np_fn(x)
    return impl


def _float32_c_library(name, x):
    """The C library's `name`f (sinf, ...) on the float32 array `x`: a few thousand
    values element by element through ctypes; more through a Numba ufunc (Numba
    compiles math.sin on a float32 to a call of sinf, as XLA's code does), which
    costs Numba's import, too slow a start for eager work on a few values."""
    if x.size <= 4096:
        return np.asarray(_ctypes_ufunc(name)(x.astype(np.float64)), np.float32)
    return _numba_ufunc(name)(x)


@functools.cache
def _ctypes_ufunc(name):
    c_fn = getattr(ctypes.CDLL(ctypes.util.find_library('m')), name + 'f')
    c_fn.restype, c_fn.argtypes = ctypes.c_float, [ctypes.c_float]
    return np.frompyfunc(c_fn, 1, 1)


@functools.cache
def _numba_ufunc(name):
    import numba   # slow to import: only for a large float32 array
    return numba.vectorize(['float32(float32)'], cache=True)(_C_FUNCTIONS[name])


def _sin(x):
    return math.sin(x)


def _cos(x):
    return math.cos(x)


def _tan(x):
    return math.tan(x)


_C_FUNCTIONS = {'sin': _sin, 'cos': _cos, 'tan': _tan}


def divide(x, y, reciprocal=False):
    """x / y as XLA: integers round toward zero (and x / 0 is -1); a float
    division XLA rewrites (`reciprocal`, see `divides_by_reciprocal`) is
    x * (1 / y), which rounds differently."""
    if dtypes.is_int(x.dtype):
        if x.dtype.kind == 'i' and x.dtype.itemsize < 8:   # abs(INT_MIN) overflows in 32 bits
            x, y = x.astype(np.int64), y.astype(np.int64)
        q = np.abs(x) // np.where(y == 0, 1, np.abs(y))
        return np.where(y == 0, -1, np.sign(x) * np.sign(y) * q)
    if reciprocal:
        return x * (y.dtype.type(1) / y)
    return x / y


def divides_by_reciprocal(dtype, dividend_constant, divisor_constant, divisor_broadcast):
    """Does XLA compute the division x / y as x * (1 / y), which rounds differently?

    Its algebraic simplifier rewrites a float division whose divisor is known when
    compiling (a literal, a closed-over constant, or computed from those alone) or
    is a broadcast (the same values repeated), unless the whole quotient is constant
    (then it is folded, exactly). bfloat16 keeps the exact quotient (XLA:CPU
    computes it in float32). This is the one place the rule lives: eager jnp
    functions, `lax.mark_reciprocal_divisions` and so every jit backend ask it.
    (Measured against JAX 0.10.2 on the CPU.)"""
    return (dtypes.is_float(dtype) and not dtypes.is_bfloat16(dtype)
            and not (dividend_constant and divisor_constant)
            and (divisor_constant or divisor_broadcast))


def integer_pow(x, y):
    """x ** y for a Python int y by square-and-multiply, as XLA (and our jit
    kernels) compute it: x ** 5 is x * ((x * x) * (x * x)), rounded after each
    product, which differs from NumPy's pow in the last digit; x ** -y is 1 / x ** y.

        >>> x = np.float32(3.1)
        >>> float(integer_pow(x, 3)), float(np.power(x, 3))
        (29.790998458862305, 29.790996551513672)
    """
    if y == 0:
        return np.ones_like(x)
    acc, power, n = None, x, abs(y)
    while n:
        if n & 1:
            acc = power if acc is None else acc * power
        n >>= 1
        if n:
            power = power * power
    return x.dtype.type(1) / acc if y < 0 else acc


def remainder(x, y):
    """C's fmod (the sign of x), as XLA; an integer x % 0 is x."""
    if dtypes.is_int(x.dtype):
        return np.where(y == 0, x, np.fmod(x, np.where(y == 0, 1, y)))
    return np.fmod(x, y)


def shift_left(x, y):
    """x << y, 0 when y is negative or at least the bit width (NumPy's is undefined there)."""
    bits = x.dtype.itemsize * 8
    return np.where((y < 0) | (y >= bits), 0, np.left_shift(x, np.clip(y, 0, bits - 1)))


def shift_right(x, y, logical):
    """x >> y filling with zeros (`logical`) or the sign bit; a shift past the
    bit width gives 0 (or -1 for a negative x shifted arithmetically)."""
    bits = x.dtype.itemsize * 8
    unsigned = np.dtype(f'uint{bits}')
    xu = x.view(unsigned) if logical else x
    out = np.right_shift(xu, np.clip(y, 0, bits - 1).astype(xu.dtype))
    out = out.view(x.dtype) if logical else out
    big = (y < 0) | (y >= bits)
    return np.where(big, 0 if logical else np.where(x < 0, -1, 0).astype(x.dtype), out)


def convert(x, new_dtype, weak_type=False):
    """x as `new_dtype`. Float to int truncates toward zero, saturates values out
    of range and maps nan to 0, as XLA (NumPy's cast is undefined there)."""
    new_dtype = np.dtype(new_dtype)
    if dtypes.is_float(x.dtype) and dtypes.is_int(new_dtype):
        info = np.iinfo(new_dtype)
        x = np.trunc(np.nan_to_num(x.astype(np.float64), nan=0.0))
        return np.clip(x, info.min, info.max).astype(new_dtype)
    if dtypes.is_bool(new_dtype):
        return x != 0
    return x.astype(new_dtype)


def in_order(np_reduce, np_accumulate):
    """A sum (or product) over `axis` that rounds as XLA:CPU's, and as the jit backends'.

    Float sums round differently in different orders. XLA:CPU adds up to 32
    elements one after another (row-major over the reduced axes), so we do too
    and print JAX's digits. Longer float reductions accumulate in float64 and
    round once, whatever the axis: the one rule the Numba and CUDA kernels follow
    too (`codegen._acc_dtype`), so eager and jit agree to an ulp, and a float32
    mean over 10000 rows errs by ~1e-8 (NumPy's float32 sum along a strided axis
    adds one row after another, and errs 30 times more). float16 and bfloat16
    accumulate short sums in float32, as XLA does."""
    def reduce(x, axis):
        acc = np.float32 if dtypes.is_float(x.dtype) and x.dtype.itemsize < 4 else x.dtype
        count = int(np.prod([x.shape[a] for a in axis], dtype=np.int64))
        if dtypes.is_float(x.dtype) and count > 32:
            return np_reduce(x, axis=axis, dtype=np.float64)
        if not dtypes.is_float(x.dtype) or count <= 1:
            return np_reduce(x, axis=axis, dtype=acc)
        kept = [a for a in range(x.ndim) if a not in axis]
        rows = np.transpose(x, kept + list(axis)).reshape([x.shape[a] for a in kept] + [count])
        return np_accumulate(rows, axis=-1, dtype=acc)[..., -1]
    return reduce


def sums_like_blas(x_shape, y_shape, dimension_numbers, dtype):
    """Does XLA:CPU's dot_general add up its products in the order a BLAS matrix
    product (np.matmul) does? Not where `vector_dot` knows its order instead."""
    (lc, rc), (lb, _) = dimension_numbers
    if lb or len(lc) != 1 or dtype != np.float32 or \
            sorted((len(x_shape), len(y_shape))) not in ([1, 1], [1, 2]):
        return True
    (mat_shape, mat_axis), K = ((x_shape, lc[0]), y_shape[0]) if len(x_shape) == 2 else \
        ((y_shape, rc[0]), x_shape[0])
    if K > 2048:   # vector_dot's loops would take longer than they teach
        return True
    if len(mat_shape) == 1:
        return K > 32
    if mat_axis == 0:
        return mat_shape[1] < 3 or mat_shape[1] % 8 == 1
    return K >= 8 and not 2 <= mat_shape[0] < 8


def vector_dot(x, y, dimension_numbers):
    """A float32 dot_general with a vector operand, summed as XLA:CPU sums it.

    XLA:CPU adds the products with fused multiply-adds (one rounding each), and
    the order depends on which axis of the matrix is contracted (measured
    against JAX 0.10.2 on an AVX2 CPU; `sums_like_blas` says where this applies):
    - vector . vector, up to 32 elements: one after another.
    - matrix . vector contracting the matrix's first axis: one after another
      for every output (vectorised across them); not for fewer than 3 outputs
      or 8n+1 of them (the last one sums otherwise).
    - matrix . vector contracting its last (contiguous) axis, with 2 to 7
      rows or fewer than 8 columns: 8 running sums (lanes), each over every
      8th product, added pairwise (0-3 + 4-7, ...), plus the last K % 8 products
      summed on their own.

        >>> x = np.array([0.88, -1.08, 0.15], np.float32)
        >>> float(vector_dot(x, np.array([-2.4424558, -2.0356805, 0.20554423], np.float32),
        ...                  (((0,), (0,)), ((), ()))))
        0.08000556379556656
    """
    (lc, rc), _ = dimension_numbers
    (mat, mat_axis), vec = ((x, lc[0]), y) if x.ndim == 2 else ((y, rc[0]), x)
    K = vec.shape[0]
    if mat.ndim == 1 or mat_axis == 0:
        mat = mat.reshape(K, -1)
        acc = np.zeros(mat.shape[1], np.float32)
        for k in range(K):
            acc = xla_math.fma(vec[k], mat[k], acc)
        return acc.reshape(()) if x.ndim == y.ndim == 1 else acc
    full = K // 8 * 8
    lanes = np.zeros((mat.shape[0], 8), np.float32)
    for k in range(0, full, 8):
        lanes = xla_math.fma(mat[:, k:k + 8], vec[k:k + 8], lanes)
    while lanes.shape[1] > 1:
        half = lanes.shape[1] // 2
        lanes = lanes[:, :half] + lanes[:, half:]
    tail = np.zeros(mat.shape[0], np.float32)
    for k in range(full, K):
        tail = xla_math.fma(mat[:, k], vec[k], tail)
    return lanes[:, 0] + tail


def extreme(np_fn, largest):
    """A max (`largest`) or min over `axis` where reducing no elements gives the
    identity (-inf for max, as XLA) instead of NumPy's error."""
    def reduce(x, axis):
        if x.size:
            return np_fn(x, axis=axis)
        if dtypes.is_float(x.dtype):
            ident = -np.inf if largest else np.inf
        elif dtypes.is_bool(x.dtype):
            ident = not largest
        else:
            ident = np.iinfo(x.dtype).min if largest else np.iinfo(x.dtype).max
        return np_fn(x, axis=axis, initial=ident)
    return reduce


def arg_extreme(np_fn):
    """argmax / argmin over the one axis in `axes`, where nan counts as the
    extreme value, as in XLA (NumPy's argmax skips past it)."""
    def impl(x, axes, index_dtype):
        (axis,) = axes
        if dtypes.is_float(x.dtype):
            nan = np.isnan(x)
            return np.where(nan.any(axis), np.argmax(nan, axis), np_fn(x, axis))
        return np_fn(x, axis)
    return impl


def clamp_starts(starts, sizes, shape):
    """Start indices of windows of `sizes`, moved back inside `shape` when they
    would run off the end, as XLA's dynamic slices do."""
    return [int(min(max(int(s), 0), n - k)) for s, k, n in zip(starts, sizes, shape)]
