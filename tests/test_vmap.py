"""vmap: every primitive against a Python loop over the batch, in_axes/out_axes, errors."""
import itertools

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tinygrad_tracer as jax
import tinygrad_tracer.numpy as jnp
from tinygrad_tracer import lax, tree_util
from tinygrad_tracer.batching import batching_rules
from tinygrad_tracer.errors import MissingRuleError
from functions import CASES, CASE_IDS, extreme_seeds, seeds

BATCH = 3


def _examples(case, seed):
    """BATCH argument tuples of identical shapes and dtypes: redraw with new seeds when
    the case's shapes are fixed, else shuffle the elements (which keeps every value
    inside the case's domain: positive, distinct, in-bounds indices, ...)."""
    first = case.make_args(np.random.default_rng(seed))
    sig = [(np.shape(a), np.asarray(a).dtype) for a in first]
    out = [first]
    for b in range(1, BATCH):
        again = case.make_args(np.random.default_rng(seed + 7919 * b))
        if [(np.shape(a), np.asarray(a).dtype) for a in again] == sig:
            out.append(again)
        else:
            rng = np.random.default_rng(seed + b)
            out.append(tuple(np.asarray(rng.permutation(np.ravel(a))).reshape(np.shape(a)) for a in first))
    return out


def _stack_along(xs, axis):
    return np.stack([np.asarray(x) for x in xs], axis=axis)


def _check_close(got, want):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, (got.shape, want.shape, got.dtype, want.dtype)
    if np.issubdtype(want.dtype, np.floating):
        np.testing.assert_allclose(got, want, rtol=2e-6, atol=2e-6)
    else:
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize('case', CASES, ids=CASE_IDS)
@settings(max_examples=4, deadline=None)
@given(seed=seeds, data=st.data())
def test_vmap_matches_loop(case, seed, data):
    examples = _examples(case, seed)
    n_args = len(examples[0])
    in_axes = []
    for a in examples[0]:
        nd = np.ndim(a) + 1
        in_axes.append(data.draw(st.one_of(st.none(), st.integers(-nd, nd - 1)), label='in_axis'))
    if all(ax is None for ax in in_axes):
        in_axes[data.draw(st.integers(0, n_args - 1), label='forced')] = 0
    out_axis = data.draw(st.sampled_from([0, -1]), label='out_axis')
    batched = [jnp.asarray(examples[0][i]) if ax is None else
               jnp.asarray(_stack_along([e[i] for e in examples], ax % (np.ndim(examples[0][i]) + 1)))
               for i, ax in enumerate(in_axes)]
    got = jax.vmap(case.fn, in_axes=tuple(in_axes), out_axes=out_axis)(*batched)
    per_example = [case.fn(*[jnp.asarray(e[i] if ax is not None else examples[0][i])
                             for i, ax in enumerate(in_axes)]) for e in examples]
    want = tree_util.tree_map(lambda *outs: _stack_along(outs, out_axis), *per_example)
    tree_util.tree_map(_check_close, got, want)


def _batch_dim_configs(examples):
    """Every batch-dim path of a batching rule: each argument unbatched (None), batched
    along axis 0 or along its last axis (-1, the same as 0 for a scalar), in every
    combination but all-None; plus every argument batched along a middle axis where one
    exists. Pairs (in_axes, out_axes); out_axes alternates between 0 and -1."""
    choices = [[None, 0] + ([-1] if np.ndim(a) > 0 else []) for a in examples[0]]
    configs = [axes for axes in itertools.product(*choices) if any(ax is not None for ax in axes)]
    middle = tuple(1 if np.ndim(a) > 1 else 0 for a in examples[0])
    if any(ax == 1 for ax in middle):
        configs.append(middle)
    return [(axes, 0 if n % 2 == 0 else -1) for n, axes in enumerate(configs)]


@pytest.mark.parametrize('case', CASES, ids=CASE_IDS)
def test_vmap_every_batch_dim_path(case):
    """Deterministic: for the case's highest- and lowest-rank arguments, every in_axes
    combination of _batch_dim_configs against a Python loop over the examples."""
    failures = []
    for seed in extreme_seeds(case):
        examples = _examples(case, seed)
        loops = {}   # which arguments are batched -> the per-example outputs
        for in_axes, out_axis in _batch_dim_configs(examples):
            batched = tuple(ax is not None for ax in in_axes)
            if batched not in loops:
                loops[batched] = [case.fn(*[jnp.asarray(e[i] if b else examples[0][i])
                                            for i, b in enumerate(batched)]) for e in examples]
            args = [jnp.asarray(examples[0][i]) if ax is None else
                    jnp.asarray(_stack_along([e[i] for e in examples], ax % (np.ndim(examples[0][i]) + 1)))
                    for i, ax in enumerate(in_axes)]
            want = tree_util.tree_map(lambda *outs: _stack_along(outs, out_axis), *loops[batched])
            try:
                got = jax.vmap(case.fn, in_axes=in_axes, out_axes=out_axis)(*args)
                tree_util.tree_map(_check_close, got, want)
            except Exception as e:   # collect them all: the pattern says which path is wrong
                shapes = [np.shape(a) for a in examples[0]]
                failures.append(f"seed={seed} shapes={shapes} in_axes={in_axes} out_axes={out_axis}: "
                                f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}")
    if failures:
        pytest.fail(f"vmap({case.name}) differs from a loop for:\n" + "\n".join(failures), pytrace=False)


def test_every_primitive_has_a_batching_rule():
    missing = [name for name, prim in lax.primitives.items() if prim not in batching_rules]
    assert missing == []


def test_missing_rule_names_primitive_and_transform():
    from tinygrad_tracer.core import Primitive
    p = Primitive('mystery')
    p.def_impl(lambda x: x)
    with pytest.raises(MissingRuleError, match="No batching rule for primitive 'mystery'"):
        jax.vmap(lambda x: p.bind(x))(jnp.ones(3))


# --- in_axes and out_axes ----------------------------------------------------------------------

def loss(x, x0):
    return jnp.sum((x - x0) ** 2)


def test_in_axes_none_and_tuple():
    x = jnp.arange(12.).reshape(4, 3)
    out = jax.vmap(loss, in_axes=(0, None))(x, jnp.ones(3))
    np.testing.assert_allclose(out, [((np.arange(3) + 3 * i - 1) ** 2).sum() for i in range(4)])


def test_negative_in_axis_and_out_axis():
    x = np.arange(24.).reshape(2, 3, 4)
    out = jax.vmap(lambda v: v * 2, in_axes=-1, out_axes=1)(x)
    np.testing.assert_allclose(out, np.moveaxis(x, -1, 1) * 2)
    assert out.shape == (2, 4, 3)


def test_list_in_axes_like_a_tuple():
    out = jax.vmap(lambda a, b: a + b, in_axes=[0, None])(jnp.ones((2, 3)), jnp.arange(3.))
    np.testing.assert_allclose(out, np.ones((2, 3)) + np.arange(3.))


def test_pytree_prefix_in_axes():
    params = {'w': jnp.ones((3, 2)), 'b': jnp.arange(2.)}
    xs = jnp.arange(15.).reshape(5, 3)
    out = jax.vmap(lambda p, x: x @ p['w'] + p['b'], in_axes=(None, 0))(params, xs)
    np.testing.assert_allclose(out, np.asarray(xs) @ np.ones((3, 2)) + np.arange(2.))
    # a dict of axes for a dict argument, one leaf batched along axis 1
    out = jax.vmap(lambda p: p['w'].sum() + p['b'], in_axes=({'w': 1, 'b': None},))(params)
    # example i: w[:, i].sum() + b
    np.testing.assert_allclose(out, [[3., 4.], [3., 4.]])


def test_pytree_out_axes():
    f = jax.vmap(lambda x: {'a': x, 'b': (x * 2, x.sum())}, out_axes={'a': 1, 'b': (0, None)},
                 in_axes=None, axis_size=2)
    out = f(jnp.ones((3,)))
    assert out['a'].shape == (3, 2) and out['b'][0].shape == (2, 3)
    np.testing.assert_allclose(out['b'][1], 3.0)


def test_unbatched_output_broadcasts():
    out = jax.vmap(lambda x: 1.0 + 0 * jnp.sum(jnp.ones(2)))(jnp.ones(4))
    np.testing.assert_allclose(out, np.ones(4))


def test_axis_size_with_no_mapped_arguments():
    out = jax.vmap(lambda x: x * 2, in_axes=None, axis_size=3)(jnp.arange(2.))
    np.testing.assert_allclose(out, np.tile(np.arange(2.) * 2, (3, 1)))


def test_nested_vmap_outer_product():
    out = jax.vmap(jax.vmap(lambda a, b: a * b, in_axes=(None, 0)), in_axes=(0, None))(
        jnp.arange(3.), jnp.arange(4.))
    np.testing.assert_allclose(out, np.outer(np.arange(3.), np.arange(4.)))


def test_vmap_of_matrix_apply_seed_003():
    # seed 003: apply_matrix batched with vmap (random inputs replaced by fixed ones)
    mat = jnp.asarray(np.random.default_rng(0).normal(size=(15, 10)))
    batched_x = jnp.asarray(np.random.default_rng(1).normal(size=(5, 10)))

    def apply_matrix(v):
        return jnp.dot(mat, v)
    assert apply_matrix(batched_x[0]).shape == (15,)
    out = jax.vmap(apply_matrix)(batched_x)
    assert out.shape == (5, 15)
    np.testing.assert_allclose(out, np.asarray(batched_x) @ np.asarray(mat).T, rtol=1e-5)


def test_seed_000_vmap_loss():
    # seed 000: loss_batched = jax.vmap(loss, in_axes=(0, None))
    x = jnp.arange(3.)
    x0 = jnp.ones(3)
    assert float(loss(x, x0)) == 2.0
    batched_x = jnp.arange(12).reshape(4, 3)  # batch of 4 vectors
    assert float(loss(batched_x, x0)) == 386.0  # wrong! (one loss over everything)
    loss_batched = jax.vmap(loss, in_axes=(0, None))  # batch x over axis 0, do not batch x0
    out = loss_batched(batched_x, x0)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [2., 29., 110., 245.])


def test_vmap_jaxpr_moves_batch_axis():
    jaxpr = jax.make_jaxpr(jax.vmap(lambda x: jnp.sin(x) * 2))(jnp.ones(3))
    # lax's mul spreads a rank-0 operand, so the unbatched constant needs no batch axis
    assert str(jaxpr) == "{ lambda ; a:f32[3]. let b:f32[3] = sin a; c:f32[3] = mul b 2.0:f32[] in (c,) }"
    assert [(e.primitive.name, e.tag) for e in jaxpr.eqns] == [('sin', 'batched'), ('mul', 'batched')]


# --- errors ----------------------------------------------------------------------------------

def test_inconsistent_sizes_lists_every_argument():
    with pytest.raises(ValueError) as e:
        jax.vmap(lambda x, y: x + y)(jnp.ones((4, 3)), jnp.ones(5))
    assert str(e.value) == (
        "vmap got inconsistent sizes for array axes to be mapped:\n"
        "  * one axis had size 4: axis 0 of argument x of type float32[4,3];\n"
        "  * one axis had size 5: axis 0 of argument y of type float32[5]")


def test_inconsistent_with_axis_size():
    with pytest.raises(ValueError, match=r"the `axis_size` argument was 4;\n  \* one axis had size 3"):
        jax.vmap(lambda x: x, axis_size=4)(jnp.ones(3))


def test_axis_out_of_range():
    with pytest.raises(ValueError) as e:
        jax.vmap(lambda x, y: x, in_axes=(0, 2))(jnp.ones((4, 3)), jnp.ones((3, 4)))
    assert str(e.value) == ("vmap was requested to map its argument along axis 2, which implies "
                            "that its rank should be at least 3, but is only 2 (its shape is (3, 4))")
    with pytest.raises(ValueError, match="rank should be at least 1, but is only 0"):
        jax.vmap(lambda x: x)(1.0)


def test_in_axes_structure_mismatch():
    with pytest.raises(ValueError, match=r"len\(in_axes\)=3, len\(args\)=2"):
        jax.vmap(lambda x, y: x, in_axes=(0, 0, 0))(jnp.ones(3), jnp.ones(3))
    with pytest.raises(ValueError, match="vmap in_axes specification must be a tree prefix"):
        jax.vmap(lambda x, y: x, in_axes=({'a': 0}, None))(jnp.ones(3), jnp.ones(3))
    with pytest.raises(TypeError, match="vmap in_axes must be an int, None"):
        jax.vmap(lambda x: x, in_axes='a')(jnp.ones(3))


def test_no_mapped_arguments_needs_axis_size():
    with pytest.raises(ValueError, match="at least one non-None value in in_axes or axis_size"):
        jax.vmap(lambda x, y: x, in_axes=(None, None))(jnp.ones(3), jnp.ones(3))


def test_out_axes_errors():
    with pytest.raises(ValueError, match="got axis spec None but output was batched on axis 0"):
        jax.vmap(lambda x: x, out_axes=None)(jnp.ones(3))
    with pytest.raises(ValueError, match="axis 3 is out of bounds for an output of dimension 1"):
        jax.vmap(lambda x: x, out_axes=3)(jnp.ones(3))


def test_python_branching_on_batched_value_fails_clearly():
    from tinygrad_tracer.errors import TracerBoolConversionError
    with pytest.raises(TracerBoolConversionError, match="from vmap"):
        jax.vmap(lambda x: x if x > 0 else -x)(jnp.ones(2))


def test_keyword_arguments_are_batched_along_axis_0():
    out = jax.vmap(lambda x, scale: x * scale, in_axes=(None,))(2.0, scale=jnp.arange(3.))
    np.testing.assert_allclose(out, [0., 2., 4.])
    with pytest.raises(ValueError, match="axis 0 of argument scale of type float32\\[4\\]"):
        jax.vmap(lambda x, scale: x * scale)(jnp.ones(3), scale=jnp.ones(4))
