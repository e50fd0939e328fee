"""Eager operations on arrays committed to a GPU run on that GPU, as in JAX.

`jnp.sin(x)` on a DeviceArray binds `sin_p` with no transformation running, so
EvalTrace hands it to `device_array.placed_eval`; that sees an argument committed to
the GPU and calls `gpu_eval` here. The primitive alone is traced to a one-equation
jaxpr and compiled by the CUDA backend, once per (primitive, argument shapes, dtypes
and weak types, params); each call runs that executable. Arguments on the device
pass as their buffers, uncommitted ones (a `jnp.arange`, a Python scalar) are
uploaded, and the results are DeviceArrays committed to the GPU.

    >>> x = device_put(jnp.arange(3.0), devices('cuda')[0])
    >>> y = jnp.sin(x) + 1            # two one-primitive executables, each compiled once
    >>> y.device, y.committed
    (CudaDevice(id=0), True)

What runs on the host, still placed on the GPU:
- a primitive the CUDA backend has no kernel for runs inside its one-primitive
  executable as a host step (its NumPy impl), exactly as inside a
  `jit(f, backend='cuda')`; `TT_DEBUG=1` logs it when that executable is compiled;
- a primitive whose params are not plain values (control flow, custom derivatives,
  callbacks: they hold jaxprs or functions, new ones at every eager call, so a
  compiled executable could not be found again) is not compiled one by one: its
  NumPy impl runs on host copies of the arguments (`TT_DEBUG=1` logs each call).
  Inside `jit(f, backend='cuda')` the same control flow runs on the device.
Either way its results are DeviceArrays holding a host copy, uploaded the first time
a kernel reads them (as a host step's results inside a cuda jit), and the values are
those the CPU computes.
"""
import numpy as np

from . import settings
from .array import Array, as_array
from .core import plain_param, raise_to_shaped
from .device_array import DeviceArray, current_gpu, set_gpu_eval
from .jaxpr import trace_to_jaxpr
from .jit import compiled

_executables = {}   # (primitive, argument kinds, params, x64) -> one-primitive executable


def gpu_eval(prim, args, params):
    """Run `prim` on `args`, some committed to the current GPU, there: a list of
    DeviceArrays (see the module docstring)."""
    args = [as_array(a) for a in args]
    if params and not all(map(plain_param, params.values())):
        return _on_host(prim, args, params)
    # (the type of each param too: 1, 1.0 and True are equal as keys, not as params)
    key = (prim, tuple((a.shape, a.dtype, a.weak_type) for a in args),
           tuple((k, v, type(v)) for k, v in params.items()), settings.config.jax_enable_x64)
    executable = _executables.get(key)
    if executable is None:
        if len(_executables) > 1000:   # a program sweeping shapes: start over, stay small
            _executables.clear()
        executable = _executables[key] = _compile(prim, args, params)
    return executable(*args)


def _compile(prim, args, params):
    """`prim` applied to arguments like `args`, as a CUDA executable."""
    def one_primitive(*xs):
        outs = prim.bind(*xs, **params)
        return outs if prim.multiple_results else [outs]
    avals = [raise_to_shaped(a.aval) for a in args]
    if settings.DEBUG >= 1:
        settings.log(f"eager {prim.name} on {current_gpu()}: compiling it for the CUDA backend, "
                     f"for arguments {', '.join(a.str_short() for a in avals)}")
    return compiled(trace_to_jaxpr(one_primitive, avals, prim.name), 'cuda', prim.name)


def _on_host(prim, args, params):
    """`prim`'s NumPy impl on host copies of `args`; its results placed on the GPU, each
    holding its host copy until a kernel reads it."""
    gpu = current_gpu()
    if settings.DEBUG >= 1:
        settings.log(f"eager {prim.name} on {gpu}: its params hold a jaxpr or a function, so it "
                     "is not compiled by itself; it runs through its NumPy impl on host copies of "
                     "its arguments (under jit(f, backend='cuda') it would run on the device)")
    outs = prim.impl(*[Array(np.asarray(a), a.weak_type) for a in args], **params)
    # (an impl may return a NumPy float0 array: no data, nothing to place)
    return [DeviceArray.on_device(None, o.aval, gpu, np.asarray(o)) if isinstance(o, Array) else o
            for o in (outs if prim.multiple_results else [outs])]


set_gpu_eval(gpu_eval)
