"""What a rule returns is checked against the primitive's abstract evaluation: a wrong
JVP, transpose, batching rule or impl fails at the rule, with a message naming the
primitive, the rule, what it returned and what was expected."""
import numpy as np
import pytest

import tinygrad_tracer as jax
import tinygrad_tracer.numpy as jnp
from tinygrad_tracer import settings
from tinygrad_tracer.array import Array
from tinygrad_tracer.batching import batching_rules, not_mapped
from tinygrad_tracer.core import Primitive, ShapedArray, bind
from tinygrad_tracer.errors import RuleOutputError
from tinygrad_tracer.jvp import jvp_rules
from tinygrad_tracer.transpose import transpose_rules


def primitive(name, impl=lambda x: Array(np.asarray(x) * 2)):
    """A fresh elementwise-shaped primitive `name(x) = 2 x` with the given impl."""
    prim = Primitive(name)
    prim.def_impl(impl)
    prim.def_abstract_eval(lambda x: ShapedArray(x.shape, x.dtype))
    return prim


def message(excinfo):
    return str(excinfo.value)


def test_jvp_rule_returning_bare_arrays_instead_of_lists():
    p = primitive('double_bare')
    jvp_rules[p] = lambda primals, tangents: (bind(p, primals[0]), 2 * tangents[0])
    with pytest.raises(RuleOutputError) as e:
        jax.jvp(lambda x: bind(p, x), (jnp.ones(3),), (jnp.ones(3),))
    assert "The jvp rule of primitive 'double_bare' must return primals_out as a list of 1" in message(e)
    assert "it returned: an array f32[3]" in message(e) and "expected:    a list of 1" in message(e)


def test_jvp_rule_with_a_tangent_of_the_wrong_shape_or_not_a_pair():
    p = primitive('double_sum')
    jvp_rules[p] = lambda primals, tangents: ([bind(p, primals[0])], [jnp.sum(tangents[0])])
    with pytest.raises(RuleOutputError) as e:
        jax.grad(lambda x: jnp.sum(bind(p, x)))(jnp.ones(3))
    assert "returned tangents_out[0] with the wrong shape" in message(e)
    assert "it returned: an array f32[]" in message(e) and "expected:    f32[3]" in message(e)
    jvp_rules[p] = lambda primals, tangents: [bind(p, primals[0])]
    with pytest.raises(RuleOutputError, match=r"must return a pair \(primals_out, tangents_out\)"):
        jax.jvp(lambda x: bind(p, x), (jnp.ones(3),), (jnp.ones(3),))


def test_transpose_rule_that_forgets_to_sum_back_to_the_operand_shape():
    p = primitive('scale3')
    jvp_rules[p] = lambda primals, tangents: ([bind(p, primals[0])], [bind(p, tangents[0])])
    transpose_rules[p] = lambda cts, x: [jnp.sum(cts[0]) * 2.0]   # the example
    with pytest.raises(RuleOutputError) as e:
        jax.grad(lambda x: jnp.sum(bind(p, x)))(jnp.ones(3))
    msg = message(e)
    assert "The transpose rule of primitive 'scale3' returned the cotangent of operand 0 with the wrong shape" in msg
    assert "it returned: an array f32[]" in msg and "expected:    f32[3]" in msg
    transpose_rules[p] = lambda cts, x: [cts[0] * 2.0, None]
    with pytest.raises(RuleOutputError, match=r"must return its cotangents as a list of 1 \(one entry per operand\)"):
        jax.grad(lambda x: jnp.sum(bind(p, x)))(jnp.ones(3))
    transpose_rules[p] = lambda cts, x: [None]
    with pytest.raises(RuleOutputError, match="returned None for its linear operand 0"):
        jax.grad(lambda x: jnp.sum(bind(p, x)))(jnp.ones(3))


def test_batching_rule_saying_not_mapped_for_a_batched_output():
    p = primitive('double_nm')
    batching_rules[p] = lambda size, vals, dims: ([bind(p, vals[0])], [not_mapped])
    with pytest.raises(RuleOutputError) as e:
        jax.vmap(lambda x: bind(p, x))(jnp.ones((5, 3)))
    msg = message(e)
    assert "The batching rule of primitive 'double_nm' said outs[0] is not batched" in msg
    assert "it returned: an array f32[5,3]" in msg and "expected:    f32[3]" in msg


def test_batching_rule_with_a_batch_dim_out_of_range_or_the_wrong_shape():
    p = primitive('double_bd')
    batching_rules[p] = lambda size, vals, dims: ([bind(p, vals[0])], [2])
    with pytest.raises(RuleOutputError, match=r"returned out_dims\[0\] = 2, which is not an axis of outs\[0\] holding the batch of 5"):
        jax.vmap(lambda x: bind(p, x))(jnp.ones((5, 3)))
    batching_rules[p] = lambda size, vals, dims: ([jnp.sum(vals[0], axis=1)], [0])
    with pytest.raises(RuleOutputError) as e:
        jax.vmap(lambda x: bind(p, x))(jnp.ones((5, 3)))
    assert "returned outs[0] with the wrong shape for batch axis 0" in message(e)
    assert "expected:    f32[5,3] (one example's f32[3] with the batch of 5 at axis 0)" in message(e)


def test_impl_checked_in_the_tests_and_under_tt_debug(monkeypatch):
    p = primitive('double_int', impl=lambda x: Array((np.asarray(x) * 2).astype(np.int32)))
    assert settings.CHECK_IMPLS   # tests/conftest.py turns it on, as TT_DEBUG=1 does
    with pytest.raises(RuleOutputError) as e:
        bind(p, jnp.ones(3))
    assert "The impl rule of primitive 'double_int' returned its result[0] with the wrong dtype" in message(e)
    assert "it returned: an array i32[3]" in message(e) and "expected:    f32[3]" in message(e)
    monkeypatch.setattr(settings, 'CHECK_IMPLS', False)   # the eager hot path: not checked
    assert np.asarray(bind(p, jnp.ones(3))).dtype == np.int32
