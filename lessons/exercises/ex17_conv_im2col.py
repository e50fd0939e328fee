"""Exercise 17: a 2-D convolution as im2col and ONE matrix product.

Read first: lessons/14_cnn.py ("A convolution is one primitive"), the
docstring of tinygrad_tracer/_lax_conv.py (the primitive's impl does the
same in NumPy, for every layout).

`lax.conv_general_dilated(x, w, strides, padding)` with x of shape (N, C, H, W)
(images), w of shape (O, C, KH, KW) (kernels) and explicit padding
((top, bottom), (left, right)) computes
    out[n, o, y, z] = sum_{c, i, j} xp[n, c, y*sh + i, z*sw + j] * w[o, c, i, j]
where xp is x padded with zeros. Write it with jnp operations, so that grad
and jit go through it:
  * `im2col(x, kh, kw, strides, padding)`: pad x, then cut every window of
    size (kh, kw) the strides reach into one row: a matrix of shape
    (N * OH * OW, C * KH * KW), rows in the order (n, y, z), columns in the
    order (c, i, j) (the order of `w.reshape(O, C * KH * KW)`). A Python
    loop over the KH * KW taps is fine: each tap is one strided slice
    `xp[:, :, i:i + sh * (OH - 1) + 1:sh, j:...]`, of shape (N, C, OH, OW);
    stack them, then reshape and transpose.
  * `conv2d(x, w, strides, padding)`: im2col, then ONE matmul with the
    flattened kernels, then back to (N, O, OH, OW). The check asks the jaxpr
    for exactly one dot_general.
OH = (H + top + bottom - KH) // sh + 1, and OW likewise.

Check:  python lessons/exercises/ex17_conv_im2col.py
   or:  TT_EXERCISES=lessons/exercises python -m pytest tests/test_exercises.py -m ex17
"""
import tinygrad_tracer.numpy as jnp  # noqa: F401  (you will need it)


def _todo(function):
    return NotImplementedError(
        f"ex17 is not done yet: write {function} in lessons/exercises/ex17_conv_im2col.py "
        "(read first: lessons/14_cnn.py, tinygrad_tracer/_lax_conv.py)")


def out_size(size, k, stride, pads):
    return (size + pads[0] + pads[1] - k) // stride + 1


def im2col(x, kh, kw, strides, padding):
    raise _todo('im2col')   # YOUR CODE HERE: an (N * OH * OW, C * KH * KW) matrix


def conv2d(x, w, strides, padding):
    raise _todo('conv2d')   # YOUR CODE HERE: an (N, O, OH, OW) array


if __name__ == '__main__':
    import classroom
    classroom.check(__file__)
