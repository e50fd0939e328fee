"""Run JAX's tutorial pages cell by cell, with JAX and with tinygrad_tracer, and compare.

The pages are MyST markdown files as JAX's docs/ folder has them (```{code-cell}
blocks); they are not stored here, pass their paths:

    python tools/tutorial_cells.py /path/to/docs/key-concepts.md ...   # a table per page
    python tools/tutorial_cells.py -v page.md                          # and every differing cell

Each page runs twice in a fresh interpreter, its cells in order in one namespace as in
a notebook: once with `jax`, once with `jax` (and `jax.numpy`, `jax.lax`, ...) resolving
to `tinygrad_tracer` (and `tinygrad_tracer.numpy`, ...), the only change a user makes.
A cell's record is what it printed plus, as a notebook shows it, the repr of its last
expression; a cell that raises records only the exception's type, since the messages
are ours. Compared as text after removing what differs between any two runs (memory
addresses). IPython magics (`%timeit`, `%xmode`) are dropped: timings never match.
Needs an interpreter where both `jax` and `tinygrad_tracer` import (the `jax` extra).
"""
import argparse
import ast
import contextlib
import importlib
import importlib.abc
import importlib.util
import io
import json
import os
import re
import subprocess
import sys

CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```", re.S | re.M)


def read_cells(path):
    """The code cells of a MyST page: (source, tags), without cells tagged remove-cell."""
    cells = []
    for body in CELL.findall(open(path, encoding='utf-8').read()):
        lines = body.splitlines()
        tags = []
        while lines and (lines[0].startswith(':') or not lines[0].strip()):
            if lines[0].startswith(':tags:'):
                tags = re.findall(r'[\w-]+', lines[0].split(':', 2)[2])
            lines.pop(0)
        if 'remove-cell' not in tags:
            cells.append(('\n'.join(lines), tags))
    return cells


def drop_magics(source):
    """IPython magics are not Python: `%timeit` lines go (their timings never match)."""
    return '\n'.join(line for line in source.splitlines() if not line.lstrip().startswith('%'))


class _JaxIsTinygrad(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Makes `import jax.x.y` load `tinygrad_tracer.x.y`: the user's one changed import."""

    def find_spec(self, name, path=None, target=None):
        if name == 'jax' or name.startswith('jax.'):
            return importlib.util.spec_from_loader(name, self)
        return None

    def create_module(self, spec):
        return importlib.import_module('tinygrad_tracer' + spec.name[len('jax'):])

    def exec_module(self, module):
        pass  # already executed under its own name


def run_cell(source, namespace):
    """Run one cell as a notebook does: stdout, plus the repr of a last bare expression."""
    out = io.StringIO()
    try:
        tree = ast.parse(drop_magics(source))
        shown = (tree.body and isinstance(tree.body[-1], ast.Expr)
                 and not source.rstrip().endswith(';'))
        last = ast.Expression(tree.body.pop().value) if shown else None
        with contextlib.redirect_stdout(out):
            exec(compile(tree, '<cell>', 'exec'), namespace)
            if last is not None:
                value = eval(compile(last, '<cell>', 'eval'), namespace)
                if value is not None:
                    print(repr(value))
    except Exception as e:  # noqa: BLE001 - a cell's error is its result
        return {'out': out.getvalue(), 'error': type(e).__name__, 'message': str(e)[:300]}
    return {'out': out.getvalue(), 'error': None}


def run_page(path, use_tinygrad):
    """Every cell's record, in order, in one namespace (called in a child process)."""
    os.environ.setdefault('MPLBACKEND', 'Agg')
    if use_tinygrad:
        sys.meta_path.insert(0, _JaxIsTinygrad())
    namespace = {'__name__': '__main__'}
    return [dict(run_cell(source, namespace), tags=tags) for source, tags in read_cells(path)]


def normalize(text):
    """What legitimately differs between two runs of the same program."""
    return re.sub(r'0x[0-9a-f]+', '0x...', text)


def same(jax_cell, tt_cell):
    """Both printed the same text, and both raised or neither did."""
    return (normalize(jax_cell['out']) == normalize(tt_cell['out'])
            and (jax_cell['error'] is None) == (tt_cell['error'] is None))


def records(path, use_tinygrad):
    mode = 'tinygrad' if use_tinygrad else 'jax'
    child = subprocess.run([sys.executable, __file__, '--child', mode, path],
                           capture_output=True, text=True, check=True)
    return json.loads(child.stdout.splitlines()[-1])


def compare(path, verbose):
    """(matching cells, cells) for one page; with verbose, print each differing cell."""
    jax_cells, tt_cells = records(path, False), records(path, True)
    matches = 0
    for i, (a, b) in enumerate(zip(jax_cells, tt_cells)):
        if same(a, b):
            matches += 1
        elif verbose:
            print(f"--- {os.path.basename(path)} cell {i}")
            print(f"  JAX:      {a['out']!r} {a['error'] or ''} {a.get('message', '')!r}")
            print(f"  tinygrad: {b['out']!r} {b['error'] or ''} {b.get('message', '')!r}")
    return matches, len(jax_cells)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('pages', nargs='+')
    parser.add_argument('-v', '--verbose', action='store_true')
    parser.add_argument('--child', choices=['jax', 'tinygrad'], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = run_page(args.pages[0], args.child == 'tinygrad')
        print(json.dumps(result))
        return
    total = [0, 0]
    for path in args.pages:
        matches, cells = compare(path, args.verbose)
        total[0] += matches
        total[1] += cells
        print(f"{os.path.basename(path):40s} {matches:3d}/{cells:<3d} cells match")
    print(f"{'all pages':40s} {total[0]:3d}/{total[1]:<3d} = {100 * total[0] / total[1]:.0f}%")


if __name__ == '__main__':
    main()
