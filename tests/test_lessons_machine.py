"""Lessons 8-14 (training loops, control flow, the machine inside): each runs as a
script and prints the numbers it teaches. (The generic checks that every lesson
runs in time and opens as a notebook are in tests/test_lessons.py.)"""
import ast
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
LESSONS = ROOT / 'lessons'
OUT = LESSONS / 'out'

MACHINE_LESSONS = ['08_linear_regression.py', '09_digits_mlp.py', '10_control_flow.py',
                   '11_inside_the_tracer.py', '12_numba_kernels.py', '13_gpu_simulator.py',
                   '14_cnn.py']


def run_lesson(name, *args, env_drop=(), timeout=600):
    env = dict(os.environ, MPLBACKEND='Agg', PYTHONUNBUFFERED='1')
    for key in env_drop:
        env.pop(key, None)
    proc = subprocess.run([sys.executable, str(LESSONS / name), *args], capture_output=True,
                          text=True, timeout=timeout, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def lesson_output(name):
    """The lesson's output from test_lessons' one run per session (shared, not repeated)."""
    from test_lessons import run_lesson as run_once
    return run_once(name).stdout


def floats(pattern, text):
    return [float(v) for v in re.findall(pattern, text)]


def kernel_blocks(text):
    """The generated functions printed in `text`: each a decorator line naming `jit`, its
    `def` line, and the indented lines of its body."""
    lines, blocks = text.splitlines(), []
    for i, line in enumerate(lines):
        if line.startswith('@') and 'jit' in line and lines[i + 1].startswith('def '):
            end = i + 2
            while end < len(lines) and lines[end].startswith((' ', '\t')):
                end += 1
            blocks.append('\n'.join(lines[i:end]) + '\n')
    return blocks


def assert_whole_source(text, min_blocks):
    """Printed kernel source is whole lines: every block parses as Python."""
    blocks = kernel_blocks(text)
    assert len(blocks) >= min_blocks, text
    for block in blocks:
        ast.parse(block)                 # a line cut in the middle would not parse
        assert block.splitlines()[1].startswith('def '), block


@pytest.mark.parametrize('name', MACHINE_LESSONS)
def test_lesson_header_and_next_steps(name):
    """A lesson starts with '# Lesson N — Title' and a summary, and ends naming an
    exercise that exists and the part of docs/READING.md to read next."""
    text = (LESSONS / name).read_text()
    lines = text.splitlines()
    assert lines[0] == '# %% [markdown]'
    assert re.fullmatch(rf"# # Lesson {int(name[:2])} — \S.*", lines[1]), lines[1]
    assert lines[2] == '#' and len(lines[3]) > 10, "a summary paragraph follows the title"
    last_cell = text[text.rindex('# %%'):]
    exercise = re.search(r"lessons/exercises/(ex\d\d_\w+\.py)", last_cell)
    assert exercise and (LESSONS / 'exercises' / exercise.group(1)).exists(), last_cell
    assert 'docs/READING.md' in last_cell or 'backends/' in last_cell, last_cell


def test_linear_regression():
    """Lesson 8: seed 001's line fit and seed 003's W x + b, with JAX's numbers."""
    out = lesson_output('08_linear_regression.py')
    w, b = map(float, re.search(r"w: ([-\d.]+), b: ([-\d.]+)", out).groups())
    assert abs(w - 3) < 0.05 and abs(b + 1) < 0.05, out           # y = 3x - 1 + noise
    assert "w: 3.01, b: -0.99" in out                               # as JAX prints it
    assert 'x shape: (20, 10) ; y shape: (20, 5)' in out
    assert out.count('Loss for "true" W,b:  0.023887426') == 2, out   # JAX prints 0.023887426
    losses = floats(r"(?m)^Loss step \d+:  ([\d.e-]+)", out)
    assert len(losses) == 2 * 21 and losses[0] == pytest.approx(13.084899, rel=1e-6), losses
    first, pytree = losses[:21], losses[21:]
    assert all(a > b for a, b in zip(first, first[1:])), "the loss decreases at every print"
    assert first[-1] < 0.019 and pytree == pytest.approx(first, rel=1e-5)
    vg = floats(r"value_and_grad loss step \d+:  ([\d.e-]+)", out)
    assert len(vg) == 5 and vg[0] == pytest.approx(29.276396, rel=1e-6) and vg[-1] < 0.02, vg
    # timings: present and positive (which is faster depends on the machine's load)
    assert all(float(v) > 0 for v in re.search(r"eager ([\d.]+) ms, jit ([\d.]+) ms", out).groups())
    for picture in ('08_grad_loss.svg', '08_fit.png', '08_vmap_residual.svg', '08_loss_pytree.png'):
        assert (OUT / picture).stat().st_size > 1000, picture


def test_digits_mlp_learns():
    """Lesson 9 runs seed 000's NNX/Optax code for its 300 epochs: the seed's accuracy,
    with a progress line, pictures and the eager/jit comparison."""
    out = lesson_output('09_digits_mlp.py')
    losses = floats(r"epoch \d+: loss=([\d.]+)", out)
    assert len(losses) == 7 and losses[-1] < losses[0] / 4, out
    assert losses == [20.18, 0.21, 0.14, 0.12, 0.12, 0.11, 0.11], losses   # as JAX prints them
    acc = float(re.search(r"accuracy = ([\d.]+)%", out).group(1))
    assert acc >= 95.0, out
    assert "433 labels match out of 450: accuracy = 96.222222%" in out     # as JAX prints it
    assert "[" + "#" * 30 + "] epoch 300/300" in out      # the progress line, redrawn
    assert "the model's Params under [0]: ['layer1', 'layer2', 'layer3']" in out
    assert re.search(r"one jaxpr of \d+ equations: 9 inputs", out), out
    # timings: present and positive (which is faster depends on the machine's load)
    assert all(float(v) > 0 for v in re.search(r"eager ([\d.]+) ms, jit ([\d.]+) ms", out).groups())
    assert (OUT / '09_loss.png').stat().st_size > 1000
    assert (OUT / '09_predictions.png').stat().st_size > 10000
    assert (OUT / '09_train_step.svg').exists()


def test_control_flow():
    """Lesson 10: Python control flow under grad and jit, and lax's structured primitives."""
    out = lesson_output('10_control_flow.py')
    assert "grad(f)(2.) = 12.0   grad(f)(4.) = -4.0" in out
    assert re.search(r"TracerBoolConversionError: .*depends on argument\(s\) x", out), out
    assert re.search(r"TracerIntegerConversionError: .*depends on argument\(s\) n", out), out
    assert "g(arange(5), 3) = 3.0" in out and out.count("add") >= 3
    assert "cond: 12.0 -16.0" in out and "grad through cond: 12.0 -4.0" in out
    assert "vmap of cond: [  3.  12. -12. -16.]" in out and "select_n" in out
    assert "switch: [3.0, 20.0, -2.0, -2.0]" in out          # index 7 clamps to the last branch
    assert "fori_loop, traced n: 3.0" in out
    traced, static = out.split("fori_loop, static n:")[0], out.split("fori_loop, static n:")[1]
    assert "while[" in traced.split("fori_loop, traced n")[1] and "scan[" in static.split("sqrt")[0]
    assert "sqrt(2) by while_loop: 1.4142135" in out
    assert "vmap over several a: [ 1.         1.4142135  3.        10.       ]" in out
    assert "d/da sqrt(a) at 2 = 0.35355335" in out
    assert "ValueError: Reverse-mode differentiation does not work for lax.while_loop" in out
    assert "scan: total 15.0  running sums [ 1.  3.  6. 10. 15.]" in out
    scan_g, unrolled_g = floats(r"grad via \w+: +([-\d.]+)", out)
    assert scan_g == unrolled_g == pytest.approx(-0.040716, abs=1e-6)
    for picture in ('10_cond', '10_cond_grad', '10_while', '10_scan_grad'):
        assert (OUT / f'{picture}.svg').exists(), picture


def test_inside_the_tracer():
    """Lesson 11: what the prose says about trace levels is what the explainer prints."""
    out = lesson_output('11_inside_the_tracer.py')
    assert "x is JVPTracer(primal=1.0, tangent=1.0) at trace level 1" in out   # jvp alone
    assert "traces seen, top first: [(2, 'JVPTrace'), (1, 'PartialEvalTrace'), (0, 'EvalTrace')]" in out
    assert "under grad, the first bind is handled at level 2 by JVPTrace" in out
    assert "inside grad's function, x is a JVPTracer at trace level 2" in out
    log = out.split("explain grad(")[1]
    assert log.splitlines()[1].startswith("sin  level 2 JVPTrace"), log
    prose = ' '.join((LESSONS / '11_inside_the_tracer.py').read_text().replace('#', ' ').split())
    assert "under `grad` each primitive is first seen by the JVP trace at level 2" in prose
    assert "d^3/dx^3 sin at 0 = -1.0" in out
    assert "TracerBoolConversionError:" in out
    assert (OUT / '11_explain.html').stat().st_size > 1000
    assert (OUT / '11_explain.svg').exists() and (OUT / '11_grad.svg').exists()


def test_numba_kernels():
    """Lesson 12: the fused kernel's source in whole lines, and the full speed table."""
    out = lesson_output('12_numba_kernels.py')
    assert "jit(selu) on the Numba backend: 1 kernel(s), 0 BLAS call(s)" in out
    assert re.search(r"selu_k0: eqns 0-\d+ \(gt, exp, mul, sub, select_n\)", out), out
    assert_whole_source(out, min_blocks=4)          # selu's kernel, the layer's three
    assert re.search(r"(?m)^        \w+ = exp_f32\(a\)$", out), out
    assert "_np.matmul(" in out                     # the layer's product is a BLAS call
    assert re.search(r"matmul_relu_add_k0: eqns 0-\d+ \(mul, .*add\)", out), out   # seed 002's, fused
    header = next(line for line in out.splitlines() if 'selu(100k)' in line and 'layer' in line)
    assert header.split() == ['selu(100k)', 'layer(256x64)', 'relu_add(500x600)'], header
    table = out.split(header + '\n')[1].splitlines()[:4]
    rows = {line[:18].strip(): line[18:] for line in table}
    assert list(rows) == ['eager', 'jit, interpreter', 'jit, Numba', 'JAX jit (XLA)'], table
    for way in ['eager', 'jit, interpreter', 'jit, Numba']:
        assert len(floats(r"([\d.]+) ms", rows[way])) == 3, table
    try:
        import jax  # noqa: F401
        assert len(floats(r"([\d.]+) ms", rows['JAX jit (XLA)'])) == 3, table
    except ImportError:
        assert rows['JAX jit (XLA)'].split() == ['not', 'installed'] * 3, table
    assert (OUT / '12_speed.png').stat().st_size > 1000
    assert (OUT / '12_selu_kernels.svg').exists() and (OUT / '12_layer_kernels.svg').exists()


def test_gpu_simulator():
    """Lesson 13 sets NUMBA_ENABLE_CUDASIM itself, and its kernels agree with the CPU."""
    out = run_lesson('13_gpu_simulator.py', env_drop=('NUMBA_ENABLE_CUDASIM',))
    assert "running on: Numba's CUDA simulator" in out
    assert "3 blocks x 4 threads: [ 1.  3.  5.  7.  9. 11. 13. 15. 17. 19.]" in out
    assert "jit(selu) on the CUDA backend: 1 kernel(s), 0 host step(s)" in out
    assert_whole_source(out, min_blocks=3)          # selu, the row sum, the dense layer
    # the row sum's 8 threads, one warp: merged by shuffles, 4 then 2 then 1 lanes apart
    assert all(f"_cuda.shfl_down_sync(0xff, acc_b, {n})" in out for n in (4, 2, 1)), out
    assert "row sums: [ 28.  92. 156.]  NumPy: [ 28.  92. 156.]" in out
    assert out.count("same as the CPU backend: True") == 3, out
    assert "jit(grow) on the CUDA backend: 0 kernel(s) (and 2 in control-flow bodies)" in out
    assert "  device scan (reads back nothing): " in out   # the loop's carry stays on the card
    assert "grad on the CUDA backend matches the CPU backend: True" in out
    assert "the simulator's figure says nothing about a GPU" in out


def test_cnn_lesson(tmp_path):
    """Lesson 14: conv and pooling gradients, one ResNet block's graph, a CNN on the digits."""
    out = run_lesson('14_cnn.py', '--epochs', '2', '--graph', str(tmp_path / 'block.dot'))
    assert re.search(r"one block: \d+ equations, 3 convolutions", out), out
    assert (tmp_path / 'block.dot').read_text().startswith('digraph')
    accs = floats(r"test accuracy=([\d.]+)", out)
    assert len(accs) == 2 and accs[-1] > 0.8, out
    for picture in ('14_conv_grad.svg', '14_block.svg', '14_accuracy.png'):
        assert (OUT / picture).exists(), picture


# --- lessons 8 and 10 under real JAX: the same numbers ---------------------------------------

NUMBER = re.compile(r'-?\d+\.?\d*(?:e[+-]?\d+)?')


def numbers_by_line(text):
    """{line with its numbers blanked: [numbers of each such line]}, leaving out timings
    and pictures (which differ from run to run)."""
    found = {}
    for line in text.splitlines():
        if ' ms' in line or '[picture' in line or not NUMBER.search(line):
            continue
        found.setdefault(NUMBER.sub('#', line.strip()), []).append(
            [float(v) for v in NUMBER.findall(line)])
    return found


@pytest.mark.parametrize('name', ['08_linear_regression.py', '10_control_flow.py'])
def test_lesson_prints_the_numbers_jax_prints(name, real_jax, tmp_path):
    """The lesson with JAX's imports (pictures stubbed out) prints the same numbers on
    every line both print alike, to float32 rounding (JAX's op-by-op and jitted runs
    differ from each other in the last digit too)."""
    from test_lessons import run_with_real_jax
    jax_output = run_with_real_jax(name, tmp_path, [('tinygrad_tracer', 'jax')])
    ours, theirs = numbers_by_line(lesson_output(name)), numbers_by_line(jax_output)
    shared = [k for k in ours if k in theirs and len(ours[k]) == len(theirs[k])]
    assert len(shared) >= 10, (sorted(ours), sorted(theirs))
    for key in shared:
        for a, b in zip(ours[key], theirs[key]):
            assert a == pytest.approx(b, rel=2e-6, abs=1e-7), (key, a, b)
