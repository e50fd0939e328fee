"""The differentiation API: jvp, linearize, vjp, grad, value_and_grad, jacfwd, jacrev, hessian.

How they are built from the three transformations:

    jvp        forward mode (jvp.py)
    linearize  jvp with the primals known and the tangents unknown: partial
               evaluation (partial_eval.py) computes the primal output and
               records the linear tangent map as a jaxpr
    vjp        linearize, then run that jaxpr backwards (transpose.py)
    grad       vjp of a scalar function with the cotangent 1.0
    jacfwd     jvp mapped (vmap) over the standard basis of the inputs
    jacrev     vjp mapped (vmap) over the standard basis of the outputs
    hessian    jacfwd(jacrev(f))

    >>> grad(lambda x: x ** 3)(2.0)
    Array(12., dtype=float32, weak_type=True)

This module also checks what users pass in (tangents, cotangents, argnums,
`has_aux` results) so that a mistake is reported here, naming the fix.
"""
import numpy as np

from . import dtypes, lax, numpy as jnp, tree_util
from .ad_util import Zero, instantiate_zeros, tangent_aval, zeros_like_aval
from .array import Array, as_array
from .batching import vmap
from .core import Tracer, get_aval
from .device_array import put_like
from .jaxpr import eval_jaxpr, fun_name
from .jvp import jvp_flat
from .partial_eval import PartialVal, trace_partial
from .transpose import UndefPrimal, backward_pass

__all__ = ['jvp', 'linearize', 'vjp', 'grad', 'value_and_grad', 'jacfwd', 'jacrev', 'jacobian',
           'hessian']


# --- what users pass in: tangents, functions with aux ------------------------------------------

def _is_float(x):
    return dtypes.is_float(get_aval(x).dtype)


def check_tangent(primal_aval, t, who):
    """A tangent for a value of `primal_aval`: same shape, the tangent dtype.
    Returns it as an Array, or as a Zero for integer/bool primals."""
    if not isinstance(t, np.ndarray) or t.dtype != dtypes.float0:
        t = as_array(t)
    if tuple(primal_aval.shape) != tuple(t.shape):
        raise ValueError(f"{who} called with different primal and tangent shapes: primal shape "
                         f"{primal_aval.shape} and tangent shape {tuple(t.shape)}. Each "
                         "tangent must have the shape of its primal.")
    expected, got = tangent_aval(primal_aval).dtype, np.dtype(t.dtype)
    if got != expected:
        hint = ("use np.zeros(shape, dtype=tinygrad_tracer.dtypes.float0) as the tangent "
                "of an integer or bool input" if expected == dtypes.float0 else
                f"cast the tangent, e.g. v.astype(jnp.{expected.name})")
        raise TypeError(f"primal and tangent arguments to {who} do not match: primal dtype "
                        f"{primal_aval.dtype.name} needs tangent dtype {_dtype_name(expected)}, "
                        f"but the tangent has dtype {_dtype_name(got)}; {hint}.")
    return Zero(tangent_aval(primal_aval)) if expected == dtypes.float0 else t


def _dtype_name(dtype):
    return 'float0' if dtype == dtypes.float0 else dtype.name


def _type_str(x):
    """`float32[3]`: the type of a value or aval, as messages about (co)tangents say it."""
    return f"{_dtype_name(np.dtype(x.dtype))}{list(x.shape)}"


def describe_value(x):
    """What a function returned, for messages: `a tuple of length 3`, `a single array f32[]`."""
    if isinstance(x, (tuple, list, dict)):
        return f"a {type(x).__name__} of length {len(x)}"
    aval = getattr(x, 'aval', None)
    return f"a single array {aval.str_short()}" if aval is not None else f"a {type(x).__name__}"


class AuxInfo:
    """What `flatten_fun_aux` learns when the function runs: the output's tree, how
    many flat outputs are the output proper (`n_out`), and how to rebuild aux."""
    _TRACED = object()   # marks an aux leaf that is an array (and so a flat output)

    def __init__(self):
        self.out_tree = self.n_out = self.aux_tree = self.aux_static = None

    def record(self, out_tree, n_out, aux_leaves, aux_tree):
        """Note the function's outputs; returns aux's array leaves (flat outputs too)."""
        self.out_tree, self.n_out, self.aux_tree = out_tree, n_out, aux_tree
        self.aux_static = [self._TRACED if _is_value(x) else x for x in aux_leaves]
        return [x for x in aux_leaves if _is_value(x)]

    def aux(self, values):
        """aux from its array leaves (the flat outputs after the first n_out)."""
        values = iter(values)
        return tree_util.tree_unflatten(self.aux_tree, [next(values) if s is self._TRACED else s
                                                        for s in self.aux_static])


def _is_value(x):
    return isinstance(x, (Array, Tracer, np.ndarray, np.generic, bool, int, float))


def flatten_fun_aux(fun, in_tree, has_aux, who):
    """Like tree_util.flatten_fun, but with `has_aux` the function returns
    `(out, aux)`: the flat outputs are out's leaves then aux's array leaves
    (aux may also hold any other Python objects, which pass through).
    Returns `(flat_fun, info)`: an AuxInfo, filled in when flat_fun runs."""
    info = AuxInfo()

    def flat_fun(*leaves):
        result = fun(*tree_util.tree_unflatten(in_tree, leaves))
        aux = None
        if has_aux:
            if not (isinstance(result, (tuple, list)) and len(result) == 2):
                raise TypeError(
                    f"{who}(..., has_aux=True) requires the function to return a pair "
                    f"(output, aux), but it returned {describe_value(result)}. Return a tuple "
                    "`return out, aux`, or drop has_aux=True if there is no auxiliary data.")
            result, aux = result
        out_leaves, out_tree = tree_util.tree_flatten(result)
        aux_leaves, aux_tree = tree_util.tree_flatten(aux)
        return out_leaves + info.record(out_tree, len(out_leaves), aux_leaves, aux_tree)

    return flat_fun, info


# --- jvp --------------------------------------------------------------------------------------

def jvp(fun, primals, tangents, has_aux=False):
    """Evaluate `fun` and its Jacobian-vector product at `primals` along `tangents`.

    `primals` and `tangents` are tuples (or lists) of pytrees with the same
    structure, shapes and dtypes. Returns `(fun(*primals), J @ tangents)`, or
    `(out, tangent_out, aux)` with `has_aux=True` (fun returns `(out, aux)`).

        >>> jvp(lambda x: x ** 2, (3.0,), (1.0,))
        (Array(9., dtype=float32, weak_type=True), Array(6., dtype=float32, weak_type=True))
    """
    primals_flat, tangents_flat, in_tree = _check_jvp_args(primals, tangents)
    flat_fun, info = flatten_fun_aux(fun, in_tree, has_aux, 'jvp')
    outs, t_outs = jvp_flat(flat_fun, primals_flat, tangents_flat)
    outs = [as_array(o) for o in outs]
    out = tree_util.tree_unflatten(info.out_tree, outs[:info.n_out])
    t_out = tree_util.tree_unflatten(info.out_tree, [instantiate_zeros(t) for t in t_outs[:info.n_out]])
    if has_aux:
        return out, t_out, info.aux(outs[info.n_out:])
    return out, t_out


def _check_jvp_args(primals, tangents):
    """Flatten and validate jvp's arguments; returns (primals, tangents, in_tree)."""
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("primal and tangent arguments to jvp must be tuples or lists, one "
                        f"entry per argument of the function; found {type(primals).__name__} "
                        f"and {type(tangents).__name__}. Write jvp(f, (x,), (v,)), not jvp(f, x, v).")
    primals_flat, in_tree = tree_util.tree_flatten(tuple(primals))
    tangents_flat, t_tree = tree_util.tree_flatten(tuple(tangents))
    if in_tree != t_tree:
        raise TypeError("primal and tangent arguments to jvp must have the same tree structure; "
                        f"primals have tree structure {in_tree} whereas tangents have tree "
                        f"structure {t_tree}.")
    primals_flat = [as_array(p) for p in primals_flat]
    tangents_flat = [check_tangent(get_aval(p), t, 'jvp') for p, t in zip(primals_flat, tangents_flat)]
    return primals_flat, tangents_flat, in_tree


# --- linearize: the engine under vjp and grad ------------------------------------------------

def linearize_flat(flat_fun, primals, num_differentiated=None):
    """Linearize a flat function at `primals`.

    Returns `(primals_out, linear)`: `linear` is a ClosedJaxpr from the tangents
    of the float inputs to the tangents of the float outputs (integer and bool
    values have no tangents). Only the first `num_differentiated()` outputs get
    tangents (the rest are auxiliary data); default: all.
    """
    n_in = len(primals)
    in_float = [_is_float(p) for p in primals]
    n_tangents_out = None   # known once the function has run

    def primal_and_tangent(*args):
        nonlocal n_tangents_out
        xs, ts = args[:n_in], iter(args[n_in:])
        tangents = [next(ts) if fl else Zero.like(x) for x, fl in zip(xs, in_float)]
        outs, t_outs = jvp_flat(flat_fun, xs, tangents)
        n = len(outs) if num_differentiated is None else num_differentiated()
        t_outs = [instantiate_zeros(t) for o, t in zip(outs[:n], t_outs) if _is_float(o)]
        n_tangents_out = len(t_outs)
        return list(outs) + t_outs

    pvals_in = ([PartialVal.known(p) for p in primals] +
                [PartialVal.unknown(tangent_aval(get_aval(p))) for p, fl in zip(primals, in_float) if fl])
    # The primal outputs stay known; every tangent output is part of the linear map.
    pvals_out, linear = trace_partial(
        primal_and_tangent, pvals_in,
        lambda n_out: [False] * (n_out - n_tangents_out) + [True] * n_tangents_out)
    return [p.const for p in pvals_out[:len(pvals_out) - n_tangents_out]], linear


def _zero_cotangent(aval):
    return zeros_like_aval(tangent_aval(aval))


def _cast_like(ct, aval):
    """Give a cotangent the exact dtype and weak type of its primal (grad(f)(1.0) is weak)."""
    if isinstance(ct, Zero):
        return _zero_cotangent(aval)
    ct_aval = get_aval(ct)
    if (ct_aval.dtype, ct_aval.weak_type) != (aval.dtype, aval.weak_type):
        return lax.convert_element_type(ct, aval.dtype, aval.weak_type)
    return ct


# --- linearize and vjp ------------------------------------------------------------------------

def linearize(fun, *primals):
    """`(fun(*primals), f_jvp)` where `f_jvp(*tangents)` is the JVP at `primals`,
    evaluated from a recorded linear jaxpr, `f_jvp.jaxpr` (the primal work is done once).

        >>> y, f_jvp = linearize(jnp.sin, 0.0)
        >>> f_jvp(2.0)
        Array(2., dtype=float32, weak_type=True)
        >>> f_jvp.jaxpr
        { lambda ; a:f32[]. let b:f32[] = mul a 1.0:f32[] in (b,) }
    """
    primals_flat, in_tree = tree_util.tree_flatten(primals)
    primals_flat = [as_array(p) for p in primals_flat]
    flat_fun, out_tree = tree_util.flatten_fun(fun, in_tree)
    outs, linear = linearize_flat(flat_fun, primals_flat)
    outs = [as_array(o) for o in outs]
    in_avals = [get_aval(p) for p in primals_flat]

    def f_jvp(*tangents):
        t_flat, t_tree = tree_util.tree_flatten(tangents)
        if t_tree != in_tree:
            raise TypeError(f"linearize's f_jvp takes tangents with the structure of the "
                            f"primals, {in_tree}, but got {t_tree}.")
        t_flat = [check_tangent(a, t, 'linearize') for a, t in zip(in_avals, t_flat)]
        t_outs = iter(eval_jaxpr(linear.jaxpr, linear.consts,
                                 *[t for t in t_flat if not isinstance(t, Zero)]))
        return tree_util.tree_unflatten(out_tree(), [
            next(t_outs) if _is_float(o) else _zero_cotangent(get_aval(o)) for o in outs])

    f_jvp.jaxpr = linear   # the recorded linear map, to print or draw
    return tree_util.tree_unflatten(out_tree(), outs), f_jvp


def vjp(fun, *primals, has_aux=False):
    """`(fun(*primals), f_vjp)`: `f_vjp(ct)` pulls a cotangent of the output (same
    structure, shapes and dtypes) back to a tuple of cotangents, one per primal.
    With `has_aux=True`, `fun` returns `(out, aux)` and vjp returns `(out, f_vjp, aux)`.

        >>> y, f_vjp = vjp(lambda x: x * x, 3.0)
        >>> f_vjp(1.0)
        (Array(6., dtype=float32, weak_type=True),)
    """
    return _vjp(fun, primals, has_aux, 'vjp')


def _vjp(fun, primals, has_aux, who):
    primals_flat, in_tree = tree_util.tree_flatten(primals)
    primals_flat = [as_array(p) for p in primals_flat]
    flat_fun, info = flatten_fun_aux(fun, in_tree, has_aux, who)
    outs, linear = linearize_flat(flat_fun, primals_flat, lambda: info.n_out)
    outs = [as_array(o) for o in outs]
    out_tree, outs, aux = info.out_tree, outs[:info.n_out], outs[info.n_out:]
    in_avals = [get_aval(p) for p in primals_flat]
    out_avals = [get_aval(o) for o in outs]

    def f_vjp(ct):
        cts = _check_cotangent(ct, out_tree, out_avals, fun)
        undefined = [UndefPrimal(a) for a in linear.in_avals]
        cts_in = iter(backward_pass(linear.jaxpr, linear.consts, undefined,
                                    [c for c, a in zip(cts, out_avals) if dtypes.is_float(a.dtype)]))
        return tree_util.tree_unflatten(in_tree, [
            _cast_like(next(cts_in), a) if dtypes.is_float(a.dtype) else _zero_cotangent(a)
            for a in in_avals])

    out = tree_util.tree_unflatten(out_tree, outs)
    if has_aux:
        return out, f_vjp, info.aux(aux)
    return out, f_vjp


def _check_cotangent(ct, out_tree, out_avals, fun):
    cts, ct_tree = tree_util.tree_flatten(ct)
    if ct_tree != out_tree:
        raise ValueError(f"The cotangent passed to the function returned by vjp must have the "
                         f"structure of {fun_name(fun)}'s output, {out_tree}, but it has structure "
                         f"{ct_tree}.")
    checked = []
    for c, a in zip(cts, out_avals):
        c = c if isinstance(c, np.ndarray) and c.dtype == dtypes.float0 else as_array(c)
        want = tangent_aval(a)
        # An integer or bool output has no derivative: as in JAX, its cotangent is
        # ignored, so any dtype is accepted (float0, or e.g. 1.0 from a generic caller).
        dtype_ok = want.dtype == dtypes.float0 or np.dtype(c.dtype) == want.dtype
        if tuple(c.shape) != want.shape or not dtype_ok:
            raise ValueError(f"The cotangent passed to the function returned by vjp has type "
                             f"{_type_str(c)}, but the corresponding output of {fun_name(fun)} has "
                             f"type {_type_str(want)}: a cotangent must match its output's "
                             "shape and dtype (e.g. jnp.ones_like(out)).")
        checked.append(c)
    return checked


# --- grad ---------------------------------------------------------------------------------------

def grad(fun, argnums=0, has_aux=False, allow_int=False):
    """The gradient of a scalar function with respect to argument(s) `argnums`.

    Returns a function with fun's signature that returns the gradient (with the
    structure of the argument; a tuple of them when `argnums` is a tuple), or
    `(gradient, aux)` with `has_aux=True`.

        >>> grad(lambda x, y: x * y, argnums=(0, 1))(2.0, 3.0)
        (Array(3., dtype=float32, weak_type=True), Array(2., dtype=float32, weak_type=True))
    """
    value_and_grad_f = value_and_grad(fun, argnums, has_aux, allow_int, _who='grad')

    def grad_f(*args, **kwargs):
        (_, aux), g = _split_aux(value_and_grad_f(*args, **kwargs), has_aux)
        return (g, aux) if has_aux else g

    grad_f.__name__ = f"grad({fun_name(fun)})"
    grad_f.__wrapped__ = fun
    return grad_f


def _split_aux(result, has_aux):
    value, g = result
    return (value if has_aux else (value, None)), g


def value_and_grad(fun, argnums=0, has_aux=False, allow_int=False, _who='value_and_grad'):
    """Like `grad`, but returns `(fun(*args), gradient)` (with `has_aux=True`:
    `((value, aux), gradient)`).

        >>> value_and_grad(lambda x: x ** 2)(3.0)
        (Array(9., dtype=float32, weak_type=True), Array(6., dtype=float32, weak_type=True))
    """
    def value_and_grad_f(*args, **kwargs):
        f_partial, dyn = _argnums_partial(fun, argnums, args, kwargs, _who)
        _check_inputs(dyn, allow_int, _who)
        out, f_vjp, *aux = _vjp(f_partial, dyn, has_aux, _who)
        _check_scalar(out, _who)
        aval = get_aval(out)
        g = f_vjp(put_like(Array(np.ones((), aval.dtype), aval.weak_type), out))   # where out is
        g = g[0] if isinstance(argnums, int) else g
        return ((out, aux[0]) if has_aux else out), g

    value_and_grad_f.__name__ = f"{_who}({fun_name(fun)})"
    value_and_grad_f.__wrapped__ = fun
    return value_and_grad_f


def _argnums_partial(fun, argnums, args, kwargs, who):
    """`fun` as a function of the arguments at `argnums` only (the others fixed),
    and those arguments as a tuple."""
    nums = (argnums,) if isinstance(argnums, int) else argnums
    if not isinstance(nums, (tuple, list)) or not all(isinstance(i, int) for i in nums) or not nums:
        raise TypeError(f"{who}: argnums must be an int or a non-empty tuple of ints, got {argnums!r}.")
    n = len(args)
    bad = [i for i in nums if not -n <= i < n]
    if bad:
        raise TypeError(f"differentiating with respect to argnums={argnums} requires at least "
                        f"{max(i if i >= 0 else -i - 1 for i in bad) + 1} positional arguments "
                        f"to be passed by the caller, but got only {n} positional arguments. "
                        "Pass the argument positionally (not as a keyword), or fix argnums.")
    nums = tuple(i % n for i in nums)

    def f_partial(*dyn):
        full = list(args)
        for i, x in zip(nums, dyn):
            full[i] = x
        return fun(*full, **kwargs)

    return f_partial, tuple(args[i] for i in nums)


def _check_inputs(dyn, allow_int, who):
    for x in tree_util.tree_leaves(dyn):
        dtype = get_aval(x).dtype
        if not dtypes.is_float(dtype) and not allow_int:
            raise TypeError(
                f"{who} requires real-valued inputs (input dtype that is a sub-dtype of "
                f"np.floating), but got {dtype.name}. If you want to use integer-valued "
                "inputs, use vjp or set allow_int to True. To differentiate with respect "
                "to this input, make it a float: pass 1.0 instead of 1, or "
                "x.astype(jnp.float32).")


def _check_scalar(out, who):
    fix = ("To differentiate a function with a non-scalar output, use jacrev or jacfwd "
           "(the full Jacobian) or vjp (vector-Jacobian products); if the other values "
           "are auxiliary data, return (scalar, aux) and pass has_aux=True.")
    if isinstance(out, (tuple, list, dict)) or not hasattr(out, 'dtype'):
        raise TypeError(f"Gradient only defined for scalar-output functions. Output was "
                        f"{describe_value(out)}. {fix}")
    aval = get_aval(out)
    if aval.shape != ():
        raise TypeError(f"Gradient only defined for scalar-output functions. Output had shape: "
                        f"{aval.shape}. {fix}")
    if not dtypes.is_float(aval.dtype):
        raise TypeError(f"{who} requires real-valued outputs (output dtype that is a sub-dtype "
                        f"of np.floating), but got {aval.dtype.name}. Return a float, e.g. "
                        "out.astype(jnp.float32).")


# --- Jacobians -----------------------------------------------------------------------------------

def _std_basis(leaves):
    """The standard basis of the space of `leaves`, one slice per leaf: leaf i
    gets shape (N, *leaf.shape), N the total size, rows of the identity."""
    sizes = [get_aval(x).size for x in leaves]
    total, start, basis = sum(sizes), 0, []
    for x, n in zip(leaves, sizes):
        aval = get_aval(x)
        rows = np.zeros((total, n), aval.dtype)
        rows[start:start + n] = np.eye(n, dtype=aval.dtype)
        basis.append(Array(rows.reshape((total,) + aval.shape)))
        start += n
    return basis


def _split_rows(x, sizes, shapes):
    """Cut a (N, ...) array into len(sizes) blocks of rows, reshaped to shapes[k] + rest."""
    out, start = [], 0
    for n, shape in zip(sizes, shapes):
        block = x[start:start + n]
        out.append(jnp.reshape(block, tuple(shape) + tuple(block.shape[1:])))
        start += n
    return out


def _jac_tree(out_tree, in_tree, blocks):
    """blocks[j][i]: the Jacobian of output leaf j w.r.t. input leaf i, as a tree
    of output structure whose leaves are trees of input structure."""
    return tree_util.tree_unflatten(out_tree, [tree_util.tree_unflatten(in_tree, row) for row in blocks])


def _require_float(leaves, what, who):
    for x in leaves:
        if not _is_float(x):
            raise TypeError(f"{who} requires real-valued {what} (a sub-dtype of np.floating), "
                            f"but got {get_aval(x).dtype.name}. Cast it, e.g. x.astype(jnp.float32).")


def jacfwd(fun, argnums=0, has_aux=False):
    """The Jacobian of `fun` by forward mode: one JVP per input element, vmapped.
    Leaf shapes are `out.shape + in.shape`.

        >>> jacfwd(lambda x: x ** 2)(jnp.array([1., 2.]))
        Array([[2., 0.],
               [0., 4.]], dtype=float32)
    """

    def jacfun(*args, **kwargs):
        f_partial, dyn = _argnums_partial(fun, argnums, args, kwargs, 'jacfwd')
        target = dyn[0] if isinstance(argnums, int) else dyn
        in_leaves, in_tree = tree_util.tree_flatten(target)
        in_leaves = [as_array(x) for x in in_leaves]
        _require_float(in_leaves, 'inputs', 'jacfwd')
        primals = tree_util.tree_unflatten(in_tree, in_leaves)
        wrap = (lambda t: (t,)) if isinstance(argnums, int) else tuple

        def push(*basis_leaves):
            tangents = wrap(tree_util.tree_unflatten(in_tree, basis_leaves))
            res = jvp(f_partial, wrap(primals), tangents, has_aux=has_aux)
            return (res[1], res[2]) if has_aux else res[1]

        res = vmap(push, out_axes=(0, None) if has_aux else 0)(*_std_basis(in_leaves))
        jac, aux = res if has_aux else (res, None)
        jac_leaves, out_tree = tree_util.tree_flatten(jac)
        sizes = [get_aval(x).size for x in in_leaves]
        shapes = [get_aval(x).shape for x in in_leaves]
        blocks = []
        for j in jac_leaves:   # (N, *out): one (*out, *in_i) block per input leaf
            row = []
            for block, shape in zip(_split_rows(j, sizes, [(n,) for n in sizes]), shapes):
                block = jnp.moveaxis(block, 0, -1)
                row.append(jnp.reshape(block, block.shape[:-1] + tuple(shape)))
            blocks.append(row)
        out = _jac_tree(out_tree, in_tree, blocks)
        return (out, aux) if has_aux else out

    jacfun.__name__ = f"jacfwd({fun_name(fun)})"
    return jacfun


def jacrev(fun, argnums=0, has_aux=False):
    """The Jacobian of `fun` by reverse mode: one VJP per output element, vmapped.
    Leaf shapes are `out.shape + in.shape`.

        >>> jacrev(lambda x: x ** 2)(jnp.array([1., 2.]))
        Array([[2., 0.],
               [0., 4.]], dtype=float32)
    """

    def jacfun(*args, **kwargs):
        f_partial, dyn = _argnums_partial(fun, argnums, args, kwargs, 'jacrev')
        _require_float(tree_util.tree_leaves(dyn), 'inputs', 'jacrev')
        out, f_vjp, *aux = _vjp(f_partial, dyn, has_aux, 'jacrev')
        out_leaves, out_tree = tree_util.tree_flatten(out)
        _require_float(out_leaves, 'outputs', 'jacrev')
        cts = vmap(lambda *b: f_vjp(tree_util.tree_unflatten(out_tree, b)))(*_std_basis(out_leaves))
        cts = cts[0] if isinstance(argnums, int) else cts
        ct_leaves, in_tree = tree_util.tree_flatten(cts)
        sizes = [get_aval(o).size for o in out_leaves]
        shapes = [get_aval(o).shape for o in out_leaves]
        columns = [_split_rows(c, sizes, shapes) for c in ct_leaves]   # per input leaf
        blocks = [list(row) for row in zip(*columns)] if columns else [[] for _ in out_leaves]
        jac = _jac_tree(out_tree, in_tree, blocks)
        return (jac, aux[0]) if has_aux else jac

    jacfun.__name__ = f"jacrev({fun_name(fun)})"
    return jacfun


jacobian = jacrev   # JAX's other name for it


def hessian(fun, argnums=0, has_aux=False):
    """The Hessian, as `jacfwd(jacrev(fun))` (forward over reverse).

        >>> hessian(lambda x: (x ** 3).sum())(jnp.array([1., 2.]))
        Array([[ 6.,  0.],
               [ 0., 12.]], dtype=float32)
    """
    return jacfwd(jacrev(fun, argnums, has_aux), argnums, has_aux)
