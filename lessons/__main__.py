"""The lessons, listed and run from one command.

    python -m lessons              # the list: number, title, minutes
    python -m lessons 5            # run lesson 5 as a script
    python -m lessons 5 --step     # cell by cell: show each cell, Enter runs it

With `--step` each cell's source is printed first (a markdown cell as plain
text) and the runner waits for Enter; at end of input (Ctrl-D, or stdin not a
terminal) it runs the rest without asking. All cells share one namespace, as
in a notebook.
"""
import argparse
import os
import pathlib
import re
import runpy
import sys

HERE = pathlib.Path(__file__).resolve().parent
# Minutes a student needs to read, run and poke at each lesson (the teacher's page in
# lessons/README.md gives the same numbers, and tests/test_lessons.py checks they agree).
MINUTES = {1: 20, 2: 25, 3: 20, 4: 30, 5: 25, 6: 30, 7: 20,
           8: 25, 9: 40, 10: 30, 11: 45, 12: 40, 13: 40, 14: 45}


def lesson_files():
    """{number: path} of every lesson, `lessons/NN_name.py`."""
    found = {}
    for path in sorted(HERE.glob('[0-9][0-9]_*.py')):
        found[int(path.name[:2])] = path
    return found


def title(path):
    """The lesson's first markdown heading, without the `#` marks.

    >>> title(HERE / '01_tour.py')            # doctest: +ELLIPSIS
    'Lesson 1 — ...'
    """
    for line in path.read_text().splitlines():
        m = re.match(r'#\s+#+\s+(.*)', line)
        if m:
            return m.group(1).strip()
    return path.stem


def cells(source):
    """Split a `# %%` script into [(kind, text)], kind 'code' or 'markdown'.

    A markdown cell's text is its comment lines without the leading `# `.
    """
    out, kind, lines = [], 'code', []

    def flush():
        text = '\n'.join(lines).strip('\n')
        if text.strip():
            out.append((kind, text))

    for line in source.splitlines():
        if line.startswith('# %%'):
            flush()
            kind, lines = ('markdown' if '[markdown]' in line else 'code'), []
        elif kind == 'markdown':
            lines.append(line[2:] if line.startswith('# ') else line.lstrip('#'))
        else:
            lines.append(line)
    flush()
    return out


def run_stepwise(path, stdin=sys.stdin):
    """Run a lesson cell by cell, asking for Enter before each (EOF: run the rest)."""
    namespace = {'__name__': '__main__', '__file__': str(path)}
    asking = True
    for i, (kind, text) in enumerate(cells(path.read_text()), 1):
        bar = f"---- cell {i} ({kind}) " + '-' * 40
        print(bar)
        print(text)
        if kind == 'markdown':
            continue
        if asking:
            print("[Enter runs this cell; Ctrl-D runs the rest]", end=' ', flush=True)
            if not stdin.readline():       # '' only at end of input
                asking = False
                print()
        print('>>>')
        exec(compile(text + '\n', f"{path.name} (cell {i})", 'exec'), namespace)


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m lessons', description=__doc__.split('\n\n')[0])
    parser.add_argument('number', nargs='?', type=int, help="the lesson to run (no number: list them)")
    parser.add_argument('--step', action='store_true', help="run cell by cell, waiting for Enter")
    args, rest = parser.parse_known_args(argv)
    lessons = lesson_files()
    if args.number is None:
        for n, path in lessons.items():
            print(f"{n:2d}  {title(path):<60s} ~{MINUTES.get(n, '?')} min   python -m lessons {n}")
        return 0
    if args.number not in lessons:
        parser.error(f"there is no lesson {args.number}; the lessons are "
                     f"{', '.join(map(str, lessons))} (python -m lessons lists them)")
    path = lessons[args.number]
    # A lesson imports its neighbours (`from _show import show`) as when run as a script.
    sys.path.insert(0, str(HERE))
    os.chdir(HERE.parent)
    sys.argv = [str(path), *rest]
    if args.step:
        run_stepwise(path)
    else:
        runpy.run_path(str(path), run_name='__main__')
    return 0


if __name__ == '__main__':
    sys.exit(main())
