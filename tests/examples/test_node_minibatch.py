"""examples/node_minibatch.py runs end to end: synthetic default, mmap features, full-graph baseline, Cora."""

import json

import pytest

from tests.helpers import data_path, load_example


def _metrics(out):
    metrics = json.loads((out / "metrics.json").read_text())
    assert 0.0 <= metrics["best"]["test_acc"] <= 1.0 and metrics["epoch_seconds"] > 0
    assert (out / "metrics.csv").read_text().startswith("epoch,loss,val_acc,test_acc,epoch_seconds,samples_per_s")
    assert (out / "checkpoint.pt").exists() and any((out / "tb").iterdir())
    return metrics


def test_default_synthetic_learns(tmp_path):
    mod = load_example("node_minibatch")
    metrics = mod.main(
        ["--out", str(tmp_path), "--epochs", "8", "--batch-size", "64", "--threads", "1", "--workers", "2"]
    )
    assert _metrics(tmp_path)["best"]["test_acc"] > 0.5  # 16 communities: chance is 1/16
    assert metrics["final"]["edges_per_s"] > 0


def test_mmap_features_and_sampled_evaluation(tmp_path):
    mod = load_example("node_minibatch")
    mod.main(
        [
            "--out",
            str(tmp_path),
            "--edges",
            "2e4",
            "--features",
            "mmap",
            "--epochs",
            "1",
            "--fanouts",
            "5,-1",
            "--model",
            "gcn",
            "--prefetch",
            "0",
        ]
    )
    assert (tmp_path / "features.npy").exists()
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["config"]["eval"] == "sampled"
    _metrics(tmp_path)


def test_resume_continues_the_run(tmp_path):
    mod = load_example("node_minibatch")
    mod.main(["--out", str(tmp_path), "--edges", "2e4", "--epochs", "1"])
    metrics = mod.main(["--out", str(tmp_path), "--edges", "2e4", "--epochs", "2", "--resume"])
    assert metrics["final"]["epoch"] == 2
    rows = (tmp_path / "metrics.csv").read_text().strip().splitlines()
    assert len(rows) == 3  # header + epochs 1 and 2


@pytest.mark.parametrize(
    "flags",
    [
        ["--fanouts", "0"],
        ["--fanouts", "5,-2"],
        ["--features", "gpu"],
        ["--prefetch", "-1"],
        ["--workers", "0"],
        ["--data", "cora", "--root", "/nonexistent"],
    ],
)
def test_bad_arguments_are_one_line_errors(tmp_path, flags, capsys):
    mod = load_example("node_minibatch")
    with pytest.raises(SystemExit) as err:
        mod.main(["--out", str(tmp_path / "run"), *flags])
    assert err.value.code == 2 and "error:" in capsys.readouterr().err


@pytest.mark.data
def test_cora_sage_on_blocks_and_full_graph_gcn(tmp_path):
    root = data_path("planetoid")
    mod = load_example("node_minibatch")
    sage = mod.main(
        [
            "--out",
            str(tmp_path / "sage"),
            "--data",
            "cora",
            "--root",
            str(root),
            "--fanouts",
            "10,10",
            "--batch-size",
            "32",
            "--epochs",
            "15",
            "--threads",
            "1",
        ]
    )
    gcn = mod.main(
        [
            "--out",
            str(tmp_path / "gcn"),
            "--data",
            "cora",
            "--root",
            str(root),
            "--model",
            "gcn",
            "--full-graph",
            "--hidden",
            "16",
            "--epochs",
            "30",
            "--threads",
            "1",
        ]
    )
    assert sage["best"]["test_acc"] > 0.7 and gcn["best"]["test_acc"] > 0.7
