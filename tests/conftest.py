import os

# The CUDA simulator must be chosen before numba is imported anywhere.
os.environ.setdefault('NUMBA_ENABLE_CUDASIM', '1')

import importlib  # noqa: E402

import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

from tinygrad_tracer import config  # noqa: E402

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


def pytest_collection_modifyitems(items):
    # A test that asks for `real_jax` is a cross-check: select them all with `-m jax`.
    for item in items:
        if 'real_jax' in getattr(item, 'fixturenames', ()):
            item.add_marker(pytest.mark.jax)
