"""Exercise 17 (solution): strided slices stacked into patches, one matmul with the kernels."""
import tinygrad_tracer.numpy as jnp


def out_size(size, k, stride, pads):
    return (size + pads[0] + pads[1] - k) // stride + 1


def im2col(x, kh, kw, strides, padding):
    n, c, h, w = x.shape
    (sh, sw), (pad_h, pad_w) = strides, padding
    oh, ow = out_size(h, kh, sh, pad_h), out_size(w, kw, sw, pad_w)
    xp = jnp.pad(x, ((0, 0), (0, 0), pad_h, pad_w))
    taps = [xp[:, :, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw]
            for i in range(kh) for j in range(kw)]              # each (n, c, oh, ow)
    patches = jnp.stack(taps, axis=2)                           # (n, c, kh * kw, oh, ow)
    patches = patches.reshape(n, c * kh * kw, oh * ow)          # columns in the order (c, i, j)
    return patches.transpose(0, 2, 1).reshape(n * oh * ow, c * kh * kw)


def conv2d(x, w, strides, padding):
    n, _, h, wd = x.shape
    o, c, kh, kw = w.shape
    oh, ow = out_size(h, kh, strides[0], padding[0]), out_size(wd, kw, strides[1], padding[1])
    out = im2col(x, kh, kw, strides, padding) @ w.reshape(o, c * kh * kw).T   # the one matmul
    return out.reshape(n, oh, ow, o).transpose(0, 3, 1, 2)
