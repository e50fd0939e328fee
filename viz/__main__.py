"""python -m viz: draw a function's jaxpr, or explain its trace, from the shell.

The function and its arguments are Python expressions, evaluated with
`jnp` (tinygrad_tracer.numpy), `jax` and `tt` (tinygrad_tracer), `lax` and
`np` (NumPy) in scope. Transformations apply in the order given, each one
wrapping the previous: `--grad --vmap` draws vmap(grad(f)).
"""
import argparse
import sys

import numpy as np

import tinygrad_tracer as tt
import tinygrad_tracer.numpy as jnp
from tinygrad_tracer import lax

from .explain import explain
from .graph import graph
from .render import FORMATS, GraphvizNotInstalled, format_of, pipe

EXAMPLES = """examples:
  python -m viz "lambda x: jnp.sin(x) * 2" --args 1.0 --grad -o g.svg
  python -m viz "lambda x: jnp.tanh(x).sum()" --args "jnp.ones((5, 3))" --grad --vmap -o g.png
  python -m viz "lambda x: jnp.sin(x) * 2" --args 1.0 --jit --format pdf -o g
  python -m viz "lambda x: jnp.sin(x)" --args 1.0 --grad --explain -o trace.html
  python -m viz "lambda x: x @ x.T" --args "jnp.ones((3, 2))"          (prints DOT text)
  python -m viz "lambda x: jnp.tanh(x) @ x.T" --args "jnp.ones((2, 2))" --values --hide-dead
"""

SCOPE = {'jnp': jnp, 'jax': tt, 'tt': tt, 'lax': lax, 'np': np}


def parser():
    p = argparse.ArgumentParser(
        prog='python -m viz', description=__doc__.split('\n\n', 1)[1].strip(),
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('fn', metavar='FUNCTION',
                   help='a Python expression for the function, e.g. "lambda x: jnp.sin(x) * 2"')
    p.add_argument('--args', nargs='+', default=[], metavar='EXPR',
                   help='its arguments, one expression each, e.g. --args 1.0 "jnp.ones((4, 3))"')
    for name, what in [('grad', 'differentiate it: grad(f) (give twice for the second derivative)'),
                       ('vmap', 'vectorize it over axis 0 of every argument: vmap(f)'),
                       ('jit', "compile it: jit(f), drawn with the backend's kernels")]:
        p.add_argument(f'--{name}', dest='transforms', action='append_const', const=name,
                       help=f'{what}; e.g. --{name}')
    p.add_argument('--explain', action='store_true',
                   help='run it and print every bind level by level instead of drawing the '
                        'jaxpr; with -o trace.html also write the stepping page, '
                        'e.g. --grad --explain -o trace.html')
    p.add_argument('-o', '--output', metavar='FILE',
                   help='where to write: .svg .png .pdf .dot (.html with --explain); '
                        'without it the DOT text goes to stdout, e.g. -o g.svg')
    p.add_argument('--format', choices=FORMATS,
                   help='the output format, overriding the extension of -o, e.g. --format png')
    p.add_argument('--collapse', action='store_true',
                   help='draw nested jaxprs (jit, cond branches, loop bodies) as one node each, '
                        'e.g. --collapse')
    p.add_argument('--rankdir', choices=['TB', 'LR'], default='TB',
                   help='layout direction: TB top to bottom (default) or LR left to right, '
                        'e.g. --rankdir LR')
    p.add_argument('--group-by', choices=['scope', 'function', 'none'], default='scope',
                   help='one cluster per tt.named_scope (default), per Python function that '
                        'recorded the equations, or none, e.g. --group-by function')
    p.add_argument('--collapse-groups', action='store_true',
                   help='draw each outermost group as one box, e.g. --collapse-groups')
    p.add_argument('--fold-indexing', action='store_true',
                   help='fold integer and mask bookkeeping (iota, label arithmetic, one-hot) '
                        'into one node per connected piece, e.g. --fold-indexing')
    p.add_argument('--hide-dead', action='store_true',
                   help='leave out equations nothing uses (drawn grey otherwise), '
                        'e.g. --hide-dead')
    p.add_argument('--values', action='store_true',
                   help='run the function and write each value on its node (its type, and '
                        'its numbers when it has at most 8 elements), e.g. --values')
    return p


def _evaluate(p, what, text):
    try:
        return eval(text, dict(SCOPE))   # the user's own command line, run as they wrote it
    except Exception as e:
        p.error(f"could not evaluate {what} {text!r}: {type(e).__name__}: {e}")


def _transformed(p, fn, source, transforms):
    title = source
    for name in transforms or []:
        transform = getattr(tt, name, None)
        if transform is None:
            p.error(f"--{name}: tinygrad_tracer.{name} is not available in this version")
        fn, title = transform(fn), f"{name}({title})"
    return fn, title


def main(argv=None):
    p = parser()
    opts = p.parse_args(argv)
    fn = _evaluate(p, 'the function', opts.fn)
    if not callable(fn):
        p.error(f"the function {opts.fn!r} evaluated to {type(fn).__name__}, not a function; "
                'write e.g. "lambda x: jnp.sin(x) * 2"')
    args = [_evaluate(p, 'the argument', a) for a in opts.args]
    fn, title = _transformed(p, fn, opts.fn, opts.transforms)
    try:
        if opts.explain:
            html = opts.output
            if html is not None and not html.endswith('.html'):
                p.error(f"--explain writes an .html page, not {html!r}; e.g. -o trace.html")
            explain(fn, *args, html=html)
            return 0
        g = graph(fn, *args, expand=not opts.collapse, title=title, rankdir=opts.rankdir,
                  group_by=None if opts.group_by == 'none' else opts.group_by,
                  collapse_groups=opts.collapse_groups, fold_indexing=opts.fold_indexing,
                  hide_dead=opts.hide_dead, values=opts.values)
        if opts.output is None:
            sys.stdout.buffer.write(pipe(g, opts.format or 'dot'))
            return 0
        fmt = format_of(opts.output, opts.format)
        with open(opts.output, 'wb') as f:
            f.write(pipe(g, fmt))
        print(f"wrote {opts.output} ({fmt}, {title})")
        return 0
    except GraphvizNotInstalled as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == '__main__':
    sys.exit(main())
