"""The classroom itself: stubs fail, every kept wrong answer is caught, the grader
grades, the student kit holds no answers (lessons/exercises/README.md).

The teacher's solutions pass in tests/test_exercises.py (its default folder).
"""
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from test_exercises import CHECKS, ROOT, load_file, own_rules

EXERCISES = ROOT / 'lessons' / 'exercises'
SOLUTIONS = ROOT / 'lessons' / 'solutions'
WRONG = sorted((SOLUTIONS / 'wrong').glob('ex*.py'))
ENV = {k: v for k, v in os.environ.items() if k != 'TT_EXERCISES'}


def pytest_run(*args, timeout=300):
    return subprocess.run([sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', *args],
                          cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=timeout)


def test_every_exercise_has_stub_solution_checks_and_three_wrong_answers():
    stubs = sorted(p.stem for p in EXERCISES.glob('ex[0-9][0-9]_*.py'))
    assert len(stubs) >= 12
    assert stubs == sorted(p.stem for p in SOLUTIONS.glob('ex[0-9][0-9]_*.py')) == sorted(CHECKS)
    for name in stubs:
        wrong = [p for p in WRONG if p.name.startswith(name + '__')]
        assert len(wrong) >= 3, f"{name} keeps {len(wrong)} wrong answers; at least 3 are needed"


def test_untouched_stubs_fail_every_test_with_a_not_implemented_message(tmp_path):
    """No stub passes: each test of each exercise fails on the untouched stubs, saying
    which file and function to write."""
    report = tmp_path / 'report.xml'
    pytest_run('tests/test_exercises.py', '--student', str(EXERCISES), f'--junitxml={report}')
    cases = list(ET.parse(report).getroot().iter('testcase'))
    assert len(cases) == sum(len(c) for c in CHECKS.values())
    for case in cases:
        failure = case.find('failure')
        assert failure is not None, f"{case.get('name')} passes on the untouched stub"
        number = case.get('name')[len('test_'):][:4]
        assert 'NotImplementedError' in failure.get('message'), (case.get('name'), failure.get('message'))
        assert f'lessons/exercises/{number}_' in failure.get('message'), failure.get('message')


@pytest.mark.parametrize('path', WRONG, ids=[p.stem for p in WRONG])
def test_kept_wrong_answer_is_caught(path):
    """Each kept wrong answer fails at least one check of its exercise, with a message in
    the student's terms (an assertion of the check, not a crash)."""
    name = path.stem.split('__')[0]
    explained, crashed = [], []
    for fn in CHECKS[name]:
        try:
            with own_rules():
                fn(load_file(path, name))
        except (AssertionError, pytest.fail.Exception) as err:
            explained.append(f"{fn.__name__}: {str(err).splitlines()[0]}")
        except Exception as err:   # caught too, but not explained by the check
            crashed.append(f"{fn.__name__}: {type(err).__name__}")
    assert explained, (f"{path.name} is not caught by a check of {name} with an explanation "
                       f"(crashes: {crashed or 'none'})")


def test_a_stub_runs_as_a_script_and_runs_its_check():
    proc = subprocess.run([sys.executable, str(EXERCISES / 'ex02_quotient_jvp.py')], cwd=ROOT,
                          env=ENV, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert '-m ex02' in proc.stdout and 'ex02 is not done yet: write quotient_jvp' in proc.stdout


def test_grader_table_for_a_mixed_class(tmp_path):
    subs = tmp_path / 'subs'
    exercises = ['ex02_quotient_jvp', 'ex13_threefry']   # quick to check: no kernel to compile
    students = {
        'ada': {e: (SOLUTIONS / f'{e}.py').read_text() for e in exercises},          # all correct
        'bob': {e: (EXERCISES / f'{e}.py').read_text() for e in exercises},          # untouched
        'cy': {exercises[0]: (SOLUTIONS / 'wrong' / 'ex02_quotient_jvp__sign_error.py').read_text(),
               exercises[1]: (SOLUTIONS / f'{exercises[1]}.py').read_text()},         # one wrong
        'dee': {exercises[0]: 'import time\ntime.sleep(600)\n',                        # hangs
                exercises[1]: 'import os\nos._exit(3)\n'},                           # crashes
        'eve': {},                                                                    # nothing
    }
    for student, files in students.items():
        (subs / student).mkdir(parents=True)
        for name, text in files.items():
            (subs / student / f'{name}.py').write_text(text)
    proc = subprocess.run([sys.executable, '-m', 'lessons.grade', str(subs), '--exercises',
                           'ex02,ex13', '--timeout', '30', '--jobs', '4'],
                          cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    rows = [line.split(',') for line in (subs / 'grades.csv').read_text().splitlines()]
    assert rows == [['student', 'ex02', 'ex13', 'total'],
                    ['ada', 'pass', 'pass', '2/2'],
                    ['bob', 'fail 0/2', 'fail 0/2', '0/2'],
                    ['cy', 'fail 0/2', 'pass', '1/2'],
                    ['dee', 'timeout', 'error', '0/2'],
                    ['eve', 'missing', 'missing', '0/2']]
    assert 'ada      pass      pass      2/2' in proc.stdout


def test_student_kit_has_stubs_lessons_and_tests_but_no_answers(tmp_path):
    from lessons import grade
    kit = tmp_path / 'kit'
    grade.student_kit(kit)
    for stub in EXERCISES.glob('ex[0-9][0-9]_*.py'):   # every stub, as it is
        assert (kit / 'lessons' / 'exercises' / stub.name).read_text() == stub.read_text(), stub.name
    assert (kit / 'lessons' / '01_tour.py').exists() and (kit / 'tests' / 'test_exercises.py').exists()
    assert (kit / 'tinygrad_tracer' / 'jvp.py').exists() and (kit / 'docs' / 'READING.md').exists()
    assert not list(kit.rglob('*solutions*')) and not list(kit.rglob('ex*__*.py'))
