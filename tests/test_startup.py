"""Start-up stays cheap: `import tinygrad_tracer` loads neither ml_dtypes (bfloat16)
nor Numba (the compiler); each loads when first needed, and the names still work.

Timing lives in benchmarks/bench_jit.py; these tests check what is imported.
"""
import subprocess
import sys

import numpy as np
import pytest

import tinygrad_tracer as tt
import tinygrad_tracer.numpy as jnp
from tinygrad_tracer import dtypes


def _loaded_after(code):
    """The heavy modules loaded after running `code` in a fresh Python."""
    probe = code + ("\nimport sys; "
                    "print(sorted(m for m in ('ml_dtypes', 'numba', 'llvmlite') if m in sys.modules))")
    out = subprocess.run([sys.executable, '-c', probe], capture_output=True, text=True)
    assert out.returncode == 0, f"the probe failed:\n{out.stderr}"
    return out.stdout.strip().splitlines()[-1]


def test_import_loads_neither_ml_dtypes_nor_numba():
    assert _loaded_after("import tinygrad_tracer, tinygrad_tracer.numpy") == "[]"


def test_eager_work_and_float32_random_stay_light():
    # Division asks "is it bfloat16?" and random asks for finfo: neither may load ml_dtypes.
    code = ("import tinygrad_tracer as jax, tinygrad_tracer.numpy as jnp\n"
            "x = jnp.arange(3.0) / 2 + jnp.sin(1.0)\n"
            "jax.grad(lambda x: (x * x).sum())(x)\n"
            "jax.random.uniform(jax.random.key(0), (2,))\n"
            "jnp.issubdtype(x.dtype, jnp.floating); jnp.promote_types('float32', 'int32')")
    assert _loaded_after(code) == "[]"


def test_naming_bfloat16_loads_ml_dtypes():
    code = "import tinygrad_tracer.numpy as jnp\njnp.zeros(2, 'bfloat16')"
    assert _loaded_after(code) == "['ml_dtypes']"


def test_jit_loads_numba_on_first_compile():
    code = ("import tinygrad_tracer as jax, tinygrad_tracer.numpy as jnp\n"
            "f = jax.jit(lambda x: x * 2)\n"
            "import sys; assert 'numba' not in sys.modules, 'jit(f) alone must not load numba'\n"
            "f(jnp.ones(3))")
    assert "numba" in _loaded_after(code)


def test_bfloat16_names_work_lazily():
    assert jnp.bfloat16.dtype == np.dtype('bfloat16') == dtypes.bfloat16 == dtypes.as_dtype('bfloat16')
    assert repr(jnp.bfloat16) == "<class 'jax.numpy.bfloat16'>"
    x = jnp.bfloat16(1.5) + 1.0                     # a weak Python float keeps bfloat16
    assert x.dtype == jnp.bfloat16 and float(x) == 2.5
    assert (jnp.ones(2, jnp.bfloat16) + jnp.ones(2, jnp.float16)).dtype == np.float32
    assert jnp.promote_types(jnp.bfloat16, jnp.float32) == np.float32
    assert jnp.promote_types('bfloat16', 'bfloat16') == jnp.bfloat16
    assert jnp.issubdtype(jnp.bfloat16, jnp.floating) and dtypes.is_float('bfloat16')
    assert jnp.zeros(3, 'bfloat16').dtype == jnp.bfloat16
    assert dtypes.short_name(jnp.bfloat16) == 'bf16'
    assert 'bf16[2]' in str(tt.make_jaxpr(lambda x: x * 2)(jnp.ones(2, jnp.bfloat16)))


def test_bfloat16_made_outside_us_is_accepted():
    import ml_dtypes
    x = jnp.asarray(np.ones(2, ml_dtypes.bfloat16))
    assert x.dtype == jnp.bfloat16 and (x * 2.0).dtype == jnp.bfloat16


def test_float8_has_a_name_and_limits_but_arrays_say_why_not():
    assert jnp.float8_e4m3fn == np.dtype('float8_e4m3fn')
    assert float(jnp.finfo(jnp.float8_e4m3fn).max) == 448.0
    assert float(jnp.finfo(jnp.float8_e5m2).max) == 57344.0
    with pytest.raises(TypeError, match="does not support dtype float8_e4m3fn"):
        jnp.zeros(2, jnp.float8_e4m3fn)


def test_unknown_dtype_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="float7"):
        dtypes.float7
