"""The array and pytree cells of the seed tutorials, run with only the imports changed.

Each cell is the seed's code; what it prints (and, like a notebook, the value
of its last expression) must match what JAX prints. Where the seed text shows
no output, the expected text was produced by running the cell with JAX 0.10.2;
`test_cells_match_installed_jax` re-runs every cell with JAX when it is installed.
Edits beyond imports: seed 002 without its torch/CUDA lines; seed 003 (older JAX)
with `jax.ops.index_update(x, idx, v)` -> `x.at[idx].set(v)` and `jax.tree_map`
-> `jax.tree.map`; `%timeit stmt` runs `stmt` once.
"""
import ast
import contextlib
import io

import numpy as np
import pytest

import tinygrad_tracer
import tinygrad_tracer.numpy


def change_imports(source, package):
    """The only edit: `jax` becomes `package` in import statements."""
    if package == 'jax':
        return source
    return (source.replace('import jax.numpy as jnp', f'import {package}.numpy as jnp')
                  .replace('from jax import', f'from {package} import')
                  .replace('import jax\n', f'import {package} as jax\n'))


def run_cells(cells, jax, jnp, ns=None):
    """Run notebook cells in one namespace; return each cell's printed text plus
    the repr of its final expression (what a notebook shows)."""
    ns = {'jax': jax, 'jnp': jnp, 'np': np} if ns is None else ns
    outputs = []
    for source in cells:
        source = change_imports(source + '\n', jax.__name__)
        source = '\n'.join(line.replace('%timeit ', '') for line in source.splitlines())
        tree = ast.parse(source)
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            exec(compile(tree, '<cell>', 'exec'), ns)
            if last is not None:
                value = eval(compile(ast.Expression(last.value), '<cell>', 'eval'), ns)
                if value is not None:
                    print(repr(value))
        outputs.append(buf.getvalue())
    return outputs


def ours(cells, ns=None):
    return run_cells(cells, tinygrad_tracer, tinygrad_tracer.numpy, ns)


# --- seed 001: "Getting started with JAX numpy" and "Differences from NumPy" ---------------------

SEED001 = [
    ("""
import jax
import jax.numpy as jnp

x = jnp.arange(10)
print(x)
""", "[0 1 2 3 4 5 6 7 8 9]\n"),
    ("x", "Array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], dtype=int32)\n"),
    ("""
long_vector = jnp.arange(int(1e7))

%timeit jnp.dot(long_vector, long_vector).block_until_ready()
""", "Array(-1039031360, dtype=int32)\n"),   # int32 wraps around, as on XLA
    ("""
import numpy as np

x = np.array([1, 2, 3])

def in_place_modify(x):
  x[0] = 123
  return None

in_place_modify(x)
x
""", "array([123,   2,   3])\n"),
    ("""
def jax_in_place_modify(x):
  return x.at[0].set(123)

y = jnp.array([1, 2, 3])
jax_in_place_modify(y)
""", "Array([123,   2,   3], dtype=int32)\n"),
    ("y", "Array([1, 2, 3], dtype=int32)\n"),
]


def test_seed001_cells():
    cells, expected = zip(*SEED001)
    assert ours(cells) == list(expected)


def test_seed001_in_place_modify_raises_with_the_fix():
    ns = {'jax': tinygrad_tracer, 'jnp': tinygrad_tracer.numpy, 'np': np}
    ours([SEED001[3][0]], ns)
    with pytest.raises(TypeError, match=r"JAX arrays are immutable\. Instead of `x\[0\] = 123`, "
                                        r"use `x = x\.at\[0\]\.set\(123\)`"):
        ours(["in_place_modify(jnp.array(x))  # Raises error when we cast input to jnp.ndarray"], ns)


# --- seed 002: "JAX Arrays manipulation" (no torch, no CUDA) ----------------------------------------

SEED002 = [
    ("""
# From data
data = [[1, 2, 3], [3, 4, 5]]
x_array = jnp.array(data)
assert isinstance(x_array, jax.Array)
print(x_array, x_array.shape, x_array.dtype)
""", "[[1 2 3]\n [3 4 5]] (2, 3) int32\n"),
    ("""
import numpy as np

np_array = np.array(data)
x_np = jnp.array(np_array)
assert isinstance(x_np, jax.Array)
print(x_np, x_np.shape, x_np.dtype)
# x_np is a copy of np_array
""", "[[1 2 3]\n [3 4 5]] (2, 3) int32\n"),
    ("""
x_ones = jnp.ones_like(x_array)
print(x_ones, x_ones.shape, x_ones.dtype)

x_zeros = jnp.zeros_like(x_array)
print(x_zeros, x_zeros.shape, x_zeros.dtype)
""", "[[1 1 1]\n [1 1 1]] (2, 3) int32\n[[0 0 0]\n [0 0 0]] (2, 3) int32\n"),
    ("""
shape = (2, 3)
ones_tensor = jnp.ones(shape)
zeros_tensor = jnp.zeros(shape)

seed = 123
key = jax.random.key(seed)
rand_tensor = jax.random.uniform(key, shape)

print(f"Random Tensor: \\n {rand_tensor} \\n")
print(f"Ones Tensor: \\n {ones_tensor} \\n")
print(f"Zeros Tensor: \\n {zeros_tensor}")
""", "Random Tensor: \n [[0.9490746  0.7997726  0.5088254 ]\n [0.2983067  0.24615324 0.13832462]] \n\n"
     "Ones Tensor: \n [[1. 1. 1.]\n [1. 1. 1.]] \n\nZeros Tensor: \n [[0. 0. 0.]\n [0. 0. 0.]]\n"),
    ("""
seed = 124
key = jax.random.key(seed)
rand_tensor1 = jax.random.uniform(key, (2, 3))
rand_tensor2 = jax.random.uniform(key, (2, 3))
assert (rand_tensor1 == rand_tensor2).all()

k1, k2 = jax.random.split(key, num=2)
rand_tensor1 = jax.random.uniform(k1, (2, 3))
rand_tensor2 = jax.random.uniform(k2, (2, 3))
assert (rand_tensor1 != rand_tensor2).all()
""", ""),
    ("""
x_jax = jnp.ones((3, 4))
print(f"Shape of tensor: {x_jax.shape}")
print(f"Datatype of tensor: {x_jax.dtype}")
print(f"Device tensor is stored on: {x_jax.device}")
""", "Shape of tensor: (3, 4)\nDatatype of tensor: float32\nDevice tensor is stored on: cpu:0\n"),
    ("""
x_jax = jnp.array([1, 2, 3, 4])
print(f"Default integer dtypes, Jax: {x_jax.dtype}")

x_jax = jnp.zeros((3, 4))
print(f"Default float dtypes, Jax: {x_jax.dtype}")
print(f"Default devices, Jax: {x_jax.device}")
""", "Default integer dtypes, Jax: int32\nDefault float dtypes, Jax: float32\nDefault devices, Jax: cpu:0\n"),
    ("""
print(f"Available devices given a backend (gpu or tpu or cpu): {jax.devices()}")
# Define CPU and CUDA devices
cpu_device = jax.devices("cpu")[0]
print(cpu_device)
""", "Available devices given a backend (gpu or tpu or cpu): [CpuDevice(id=0)]\ncpu:0\n"),
    ("""
# create an array on CPU and check the device
x_cpu = jnp.ones((3, 4), device=cpu_device)
print(x_cpu.device, )
""", "cpu:0\n"),
    ("""
x = jnp.ones((3, 4))

x.device, (x_cpu + x).device
""", "(CpuDevice(id=0), CpuDevice(id=0))\n"),
    ("""
x = jnp.ones((3, 4))
x_cpu = jax.device_put(x, device=jax.devices("cpu")[0])
print(f"{x.device} -> {x_cpu.device}")
""", "cpu:0 -> cpu:0\n"),
    ("""
tensor = jnp.ones((3, 4))
print(f"First row: {tensor[0]}")
print(f"First column: {tensor[:, 0]}")
print(f"Last column: {tensor[..., -1]}")

# Equivalent PyTorch op: tensor[:, 1] = 0
tensor = tensor.at[:, 1].set(0)

print(tensor)
""", "First row: [1. 1. 1. 1.]\nFirst column: [1. 1. 1.]\nLast column: [1. 1. 1.]\n"
     "[[1. 0. 1. 1.]\n [1. 0. 1. 1.]\n [1. 0. 1. 1.]]\n"),
    ("print(jnp.arange(10)[11])", "9\n"),
    ("""
t1 = jnp.concat([tensor, tensor, tensor], axis=1)
print(t1)
""", "[[1. 0. 1. 1. 1. 0. 1. 1. 1. 0. 1. 1.]\n [1. 0. 1. 1. 1. 0. 1. 1. 1. 0. 1. 1.]\n"
     " [1. 0. 1. 1. 1. 0. 1. 1. 1. 0. 1. 1.]]\n"),
    ("""
# ``tensor.T`` returns the transpose of a tensor
y1 = tensor @ tensor.T
y2 = jnp.matmul(tensor, tensor.T)

assert (y1 == y2).all()

# This computes the element-wise product. z1, z2 will have the same value
z1 = tensor * tensor
z2 = jnp.multiply(tensor, tensor)

assert (z1 == z2).all()
""", ""),
    ("""
agg = tensor.sum()
agg_value = agg.item()
print(agg_value, isinstance(agg_value, float), isinstance(agg, jax.Array))
""", "9.0 True True\n"),
    ("""
jax_array = jnp.ones((2, 3))
jax_array.sum(), jax_array.mean(), jax_array.min(), jax_array.max(), jax_array.dot(jax_array.T), # ...
""", "(Array(6., dtype=float32), Array(1., dtype=float32), Array(1., dtype=float32), Array(1., dtype=float32), "
     "Array([[3., 3.],\n       [3., 3.]], dtype=float32))\n"),
]


def test_seed002_cells():
    cells, expected = zip(*SEED002)
    assert ours(cells) == list(expected)


def test_seed002_item_assignment_message():
    ns = {'jax': tinygrad_tracer, 'jnp': tinygrad_tracer.numpy, 'np': np}
    out = ours(["""
x_jax = jnp.ones((3, 4))
try:
  x_jax[0, 0] = 100.0
except TypeError as e:
  print(e)
"""], ns)[0]
    assert 'JAX arrays are immutable' in out and '`x = x.at[0, 0].set(100.0)`' in out


# --- seed 003: the NumPy, .at and pytree parts ----------------------------------------------------------

SEED003 = [
    ("""
m = jnp.ones((4,4)) # We're generating one 4 by 4 matrix filled with ones.
n = jnp.array([[1.0, 2.0, 3.0, 4.0],
               [5.0, 6.0, 7.0, 8.0]]) # An explicit 2 by 4 array
m
""", "Array([[1., 1., 1., 1.],\n       [1., 1., 1., 1.],\n       [1., 1., 1., 1.],\n"
     "       [1., 1., 1., 1.]], dtype=float32)\n"),
    ("jnp.dot(n, m).block_until_ready() # Note: yields the same result as np.dot(m)",
     "Array([[10., 10., 10., 10.],\n       [26., 26., 26., 26.]], dtype=float32)\n"),
    ("""
x = jnp.array([[1.0, 2.0, 3.0, 4.0],
               [5.0, 6.0, 7.0, 8.0]])
np.array(x)
""", "array([[1., 2., 3., 4.],\n       [5., 6., 7., 8.]], dtype=float32)\n"),
    ("""
x = jnp.array([[1.0, 2.0, 3.0, 4.0],
               [5.0, 6.0, 7.0, 8.0]])
updated = x.at[(0, 0)].set(3.0) # whereas x[0,0] = 3.0 would fail
print("x: \\n", x) # Note that x didn't change, no in-place mutation.
print("updated: \\n", updated)
""", "x: \n [[1. 2. 3. 4.]\n [5. 6. 7. 8.]]\nupdated: \n [[3. 2. 3. 4.]\n [5. 6. 7. 8.]]\n"),
    ("""
x = jnp.array([[1.0, 2.0, 3.0, 4.0],
               [5.0, 6.0, 7.0, 8.0]])
x.at[0, :].set(3.0) # Same as x[O,:] = 3.0 in NumPy.
""", "Array([[3., 3., 3., 3.],\n       [5., 6., 7., 8.]], dtype=float32)\n"),
    ("x.at[0, :].set(3.0) # Note: this returns a new array and doesn't mutate in place.",
     "Array([[3., 3., 3., 3.],\n       [5., 6., 7., 8.]], dtype=float32)\n"),
    ("""
from jax import tree_util

t = [1, {"k1": 2, "k2": (3, 4)}, 5]
tree_util.tree_map(lambda x: x*x, t)
""", "[1, {'k1': 4, 'k2': (9, 16)}, 25]\n"),
    ("""
t2 = tree_util.tree_map(lambda x: x*x, t)
tree_util.tree_map(lambda x,y: x+y, t, t2)
""", "[2, {'k1': 6, 'k2': (12, 20)}, 30]\n"),
    ("""
leaves = [len(tree_util.tree_leaves(t)) for t in (
    [1, "a", object()], # 3 leaves: 1, "a" and object()
    (1, (2, 3), ()), # 3 leaves: 1, 2 and 3
    [1, {"k1": 2, "k2": (3, 4)}, 5], # 5 leaves: 1, 2, 3, 4, 5
)]
leaves
""", "[3, 3, 5]\n"),
    ("""
# The pytree update of the linear-regression example, with given gradients.
params = {'W': jnp.zeros((3, 2)), 'b': jnp.zeros(2)}
grads = {'W': jnp.ones((3, 2)), 'b': jnp.array([1.0, -2.0])}
learning_rate = 0.3
params = jax.tree.map(
      lambda p, g: p - learning_rate * g, params, grads)
params['b'], jax.tree.structure(params)
""", "(Array([-0.3,  0.6], dtype=float32), PyTreeDef({'W': *, 'b': *}))\n"),
]


def test_seed003_cells():
    cells, expected = zip(*SEED003)
    assert ours(cells) == list(expected)


def test_seed003_numpy_interop():
    # `x = np.random.normal(size=(4,4))`: the values are random, so check the
    # results against NumPy instead of the printed digits.
    ns = {'jax': tinygrad_tracer, 'jnp': tinygrad_tracer.numpy, 'np': np}
    np.random.seed(0)
    out = ours(["""
m = jnp.ones((4,4))
x = np.random.normal(size=(4,4)) # Creating one standard NumPy array instance
jnp.dot(x,m)
""", """
x = np.random.normal(size=(4,4))
x = jax.device_put(x)
x
"""], ns)
    np.random.seed(0)
    x1 = np.random.normal(size=(4, 4)).astype(np.float32)
    x2 = np.random.normal(size=(4, 4)).astype(np.float32)
    assert out[0] == repr(tinygrad_tracer.Array(x1 @ np.ones((4, 4), np.float32))) + '\n'
    assert out[0].startswith('Array([[') and out[0].endswith('dtype=float32)\n')
    assert out[1] == repr(tinygrad_tracer.Array(x2)) + '\n'
    assert isinstance(ns['x'], tinygrad_tracer.Array) and ns['x'].dtype == np.float32


def test_cells_match_installed_jax(real_jax):
    jax = real_jax
    import jax.numpy as jjnp
    for seed in (SEED001, SEED002, SEED003):
        cells, expected = zip(*seed)
        assert run_cells(cells, jax, jjnp) == list(expected)
