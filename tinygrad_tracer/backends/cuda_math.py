"""Scalar math for the CUDA kernels: in a generated CUDA kernel file, `np` is this
module. The kernel body is the CPU backend's (`codegen`), so it says `np.floor(x)`,
`np.float32(x)`, `exp_f32(x)`, `int_div(x, y)`; here each of those names is
something a GPU kernel can call.

Compiled for a GPU (`numba.cuda.compile_ptx`, or a launch on a card), the math is
CUDA's own libdevice: `math.exp` of a float32 in a kernel is `__nv_expf`, within 2
ulp of the correctly rounded result (CUDA C Programming Guide, "Mathematical
Functions"); `exp_f32` *is* `math.exp` there. So a GPU's results may differ from
the CPU backend's (whose `_fastmath` polynomials repeat XLA:CPU bit for bit) in
the last bits. Numba-cuda has no scalar NumPy functions in device code
(`np.floor(x)` fails with `KeyError: <ufunc 'floor'>`), and the CPU helpers of
`_fastmath` call NumPy functions (`np.floor` in `exp_f32`), so they cannot be
device code as they stand.

Under the CUDA simulator (`NUMBA_ENABLE_CUDASIM=1`) kernels run as Python, where
Python's `math` raises on inf and nan (`math.floor(inf)`, `math.log(0.0)`) and
turns float32 into float64: there the same names are NumPy's functions and the
CPU backend's float32 helpers (the simulator computes what the CPU backend does).

The few functions with an algorithm of our own (`logistic_*`, `rint`, `bitcast`,
integer division, float -> int conversion) are `cuda.jit(device=True)` functions
written once against the names above, so the simulator runs the very code a GPU
compiles (`tests/test_cuda_math.py` checks it against NumPy). Integer division
and conversion are `_fastmath`'s own functions, compiled again as device code.
"""
import math
import sys
import types

import numpy as np
from numba import config, cuda
# NumPy's scalar types and constants, as the kernels spell them (`np.float32(x)`, `np.nan`).
from numpy import (bool_, float32, float64, inf, int8, int16, int32, int64, nan,  # noqa: F401
                   uint8, uint16, uint32, uint64)

from . import _fastmath

SIMULATOR = bool(config.ENABLE_CUDASIM)

# NumPy's name -> Python's `math` function, which numba-cuda compiles to libdevice.
_LIBDEVICE = {
    'floor': math.floor, 'ceil': math.ceil, 'sqrt': math.sqrt, 'exp': math.exp, 'log': math.log,
    'log1p': math.log1p, 'expm1': math.expm1, 'tanh': math.tanh, 'sin': math.sin, 'cos': math.cos,
    'tan': math.tan, 'arcsin': math.asin, 'arccos': math.acos, 'arctan': math.atan,
    'sinh': math.sinh, 'cosh': math.cosh, 'arcsinh': math.asinh, 'arccosh': math.acosh,
    'arctanh': math.atanh, 'power': math.pow, 'arctan2': math.atan2, 'fmod': math.fmod,
    'nextafter': math.nextafter, 'isfinite': math.isfinite,
}
# The float32 helpers the kernels name (codegen.HELPERS) -> libdevice.
_LIBDEVICE_F32 = {'exp_f32': math.exp, 'log_f32': math.log, 'log1p_f32': math.log1p,
                  'tanh_f32': math.tanh, 'erf_f32': math.erf}


def _float32_helper(fn):
    """Under the simulator: `_fastmath`'s CPU helper on a float32 (a value the simulator
    computed as float64 would otherwise pick a float64 version that does not exist)."""
    return lambda x: fn(np.float32(x))


def _simulated_fma(a, b, c):
    """a * b + c under the simulator: float32 in float64 (exact product, one rounding
    of the sum, then the rounding to float32); float64 as two roundings."""
    if isinstance(a, np.float32):
        return np.float32(np.float64(a) * np.float64(b) + np.float64(c))
    return a * b + c


if SIMULATOR:
    globals().update({name: getattr(np, name) for name in _LIBDEVICE})
    globals().update({name: _float32_helper(getattr(_fastmath, name))
                      for name in (*_LIBDEVICE_F32, 'erf_inv_f32')})
    fma = _simulated_fma
else:
    from numba.cuda import libdevice
    globals().update(_LIBDEVICE)
    globals().update(_LIBDEVICE_F32)
    erf_inv_f32 = libdevice.erfinvf   # M. Giles' algorithm, as _fastmath's

    @cuda.jit(device=True)
    def fma(a, b, c):
        return cuda.fma(a, b, c)   # a kernel cannot name `cuda.fma` through a global alias


def _device(fn):
    """`fn`'s code (a `_fastmath` function's, say) as a device function: the names it
    shares with this module (`exp_f32`, `np`, ...) are this module's."""
    scope = dict(fn.__globals__)
    scope.update({k: v for k, v in globals().items() if not k.startswith('_')},
                 np=sys.modules[__name__])
    return cuda.jit(device=True)(types.FunctionType(fn.__code__, scope, fn.__name__))


@cuda.jit(device=True)
def bitcast(x, to):
    """The bits of scalar `x` read as the type `to` (same width)."""
    return x.view(to)


def _rint(x):
    """Round half to even (NumPy's `rint`; libdevice has it only per dtype)."""
    down = floor(x)
    d = x - down
    up = (d > 0.5) | ((d == 0.5) & (fmod(down, 2.0) != 0))
    return ceil(x) if up else down


rint = _device(_rint)
logistic_f32 = _device(_fastmath.logistic_f32.py_func)
logistic_f64 = _device(_fastmath.logistic_f64.py_func)
int_div = _device(_fastmath.int_div.py_func)
int_rem = _device(_fastmath.int_rem.py_func)
float_to_int = _device(_fastmath.float_to_int.py_func)
