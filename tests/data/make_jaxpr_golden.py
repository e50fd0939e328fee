"""Write jaxprs_golden.txt: the jaxpr JAX prints for each function of jaxpr_cases.py.

Run with JAX 0.10.2 installed (CI's JAX environment), from the repository root:

    python tests/data/make_jaxpr_golden.py

The file holds one block per case: a `## name` line, then the printout.
"""
import pathlib
import sys

import jax
import jax.numpy as jnp
from jax import lax

HERE = pathlib.Path(__file__).parent
sys.path.insert(0, str(HERE))
from jaxpr_cases import cases  # noqa: E402


def main():
    blocks = [f"## {name}\n{jax.make_jaxpr(f)(*args)}\n"
              for name, (f, args) in cases(jax, jnp, lax).items()]
    (HERE / 'jaxprs_golden.txt').write_text(f"# jax {jax.__version__}\n" + ''.join(blocks))


if __name__ == '__main__':
    main()
