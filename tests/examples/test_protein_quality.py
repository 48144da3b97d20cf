"""examples/protein_quality.py runs end to end (synthetic default; the real decoy set, tiny budget)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import data_path, load_example


def check_outputs(out: Path, metrics: dict, models: list[str], folds: int) -> None:
    saved = json.loads((out / "metrics.json").read_text())
    assert saved == json.loads(json.dumps(metrics))
    assert list(saved["models"]) == models
    for m in saved["models"].values():
        for key in ("residue", "global_lddt"):
            assert set(m[key]) == {"pearson", "spearman", "per_target"}
            assert m[key]["pearson"] is None or -1 <= m[key]["pearson"] <= 1
        assert "z" in m["top1_lddt"] and m["num_parameters"] > 0 and m["residue_mse"] >= 0
        assert len(m["pred_global"]) == len(m["true_global"]) == len(m["names"])
    config = json.loads((out / "config.json").read_text())
    assert config["config"]["split"] == "leave-one-target-out" and config["args"]["models"] == models
    lines = (out / "metrics.csv").read_text().splitlines()
    assert lines[0] == "model,fold,epoch,train_mse,test_residue_mse,test_residue_pearson,residues_per_s"
    for name in models:
        for fold in range(folds):
            assert (out / "checkpoints" / f"{name}_fold{fold}.pt").is_file()
    assert any((out / "tb").iterdir()) and (out / "scatter.png").is_file()


def test_synthetic_default(tmp_path):
    mod = load_example("protein_quality")
    out = tmp_path / "run"
    metrics = mod.main(
        [
            "--out",
            str(out),
            "--epochs",
            "2",
            "--synthetic-targets",
            "3",
            "--synthetic-decoys",
            "3",
            "--synthetic-length",
            "16",
        ]
    )
    check_outputs(out, metrics, ["sgcn", "gcn"], folds=3)
    assert metrics["config"]["data_source"] == "synthetic"
    # every test target is held out from its fold's training set: names of all test models appear once
    names = metrics["models"]["sgcn"]["names"]
    assert len(names) == len(set(names)) == 9


def test_resume_after_the_first_model_matches_an_uninterrupted_run(tmp_path, monkeypatch):
    import graphnets.protein.train as train

    mod = load_example("protein_quality")
    args = ["--epochs", "2", "--synthetic-targets", "3", "--synthetic-decoys", "3", "--synthetic-length", "16"]
    full = mod.main([*args, "--out", str(tmp_path / "full")])
    real = train.train_quality_model

    def interrupted(name, *a, **k):
        if name == "gcn":
            raise KeyboardInterrupt
        return real(name, *a, **k)

    monkeypatch.setattr(train, "train_quality_model", interrupted)
    with pytest.raises(KeyboardInterrupt):
        mod.main([*args, "--out", str(tmp_path / "part")])
    monkeypatch.setattr(train, "train_quality_model", real)
    resumed = mod.main([*args, "--out", str(tmp_path / "part"), "--resume"])
    for name in ("sgcn", "gcn"):
        assert resumed["models"][name]["residue"] == full["models"][name]["residue"]
        assert resumed["models"][name]["pred_global"] == full["models"][name]["pred_global"]
    strip = [line.rsplit(",", 1)[0] for line in (tmp_path / "full" / "metrics.csv").read_text().splitlines()]
    assert strip == [line.rsplit(",", 1)[0] for line in (tmp_path / "part" / "metrics.csv").read_text().splitlines()]


def run_real(tmp_path: Path, model: str, *extra: str) -> dict:
    """One epoch on the real decoy set (skipped without the data); checks the outputs."""
    root = data_path("proteins") / "proteingcn_decoys"
    out = tmp_path / "real"
    metrics = load_example("protein_quality").main(
        ["--root", str(root), "--out", str(out), "--epochs", "1", "--models", model, *extra]
    )
    check_outputs(out, metrics, [model], folds=4)
    return metrics


@pytest.mark.data
def test_real_decoys_tiny_budget(tmp_path):
    metrics = run_real(tmp_path, "sgcn_s", "--augment", "1", "--near-native", "1")
    m = metrics["models"]["sgcn_s"]
    assert set(m["residue"]["per_target"]) == {"1ew0A", "1eyvA", "1ez3A", "1ezgA"}
    assert "global_gdt_ts" in m and len(m["names"]) == 20
    assert not any("aug" in n or "near" in n for n in m["names"])  # generated models only ever train


@pytest.mark.data
def test_real_decoys_voronoi_contacts(tmp_path):
    assert run_real(tmp_path, "gcn", "--contacts", "voronoi")["config"]["contacts"] == "voronoi"


def test_missing_data_says_what_to_place(tmp_path, capsys):
    mod = load_example("protein_quality")
    with pytest.raises(SystemExit) as exc:
        mod.main(["--root", str(tmp_path / "none"), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 2 and "\n" not in err and "<decoy>.pdb.error" in err
