"""Every example's default (no data, no flags but --out) runs to exit status 0 from the real command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.helpers import REPO

EXAMPLES = (
    "recommend",
    "node_classification",
    "graph_regression",
    "neuromorphic",
    "energy",
    "protein_quality",
    "protein_nested_loto",
)


@pytest.mark.slow
@pytest.mark.parametrize("example", EXAMPLES)
def test_default_run_exits_0_and_prints_its_folder(tmp_path, example):
    out = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, str(REPO / "examples" / f"{example}.py"), "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
        env={**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    assert lines[0] == f"run folder: {out}" and lines[-1].startswith(f"run folder: {out} (")
    assert proc.stderr == "" or "Warning" not in proc.stderr, proc.stderr  # bars are off when stderr is not a tty
    assert json.loads((out / "metrics.json").read_text()) and (out / "config.json").is_file()
