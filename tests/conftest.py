import os

# The CUDA simulator must be chosen before numba is imported anywhere.
os.environ.setdefault('NUMBA_ENABLE_CUDASIM', '1')

import importlib  # noqa: E402
import pathlib  # noqa: E402

import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

from tinygrad_tracer import config, settings as tt_settings  # noqa: E402

# Every primitive's impl result is checked against its abstract evaluation in the tests
# (as under TT_DEBUG=1); JVP, transpose and batching rule results are always checked.
tt_settings.CHECK_IMPLS = True

# Hypothesis is derandomized: every run draws the same examples, so a bug the suite
# catches is caught on every run (and one it misses is missed every time, visibly).
# A test's own @settings (max_examples, ...) still apply on top of this profile.
# TT_HYPOTHESIS=explore draws fresh random examples on each run (1000 for a test that
# does not set its own count, instead of 100): for hunting bugs locally, never in CI.
settings.register_profile('ci', derandomize=True, deadline=None, database=None, max_examples=100,
                          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                 HealthCheck.too_slow])
settings.register_profile('explore', derandomize=False, deadline=None, max_examples=1000,
                          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                 HealthCheck.too_slow])
settings.load_profile(os.environ.get('TT_HYPOTHESIS', 'ci'))


@pytest.fixture
def x64():
    """Run a test with 64-bit types on (finite differences need the precision)."""
    config.update('jax_enable_x64', True)
    try:
        yield
    finally:
        config.update('jax_enable_x64', False)


@pytest.fixture
def real_jax():
    """The installed JAX, for tests that cross-check us against it (marked `jax`).

    Without JAX such a test skips (JAX is an optional reference). CI's second
    environment has JAX and sets TT_REQUIRE_JAX=1, which turns that skip into a
    failure, so the cross-checks can never be skipped silently where they should run.
    """
    try:
        return importlib.import_module('jax')
    except ImportError:
        if os.environ.get('TT_REQUIRE_JAX') == '1':
            pytest.fail("TT_REQUIRE_JAX=1 but JAX is not importable: install the `jax` extra")
        pytest.skip("JAX is not installed (pip install -e '.[jax]')")


def _optional_reference(name):
    """Flax and Optax are references for golden values, not requirements: the
    tests that use them live skip without them (the golden values run anyway)."""
    try:
        return importlib.import_module(name)
    except ImportError:
        pytest.skip(f"{name} is not installed (golden values are checked without it)")


@pytest.fixture
def real_optax():
    """The installed Optax, to recompute the golden values of tests/test_optax.py."""
    return _optional_reference('optax')


@pytest.fixture
def real_flax():
    """The installed flax.nnx, to recompute the golden values of tests/test_nnx.py."""
    return _optional_reference('flax.nnx')


def pytest_collection_modifyitems(items):
    # A test that asks for `real_jax` is a cross-check: select them all with `-m jax`;
    # those against Flax or Optax with `-m flax`.
    for item in items:
        names = getattr(item, 'fixturenames', ())
        if 'real_jax' in names:
            item.add_marker(pytest.mark.jax)
        if 'real_flax' in names or 'real_optax' in names:
            item.add_marker(pytest.mark.flax)


# --- the classroom (tests/test_exercises.py, lessons/exercises/README.md) ---------------------

def pytest_addoption(parser):
    parser.addoption('--student', metavar='PATH', default=None,
                     help="folder of exercise files for tests/test_exercises.py to check "
                          "(default: $TT_EXERCISES, else the teacher's lessons/solutions)")


def exercise_folder(config):
    """(folder checked by tests/test_exercises.py, whether the user chose it)."""
    chosen = config.getoption('student') or os.environ.get('TT_EXERCISES')
    root = pathlib.Path(__file__).resolve().parents[1]
    solutions = root / 'lessons' / 'solutions'
    if not solutions.exists():   # a student kit: the student's own files are the default
        return pathlib.Path(chosen or root / 'lessons' / 'exercises').resolve(), True
    return pathlib.Path(chosen or solutions).resolve(), bool(chosen)


@pytest.fixture(scope='session')
def exercise_dir(request):
    return exercise_folder(request.config)[0]


def pytest_terminal_summary(terminalreporter, config):
    # No false green: say whose files the exercise tests checked.
    if not any('test_exercises.py::' in getattr(r, 'nodeid', '')
               for reports in terminalreporter.stats.values() for r in reports):
        return
    folder, chosen = exercise_folder(config)
    if chosen:
        terminalreporter.write_line(f"exercises checked: {folder}")
    else:
        terminalreporter.write_line(
            f"exercises checked: the teacher's answers in {folder}, NOT yours. To check your "
            "own: TT_EXERCISES=lessons/exercises (or --student lessons/exercises), or run "
            "`python lessons/exercises/ex01_softplus_jvp.py`.", yellow=True, bold=True)
