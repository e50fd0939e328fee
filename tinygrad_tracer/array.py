"""`Array`: the immutable value users hold, and the devices it lives on.

An Array wraps a read-only NumPy array plus JAX's `weak_type` flag. Its
operators (`+`, `@`, `x[i]`, `.sum()`, `.at[i].set(v)`, ...) are installed by
`tinygrad_tracer.numpy`, the same ones tracers get, so code behaves the same
whether or not it is being transformed.

    >>> import tinygrad_tracer.numpy as jnp
    >>> jnp.array([1., 2.])
    Array([1., 2.], dtype=float32)
"""
import numpy as np

from . import dtypes
from .core import ConcreteArray, Tracer


class Device:
    """A place arrays live: the CPU, or a CUDA GPU (`device_array.py`). As in JAX, a
    GPU's platform is 'gpu' and it prints as `cuda:0`; `Device('cuda', 0)` names it too."""

    def __init__(self, platform, id=0):
        self.platform = 'gpu' if platform == 'cuda' else platform
        self.id = id
        self.device_kind = self.platform

    def __repr__(self):
        return f"{'Cpu' if self.platform == 'cpu' else 'Cuda'}Device(id={self.id})"

    def __str__(self):
        return f"{'cuda' if self.platform == 'gpu' else self.platform}:{self.id}"

    def __eq__(self, other):
        return isinstance(other, Device) and (self.platform, self.id) == (other.platform, other.id)

    def __hash__(self):
        return hash((self.platform, self.id))


CPU = Device('cpu')


class SingleDeviceSharding:
    """How an Array is laid out over devices: here always whole, on one device
    (what `x.sharding` answers on a single-device JAX).

        >>> Array(np.ones(2)).sharding
        SingleDeviceSharding(device=CpuDevice(id=0), memory_kind=device)
    """

    def __init__(self, device, memory_kind='device'):
        self.device, self.memory_kind = device, memory_kind

    device_set = property(lambda self: {self.device})
    num_devices = 1
    is_fully_replicated = True

    def __repr__(self):
        return f"SingleDeviceSharding(device={self.device!r}, memory_kind={self.memory_kind})"

    def __eq__(self, other):
        return isinstance(other, SingleDeviceSharding) and \
            (self.device, self.memory_kind) == (other.device, other.memory_kind)

    def __hash__(self):
        return hash((self.device, self.memory_kind))


def devices(kind=None):
    """The CPU devices (`kind` None or 'cpu'); `device_array.devices` adds the GPUs.

        >>> devices()
        [CpuDevice(id=0)]
    """
    if kind in (None, 'cpu'):
        return [CPU]
    raise RuntimeError(f"Unknown backend {kind!r}: choose 'cpu' or 'gpu'.")


def default_backend():
    return 'cpu'


def check_device(device):
    """`device` names the CPU: None, a CPU device or 'cpu' (`device_array.py` adds the GPUs)."""
    if device is None or device == CPU or device == 'cpu':
        return
    raise ValueError(f"{device!r} is not a device arrays can be placed on: name the CPU "
                     f"(devices('cpu')[0] or 'cpu') or a CUDA GPU (devices('cuda')[0] or "
                     "'gpu'), e.g. device_put(x, devices('cuda')[0]).")


class Array:
    """An immutable n-dimensional array (JAX's `jax.Array`)."""
    __slots__ = ('_value', 'weak_type', '_aval', 'committed')
    __array_priority__ = 1000

    def __init__(self, value, weak_type=False):
        value = np.asarray(value)
        canon = dtypes.canonicalize_dtype(value.dtype)
        if value.dtype != canon:
            value = value.astype(canon)
        if value.flags.writeable:
            value = value.view()          # a view, so the caller's array stays writable
            value.flags.writeable = False
        self._value = value
        self.weak_type = bool(weak_type)
        self._aval = None
        self.committed = False   # placed by device_put(x, device): see `device_array.py`

    @classmethod
    def adopt(cls, value, weak_type=False):
        """An Array taking over `value`, a NumPy array nobody else holds, already of
        its canonical dtype (a compiled program's result): it is made read-only in
        place, without `__init__`'s conversion and copy-protecting view, which are
        most of a small jitted call's overhead."""
        value.flags.writeable = False
        a = object.__new__(cls)
        a._value, a.weak_type, a._aval, a.committed = value, weak_type, None, False
        return a

    def committed_copy(self):
        """This array, committed to the CPU (`device_put(x, devices('cpu')[0])`): the same
        read-only buffer, no copy. See `device_array.py` for what committing means."""
        a = object.__new__(Array)
        a._value, a.weak_type, a._aval, a.committed = self._value, self.weak_type, self._aval, True
        return a

    @property
    def aval(self):
        if self._aval is None:
            self._aval = ConcreteArray(self._value, self.weak_type)
        return self._aval

    shape = property(lambda self: self._value.shape)
    dtype = property(lambda self: self._value.dtype)
    ndim = property(lambda self: self._value.ndim)
    size = property(lambda self: self._value.size)
    nbytes = property(lambda self: self._value.nbytes)
    device = property(lambda self: CPU)
    sharding = property(lambda self: SingleDeviceSharding(self.device))

    def devices(self):
        """The set of devices holding this array: `{CpuDevice(id=0)}`."""
        return {self.device}

    def block_until_ready(self):
        """Computation here is synchronous, so the array is always ready."""
        return self

    def item(self, *args):
        return self._value.item(*args)

    def tolist(self):
        return self._value.tolist()

    def __array__(self, dtype=None, copy=None):
        # The buffer itself is read-only; np.array(x) (copy=True) gets a writable copy.
        if dtype is not None and np.dtype(dtype) != self.dtype:
            return self._value.astype(dtype)
        return self._value.copy() if copy else self._value

    def __bool__(self):
        return bool(self._value)

    def __int__(self):
        return int(self._value)

    def __float__(self):
        return float(self._value)

    def __index__(self):
        return self._value.__index__()

    def __complex__(self):
        return complex(self._value)

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of unsized object (a scalar)")
        return self.shape[0]

    def __iter__(self):
        if not self.shape:
            raise TypeError("iteration over a 0-d array")
        if self.committed:   # rows are results of an operation: they stay where x is
            return (self[i] for i in range(self.shape[0]))
        return (Array(row, self.weak_type) for row in self._value)

    def __hash__(self):
        raise TypeError("unhashable type: 'Array' (use a Python value or a tuple for a "
                        "dict key or static argument)")

    def __format__(self, spec):
        return format(self._value[()], spec) if self.ndim == 0 else format(str(self), spec)

    def __reduce__(self):
        return (Array, (np.array(self._value), self.weak_type))

    def __repr__(self):
        # As JAX prints it: NumPy's formatting, then the dtype on the last line,
        # pushed right (not wrapped) when the line would get too long.
        prefix = 'Array('
        dtype = f"dtype={self.dtype.name}" + (', weak_type=True' if self.weak_type else '')
        if self.size == 0:
            body = f"[], shape={self.shape}"
        else:
            body = np.array2string(self._value, prefix=prefix, suffix=',', separator=', ')
        width = np.get_printoptions()['linewidth']
        last_line = len(body) - body.rfind('\n') + 1
        sep = ' ' * len(prefix) if last_line + len(dtype) + 2 > width else ' '
        return f"{prefix}{body},{sep}{dtype})"

    def __str__(self):
        return str(self._value)


def device_put(x, device=None):
    """Place `x` (a pytree) on the CPU as Arrays (`device` None or the CPU). The public
    `device_put` (`device_array.py`) also places arrays on a GPU.

        >>> device_put(np.ones(2)).device
        CpuDevice(id=0)
    """
    from .tree_util import tree_map
    check_device(device)
    return tree_map(as_array, x)


def as_array(v):
    """`v` as an Array: Python scalars (weakly typed), NumPy arrays and scalars are
    converted with JAX's dtypes (float64 becomes float32); Arrays and tracers pass."""
    if isinstance(v, (Array, Tracer)):
        return v
    dtype, weak = dtypes.dtype_of(v)   # Python scalars stay weakly typed
    return Array(np.asarray(v, dtype), weak)
