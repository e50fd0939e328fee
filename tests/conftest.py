import os

# The CUDA simulator must be chosen before numba is imported anywhere.
os.environ.setdefault('NUMBA_ENABLE_CUDASIM', '1')

import pytest  # noqa: E402

from tinygrad_tracer import config  # noqa: E402


@pytest.fixture
def x64():
    """Run a test with 64-bit types on (finite differences need the precision)."""
    config.update('jax_enable_x64', True)
    try:
        yield
    finally:
        config.update('jax_enable_x64', False)
