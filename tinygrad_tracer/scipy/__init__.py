"""`jax.scipy`: `special`, `stats` and `linalg`, written on the public API."""
from . import special, linalg, stats   # noqa: F401
