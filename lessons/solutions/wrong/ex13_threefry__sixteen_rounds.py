"""WRONG (sixteen_rounds): the tests of ex13 must fail on this.
Exercise 13 (solution): 20 rounds of add, rotate, xor, with key injections."""
import numpy as np

ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
PARITY = np.uint32(0x1BD11BDA)


def rotate_left(v, r):
    return (v << np.uint32(r)) | (v >> np.uint32(32 - r))


def threefry2x32(k1, k2, x1, x2):
    """(y1, y2), uint32 arrays of x1's shape; k1, k2 are uint32 scalars."""
    ks = [np.uint32(k1), np.uint32(k2), np.uint32(k1) ^ np.uint32(k2) ^ PARITY]
    x1, x2 = np.asarray(x1, np.uint32) + ks[0], np.asarray(x2, np.uint32) + ks[1]
    for group in range(4):
        for r in ROTATIONS[group % 2]:
            x1 = x1 + x2
            x2 = rotate_left(x2, r) ^ x1
        x1 = x1 + ks[(group + 1) % 3]
        x2 = x2 + ks[(group + 2) % 3] + np.uint32(group + 1)
    return x1, x2
