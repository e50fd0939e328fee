"""docs/READING.md sends students to line ranges: they must exist and still hold
the functions and classes each row names (code moves; the map must move with it)."""
import ast
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]
MAP = ROOT / 'docs' / 'READING.md'
ROW = re.compile(r'^\| (\d+) \| (\S+):(\d+)-(\d+) \| ([^|]+) \| (.+) \|$')


def rows():
    out = [ROW.match(line) for line in MAP.read_text().splitlines()]
    return [(int(m[1]), m[2], int(m[3]), int(m[4]), [n.strip() for n in m[5].split(',')], m[6])
            for m in out if m]


def definitions(path):
    """name -> (first line, last line) of every def, class and assignment, at any depth."""
    found = {}
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            found.setdefault(node.name, (node.lineno, node.end_lineno))
        elif isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    found.setdefault(t.id, (node.lineno, node.end_lineno))
    return found


def test_the_map_has_its_steps_in_order():
    steps = rows()
    assert [s[0] for s in steps] == list(range(1, len(steps) + 1))
    assert len(steps) >= 20


def test_every_range_exists_and_holds_its_names():
    problems = []
    for step, rel, start, end, names, _ in rows():
        path = ROOT / rel
        if not path.exists():
            problems.append(f"step {step}: {rel} does not exist")
            continue
        n_lines = len(path.read_text().splitlines())
        if not 1 <= start <= end <= n_lines:
            problems.append(f"step {step}: {rel}:{start}-{end} is outside the file ({n_lines} lines)")
        defs = definitions(path)
        for name in names:
            if name not in defs:
                problems.append(f"step {step}: {rel} defines no `{name}` any more")
            elif not start <= defs[name][0] <= end:
                problems.append(f"step {step}: `{name}` is now at {rel}:{defs[name][0]}-{defs[name][1]}, "
                                f"outside {start}-{end}: update docs/READING.md")
    assert not problems, "\n".join(problems)


def test_the_map_is_about_2500_lines():
    total = sum(end - start + 1 for _, _, start, end, _, _ in rows())
    assert 2000 <= total <= 3200, total   # "about 3,000 lines"


def test_lesson_11_points_to_the_map():
    assert 'docs/READING.md' in (ROOT / 'lessons' / '11_inside_the_tracer.py').read_text()
