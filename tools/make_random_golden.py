"""Write tests/data/random_golden.json: what real JAX's `jax.random` returns.

Run once, by hand, where JAX is installed (the tests themselves never import
JAX; they compare tinygrad_tracer.random against this file):

    python tools/make_random_golden.py

For both settings of `jax_threefry_partitionable` (True: JAX's current bit
stream, False: the stream of older JAX) and for several keys, the file records
the result of each sampler for a few shapes, dtypes and parameters. Floats are
stored as their IEEE bit patterns (uint32 for float32, uint16 for
float16/bfloat16), so the tests compare bit for bit.

Argument encoding (decoded by tests/test_random.py):
    {"tuple": [...]}                 a tuple (shapes)
    {"array": [...], "dtype": "..."} an array
    {"dtype": "..."}                 a dtype
    anything else                    the JSON value itself
"""
import json
import os
import sys

import numpy as np

import jax
import jax.numpy as jnp

OUT = os.path.join(os.path.dirname(__file__), '..', 'tests', 'data', 'random_golden.json')

SEEDS = [0, 42, 2**31 + 5, -7]


def enc(v):
    """An argument, as JSON."""
    if isinstance(v, tuple):
        return {"tuple": [enc(x) for x in v]}
    if isinstance(v, np.ndarray):
        return {"array": v.tolist(), "dtype": v.dtype.name}
    if isinstance(v, type) or isinstance(v, np.dtype):
        return {"dtype": np.dtype(v).name}
    return v


def bits_of(x):
    """A result as (dtype name, shape, flat list of ints: values or float bit patterns)."""
    x = np.asarray(x)
    if x.dtype.kind == 'f' or x.dtype.name == 'bfloat16':
        flat = x.reshape(-1).view(f'uint{8 * x.dtype.itemsize}')
    elif x.dtype == np.bool_:
        flat = x.reshape(-1).astype(np.uint8)
    else:
        flat = x.reshape(-1)
    return {"dtype": x.dtype.name, "shape": list(x.shape), "data": [int(v) for v in flat]}


def F(*values, dtype='float32'):
    return np.array(values, dtype=dtype)


# (function name, positional args after the key, keyword args).
CASES = [
    ("split", (), {}),
    ("split", (3,), {}),
    ("split", ((2, 3),), {}),
    ("fold_in", (0,), {}),
    ("fold_in", (12345,), {}),
    ("fold_in", (2**32 - 1,), {}),
    ("bits", ((),), {}),
    ("bits", ((3,),), {}),
    ("bits", ((2, 5),), {}),
    ("bits", ((7,),), {"dtype": np.uint8}),
    ("bits", ((2, 3),), {"dtype": np.uint16}),
    ("uniform", ((),), {}),
    ("uniform", ((3,),), {}),
    ("uniform", ((2, 5),), {}),
    ("uniform", ((2, 5),), {"minval": -2.5, "maxval": 3.7}),
    ("uniform", ((4,),), {"minval": F(0.0, 1.0, -3.0, 10.0), "maxval": 20.0}),
    ("uniform", ((5,),), {"dtype": np.float16}),
    ("uniform", ((5,),), {"dtype": 'bfloat16'}),
    ("normal", ((),), {}),
    ("normal", ((1,),), {}),
    ("normal", ((3,),), {}),
    ("normal", ((2, 5),), {}),
    ("normal", ((5,),), {"dtype": np.float16}),
    ("truncated_normal", (-1.0, 2.0, (2, 5)), {}),
    ("truncated_normal", (0.5, 3.0, (3,)), {}),
    ("truncated_normal", (F(-2.0, 0.0, 1.0), F(-1.0, 0.5, 4.0)), {}),
    ("randint", ((), 0, 10), {}),
    ("randint", ((3,), 0, 10), {}),
    ("randint", ((2, 5), -5, 5), {}),
    ("randint", ((6,), -2**31, 2**31 - 1), {}),
    ("randint", ((3,), 3, 3), {}),
    ("randint", ((4,), 7, 2), {}),
    ("randint", ((5,), 0, 256), {"dtype": np.uint8}),
    ("randint", ((5,), -100, 100), {"dtype": np.int8}),
    ("randint", ((5,), 0, 1000), {"dtype": np.int16}),
    ("randint", ((5,), 5, 2**31 - 1), {"dtype": np.uint32}),
    ("randint", ((5,), 10, 300), {"dtype": np.uint8}),
    ("bernoulli", (), {}),
    ("bernoulli", (0.3, (2, 5)), {}),
    ("bernoulli", (F(0.1, 0.5, 0.9),), {}),
    ("permutation", (10,), {}),
    ("permutation", (F(0.5, 1.5, 2.5, 3.5, 4.5, 5.5),), {}),
    ("permutation", (np.arange(12, dtype=np.int32).reshape(3, 4),), {}),
    ("permutation", (np.arange(12, dtype=np.int32).reshape(3, 4),), {"axis": 1}),
    ("permutation", (np.arange(12, dtype=np.int32).reshape(3, 4),), {"axis": 1, "independent": True}),
    ("choice", (10,), {}),
    ("choice", (10, (5,)), {}),
    ("choice", (10, (4,)), {"replace": False}),
    ("choice", (F(1.0, 2.0, 3.0, 4.0, 5.0), (2, 3)), {}),
    ("choice", (5, (8,)), {"p": F(0.1, 0.2, 0.3, 0.2, 0.2)}),
    ("choice", (5, (3,)), {"replace": False, "p": F(0.1, 0.2, 0.3, 0.2, 0.2)}),
    ("choice", (np.arange(12, dtype=np.int32).reshape(3, 4), (2,)), {"axis": 1, "replace": False}),
    ("categorical", (F(0.0, 1.0, 2.0, 3.0),), {}),
    ("categorical", (F(0.0, 1.0, 2.0, 3.0), -1, (6,)), {}),
    ("categorical", (np.log(F(0.1, 0.2, 0.3, 0.4, 0.1, 0.1, 0.1, 0.7, 0.5, 0.2, 0.2, 0.1)).reshape(3, 4),), {}),
    ("categorical", (np.log(F(0.1, 0.2, 0.3, 0.4, 0.1, 0.1, 0.1, 0.7, 0.5, 0.2, 0.2, 0.1)).reshape(3, 4),),
     {"axis": 0}),
    ("categorical", (F(0.0, 1.0, 2.0, 3.0, 0.5),), {"shape": (3,), "replace": False}),
    ("gumbel", ((),), {}),
    ("gumbel", ((3,),), {}),
    ("gumbel", ((2, 5),), {}),
]


def key_entries(partitionable):
    keys = [("PRNGKey(%d)" % s, jax.random.PRNGKey(s)) for s in SEEDS]
    keys.append(("split(PRNGKey(1))[1]", jax.random.split(jax.random.PRNGKey(1))[1]))
    out = []
    for name, key in keys:
        results = []
        for fn, args, kwargs in CASES:
            value = getattr(jax.random, fn)(key, *args, **kwargs)
            results.append({"fn": fn, "args": [enc(a) for a in args],
                            "kwargs": {k: enc(v) for k, v in kwargs.items()},
                            "out": bits_of(value)})
        out.append({"name": name, "key": [int(v) for v in np.asarray(key)], "results": results})
    return out


def seeds_table():
    """How seeds become keys (independent of the bit-stream flag)."""
    seeds = [0, 1, 42, -1, -7, 2**31 - 1, 2**31, 2**31 + 5, 2**32 - 1, 2**32, 2**32 + 3,
             2**40 + 17, -2**31, -2**40 - 3, 2**63 - 1, -2**63]
    return [{"seed": s, "key": [int(v) for v in np.asarray(jax.random.PRNGKey(s))]} for s in seeds]


def large_draws(partitionable):
    """Longer float32 streams, to exercise every rounding path of erf_inv / log."""
    key = jax.random.PRNGKey(2024)
    return {
        "normal": bits_of(jax.random.normal(key, (1000,))),
        "uniform_scaled": bits_of(jax.random.uniform(key, (500,), minval=-1.3, maxval=2.9)),
        "gumbel": bits_of(jax.random.gumbel(key, (500,))),
        "truncated_normal": bits_of(jax.random.truncated_normal(key, -0.7, 1.9, (500,))),
    }


def tutorial_cells():
    """The random numbers the seed tutorials print (run with the current flag)."""
    cells = {}
    # seed 002 (JAX for PyTorch users)
    key = jax.random.key(123)
    cells["uniform(key(123), (2, 3))"] = bits_of(jax.random.uniform(key, (2, 3)))
    key, w_key, b_key = jax.random.split(jax.random.key(123), 3)
    w = jax.random.normal(w_key, (5, 3))
    b = jax.random.normal(b_key, (3,))
    cells["compute_loss w"] = bits_of(w)
    cells["compute_loss b"] = bits_of(b)
    cells["compute_loss key"] = bits_of(jax.random.key_data(key))
    y_pred = jnp.matmul(jnp.ones(5), w) + b
    cells["compute_loss loss"] = bits_of(jnp.mean((jnp.zeros(3) - y_pred) ** 2))
    # seed 003 (PRNG section and the linear-regression data)
    key = jax.random.PRNGKey(0)
    cells["normal(PRNGKey(0), (1,))"] = bits_of(jax.random.normal(key, (1,)))
    k, sub = jax.random.split(key)
    cells["split(PRNGKey(0))"] = bits_of(jnp.stack([k, sub]))
    cells["normal(split[0], (1,))"] = bits_of(jax.random.normal(k, (1,)))
    cells["normal(split[1], (1,))"] = bits_of(jax.random.normal(sub, (1,)))
    cells["split(split[0], 4)"] = bits_of(jax.random.split(k, 4))
    cells["normal(PRNGKey(0), (4,))"] = bits_of(jax.random.normal(key, (4,)))
    cells["normal(PRNGKey(0), (5,))"] = bits_of(jax.random.normal(key, (5,)))
    k1, k2 = jax.random.split(key)
    cells["linreg W"] = bits_of(jax.random.normal(k1, (10, 5)))
    cells["linreg b"] = bits_of(jax.random.normal(k2, (5,)))
    key_sample, key_noise = jax.random.split(k1)
    cells["linreg x_samples"] = bits_of(jax.random.normal(key_sample, (20, 10)))
    cells["linreg noise"] = bits_of(jax.random.normal(key_noise, (20, 5)))
    return cells


def main():
    data = {"jax_version": jax.__version__, "seeds": seeds_table(), "modes": {}}
    for partitionable in (True, False):
        jax.config.update('jax_threefry_partitionable', partitionable)
        data["modes"][str(partitionable)] = {
            "keys": key_entries(partitionable),
            "large": large_draws(partitionable),
            "tutorial": tutorial_cells(),
        }
    jax.config.update('jax_threefry_partitionable', True)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, 'w') as f:
        json.dump(data, f, separators=(',', ':'))
        f.write('\n')
    print(f"wrote {os.path.normpath(OUT)} ({os.path.getsize(OUT) / 1024:.0f} KiB)", file=sys.stderr)


if __name__ == '__main__':
    main()
