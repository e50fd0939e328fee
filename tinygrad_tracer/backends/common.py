"""What the compiling backends (`numba_cpu`, `numba_cuda`) share: the kernel
cache on disk, the head of a generated module, the record of a compiled
kernel, and the step that runs an equation through its primitive's NumPy impl.

The kernel cache: every generated module (a fused kernel, or a loop compiled
whole) is a file named by the hash of its text, in `cache_dir()/kernels`, and
is imported from there; Numba keeps the CPU backend's machine code next to it,
so a second process skips compiling. Processes compiling at once share the
folder: a file is written whole, then renamed into place, so none reads half
of one. A file damaged from outside (a process killed mid-write by the
operating system, a full disk) is discarded with a warning and rebuilt.
"""
import contextlib
import glob
import hashlib
import importlib.util
import os
import pickle
import sys
import tempfile
import threading
import warnings

import numba
import numpy as np

from .. import settings
from ..array import Array
from . import codegen


def cache_dir():
    """Where kernel sources and Numba's compiled code are kept (`TT_CACHE_DIR`,
    default `~/.cache/tinygrad_tracer`)."""
    if os.environ.get('TT_CACHE_DIR'):
        return os.environ['TT_CACHE_DIR']
    base = os.environ.get('XDG_CACHE_HOME') or os.path.join(os.path.expanduser('~'), '.cache')
    return os.path.join(base, 'tinygrad_tracer')


# --- generated modules -----------------------------------------------------------------------------

_IMPORTS = """\
import math

{np_import}
{numba_import}

from tinygrad_tracer.backends.{math_module} import (
    {helpers})


"""


def module_text(comment, numba_import, source, math_module='_fastmath',
                np_import='import numpy as np'):
    """The file of a generated module: `comment` (what it is, for whoever opens the
    cached file), the imports kernels use (`numba_import` brings the backend's
    decorators; `math_module` the scalar helpers `codegen` names, `np_import` what
    `np.floor` means), then `source`."""
    return (''.join(f"# {line}\n" for line in comment.split('\n'))
            + _IMPORTS.format(np_import=np_import, numba_import=numba_import, math_module=math_module,
                              helpers=',\n    '.join(codegen.HELPERS))
            + source)


def ranges(indices):
    """[0, 1, 2, 5] -> '0-2, 5': the equations a kernel fuses, in its comments."""
    runs = []
    for i in indices:
        if runs and runs[-1][1] == i - 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    return ', '.join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


_modules = {}   # kernel file path -> imported module

# Held while a module is written and imported: two threads jitting at once must
# not import one module twice.
_lock = threading.RLock()


def load_module(text):
    """Import the generated module with source `text`, writing its file if new."""
    digest = hashlib.sha256(text.encode()).hexdigest()[:20]
    path = os.path.join(cache_dir(), 'kernels', f"k_{digest}.py")
    with _lock:
        if path not in _modules:
            _write_source(path, text.encode())
            name = f"tinygrad_tracer_kernels.k_{digest}"
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module   # Numba's cache finds the kernel's globals by module name
            spec.loader.exec_module(module)
            _discard_damaged(module, f"k_{digest}.")
            _modules[path] = module
        return _modules[path]


def _write_source(path, data):
    """Write a kernel file unless it holds `data` already. It is named by the hash of
    its text, so other contents mean a damaged file: it is replaced."""
    try:
        with open(path, 'rb') as f:
            if f.read() == data:
                return
        _warn_damaged(path, "its text is not the kernel's")
    except FileNotFoundError:
        os.makedirs(os.path.dirname(path), exist_ok=True)
    _atomic_write(path, data)


def _atomic_write(path, data):
    """Write a file so that no process (or thread) ever reads half of it: a temporary
    file in the same folder, then renamed over `path` (an atomic step)."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix='.tmp')
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _discard_damaged(module, prefix):
    """Delete Numba's cache files of `module` that cannot be read (a process killed
    while writing, a full disk): Numba then compiles again instead of failing on
    every later run. (Numba writes them atomically itself; damage comes from outside.
    Only `njit(cache=True)` functions have such files: CUDA kernels have none.)"""
    ours = [f for f in vars(module).values()
            if isinstance(f, numba.core.dispatcher.Dispatcher) and f.py_func.__module__ == module.__name__]
    if not ours or not ours[0].stats.cache_path:
        return
    for path in glob.glob(os.path.join(ours[0].stats.cache_path, f"{glob.escape(prefix)}*.nb[ic]")):
        try:
            with open(path, 'rb') as f:
                if path.endswith('.nbi'):
                    pickle.load(f)   # Numba's version, then the index itself
                pickle.loads(f.read())
        except FileNotFoundError:
            pass   # replaced by another process meanwhile
        except Exception as e:   # unpickling garbage raises almost anything
            _warn_damaged(path, f"{type(e).__name__}: {' '.join(str(e).split())}")
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)


def _warn_damaged(path, why):
    warnings.warn(f"tinygrad_tracer: discarded the damaged kernel cache file {path} ({why}); "
                  "it will be rebuilt.", RuntimeWarning, stacklevel=2)


# --- what a backend built --------------------------------------------------------------------------

class CompiledKernel:
    """A fused kernel as a backend built it. `kernel` is the partition's
    `fusion.Kernel` (which equations, over which domain); the rest is what
    building it gave: the generated `source`, the `path` of its module in the
    cache, `function` (what the backend calls) and, on the CPU, where the
    machine code came from (`origin`: 'compiled', 'loaded' from the disk cache,
    or 'reused' from this process) and how long that took. Executables list
    these in `.kernels`; the visualizer reads `name` and `eqn_indices`."""

    def __init__(self, kernel, source, module):
        self.kernel, self.source, self.path = kernel, source, module.__file__
        self.name, self.eqn_indices = kernel.name, kernel.eqn_indices
        self.function = getattr(module, kernel.name)
        self.origin = self.compile_seconds = None

    def __repr__(self):
        return f"CompiledKernel({self.name}, eqns={self.eqn_indices})"


# --- equations without generated code ----------------------------------------------------------------

def host_impl(eqn, backend=None):
    """A function running `eqn` through its primitive's NumPy impl, on the host:
    NumPy arrays in, a list of NumPy arrays out. `backend` names the backend that
    has no code for the primitive, logged when compiling (`TT_DEBUG=1`)."""
    prim, params = eqn.primitive, eqn.params
    weak = [x.aval.weak_type for x in eqn.inputs]
    if backend is not None and settings.DEBUG >= 1:
        settings.log(f"{backend}: no code generation for {prim.name}; it runs through its "
                     "NumPy impl on the host")

    def run(*values):
        outs = prim.impl(*[Array(v, w) for v, w in zip(values, weak)], **params)
        return [np.asarray(o) for o in (outs if prim.multiple_results else [outs])]
    return run
