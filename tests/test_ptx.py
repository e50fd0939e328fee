"""Every CUDA kernel compiles for a real card, without one (marker `ptx`).

`ptx_kernels.py` runs in a process of its own, without the CUDA simulator that
conftest.py turns on here: it generates the kernels of every case of the shared
function table (forward and gradient) and of an MLP training step, compiles each
to PTX for sm_90 and sm_75 with numba-cuda's NVVM and assembles it with the
`ptxas` the `cuda` extra installs. The register and spill counts are printed
(`pytest -m ptx -s`). Skips, saying so, only without numba-cuda.
"""
import importlib.util
import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.ptx

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope='module')
def report():
    if importlib.util.find_spec('numba_cuda') is None:
        pytest.skip("numba-cuda is not installed, so no kernel can be compiled for a real GPU: "
                    "pip install -e '.[cuda]' (CI installs it; this skip means it could not)")
    from tinygrad_tracer.backends import cuda_kernels
    if cuda_kernels.ptxas() is None:
        pytest.skip("no ptxas: the `cuda` extra's nvidia-cuda-nvcc-cu12 is missing (pip install -e '.[cuda]')")
    env = {k: v for k, v in os.environ.items() if k != 'NUMBA_ENABLE_CUDASIM'}
    run = subprocess.run([sys.executable, os.path.join(HERE, 'ptx_kernels.py')], capture_output=True,
                         text=True, env=env, timeout=900)
    assert run.returncode == 0, run.stderr[-5000:]
    return json.loads(run.stdout)


def test_every_kernel_compiles_and_assembles(report):
    failures = '\n\n'.join(f"{f['case']} / {f['kernel']} / {f.get('arch')}:\n{f['error']}"
                           for f in report['failures'])
    assert not report['failures'], failures


@pytest.mark.parametrize('arch', ['sm_90', 'sm_75'])
def test_registers_and_spills(report, arch):
    rows = report['rows'][arch]
    assert len(rows) > 150   # every case of functions.py has at least one kernel
    assert {'matmul_float32', 'matmul_float64'} <= {r['kernel'] for r in rows}
    from test_fallback_codegen import CASES   # every gather, scatter, scan and sort kernel
    assert {f"codegen {name}" for name, _, _ in CASES} <= {r['case'] for r in rows}
    worst = max(rows, key=lambda r: r['registers'])
    spilled = [r for r in rows if r['spill_stores'] or r['spill_loads']]
    print(f"\n{arch}: {len(rows)} distinct kernels, registers median "
          f"{sorted(r['registers'] for r in rows)[len(rows) // 2]}, max {worst['registers']} "
          f"({worst['case']} / {worst['kernel']}), {len(spilled)} with spills"
          + ''.join(f"\n  spills: {r['case']} / {r['kernel']}: {r['spill_stores']} B stored, "
                    f"{r['spill_loads']} B loaded" for r in spilled))
    assert worst['registers'] <= 255


def test_reductions_merge_across_a_warp_with_shuffles(report):
    rows = {(r['case'], r['kernel']): r for r in report['rows']['sm_90']}
    # a row of 64 float32: a block of 64 threads, two warps: 5 shuffles down each warp
    # (16, 8, 4, 2, 1), then 1 between the two warps' totals; the float64 accumulator
    # (a sum of more than 32 elements) moves as two 32-bit halves: 12 shfl.sync.down
    assert rows['bench row sum', 'bench_row_sum_k0']['shuffles'] == 12
    assert rows['bench selu', 'bench_selu_k0']['shuffles'] == 0   # elementwise: none
