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
    assert x.item(5) == 5.0 and x.tolist()[0] == [0, 1, 2] and float(x.sum()) == 15.0
    np.testing.assert_array_equal(np.asarray(x), np.arange(6).reshape(2, 3))
    host = jax.device_get({'x': x, 'n': 3})
    assert isinstance(host['x'], np.ndarray) and host['n'] == 3
    # the first read copied; the others used that copy (x.sum() ran on the device, then
    # its result was read)
    assert transfers == {'up': 1, 'down': 2}


def test_device_put_keeps_the_weak_type_and_moves_back_to_the_cpu(transfers):
    s = jax.device_put(1.5, 'gpu')
    assert s.weak_type and s.aval.weak_type and s.aval.shape == () and s.device == GPU
    assert transfers == {'up': 1, 'down': 0}
    assert repr(s) == 'Array(1.5, dtype=float32, weak_type=True)'
    g = jax.grad(lambda v: v * 3.0 if v > 0 else v)(s)   # Python `if` on its value
    assert g.device == GPU and g.item() == 3.0
    # grad ran on the GPU: besides s, the scalars went up as arguments (0 of `gt`, 3.0 of
    # `mul` forward and backward, the seed cotangent 1.0, put where the value is); the repr,
    # the `if` (reading `v > 0`) and g.item() copied back
    assert transfers == {'up': 5, 'down': 3}
    transfers.reset()
    tree = jax.device_put({'a': jnp.arange(3), 'b': [2.0]}, GPU)
    assert all(leaf.device == GPU for leaf in jax.tree_util.tree_leaves(tree))
    x = tree['a']
    assert jax.device_put(x, GPU) is x and jax.device_put(x) is x   # already placed: no copy
    with pytest.raises(ValueError, match=r"computes on one GPU, Numba's current device \(cuda:0\); "
                                         r"choose cuda:1 first with numba.cuda.select_device\(1\)"):
        jax.device_put(x, jax.Device('cuda', 1))
    # under a transformation, placement is the jit backend's business: the tracer passes
    assert jax.jit(lambda v: jax.device_put(v, GPU) * 2)(jnp.ones(2)).tolist() == [2.0, 2.0]
    assert transfers == {'up': 2, 'down': 0}
    back = jax.device_put(x, jax.devices('cpu')[0])
    assert type(back) is jax.Array and back.device == jax.devices('cpu')[0] and back.committed
    assert back.tolist() == [0, 1, 2] and transfers == {'up': 2, 'down': 1}
    assert jax.device_put(back, jax.devices('cpu')[0]) is back   # already committed there


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
    # Every other consumer runs on the GPU too, as in JAX: jit with no backend named (z is
    # committed to the GPU), grad, vmap. Nothing is copied back until a result is read.
    transfers.reset()
    outs = [jax.jit(lambda v: v + 1.0)(z), jax.grad(lambda v: (v * v).sum())(z),
            jax.vmap(lambda v: -v)(z)]
    assert all(isinstance(o, DeviceArray) and o.committed for o in outs)
    # grad's seed cotangent 1.0 went up (put where z's function value is); `sum`'s transpose
    # broadcasts it, a layout op the CUDA backend makes on the device (a copy kernel)
    assert transfers == {'up': 1, 'down': 0}
    for got, want in zip(outs, [np.asarray(x) * 4 + 1, np.asarray(x) * 8, np.asarray(x) * -4]):
        np.testing.assert_array_equal(np.asarray(got), want)
    assert transfers == {'up': 1, 'down': 3}   # reading the three results


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
    window = jax.jit(lambda x: lax.reduce_window(x, 0.0, lax.add, (2,), (1,), 'SAME'), backend='cuda')
    assert "1 host step(s) (reduce_window_sum)" in window.lower(x).as_text()
    assert "cuda: no code generation for reduce_window_sum; it runs through its NumPy impl" in \
        capsys.readouterr().err
    y = window(x)   # a host step's result has a host copy only
    assert y.device == GPU and transfers == {'up': 0, 'down': 0}
    double = jax.jit(lambda x: x * 2.0, backend='cuda')
    double(y), double(y)
    assert transfers == {'up': 1, 'down': 0}   # uploaded at the first use, then kept


def test_loops_keep_their_carry_on_the_device_reading_back_only_the_condition(capsys, monkeypatch,
                                                                              transfers):
    monkeypatch.setattr(jax.settings, 'DEBUG', 1)
    x = jnp.asarray(rng.standard_normal(8).astype(np.float32))
    fori = jax.jit(lambda x: lax.fori_loop(0, 3, lambda i, c: jnp.sin(c) * 2.0, x), backend='cuda')
    text = fori.lower(x).as_text()
    assert "0 kernel(s) (and 2 in control-flow bodies), 0 host step(s)" in text
    assert "  device scan (reads back nothing): " in text
    # the body: the counter's increment and the carry's sin * 2 (two shapes, two kernels)
    assert "# --- scan_body ---\njit(scan_body) on the CUDA backend: 2 kernel(s), 0 host step(s)" in text
    assert "cuda: the scan loop runs from the host, its bodies' kernels on the device" in \
        capsys.readouterr().err
    y = fori(x)
    assert transfers == {'up': 2, 'down': 0}   # x, and the counter's start 0 (once); the carry stays there
    fori(x)
    assert transfers == {'up': 3, 'down': 0}   # x only
    np.testing.assert_allclose(np.asarray(y), np.asarray(jax.jit(fori.fun)(x)), rtol=1e-6)

    transfers.update(up=0, down=0)
    count = jax.jit(lambda x: lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1] + 1.0),
                                             (0, x)), backend='cuda')
    n, z = count(x)
    assert transfers == {'up': 2, 'down': 4}   # x and 0 in; the condition, true 3 times then false
    assert int(n) == 3 and transfers['down'] == 5
    np.testing.assert_allclose(np.asarray(z), np.asarray(x) + 3, rtol=1e-6)

    transfers.update(up=0, down=0)
    branch = jax.jit(lambda x: lax.cond(x.sum() > 0, jnp.cos, jnp.sin, x), backend='cuda')
    y = branch(x)
    assert transfers == {'up': 1, 'down': 1}   # x in; the branch index
    np.testing.assert_allclose(np.asarray(y), np.asarray(lax.cond(x.sum() > 0, jnp.cos, jnp.sin, x)),
                               rtol=1e-6)


def test_scan_reads_and_writes_rows_in_place_on_the_device(transfers):
    xs = jnp.asarray(rng.standard_normal((5, 3)).astype(np.float32))

    def f(xs):
        return lax.scan(lambda c, x: (c + x, c * x), jnp.zeros(3), xs, reverse=True)
    carry, ys = jax.jit(f, backend='cuda')(xs)
    assert transfers == {'up': 1, 'down': 0}   # xs in; ys filled row by row on the device
    want = f(xs)
    np.testing.assert_allclose(np.asarray(carry), np.asarray(want[0]), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(ys), np.asarray(want[1]), rtol=1e-6)


def test_layout_ops_read_outside_the_kernels_are_made_on_the_device(transfers):
    x = jnp.asarray(np.arange(6, dtype=np.float32).reshape(2, 3))
    f = jax.jit(lambda x: ((x * 2.0).T, (x * 3.0).reshape(3, 2), jnp.broadcast_to(x[0], (2, 2, 3))),
                backend='cuda')
    text = f.lower(x).as_text()
    assert "0 host step(s)" in text
    assert "  lambda__copy_c: eqns 1 (a copy of c), 1 block(s) x 6 thread(s)" in text
    assert "  device reshape: e (the same buffer)" in text   # the elements stay in order: no copy
    assert "        # c:f32[3,2] = transpose[permutation=(1, 0)] b\n        OUT[i0, i1] = B[i1, i0]\n" in text
    t, r, bc = f(x)
    assert transfers == {'up': 1, 'down': 0}
    np.testing.assert_array_equal(np.asarray(t), np.arange(6).reshape(2, 3).T * 2)
    np.testing.assert_array_equal(np.asarray(r), np.arange(6).reshape(3, 2) * 3)
    np.testing.assert_array_equal(np.asarray(bc), np.broadcast_to(np.arange(3), (2, 2, 3)))


# --- placement: where an operation runs (device_array.py, device_eval.py) -------------------------

CPU = jax.devices('cpu')[0]


def on_gpu(x):
    return isinstance(x, DeviceArray) and x.devices() == {GPU} and x.committed


def test_eager_ops_on_a_device_array_run_on_its_gpu_and_stay_there(transfers):
    xh = jnp.asarray(rng.standard_normal((2, 3)).astype(np.float32))
    wh = jnp.asarray(rng.standard_normal((3, 4)).astype(np.float32))
    x, w = jax.device_put((xh, wh), GPU)
    transfers.reset()
    outs = {'sin': (jnp.sin(x), jnp.sin(xh)), 'add': (x + 1, xh + 1), 'max': (x.max(axis=1), xh.max(axis=1)),
            'selu': (jax.nn.selu(x * 2.0), jax.nn.selu(xh * 2.0)),
            'where': (jnp.where(x > 0, x, 0.5), jnp.where(xh > 0, xh, 0.5))}
    summed = {'sum': (jnp.sum(x), jnp.sum(xh)), 'matmul': (x @ w, xh @ wh)}   # (in another order)
    assert all(on_gpu(got) for got, _ in [*outs.values(), *summed.values()])
    assert transfers['down'] == 0   # nothing came back (Python scalars went up, as arguments)
    for name, (got, want) in [*outs.items(), *summed.items()]:   # the CPU's values (weak types too)
        assert (got.dtype, got.weak_type, got.shape) == (want.dtype, want.weak_type, want.shape), name
        check = np.testing.assert_array_equal if name in outs else \
            lambda a, b, err_msg: np.testing.assert_allclose(a, b, rtol=1e-6, err_msg=err_msg)
        check(np.asarray(got), np.asarray(want), err_msg=name)   # to the bit, or to float32's rounding


def test_uncommitted_arrays_follow_the_committed_one():
    x = jax.device_put(jnp.ones(3), GPU)
    assert x.committed and not jnp.arange(3.0).committed and not jax.device_put(jnp.arange(3)).committed
    y = jnp.arange(3.0) + x   # jnp.arange is uncommitted: it goes where x is
    assert on_gpu(y) and y.tolist() == [1.0, 2.0, 3.0]
    assert on_gpu(jnp.zeros_like(x)) and on_gpu(jnp.stack([x, x])) and on_gpu(jnp.asarray([x, x]))
    assert all(on_gpu(row) for row in jax.device_put(jnp.eye(2), GPU))   # iterating: rows stay
    c = jax.device_put(jnp.arange(3.0), CPU)
    assert type(c) is jax.Array and c.committed and c.device == CPU
    z = c * jnp.ones(3)   # committed to the CPU: computed there, committed there
    assert type(z) is jax.Array and z.committed and z.tolist() == [0.0, 1.0, 2.0]
    assert not (jnp.arange(3.0) * 2).committed   # uncommitted in, uncommitted out
    f = jax.jit(lambda a, b: a * b)
    assert f(c, jnp.ones(3)).committed and not f(jnp.ones(3), jnp.ones(3)).committed


def committed_table(jax, jnp):
    """Which results are committed, for operations on the CPU alone (so JAX on a CPU can
    answer too)."""
    cpu = jax.devices('cpu')[0]
    c, u = jax.device_put(jnp.arange(3.0), cpu), jnp.arange(3.0)
    cases = {
        'device_put(x, cpu)': c, 'arange': u, 'device_put(x)': jax.device_put(np.ones(3)),
        'device_put(committed)': jax.device_put(c), 'c + u': c + u, 'u * 2': u * 2,
        'ones(device=cpu)': jnp.ones(2, device=cpu), 'zeros_like(c)': jnp.zeros_like(c),
        'zeros_like(u)': jnp.zeros_like(u), 'jit(c, u)': jax.jit(lambda a, b: a * b)(c, u),
        'jit(u, u)': jax.jit(lambda a, b: a * b)(u, u), 'sum(c)': c.sum(),
        'asarray(device=cpu)': jnp.asarray([1.0, 2.0], device=cpu),
        'arange(device=cpu)': jnp.arange(3, device=cpu), 'list(c)[0]': list(c)[0],
        'grad at c': jax.grad(lambda v: (v * 3.0).sum())(c), 'stack([c, u])': jnp.stack([c, u]),
        'transpose': jnp.ones((2, 2), device=cpu).T}
    return {k: v.committed for k, v in cases.items()}


def test_which_results_are_committed_as_in_jax(real_jax):
    import jax.numpy as real_jnp
    want = committed_table(real_jax, real_jnp)
    assert committed_table(jax, jnp) == want
    assert sum(want.values()) == 13   # (the table is not trivially all True or all False)


def test_arrays_committed_to_two_devices_do_not_mix():
    x, c = jax.device_put(jnp.ones(3), GPU), jax.device_put(jnp.ones(3), CPU)
    message = (r"`add` got arrays committed to two different devices: argument 0 \(f32\[3\]\) is "
               r"committed to cuda:0 and argument 1 \(f32\[3\]\) to cpu:0.*Move one of them first: "
               r"device_put\(x, devices\('cuda'\)\[0\]\) puts the second on cuda:0, or "
               r"device_put\(x, devices\('cpu'\)\[0\]\) the first on cpu:0")
    with pytest.raises(ValueError, match=message):
        x + c
    def f(a, bd):
        return a * bd[0] + bd[1]
    with pytest.raises(ValueError, match=r"jit\(f\) got arrays committed to two different devices: "
                                         r"bd\[0\] \(f32\[3\]\) is committed to cuda:0 and bd\[1\] "
                                         r"\(f32\[3\]\) to cpu:0"):
        jax.jit(f)(jnp.ones(3), (x, c))
    with pytest.raises(ValueError, match=r"jit\(<lambda>\) got .* a constant it closes over "
                                         r"\(f32\[3\]\) is committed to cuda:0 and v \(f32\[3\]\) to cpu:0"):
        jax.jit(lambda v: v + x)(c)
    with pytest.raises(ValueError, match=r"jit\(<lambda>, backend='numba'\) runs on the CPU, but its "
                                         r"arguments are committed to cuda:0. Leave out backend="):
        jax.jit(lambda a: a * 2, backend='numba')(x)
    with pytest.raises(ValueError, match=r"backend='cuda'\) runs on a GPU, but its arguments are "
                                         r"committed to cpu:0.*device_put\(x, devices\('cuda'\)\[0\]\)"):
        jax.jit(lambda a: a * 2, backend='cuda')(c)
    # the fix the message names works
    assert on_gpu(x + jax.device_put(c, GPU)) and (jax.device_put(x, CPU) + c).committed


def test_creation_functions_make_arrays_on_the_device_asked(transfers):
    made = {'ones': jnp.ones((2, 2), device=GPU), 'zeros': jnp.zeros(3, jnp.int32, device=GPU),
            'full': jnp.full((2,), 7, device=GPU), 'arange': jnp.arange(1, 7, 2, device=GPU),
            'array': jnp.array([1.0, 2.0], device=GPU), 'asarray': jnp.asarray(np.eye(2), device='gpu'),
            'eye': jnp.eye(2, device=GPU), 'linspace': jnp.linspace(0, 1, 3, device=GPU)}
    assert all(on_gpu(a) for a in made.values()) and transfers == {'up': len(made), 'down': 0}
    for name, got in made.items():   # what the CPU makes, dtypes and weak types too
        want = getattr(jnp, name)(*{'ones': [(2, 2)], 'zeros': [3, jnp.int32], 'full': [(2,), 7],
                                    'arange': [1, 7, 2], 'array': [[1.0, 2.0]], 'asarray': [np.eye(2)],
                                    'eye': [2], 'linspace': [0, 1, 3]}[name])
        assert (got.dtype, got.weak_type) == (want.dtype, want.weak_type), name
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want), err_msg=name)
    here = jnp.ones(2, device=CPU)
    assert type(here) is jax.Array and here.committed
    with pytest.raises(ValueError, match=r"'tpu' is not a device arrays can be placed on: name the "
                                         r"CPU .* or a CUDA GPU \(devices\('cuda'\)\[0\] or 'gpu'\)"):
        jnp.ones(2, device='tpu')


def test_jit_calls_with_device_arrays_take_the_fast_path(transfers, monkeypatch):
    f = jax.jit(lambda a, b: a * b + 1.0, backend='cuda')
    x = jax.device_put(jnp.arange(4.0), GPU)
    f(x, x)
    transfers.reset()
    monkeypatch.setattr(type(f), '_trace', lambda *a: pytest.fail("the call took the slow path"))
    y = f(x, x)   # a dict lookup on the arguments' types, shapes and devices, then the executable
    assert on_gpu(y) and transfers == {'up': 0, 'down': 0}   # no copy back, nothing uploaded
    assert y.tolist() == [1.0, 2.0, 5.0, 10.0]


def test_jit_without_a_backend_runs_where_its_arguments_are_committed(capsys, monkeypatch, transfers):
    monkeypatch.setattr(jax.settings, 'DEBUG', 1)
    x = jax.device_put(jnp.arange(3.0), GPU)
    f = jax.jit(lambda a: jnp.exp(a) * 2.0)
    y = f(x)
    assert on_gpu(y) and transfers == {'up': 1, 'down': 0}   # x up once; y stays
    assert "jit(<lambda>): its arguments are committed to cuda:0, so it runs on the 'cuda' " \
           "backend (not the default 'numba')" in capsys.readouterr().err
    np.testing.assert_allclose(np.asarray(y), np.exp(np.arange(3.0)) * 2, rtol=1e-6)
    assert "on the CUDA backend" in f.lower(x).as_text()   # what a call runs
    assert type(f(jnp.arange(3.0))) is jax.Array   # uncommitted: the default backend, the CPU
    assert "on the CUDA backend" not in f.lower(jnp.arange(3.0)).as_text()
    # an eager jit_p (grad of a jit binds it with concrete values) places itself the same way
    g = jax.grad(lambda v: jax.jit(lambda u: (u * u).sum())(v))(x)
    assert on_gpu(g) and g.tolist() == [0.0, 2.0, 4.0]


def test_what_the_cuda_backend_runs_on_the_host_stays_placed_on_the_gpu(capsys, monkeypatch, transfers):
    monkeypatch.setattr(jax.settings, 'DEBUG', 1)
    i = jax.device_put(jnp.arange(6).reshape(2, 3), GPU)
    transfers.reset()
    m = i @ i.T   # an integer matmul: the CUDA backend's host step (its NumPy impl)
    err = capsys.readouterr().err
    assert "eager dot_general on cuda:0: compiling it for the CUDA backend, for arguments " \
           "i32[2,3], i32[3,2]" in err
    assert "cuda: no code generation for dot_general; it runs through its NumPy impl on the host" in err
    assert on_gpu(m) and m.tolist() == [[5, 14], [14, 50]]
    # control flow (params holding jaxprs) runs its NumPy impl on host copies, logged each time
    c = lax.cond(True, lambda v: v * 2, lambda v: v, i)
    assert "eager cond on cuda:0: its params hold a jaxpr or a function, so it is not compiled " \
           "by itself; it runs through its NumPy impl on host copies" in capsys.readouterr().err
    assert on_gpu(c) and c.tolist() == [[0, 2, 4], [6, 8, 10]]
    up = transfers['up']
    jnp.negative(c)   # a host result goes up the first time a kernel reads it, then stays
    jnp.negative(c)
    assert transfers['up'] == up + 1


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
