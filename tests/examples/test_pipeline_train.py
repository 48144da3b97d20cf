"""examples/pipeline_train.py from the real command line under torchrun with two gloo ranks: it trains, the
bytes it counts equal the traffic model, the DCP checkpoint is written. (Resume equality of the same DCP code is
tested in tests/sampling/pipeline/test_checkpoint.py; one launch here costs ~10 s.)"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import pytest

from tests.helpers import REPO

TINY = ["--layers", "2", "--hidden", "8", "--chunks", "4", "--threads", "1", "--device", "cpu"]


def _run(cmd: list[str], out, *flags: str) -> list[dict]:
    proc = subprocess.run(
        [*cmd, str(REPO / "examples" / "pipeline_train.py"), *TINY, "--out", str(out), *flags],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"},
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert proc.stdout.splitlines()[-1].startswith(f"run folder: {out} (")
    with open(out / "metrics.csv") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.slow
def test_torchrun_two_ranks_count_the_modelled_bytes(tmp_path):
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
    rows = _run(torchrun, tmp_path / "r", "--epochs", "2", "--checkpoint-every", "2")
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert metrics["world"] == 2 and len(rows) == 2
    assert metrics["bytes_sent_per_epoch"] == metrics["traffic_model"]["gnnpipe_bytes"] > 0
    assert metrics["traffic_model"]["graph_parallel_halo_bytes"] > 0
    assert all(float(r["compute_s"]) > 0 for r in rows)
    assert (tmp_path / "r" / "dcp" / ".metadata").is_file()
