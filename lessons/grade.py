"""Grade a class: every student's folder, every exercise, each in its own process.

    python -m lessons.grade SUBMISSIONS_DIR            # run from the repository root
    python -m lessons.grade SUBMISSIONS_DIR --csv grades.csv --timeout 120 --jobs 4
    python -m lessons.grade SUBMISSIONS_DIR --exercises ex01,ex05
    python -m lessons.grade --student-kit DIR          # what to hand out: no answers

SUBMISSIONS_DIR holds one folder per student, each with the files of
lessons/exercises/ (ex01_softplus_jvp.py, ...) as the student left them. Each
(student, exercise) runs `pytest tests/test_exercises.py --student FOLDER -m exNN`
in a separate process with a timeout, so a hanging or crashing answer costs
only its own cell. The table (student x exercise: pass, fail k/n, missing,
timeout, error; and the total) is printed and written as CSV
(default: SUBMISSIONS_DIR/grades.csv).
"""
import argparse
import concurrent.futures
import csv
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXERCISES = ROOT / 'lessons' / 'exercises'
TESTS = ROOT / 'tests' / 'test_exercises.py'


def exercise_names():
    """['ex01_softplus_jvp', ...]: the exercises, in teaching order."""
    return sorted(p.stem for p in EXERCISES.glob('ex[0-9][0-9]_*.py'))


def run_one(folder, exercise, timeout):
    """The result of one exercise of one student: 'pass', 'fail k/n', 'missing',
    'timeout' or 'error' (the tests could not even run)."""
    if not (folder / f'{exercise}.py').exists():
        return 'missing'
    with tempfile.TemporaryDirectory() as tmp:
        report = pathlib.Path(tmp) / 'report.xml'
        cmd = [sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', str(TESTS),
               '--student', str(folder), '-m', exercise[:4], f'--junitxml={report}']
        env = {k: v for k, v in os.environ.items() if k != 'TT_EXERCISES'}
        try:
            proc = subprocess.run(cmd, cwd=ROOT, env=env, timeout=timeout, capture_output=True, text=True)
        except subprocess.TimeoutExpired:
            return 'timeout'
        if not report.exists():
            print(f"--- {folder.name} {exercise}: the tests did not run:\n"
                  f"{(proc.stdout + proc.stderr)[-2000:]}", file=sys.stderr)
            return 'error'
        cases = ET.parse(report).getroot().iter('testcase')
        outcomes = [not any(c.tag in ('failure', 'error', 'skipped') for c in case) for case in cases]
    if not outcomes:
        return 'error'
    passed = sum(outcomes)
    return 'pass' if passed == len(outcomes) else f'fail {passed}/{len(outcomes)}'


def grade(submissions, exercises, timeout=120, jobs=None):
    """{student: {exercise: result}} for every folder in `submissions`."""
    students = sorted(p for p in pathlib.Path(submissions).iterdir() if p.is_dir())
    jobs = jobs or os.cpu_count() or 1
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        futures = {(s.name, e): pool.submit(run_one, s.resolve(), e, timeout)
                   for s in students for e in exercises}
        return {s.name: {e: futures[s.name, e].result() for e in exercises} for s in students}


def table(results, exercises):
    """Rows of the score table: a header, then one row per student with the total."""
    rows = [['student'] + [e[:4] for e in exercises] + ['total']]
    for student, res in results.items():
        total = sum(res[e] == 'pass' for e in exercises)
        rows.append([student] + [res[e] for e in exercises] + [f'{total}/{len(exercises)}'])
    return rows


def print_table(rows):
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print('  '.join(cell.ljust(w) for cell, w in zip(r, widths)))


def student_kit(dest):
    """Write what a teacher hands out: the library, the lessons, the exercise stubs and
    their tests; not lessons/solutions/ (the answers and the kept wrong answers)."""
    dest = pathlib.Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise SystemExit(f"{dest} exists and is not empty: choose a new folder for the kit.")
    ignore = shutil.ignore_patterns('__pycache__', '*.egg-info', 'solutions')
    for d in ('tinygrad_tracer', 'viz', 'docs', 'lessons'):
        shutil.copytree(ROOT / d, dest / d, ignore=ignore)
    (dest / 'tests').mkdir()
    for f in ('conftest.py', 'test_exercises.py'):
        shutil.copy2(ROOT / 'tests' / f, dest / 'tests' / f)
    for f in ('setup.cfg', 'pyproject.toml', 'README.md'):
        shutil.copy2(ROOT / f, dest / f)
    print(f"student kit written to {dest}: `pip install -e .`, then see "
          "lessons/exercises/README.md")


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m lessons.grade', description=__doc__.split('\n')[0])
    parser.add_argument('submissions', nargs='?', help='folder with one folder per student')
    parser.add_argument('--csv', help='where to write the table (default: SUBMISSIONS/grades.csv)')
    parser.add_argument('--timeout', type=float, default=120, help='seconds per student and exercise')
    parser.add_argument('--jobs', type=int, default=None, help='processes at once (default: CPUs)')
    parser.add_argument('--exercises', help='comma-separated numbers to grade, e.g. ex01,ex05')
    parser.add_argument('--student-kit', metavar='DIR', help='write the student kit to DIR and stop')
    args = parser.parse_args(argv)
    if args.student_kit:
        return student_kit(args.student_kit)
    if not args.submissions:
        parser.error('give SUBMISSIONS_DIR (or --student-kit DIR)')
    exercises = exercise_names()
    if args.exercises:
        wanted = set(args.exercises.split(','))
        exercises = [e for e in exercises if e[:4] in wanted]
    rows = table(grade(args.submissions, exercises, args.timeout, args.jobs), exercises)
    print_table(rows)
    out = pathlib.Path(args.csv or pathlib.Path(args.submissions) / 'grades.csv')
    with open(out, 'w', newline='') as f:
        csv.writer(f).writerows(rows)
    print(f"written: {out}")


if __name__ == '__main__':
    main()
