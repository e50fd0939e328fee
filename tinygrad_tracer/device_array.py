"""Arrays that live on a CUDA device: what `jit(f, backend='cuda')` returns and
`device_put(x, devices('cuda')[0])` makes.

A `DeviceArray` is an `Array` whose value sits in a `numba.cuda` device buffer.
Handing it to another cuda-jitted function passes the buffer itself: nothing
crosses to the host. Reading it on the host (`np.asarray(x)`, `print(x)`,
`x.item()`, an eager `x + 1`, a CPU `jit`) copies the buffer back once and keeps
that copy, so a second read costs nothing. Its shape, dtype and weak type are
known without a copy, so tracing `jit`, `grad` or `vmap` over it reads nothing.

    >>> x = device_put(jnp.arange(3.0), devices('cuda')[0])   # one upload
    >>> x.device
    CudaDevice(id=0)
    >>> y = jit(lambda x: x * 2, backend='cuda')(x)           # stays on the device
    >>> y                                                       # one copy back, kept
    Array([0., 2., 4.], dtype=float32)

Without a GPU, Numba's CUDA simulator stands in for one: set
NUMBA_ENABLE_CUDASIM=1 before Python starts. Numba is imported only when a
device array is first made (importing tinygrad_tracer does not load it).
"""
import numpy as np

from . import array
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


def _is_gpu(device):
    return device in ('gpu', 'cuda') or isinstance(device, Device) and device.platform == 'gpu'


def _put_leaf(x, device):
    x = array.as_array(x)
    # already there; or a traced value, whose placement the jit backend decides
    if isinstance(x, DeviceArray) and x.device == device or isinstance(x, Tracer):
        return x
    return DeviceArray.on_device(upload(np.asarray(x)), x.aval, device)   # (no host copy kept)


def device_put(x, device=None):
    """Place `x` (a pytree) on `device` as Arrays: the CPU or a CUDA device
    (`devices('cuda')[0]`, or 'gpu' / 'cuda'), uploading each leaf once. With no
    device, an Array stays where it is and anything else goes to the CPU.

        >>> device_put(np.ones(2), devices('cuda')[0]).device     # a GPU, or the simulator
        CudaDevice(id=0)
    """
    if not _is_gpu(device):
        array.check_device(device)
        # Without a device an Array stays where it is (as in JAX); the CPU named brings a
        # DeviceArray back (its host copy, made now if it has none).
        to_cpu = device is not None
        return tree_map(lambda a: Array(np.asarray(a), a.weak_type)
                        if to_cpu and isinstance(a, DeviceArray) else array.as_array(a), x)
    require_gpu(f"device_put(x, {device})")
    here = current_gpu()
    if isinstance(device, Device) and device != here:
        raise ValueError(f"device_put(x, {device}): the CUDA backend computes on one GPU, "
                         f"Numba's current device ({here}); choose {device} first with "
                         f"numba.cuda.select_device({device.id}), or put x on {here}.")
    device = here
    return tree_map(lambda a: _put_leaf(a, device), x)


def device_get(x):
    """The host values of `x` (a pytree): each Array becomes a NumPy array (a device
    array is copied back once); other leaves pass unchanged.

        >>> device_get({'w': jnp.ones(2)})
        {'w': array([1., 1.], dtype=float32)}
    """
    return tree_map(lambda a: np.asarray(a) if isinstance(a, Array) else a, x)
