"""JAX's dtype rules: the promotion lattice, weak types, 64-bit canonicalization."""
import numpy as np
import pytest

import tinygrad_tracer.numpy as jnp
from tinygrad_tracer import config, dtypes

# The result of `x + y` for every pair of kinds (row + column). `*` marks a weakly
# typed result; 'i*' and 'f*' are Python ints and floats. Generated once with
# JAX 0.10.2 (jnp.add on 0-d arrays and Python scalars; logical_or for bool +
# bool) and written down here; test_tables_match_jax re-checks when JAX is installed.
PROMOTION_X32 = """
      b    u8   u16  u32  i8   i16  i32  bf16 f16  f32  i*   f*
b     b    u8   u16  u32  i8   i16  i32  bf16 f16  f32  i32* f32*
u8    u8   u8   u16  u32  i16  i16  i32  bf16 f16  f32  u8   f32*
u16   u16  u16  u16  u32  i32  i32  i32  bf16 f16  f32  u16  f32*
u32   u32  u32  u32  u32  i32  i32  i32  bf16 f16  f32  u32  f32*
i8    i8   i16  i32  i32  i8   i16  i32  bf16 f16  f32  i8   f32*
i16   i16  i16  i32  i32  i16  i16  i32  bf16 f16  f32  i16  f32*
i32   i32  i32  i32  i32  i32  i32  i32  bf16 f16  f32  i32  f32*
bf16  bf16 bf16 bf16 bf16 bf16 bf16 bf16 bf16 f32  f32  bf16 bf16
f16   f16  f16  f16  f16  f16  f16  f16  f32  f16  f32  f16  f16
f32   f32  f32  f32  f32  f32  f32  f32  f32  f32  f32  f32  f32
i*    i32* u8   u16  u32  i8   i16  i32  bf16 f16  f32  i32* f32*
f*    f32* f32* f32* f32* f32* f32* f32* bf16 f16  f32  f32* f32*
"""

PROMOTION_X64 = """
      b    u8   u16  u32  u64  i8   i16  i32  i64  bf16 f16  f32  f64  i*   f*
b     b    u8   u16  u32  u64  i8   i16  i32  i64  bf16 f16  f32  f64  i64* f64*
u8    u8   u8   u16  u32  u64  i16  i16  i32  i64  bf16 f16  f32  f64  u8   f64*
u16   u16  u16  u16  u32  u64  i32  i32  i32  i64  bf16 f16  f32  f64  u16  f64*
u32   u32  u32  u32  u32  u64  i64  i64  i64  i64  bf16 f16  f32  f64  u32  f64*
u64   u64  u64  u64  u64  u64  f64* f64* f64* f64* bf16 f16  f32  f64  u64  f64*
i8    i8   i16  i32  i64  f64* i8   i16  i32  i64  bf16 f16  f32  f64  i8   f64*
i16   i16  i16  i32  i64  f64* i16  i16  i32  i64  bf16 f16  f32  f64  i16  f64*
i32   i32  i32  i32  i64  f64* i32  i32  i32  i64  bf16 f16  f32  f64  i32  f64*
i64   i64  i64  i64  i64  f64* i64  i64  i64  i64  bf16 f16  f32  f64  i64  f64*
bf16  bf16 bf16 bf16 bf16 bf16 bf16 bf16 bf16 bf16 bf16 f32  f32  f64  bf16 bf16
f16   f16  f16  f16  f16  f16  f16  f16  f16  f16  f32  f16  f32  f64  f16  f16
f32   f32  f32  f32  f32  f32  f32  f32  f32  f32  f32  f32  f32  f64  f32  f32
f64   f64  f64  f64  f64  f64  f64  f64  f64  f64  f64  f64  f64  f64  f64  f64
i*    i64* u8   u16  u32  u64  i8   i16  i32  i64  bf16 f16  f32  f64  i64* f64*
f*    f64* f64* f64* f64* f64* f64* f64* f64* f64* bf16 f16  f32  f64  f64* f64*
"""

NAMES = {'b': 'bool', 'u8': 'uint8', 'u16': 'uint16', 'u32': 'uint32', 'u64': 'uint64',
         'i8': 'int8', 'i16': 'int16', 'i32': 'int32', 'i64': 'int64', 'bf16': 'bfloat16',
         'f16': 'float16', 'f32': 'float32', 'f64': 'float64'}


def parse(table):
    header, *rows = [line.split() for line in table.strip().splitlines()]
    return {(row[0], col): row[1 + j] for row in rows for j, col in enumerate(header)}


def label(dtype, weak):
    short = {v: k for k, v in NAMES.items()}[np.dtype(dtype).name]
    return short + ('*' if weak else '')


def operand(kind, mod):
    """A 0-d value of `kind` built with `mod` (our jnp or JAX's)."""
    if kind == 'i*':
        return 1
    if kind == 'f*':
        return 1.0
    return mod.zeros((), np.dtype(NAMES[kind]) if kind != 'bf16' else mod.bfloat16)


def add(x, y, mod):
    both_bool = isinstance(x, mod.ndarray) and isinstance(y, mod.ndarray) and x.dtype == bool and y.dtype == bool
    return mod.logical_or(x, y) if both_bool else mod.add(x, y)


def lattice_entry(a, b):
    kinds = {'i*': (dtypes.default_int(), True), 'f*': (dtypes.default_float(), True)}
    dt = lambda k: kinds[k] if k in kinds else (dtypes.bfloat16 if k == 'bf16' else np.dtype(NAMES[k]), False)
    return label(*dtypes.promote([dt(a), dt(b)]))


@pytest.mark.parametrize('table', ['x32', 'x64'])
def test_promote_reproduces_the_table(table, request):
    if table == 'x64':
        request.getfixturevalue('x64')
    expected = parse(PROMOTION_X32 if table == 'x32' else PROMOTION_X64)
    got = {key: lattice_entry(*key) for key in expected}
    assert got == expected


def test_jnp_add_follows_the_table():
    # The table drives real arithmetic: dtype and weak type of x + y.
    for (a, b), want in parse(PROMOTION_X32).items():
        out = add(operand(a, jnp), operand(b, jnp), jnp)
        assert label(out.dtype, out.weak_type) == want, (a, b)


def test_jnp_add_follows_the_x64_table(x64):
    for (a, b), want in parse(PROMOTION_X64).items():
        out = add(operand(a, jnp), operand(b, jnp), jnp)
        assert label(out.dtype, out.weak_type) == want, (a, b)


def test_tables_match_jax(real_jax):
    jax = real_jax
    import jax.numpy as jjnp
    for (a, b), want in parse(PROMOTION_X32).items():
        out = jax.eval_shape(lambda: add(operand(a, jjnp), operand(b, jjnp), jjnp))   # no compiling
        assert label(out.dtype, out.weak_type) == want, (a, b)
    assert jax.config.jax_enable_x64 is False


def test_promotion_is_symmetric_and_associative():
    kinds = ['b', 'u8', 'u16', 'u32', 'i8', 'i16', 'i32', 'bf16', 'f16', 'f32', 'i*', 'f*']
    table = parse(PROMOTION_X32)
    for a in kinds:
        for b in kinds:
            assert table[a, b] == table[b, a]
            for c in kinds:
                ab = table[a, b].rstrip('*') if not table[a, b].endswith('*') else \
                    {'i32*': 'i*', 'f32*': 'f*'}[table[a, b]]
                bc = table[b, c].rstrip('*') if not table[b, c].endswith('*') else \
                    {'i32*': 'i*', 'f32*': 'f*'}[table[b, c]]
                assert table[ab, c] == table[a, bc], (a, b, c)


# --- weak types -----------------------------------------------------------------------------

def test_python_scalars_are_weak():
    x = jnp.arange(3) + 1.5
    assert (x.dtype, x.weak_type) == (np.float32, True)
    y = jnp.ones(3, jnp.int32) * 2
    assert (y.dtype, y.weak_type) == (np.int32, False)
    z = jnp.ones(3, jnp.int8) * 2
    assert z.dtype == np.int8
    h = jnp.ones(2, jnp.float16) * 3.0
    assert (h.dtype, h.weak_type) == (np.float16, False)
    s = jnp.float32(1) * 2.0
    assert (s.dtype, s.weak_type) == (np.float32, False)
    w = jnp.asarray(2.0) * 3
    assert (w.dtype, w.weak_type) == (np.float32, True)
    assert repr(w) == 'Array(6., dtype=float32, weak_type=True)'


def test_numpy_scalars_are_not_weak():
    # np.float64 subclasses float, but like any NumPy value it has a fixed dtype.
    assert dtypes.dtype_of(np.float64(1.5)) == (np.float32, False)
    assert dtypes.dtype_of(1.5) == (np.float32, True)
    assert dtypes.dtype_of(True) == (np.bool_, False)
    h = jnp.ones(2, jnp.float16) + np.float32(1)
    assert h.dtype == np.float32
    x = jnp.asarray(np.float64(2.5))
    assert (x.dtype, x.weak_type) == (np.float32, False)


def test_weak_type_through_operations():
    w = jnp.full((2,), 1.5)   # weak: filled from a Python float
    assert w.weak_type
    for keeps in (w.reshape(2, 1), jnp.flip(w), jnp.concatenate([w, w]), w[jnp.array([0])],
                  jnp.where(True, w, w), jnp.dot(w, w), jnp.sort(w), -w, jnp.sin(w)):
        assert keeps.weak_type and keeps.dtype == np.float32
    for strips in (jnp.sum(w), jnp.max(w), jnp.mean(w), jnp.var(w), jnp.cumsum(w),
                   w.astype(jnp.float32), jnp.prod(w), w + jnp.ones(2)):
        assert not strips.weak_type and strips.dtype == np.float32
    # Comparisons are weak exactly when all operands are.
    assert jnp.equal(1.0, 2.0).weak_type
    assert not jnp.equal(jnp.arange(3.0), 2.0).weak_type


def test_creation_weak_types():
    assert jnp.full((2,), 7).weak_type and jnp.full((2,), 7).dtype == np.int32
    assert not jnp.full((2,), 7, jnp.int32).weak_type
    assert jnp.zeros_like(1.5).weak_type and not jnp.zeros_like(jnp.ones(2)).weak_type
    assert not jnp.zeros(3).weak_type and not jnp.arange(3.0).weak_type
    assert jnp.asarray(1).weak_type and not jnp.asarray([1]).weak_type
    assert not jnp.array([]).weak_type and jnp.array([]).dtype == np.float32


def test_weak_scalar_that_overflows_raises():
    with pytest.raises(OverflowError):
        jnp.ones(2, jnp.uint8) + 1000


# --- canonicalization -------------------------------------------------------------------------

@pytest.mark.parametrize('wide, narrow', [('float64', 'float32'), ('int64', 'int32'),
                                          ('uint64', 'uint32'), ('float16', 'float16'),
                                          ('int8', 'int8'), ('bool', 'bool')])
def test_canonicalize_without_x64(wide, narrow):
    assert dtypes.canonicalize_dtype(wide) == np.dtype(narrow)
    assert jnp.asarray(np.zeros(2, wide)).dtype == np.dtype(narrow)
    assert jnp.zeros(2, wide).dtype == np.dtype(narrow)


def test_defaults_without_x64():
    assert jnp.arange(3).dtype == np.int32
    assert jnp.array([1.5]).dtype == np.float32
    assert jnp.asarray(np.arange(3)).dtype == np.int32     # NumPy's int64 shrinks
    assert jnp.float64(1).dtype == np.float32
    assert jnp.zeros(2).dtype == np.float32


def test_x64_keeps_64_bits(x64):
    assert config.jax_enable_x64
    assert jnp.arange(3).dtype == np.int64
    assert jnp.array([1.5]).dtype == np.float64
    assert jnp.asarray(np.zeros(2, np.uint64)).dtype == np.uint64
    x = jnp.arange(3) + 1.5
    assert (x.dtype, x.weak_type) == (np.float64, True)
    assert (jnp.ones(2, jnp.float32) * 2.0).dtype == np.float32
    assert jnp.float64(1).dtype == np.float64


def test_x64_flag_is_restored_after_the_fixture():
    assert not config.jax_enable_x64
    assert jnp.arange(3).dtype == np.int32


def test_config_rejects_unknown_options():
    with pytest.raises(AttributeError, match="Unknown config option 'jax_enable_x32'"):
        config.update('jax_enable_x32', True)
    assert config.jax_threefry_partitionable is True


# --- helpers -------------------------------------------------------------------------------------

def test_result_type_and_promote_types():
    assert dtypes.result_type(np.arange(3, dtype=np.int32), 1.5) == np.float32
    assert dtypes.result_type(np.int8, np.uint8) == np.int16
    assert jnp.result_type(jnp.int8, 1) == np.int8
    assert jnp.promote_types(jnp.int8, jnp.uint8) == np.int16
    assert jnp.promote_types('uint32', 'int32') == np.int32      # int64, canonicalized
    assert jnp.promote_types(jnp.bfloat16, jnp.float16) == np.float32


def test_dtype_objects_are_constructors_and_dtypes():
    x = jnp.float32(-1.0)
    assert repr(x) == 'Array(-1., dtype=float32)'
    assert repr(jnp.int32(3.7)) == 'Array(3, dtype=int32)'
    assert repr(jnp.float32([1, 2])) == 'Array([1., 2.], dtype=float32)'
    assert repr(jnp.bool_(1)) == 'Array(True, dtype=bool)'
    assert repr(jnp.uint8(300 % 256)) == 'Array(44, dtype=uint8)'
    assert jnp.zeros(2, jnp.int16).dtype == np.int16
    assert np.zeros(2, jnp.float32).dtype == np.float32
    assert jnp.arange(3).astype(jnp.float16).dtype == np.float16
    assert jnp.float32 == np.float32 and jnp.dtype(jnp.float32) == np.float32
    assert repr(jnp.float32) == "<class 'jax.numpy.float32'>"
    assert jnp.issubdtype(jnp.float32, jnp.floating)
    assert jnp.issubdtype(jnp.bfloat16, jnp.floating)
    assert not jnp.issubdtype(jnp.int32, jnp.floating)
    assert jnp.finfo(jnp.float32).eps == np.finfo(np.float32).eps
    assert jnp.iinfo(jnp.int8).max == 127


def test_short_names():
    assert [dtypes.short_name(d) for d in ('float32', 'int32', 'bool', 'uint8', 'float16')] == \
        ['f32', 'i32', 'bool', 'u8', 'f16']
    assert dtypes.short_name(dtypes.bfloat16) == 'bf16'


def test_complex_is_rejected():
    with pytest.raises(TypeError, match='complex'):
        jnp.add(jnp.ones(2), 1j)
    with pytest.raises(TypeError, match='complex numbers and strings are not supported'):
        jnp.asarray(np.ones(2, np.complex64))


def test_array_from_mixed_lists_promotes_like_jax():
    assert jnp.array([jnp.int32(1), jnp.float16(2)]).dtype == np.float16    # NumPy would say float64
    assert jnp.array([jnp.ones(2, jnp.uint8), [1, 2]]).dtype == np.uint8     # the Python ints are weak
    x = jnp.array([jnp.asarray(1.0), 2.0])
    assert (x.dtype, x.weak_type) == (np.float32, False)
    assert jnp.array([[1, 2], jnp.array([3, 4])]).tolist() == [[1, 2], [3, 4]]
