"""Where a lesson's pictures go: a file under lessons/out/ always, and inline in a notebook.

    from _show import show
    show(viz.graph(jax.grad(f), 1.0), '02_grad_graph')   # lessons/out/02_grad_graph.svg
    show(fig, '09_loss')                                  # a matplotlib figure: .png

Run as a script, a lesson prints the path of each picture it wrote; opened as
a notebook, the picture also appears under the cell.
"""
import pathlib

OUT = pathlib.Path(__file__).resolve().parent / 'out'


def _in_notebook():
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and shell.__class__.__name__ == 'ZMQInteractiveShell'


def show(obj, name):
    """Save a graphviz graph (as .svg) or a matplotlib figure (as .png) under lessons/out/."""
    OUT.mkdir(exist_ok=True)
    if hasattr(obj, 'pipe'):                       # graphviz.Digraph / graphviz.Source
        path = OUT / f'{name}.svg'
        path.write_bytes(obj.pipe(format='svg'))
    elif hasattr(obj, 'savefig'):                  # matplotlib.figure.Figure
        path = OUT / f'{name}.png'
        obj.savefig(path, dpi=100, bbox_inches='tight')
    else:
        raise TypeError(f"show() draws a graphviz graph or a matplotlib figure, "
                        f"got {type(obj).__name__}")
    if _in_notebook():
        from IPython.display import display
        display(obj)
    else:
        print(f"[picture: {path.relative_to(OUT.parent.parent)}]")
    return path
