"""examples/node_classification.py runs end to end (synthetic default and, when present, real Cora)."""

import json

import pytest

from tests.helpers import data_path, load_example


def _check_outputs(out, runs):
    metrics = json.loads((out / "metrics.json").read_text())
    acc = metrics["test_acc"]
    assert len(acc["runs"]) == runs and all(0.0 <= a <= 1.0 for a in acc["runs"])
    assert abs(acc["mean"] - sum(acc["runs"]) / runs) < 1e-12 and acc["std"] >= 0
    config = json.loads((out / "config.json").read_text())
    assert "model" in config["config"]
    assert (out / "metrics.csv").read_text().startswith("run,")
    assert any((out / "tb").iterdir())
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == [f"run{r}.pt" for r in range(runs)]
    assert (out / "checkpoint.pt").is_file()
    return metrics


def test_dagnn_default_synthetic(tmp_path, capsys):
    mod = load_example("node_classification")
    mod.main(["--out", str(tmp_path), "--runs", "2", "--epochs", "40", "--split", "random", "--log-every", "10"])
    metrics = _check_outputs(tmp_path, 2)
    assert metrics["test_acc"]["mean"] > 0.5  # 4 classes
    assert "paper:" in capsys.readouterr().out


def test_spikinggcn_default_synthetic_reports_spikes(tmp_path):
    mod = load_example("node_classification")
    metrics = mod.main(["--model", "spikinggcn", "--out", str(tmp_path), "--runs", "1", "--epochs", "4", "--T", "20"])
    _check_outputs(tmp_path, 1)
    spikes = metrics["spikes_per_node"]
    assert spikes["input"]["mean"] > 0 and len(spikes["per_node_test_run0"]["input"]) == 160


def test_resume_after_a_finished_run_matches(tmp_path, monkeypatch):
    import graphnets.node as node

    mod = load_example("node_classification")
    args = ["--runs", "3", "--epochs", "20", "--split", "random"]
    full = mod.main([*args, "--out", str(tmp_path / "full")])
    real, calls = node.train_dagnn, []

    def interrupted(*a, **k):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(mod, "train_dagnn", interrupted)
    with pytest.raises(KeyboardInterrupt):
        mod.main([*args, "--out", str(tmp_path / "part")])
    monkeypatch.setattr(mod, "train_dagnn", real)
    resumed = mod.main([*args, "--out", str(tmp_path / "part"), "--resume"])
    assert resumed["test_acc"] == full["test_acc"] and resumed["best_epoch"] == full["best_epoch"]
    lines = [(tmp_path / run / "metrics.csv").read_text().count("\n") for run in ("part", "full")]
    assert lines[0] == lines[1]


@pytest.mark.data
def test_dagnn_on_real_cora_few_epochs(tmp_path, capsys):
    root = data_path("planetoid")
    mod = load_example("node_classification")
    metrics = mod.main(["--data", "cora", "--root", str(root), "--runs", "1", "--epochs", "30", "--out", str(tmp_path)])
    _check_outputs(tmp_path, 1)
    assert metrics["paper"]["mean"] == pytest.approx(0.844)
    assert "paper: 84.4 +- 0.5" in capsys.readouterr().out
