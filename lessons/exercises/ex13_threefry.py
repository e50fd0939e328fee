"""Exercise 13: threefry2x32, the hash under every jax.random number, in NumPy.

Read first: tinygrad_tracer/prng.py (threefry2x32 and how split uses it).

Threefry-2x32 hashes two uint32 words (x1, x2) under a key (k1, k2). The key
schedule has three words: k1, k2 and k1 ^ k2 ^ PARITY. First x1 += ks[0],
x2 += ks[1]. Then 5 groups of 4 rounds; group g uses ROTATIONS[g % 2], and
each round with rotation r does
    x1 = x1 + x2;  x2 = rotate_left(x2, r) ^ x1
where rotate_left(v, r) = (v << r) | (v >> (32 - r)) on 32 bits. After
group g, inject the key: x1 += ks[(g + 1) % 3], x2 += ks[(g + 2) % 3] + (g + 1).
All arithmetic wraps around modulo 2**32: keep every value np.uint32.

Check:  python lessons/exercises/ex13_threefry.py
   or:  TT_EXERCISES=lessons/exercises python -m pytest tests/test_exercises.py -m ex13
"""
import numpy as np  # noqa: F401

ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
PARITY = np.uint32(0x1BD11BDA)


def threefry2x32(k1, k2, x1, x2):
    """(y1, y2), uint32 arrays of x1's shape; k1, k2 are uint32 scalars."""
    # YOUR CODE HERE
    raise NotImplementedError(
        "ex13 is not done yet: write threefry2x32 in lessons/exercises/ex13_threefry.py "
        "(read first: tinygrad_tracer/prng.py, threefry2x32)")


if __name__ == '__main__':
    import classroom
    classroom.check(__file__)
