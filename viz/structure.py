"""What a graph can grey out, fold or group: pure functions of a jaxpr, no drawing.

    >>> closed = make_jaxpr(tt.grad(loss))(params, x, labels)
    >>> dead_eqns(closed.jaxpr)       # indices of equations nothing needs
    >>> index_eqns(closed.jaxpr)      # indices of integer / boolean bookkeeping
    >>> group_path(closed.eqns[0], 'scope')
    ('layer0',)

Each rule is stated once here, so the picture, the docs and the tests agree.
"""
import os

import numpy as np

from tinygrad_tracer import jaxpr as jx

# Kept for their effect even when nothing reads their results (the backends keep them too).
EFFECTFUL = {'debug_callback'}


def sub_jaxprs(params):
    """(label, ClosedJaxpr-or-Jaxpr) for every jaxpr among an equation's params:
    `jaxpr`, `branches[0]`, `body_jaxpr`, ..."""
    subs = []
    for k, v in sorted(params.items()):
        if isinstance(v, (jx.Jaxpr, jx.ClosedJaxpr)):
            subs.append((k, v))
        elif isinstance(v, (list, tuple)):
            subs += [(f"{k}[{i}]", s) for i, s in enumerate(v)
                     if isinstance(s, (jx.Jaxpr, jx.ClosedJaxpr))]
    return subs


def open_jaxpr(j):
    """(Jaxpr, consts) of a Jaxpr or ClosedJaxpr."""
    return (j.jaxpr, j.consts) if isinstance(j, jx.ClosedJaxpr) else (j, [])


def has_effect(eqn):
    """Does `eqn` (or a jaxpr nested in it) do something besides computing its results?"""
    return eqn.primitive.name in EFFECTFUL or any(
        has_effect(e) for _, s in sub_jaxprs(eqn.params) for e in open_jaxpr(s)[0].eqns)


def dead_eqns(jaxpr):
    """Indices of the equations whose results nothing needs: not an output, and read
    only by dead equations (the printer writes their unused results `_`; the jit
    backends drop them). An equation with an effect (debug_callback) is never dead."""
    live = {x for x in jaxpr.outvars if isinstance(x, jx.Var)}
    dead = set()
    for i in range(len(jaxpr.eqns) - 1, -1, -1):
        eqn = jaxpr.eqns[i]
        if has_effect(eqn) or any(v in live for v in eqn.out_binders):
            live.update(x for x in eqn.inputs if isinstance(x, jx.Var))
        else:
            dead.add(i)
    return dead


def is_index_aval(aval):
    """Integer or boolean: the values of index arithmetic and masks."""
    return np.issubdtype(aval.dtype, np.integer) or np.dtype(aval.dtype) == np.bool_


def index_eqns(jaxpr):
    """Indices of the index-bookkeeping equations: those that compute on integers and
    booleans only (every input and every result is int or bool: `iota`, arithmetic on
    integer labels, comparisons of indices, the concatenated indices of a gather,
    broadcasts of integer literals), and a `convert_element_type` of such a result
    (an integer one-hot mask turned into floats). A comparison of floats (`gt x 0.0`,
    the mask of relu) reads float data, so it is not bookkeeping."""
    found, made = set(), set()   # eqn indices; the variables they produce
    for i, eqn in enumerate(jaxpr.eqns):
        if sub_jaxprs(eqn.params) or not eqn.out_binders:
            continue
        ints = all(is_index_aval(x.aval) for x in [*eqn.inputs, *eqn.out_binders])
        one_hot = (eqn.primitive.name == 'convert_element_type'
                   and isinstance(eqn.inputs[0], jx.Var) and eqn.inputs[0] in made)
        if ints or one_hot:
            found.add(i)
            made.update(eqn.out_binders)
    return found


def connected(jaxpr, members):
    """{eqn index: its component} for the equation indices `members`, two equations being
    connected when one reads a result of the other; a component is named by its first
    equation's index."""
    parent = {i: i for i in members}

    def root(i):
        while parent[i] != i:
            i = parent[i]
        return i
    made_by = {}
    for i in sorted(members):
        eqn = jaxpr.eqns[i]
        for x in eqn.inputs:
            if isinstance(x, jx.Var) and x in made_by:
                a, b = root(made_by[x]), root(i)
                parent[max(a, b)] = min(a, b)
        made_by.update((v, i) for v in eqn.out_binders)
    return {i: root(i) for i in members}


GROUP_BY = (None, 'scope', 'function')


def check_group_by(by):
    if by not in GROUP_BY:
        raise ValueError(f"group_by={by!r}: viz groups equations by 'scope' (named_scope), "
                         f"'function' (the Python function that recorded them) or None")


def group_path(eqn, by):
    """The nested clusters `eqn` is drawn in, outermost first: its `named_scope`s
    (`by='scope'`) or the Python function that recorded it (`by='function'`); backward
    work (cotangent equations) in clusters of their own, named `... · backward`.
    () when it was recorded outside any scope, or without source info."""
    check_group_by(by)
    info = eqn.source_info
    if by is None or info is None:
        return ()
    names = info.name_stack if by == 'scope' else (
        f"{info.function}()  {os.path.basename(info.file)}",)
    if eqn.tag == 'cotangent':
        names = tuple(f"{n} · backward" for n in names)
    return names
