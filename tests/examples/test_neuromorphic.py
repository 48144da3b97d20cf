"""examples/neuromorphic.py runs end to end on its default synthetic data and writes its run folder."""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest
import torch

from tests.helpers import REPO


def load_example():
    spec = importlib.util.spec_from_file_location("neuromorphic_example", REPO / "examples" / "neuromorphic.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(mod)
    return mod


def test_synthetic_run(tmp_path):
    ex = load_example()
    out = tmp_path / "run"
    metrics = ex.main(["--out", str(out), "--epochs", "2", "--T", "4", "--train-samples", "40",
                       "--test-samples", "20", "--batch-size", "20", "--channels", "4,8"])
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["best"]["epoch"] in (1, 2) and 0.0 <= saved["best"]["test_acc"] <= 1.0
    assert saved == json.loads(json.dumps(metrics))
    assert len(saved["history"]) == 2 and "rate/neurons.0" in saved["history"][0]
    assert 0.0 <= saved["history"][0]["rate/neurons.0"] <= 1.0
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["num_train"] == 40 and cfg["T"] == 4
    assert (out / "metrics.csv").read_text().count("\n") == 3
    assert list((out / "tb").glob("events.out.tfevents*"))
    ckpt = torch.load(out / "best.pt", weights_only=False)
    assert ckpt["epoch"] == saved["best"]["epoch"] and "model" in ckpt
    assert not list(out.glob("*.tmp"))


@pytest.mark.data
def test_nmnist_smoke(tmp_path):
    from tests.helpers import data_path

    ex = load_example()
    m = ex.main(["--data", "nmnist", "--root", str(data_path("nmnist")), "--out", str(tmp_path / "n"), "--epochs", "1",
                 "--T", "3", "--train-samples", "40", "--test-samples", "20", "--channels", "4"])
    assert 0.0 <= m["best"]["test_acc"] <= 1.0


def test_bad_args(tmp_path):
    ex = load_example()
    with pytest.raises(SystemExit):
        ex.main(["--data", "nmnist", "--out", str(tmp_path)])  # --root required
    with pytest.raises(SystemExit):
        ex.main(["--T", "0", "--out", str(tmp_path)])
