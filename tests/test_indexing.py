"""NumPy indexing (`x[idx]`) and JAX's functional updates (`x.at[idx].set(v)`),
checked against NumPy on drawn shapes and indices."""
import numpy as np
import pytest
from hypothesis import given, settings, HealthCheck, strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_tracer as tt
import tinygrad_tracer.numpy as jnp

PROP = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
shapes = hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=5)


def to_jnp(idx):
    """The same index with NumPy arrays turned into our Arrays."""
    if isinstance(idx, tuple):
        return tuple(to_jnp(e) for e in idx)
    return jnp.asarray(idx) if isinstance(idx, np.ndarray) else idx


def assert_same(got, want):
    assert isinstance(got, tt.Array)
    assert got.shape == want.shape and got.dtype == want.dtype, (got.shape, want.shape)
    np.testing.assert_array_equal(np.asarray(got), want)


@st.composite
def mixed_indices(draw, shape):
    """One entry per axis (int, slice, index array or nothing), plus None and `...`."""
    entries = []
    length = draw(st.integers(1, 3))   # index arrays must broadcast together
    for n in shape:
        kind = draw(st.sampled_from(['int', 'slice', 'array', 'array', 'full']))
        if kind == 'int':
            entries.append(draw(st.integers(-n, n - 1)))
        elif kind == 'slice':
            entries.append(slice(draw(st.none() | st.integers(-n - 1, n + 1)),
                                 draw(st.none() | st.integers(-n - 1, n + 1)),
                                 draw(st.none() | st.integers(-3, 3).filter(bool))))
        elif kind == 'array':
            size = draw(st.sampled_from([1, length]))
            entries.append(np.array(draw(st.lists(st.integers(-n, n - 1), min_size=size, max_size=size)), np.int32))
        else:
            entries.append(slice(None))
    if draw(st.booleans()):
        entries.insert(draw(st.integers(0, len(entries))), None)
    cut = draw(st.integers(0, len(entries)))
    if draw(st.booleans()):   # replace a trailing run with `...`
        entries = entries[:cut] + [Ellipsis]
    return tuple(entries)


@PROP
@given(data=st.data(), shape=shapes)
def test_basic_indexing(data, shape):
    x = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    idx = data.draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True))
    assert_same(jnp.asarray(x)[idx], x[idx])


@PROP
@given(data=st.data(), shape=shapes)
def test_integer_array_indexing(data, shape):
    x = np.arange(np.prod(shape), dtype=np.int32).reshape(shape)
    idx = data.draw(hnp.integer_array_indices(shape, result_shape=hnp.array_shapes(min_dims=0, max_dims=2, max_side=3)))
    assert_same(jnp.asarray(x)[to_jnp(idx)], x[idx])


@PROP
@given(data=st.data(), shape=shapes)
def test_mixed_indexing_follows_numpy_placement(data, shape):
    # Advanced indices next to each other keep their place; separated by a slice,
    # their broadcast shape moves to the front (NumPy's rule).
    x = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    idx = data.draw(mixed_indices(shape))
    assert_same(jnp.asarray(x)[to_jnp(idx)], x[idx])


def test_placement_of_advanced_indices():
    x = np.arange(2 * 3 * 4 * 5, dtype=np.int32).reshape(2, 3, 4, 5)
    i, j = np.array([0, 1]), np.array([2, 0])
    for idx in [(slice(None), i, j), (i, slice(None), j), (slice(None), i, slice(None), j),
                (0, slice(None), i), (Ellipsis, i), (None, i, None, j), (i[:, None], slice(1, 3), j)]:
        assert_same(jnp.asarray(x)[to_jnp(idx)], x[idx])
    assert jnp.asarray(x)[:, i, :, j].shape == (2, 2, 4)    # separated: batch first
    assert jnp.asarray(x)[:, i, j].shape == (2, 2, 5)       # adjacent: in place


@PROP
@given(x=hnp.arrays(np.int32, shapes, elements=st.integers(-5, 5)), data=st.data())
def test_boolean_masks(x, data):
    assert_same(jnp.asarray(x)[x > 0], x[x > 0])
    assert_same(jnp.asarray(x)[jnp.asarray(x) > 0], x[x > 0])
    row_mask = np.array(data.draw(st.lists(st.booleans(), min_size=x.shape[0], max_size=x.shape[0])))
    assert_same(jnp.asarray(x)[row_mask], x[row_mask])
    assert_same(jnp.asarray(x)[row_mask, ...], x[row_mask, ...])
    if x.ndim > 1:
        col_mask = np.array(data.draw(st.lists(st.booleans(), min_size=x.shape[1], max_size=x.shape[1])))
        assert_same(jnp.asarray(x)[:, col_mask], x[:, col_mask])
    for scalar_mask in (True, False):
        assert_same(jnp.asarray(x)[scalar_mask], x[scalar_mask])


def test_out_of_bounds_reads_clamp():
    x = jnp.arange(10)
    assert x[11].item() == 9 and repr(x[11]) == 'Array(9, dtype=int32)'
    assert x[-11].item() == 0
    assert x[jnp.array([0, 11, -1, -20])].tolist() == [0, 9, 9, 0]
    assert x[5:100].tolist() == [5, 6, 7, 8, 9]
    m = jnp.arange(12).reshape(3, 4)
    assert m[3, 5].item() == 11
    assert m[jnp.array([7]), jnp.array([-9])].tolist() == [8]
    assert x.at[11].get().item() == 9


# --- .at updates ---------------------------------------------------------------------------------

@st.composite
def update_problems(draw):
    shape = draw(shapes)
    idx = draw(st.one_of(mixed_indices(shape), hnp.basic_indices(shape, allow_newaxis=True)))
    x = draw(hnp.arrays(np.float32, shape, elements=st.integers(-5, 5).map(float)))
    out_shape = x[idx].shape
    # Updates broadcast to x[idx].shape: a trailing part of it, some axes of size 1.
    trailing = out_shape[len(out_shape) - draw(st.integers(0, len(out_shape))):]
    values_shape = tuple(draw(st.sampled_from([1, n])) for n in trailing)
    values = draw(st.one_of(st.integers(-5, 5).map(float),
                            hnp.arrays(np.float32, values_shape, elements=st.integers(-5, 5).map(float))))
    return x, idx, values


def unique_positions(x, idx):
    """True if `idx` names every element at most once (then .set is well defined)."""
    counts = np.zeros(x.shape, int)
    np.add.at(counts, idx, 1)
    return counts.max(initial=0) <= 1


@pytest.mark.parametrize('method, ufunc', [('add', np.add), ('multiply', np.multiply), ('mul', np.multiply),
                                           ('min', np.minimum), ('max', np.maximum)])
@PROP
@given(problem=update_problems())
def test_at_updates_accumulate_repeated_indices(method, ufunc, problem):
    x, idx, values = problem
    want = x.copy()
    ufunc.at(want, idx, values)
    assert_same(getattr(jnp.asarray(x).at[to_jnp(idx)], method)(values), want)


@PROP
@given(problem=update_problems())
def test_at_set_and_get(problem):
    x, idx, values = problem
    assert_same(jnp.asarray(x).at[to_jnp(idx)].get(), x[idx])
    if unique_positions(x, idx):   # with repeats, which write wins is unspecified (as in JAX)
        want = x.copy()
        want[idx] = values
        assert_same(jnp.asarray(x).at[to_jnp(idx)].set(values), want)


def test_at_examples():
    x = jnp.zeros(5)
    assert x.at[jnp.array([0, 0, 2])].add(1.0).tolist() == [2., 0., 1., 0., 0.]
    assert x.at[jnp.array([1, 1])].set(jnp.array([3., 3.])).tolist() == [0., 3., 0., 0., 0.]
    assert jnp.ones(4).at[::2].multiply(3).tolist() == [3., 1., 3., 1.]
    assert jnp.ones(3).at[1].subtract(1).tolist() == [1., 0., 1.]
    assert jnp.ones(3).at[1].divide(4).tolist() == [1., 0.25, 1.]
    assert jnp.full(3, 2.0).at[1:].power(3).tolist() == [2., 8., 8.]
    assert jnp.arange(4).at[1].set(2.7).tolist() == [0, 2, 2, 3]   # cast to the array's dtype
    m = jnp.zeros((2, 3)).at[:, 1].set(jnp.array([5., 6.]))
    assert m.tolist() == [[0., 5., 0.], [0., 6., 0.]]
    assert repr(jnp.array([1., 2.]).at[0].set(3)) == 'Array([3., 2.], dtype=float32)'


def test_at_out_of_bounds_updates_are_dropped():
    x = jnp.arange(5)
    assert x.at[10].set(99).tolist() == [0, 1, 2, 3, 4]
    assert x.at[-6].add(99).tolist() == [0, 1, 2, 3, 4]
    assert x.at[jnp.array([0, 7, -1])].add(10).tolist() == [10, 1, 2, 3, 14]
    assert x.at[jnp.array([5, 6])].min(-1).tolist() == [0, 1, 2, 3, 4]


def test_arrays_are_immutable():
    x = jnp.array([1, 2, 3])
    with pytest.raises(TypeError) as err:
        x[0] = 1
    msg = str(err.value)
    assert "'Array' object does not support item assignment" in msg
    assert 'JAX arrays are immutable' in msg
    assert '`x = x.at[0].set(1)`' in msg
    with pytest.raises(TypeError, match=r'`x = x\.at\[1:, \.\.\.\]\.set\(y\)`'):
        x[1:, ...] = jnp.ones(2)
    with pytest.raises(TypeError, match=r'`x = x\.at\[0, 0\]\.set\(100\.0\)`'):
        jnp.ones((3, 4))[0, 0] = 100.0
    assert x.tolist() == [1, 2, 3]


def test_index_errors():
    x = jnp.zeros((2, 3))
    with pytest.raises(IndexError, match='Too many indices for array: array is 2-dimensional, but 3 were indexed'):
        x[0, 0, 0]
    with pytest.raises(IndexError, match=r"An index can only have a single ellipsis \('...'\)"):
        x[..., 0, ...]
    with pytest.raises(TypeError, match='Indices must be integers or booleans, got 1.5'):
        x[1.5]
    with pytest.raises(TypeError, match='Indexing with arrays of dtype float32 is not allowed'):
        x[jnp.array([0.0])]
    with pytest.raises(IndexError, match=r'boolean index did not match .* mask shape \(3,\), indexed axes \(2,\)'):
        x[jnp.array([True, False, True])]
    with pytest.raises(TypeError, match='Using a non-tuple sequence for multidimensional indexing is not allowed'):
        x[[0, 1]]
    with pytest.raises(IndexError, match='boolean indices must be concrete'):
        tt.make_jaxpr(lambda m: x[m])(jnp.array([True, False]))
    with pytest.raises(ValueError, match=r'Cannot broadcast updates of shape \(3,\) to the indexed shape \(2,\)'):
        x.at[:, 0].set(jnp.ones(3))


def test_traced_indices():
    x = jnp.arange(10.0)
    jaxpr = tt.make_jaxpr(lambda i: x[i])(3)
    assert 'dynamic_slice[slice_sizes=(1,)]' in str(jaxpr)   # as JAX: its gradient clamps too
    assert tt.jit(lambda i: x[i])(-1).item() == 9.0
    assert tt.jit(lambda i: x.at[i].add(1.0))(2).tolist()[:4] == [0., 1., 3., 3.]
    assert tt.jit(lambda v: v[1:3])(x).tolist() == [1.0, 2.0]


def test_iteration_and_len():
    x = jnp.arange(6).reshape(3, 2)
    assert len(x) == 3
    rows = list(x)
    assert [r.tolist() for r in rows] == [[0, 1], [2, 3], [4, 5]]
    with pytest.raises(TypeError, match='iteration over a 0-d array'):
        iter(jnp.ones(()))
    with pytest.raises(TypeError, match=r'len\(\) of unsized object'):
        len(jnp.ones(()))


def test_at_modes():
    x = jnp.arange(5.0)
    assert x.at[1].set(7, mode='drop', indices_are_sorted=True, unique_indices=True).tolist() == [0, 7, 2, 3, 4]
    assert x.at[7].get(mode='clip').item() == 4.0
    assert x.at[1].divide(2.0).tolist()[1] == 0.5 and x.at[1:3].power(2).tolist() == [0, 1, 4, 3, 4]
    assert x.at[7].get(mode='fill', fill_value=-1.0).item() == -1.0   # (more in test_missing_api.py)
    with pytest.raises(ValueError, match=r"x\.at\[idx\]\.get\(mode='wrap'\) is not supported: "
                                         r"reads take mode=None or 'clip'"):
        x.at[7].get(mode='wrap')
    with pytest.raises(ValueError, match=r"x\.at\[idx\]\.add\(mode='clip'\) is not supported: out-of-bounds "
                                         r"updates are dropped \(mode='drop'\)\.$"):
        x.at[7].add(1.0, mode='clip')
