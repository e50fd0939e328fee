"""Pictures of jaxprs and of tracing.

    import viz
    viz.graph(tt.grad(f), x)                    # a graphviz.Digraph (displays in Jupyter)
    viz.render(tt.vmap(f), xs, path='f.svg')    # .svg .png .pdf .dot
    viz.explain(tt.grad(f), x)                  # every bind, level by level
    python -m viz "lambda x: jnp.sin(x) * 2" --args 1.0 --grad -o g.svg

The colours are listed once, in viz/legend.py and docs/viz.md.
"""
from .graph import graph
from .render import render, GraphvizNotInstalled
from .explain import explain, Explanation
from .legend import ROLES, KINDS

__all__ = ['graph', 'render', 'explain', 'Explanation', 'GraphvizNotInstalled', 'ROLES', 'KINDS']
