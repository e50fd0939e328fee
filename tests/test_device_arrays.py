"""Arrays that stay on the CUDA device between calls (`device_array.py`), under the
CUDA simulator (conftest.py sets NUMBA_ENABLE_CUDASIM=1 before Numba is imported).

Every test counts the transfers: `cuda.to_device` (host to device) and a device
array's `copy_to_host` (device to host), wrapped by the `transfers` fixture.
"""
import os
import subprocess
import sys

import numpy as np
import pytest
from numba import cuda

import tinygrad_tracer as jax
import tinygrad_tracer.numpy as jnp
from tinygrad_tracer import lax
from tinygrad_tracer.device_array import DeviceArray

GPU = jax.devices('cuda')[0]
rng = np.random.default_rng(0)


@pytest.fixture
def transfers(monkeypatch):
    """{'up': uploads, 'down': copies back}, counted from now on; `.reset()` zeroes them."""
    class Counts(dict):
        def reset(self):
            self.update(up=0, down=0)
    counts = Counts(up=0, down=0)
    to_device = cuda.to_device
    device_array_type = type(cuda.device_array(1, np.float32))
    copy_to_host = device_array_type.copy_to_host

    def counting_to_device(*a, **k):
        counts['up'] += 1
        return to_device(*a, **k)

    def counting_copy_to_host(self, *a, **k):
        counts['down'] += 1
        return copy_to_host(self, *a, **k)
    monkeypatch.setattr(cuda, 'to_device', counting_to_device)
    monkeypatch.setattr(device_array_type, 'copy_to_host', counting_copy_to_host)
    return counts


def test_the_cuda_device_is_named_as_in_jax():
    assert jax.devices('cuda') == jax.devices('gpu') == [GPU] == [jax.Device('cuda', 0)]
    assert repr(GPU) == 'CudaDevice(id=0)' and str(GPU) == 'cuda:0' and GPU.platform == 'gpu'
    assert GPU != jax.devices('cpu')[0]


def test_the_seed_tutorials_device_cells_print_what_jax_prints_on_a_gpu(capsys):
    # The seed tutorial's "Devices and accelerators" cells (JAX for PyTorch users), verbatim
    cpu_device = jax.devices("cpu")[0]
    cuda_device = jax.devices("cuda")[0]
    print(cpu_device, cuda_device)
    x = jnp.ones((3, 4))
    x_cpu = jax.device_put(x, device=jax.devices("cpu")[0])
    x_cuda = jax.device_put(x_cpu, device=jax.devices("cuda")[0])
    print(f"{x.device} -> {x_cpu.device} -> {x_cuda.device}")
    assert capsys.readouterr().out == "cpu:0 cuda:0\ncpu:0 -> cpu:0 -> cuda:0\n"


def test_device_put_uploads_once_and_reads_back_once(transfers):
    x = jax.device_put(np.arange(6, dtype=np.float64).reshape(2, 3), GPU)
    assert transfers == {'up': 1, 'down': 0}
    assert isinstance(x, jax.Array) and x.device == GPU and x.devices() == {GPU}
    assert str(x.sharding.device) == 'cuda:0'
    # shape, dtype and the aval come without a copy; float64 became float32
    assert (x.shape, x.dtype, x.ndim, x.size, x.nbytes) == ((2, 3), np.float32, 2, 6, 24)
    assert jax.make_jaxpr(lambda x: x * 2)(x).in_avals[0].shape == (2, 3)
    assert transfers == {'up': 1, 'down': 0}
    assert repr(x) == 'Array([[0., 1., 2.],\n       [3., 4., 5.]], dtype=float32)'   # one copy back
    assert x[1, 2].item() == 5.0 and float((x + 1).sum()) == 21.0 and str(x[0]) == '[0. 1. 2.]'
    np.testing.assert_array_equal(np.asarray(x), np.arange(6).reshape(2, 3))
    host = jax.device_get({'x': x, 'n': 3})
    assert isinstance(host['x'], np.ndarray) and host['n'] == 3
    assert transfers == {'up': 1, 'down': 1}   # the first read copied; the others used that copy
    assert (x + 1).device == jax.devices('cpu')[0]   # eager ops compute on the host


def test_device_put_keeps_the_weak_type_and_moves_back_to_the_cpu(transfers):
    s = jax.device_put(1.5, 'gpu')
    assert s.weak_type and s.aval.weak_type and s.aval.shape == () and s.device == GPU
    assert transfers == {'up': 1, 'down': 0}
    assert repr(s) == 'Array(1.5, dtype=float32, weak_type=True)'
    assert jax.grad(lambda v: v * 3.0 if v > 0 else v)(s) == 3.0   # Python `if` on its value
    tree = jax.device_put({'a': jnp.arange(3), 'b': [2.0]}, GPU)
    assert all(leaf.device == GPU for leaf in jax.tree_util.tree_leaves(tree))
    x = tree['a']
    assert jax.device_put(x, GPU) is x and jax.device_put(x) is x   # already placed: no copy
    with pytest.raises(ValueError, match=r"computes on one GPU, Numba's current device \(cuda:0\); "
                                         r"choose cuda:1 first with numba.cuda.select_device\(1\)"):
        jax.device_put(x, jax.Device('cuda', 1))
    # under a transformation, placement is the jit backend's business: the tracer passes
    assert jax.jit(lambda v: jax.device_put(v, GPU) * 2)(jnp.ones(2)).tolist() == [2.0, 2.0]
    assert transfers == {'up': 3, 'down': 1}   # (the repr read s)
    back = jax.device_put(x, jax.devices('cpu')[0])
    assert type(back) is jax.Array and back.device == jax.devices('cpu')[0]
    assert back.tolist() == [0, 1, 2] and transfers == {'up': 3, 'down': 2}


def test_jit_results_stay_on_the_device_and_feed_the_next_call(transfers):
    double = jax.jit(lambda x: x * 2.0, backend='cuda')
    x = jnp.asarray(rng.standard_normal(8).astype(np.float32))
    y = double(x)
    assert transfers == {'up': 1, 'down': 0}   # the argument in; the result stays
    assert isinstance(y, DeviceArray) and y.device == GPU and y.shape == (8,)
    z = double(y)
    assert transfers == {'up': 1, 'down': 0}   # y passed as its device buffer
    np.testing.assert_array_equal(np.asarray(z), np.asarray(x) * 4)
    assert transfers == {'up': 1, 'down': 1}
    # Every other consumer reads the host copy: eager, the CPU jit, grad, vmap.
    np.testing.assert_array_equal(np.asarray(jax.jit(lambda v: v + 1.0)(z)), np.asarray(x) * 4 + 1)
    np.testing.assert_array_equal(np.asarray(jax.grad(lambda v: (v * v).sum())(z)), np.asarray(x) * 8)
    np.testing.assert_array_equal(np.asarray(jax.vmap(lambda v: -v)(z)), np.asarray(x) * -4)
    assert transfers == {'up': 1, 'down': 1}


def test_a_closed_over_device_array_is_used_in_place(transfers):
    w = jax.device_put(np.eye(3, dtype=np.float32) * 2, GPU)
    f = jax.jit(lambda x: jnp.tanh(x @ w), backend='cuda')
    x = jnp.ones((2, 3))
    y = f(x).block_until_ready()
    f(x)
    assert transfers == {'up': 1 + 2, 'down': 0}   # w once (device_put), then x at each call
    np.testing.assert_allclose(np.asarray(y), np.full((2, 3), np.tanh(np.float32(2))), rtol=1e-6)


def test_a_host_steps_result_is_uploaded_once_when_passed_to_a_kernel(capsys, monkeypatch, transfers):
    monkeypatch.setattr(jax.settings, 'DEBUG', 1)
    x = jnp.asarray(rng.standard_normal(8).astype(np.float32))
    loop = jax.jit(lambda x: lax.fori_loop(0, 3, lambda i, c: c * 2.0, x), backend='cuda')
    assert "1 host step(s) (scan)" in loop.lower(x).as_text()
    assert "cuda: no code generation for scan; it runs through its NumPy impl on the host" in \
        capsys.readouterr().err
    y = loop(x)   # the loop runs on the host: its result has a host copy only
    assert y.device == GPU and transfers == {'up': 0, 'down': 0}
    np.testing.assert_array_equal(np.asarray(y), np.asarray(x) * 8)
    double = jax.jit(lambda x: x * 2.0, backend='cuda')
    double(y), double(y)
    assert transfers == {'up': 1, 'down': 0}   # uploaded at the first use, then kept


def test_host_views_are_counted_and_logged(capsys, monkeypatch, transfers):
    monkeypatch.setattr(jax.settings, 'DEBUG', 1)
    x = jnp.asarray(np.arange(6, dtype=np.float32).reshape(2, 3))
    f = jax.jit(lambda x: (x * 2.0).T, backend='cuda')
    text = f.lower(x).as_text()
    assert "1 kernel(s), 1 host step(s) (transpose view)" in text and "  host view: c" in text
    assert "cuda: the transpose view c is made on the host, from a copy of its operand" in \
        capsys.readouterr().err
    np.testing.assert_array_equal(np.asarray(f(x)), np.arange(6).reshape(2, 3).T * 2)
    assert transfers == {'up': 1, 'down': 1}   # x in; the kernel's result to the host view


# --- the digits MLP: 64 inputs, two SELU layers, 10 classes, integer labels, SGD ------------------

def loss(params, x, labels):
    h = x
    for w, b in params[:-1]:
        h = jax.nn.selu(h @ w + b)
    w, b = params[-1]
    logp = jax.nn.log_softmax(h @ w + b)
    return -jnp.mean(jnp.take_along_axis(logp, labels[:, None], axis=1))


def sgd_step(params, x, labels):
    grads = jax.grad(loss)(params, x, labels)
    return [(w - 0.1 * gw, b - 0.1 * gb) for (w, b), (gw, gb) in zip(params, grads)]


def test_an_mlp_training_step_keeps_its_params_on_the_device(transfers):
    # The digits MLP is 64-100-100-10; the simulator runs a GPU thread in ~165 us, so the
    # hidden layers are narrower here (a call would take a minute): the transfers are the same.
    sizes = (64, 12, 12, 10)
    params = [(jnp.asarray(rng.normal(0, 0.3, (m, n)).astype(np.float32)), jnp.zeros(n))
              for m, n in zip(sizes, sizes[1:])]
    batches = [(jnp.asarray(rng.normal(size=(4, 64)).astype(np.float32)),
                jnp.asarray(rng.integers(0, 10, 4).astype(np.int32))) for _ in range(2)]
    step = jax.jit(sgd_step, backend='cuda')
    lowered = step.lower(params, *batches[0])
    assert "0 host step(s)" in lowered.as_text()
    consts = len(lowered.compile().plan.consts)   # uploaded at the first call, kept
    transfers.reset()

    p1 = step(params, *batches[0])
    assert transfers == {'up': consts + 6 + 2, 'down': 0}   # 6 params, x, labels in; nothing back
    p2 = step(p1, *batches[1])
    assert transfers == {'up': consts + 6 + 2 + 2, 'down': 0}   # only the new batch: params stayed
    assert all(isinstance(a, DeviceArray) for a in jax.tree_util.tree_leaves(p2))

    expected = sgd_step(sgd_step(params, *batches[0]), *batches[1])
    for got, want in zip(jax.tree_util.tree_leaves(p2), jax.tree_util.tree_leaves(expected)):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-4, atol=1e-6)
    assert transfers['down'] == 6   # reading p2's 6 leaves, once each


def test_no_gpu_and_no_simulator_says_how_to_run_on_the_simulator():
    """Without NUMBA_ENABLE_CUDASIM (and no GPU), asking for the CUDA device says how to
    run under the simulator, as jit(..., backend='cuda') does."""
    code = ("import numpy as np, tinygrad_tracer as jax\n"
            "from numba import cuda\n"
            "if cuda.is_available(): print('GPU', jax.devices('cuda')[0]); raise SystemExit\n"
            "for put in (lambda: jax.devices('cuda'), lambda: jax.device_put(np.ones(2), 'gpu')):\n"
            "    try:\n        put()\n    except RuntimeError as e:\n        print('ERROR', e)\n")
    env = {k: v for k, v in os.environ.items() if k != 'NUMBA_ENABLE_CUDASIM'}
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, env=env,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    if out.stdout.startswith('GPU'):   # a machine with a GPU: no error, the GPU is there
        assert out.stdout == 'GPU cuda:0\n'
        return
    lines = out.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("ERROR devices('cuda') found no CUDA GPU")
    assert lines[1].startswith("ERROR device_put(x, gpu) found no CUDA GPU")
    assert all("set NUMBA_ENABLE_CUDASIM=1 in the environment before Python starts" in l for l in lines)
