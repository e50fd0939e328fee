"""Writing graphs to files, and a clear error when Graphviz's `dot` is missing."""
import os

import graphviz

from .graph import graph

INSTALL_HINT = ("Install Graphviz, which provides it: `apt-get install graphviz` (Debian/Ubuntu), "
                "`brew install graphviz` (macOS) or `conda install -c conda-forge graphviz`. "
                "The DOT text needs no install: use `viz.graph(...).source` or save to a "
                ".dot file.")

FORMATS = ('svg', 'png', 'pdf', 'dot')


class GraphvizNotInstalled(RuntimeError):
    """The Graphviz `dot` program, which lays out and draws graphs, was not found."""


def pipe(digraph, fmt):
    """The bytes of `digraph` drawn as `fmt` ('svg', 'png', 'pdf'); DOT text for 'dot'."""
    if fmt in ('dot', 'gv'):
        return digraph.source.encode()
    try:
        return digraph.pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise GraphvizNotInstalled(f"Graphviz's `dot` program was not found on PATH, so the "
                                   f"graph cannot be drawn as {fmt}. {INSTALL_HINT}") from None


def svg_text(digraph):
    """The graph as an SVG string (needs Graphviz's `dot`)."""
    return pipe(digraph, 'svg').decode('utf-8')


def format_of(path, fmt=None):
    """The output format: `fmt` if given, else `path`'s extension."""
    fmt = (fmt or os.path.splitext(path)[1].lstrip('.')).lower()
    fmt = 'dot' if fmt == 'gv' else fmt
    if fmt not in FORMATS:
        raise ValueError(f"cannot write a graph as {fmt or 'a file without an extension'!r} "
                         f"({path}): name the file .svg, .png, .pdf or .dot, or pass "
                         f"format= one of {', '.join(FORMATS)}")
    return fmt


def render(fn, *args, path, format=None, **opts):
    """Draw `fn(*args)`'s graph (see `viz.graph` for `opts`) to `path`; the format
    follows the extension (.svg .png .pdf .dot) unless `format` names one.
    Returns the path.

        >>> viz.render(tt.grad(lambda x: jnp.sin(x) * 2), 1.0, path='grad.svg')
        'grad.svg'
    """
    fmt = format_of(path, format)
    data = pipe(fn if isinstance(fn, graphviz.Digraph) else graph(fn, *args, **opts), fmt)
    with open(path, 'wb') as f:
        f.write(data)
    return path
