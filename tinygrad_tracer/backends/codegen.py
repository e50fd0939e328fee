"""What each fused equation computes: scalar expressions for Numba kernels.

`SCALAR_RULES[prim](eqn, *args)` is the source of one elementwise primitive
applied to the scalar expressions `args`, e.g. `exp_f32(a)` or
`np.int32(a + b)` (Numba does integer arithmetic in 64 bits, so the result is
cast back, wrapping around as XLA's fixed-width integers do). A rule returns
None where there is no code generation for those dtypes or params; the
equation then runs through its NumPy impl. Constants are typed (`np.float32(
1.67)`): a bare `1.67` would turn float32 arithmetic into float64.

`REDUCTIONS[prim](eqn)` says how to initialize, update and finish an
accumulator. `loop_nests.py` puts these lines into a loop nest.
"""
import builtins
import keyword
import math
import re

import numpy as np

from .. import lax

SUPPORTED_DTYPES = {np.dtype(t) for t in (np.bool_, np.int8, np.int16, np.int32, np.int64,
                                          np.uint8, np.uint16, np.uint32, np.uint64,
                                          np.float32, np.float64)}

# Names the kernel and driver sources use; a jaxpr variable with one of these
# names gets a trailing underscore.
HELPERS = ('exp_f32', 'log_f32', 'log1p_f32', 'tanh_f32', 'logistic_f32', 'erf_f32',
           'erf_inv_f32', 'logistic_f64', 'fma', 'bitcast', 'int_div', 'int_rem', 'float_to_int')
RESERVED = set(keyword.kwlist) | set(dir(builtins)) | {'np', 'math', 'njit', 'prange'} | set(HELPERS)


def py_name(name):
    """A jaxpr variable name usable as a Python identifier."""
    return name + '_' if name in RESERVED else name


def identifier(name):
    """A jitted function's name made a Python identifier, for its kernels and driver
    (`<lambda>` -> `lambda_`)."""
    text = ''.join(c if c.isalnum() or c == '_' else '_' for c in name).strip('_') or 'f'
    return py_name(text if not text[0].isdigit() else f"f_{text}")


# --- typed constants ---------------------------------------------------------------------------

def np_type(dtype):
    """'np.float32': the scalar constructor of `dtype` in generated source."""
    dtype = np.dtype(dtype)
    return 'np.bool_' if dtype == np.bool_ else f"np.{dtype.name}"


def const(value, dtype):
    """Source for a scalar constant of exactly `dtype` (Numba would otherwise
    widen `x * 2.5` on float32 to float64)."""
    dtype = np.dtype(dtype)
    value = np.asarray(value, dtype)[()]
    if dtype == np.bool_:
        return str(bool(value))
    if dtype.kind == 'f':
        if np.isnan(value):
            return f"{np_type(dtype)}(np.nan)"
        if np.isinf(value):
            return f"{np_type(dtype)}({'-' if value < 0 else ''}np.inf)"
        text = repr(float(value)) if dtype == np.float64 else str(value)
        if dtype.type(float(text)) != value:   # the short form would round differently
            text = repr(float(value))
        return f"{np_type(dtype)}({text})"
    return f"{np_type(dtype)}({int(value)})"


# --- elementwise rules -------------------------------------------------------------------------

def _out_dtype(eqn):
    return eqn.out_binders[0].aval.dtype


def _in_dtype(eqn, i=0):
    return eqn.inputs[i].aval.dtype


def _is_int(dtype):
    return np.dtype(dtype).kind in 'iu'


def _wrap(eqn, expr):
    """Numba computes integer arithmetic in 64 bits: cast back to the result
    dtype (which wraps around like XLA's fixed-width integers)."""
    dtype = _out_dtype(eqn)
    return f"{np_type(dtype)}({expr})" if _is_int(dtype) else expr


def _binop(op):
    return lambda eqn, x, y: _wrap(eqn, f"{x} {op} {y}")


def _cmp(op):
    return lambda eqn, x, y: f"{x} {op} {y}"


def _float_fn(f32=None, f64=None):
    """A float function: the inlined polynomial for float32 where we have one,
    else NumPy's scalar function (one call into the C math library per element)."""
    def rule(eqn, *xs):
        dtype = _in_dtype(eqn)
        fn = f32 if dtype == np.float32 and f32 else f64
        return None if fn is None else f"{fn}({', '.join(xs)})"
    return rule


def _libm(fn, float32=False):
    """A C-library function. float32 is computed in float64 and rounded once, as
    eager execution does: the correctly rounded result, where float32's own
    library function may be an ulp off; with `float32`, the C library's float32
    function itself (Numba calls `sinf`), which is what XLA and eager execution call."""
    def rule(eqn, *xs):
        if _in_dtype(eqn) != np.float32 or float32:
            return f"{fn}({', '.join(xs)})"
        return f"np.float32({fn}({', '.join(f'np.float64({x})' for x in xs)}))"
    return rule


def _neg(eqn, x):
    return _wrap(eqn, f"-{x}")


def _abs(eqn, x):
    return _wrap(eqn, f"abs({x})")


def _sign(eqn, x):
    """Selects, not np.sign: the same source compiles for a CPU and a GPU (the sign of
    0 and -0.0 is 0, of nan nan: `x - x`)."""
    dtype = _in_dtype(eqn)
    one, zero = const(1, dtype), const(0, dtype)
    minus = zero if dtype.kind == 'u' else const(-1, dtype)
    return _wrap(eqn, f"({one} if {x} > {zero} else ({minus} if {x} < {zero} else {x} - {x}))")


def _round(eqn, x):
    if eqn.params.get('rounding_method', 0) == 1:
        return f"np.rint({x})"
    half, zero = const(0.5, _in_dtype(eqn)), const(0, _in_dtype(eqn))
    away = f"np.floor(abs({x}) + {half})"   # half away from zero
    return f"({away} if {x} >= {zero} else -{away})"


def _rsqrt(eqn, x):
    if _in_dtype(eqn) == np.float32:   # one rounding, as eager execution
        return f"np.float32(1.0 / np.sqrt(np.float64({x})))"
    return f"1.0 / np.sqrt({x})"


def _not(eqn, x):
    return f"not {x}" if _in_dtype(eqn) == np.bool_ else _wrap(eqn, f"~{x}")


def _integer_pow(eqn, x):
    y = eqn.params['y']
    dtype = _in_dtype(eqn)
    if y == 0:
        return const(1, dtype)
    # Square-and-multiply, written out: x ** 5 is (x * x) * (x * x) * x.
    result, power, n = None, x, builtins.abs(y)
    while n:
        if n & 1:
            result = power if result is None else f"{result} * {power}"
        n >>= 1
        if n:
            power = f"({power} * {power})"
    if y < 0:
        return None if _is_int(dtype) else f"{const(1, dtype)} / ({result})"
    return _wrap(eqn, result)


def _div(eqn, x, y):
    dtype = _out_dtype(eqn)
    if not _is_int(dtype):   # reciprocal: as XLA rewrites it (lax.divides_by_reciprocal)
        return f"{x} * ({const(1, dtype)} / {y})" if eqn.params.get('reciprocal') else f"{x} / {y}"
    if dtype.kind == 'u':
        all_ones = const(np.iinfo(dtype).max, dtype)   # -1, wrapped around
        return f"({np_type(dtype)}({x} // {y}) if {y} != 0 else {all_ones})"
    return _wrap(eqn, f"int_div(np.int64({x}), np.int64({y}))")


def _rem(eqn, x, y):
    dtype = _out_dtype(eqn)
    if not _is_int(dtype):
        return f"np.fmod({x}, {y})"
    if dtype.kind == 'u':
        return f"({np_type(dtype)}({x} % {y}) if {y} != 0 else {x})"
    return _wrap(eqn, f"int_rem(np.int64({x}), np.int64({y}))")


def _max_min(op, bool_op):
    def rule(eqn, x, y):
        if _in_dtype(eqn) == np.bool_:
            return f"{x} {bool_op} {y}"
        return f"({x} if ({x} {op} {y}) | ({x} != {x}) else {y})"   # nan wins, as in XLA
    return rule


def _clamp(eqn, lo, x, hi):
    return _max_min('<', '&')(eqn, _max_min('>', '|')(eqn, x, lo), hi)   # min(max(x, lo), hi)


def _bitop(op):
    def rule(eqn, x, y):
        return f"{x} {op} {y}" if _in_dtype(eqn) == np.bool_ else _wrap(eqn, f"{x} {op} {y}")
    return rule


def _bits(eqn):
    return 8 * _in_dtype(eqn).itemsize


def _shift_left(eqn, x, y):
    n = _bits(eqn)
    zero = const(0, _out_dtype(eqn))
    return f"({_wrap(eqn, f'{x} << ({y} & {n - 1})')} if ({y} >= 0) & ({y} < {n}) else {zero})"


def _shift_right_logical(eqn, x, y):
    dtype, n = _in_dtype(eqn), _bits(eqn)
    zero = const(0, dtype)
    if dtype.kind == 'u':
        shifted = _wrap(eqn, f"{x} >> ({y} & {n - 1})")
    else:   # shift the unsigned bit pattern, then read it back as signed
        u = np_type(f'uint{n}')
        shifted = f"bitcast({u}(bitcast({x}, {u}) >> ({y} & {n - 1})), {np_type(dtype)})"
    return f"({shifted} if ({y} >= 0) & ({y} < {n}) else {zero})"


def _shift_right_arithmetic(eqn, x, y):
    if _in_dtype(eqn).kind == 'u':
        return _shift_right_logical(eqn, x, y)
    n = _bits(eqn)   # shifting by the width or more fills with the sign bit
    return _wrap(eqn, f"{x} >> ({y} if ({y} >= 0) & ({y} < {n}) else {n - 1})")


def _select_n(eqn, which, *cases):
    if len(cases) == 1:
        return cases[0]
    if _in_dtype(eqn) == np.bool_:
        return f"({cases[1]} if {which} else {cases[0]})"
    expr = cases[-1]
    for i in range(len(cases) - 2, -1, -1):
        expr = f"({cases[i]} if {which} == {i} else {expr})"
    return expr


def _convert(eqn, x):
    src, dst = _in_dtype(eqn), _out_dtype(eqn)
    if dst == np.bool_:
        return f"{x} != {const(0, src)}"
    if src.kind == 'f' and _is_int(dst):
        if dst == np.uint64:
            return None
        info = np.iinfo(dst)
        return (f"{np_type(dst)}(float_to_int({x}, {info.min}, {info.max}, "
                f"{float(info.min)!r}, {float(info.max)!r}))")
    return f"{np_type(dst)}({x})"


def _bitcast(eqn, x):
    return f"bitcast({x}, {np_type(eqn.params['new_dtype'])})"


def _identity(eqn, x, *rest):
    return x


def _fma(eqn, x, y, z):
    return f"fma({x}, {y}, {z})"


SCALAR_RULES = {
    lax.neg_p: _neg, lax.abs_p: _abs, lax.sign_p: _sign,
    lax.floor_p: _float_fn(f64='np.floor'), lax.ceil_p: _float_fn(f64='np.ceil'), lax.round_p: _round,
    lax.exp_p: _float_fn('exp_f32', 'np.exp'), lax.log_p: _float_fn('log_f32', 'np.log'),
    lax.log1p_p: _float_fn('log1p_f32', 'np.log1p'), lax.expm1_p: _libm('np.expm1'),
    lax.tanh_p: _float_fn('tanh_f32', 'np.tanh'), lax.logistic_p: _float_fn('logistic_f32', 'logistic_f64'),
    lax.erf_p: _float_fn('erf_f32', 'math.erf'), lax.erf_inv_p: _float_fn('erf_inv_f32'),
    lax.sin_p: _libm('np.sin', float32=True), lax.cos_p: _libm('np.cos', float32=True),
    lax.tan_p: _libm('np.tan', float32=True), lax.asin_p: _libm('np.arcsin'),
    lax.acos_p: _libm('np.arccos'), lax.atan_p: _libm('np.arctan'),
    lax.sinh_p: _libm('np.sinh'), lax.cosh_p: _libm('np.cosh'),
    lax.asinh_p: _libm('np.arcsinh'), lax.acosh_p: _libm('np.arccosh'),
    lax.atanh_p: _libm('np.arctanh'), lax.sqrt_p: _float_fn(f64='np.sqrt'),
    lax.rsqrt_p: _rsqrt, lax.is_finite_p: _float_fn(f64='np.isfinite'), lax.not_p: _not,
    lax.integer_pow_p: _integer_pow, lax.stop_gradient_p: _identity,
    lax.add_p: _binop('+'), lax.add_any_p: _binop('+'), lax.sub_p: _binop('-'), lax.mul_p: _binop('*'),
    lax.div_p: _div, lax.rem_p: _rem, lax.pow_p: _libm('np.power'),
    lax.max_p: _max_min('>', '|'), lax.min_p: _max_min('<', '&'), lax.clamp_p: _clamp,
    lax.atan2_p: _libm('np.arctan2'), lax.nextafter_p: _float_fn(f64='np.nextafter'),
    lax.fma_p: _fma, lax.and_p: _bitop('&'), lax.or_p: _bitop('|'), lax.xor_p: _bitop('^'),
    lax.shift_left_p: _shift_left, lax.shift_right_logical_p: _shift_right_logical,
    lax.shift_right_arithmetic_p: _shift_right_arithmetic,
    lax.eq_p: _cmp('=='), lax.ne_p: _cmp('!='), lax.lt_p: _cmp('<'), lax.le_p: _cmp('<='),
    lax.gt_p: _cmp('>'), lax.ge_p: _cmp('>='),
    lax.select_n_p: _select_n, lax.convert_element_type_p: _convert,
    lax.bitcast_convert_type_p: _bitcast,
}

# Layout operations that keep every element where it was (they only add or drop
# axes of size 1): inside a kernel they pass the scalar through.
IDENTITY_VIEWS = {lax.reshape_p, lax.squeeze_p, lax.expand_dims_p, lax.broadcast_in_dim_p,
                  lax.transpose_p}


def dtypes_supported(eqn):
    avals = [x.aval for x in eqn.inputs] + [v.aval for v in eqn.out_binders]
    return all(a.dtype in SUPPORTED_DTYPES for a in avals)


def scalar_expr(eqn, args):
    """The scalar expression computing `eqn` from the scalar expressions `args`,
    or None when this backend has no code for it."""
    if eqn.primitive in IDENTITY_VIEWS or eqn.primitive is lax.iota_p:
        return args[0] if args else None
    rule = SCALAR_RULES.get(eqn.primitive)
    return rule(eqn, *args) if rule is not None and dtypes_supported(eqn) else None


def has_scalar_rule(eqn):
    if eqn.primitive not in SCALAR_RULES or not dtypes_supported(eqn):
        return False
    return scalar_expr(eqn, [f"x{i}" for i in range(len(eqn.inputs))]) is not None


# --- reductions ----------------------------------------------------------------------------------

def _acc_dtype(eqn):
    """Integer sums and products accumulate in 64 bits (they wrap exactly as 32-bit
    arithmetic would, once cast back). Float ones of up to 32 elements add one
    after another in their own precision, in row-major order, as XLA:CPU (and so
    eager execution) does, giving the same bits; longer ones accumulate in
    float64, which keeps a long float32 sum accurate."""
    dtype = _in_dtype(eqn)
    if dtype.kind == 'f':
        shape, axes = eqn.inputs[0].aval.shape, eqn.params['axes']
        return dtype if math.prod(shape[a] for a in axes) <= 32 else np.float64
    return {'i': np.int64, 'u': np.uint64}.get(dtype.kind, dtype)


class Reduction:
    """How a reduction builds its result: accumulators `init` ({name: (value,
    dtype)}), `update` statements (the element is `v`, its index along the
    reduced axis `i`) and the `final` expression. `merge` statements combine
    another accumulator of the same elements' later part (`other_acc`,
    `other_idx`) into this one, for a reduction split between GPU threads; by
    default the update with the other accumulator as the element."""

    def __init__(self, init, update, final, merge=None):
        self.init, self.update, self.final = init, update, final
        self.merge = merge if merge is not None else [re.sub(r"\bv\b", 'other_acc', line) for line in update]


def _sum_like(op, identity):
    def make(eqn):
        return Reduction({'acc': (identity, _acc_dtype(eqn))}, [f"acc = acc {op} v"],
                         f"{np_type(_out_dtype(eqn))}(acc)")
    return make


def _extreme(dtype, largest):
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return largest
    if dtype.kind == 'f':
        return np.inf if largest else -np.inf
    info = np.iinfo(dtype)
    return info.max if largest else info.min


def _max_like(op, start_largest):
    def make(eqn):
        dtype = _in_dtype(eqn)
        if dtype == np.bool_:
            update = f"acc = acc {'&' if start_largest else '|'} v"
        else:
            update = f"acc = v if (v {op} acc) | (v != v) else acc"   # nan wins
        return Reduction({'acc': (_extreme(dtype, start_largest), dtype)}, [update], 'acc')
    return make


def _logical(op, identity):
    return lambda eqn: Reduction({'acc': (identity, np.bool_)}, [f"acc = acc {op} v"], 'acc')


def _arg(op, start_largest):
    def make(eqn):
        dtype = _in_dtype(eqn)
        nan_first = " | ((v != v) & (acc == acc))" if dtype.kind == 'f' else ""
        # Merging: the other part's elements come later, unless it began further on.
        nan_merge = (" | ((other_acc != other_acc) & ((acc == acc) | (other_idx < idx)))"
                     if dtype.kind == 'f' else "")
        return Reduction({'acc': (_extreme(dtype, start_largest), dtype), 'idx': (0, np.int64)},
                         [f"take = (v {op} acc){nan_first}",   # the first extreme (or nan) wins
                          "idx = i if take else idx", "acc = v if take else acc"],
                         f"{np_type(eqn.params['index_dtype'])}(idx)",
                         [f"take = (other_acc {op} acc) | ((other_acc == acc) & (other_idx < idx)){nan_merge}",
                          "idx = other_idx if take else idx", "acc = other_acc if take else acc"])
    return make


REDUCTIONS = {
    lax.reduce_sum_p: _sum_like('+', 0), lax.reduce_prod_p: _sum_like('*', 1),
    lax.reduce_max_p: _max_like('>', False), lax.reduce_min_p: _max_like('<', True),
    lax.reduce_and_p: _logical('&', True), lax.reduce_or_p: _logical('|', False),
    lax.argmax_p: _arg('>', False), lax.argmin_p: _arg('<', True),
}


def _logaddexp(eqn, x, y):
    """log(e^x + e^y) without overflow; x + y where x - y is nan (a nan, or infinities
    of one sign), as lax computes it."""
    exp, log1p, larger = SCALAR_RULES[lax.exp_p], SCALAR_RULES[lax.log1p_p], SCALAR_RULES[lax.max_p]
    d = f"({x} - {y})"
    return f"({x} + {y} if {d} != {d} else {larger(eqn, x, y)} + {log1p(eqn, exp(eqn, f'-abs{d}'))})"


# Running values along an axis (cumsum, ...): the step from the running value and the
# next element to the new running value, and the value before the first element.
SCAN_STEPS = {
    lax.cumsum_p: (SCALAR_RULES[lax.add_p], lambda dtype: 0),
    lax.cumprod_p: (SCALAR_RULES[lax.mul_p], lambda dtype: 1),
    lax.cummax_p: (SCALAR_RULES[lax.max_p], lambda dtype: _extreme(dtype, largest=False)),
    lax.cummin_p: (SCALAR_RULES[lax.min_p], lambda dtype: _extreme(dtype, largest=True)),
    lax.cumlogsumexp_p: (_logaddexp, lambda dtype: -np.inf),
}


def unit_reduction(eqn, x):
    """A reduction over axes of size 1 only: the element itself (index 0 for argmax)."""
    if eqn.primitive in (lax.argmax_p, lax.argmin_p):
        return const(0, eqn.params['index_dtype'])
    return x


def key(shape):
    """The shape without its size-1 axes: arrays with the same key hold their
    elements in the same order, so one loop index reads them all."""
    return tuple(n for n in shape if n != 1)


def reduced_positions(eqn):
    """Positions, among the operand's non-unit axes, of the axes a reduction removes."""
    positions, p = [], 0
    for a, n in enumerate(eqn.inputs[0].aval.shape):
        if n == 1:
            continue
        if a in eqn.params['axes']:
            positions.append(p)
        p += 1
    return tuple(positions)
