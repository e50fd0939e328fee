"""The trace machinery: bind, the trace stack, avals, and the errors of lax and jnp."""
import numpy as np
import pytest

import tinygrad_tracer as tt
import tinygrad_tracer.numpy as jnp
from tinygrad_tracer import core, lax
from tinygrad_tracer.core import (ConcreteArray, EvalTrace, Primitive, ShapedArray, Trace, Tracer,
                                  bind, find_top_trace, full_raise, get_aval, new_main, raise_to_shaped)
from tinygrad_tracer.errors import (MissingRuleError, TracerBoolConversionError,
                                    TracerIntegerConversionError, UnexpectedTracerError)


class RecordingTracer(Tracer):
    def __init__(self, trace, val):
        self._trace, self.val = trace, val

    aval = property(lambda self: get_aval(self.val))


class RecordingTrace(Trace):
    """A transformation that only writes down each primitive it sees, then
    computes it one level down: the smallest possible interpreter."""

    def pure(self, val):
        return RecordingTracer(self, val)

    lift = pure

    def process_primitive(self, prim, tracers, params):
        self.main.global_data.append(prim.name)
        outs = bind(prim, *[t.val for t in tracers], **params)
        return [RecordingTracer(self, o) for o in (outs if prim.multiple_results else [outs])]


def test_the_stack_starts_with_eval():
    assert len(core.trace_state.trace_stack) == 1
    bottom = core.trace_state.trace_stack[0]
    assert bottom.level == 0 and isinstance(bottom.trace, EvalTrace)
    assert isinstance(find_top_trace([1.0, jnp.ones(2)]), EvalTrace)


def test_bind_at_eval_trace_runs_the_impl():
    out = bind(lax.sin_p, 1.0)
    assert repr(out) == 'Array(0.84147096, dtype=float32, weak_type=True)'
    assert lax.sin_p.impl(jnp.float32(1.0)).item() == pytest.approx(np.sin(1.0))
    outs = bind(lax.sort_p, jnp.array([3, 1, 2]), jnp.array([0, 1, 2]), dimension=0, is_stable=True, num_keys=1)
    assert [o.tolist() for o in outs] == [[1, 2, 3], [1, 2, 0]]    # multiple results: a list
    assert repr(lax.sin_p) == 'sin' and lax.sin_p.__doc__ == 'sine'


def test_a_transformation_sees_every_primitive():
    with new_main(RecordingTrace, global_data=[], name='record') as main:
        assert main.level == 1 and core.trace_state.trace_stack[-1] is main
        x = RecordingTracer(main.trace, jnp.float32(2.0))
        y = jnp.sin(x) * 3.0 + jnp.ones(())
        assert isinstance(y, RecordingTracer) and y.shape == () and y.dtype == np.float32
        assert main.global_data == ['sin', 'mul', 'add']
        assert y.val.item() == pytest.approx(3 * np.sin(2.0) + 1)
    assert main.ended and len(core.trace_state.trace_stack) == 1


def test_nested_transformations_lift_lower_tracers():
    with new_main(RecordingTrace, global_data=[], name='outer') as outer:
        a = RecordingTracer(outer.trace, jnp.asarray(1.0))
        with new_main(RecordingTrace, global_data=[], name='inner') as inner:
            b = RecordingTracer(inner.trace, jnp.asarray(2.0))
            assert find_top_trace([a, b]) is inner.trace
            lifted = full_raise(inner.trace, a)
            assert lifted._trace is inner.trace and lifted.val is a
            c = a + b                 # runs at the inner level, then the outer
        assert inner.global_data == ['add'] and outer.global_data == ['add']
        assert c.val.val.item() == 3.0
        with pytest.raises(UnexpectedTracerError, match="Can't lift a tracer of inner"):
            full_raise(outer.trace, RecordingTracer(inner.trace, 1.0))


def test_leaked_tracer_names_its_transformation():
    with new_main(RecordingTrace, global_data=[], name='record') as main:
        leaked = RecordingTracer(main.trace, jnp.asarray(2.0)) * 2
    with pytest.raises(UnexpectedTracerError, match=r'a value from record \(level 1\) was used after '
                                                      r'record had finished\. f32\[\] escaped'):
        leaked + 1


def test_tags():
    assert core.current_tag() == 'primal'
    with core.tag('tangent'):
        with core.tag('batched'):
            assert core.current_tag() == 'tangent'    # the most telling one wins
    assert core.current_tag() == 'primal'


# --- abstract values ---------------------------------------------------------------------------

def test_avals():
    a = ShapedArray((2, 3), np.float32)
    assert a.str_short() == 'f32[2,3]' and a.ndim == 2 and a.size == 6
    assert repr(a) == 'ShapedArray(f32[2,3])'
    assert repr(ShapedArray((), np.int32, weak_type=True)) == 'ShapedArray(i32[], weak_type=True)'
    assert a == ShapedArray([2, 3], 'float32') and hash(a) == hash(ShapedArray((2, 3), np.float32))
    assert a != a.update(weak_type=True) and a.update(dtype=np.int32).str_short() == 'i32[2,3]'
    assert a.update(weak_type=True).strip_weak_type() == a
    c = get_aval(1.5)
    assert isinstance(c, ConcreteArray) and c.weak_type and c.dtype == np.float32
    assert raise_to_shaped(c) == ShapedArray((), np.float32, True)
    assert get_aval(np.arange(3)).str_short() == 'i32[3]'
    assert get_aval(jnp.ones(2)).str_short() == 'f32[2]'
    assert get_aval(True).dtype == np.bool_ and not get_aval(True).weak_type
    with pytest.raises(TypeError, match="Value 'abc' of type str is not a valid JAX type"):
        get_aval('abc')


def test_concrete_values_allow_python_control_flow():
    c = ConcreteArray(np.asarray(3.0, np.float32))
    assert c.to_bool(None) is True and c.to_scalar(None, int) == 3


def test_abstract_values_refuse_python_control_flow():
    def f(x):
        if x > 0:
            return x
        return -x
    with pytest.raises(TracerBoolConversionError, match=r'Attempted conversion to bool .* of a traced '
                                                         r'value: abstract array bool\[\]'):
        tt.make_jaxpr(f)(1.0)
    with pytest.raises(TracerIntegerConversionError, match='static_argnums'):
        tt.make_jaxpr(lambda n: jnp.ones(3)[:int(n)])(2)

    def use_as_shape(x):
        return jnp.zeros(x)
    with pytest.raises(TypeError, match='Shapes must be sequences of Python ints'):
        tt.make_jaxpr(use_as_shape)(3)


def test_tracers_behave_like_arrays():
    seen = {}

    def f(x):
        seen.update(ndarray=isinstance(x, jnp.ndarray), array=isinstance(x, tt.Array),
                    shape=x.shape, dtype=x.dtype, size=x.size, ndim=x.ndim, length=len(x))
        with pytest.raises(TypeError, match='unhashable type'):
            hash(x)
        return x.sum() + x.T @ x
    jaxpr = tt.make_jaxpr(f)(jnp.ones(3))
    assert seen == dict(ndarray=True, array=False, shape=(3,), dtype=np.float32, size=3, ndim=1, length=3)
    assert 'reduce_sum' in str(jaxpr) and 'dot_general' in str(jaxpr)


# --- errors from lax and jnp -----------------------------------------------------------------------

LAX_ERRORS = [
    (lambda: lax.add(jnp.ones(2), jnp.ones(3)),
     r"add got incompatible shapes for broadcasting: \(2,\), \(3,\)\. lax broadcasts only rank-0"),
    (lambda: lax.add(jnp.ones(2), jnp.ones(2, jnp.int32)),
     r"add requires arguments to have the same dtypes, got float32, int32"),
    (lambda: lax.sin(jnp.arange(2)), r"sin does not accept dtype int32\. Accepted dtypes are float"),
    (lambda: lax.dot_general(jnp.ones((2, 3)), jnp.ones((4, 5)), (((1,), (0,)), ((), ()))),
     r"dot_general requires contracting and batch dimensions to match, got lhs shape \(2, 3\)"),
    (lambda: lax.reshape(jnp.ones(6), (4,)), r"cannot reshape array of shape \(6,\) \(size 6\) into shape \(4,\)"),
    (lambda: lax.broadcast_in_dim(jnp.ones(3), (2, 4), (1,)), r"broadcast_in_dim: cannot broadcast shape \(3,\) to \(2, 4\)"),
    (lambda: lax.concatenate([jnp.ones((2, 2)), jnp.ones((3, 3))], 0), r"concatenate: shapes \[\(2, 2\), \(3, 3\)\] differ"),
    (lambda: lax.slice(jnp.ones(3), (0,), (5,)), r"slice: start \(0,\) / limit \(5,\) out of bounds for shape \(3,\)"),
    (lambda: lax.squeeze(jnp.ones((2, 3)), (0,)), r"squeeze: dimensions \(0,\) of shape \(2, 3\) must have size 1"),
    (lambda: lax.gather(jnp.ones(3), jnp.ones((1, 1)), (0,)), r"gather indices must be integers, got float32"),
    (lambda: lax.transpose(jnp.ones((2, 3)), (0,)), r"transpose permutation \(0,\) is not a permutation of the 2 axes"),
    (lambda: lax.reduce_sum(jnp.ones(3), (1,)), r"reduce_sum: axes \(1,\) out of range for shape \(3,\)"),
    (lambda: lax.select_n(jnp.array([True]), jnp.ones(2), jnp.ones(2)), r"select_n: the selector's shape \(1,\) must be"),
    (lambda: lax.dynamic_slice(jnp.ones(3), (0,), (4,)), r"dynamic_slice: slice_sizes \(4,\) do not fit shape \(3,\)"),
    (lambda: lax.bitcast_convert_type(jnp.ones(2), np.int8), r"bitcast_convert_type from float32 to int8 needs equal bit widths"),
]


@pytest.mark.parametrize('call, message', LAX_ERRORS)
def test_lax_rejects_bad_shapes_and_dtypes(call, message):
    with pytest.raises(TypeError, match=message):
        call()


@pytest.mark.parametrize('call, message', LAX_ERRORS)
def test_the_same_errors_while_tracing(call, message):
    # The abstract-eval rules raise them, so jaxpr tracing reports the same thing.
    with pytest.raises(TypeError, match=message):
        tt.make_jaxpr(lambda _: call())(0.0)


def test_jnp_broadcasting_errors():
    # Two operands of one rank: TypeError, as in JAX (tests/test_edge_semantics.py).
    with pytest.raises(TypeError, match=r"Incompatible shapes for broadcasting: shapes=\[\(2,\), \(3,\)\]\. "
                                        r"Each axis, aligned from the right, must be equal or 1\."):
        jnp.add(jnp.ones(2), jnp.ones(3))
    with pytest.raises(TypeError, match=r"shapes=\[\(2, 3\), \(3, 2\)\]"):
        jnp.ones((2, 3)) * jnp.ones((3, 2))
    with pytest.raises(ValueError, match=r"shapes=\[\(3,\), \(2, 4\)\]"):
        jnp.broadcast_to(jnp.ones(3), (2, 4))
    with pytest.raises(ValueError, match=r"Cannot broadcast array of shape \(2, 3\) to shape \(3,\)"):
        jnp.broadcast_to(jnp.ones((2, 3)), (3,))


def test_missing_rules_are_named():
    foo_p = Primitive('foo')
    with pytest.raises(MissingRuleError, match="No impl rule for primitive 'foo'"):
        foo_p.bind(1.0)
    with pytest.raises(MissingRuleError, match="No abstract_eval rule for primitive 'foo'"):
        tt.make_jaxpr(lambda x: foo_p.bind(x))(1.0)


REQUIRED = """neg add sub mul div rem pow integer_pow max min exp log log1p expm1 sin cos tan tanh
logistic sqrt rsqrt abs sign floor ceil round eq ne lt le gt ge and or not xor select_n
convert_element_type bitcast_convert_type shift_left shift_right_logical broadcast_in_dim reshape
transpose squeeze expand_dims reduce_sum reduce_max reduce_min reduce_prod argmax argmin dot_general
concatenate slice dynamic_slice dynamic_update_slice gather scatter scatter-add scatter-mul
scatter-min scatter-max iota cumsum sort""".split()


def test_every_required_primitive_is_registered():
    for name in REQUIRED:
        prim = lax.primitives[name]
        assert isinstance(prim, Primitive) and prim.name == name
        assert prim.__doc__, name
        assert not prim.impl.__name__ == 'missing' and not prim.abstract_eval.__name__ == 'missing'


def test_elementwise_is_said_where_the_primitive_is_made():
    """vmap gives `prim.elementwise` primitives one shared rule; the Numba kernels have
    per-element code for exactly those."""
    from tinygrad_tracer.backends import codegen
    elementwise = {p for p in lax.primitives.values() if p.elementwise}
    assert {lax.sin_p, lax.add_p, lax.select_n_p, lax.convert_element_type_p} <= elementwise
    assert not {lax.reduce_sum_p, lax.broadcast_in_dim_p, lax.dot_general_p} & elementwise
    assert set(codegen.SCALAR_RULES) == elementwise


def test_uint32_arithmetic_wraps():
    big = jnp.array([0xFFFFFFFF, 3], jnp.uint32)
    one = jnp.array([1, 0x80000000], jnp.uint32)
    assert lax.add(big, one).tolist() == [0, 0x80000003]
    assert lax.mul(big, big).tolist() == [1, 9]
    assert lax.sub(jnp.zeros(1, jnp.uint32), jnp.ones(1, jnp.uint32)).tolist() == [0xFFFFFFFF]
    assert lax.shift_left(big, jnp.array([4, 32], jnp.uint32)).tolist() == [0xFFFFFFF0, 0]
    assert lax.shift_right_logical(big, jnp.array([28, 33], jnp.uint32)).tolist() == [15, 0]
    assert lax.shift_right_logical(jnp.array([-8], jnp.int32), jnp.array([1], jnp.int32)).tolist() == [0x7FFFFFFC]
    assert lax.shift_right_arithmetic(jnp.array([-8], jnp.int32), jnp.array([1], jnp.int32)).tolist() == [-4]


def test_lax_numerics_follow_xla():
    # Integer division rounds toward zero; x // 0 is -1 and x % 0 is x, as on XLA:CPU.
    assert lax.div(jnp.array([7, -7, 5]), jnp.array([2, 2, 0])).tolist() == [3, -3, -1]
    assert lax.rem(jnp.array([7, -7, 5]), jnp.array([2, 2, 0])).tolist() == [1, -1, 5]
    # Dividing by a broadcast scalar multiplies by its reciprocal (XLA's rewrite).
    x = jnp.arange(20.0)
    assert (x / 3)[5].item() == np.float32(5) * (np.float32(1) / np.float32(3))
    assert lax.div(x[5], jnp.float32(3)).item() == np.float32(5) / np.float32(3)
    # Empty max/min reductions give the identity.
    assert lax.reduce_max(jnp.zeros((0,)), (0,)).item() == -np.inf
    assert lax.reduce_min(jnp.zeros((0,), jnp.int32), (0,)).item() == np.iinfo(np.int32).max
    # float -> int conversion truncates and saturates; nan becomes 0.
    assert lax.convert_element_type(jnp.array([2.7, -2.7, 1e10, np.nan]), np.int32).tolist() == \
        [2, -2, 2147483647, 0]


def test_small_sums_add_in_xla_order():
    # Up to 32 elements XLA:CPU adds one after another; NumPy's pairwise sum rounds
    # differently (here in the last bit), so the digits would not match JAX's.
    x = np.array([0.1, 0.7, -0.3, 1e-3, 2.5, -1.9, 0.33, 0.25, 4.0, -0.01], np.float32)
    sequential = np.float32(0)
    for v in x:
        sequential = np.float32(sequential + v)
    assert jnp.sum(x).item() == sequential
    half = jnp.full((2, 3), 1.621, jnp.float16)
    assert jnp.sum(half).item() == np.float16(np.float32(half.astype(jnp.float32).sum()))  # float32 accumulator


def test_small_sums_match_installed_jax(real_jax):
    import jax.numpy as jjnp
    rng = np.random.default_rng(0)
    for n in (3, 8, 10, 17, 32):
        x = rng.normal(size=(4, n)).astype(np.float32)
        np.testing.assert_array_equal(np.asarray(jnp.sum(x, axis=1)), np.asarray(jjnp.sum(x, axis=1)))
        np.testing.assert_array_equal(np.asarray(jnp.sum(x.T, axis=0)), np.asarray(jjnp.sum(x.T, axis=0)))
        np.testing.assert_array_equal(np.asarray(jnp.mean(x, axis=1)), np.asarray(jjnp.mean(x, axis=1)))
