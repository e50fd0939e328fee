"""Backends: what `jit` hands a traced program to.

`jit(f)` traces `f` to a `ClosedJaxpr` once per signature, then asks a backend
to compile it. Each backend is a module of this package exposing one function:

    compile(closed_jaxpr, name) -> Executable

`closed_jaxpr` is a `jaxpr.ClosedJaxpr` (its `consts` are concrete `Array`s);
`name` is the jitted function's name (for kernel names and messages). The
returned `Executable` must support:

    executable(*flat_args) -> list of Array
        one positional argument per `closed_jaxpr.jaxpr.invars`, each an `Array`
        of exactly that var's shape and dtype; one `Array` per outvar, in order.
    executable.as_text() -> str
        human-readable text of what runs: for 'interpret' the jaxpr itself, for
        the Numba backends the generated kernel source (`jit(f).lower(x).as_text()`
        shows it under the jaxpr).

`jit` caches the executable with the jaxpr, so `compile` runs once per trace.
A backend may raise `MissingRuleError('<backend> lowering', prim)` for a
primitive it cannot compile.

Backends, by the name `jit(f, backend=...)` and `config.jax_default_backend` use:

    'interpret'  interpret.py   runs the jaxpr one equation at a time with NumPy
    'numba'      numba_cpu.py   fused loop kernels compiled by Numba (CPU)
    'cuda'       numba_cuda.py  numba.cuda kernels (a GPU, or the CUDA simulator)

The two compiling backends share one base and differ only where the hardware
does: `fusion.py` partitions the jaxpr, `codegen.py` and `loop_nests.py` write
the kernel bodies, `common.py` holds the kernel cache and the NumPy-impl step.
A backend runs jaxprs and knows no transformation.

    >>> get_backend('interpret').compile(make_jaxpr(jnp.sin)(1.0), 'sin')(Array(0.5))
    [Array(0.47942555, dtype=float32)]
"""
import importlib

from ..settings import config

_MODULES = {'interpret': 'interpret', 'numba': 'numba_cpu', 'cuda': 'numba_cuda'}


def get_backend(name=None):
    """The backend module called `name` ('interpret', 'numba' or 'cuda'); None means
    `config.jax_default_backend`."""
    name = config.jax_default_backend if name is None else name
    if name not in _MODULES:
        raise ValueError(f"Unknown jit backend {name!r}: choose one of "
                         f"{', '.join(repr(n) for n in _MODULES)} (for example "
                         "jit(f, backend='interpret')), or set "
                         "config.update('jax_default_backend', ...).")
    try:
        return importlib.import_module(f".{_MODULES[name]}", __name__)
    except ImportError as e:
        raise RuntimeError(f"The jit backend {name!r} is unavailable here ({e}). Use "
                           "backend='interpret', which needs only NumPy, or install what "
                           "is missing.") from e
