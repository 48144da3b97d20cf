"""examples/neuromorphic.py: default synthetic run, exact resume after an interruption, data paths, bad flags."""

from __future__ import annotations

import csv
import json

import pytest

from spiking.training import SNNClassifierTrainer
from tests.helpers import load_example

SMALL = ["--T", "4", "--train-samples", "40", "--test-samples", "20", "--batch-size", "20", "--channels", "4,8"]


def test_synthetic_run(tmp_path):
    ex = load_example("neuromorphic")
    out = tmp_path / "run"
    metrics = ex.main(["--out", str(out), "--epochs", "2", *SMALL])
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["best"]["epoch"] in (1, 2) and 0.0 <= saved["best"]["test_acc"] <= 1.0
    assert saved == metrics
    assert len(saved["history"]) == 2 and 0.0 <= saved["history"][0]["rate/neurons.0"] <= 1.0
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["config"]["num_train"] == 40 and cfg["args"]["T"] == 4 and cfg["args"]["device"] == "cpu"
    assert (out / "metrics.csv").read_text().count("\n") == 3
    assert list((out / "tb").glob("events.out.tfevents*"))
    best = load_example("_run").load_checkpoint(out / "best.pt", example="neuromorphic")
    assert best["state"]["best"]["epoch"] == saved["best"]["epoch"] and "model" in best["state"]["trainer"]
    assert not list(out.glob("*.part"))


def _rows(path):
    with open(path) as fh:
        return [
            {k: v for k, v in r.items() if k not in ("epoch_s", "samples_per_s", "elapsed_min")}
            for r in csv.DictReader(fh)
        ]


def test_resume_after_interruption_matches_an_uninterrupted_run(tmp_path, monkeypatch):
    ex = load_example("neuromorphic")
    args = ["--epochs", "3", "--dropout", "0.5", *SMALL]
    full = ex.main([*args, "--out", str(tmp_path / "full")])
    real = SNNClassifierTrainer.train_epoch

    def interrupted(self, progress=None):
        if self.epoch == 2:
            raise KeyboardInterrupt
        return real(self, progress)

    monkeypatch.setattr(SNNClassifierTrainer, "train_epoch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        ex.main([*args, "--out", str(tmp_path / "part")])
    monkeypatch.setattr(SNNClassifierTrainer, "train_epoch", real)
    assert len(_rows(tmp_path / "part" / "metrics.csv")) == 2
    resumed = ex.main([*args, "--out", str(tmp_path / "part"), "--resume"])
    assert [h["train_loss"] for h in resumed["history"]] == [h["train_loss"] for h in full["history"]]
    assert resumed["best"] == full["best"] and resumed["final"]["test_loss"] == full["final"]["test_loss"]
    assert _rows(tmp_path / "part" / "metrics.csv") == _rows(tmp_path / "full" / "metrics.csv")


def test_nmnist_defaults_are_the_recipe():
    ex = load_example("neuromorphic")
    a = ex.parse_args(["--data", "nmnist", "--root", "x"])
    assert (a.T, a.epochs, a.lr) == (8, 15, 5e-3)
    a = ex.parse_args(["--data", "nmnist", "--root", "x", "--epochs", "2"])
    assert (a.epochs, a.lr) == (2, 5e-3)
    a = ex.parse_args([])
    assert (a.T, a.epochs, a.lr) == (8, 3, 2e-3)


@pytest.mark.data
def test_nmnist_smoke(tmp_path):
    from tests.helpers import data_path

    ex = load_example("neuromorphic")
    m = ex.main(
        [
            "--data",
            "nmnist",
            "--root",
            str(data_path("nmnist")),
            "--out",
            str(tmp_path / "n"),
            "--epochs",
            "1",
            "--T",
            "3",
            "--train-samples",
            "40",
            "--test-samples",
            "20",
            "--channels",
            "4",
        ]
    )
    assert 0.0 <= m["best"]["test_acc"] <= 1.0


def test_missing_data_says_how_to_obtain_it(tmp_path, capsys):
    ex = load_example("neuromorphic")
    for argv, expected in (
        (["--data", "nmnist"], "--data nmnist needs --root DIR: nmnist expects <DIR>/Train/"),
        (["--data", "nmnist", "--root", str(tmp_path / "none")], "--download fetches"),
        (["--data", "dvs128gesture", "--root", str(tmp_path)], "must be downloaded by hand from"),
    ):
        with pytest.raises(SystemExit) as exc:
            ex.main([*argv, "--out", str(tmp_path / "o")])
        err = capsys.readouterr().err.strip()
        assert exc.value.code == 2 and "\n" not in err and expected in err, err


def test_audio_and_cifar10dvs_paths(tmp_path):
    """--data shd (spiking MLP on [T, 700]) and --data cifar10dvs (9:1 split) on tiny files in the exact layouts."""
    import numpy as np

    from spiking.datasets.cifar10_dvs import CLASSES
    from tests.spiking.formats import write_aedat2_cifar, write_spike_h5

    ex = load_example("neuromorphic")
    rng = np.random.default_rng(0)
    samples = [(np.sort(rng.uniform(0, 0.5, 30)), rng.integers(0, 700, 30)) for _ in range(8)]
    for split in ("train", "test"):
        write_spike_h5(tmp_path / f"shd_{split}.h5", samples, [i % 20 for i in range(8)])
    m = ex.main(
        [
            "--data",
            "shd",
            "--root",
            str(tmp_path),
            "--out",
            str(tmp_path / "a"),
            "--epochs",
            "1",
            "--T",
            "4",
            "--channels",
            "8",
            "--batch-size",
            "4",
        ]
    )
    assert json.loads((tmp_path / "a" / "config.json").read_text())["config"]["input_shape"] == [4, 700]
    assert 0.0 <= m["best"]["test_acc"] <= 1.0
    croot = tmp_path / "c10"
    for cls in CLASSES:
        (croot / cls).mkdir(parents=True)
        for i in range(10):
            write_aedat2_cifar(
                croot / cls / f"cifar10_{cls}_{i}.aedat",
                t=np.arange(20),
                x=rng.integers(0, 128, 20),
                y=rng.integers(0, 128, 20),
                p=rng.integers(0, 2, 20),
            )
    ex.main(
        [
            "--data",
            "cifar10dvs",
            "--root",
            str(croot),
            "--out",
            str(tmp_path / "b"),
            "--epochs",
            "1",
            "--T",
            "2",
            "--channels",
            "4",
            "--batch-size",
            "30",
        ]
    )
    cfg = json.loads((tmp_path / "b" / "config.json").read_text())["config"]
    assert cfg["num_train"] == 90 and cfg["num_test"] == 10 and cfg["input_shape"] == [2, 2, 128, 128]
