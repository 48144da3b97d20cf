"""examples/graph_regression.py: synthetic default, exact resume mid-model, no deprecation warning, ZINC slice."""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from graphnets.ckgconv.train import GraphRegressionTrainer
from tests.helpers import REPO, data_path, load_example

TINY = ["--epochs", "3", "--K", "4", "--dim", "8", "--max-train", "24", "--max-test", "12"]


def check_outputs(out: Path, metrics: dict) -> None:
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["models"].keys() == {"ckgconv", "gcn"}
    for m in saved["models"].values():
        assert math.isfinite(m["test_mae"]) and m["test_mae"] > 0 and m["params"] > 0
    assert json.loads((out / "config.json").read_text())["args"]["models"] == ["ckgconv", "gcn"]
    assert (out / "metrics.csv").read_text().startswith("model,epoch,train_mae,test_mae")
    assert (out / "checkpoint.pt").is_file() and any((out / "tb").iterdir())
    assert saved == metrics


def test_synthetic_default(tmp_path):
    mod = load_example("graph_regression")
    out = tmp_path / "run"
    metrics = mod.main(["--out", str(out), "--epochs", "3"])
    check_outputs(out, metrics)
    assert "synthetic" in metrics["protocol"]


def test_resume_in_the_second_model_matches_an_uninterrupted_run(tmp_path, monkeypatch):
    mod = load_example("graph_regression")
    full = mod.main([*TINY, "--out", str(tmp_path / "full")])
    real = GraphRegressionTrainer.train_epoch

    def interrupted(self, progress=None):
        if type(self.model).__name__ == "GCNRegressor" and self.epoch == 1:
            raise KeyboardInterrupt
        return real(self, progress)

    monkeypatch.setattr(GraphRegressionTrainer, "train_epoch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        mod.main([*TINY, "--out", str(tmp_path / "part")])
    monkeypatch.setattr(GraphRegressionTrainer, "train_epoch", real)
    resumed = mod.main([*TINY, "--out", str(tmp_path / "part"), "--resume"])
    for name in ("ckgconv", "gcn"):
        for key in ("test_mae", "final_train_mae"):
            assert resumed["models"][name][key] == full["models"][name][key]

    def rows(run):
        with open(tmp_path / run / "metrics.csv") as fh:
            return [(r["model"], r["epoch"], r["train_mae"], r["test_mae"]) for r in csv.DictReader(fh)]

    assert rows("part") == rows("full") and len(rows("full")) == 6


def test_cli_prints_no_deprecation_warning(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            str(REPO / "examples" / "graph_regression.py"),
            "--out",
            str(tmp_path / "r"),
            *TINY[:2],
            "--models",
            "gcn",
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.returncode == 0, proc.stderr
    assert "Warning" not in proc.stderr and "deprecated" not in proc.stderr + proc.stdout


@pytest.mark.data
def test_real_zinc_slice(tmp_path):
    root = data_path("zinc_subset")
    mod = load_example("graph_regression")
    out = tmp_path / "zinc"
    metrics = mod.main(
        [
            "--root",
            str(root),
            "--out",
            str(out),
            "--epochs",
            "2",
            "--max-train",
            "64",
            "--max-test",
            "32",
            "--K",
            "8",
            "--layers",
            "2",
            "--dim",
            "16",
        ]
    )
    check_outputs(out, metrics)
    assert "NOT the paper protocol" in metrics["protocol"]


def test_download_trains_on_the_training_split(tmp_path, monkeypatch):
    import torch

    from graphnets.ckgconv import synthetic_molecules

    mod = load_example("graph_regression")
    calls = []

    def fake_download(root, split):
        calls.append((root, split))
        return synthetic_molecules(24 if split == "train" else 12, torch.Generator().manual_seed(len(calls)))

    monkeypatch.setattr(mod, "download_zinc", fake_download)
    m = mod.main(
        [
            "--root",
            str(tmp_path / "zinc"),
            "--download",
            "--out",
            str(tmp_path / "o"),
            "--epochs",
            "2",
            "--K",
            "4",
            "--dim",
            "8",
            "--layers",
            "1",
            "--models",
            "gcn",
        ]
    )
    assert calls == [(str(tmp_path / "zinc"), "train"), (str(tmp_path / "zinc"), "test")]
    assert "the paper's split" in m["protocol"] and m["models"]["gcn"]["test_mae"] > 0


def test_missing_zinc_says_what_to_place(tmp_path, capsys):
    mod = load_example("graph_regression")
    with pytest.raises(SystemExit) as exc:
        mod.main(["--root", str(tmp_path), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 2 and "\n" not in err and "zinc_subset_val.npz and zinc_subset_test.npz" in err
    assert "--download fetches ZINC-12k" in err


def test_download_with_a_tampered_raw_file_is_a_cli_error(tmp_path, capsys):
    import pickle

    from tests.graphnets.ckgconv.test_zinc_raw import _RunsCode, write_raw

    raw = write_raw(tmp_path / "zinc")
    (raw / "train.pickle").write_bytes(pickle.dumps([{"atom_type": _RunsCode(tmp_path / "pwned")}]))
    mod = load_example("graph_regression")
    with pytest.raises(SystemExit) as exc:
        mod.main(["--root", str(tmp_path / "zinc"), "--download", "--out", str(tmp_path / "o"), "--epochs", "2"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "--download failed (read_zinc_raw: refusing to load" in err
    assert not (tmp_path / "pwned").exists()
