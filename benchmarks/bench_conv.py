"""Convolutions under jit: a ResNet18 forward pass (seed 002's model, eval mode)
on a 4x32x32x3 batch, tinygrad_tracer's jit (Numba; convolutions and pooling run
on the host as im2col + one BLAS matmul per feature group) against JAX's jit.

    python benchmarks/bench_conv.py           # about a minute; prints milliseconds per call
    python benchmarks/bench_conv.py --quick   # the first two blocks on one 16x16 image: seconds

The network is written once as a function of a parameter dict and the library
(`lax`, `numpy`), so both libraries run the same arithmetic on the same
parameters (drawn with NumPy; the point is speed, not Flax's bits).
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))

import tinygrad_tracer as tt   # noqa: E402

try:
    import jax
except ImportError:   # the JAX row is skipped
    jax = None

NHWC = ('NHWC', 'HWIO', 'NHWC')
# (in planes, out planes, downsample) of the eight BasicBlocks
BLOCKS = [(64, 64, False), (64, 64, False), (64, 128, True), (128, 128, False),
          (128, 256, True), (256, 256, False), (256, 512, True), (512, 512, False)]


def make_params(rng, n_blocks=len(BLOCKS)):
    conv = lambda k, i, o: (rng.standard_normal((k, k, i, o)) / np.sqrt(k * k * i)).astype(np.float32)
    bn = lambda n: (np.ones(n, np.float32), np.zeros(n, np.float32))
    planes = BLOCKS[n_blocks - 1][1]   # what the last block puts out
    params = {'stem': conv(3, 3, 64), 'stem_bn': bn(64), 'blocks': [],
              'fc': (rng.standard_normal((planes, 10)) / np.sqrt(planes)).astype(np.float32)}
    for i, o, down in BLOCKS[:n_blocks]:
        params['blocks'].append({'conv1': conv(3, i, o), 'bn1': bn(o), 'conv2': conv(3, o, o), 'bn2': bn(o),
                                 'conv3': conv(1, i, o) if down else None, 'bn3': bn(o) if down else None})
    return params


def forward(lib, params, x):
    lax, np_ = lib.lax, lib.numpy
    conv = lambda x, w, s, pad: lax.conv_general_dilated(x, w, (s, s), pad, dimension_numbers=NHWC)
    bn = lambda x, p: x * (p[0] / np.sqrt(1 + 1e-5)) + p[1]     # eval mode: running stats 0 and 1
    relu = lambda x: np_.maximum(x, 0.0)
    x = relu(bn(conv(x, params['stem'], 1, 'SAME'), params['stem_bn']))
    x = lax.reduce_window(x, -np.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), 'VALID')
    for (_, _, down), b in zip(BLOCKS, params['blocks']):
        s = 2 if down else 1
        out = relu(bn(conv(x, b['conv1'], s, 'SAME'), b['bn1']))
        out = bn(conv(out, b['conv2'], 1, 'SAME'), b['bn2'])
        shortcut = bn(conv(x, b['conv3'], 2, 'VALID'), b['bn3']) if down else x
        x = relu(out + shortcut)
    x = np_.mean(x, axis=(1, 2))
    return x @ params['fc']


def median_ms(fn, calls=10):
    fn()   # warm-up: traces and compiles
    times = []
    for _ in range(calls):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split('\n\n', 1)[1])
    ap.add_argument('--quick', action='store_true',
                    help="two blocks, one 16x16 image, few calls: checks that it runs (seconds)")
    quick = ap.parse_args(argv).quick
    params = make_params(np.random.default_rng(0), 2 if quick else len(BLOCKS))
    x = np.ones((1, 16, 16, 3) if quick else (4, 32, 32, 3), np.float32)
    rows = []
    t = time.perf_counter()
    ours = tt.jit(lambda p, x: forward(tt, p, x))
    ours(params, x).block_until_ready()
    rows.append(('tt jit numba, first call (trace + compile)', 1000 * (time.perf_counter() - t)))
    calls = 2 if quick else 10
    rows.append(('tt jit numba', median_ms(lambda: ours(params, x).block_until_ready(), calls)))
    rows.append(('tt eager', median_ms(lambda: forward(tt, params, x).block_until_ready(), min(calls, 3))))
    if jax is not None:
        theirs = jax.jit(lambda p, x: forward(jax, p, x))
        rows.append(('JAX jit (XLA CPU)', median_ms(lambda: theirs(params, x).block_until_ready(), calls)))
        np.testing.assert_allclose(np.asarray(ours(params, x)), np.asarray(theirs(params, x)), rtol=1e-3, atol=1e-3)
    print(f"ResNet18 forward{' (first 2 blocks, --quick)' if quick else ''}, "
          f"{'x'.join(map(str, x.shape))}, eval mode")
    for name, ms in rows:
        print(f'  {name:45s} {ms:9.1f} ms')


if __name__ == '__main__':
    main()
