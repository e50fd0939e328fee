"""Gaps found by running JAX's own tutorial pages cell by cell (tools/tutorial_cells.py).

Each test is one difference that page printed, now closed: the digits XLA:CPU
computes (its order of sums in a vector product, square-and-multiply powers,
linspace's fused loop, the C library's sinf, multiply-adds contracted under
jit), written down where
the tutorial printed them and cross-checked against JAX where it is installed.
"""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tinygrad_tracer as jax
import tinygrad_tracer.numpy as jnp
from tinygrad_tracer import lax, xla_math

ROOT = Path(__file__).resolve().parents[1]


def bits(x):
    return np.asarray(x).tolist()


# --- automatic-differentiation.md: the logistic regression's gradient ----------------------

def _logistic_regression(jax, jnp):
    """The tutorial's model and data, and its random W and b."""
    inputs = jnp.array([[0.52, 1.12, 0.77], [0.88, -1.08, 0.15],
                        [0.52, 0.06, -1.30], [0.74, -2.49, 1.39]])
    targets = jnp.array([True, True, False, True])

    def loss(W, b):
        preds = 0.5 * (jnp.tanh((jnp.dot(inputs, W) + b) / 2) + 1)
        label_probs = preds * targets + (1 - preds) * (1 - targets)
        return -jnp.sum(jnp.log(label_probs))
    _, W_key, b_key = jax.random.split(jax.random.key(0), 3)
    return loss, jax.random.normal(W_key, (3,)), jax.random.normal(b_key, ())


def test_tutorial_gradient_prints_jaxs_digits():
    """The page printed W_grad=[-0.433146, -0.7354605, -1.2598922], b_grad=-0.69001776;
    with NumPy's (BLAS) order of sums in the two matrix-vector products we printed
    -0.73546046, -1.2598923 and -0.6900179."""
    loss, W, b = _logistic_regression(jax, jnp)
    W_grad, b_grad = jax.grad(loss, (0, 1))(W, b)
    assert bits(W_grad) == [-0.43314599990844727, -0.7354605197906494, -1.259892225265503]
    assert bits(b_grad) == -0.6900177597999573


# The vector products whose order we know (see `_lax_xla.vector_dot`): m.v contracting
# the matrix's first axis with n >= 3 outputs (not 8k+1), its last axis with n < 8 rows.
VECTOR_PRODUCTS = [(case, K, n) for K in [1, 3, 7, 8, 13, 32] for case, n in
                   [('vv', 1), ('mv', 3), ('mv', 7), ('vmT', 5), ('vm', 3), ('vm', 16), ('mTv', 5),
                    ('mTv', 30)]]


@pytest.mark.parametrize('case, K, n', VECTOR_PRODUCTS)
def test_vector_products_sum_in_xlas_order(real_jax, case, K, n):
    """These float32 vector products, eager and under jit, give JAX's bits. (Other
    shapes: NumPy's BLAS order, an ulp from XLA's in some elements, see the README.)"""
    rng = np.random.default_rng(K * 100 + n)
    vec = rng.standard_normal(K).astype(np.float32)
    other = {'vv': (K,), 'mv': (n, K), 'vm': (K, n), 'mTv': (K, n), 'vmT': (n, K)}[case]
    mat = rng.standard_normal(other).astype(np.float32)
    dn = {'vv': ((0,), (0,)), 'mv': ((1,), (0,)), 'vm': ((0,), (0,)),
          'mTv': ((0,), (0,)), 'vmT': ((0,), (1,))}[case]
    args = (mat, vec) if case in ('mv', 'mTv') else (vec, mat)

    def f(lax):
        return lambda x, y: lax.dot_general(x, y, (dn, ((), ())))
    want = bits(real_jax.jit(f(real_jax.lax))(*args))
    assert bits(real_jax.lax.dot_general(*args, (dn, ((), ())))) == want   # JAX: eager == jit
    assert bits(f(lax)(*args)) == want
    assert bits(jax.jit(f(lax))(*args)) == want


# --- thinking_in_jax.md: powers, linspace, contracted multiply-adds ------------------------

def test_integer_pow_multiplies_as_xla():
    """x ** 3 is x * (x * x), rounded after each product (NumPy's pow rounds once)."""
    x = jnp.asarray(np.float32(3.1))
    assert bits(lax.integer_pow(x, 3)) == 29.790998458862305
    assert bits(x ** 3) == bits(jax.jit(lambda x: x ** 3)(x))
    assert bits(lax.integer_pow(x, -3)) == bits(np.float32(1) / np.float32(29.790998458862305))


def test_integer_pow_matches_jax(real_jax):
    x = (np.random.default_rng(0).standard_normal(2000) * 3).astype(np.float32)
    for y in [-4, -3, -1, 0, 1, 2, 3, 5, 8]:
        assert bits(lax.integer_pow(x, y)) == bits(real_jax.lax.integer_pow(x, y)), y
    ints = np.arange(-5, 6, dtype=np.int32)
    assert bits(lax.integer_pow(ints, 7)) == bits(real_jax.lax.integer_pow(ints, 7))


def test_linspace_prints_xlas_fused_values():
    """jnp.linspace(0, 10, 1000) as the page plots it (op by op, value 3 is 0.030030030...)."""
    x = jnp.linspace(0, 10, 1000)
    assert bits(x[np.array([3, 6, 9, 500, 998, 999])]) == [
        0.030030028894543648, 0.060060057789087296, 0.09009008854627609,
        5.0050048828125, 9.989989280700684, 10.0]


@pytest.mark.parametrize('args', [(0, 10, 1000), (-3.0, 2.0, 77), (1.0, -2.0, 13), (0.0, 1e-3, 1001),
                                  (2, 9, 7), (np.array([0.0, 1.0]), np.array([5.0, -2.0]), 13)])
def test_linspace_matches_jax(real_jax, args):
    assert bits(jnp.linspace(*args)) == bits(real_jax.numpy.linspace(*args))


def test_sin_cos_tan_are_the_c_librarys():
    """XLA:CPU calls sinf/cosf/tanf; their last digit is not always the correctly
    rounded one (0.13728392...) that the float64 detour gives."""
    x = np.float32(0.13771885633468628)
    assert bits(jnp.sin(x)) == 0.13728393614292145
    assert bits(jax.jit(jnp.sin)(x)) == 0.13728393614292145


@pytest.mark.parametrize('name', ['sin', 'cos', 'tan'])
def test_sin_cos_tan_match_jax(real_jax, name):
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.standard_normal(5000) * 3, rng.standard_normal(300) * 1e4,
                        [0.0, -0.0, np.inf, np.nan, 1e-40]]).astype(np.float32)
    # (a large array calls sinf from a Numba ufunc, a small one through ctypes)
    for values in (x, x[-400:], x[-400:].astype(np.float16)):
        want = np.asarray(getattr(real_jax.numpy, name)(values))   # (nan at inf: compared equal)
        for got in (getattr(jnp, name)(values), jax.jit(getattr(jnp, name))(values)):
            assert np.asarray(got).dtype == want.dtype
            np.testing.assert_array_equal(np.asarray(got), want)


def test_sigmoid_is_xlas_formula(real_jax):
    """jax.nn.sigmoid is 1 / (1 + exp(-x)) in float32 on XLA's exp (NumPy's float64
    detour was an ulp off in a third of the values), eager and under jit. (Below
    -87.3, where the result is subnormal, XLA flushes it to 0: we keep it.)"""
    x = np.random.default_rng(4).uniform(-87, 87, 20000).astype(np.float32)
    want = bits(real_jax.nn.sigmoid(x))
    assert bits(jax.nn.sigmoid(x)) == want
    assert bits(jax.jit(jax.nn.sigmoid)(x)) == want


def test_jit_contracts_a_multiply_into_the_add_it_feeds():
    """Under jit XLA:CPU (LLVM) fuses a*b+c into one fused multiply-add when the product
    has no other use; so do our kernels, so jit prints JAX's jit digits."""
    rng = np.random.default_rng(1)
    a, b, c = (rng.standard_normal(1000).astype(np.float32) for _ in range(3))
    assert bits(jax.jit(lambda a, b, c: a * b + c)(a, b, c)) == bits(xla_math.fma(a, b, c))
    assert bits(jax.jit(lambda a, b, c: c - a * b)(a, b, c)) == bits(xla_math.fma(-a, b, c))
    reused = jax.jit(lambda a, b, c: (a * b + c) * (a * b))(a, b, c)
    assert bits(reused) == bits((a * b + c) * (a * b))   # the product is used twice: no fma


def test_grad_of_jitted_grads_prints_jaxs_digits():
    """thinking_in_jax prints grad(jit(grad(jit(grad(sum_logistic)))))(1.0) as -0.0353256
    (eager, without the contractions, it is -0.035325605, in JAX as here)."""
    def sum_logistic(x):
        return jnp.sum(1.0 / (1.0 + jnp.exp(-x)))
    g = jax.grad
    assert bits(g(jax.jit(g(jax.jit(g(sum_logistic)))))(1.0)) == -0.03532560169696808
    assert bits(g(g(g(sum_logistic)))(1.0)) == -0.03532560542225838


def test_contractions_match_jax(real_jax):
    rng = np.random.default_rng(2)
    a, b, c = (rng.standard_normal(500).astype(np.float32) for _ in range(3))
    programs = [lambda np_: lambda a, b, c: a * b + c,
                lambda np_: lambda a, b, c: (a * b + c) * 2 + a,
                lambda np_: lambda a, b, c: a * b + c * a,
                lambda np_: lambda a, b, c: np_.tanh(a * b + c) * c - a,
                lambda np_: lambda a, b, c: np_.where(a > 0, a * b - c, c * 0.5)]
    for p in programs:
        assert bits(jax.jit(p(jnp))(a, b, c)) == bits(real_jax.jit(p(real_jax.numpy))(a, b, c))


# --- the harness itself ---------------------------------------------------------------------

def test_harness_compares_cells(real_jax, tmp_path):
    """tools/tutorial_cells.py runs a page's cells with each library and matches them
    cell by cell: printed text and a last expression's repr, errors by their presence."""
    page = tmp_path / 'page.md'
    page.write_text("```{code-cell}\nimport jax.numpy as jnp\nx = jnp.arange(3.0)\n```\n\n"
                    "```{code-cell}\n%timeit x + 1\nprint(x * 2)\nx.sum()\n```\n\n"
                    "```{code-cell}\n:tags: [raises-exception]\n\nx[0] = 1\n```\n")
    run = [sys.executable, str(ROOT / 'tools' / 'tutorial_cells.py'), '--child']
    for mode in ('jax', 'tinygrad'):
        out = subprocess.run(run + [mode, str(page)], capture_output=True, text=True, check=True)
        cells = json.loads(out.stdout.splitlines()[-1])
        assert [c['out'] for c in cells] == ['', '[0. 2. 4.]\nArray(3., dtype=float32)\n', '']
        assert [c['error'] is not None for c in cells] == [False, False, True]
    summary = subprocess.run([sys.executable, str(ROOT / 'tools' / 'tutorial_cells.py'), str(page)],
                             capture_output=True, text=True, check=True).stdout
    assert 'page.md' in summary and '3/3' in summary
