"""The colour legend: the one table every graph and docs/viz.md draw from.

An equation's colour says which part of a transformation produced it (its
`JaxprEqn.tag`); a node's shape says what kind of value it is. `tests/test_viz.py`
checks that docs/viz.md lists exactly these rows, so change both together.
"""
import html
from typing import NamedTuple


class Style(NamedTuple):
    fill: str
    border: str
    meaning: str


# Equation roles, from JaxprEqn.tag (core.TAG_PRIORITY names the same four).
ROLES = {
    'primal': Style('#dbeafe', '#1d4ed8', "the function's own computation"),
    'tangent': Style('#dcfce7', '#15803d', "forward mode (JVP): tangents x_dot pushed forward"),
    'cotangent': Style('#ffedd5', '#c2410c',
                       "backward pass (transpose): cotangents ct pulled back"),
    'batched': Style('#f3e8ff', '#7e22ce',
                     "vmap: one equation for the whole batch; edges say bdim"),
}

# Value nodes and clusters.
KINDS = {
    'input': Style('#fef9c3', '#a16207', "an argument of the function (ellipse)"),
    'constant': Style('#f3f4f6', '#6b7280', "a captured array or an inline literal (note)"),
    'output': Style('#ffffff', '#111827', "a result of the function (double ellipse)"),
    'sub-jaxpr': Style('#ffffff', '#6b7280',
                       "a nested jaxpr: jit (dashed box); cond branches, loop bodies (dotted)"),
    'kernel': Style('#fffbeb', '#b45309', "a compiled kernel: the equations it fuses (bold box)"),
    'BLAS': Style('#ffffff', '#0f766e',
                  "dot_general: one BLAS matrix-multiply call (thick teal double border)"),
    'dead': Style('#e5e7eb', '#9ca3af',
                  "an equation nothing needs; the jit backends drop it (grey, dashed)"),
    'scope': Style('#f8fafc', '#475569',
                   "a named_scope or Python function: the equations it recorded (solid box)"),
    'index': Style('#f5f5f4', '#78716c',
                   "index bookkeeping on integers and masks, folded into one node (hexagon)"),
}

SHAPES = {'input': 'ellipse', 'constant': 'note', 'output': 'ellipse', 'index': 'hexagon',
          'scope': 'box3d'}


def role_style(tag):
    """The style of an equation tag; an unknown tag is an error that lists the known ones."""
    try:
        return ROLES[tag]
    except KeyError:
        raise ValueError(f"unknown equation tag {tag!r}: viz colours the tags "
                         f"{', '.join(ROLES)} (see viz/legend.py and docs/viz.md)") from None


def legend_label(roles, kinds):
    """An HTML-like Graphviz label: one row per role or kind used in the graph."""
    rows = [(name, ROLES[name]) for name in ROLES if name in roles]
    rows += [(name, KINDS[name]) for name in KINDS if name in kinds]
    esc = lambda text: html.escape(text, quote=False)
    cells = ''.join(f'<tr><td bgcolor="{s.fill}" color="{s.border}" border="1">{esc(name)}</td>'
                    f'<td align="left">{esc(s.meaning)}</td></tr>' for name, s in rows)
    return (f'<<table border="0" cellborder="0" cellspacing="3" cellpadding="3">'
            f'<tr><td colspan="2"><b>legend</b></td></tr>{cells}</table>>')


def markdown_table():
    """The legend as the Markdown table in docs/viz.md."""
    lines = ['| name | fill | border | meaning |', '|---|---|---|---|']
    for name, s in [*ROLES.items(), *KINDS.items()]:
        lines.append(f'| {name} | `{s.fill}` | `{s.border}` | {s.meaning} |')
    return '\n'.join(lines)
