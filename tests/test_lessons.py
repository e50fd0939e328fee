"""The lessons: each runs as a script in under 30 s and as a notebook, draws the
pictures it announces, and prints what it teaches (lessons 1-7 here; lessons
8-14's own checks are in tests/test_lessons_machine.py). lessons/README.md's
curriculum covers every section of the seed tutorials and every link in it resolves.

`run_lesson(name)` runs a lesson once per test session (the result is cached), so
the timing test and the output checks share one run.
"""
import ast
import collections
import functools
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
LESSONS = ROOT / 'lessons'
SEEDS = ROOT.parent / 'shared' / 'seeds'
SEED_SECTIONS = ROOT / 'tests' / 'data' / 'seed_sections.json'
LESSON_FILES = sorted(p.name for p in LESSONS.glob('[0-9][0-9]_*.py'))
BUDGET_S = 30          # issue 13: every lesson runs as a script in under 30 s
PICTURE = re.compile(r'^\[picture: (lessons/out/\S+)\]$', re.M)

sys.path.insert(0, str(ROOT))
from lessons.__main__ import MINUTES, cells, lesson_files, title  # noqa: E402


# One run of a lesson as a script: its stdout, wall time (s) and start time (epoch s).
Run = collections.namedtuple('Run', 'stdout seconds started')


@functools.lru_cache(maxsize=None)
def run_lesson(name, *args, timeout=600):
    """Run lessons/NAME as a script (headless matplotlib), once per session."""
    env = dict(os.environ, MPLBACKEND='Agg', PYTHONUNBUFFERED='1')
    started = time.time()
    proc = subprocess.run([sys.executable, str(LESSONS / name), *args], capture_output=True,
                          text=True, timeout=timeout, env=env, cwd=ROOT)
    seconds = time.time() - started
    assert proc.returncode == 0, f"{name} failed:\n" + proc.stdout[-3000:] + proc.stderr[-3000:]
    return Run(proc.stdout, seconds, started)


def floats(text):
    return [float(v) for v in re.sub(r'[\[\],]', ' ', text).split()]


# --- every lesson ------------------------------------------------------------------------

def test_the_lessons_are_numbered_1_to_14_without_gaps():
    assert sorted(lesson_files()) == list(range(1, 15)), LESSON_FILES
    assert sorted(MINUTES) == list(range(1, 15))


@pytest.mark.parametrize('name', LESSON_FILES)
def test_lesson_runs_as_a_script_in_under_30s(name):
    """The wall time includes Python's start-up and imports; the budget is the
    issue's 30 s on the 2-core CI machine. Numba compiles are cached in the kernel
    cache, so a first run on a fresh machine is slower: the lessons keep their
    compiled functions small so that even that run fits."""
    run = run_lesson(name)
    assert run.seconds < BUDGET_S, f"{name} took {run.seconds:.1f} s (budget {BUDGET_S} s)"


@pytest.mark.parametrize('name', LESSON_FILES)
def test_lesson_pictures_exist_and_are_fresh(name):
    run = run_lesson(name)
    pictures = PICTURE.findall(run.stdout)
    assert pictures, f"{name} announces no picture: draw its graph with show(viz.graph(...), ...)"
    for rel in pictures:
        path = ROOT / rel
        assert path.name.startswith(name[:3]), f"{name}'s picture {rel} should be named {name[:3]}..."
        assert path.exists() and path.stat().st_size > 0, f"{name} announced {rel}, which is missing or empty"
        assert path.stat().st_mtime >= run.started - 1, f"{rel} is left over from an earlier run"


@pytest.mark.parametrize('name', LESSON_FILES)
def test_lesson_has_a_title_and_ends_naming_its_exercise_and_reading(name):
    number = int(name[:2])
    assert re.match(rf'Lesson {number} — \S', title(LESSONS / name)), title(LESSONS / name)
    kind, last = cells((LESSONS / name).read_text())[-1]
    assert kind == 'markdown', f"{name} should end with a markdown cell naming its exercise"
    exercises = re.findall(r'lessons/exercises/(ex\d\d_\w+\.py)', last)
    assert exercises, f"{name}'s last cell names no exercise (lessons/exercises/exNN_*.py)"
    for ex in exercises:
        assert (LESSONS / 'exercises' / ex).exists(), f"{name} names {ex}, which does not exist"
    assert 'READING.md' in last, f"{name}'s last cell should say which part of docs/READING.md to read next"


# --- what lessons 1-7 print ----------------------------------------------------------------

def test_lesson_1_tour_and_arrays():
    out = run_lesson('01_tour.py').stdout
    assert "x unchanged: [0. 1. 2. 3. 4.]  y: [10.  1.  2.  3.  4.]" in out
    assert "selu'(-1) = 0.6450766" in out         # 1.05 * 1.67 * exp(-1)
    assert "{ lambda ; a:f32[]. let b:f32[] = sin a; c:f32[] = mul b 2.0:f32[] in (c,) }" in out
    vm = re.search(r"vmap: \[([^\]]*)\]", out).group(1).split()
    assert [float(v) for v in vm] == [2.0, 29.0, 110.0, 245.0]
    assert "results match: True" in out
    assert re.search(r"eager [\d.]+ ms, jit [\d.]+ ms: \d+x faster", out)
    # The generated source is printed whole (it used to be cut mid-line): the kernel parses.
    kernel = re.search(r"^@njit.*?\n(?=\n|\[)", out, re.M | re.S)
    assert kernel and "def selu_k0(" in kernel.group(0), out
    ast.parse(kernel.group(0))
    assert re.search(r"^\s+[A-Z]\w*\[i0\] = \w+$", kernel.group(0), re.M), "the kernel's store is missing"
    # Part B: seeds 001/002/003's array cells, with the numbers JAX prints.
    assert "Array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], dtype=int32)" in out
    assert "[[1 2 3]\n [3 4 5]] (2, 3) int32" in out
    assert "default integer dtype: int32  NumPy's: int64" in out
    assert "jnp.arange(10)[11] = 9" in out                   # clamped, not an error
    assert "9.0 True True" in out
    assert "[[10. 10. 10. 10.]\n [26. 26. 26. 26.]]" in out
    assert "\n584144992\n" in out                             # int32 wrap-around, as in JAX
    assert "NumPy, changed in place: [123   2   3]" in out
    assert "TypeError: 'Array' object does not support item assignment. JAX arrays are immutable." in out
    assert "Array([123,   2,   3], dtype=int32)\ny is unchanged: Array([1, 2, 3], dtype=int32)" in out
    assert "[[3. 3. 3. 3.]\n [5. 6. 7. 8.]]" in out


def test_lesson_2_grad():
    out = run_lesson('02_grad.py').stdout
    assert out.startswith("30.0\n[2. 4. 6. 8.]\n")
    assert "grad: 0.6450766   finite difference: 0.645399" in out
    assert "(Array(0.03999995, dtype=float32), Array([-0.20000005, -0.19999981, -0.19999981, -0.19999981]" in out
    assert "TypeError: Gradient only defined for scalar-output functions. Output was a tuple of length 2." in out
    assert ("(Array([-0.20000005, -0.19999981, -0.19999981, -0.19999981], dtype=float32), "
            "Array([-0.10000002, -0.0999999 , -0.0999999 , -0.0999999 ], dtype=float32))") in out
    assert "b_grad=Array([ 0.7327844, -0.8552679, -0.6331604], dtype=float32)" in out   # seed 002, as JAX
    assert "loss_value=Array(1.2520111, dtype=float32)" in out
    v = re.search(r"Original v:\n(.*)\nGradient of f taken at point v\n(.*)\n", out)
    assert floats(v.group(1)) == floats(v.group(2)) == [1.6226422, 2.0252647, -0.43359444, -0.07861735]
    assert "d^3/dx^3 tanh at 0 = -2.0" in out
    assert "Output had shape: (3,)" in out and "got int32" in out


def test_lesson_3_pytrees():
    out = run_lesson('03_pytrees.py').stdout
    assert '[1, "a", object()]: 3 leaves\n(1, (2, 3), ()): 3 leaves\n[1, {"k1": 2, "k2": (3, 4)}, 5]: 5 leaves' in out
    assert "PyTreeDef([*, {'k1': *, 'k2': (*, *)}, *])" in out
    assert "[1, {'k1': 4, 'k2': (9, 16)}, 25]\n[2, {'k1': 6, 'k2': (12, 20)}, 30]" in out
    assert "ValueError: Tree structures do not match" in out and "unexpected keys ['bias']" in out
    assert "{'bias': (3,), 'weights': (5, 3)}\n[ 0.7327844 -0.8552679 -0.6331604]" in out
    before, after = map(float, re.search(r"loss before: ([\d.]+)  after one step: ([\d.]+)", out).groups())
    assert before == pytest.approx(1.2520111) and after < before / 2
    assert "Linear dense (5, 3) [1. 1. 1.]" in out


def test_lesson_4_jvp_vjp():
    out = run_lesson('04_jvp_vjp.py').stdout
    x = [1.6226422, 2.0252647, -0.43359444, -0.07861735, 0.1760909]
    assert floats(re.search(r"^x = (.*)$", out, re.M).group(1)) == x
    jvp = re.search(r"jax.jvp\(f, \(x,\),\(v,\)\)\n\(Array\(\[(.*?)\].*?Array\(\[(.*?)\]", out, re.S)
    assert floats(jvp.group(1)) == [1.3164837, 2.0508487, 0.09400207, 0.00309034, 0.015504]   # x*x/2, as JAX prints
    assert floats(jvp.group(2)) == x                          # df(x) . 1 = x
    assert floats(re.search(r"v\^T Jf\(x\) =  (.*)", out).group(1)) == x
    assert "[[ 2.         1.         0.       ]\n [-0.        -0.        -0.9899925]\n [ 1.         1.         1.       ]]\nTrue" in out
    assert "[[ 6.  0.  0.]\n [ 0. 12.  0.]\n [ 0.  0. 18.]]" in out
    assert "jvp rule of sin: True   transpose rule of sin: False   transpose rule of mul: True" in out


def test_lesson_5_vmap():
    out = run_lesson('05_vmap.py').stdout
    assert out.startswith("2.0\n386.0\n[  2.  29. 110. 245.]\n")
    assert re.search(r"g:f32\[4\] = reduce_sum\[axes=\(1,\)", out)   # the batched sum is over axis 1 only
    assert "Single apply shape:  (15,)\nBatched example shape:  (5, 15)" in out
    assert "c:f32[15,2000] = dot_general" in out                # a matrix-vector product became one matmul
    assert re.search(r"Python loop \d+ ms, vmap [\d.]+ ms, same result: True", out)
    assert "[ 59.  80. 107. 140.]" in out
    assert "one axis had size 4: axis 0 of argument a" in out
    assert "[[  5.  14.  23.  32.]\n [ 14.  50.  86. 122.]]\nTrue" in out


def test_lesson_6_jaxprs_and_jit():
    out = run_lesson('06_jaxprs_jit.py').stdout
    assert out.count("tracing with") == 2                     # once per shape, not per call
    assert "same shape:\nnew shape:\n  tracing with" in out
    assert "10.0\n10.0 (still 10" in out
    assert out.count("True") >= 2 and "jit of grad agrees: True" in out
    assert re.search(r"eager [\d.]+ ms, jit [\d.]+ ms", out)
    assert "TracerBoolConversionError:" in out
    assert "8.0 0.5" in out                                    # static_argnums: one trace per n


def test_lesson_7_random():
    out = run_lesson('07_random.py').stdout
    assert " [[0.9490746  0.7997726  0.5088254 ]\n [0.2983067  0.24615324 0.13832462]]" in out
    assert "same key, same numbers: True" in out
    # Seed 003 on the older stream: its keys exactly; its normals as JAX 0.10.2 prints them.
    assert out.count("Printing the random number using key:  [0 0]  gives:  [-0.20584226]") == 3
    assert "new key    [4146024105  967050713] --> normal [0.14389051]" in out
    assert "new subkey [2718843009 1272950319] --> normal [-1.2515389]" in out
    assert "[3306097435 3899823266]" in out and "Array([ 781391491, 1939998335], dtype=uint32)" in out
    assert "NumPy, the numbers change with the order: True" in out
    assert "keys, the same numbers in either order: True" in out
    a, b = re.search(r"two calls, one 'random' number: (\S+) (\S+)", out).groups()
    assert a == b                                             # NumPy's number, frozen by tracing
    mean, std = map(float, re.search(r"mean ([+-][\d.]+), std ([\d.]+)", out).groups())
    assert abs(mean) < 0.05 and abs(std - 1) < 0.05
    assert "[0 0] [[1797259609 2579123966]\n [ 928981903 3453687069]]" in out      # split(key(0)), as JAX
    assert re.search(r"split is \d+ equations: .*\d+ xor", out)


# --- lessons 1-7 under real JAX: the same numbers ------------------------------------------

# What a lesson imports from our package's insides, and JAX's names for the same things.
AS_JAX = [
    ('import tinygrad_tracer as jax', 'import jax'),
    ('import tinygrad_tracer.numpy as jnp', 'import jax.numpy as jnp'),
    ('from tinygrad_tracer.jvp import jvp_rules', 'from jax._src.interpreters.ad import primitive_jvps as jvp_rules'),
    ('from tinygrad_tracer.transpose import transpose_rules',
     'from jax._src.interpreters.ad import primitive_transposes as transpose_rules'),
    ('from tinygrad_tracer import prng', 'import jax.extend.random as prng'),
    ("backend='interpret'", "backend='cpu'"),
    ('tinygrad_tracer', 'jax'),
]
NUMBERS = re.compile(r'^[\s\[\](),\d.eE+-]*\d[\s\[\](),\d.eE+-]*$')


def numeric_lines(text):
    """The lines of a lesson's output that are only numbers (arrays, scalars, tuples of them)."""
    return [line.strip() for line in text.splitlines() if NUMBERS.match(line)]


def run_with_real_jax(name, tmp_path, replacements):
    """Run a copy of lessons/NAME in tmp_path with `replacements` (ours -> JAX's imports)
    made, viz and the pictures stubbed out; its output."""
    source = (LESSONS / name).read_text()
    for ours, theirs in replacements:
        source = source.replace(ours, theirs)
    (tmp_path / name).write_text(source)
    (tmp_path / 'viz.py').write_text("def graph(*args, **kwargs):\n    return None\n")
    (tmp_path / '_show.py').write_text("def show(obj, name):\n    print(f'[picture: {name}]')\n")
    env = dict(os.environ, MPLBACKEND='Agg', JAX_PLATFORMS='cpu')
    proc = subprocess.run([sys.executable, name], capture_output=True, text=True, timeout=600,
                          env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


@pytest.mark.parametrize('name', [n for n in LESSON_FILES if int(n[:2]) <= 7])
def test_lesson_prints_the_numbers_jax_prints(name, real_jax, tmp_path):
    """The lesson's code with JAX's imports (pictures and viz stubbed out) prints the
    same numeric lines: the seed cells give what JAX gives, digit for digit."""
    ours, theirs = numeric_lines(run_lesson(name).stdout), numeric_lines(
        run_with_real_jax(name, tmp_path, AS_JAX))
    assert len(ours) >= 3 and ours == theirs, "\n".join(
        f"{a!r:60} JAX: {b!r}" for a, b in zip(ours, theirs) if a != b) or (len(ours), len(theirs))


# --- python -m lessons -------------------------------------------------------------------

def run_runner(*args, stdin=''):
    proc = subprocess.run([sys.executable, '-m', 'lessons', *args], capture_output=True, text=True,
                          input=stdin, timeout=300, cwd=ROOT, env=dict(os.environ, MPLBACKEND='Agg'))
    return proc


def test_runner_lists_every_lesson_with_title_and_time():
    proc = run_runner()
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == len(LESSON_FILES)
    assert re.match(r" 1  Lesson 1 — .* ~20 min   python -m lessons 1$", lines[0]), lines[0]
    assert re.search(r"~\d+ min   python -m lessons 14$", lines[-1]), lines[-1]


def test_runner_rejects_an_unknown_lesson_saying_which_exist():
    proc = run_runner('99')
    assert proc.returncode == 2 and "there is no lesson 99; the lessons are 1, 2, 3" in proc.stderr


def test_runner_steps_through_cells_then_runs_the_rest_at_end_of_input():
    """Two Enters run two code cells; end of input runs the rest without asking."""
    proc = run_runner('3', '--step', stdin='\n\n')
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    assert out.count("[Enter runs this cell; Ctrl-D runs the rest]") == 3
    assert "---- cell 1 (markdown)" in out and "# Lesson 3 — Pytrees" in out
    assert "import tinygrad_tracer as jax" in out                   # the cell's source, shown
    assert "PyTreeDef([*, {'k1': *, 'k2': (*, *)}, *])" in out     # ... and run
    assert "Linear dense (5, 3) [1. 1. 1.]" in out                 # the rest ran too


def test_cells_split_markdown_and_code():
    src = "# %% [markdown]\n# # Title\n# text\n\n# %%\nx = 1\n\n# %%\nprint(x)\n"
    assert cells(src) == [('markdown', '# Title\ntext'), ('code', 'x = 1'), ('code', 'print(x)')]


# --- lessons/README.md: the curriculum ---------------------------------------------------

README = LESSONS / 'README.md'
READING = ROOT / 'docs' / 'READING.md'


def slug(heading):
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to '-'."""
    return re.sub(r'[^\w\- ]', '', heading.strip().lower()).replace(' ', '-')


def seed_sections():
    """{(seed number, section title)} of every `##` and `###` heading of the seeds.

    Seeds 000-002 are MyST markdown (headings outside code cells); seed 003 is the
    text of a web page, whose section titles are the short lines that stand alone
    between blank lines and read as a title (no sentence punctuation)."""
    found = set()
    for path in sorted(SEEDS.glob('00[0-9]_*.txt')):
        seed = int(path.name[:3])
        lines = path.read_text().splitlines()
        if any(l.startswith('```') for l in lines):
            in_code = False
            for line in lines:
                if line.startswith('```'):
                    in_code = not in_code
                elif not in_code and re.match(r'#{2,3} ', line):
                    found.add((seed, line.lstrip('#').strip()))
        else:
            for prev, line, nxt in zip(lines, lines[1:], lines[2:] + ['']):
                if (not prev.strip() and not nxt.strip() and 3 < len(line) < 60 and line[0].isupper()
                        and not re.search(r'[.,;()=\[\]:]$|[(=\[,;]', line) and '  ' not in line):
                    found.add((seed, line.strip()))
    return found


def readme_rows(table_header):
    """The rows (lists of cells) of the README table whose header starts with table_header."""
    lines = README.read_text().splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith(table_header))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith('|'):
            break
        rows.append([c.strip() for c in line.strip('|').split('|')])
    return rows


def recorded_seed_sections():
    """The seed sections as recorded in tests/data/seed_sections.json (CI has the seeds
    beside the checkout; a bare clone has only this record)."""
    return {(n, title) for n, title in json.loads(SEED_SECTIONS.read_text())}


def test_seed_sections_record_matches_the_seeds():
    if not SEEDS.is_dir():
        pytest.skip(f"the seed tutorials are not beside this checkout ({SEEDS})")
    assert seed_sections() == recorded_seed_sections(), (
        "the seeds changed: rewrite tests/data/seed_sections.json from seed_sections()")


def test_seed_parser_finds_the_sections():
    sections = recorded_seed_sections()
    assert (1, 'Auxiliary data') in sections and (0, 'Automatic vectorization (`jax.vmap`)') in sections
    assert (3, 'Managing randomness') in sections and (3, 'Full example: linear regression') in sections
    assert len({s for s in sections if s[0] == 3}) >= 9
    assert not any('(' in t for s, t in sections if s == 3 and 'Open' in t)


def test_every_seed_section_is_mapped_to_a_lesson():
    mapped = {(int(r[0]), r[1].strip('"')) for r in readme_rows('| seed | section')}
    missing = sorted(recorded_seed_sections() - mapped)
    assert not missing, "lessons/README.md maps no lesson to these seed sections:\n" + "\n".join(map(str, missing))


def test_every_lesson_exercise_and_reading_reference_resolves():
    lessons = lesson_files()
    anchors = {slug(l[3:]) for l in READING.read_text().splitlines() if l.startswith('## ')}
    problems = []
    for row in readme_rows('| seed | section'):
        for n in re.findall(r'\b(\d+)\b', row[2]):
            if int(n) not in lessons:
                problems.append(f"{row[:2]}: lesson {n} does not exist")
    text = README.read_text()
    for target in re.findall(r'\]\(([^)]+)\)', text):
        path, _, anchor = target.partition('#')
        if re.match(r'https?:', path):
            continue
        file = (README.parent / path).resolve() if path else README
        if not file.exists():
            problems.append(f"link to {target}: {file} does not exist")
        elif anchor and file == READING.resolve() and anchor not in anchors:
            problems.append(f"link to {target}: READING.md has no section with that anchor ({sorted(anchors)})")
    for ex in set(re.findall(r'\bex\d\d_\w+\.py', text)):
        if not (LESSONS / 'exercises' / ex).exists():
            problems.append(f"exercise {ex} does not exist")
    assert not problems, "\n".join(problems)


def test_lesson_table_names_the_exercises_each_lesson_ends_with():
    rows = readme_rows('| # | lesson | topic')
    assert [int(r[0]) for r in rows] == sorted(lesson_files())
    for r in rows:
        path = lesson_files()[int(r[0])]
        assert path.name in r[1], r
        named = set(re.findall(r'ex\d\d_\w+\.py', cells(path.read_text())[-1][1]))
        listed = set(re.findall(r'exercises/(ex\d\d_\w+\.py)', r[3]))
        assert listed == named, f"lesson {r[0]} ends with {sorted(named)}, lessons/README.md lists {sorted(listed)}"


def test_teachers_table_lists_every_lesson_with_the_runners_minutes():
    rows = readme_rows('| # | lesson | minutes')
    assert [int(r[0]) for r in rows] == sorted(lesson_files())
    for r in rows:
        assert int(r[2]) == MINUTES[int(r[0])], f"lesson {r[0]}: {r[2]} min in README, {MINUTES[int(r[0])]} in the runner"
        assert f"{int(r[0]):02d}_" in r[1], r
        assert len(r[3]) > 40, f"lesson {r[0]} has no objectives"


def test_slug_is_githubs():
    assert slug("4. Reverse mode: `linearize`, transpose, `grad`") == "4-reverse-mode-linearize-transpose-grad"


# --- the notebook path -------------------------------------------------------------------

@pytest.fixture(scope='module')
def notebook_dir(tmp_path_factory):
    """A copy of lessons/ (lessons and _show.py) where notebooks run and draw."""
    d = tmp_path_factory.mktemp('lessons')
    for p in LESSONS.glob('*.py'):
        shutil.copy(p, d / p.name)
    return d


@pytest.mark.notebook
@pytest.mark.parametrize('name', LESSON_FILES)
def test_lesson_runs_as_a_notebook(name, notebook_dir):
    """jupytext turns the lesson into a notebook; nbconvert runs it in a python3
    kernel of this interpreter, in the lessons' folder (so `_show` imports); the
    pictures land in that folder's out/ and show inline as cell outputs."""
    import jupytext
    from nbconvert.preprocessors import ExecutePreprocessor

    nb = jupytext.read(notebook_dir / name)
    jupytext.write(nb, notebook_dir / (name[:-3] + '.ipynb'))
    env_backup = os.environ.pop('MPLBACKEND', None)     # the kernel's inline backend draws figures
    try:
        ExecutePreprocessor(kernel_name='python3', timeout=300).preprocess(
            nb, {'metadata': {'path': str(notebook_dir)}})
    finally:
        if env_backup is not None:
            os.environ['MPLBACKEND'] = env_backup
    outputs = [o for c in nb.cells if c.cell_type == 'code' for o in c.get('outputs', [])]
    errors = [o for o in outputs if o.output_type == 'error']
    assert not errors, errors
    images = [o for o in outputs if o.output_type == 'display_data'
              and {'image/png', 'image/svg+xml'} & set(o.get('data', {}))]
    saved = sorted(p for p in (notebook_dir / 'out').glob(f'{name[:3]}*') if p.suffix in ('.svg', '.png'))
    assert saved and all(p.stat().st_size > 0 for p in saved), saved
    assert len(images) >= len(saved), f"{name}: {len(saved)} pictures saved but {len(images)} shown inline"
