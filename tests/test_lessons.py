"""The lessons run end to end (non-interactively) and print what they teach."""
import os
import pathlib
import re
import subprocess
import sys

import pytest

LESSONS = pathlib.Path(__file__).resolve().parents[1] / 'lessons'


def run_lesson(name, *args, timeout=600):
    env = dict(os.environ, MPLBACKEND='Agg', PYTHONUNBUFFERED='1')
    proc = subprocess.run([sys.executable, str(LESSONS / name), *args], capture_output=True,
                          text=True, timeout=timeout, env=env, cwd=LESSONS.parent)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def test_tour():
    out = run_lesson('01_tour.py')
    assert "x unchanged: [0. 1. 2. 3. 4.]  y: [10.  1.  2.  3.  4.]" in out
    assert "selu'(-1) = 0.6450766" in out         # 1.05 * 1.67 * exp(-1)
    assert "{ lambda ; a:f32[]. let b:f32[] = sin a; c:f32[] = mul b 2.0:f32[] in (c,) }" in out
    vm = re.search(r"vmap: \[([^\]]*)\]", out).group(1).split()
    assert [float(v) for v in vm] == [2.0, 29.0, 110.0, 245.0]
    assert "results match: True" in out
    assert re.search(r"eager [\d.]+ ms, jit [\d.]+ ms: \d+x faster", out)


def test_inside_grad():
    out = run_lesson('02_inside_grad.py')
    assert "at trace level 1" in out
    assert "d^3/dx^3 sin at 0 = -1.0" in out
    assert "TracerBoolConversionError:" in out


def test_digits_mlp_learns():
    """Lesson 3 runs seed 000's NNX/Optax code for its 300 epochs: the seed's accuracy."""
    out = run_lesson('03_digits_mlp.py')
    losses = [float(v) for v in re.findall(r"epoch \d+: loss=([\d.]+)", out)]
    assert len(losses) == 7 and losses[-1] < losses[0] / 4, out
    acc = float(re.search(r"accuracy = ([\d.]+)%", out).group(1))
    assert acc >= 95.0, out
    assert "the model's Params under [0]: ['layer1', 'layer2', 'layer3']" in out
    assert re.search(r"one jaxpr of \d+ equations: 9 inputs", out), out


def test_cnn_lesson(tmp_path):
    """Lesson 4: conv and pooling gradients, one ResNet block's graph, a CNN on the digits."""
    out = run_lesson('04_cnn.py', '--epochs', '2', '--graph', str(tmp_path / 'block.dot'))
    assert "one block: 127 equations, 3 convolutions" in out, out
    assert (tmp_path / 'block.dot').read_text().startswith('digraph')
    accs = [float(v) for v in re.findall(r"test accuracy=([\d.]+)", out)]
    assert len(accs) == 2 and accs[-1] > 0.8, out
