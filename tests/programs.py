"""Random small programs over the primitive vocabulary, for differential testing.

`programs()` is a Hypothesis strategy. Each example is a `Program`: a straight-line
function of a few inputs, 2-8 operations over SSA values, kept as Python *source*
so that a failure shows a repro a human can paste:

    >>> print(prog.source())
    def f(x0, i0, m0):
        v0 = jnp.sin(x0)
        v1 = v0[i0]                                # gather, indices out of bounds too
        v2 = jnp.sum(v1, axis=(0, -1), keepdims=True)
        v3 = jnp.where(m0, v2, x0)
        return v3

`prog.build(jnp=..., lax=..., nn=...)` execs the source with the given modules:
tinygrad_tracer's for the differential tests, JAX's for the comparison with JAX.
The vocabulary is the common surface of both (jnp, lax, jax.nn).

Inputs have kinds:
    'float'  a float32 array (differentiated, batched by vmap)
    'weak'   a Python float (a weakly typed float32 scalar; differentiated)
    'index'  an int32 array of indices (held fixed), values in [lo, hi], maybe out of
             bounds; `unique=n` asks for distinct positions modulo an axis of length n
    'mask'   a bool array (jnp.where's condition, lax.cond's predicate; held fixed)

The generator keeps, for every value, its shape and a bound on |value| over the
*smooth* domain (float inputs in [-2, 2]); an op whose result could exceed
`B_MAX` there (exp of a big value, a long product) is not drawn, so derivative
checks in float32 stay meaningful. Ops that are not differentiable everywhere
(abs, maximum, max reductions, clip, comparisons, .at[].min/max) are drawn too, and
mark the program `smooth=False`: the finite-difference comparison skips it (every
other check still runs). Every smooth op is smooth on all of R (log and sqrt are
guarded as log(x*x + 1), sqrt(x*x + 0.5), division as x / (y*y + 1)), and
`where`/`cond` take their conditions from mask inputs, so a smooth program has
no kink anywhere: no tolerance has to hide one.

Value draws (`draw_args`) have two domains: 'smooth' (finite, in [-2, 2]) for the
derivative checks, and 'edge' for the forward comparisons: a mixture of plain
values, ties, wide magnitudes, and the edge values (±0, ±inf, nan, subnormals,
the largest finite float32).
"""
import math
from dataclasses import dataclass, field

import numpy as np
from hypothesis import strategies as st

B_MAX = 200.0      # |value| bound on the smooth domain
MAX_RANK = 4
MAX_SIZE = 48
MAX_FLOAT_INPUTS = 4
MAX_INPUTS = 7


@dataclass
class Input:
    name: str
    kind: str               # 'float' | 'weak' | 'index' | 'mask'
    shape: tuple
    lo: int = 0             # index: values in [lo, hi]
    hi: int = 0
    unique: int = 0         # index: distinct positions modulo this axis length (0: any)

    @property
    def differentiable(self):
        return self.kind in ('float', 'weak')


@dataclass
class Value:
    name: str
    shape: tuple
    bound: float
    py: bool = False        # a Python float (a 'weak' input): operators on it stay Python floats

    @property
    def rank(self):
        return len(self.shape)

    @property
    def size(self):
        return int(np.prod(self.shape, dtype=np.int64))


@dataclass
class Program:
    inputs: list
    lines: list             # source lines of the body (a line may hold a nested def)
    outputs: list           # names of the returned values
    out_shapes: list
    smooth: bool
    labels: list = field(default_factory=list)   # what was drawn (for coverage and events)
    # False when x[idx] may read out of bounds: JAX clamps such reads, but their transpose
    # (a scatter-add) drops the out-of-bounds cotangents, so vjp is not the transpose of
    # jvp there (jax.vjp itself gives [0, 3, 0, 0] for the gradient of
    # `x[jnp.array([4, -6, 1])] @ jnp.array([1., 2., 3.])` at x = [1, 2, 3, 4])
    vjp_is_transpose: bool = True

    def source(self, name='f'):
        body = []
        for line in self.lines:
            body.extend('    ' + ln for ln in line.split('\n'))
        ret = self.outputs[0] if len(self.outputs) == 1 else '(' + ', '.join(self.outputs) + ')'
        args = ', '.join(i.name for i in self.inputs)
        return f"def {name}({args}):\n" + '\n'.join(body) + f"\n    return {ret}\n"

    def build(self, jnp, lax, nn, name='f'):
        namespace = {'jnp': jnp, 'lax': lax, 'nn': nn}
        exec(compile(self.source(name), f'<program {name}>', 'exec'), namespace)
        return namespace[name]

    @property
    def multiple_outputs(self):
        return len(self.outputs) > 1

    def __repr__(self):
        return 'Program:\n' + self.source()

    def _repr_pretty_(self, printer, cycle):   # Hypothesis prints examples with this
        printer.text(repr(self))


# --- the generator -----------------------------------------------------------------------------

_WIDE = st.integers(0, 2 ** 16 - 1)


def _tuple(xs):
    xs = tuple(xs)
    return f"({xs[0]!r},)" if len(xs) == 1 else repr(xs)


def _size(shape):
    return int(np.prod(shape, dtype=np.int64))


class _Gen:
    """The state of one program being drawn: its inputs, values and source lines."""

    def __init__(self, draw, max_size):
        self.draw = draw
        self.max_size = max_size
        self.inputs, self.values, self.lines, self.labels = [], [], [], []
        self.smooth = True
        self.vjp_is_transpose = True
        self.counter = 0

    # drawing helpers. Hypothesis favours the low end of st.integers and the first items
    # of st.sampled_from; drawing from a wide range and folding it keeps the choices about
    # uniform, and shrinking still goes to the first choice.
    def integer(self, lo, hi):
        return lo + self.draw(_WIDE) % (hi - lo + 1)

    def choice(self, options):
        return options[self.integer(0, len(options) - 1)]

    def flip(self):
        return self.integer(0, 1) == 1

    def shape(self, min_rank=0, max_rank=3, max_dim=4):
        rank = self.integer(min_rank, max_rank)
        dims = tuple(self.integer(1, max_dim) for _ in range(rank))
        return dims if _size(dims) <= self.max_size else tuple(min(d, 2) for d in dims)

    def fresh(self):
        name = f"v{self.counter}"
        self.counter += 1
        return name

    # inputs
    def n_kind(self, *kinds):
        return sum(i.kind in kinds for i in self.inputs)

    def float_input(self, shape):
        if self.n_kind('float', 'weak') >= MAX_FLOAT_INPUTS or len(self.inputs) >= MAX_INPUTS:
            return None
        name = f"x{self.n_kind('float', 'weak')}"
        self.inputs.append(Input(name, 'float', tuple(shape)))
        v = Value(name, tuple(shape), 2.0)
        self.values.append(v)
        return v

    def weak_input(self):
        if self.n_kind('float', 'weak') >= MAX_FLOAT_INPUTS or len(self.inputs) >= MAX_INPUTS:
            return None
        name = f"x{self.n_kind('float', 'weak')}"
        self.inputs.append(Input(name, 'weak', ()))
        v = Value(name, (), 2.0, py=True)
        self.values.append(v)
        self.labels.append('weak_input')
        return v

    def aux_input(self, kind, shape, **kw):
        if len(self.inputs) >= MAX_INPUTS:
            return None
        prefix = {'index': 'i', 'mask': 'm'}[kind]
        name = f"{prefix}{self.n_kind(kind)}"
        self.inputs.append(Input(name, kind, tuple(shape), **kw))
        return name

    def index_input(self, shape, n, oob, unique=False):
        lo, hi = (-n - 2, n + 1) if oob else (-n, n - 1)
        if unique and not oob and _size(shape) > n:
            return None
        return self.aux_input('index', shape, lo=lo, hi=hi, unique=n if unique else 0)

    # operands
    def pick(self, pred=lambda v: True, arrays=False):
        """An existing value (recent ones first: shrinking goes to the latest)."""
        cands = [v for v in self.values if pred(v) and not (arrays and v.py)]
        if not cands:
            return None
        return cands[-1 - self.integer(0, len(cands) - 1)]

    def operand(self, pred, make_shape, arrays=False):
        """An existing value satisfying pred, or a new float input of make_shape()."""
        existing = self.pick(pred, arrays)
        if existing is not None and self.integer(0, 2) > 0:
            return existing
        shape = make_shape()
        if shape is None or _size(shape) > self.max_size:
            return existing
        new = self.float_input(shape)
        return new if new is not None else existing

    def emit(self, expr, shape, bound, label, smooth=True):
        """Append `name = expr` as a new value, unless it is too big (shape or bound)."""
        shape = tuple(int(d) for d in shape)
        if _size(shape) > self.max_size or len(shape) > MAX_RANK:
            return None
        if bound is None or not bound <= B_MAX:
            return None
        name = self.fresh()
        self.lines.append(f"{name} = {expr}")
        v = Value(name, shape, float(bound))
        self.values.append(v)
        self.labels.append(label)
        self.smooth &= smooth
        return v

    def emit_lines(self, lines, values, label, smooth=True):
        for v in values:
            if _size(v.shape) > self.max_size or len(v.shape) > MAX_RANK or not v.bound <= B_MAX:
                return None
        self.lines.append('\n'.join(lines))
        self.values.extend(values)
        self.labels.append(label)
        self.smooth &= smooth
        return values[-1]

    # shapes that broadcast with `shape`
    def broadcast_partner(self, shape):
        if self.integer(0, 3) == 0 and len(shape) < MAX_RANK:   # extra leading axes
            lead = tuple(self.integer(1, 3) for _ in range(self.integer(1, MAX_RANK - len(shape))))
            kept = len(shape)
        else:
            lead, kept = (), self.integer(0, len(shape))
        tail = shape[len(shape) - kept:]
        dims = []
        for d in tail:
            if d == 1:
                dims.append(self.choice([1, 1, 2, 3]))
            else:
                dims.append(self.choice([d, d, 1]))
        return lead + tuple(dims)

    def into(self, shape):
        """A shape that broadcasts *into* `shape` (the result keeps `shape`)."""
        kept = self.integer(0, len(shape))
        return tuple(d if self.flip() else 1 for d in shape[len(shape) - kept:])

    def axes(self, rank, allow_empty=True):
        """(axis argument source, reduced axes as a set)."""
        if rank == 0:
            return self.choice(['None', '()'] if allow_empty else ['None']), set()
        kind = self.integer(0, 3)
        if kind == 0:
            return 'None', set(range(rank))
        if kind in (1, 2):
            a = self.integer(-rank, rank - 1)
            return repr(a), {a % rank}
        chosen = [d for d in range(rank) if self.flip()]
        if not chosen and not allow_empty:
            chosen = [rank - 1]
        order = [chosen[k] for k in _permutation(self, len(chosen))]
        written = [d - rank if self.flip() else d for d in order]
        return _tuple(written) if written else '()', set(chosen)


def _permutation(g, n):
    rest, out = list(range(n)), []
    while rest:
        out.append(rest.pop(g.integer(0, len(rest) - 1)))
    return out


def _broadcast(*shapes):
    return tuple(np.broadcast_shapes(*shapes))


# --- the vocabulary: each op draws its operands and emits one line ---------------------------

# (label, template, bound(b) or None when not allowed, operator_only). operator_only: the
# template does Python arithmetic on its operand, so a Python float operand would be
# computed in float64 by Python in eager mode but in float32 under jit (as in JAX): such
# templates only take arrays.
UNARY = [
    ('sin', 'jnp.sin({a})', lambda b: 1.0, False),
    ('cos', 'jnp.cos({a})', lambda b: 1.0, False),
    ('tanh', 'jnp.tanh({a})', lambda b: 1.0, False),
    ('exp', 'jnp.exp({a})', lambda b: math.exp(b) if b <= 4 else None, False),
    ('exp', 'jnp.exp(-{a} * {a})', lambda b: 1.0, True),
    ('expm1', 'jnp.expm1({a})', lambda b: math.exp(b) if b <= 4 else None, False),
    ('sinh', 'jnp.sinh({a})', lambda b: math.exp(b) if b <= 4 else None, False),
    ('log', 'jnp.log({a} * {a} + 1.0)', lambda b: math.log(b * b + 1), True),
    ('log1p', 'jnp.log1p(jnp.square({a}))', lambda b: math.log1p(b * b), False),
    ('sqrt', 'jnp.sqrt({a} * {a} + 0.5)', lambda b: math.sqrt(b * b + 0.5), True),
    ('rsqrt', 'lax.rsqrt({a} * {a} + 1.0)', lambda b: 1.0, True),
    ('square', 'jnp.square({a})', lambda b: b * b, False),
    ('integer_pow', '{a} ** 3', lambda b: b ** 3, True),
    ('integer_pow_neg', '({a} * {a} + 1.0) ** -2', lambda b: 1.0, True),
    ('pow', '({a} * {a} + 1.0) ** 1.5', lambda b: (b * b + 1) ** 1.5, True),
    ('reciprocal', '1.0 / ({a} * {a} + 1.0)', lambda b: 1.0, True),
    ('sigmoid', 'nn.sigmoid({a})', lambda b: 1.0, False),
    ('softplus', 'nn.softplus({a})', lambda b: b + 1.0, False),
    ('logistic', 'lax.logistic({a})', lambda b: 1.0, False),
    ('erf', 'lax.erf({a})', lambda b: 1.0, False),
    ('arctan', 'jnp.arctan({a})', lambda b: 1.6, False),
    ('neg', '-{a}', lambda b: b, True),
    ('scale', '{a} * 0.5', lambda b: b * 0.5, True),
    ('rscale', '-3.0 * {a}', lambda b: b * 3.0, True),
    ('shift', '1.5 - {a}', lambda b: b + 1.5, True),
]
UNARY_NONSMOOTH = [
    ('abs', 'jnp.abs({a})', lambda b: b, False),
    ('relu', 'jnp.maximum({a}, 0.0)', lambda b: b, False),
    ('clip', 'jnp.clip({a}, -1.0, 1.0)', lambda b: min(b, 1.0), False),
    ('floor', 'jnp.floor({a})', lambda b: b + 1, False),
    ('round', 'jnp.round({a})', lambda b: b + 1, False),
    ('sign_mul', 'jnp.sign({a}) * {a}', lambda b: b, False),
]
BINARY = [
    ('add', '{a} + {b}', lambda a, b: a + b, True),
    ('sub', '{a} - {b}', lambda a, b: a + b, True),
    ('mul', '{a} * {b}', lambda a, b: a * b, True),
    ('div', '{a} / ({b} * {b} + 1.0)', lambda a, b: a, True),
    ('logaddexp', 'jnp.logaddexp({a}, {b})', lambda a, b: max(a, b) + 1.0, False),
    ('arctan2', 'jnp.arctan2({a}, {b} * {b} + 1.0)', lambda a, b: 1.6, False),
]
BINARY_NONSMOOTH = [
    ('maximum', 'jnp.maximum({a}, {b})', lambda a, b: max(a, b), False),
    ('minimum', 'jnp.minimum({a}, {b})', lambda a, b: max(a, b), False),
    ('where_gt', 'jnp.where({a} > {b}, {a}, {b})', lambda a, b: max(a, b), False),
]
# one-argument functions for the bodies of cond/switch/fori_loop/scan
BODY = [
    ('sin', 'jnp.sin({})', lambda b: 1.0),
    ('tanh', 'jnp.tanh({})', lambda b: 1.0),
    ('cos', 'jnp.cos({})', lambda b: 1.0),
    ('half', '{} * 0.5', lambda b: b * 0.5),
    ('square', 'jnp.square({})', lambda b: b * b),
    ('exp_tanh', 'jnp.exp(jnp.tanh({}))', lambda b: math.e),
    ('neg', '-{}', lambda b: b),
]


def op_unary(g):
    label, template, bound, operator_only = g.choice(UNARY + UNARY_NONSMOOTH)
    a = g.pick(arrays=operator_only)
    if a is None:
        return None
    smooth = (label, template, bound, operator_only) in UNARY
    return g.emit(template.format(a=a.name), a.shape, bound(a.bound), label, smooth)


def op_binary(g):
    entry = g.choice(BINARY + BINARY_NONSMOOTH)
    label, template, bound, operator_only = entry
    a = g.pick()
    if a is None:
        return None
    if g.integer(0, 5) == 0:   # a weakly typed Python scalar operand
        b = next((v for v in g.values if v.py), None) or g.weak_input()
    else:
        b = g.operand(lambda v: _broadcastable(v.shape, a.shape), lambda: g.broadcast_partner(a.shape))
    if b is None or (operator_only and a.py and b.py) or (label in ('div', 'arctan2') and b.py):
        return None
    if g.flip() and label not in ('div', 'arctan2'):
        a, b = b, a
    return g.emit(template.format(a=a.name, b=b.name), _broadcast(a.shape, b.shape),
                  bound(a.bound, b.bound), label, entry in BINARY)


def _broadcastable(s1, s2):
    try:
        out = np.broadcast_shapes(s1, s2)
    except ValueError:
        return False
    return len(out) <= MAX_RANK


def op_where(g):
    a = g.pick()
    if a is None:
        return None
    if g.flip():
        b = g.operand(lambda v: _broadcastable(v.shape, a.shape) and v is not a,
                      lambda: g.broadcast_partner(a.shape)) or a
        b_src, b_shape, b_bound = b.name, b.shape, b.bound
    else:
        b_src, b_shape, b_bound = '0.0', (), 0.0
    m_shape = g.broadcast_partner(_broadcast(a.shape, b_shape)) if g.flip() else g.into(a.shape)
    m = g.aux_input('mask', m_shape)
    if m is None:
        return None
    args = [a.name, b_src]
    if g.flip():
        args.reverse()
    return g.emit(f"jnp.where({m}, {args[0]}, {args[1]})", _broadcast(m_shape, a.shape, b_shape),
                  max(a.bound, b_bound), 'where')


REDUCTIONS = [
    # (label, template, smooth, allows axis=())
    ('sum', 'jnp.sum({a}{args})', True, True),
    ('mean', 'jnp.mean({a}{args})', True, True),
    ('prod', 'jnp.prod({a}{args})', True, True),
    ('max', 'jnp.max({a}{args})', False, True),
    ('min', 'jnp.min({a}{args})', False, True),
    ('logsumexp', 'nn.logsumexp({a}{args})', True, False),
    ('var', 'jnp.var({a}{args})', True, False),
]


def op_reduce(g):
    label, template, smooth, allow_empty = g.choice(REDUCTIONS)
    a = g.pick()
    if a is None:
        return None
    axis_src, axes = g.axes(a.rank, allow_empty)
    keepdims = g.flip()
    args = '' if axis_src == 'None' and not g.flip() else f", axis={axis_src}"
    if keepdims:
        args += ', keepdims=True'
    shape = tuple(1 if d in axes else n for d, n in enumerate(a.shape) if keepdims or d not in axes)
    n = _size([a.shape[d] for d in axes])
    bound = {'sum': a.bound * n, 'mean': a.bound, 'max': a.bound, 'min': a.bound,
             'prod': a.bound ** n, 'logsumexp': a.bound + math.log(max(n, 1)),
             'var': 4 * a.bound * a.bound}[label]
    full = label + (':keepdims' if keepdims else '') + (':size1' if axes and n == 1 else '')
    v = g.emit(template.format(a=a.name, args=args), shape, bound, full, smooth)
    if v is not None and not axes:
        g.labels.append('reduce:noaxes')
    return v


def op_cumulative(g):
    a = g.pick()
    if a is None:
        return None
    kind = g.choice(['cumsum', 'cumsum', 'cumprod', 'lax_cumsum_reverse'])
    if kind == 'lax_cumsum_reverse':
        if a.rank == 0:
            return None
        axis = g.integer(0, a.rank - 1)
        src, shape, n = f"lax.cumsum({a.name}, axis={axis}, reverse=True)", a.shape, a.shape[axis]
    elif a.rank == 0 or g.integer(0, 3) == 0:   # no axis: along the flattened array
        src, shape, n = f"jnp.{kind}({a.name})", (a.size,), a.size
    else:
        axis = g.integer(-a.rank, a.rank - 1)
        src, shape, n = f"jnp.{kind}({a.name}, axis={axis})", a.shape, a.shape[axis]
    bound = max(a.bound, a.bound ** n) if kind == 'cumprod' else a.bound * n
    return g.emit(src, shape, bound, kind)


def _factor_shape(g, size):
    rank = g.integer(0 if size == 1 else 1, MAX_RANK)
    dims = [1] * rank
    n, p = size, 2
    while n > 1:
        while n % p:
            p += 1
        n //= p
        k = g.integer(0, rank - 1)
        dims[k] *= p
    return tuple(dims)


def op_reshape(g):
    a = g.pick()
    if a is None:
        return None
    shape = _factor_shape(g, a.size)
    written = list(shape)
    if shape and g.integer(0, 3) == 0:
        written[g.integer(0, len(shape) - 1)] = -1
    return g.emit(f"jnp.reshape({a.name}, {_tuple(written)})", shape, a.bound, 'reshape')


def op_transpose(g):
    a = g.pick(lambda v: v.rank >= 2)
    if a is None:
        return None
    if a.rank == 2 and not a.py and g.integer(0, 2) == 0:
        return g.emit(f"{a.name}.T", a.shape[::-1], a.bound, 'transpose')
    perm = _permutation(g, a.rank)
    return g.emit(f"jnp.transpose({a.name}, {_tuple(perm)})", [a.shape[p] for p in perm], a.bound,
                  'transpose')


def op_expand_squeeze(g):
    a = g.pick()
    if a is None:
        return None
    ones = [d for d, n in enumerate(a.shape) if n == 1]
    if ones and g.flip():
        if g.integer(0, 2) == 0:
            return g.emit(f"jnp.squeeze({a.name})", [n for n in a.shape if n != 1], a.bound, 'squeeze')
        chosen = [d for d in ones if g.flip()] or ones[:1]
        written = [d - a.rank if g.flip() else d for d in chosen]
        arg = repr(written[0]) if len(written) == 1 else _tuple(written)
        return g.emit(f"jnp.squeeze({a.name}, axis={arg})",
                      [n for d, n in enumerate(a.shape) if d not in chosen], a.bound, 'squeeze')
    axis = g.integer(-a.rank - 1, a.rank)
    shape = list(a.shape)
    shape.insert(axis % (a.rank + 1), 1)
    return g.emit(f"jnp.expand_dims({a.name}, {axis})", shape, a.bound, 'expand_dims')


def op_broadcast_to(g):
    a = g.pick()
    if a is None or a.rank >= MAX_RANK:
        return None
    lead = tuple(g.integer(1, 3) for _ in range(g.integer(0, MAX_RANK - a.rank)))
    shape = lead + tuple(g.choice([1, 2, 3]) if n == 1 else n for n in a.shape)
    return g.emit(f"jnp.broadcast_to({a.name}, {_tuple(shape)})", shape, a.bound, 'broadcast_to')


def _slice_entry(g, n):
    kind = g.choice(['full', 'range', 'range', 'int', 'none'])
    if kind == 'int':
        i = g.integer(-n, n - 1)
        return repr(i), None, 'int'
    if kind == 'none':
        return 'None', 1, 'none'
    if kind == 'full':
        return ':', n, 'full'

    def bound():
        return None if g.integer(0, 2) == 0 else g.integer(-n - 2, n + 1)
    start, stop = bound(), bound()
    step = g.choice([None, None, 1, 2, -1, -2, 3])
    length = len(range(*slice(start, stop, step).indices(n)))
    if length == 0:
        return ':', n, 'full'
    src = ('' if start is None else repr(start)) + ':' + ('' if stop is None else repr(stop))
    if step is not None:
        src += f":{step}"
    return src, length, 'range:neg_step' if step is not None and step < 0 else 'range'


def op_slice(g):
    a = g.pick(lambda v: v.rank >= 1, arrays=True)
    if a is None:
        return None
    entries, shape, kinds = [], [], []
    n_axes = g.integer(1, a.rank)
    ellipsis = n_axes < a.rank and g.integer(0, 3) == 0
    dims = a.shape[a.rank - n_axes:] if ellipsis else a.shape[:n_axes]
    for n in dims:
        src, length, kind = _slice_entry(g, n)
        if kind == 'none':   # a new axis, then the real entry for this axis
            entries.append('None')
            shape.append(1)
            kinds.append(kind)
            src, length, kind = _slice_entry(g, n)
            if kind == 'none':
                src, length, kind = ':', n, 'full'
        entries.append(src)
        kinds.append(kind)
        if length is not None:
            shape.append(length)
    if ellipsis:
        shape = list(a.shape[:a.rank - n_axes]) + shape
        entries.insert(0, '...')
    else:
        shape += list(a.shape[n_axes:])
    if all(k == 'full' for k in kinds):
        return None
    label = ('slice' + (':neg_step' if 'range:neg_step' in kinds else '')
             + (':int' if 'int' in kinds else ''))
    return g.emit(f"{a.name}[{', '.join(entries)}]", shape, a.bound, label)


def op_flip(g):
    a = g.pick(lambda v: v.rank >= 1)
    if a is None:
        return None
    axis = g.integer(-a.rank, a.rank - 1)
    return g.emit(f"jnp.flip({a.name}, axis={axis})", a.shape, a.bound, 'flip')


def op_concatenate(g):
    a = g.pick(lambda v: v.rank >= 1)
    if a is None:
        return None
    axis = g.integer(-a.rank, a.rank - 1)
    d = axis % a.rank

    def partner():
        s = list(a.shape)
        s[d] = g.integer(1, 3)
        return tuple(s)
    b = g.operand(lambda v: v.rank == a.rank and all(
        v.shape[k] == a.shape[k] for k in range(a.rank) if k != d), partner)
    if b is None:
        return None
    parts = [a, b] if g.flip() else [b, a]
    if g.integer(0, 3) == 0:
        parts.append(a)
    shape = list(a.shape)
    shape[d] = sum(p.shape[d] for p in parts)
    return g.emit(f"jnp.concatenate([{', '.join(p.name for p in parts)}], axis={axis})", shape,
                  max(p.bound for p in parts), 'concatenate')


def op_stack(g):
    a = g.pick(lambda v: v.rank < MAX_RANK)
    if a is None:
        return None
    b = g.operand(lambda v: v.shape == a.shape, lambda: a.shape)
    if b is None:
        return None
    axis = g.integer(-a.rank - 1, a.rank)
    shape = list(a.shape)
    shape.insert(axis % (a.rank + 1), 2)
    return g.emit(f"jnp.stack([{a.name}, {b.name}], axis={axis})", shape, max(a.bound, b.bound), 'stack')


def op_pad(g):
    a = g.pick(lambda v: v.rank >= 1)
    if a is None:
        return None
    if g.flip():
        widths = [(g.integer(0, 2), g.integer(0, 2)) for _ in a.shape]
        shape = [n + lo + hi for n, (lo, hi) in zip(a.shape, widths)]
        return g.emit(f"jnp.pad({a.name}, {_tuple(widths)})", shape, a.bound, 'pad')
    config, shape = [], []
    for n in a.shape:   # lax.pad: negative edges cut, interior padding
        interior = g.integer(0, 1)
        lo, hi = g.integer(-1, 2), g.integer(-1, 2)
        out = lo + hi + n + (n - 1) * interior
        if out < 1:
            lo, hi = 0, 0
            out = n + (n - 1) * interior
        config.append((lo, hi, interior))
        shape.append(out)
    label = 'lax_pad' + (':negative' if any(c[0] < 0 or c[1] < 0 for c in config) else '')
    return g.emit(f"lax.pad({a.name}, 0.0, {_tuple(config)})", shape, a.bound, label)


def op_dot(g):
    a = g.pick(lambda v: 1 <= v.rank <= 3, arrays=True)
    if a is None:
        return None
    n = a.shape[-1]
    m = g.integer(1, 4)
    if a.rank <= 2:
        b_shape = g.choice([(n,), (n, m)])
    else:
        b_shape = g.choice([(n, m), (a.shape[0], n, m), (1, n, m)])
    b = g.operand(lambda v: v.shape == b_shape and not v.py, lambda: b_shape)
    if b is None or b.shape != b_shape:
        return None
    if a.rank == 3 or len(b_shape) == 3:
        batch = _broadcast(a.shape[:-2], b_shape[:-2]) if len(b_shape) == 3 else a.shape[:-2]
        shape = batch + a.shape[-2:-1] + b_shape[-1:]
        src = g.choice([f"{a.name} @ {b.name}", f"jnp.matmul({a.name}, {b.name})"])
        label = 'matmul_batched'
    else:
        shape = a.shape[:-1] + b_shape[1:]
        src = g.choice([f"jnp.dot({a.name}, {b.name})", f"{a.name} @ {b.name}"])
        label = 'dot'
    return g.emit(src, shape, a.bound * b.bound * n, label)


def op_dot_general(g):
    """lax.dot_general contracting the leading axes: (n, k) x (n, m) -> (k, m)."""
    a = g.pick(lambda v: v.rank == 2, arrays=True)
    if a is None:
        return None
    n = a.shape[0]
    b_shape = (n, g.integer(1, 3))
    b = g.operand(lambda v: v.shape == b_shape and not v.py, lambda: b_shape)
    if b is None or b.shape != b_shape:
        return None
    return g.emit(f"lax.dot_general({a.name}, {b.name}, (((0,), (0,)), ((), ())))",
                  (a.shape[1], b_shape[1]), a.bound * b.bound * n, 'dot_general')


def op_gather(g):
    a = g.pick(lambda v: v.rank >= 1, arrays=True)
    if a is None:
        return None
    kind = g.choice(['axis0', 'axis0', 'axis1', 'two', 'take', 'scalar'])
    oob = g.integer(0, 2) > 0
    idx_shape = g.choice([(g.integer(1, 4),), (g.integer(1, 3), g.integer(1, 2))])
    if kind == 'scalar':   # a traced 0-d index
        i = g.index_input((), a.shape[0], oob)
        if i is None:
            return None
        return g.emit(f"{a.name}[{i}]", a.shape[1:], a.bound, 'gather:scalar' + (':oob' if oob else ''))
    if kind == 'axis1' and a.rank < 2 or kind == 'two' and a.rank < 2:
        kind = 'axis0'
    if kind == 'axis0':
        i = g.index_input(idx_shape, a.shape[0], oob)
        src, shape = f"{a.name}[{i}]", idx_shape + a.shape[1:]
    elif kind == 'axis1':
        i = g.index_input(idx_shape, a.shape[1], oob)
        src, shape = f"{a.name}[:, {i}]", a.shape[:1] + idx_shape + a.shape[2:]
    elif kind == 'two':
        i = g.index_input(idx_shape, a.shape[0], oob)
        j = g.index_input(idx_shape, a.shape[1], oob)
        if j is None:
            return None
        src, shape = f"{a.name}[{i}, {j}]", idx_shape + a.shape[2:]
    else:
        axis = g.integer(-a.rank, a.rank - 1)
        d = axis % a.rank
        mode = g.choice(['clip', 'fill', None])
        oob = oob and mode is not None
        i = g.index_input(idx_shape, a.shape[d], oob)
        extra = {'clip': ", mode='clip'", 'fill': ", mode='fill', fill_value=0.0", None: ''}[mode]
        src = f"jnp.take({a.name}, {i}, axis={axis}{extra})"
        shape = a.shape[:d] + idx_shape + a.shape[d + 1:]
        kind = f"take:{mode}"
    if i is None:
        return None
    v = g.emit(src, shape, a.bound, f"gather:{kind}" + (':oob' if oob else ''))
    if v is not None and oob and not kind.startswith('take'):
        g.vjp_is_transpose = False
    return v


SCATTERS = ['add', 'add', 'set', 'mul', 'min', 'max']


def op_scatter(g):
    a = g.pick(lambda v: v.rank >= 1, arrays=True)
    if a is None:
        return None
    method = g.choice(SCATTERS)
    # .mul with repeated indices is differentiable here but not in JAX (it wants
    # unique_indices=True): half the products promise unique indices, as JAX needs
    unique = method == 'set' or (method == 'mul' and g.flip())
    axis1 = a.rank >= 2 and g.integer(0, 2) == 0
    oob = g.integer(0, 2) > 0
    n = a.shape[1] if axis1 else a.shape[0]
    idx_shape = (g.integer(1, 4),) if g.integer(0, 3) else (2, 2)
    i = g.index_input(idx_shape, n, oob, unique=unique)
    if i is None:
        return None
    full = (a.shape[:1] + idx_shape + a.shape[2:]) if axis1 else idx_shape + a.shape[1:]
    if g.integer(0, 3) == 0:
        upd_src, upd_bound = '2.0' if method != 'mul' else '0.5', 2.0
    else:
        u = g.operand(lambda v: _into(v.shape, full), lambda: g.into(full) if g.flip() else full)
        if u is None or not _into(u.shape, full):
            return None
        upd_src, upd_bound = u.name, u.bound
    k = _size(idx_shape)
    bound = {'add': a.bound + k * upd_bound, 'set': max(a.bound, upd_bound),
             'mul': a.bound * max(upd_bound, 1.0) ** k, 'min': max(a.bound, upd_bound),
             'max': max(a.bound, upd_bound)}[method]
    where = f"[:, {i}]" if axis1 else f"[{i}]"
    hint = ', unique_indices=True' if method == 'mul' and unique else ''
    label = (f"scatter:{method}" + (':oob' if oob else '') + (':axis1' if axis1 else '')
             + (':repeated' if method == 'mul' and not unique else ''))
    return g.emit(f"{a.name}.at{where}.{method}({upd_src}{hint})", a.shape, bound, label,
                  smooth=method not in ('min', 'max'))


def _into(shape, target):
    try:
        return np.broadcast_shapes(shape, target) == tuple(target)
    except ValueError:
        return False


def _starts(g, shape):
    out = []
    for n in shape:
        if g.flip():
            out.append(repr(g.integer(-1, n)))
        else:
            i = g.aux_input('index', (), lo=-2, hi=n + 1)
            out.append(i if i is not None else '0')
    return '(' + ', '.join(out) + (',)' if len(out) == 1 else ')')


def op_dynamic_slice(g):
    a = g.pick(lambda v: v.rank >= 1, arrays=True)
    if a is None:
        return None
    if g.flip():
        sizes = tuple(g.integer(1, n) for n in a.shape)
        return g.emit(f"lax.dynamic_slice({a.name}, {_starts(g, a.shape)}, {_tuple(sizes)})", sizes,
                      a.bound, 'dynamic_slice')
    u_shape = tuple(g.integer(1, n) for n in a.shape)
    u = g.operand(lambda v: v.shape == u_shape and not v.py, lambda: u_shape)
    if u is None or u.shape != u_shape:
        return None
    return g.emit(f"lax.dynamic_update_slice({a.name}, {u.name}, {_starts(g, a.shape)})", a.shape,
                  max(a.bound, u.bound), 'dynamic_update_slice')


def op_cond(g):
    a = g.pick()
    if a is None:
        return None
    switch = g.integer(0, 2) == 0
    n_branches = g.integer(2, 3) if switch else 2
    closure = g.pick(lambda v: _into(v.shape, a.shape)) if g.flip() else None
    branches, bound = [], 0.0
    for k in range(n_branches):
        label, template, body_bound = g.choice(BODY)
        src, b = template.format('u'), body_bound(a.bound)
        if closure is not None and k == 0:   # a branch that closes over another value
            src, b = f"{src} * {closure.name}", b * closure.bound
        branches.append(f"lambda u: {src}")
        bound = max(bound, b)
    if switch:
        i = g.aux_input('index', (), lo=-1, hi=n_branches)
        if i is None:
            return None
        return g.emit(f"lax.switch({i}, [{', '.join(branches)}], {a.name})", a.shape, bound, 'switch')
    p = g.aux_input('mask', ())
    if p is None:
        return None
    return g.emit(f"lax.cond({p}, {branches[0]}, {branches[1]}, {a.name})", a.shape, bound, 'cond')


def op_fori_loop(g):
    a = g.pick()
    if a is None:
        return None
    lo = g.integer(0, 1)
    hi = lo + g.choice([0, 1, 2, 3])
    label, template, body_bound = g.choice([e for e in BODY if e[0] != 'square'])   # no blow-up
    body = template.format('c')
    b = g.pick(lambda v: _into(v.shape, a.shape))
    kind = g.integer(0, 2)
    if kind == 0 and b is not None:   # closes over another value
        expr, bound = f"jnp.tanh({body} * 0.5 + {b.name})", 1.0
    elif kind == 1:                   # uses the loop index
        expr, bound = f"{body} + i * 0.25", a.bound + 4.0
    else:
        expr, bound = f"c * 0.5 + jnp.sin({body})", a.bound + 2.0
    name = g.fresh()
    lines = [f"def body_{name}(i, c):", f"    return {expr}",
             f"{name} = lax.fori_loop({lo}, {hi}, body_{name}, {a.name})"]
    return g.emit_lines(lines, [Value(name, a.shape, max(bound, a.bound))],
                        'fori_loop' + (':zero_trips' if hi == lo else ''))


def op_scan(g):
    xs = g.pick(lambda v: v.rank >= 1, arrays=True)
    if xs is None:
        return None
    c_shape = xs.shape[1:]
    length = xs.shape[0]
    init = g.operand(lambda v: v.shape == c_shape and v is not xs, lambda: c_shape)
    if init is not None and init.shape == c_shape:
        init_src, init_bound = init.name, init.bound
    else:
        init_src, init_bound = f"jnp.zeros({_tuple(c_shape) if c_shape else '()'})", 0.0
    carry_kind = g.integer(0, 3)
    if carry_kind == 0:
        c_expr, c_bound = "jnp.tanh(c * 0.5 + x)", 1.0
    elif carry_kind == 1:
        c_expr, c_bound = "c * 0.5 + jnp.sin(x)", init_bound + 2.0
    elif carry_kind == 2:
        c_expr, c_bound = "c + x", init_bound + length * xs.bound
    else:
        c_expr, c_bound = "c * jnp.tanh(x)", init_bound
    c_bound = max(c_bound, init_bound)
    y_kind = g.integer(0, 2)
    y_expr, y_bound = [("c * x", c_bound * xs.bound), ("jnp.sin(c) + x", 1 + xs.bound),
                       ("c", c_bound)][y_kind]
    reverse = g.integer(0, 3) == 0
    name, ys = g.fresh(), g.fresh()
    lines = [f"def step_{name}(c, x):", f"    c = {c_expr}", f"    return c, {y_expr}",
             f"{name}, {ys} = lax.scan(step_{name}, {init_src}, {xs.name}"
             + (", reverse=True)" if reverse else ")")]
    return g.emit_lines(lines, [Value(name, c_shape, c_bound), Value(ys, xs.shape, y_bound)],
                        'scan' + (':reverse' if reverse else ''))


OPS = {
    'unary': (op_unary, 6), 'binary': (op_binary, 6), 'where': (op_where, 2), 'reduce': (op_reduce, 5),
    'cumulative': (op_cumulative, 1), 'reshape': (op_reshape, 2), 'transpose': (op_transpose, 1),
    'expand_squeeze': (op_expand_squeeze, 1), 'broadcast_to': (op_broadcast_to, 1), 'slice': (op_slice, 2),
    'flip': (op_flip, 1), 'concatenate': (op_concatenate, 1), 'stack': (op_stack, 1), 'pad': (op_pad, 1),
    'dot': (op_dot, 2), 'dot_general': (op_dot_general, 1), 'gather': (op_gather, 3),
    'scatter': (op_scatter, 3),
    'dynamic_slice': (op_dynamic_slice, 1), 'cond': (op_cond, 1), 'fori_loop': (op_fori_loop, 1),
    'scan': (op_scan, 1),
}


@st.composite
def programs(draw, min_ops=2, max_ops=8, max_size=MAX_SIZE, vocab=None, max_input_rank=3):
    """A random `Program` (see the module docstring); `vocab` restricts the op families."""
    vocab = sorted(vocab or OPS)
    weighted = [name for name in vocab for _ in range(OPS[name][1])]
    g = _Gen(draw, max_size)
    g.float_input(g.shape(0, max_input_rank))
    n_ops = g.integer(min_ops, max_ops)
    for _ in range(n_ops):
        for _attempt in range(8):
            if OPS[g.choice(weighted)][0](g) is not None:
                break
    produced = [v for v in g.values if v.name.startswith('v')]
    if not produced:   # every draw was refused: one sure op
        a = g.values[-1]
        produced = [g.emit(f"jnp.sin({a.name})", a.shape, 1.0, 'sin')]
    outputs = [produced[-1]]
    if len(produced) > 1 and g.integer(0, 3) == 0:
        outputs.append(produced[-2 - g.integer(0, len(produced) - 2)])
    return Program(list(g.inputs), list(g.lines), [v.name for v in outputs], [v.shape for v in outputs],
                   g.smooth, list(g.labels), g.vjp_is_transpose)


# --- values -----------------------------------------------------------------------------------------

F32 = np.finfo(np.float32)
EDGE_VALUES = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, F32.tiny, -F32.tiny, F32.smallest_subnormal,
                        -F32.smallest_subnormal, 1e-40, F32.max, -F32.max, 1.0, -1.0, 88.75, -104.0],
                       dtype=np.float32)


# What XLA:CPU computes differently on purpose (it flushes subnormal inputs and results to
# zero; it sums and multiplies in another order) is left out of the values compared with JAX.
JAX_EDGE_VALUES = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 88.75, -104.0],
                           dtype=np.float32)


def _floats(rng, shape, domain):
    if domain == 'smooth':
        return rng.uniform(-2, 2, shape).astype(np.float32)
    style = rng.integers(0, 5)
    edges = EDGE_VALUES
    if domain == 'edge_for_jax':
        style, edges = (0 if style == 2 else style), JAX_EDGE_VALUES
    x = rng.uniform(-2, 2, shape)
    if style == 1:     # ties: comparisons, max and sort see equal values
        x = rng.integers(-2, 3, shape) * 0.5
    elif style == 2:   # wide magnitudes, subnormal to huge
        x = x * 10.0 ** rng.integers(-44, 39, shape)
    elif style >= 3:   # sprinkled edge values
        mask = rng.random(shape) < (0.3 if style == 3 else 0.8)
        x = np.where(mask, rng.choice(edges, shape), x)
    return np.asarray(x, dtype=np.float32)


def _indices(rng, inp):
    shape, n = inp.shape, inp.unique
    if not n:
        return rng.integers(inp.lo, inp.hi + 1, shape).astype(np.int32)
    k = _size(shape)
    oob = [v for v in range(inp.lo, inp.hi + 1) if not -n <= v < n]
    positions = list(rng.permutation(n))
    out = []
    for _ in range(k):   # distinct positions (either sign), out-of-bounds ones are dropped
        if positions and (not oob or rng.random() < 0.7):
            p = int(positions.pop())
            out.append(p - n if rng.random() < 0.3 else p)
        else:
            out.append(int(rng.choice(oob)))
    return np.array(out, dtype=np.int32).reshape(shape)


def draw_arg(rng, inp, domain):
    """One argument: a float32 array, a Python float, an int32 array or a bool array.
    domain: 'smooth', 'edge', or 'edge_for_jax' (edge values without subnormals, the
    smallest normal and largest finite floats, and wide magnitudes: see JAX_EDGE_VALUES)."""
    if inp.kind == 'float':
        return _floats(rng, inp.shape, domain)
    if inp.kind == 'weak':
        return float(_floats(rng, (), domain))
    if inp.kind == 'index':
        return _indices(rng, inp)
    return rng.random(inp.shape) < 0.5


def draw_args(rng, prog, domain):
    return [draw_arg(rng, inp, domain) for inp in prog.inputs]


def args_source(prog, args):
    """Python source that recreates `args` (for a pasteable repro)."""
    lines = []
    for inp, a in zip(prog.inputs, args):
        if inp.kind == 'weak':
            lines.append(f"{inp.name} = {float(a)!r}")
            continue
        a = np.asarray(a)
        text = np.array2string(a, separator=', ', floatmode='unique', threshold=10 ** 6,
                               max_line_width=100)
        dtype = {'float': 'np.float32', 'index': 'np.int32', 'mask': 'bool'}[inp.kind]
        lines.append(f"{inp.name} = jnp.asarray(np.array({text}, dtype={dtype}))")
    return '\n'.join(lines)
