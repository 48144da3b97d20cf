"""examples/graph_regression.py runs end to end (synthetic default; tiny real-ZINC slice)."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from tests.helpers import data_path, load_example


def check_outputs(out: Path, metrics: dict) -> None:
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["models"].keys() == {"ckgconv", "gcn"}
    for m in saved["models"].values():
        assert math.isfinite(m["test_mae"]) and m["test_mae"] > 0 and m["params"] > 0
    assert json.loads((out / "config.json").read_text())["models"] == ["ckgconv", "gcn"]
    assert (out / "metrics.csv").read_text().startswith("model,epoch,train_mae,test_mae")
    assert (out / "checkpoints" / "ckgconv.pt").is_file() and (out / "checkpoints" / "gcn.pt").is_file()
    assert any((out / "tb").iterdir())
    assert saved == json.loads(json.dumps(metrics))


def test_synthetic_default(tmp_path):
    mod = load_example("graph_regression")
    out = tmp_path / "run"
    metrics = mod.main(["--out", str(out), "--epochs", "3"])
    check_outputs(out, metrics)
    assert "synthetic" in metrics["protocol"]


@pytest.mark.data
def test_real_zinc_slice(tmp_path):
    root = data_path("zinc_subset")
    mod = load_example("graph_regression")
    out = tmp_path / "zinc"
    metrics = mod.main(["--root", str(root), "--out", str(out), "--epochs", "2", "--max-train", "64", "--max-test",
                        "32", "--K", "8", "--layers", "2", "--dim", "16"])
    check_outputs(out, metrics)
    assert "NOT the paper protocol" in metrics["protocol"]


def test_bad_arguments(tmp_path):
    mod = load_example("graph_regression")
    with pytest.raises(SystemExit):
        mod.main(["--out", str(tmp_path), "--models", "gat"])
    with pytest.raises(SystemExit):
        mod.main(["--out", str(tmp_path), "--epochs", "1"])
