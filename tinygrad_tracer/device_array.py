"""Arrays that live on a CUDA device: what `jit(f, backend='cuda')` returns and
`device_put(x, devices('cuda')[0])` makes.

A `DeviceArray` is an `Array` whose value sits in a `numba.cuda` device buffer,
*committed* to its GPU (see "placement" below). Handing it to a jitted function
passes the buffer itself: nothing crosses to the host. Operations on it run on
the GPU too, as in JAX: an eager `jnp.sin(x)` or `x @ w` runs a one-primitive
CUDA executable (`device_eval.py`), and `jit(f)` (no backend named) runs on the
CUDA backend. Reading it on the host (`np.asarray(x)`, `print(x)`, `x.item()`,
a Python `if x > 0`) copies the buffer back once and keeps that copy, so a
second read costs nothing. Its shape, dtype and weak type are known without a
copy, so tracing `jit`, `grad` or `vmap` over it reads nothing.

    >>> x = device_put(jnp.arange(3.0), devices('cuda')[0])   # one upload
    >>> x.device, x.committed
    (CudaDevice(id=0), True)
    >>> y = jnp.sin(x) * 2 + jnp.ones(3)      # on the GPU; the ones follow x there
    >>> y.devices()
    {CudaDevice(id=0)}
    >>> x + device_put(jnp.ones(3), devices('cpu')[0])        # committed to two devices
    Traceback (most recent call last):
    ValueError: `add` got arrays committed to two different devices: ...
    >>> y                                                       # one copy back, kept
    Array([1.      , 2.682942, 2.818595], dtype=float32)

Without a GPU, Numba's CUDA simulator stands in for one: set
NUMBA_ENABLE_CUDASIM=1 before Python starts. Numba is imported only when a
device array is first made (importing tinygrad_tracer does not load it).
"""
import numpy as np

from . import array, core
from .array import Array, Device
from .core import ConcreteArray, Tracer
from .tree_util import tree_map


def require_gpu(what):
    """Raise one clear error when there is neither a CUDA GPU nor the simulator;
    `what` names the call that needed one (e.g. "jit(..., backend='cuda')")."""
    from numba import config as numba_config, cuda
    if numba_config.ENABLE_CUDASIM or cuda.is_available():
        return
    raise RuntimeError(
        f"{what} found no CUDA GPU (no NVIDIA driver, or no card). To run the CUDA backend "
        "without a GPU, on Numba's CUDA simulator (every GPU thread runs as Python: use small "
        "shapes), set NUMBA_ENABLE_CUDASIM=1 in the environment before Python starts (before "
        "numba is imported), e.g. `NUMBA_ENABLE_CUDASIM=1 python script.py`. Compiling kernels "
        "to PTX (`cuda_kernels.compile_ptx`) needs no GPU.")


def gpu_devices(kind='cuda'):
    """The CUDA devices (the simulator's one when NUMBA_ENABLE_CUDASIM=1)."""
    require_gpu(f"devices({kind!r})")
    from numba import cuda
    return [Device('gpu', i) for i in range(len(cuda.gpus))]


def current_gpu():
    """The GPU Numba computes on now (`cuda.select_device` picks it; GPU 0 by default)."""
    from numba import cuda
    return Device('gpu', getattr(cuda.get_current_device(), 'id', 0))   # (the simulator's has no id)


def devices(kind=None):
    """The devices of `kind`: 'cpu', or 'gpu'/'cuda'; the default backend's (the CPU) when None.

        >>> devices('cuda')        # a GPU, or NUMBA_ENABLE_CUDASIM=1
        [CudaDevice(id=0)]
    """
    return gpu_devices(kind) if kind in ('gpu', 'cuda') else array.devices(kind)


def upload(host):
    """A device buffer holding `host` (a NumPy array): one `cuda.to_device`. Zero-dimensional
    values travel as 1-element buffers, as every kernel reads them."""
    from numba import cuda
    host = np.ascontiguousarray(host)
    return cuda.to_device(host.reshape(host.shape or (1,)))


class _DeviceAval(ConcreteArray):
    """A DeviceArray's aval: shape, dtype and weak type at hand; `val` (which Python
    control flow under `grad` reads) copies the buffer back only when asked."""
    __slots__ = ('_array',)
    val = property(lambda self: self._array._value)


class DeviceArray(Array):
    """An Array on a CUDA device (see the module docstring). At least one of its two
    copies exists: `_buffer` on the device, `_host` (read-only NumPy) on the host.
    A result a host step of the CUDA backend computed starts with the host copy only
    and is uploaded the first time it is passed to a cuda-jitted function."""
    __slots__ = ('_buffer', '_host', '_shape', '_dtype', '_device')

    @classmethod
    def on_device(cls, buffer, aval, device, host=None):
        """An Array of `aval` (shape, dtype, weak type) held by `buffer` (a device array of
        `aval.shape`, or of shape (1,) for a scalar) and/or `host` (a NumPy array)."""
        x = object.__new__(cls)
        x._buffer, x._host, x._device = buffer, host, device
        x._shape, x._dtype, x.weak_type, x._aval = aval.shape, aval.dtype, aval.weak_type, None
        x.committed = True   # (an array is on a GPU only because someone asked: see below)
        core.install_placed_eval(placed_eval)
        return x

    @property
    def _value(self):
        # The host copy, made at the first read and kept (the value never changes).
        if self._host is None:
            host = self._buffer.copy_to_host().reshape(self._shape)
            host.flags.writeable = False
            self._host = host
        return self._host

    def device_buffer(self):
        """The device buffer holding this array (uploaded now if only a host copy exists)."""
        if self._buffer is None:
            self._buffer = upload(self._host)
        return self._buffer

    def block_until_ready(self):
        """Wait for the kernels still running on the device (launches return at once on
        a GPU; copying back waits by itself)."""
        if self._buffer is not None:
            from numba import cuda
            cuda.synchronize()
        return self

    @property
    def aval(self):
        if self._aval is None:
            aval = _DeviceAval.__new__(_DeviceAval)
            aval.shape, aval.dtype, aval.weak_type, aval._array = \
                self._shape, self._dtype, self.weak_type, self
            self._aval = aval
        return self._aval

    shape = property(lambda self: self._shape)
    dtype = property(lambda self: self._dtype)
    ndim = property(lambda self: len(self._shape))
    size = property(lambda self: int(np.prod(self._shape, dtype=np.int64)))
    nbytes = property(lambda self: self.size * self._dtype.itemsize)
    device = property(lambda self: self._device)


# --- placement: where an operation runs ----------------------------------------------------
# As in JAX, an array is *committed* to a device when it was placed there on purpose:
# device_put(x, device), jnp.zeros(..., device=device), and here every DeviceArray (this
# project's default device is the CPU, so an array is on a GPU only because device_put,
# device= or jit(f, backend='cuda') put it there; JAX commits the results of a jit with a
# backend too). Other arrays (jnp.arange(3), device_put(x) without a device, results of
# uncommitted inputs) are uncommitted: they live on the CPU and may be moved.
#
# An operation (eager, or a jit call) runs on the device of its committed arguments, and
# its results are committed there; uncommitted arguments follow (a GPU uploads them).
# Arguments committed to two devices are an error: nothing says which one to use.

def committed_device(what, args, names=None):
    """The device the committed arrays among `args` are on; None when none is committed.
    `what` (e.g. "`add`", "jit(f)") and `names` (a function giving a name per arg, called
    only for the error; default "argument i") word the error for two devices.

        >>> committed_device("add", [jnp.ones(2), device_put(jnp.ones(2), devices('cuda')[0])])
        CudaDevice(id=0)
    """
    device = first = None
    for i, a in enumerate(args):
        if isinstance(a, Array) and a.committed:
            if device is None:
                device, first = a.device, i
            elif a.device != device:
                names = names() if names else [f"argument {j}" for j in range(len(args))]
                raise ValueError(_mixed_devices(what, (names[first], args[first]), (names[i], a)))
    return device


def _mixed_devices(what, one, other):
    (n1, x1), (n2, x2) = one, other
    d1, d2 = x1.device, x2.device
    kind = lambda d: 'cuda' if d.platform == 'gpu' else 'cpu'
    return (f"{what} got arrays committed to two different devices: {n1} "
            f"({x1.aval.str_short()}) is committed to {d1} and {n2} ({x2.aval.str_short()}) "
            f"to {d2}. An operation runs on the device its committed arguments are on, and "
            f"these disagree. Move one of them first: device_put(x, devices('{kind(d1)}')[0]) "
            f"puts the second on {d1}, or device_put(x, devices('{kind(d2)}')[0]) the first "
            f"on {d2}. (device_put(x, device) and device= commit an array; so does "
            f"jit(f, backend='cuda') its results.)")


# The primitives whose impl places itself (jit_p: its impl picks the backend from the
# placement of its arguments, `jit.py`), and how a GPU runs one primitive
# (`device_eval.py`, above this layer, sets it: it compiles with the CUDA backend).
places_itself = set()
_gpu_eval = None


def set_gpu_eval(rule):
    """Install rule(prim, args, params) -> list of DeviceArrays, which runs one primitive on
    the current GPU (`device_eval.py` calls this when imported)."""
    global _gpu_eval
    _gpu_eval = rule


def placed_eval(prim, args, params):
    """Run `prim` eagerly where its committed arguments are (see above): its NumPy impl for
    none or the CPU (the results then committed to the CPU), the GPU's rule for a GPU."""
    device = None if prim in places_itself else committed_device(f"`{prim.name}`", args)
    if device is not None and device.platform == 'gpu':
        return _gpu_eval(prim, args, params)
    outs = prim.impl(*args, **params)
    outs = outs if prim.multiple_results else [outs]
    if device is None:
        return outs
    # (an impl may return a NumPy float0 array: no data, no device)
    return [o.committed_copy() if isinstance(o, Array) else o for o in outs]


def commit_to_cpu(x):
    """`x` (an Array) committed to the CPU: a DeviceArray comes back (its host copy, made
    now if it has none)."""
    if isinstance(x, DeviceArray):
        x = Array(np.asarray(x), x.weak_type)
    elif x.committed:
        return x
    core.install_placed_eval(placed_eval)
    return x.committed_copy()


def _is_gpu(device):
    return device in ('gpu', 'cuda') or isinstance(device, Device) and device.platform == 'gpu'


def _put_leaf(x, device):
    x = array.as_array(x)
    # already there; or a traced value, whose placement the jit backend decides
    if isinstance(x, DeviceArray) and x.device == device or isinstance(x, Tracer):
        return x
    return DeviceArray.on_device(upload(np.asarray(x)), x.aval, device)   # (no host copy kept)


def device_put(x, device=None):
    """Place `x` (a pytree) on `device` as Arrays, committed to it: the CPU or a CUDA device
    (`devices('cuda')[0]`, or 'gpu' / 'cuda'), uploading each leaf once. With no
    device, an Array stays where it is and anything else goes to the CPU, uncommitted.

        >>> device_put(np.ones(2), devices('cuda')[0]).device     # a GPU, or the simulator
        CudaDevice(id=0)
    """
    if device is None:   # an Array stays where it is, committed or not (as in JAX)
        return tree_map(array.as_array, x)
    if not _is_gpu(device):
        array.check_device(device)
        return tree_map(lambda a: a if isinstance(a, Tracer) else commit_to_cpu(array.as_array(a)), x)
    require_gpu(f"device_put(x, {device})")
    here = current_gpu()
    if isinstance(device, Device) and device != here:
        raise ValueError(f"device_put(x, {device}): the CUDA backend computes on one GPU, "
                         f"Numba's current device ({here}); choose {device} first with "
                         f"numba.cuda.select_device({device.id}), or put x on {here}.")
    device = here
    return tree_map(lambda a: _put_leaf(a, device), x)


def place(x, device):
    """`x` (an array just made, e.g. by jnp.zeros) on `device` as `device=` asks: None
    leaves it uncommitted on the CPU; a device commits it there (as device_put does)."""
    return x if device is None else device_put(x, device)


def put_like(x, like):
    """`x` committed where `like` is, if `like` is a committed array (grad's seed cotangent
    goes where the function's value is, as in JAX); otherwise `x` itself."""
    return device_put(x, like.device) if isinstance(like, Array) and like.committed else x


def device_get(x):
    """The host values of `x` (a pytree): each Array becomes a NumPy array (a device
    array is copied back once); other leaves pass unchanged.

        >>> device_get({'w': jnp.ones(2)})
        {'w': array([1., 1.], dtype=float32)}
    """
    return tree_map(lambda a: np.asarray(a) if isinstance(a, Array) else a, x)
