"""examples/protein_nested_loto.py: synthetic default end to end, exact resume, the real set (tiny budget)."""

from __future__ import annotations

import json

import pytest

from tests.helpers import data_path, load_example

TINY = ["--epochs", "1", "--weight-decays", "3e-3", "--dropouts", "0.0,0.5"]


def check(summary: dict, out, targets: list[str], settings: int) -> None:
    assert json.loads((out / "metrics.json").read_text()) == summary
    assert summary["targets"] == targets
    seed = summary["seeds"]["0"]
    for model in ("sgcn", "gcn"):
        assert set(seed[model]["chosen"]) == set(targets)
        assert len(seed[model]["outer"]) == settings
        assert all(len(v) == len(targets) for v in seed[model]["inner"].values())
        for t, name in seed[model]["chosen"].items():  # the nested score is the chosen setting's outer score
            assert seed[model]["per_target"][t] == seed[model]["outer"][name][t]
    assert summary["sgcn_minus_gcn"]["seeds"] == 1 and summary["wall_seconds"] > 0
    assert len((out / "metrics.csv").read_text().splitlines()) == 1 + 2 * settings


def test_synthetic_default_end_to_end(tmp_path):
    mod = load_example("protein_nested_loto")
    out = tmp_path / "run"
    summary = mod.main([*TINY, "--out", str(out)])
    check(summary, out, ["syn000", "syn001", "syn002"], settings=2)


def test_resume_skips_scored_settings_and_matches(tmp_path, monkeypatch):
    import graphnets.protein.selection as selection

    mod = load_example("protein_nested_loto")
    full = mod.main([*TINY, "--out", str(tmp_path / "full")])
    real, calls = selection.leave_one_target_out, []

    def interrupted(data, model, *a, **k):
        calls.append(model)
        if model == "gcn":
            raise KeyboardInterrupt
        return real(data, model, *a, **k)

    monkeypatch.setattr(selection, "leave_one_target_out", interrupted)
    with pytest.raises(KeyboardInterrupt):
        mod.main([*TINY, "--out", str(tmp_path / "part")])
    monkeypatch.setattr(selection, "leave_one_target_out", real)
    resumed = mod.main([*TINY, "--out", str(tmp_path / "part"), "--resume"])
    assert resumed["seeds"] == full["seeds"] and resumed["sgcn_minus_gcn"] == full["sgcn_minus_gcn"]
    assert calls.count("sgcn") == 2 * 4  # both S-GCN settings were scored (outer + 3 inner) before the stop


def test_grid():
    mod = load_example("protein_nested_loto")
    args = mod.parse_args(["--root", "x", "--orders", "1,2", "--weight-decays", "0.1", "--dropouts", "0,0.5"])
    grid = mod.settings(args)
    assert len(grid["sgcn"]) == 4 and len(grid["gcn"]) == 2 and all("order" not in s for s in grid["gcn"])
    assert args.epochs == 60 and mod.parse_args([]).epochs == 6  # real vs synthetic defaults


@pytest.mark.data
def test_nested_end_to_end_tiny(tmp_path):
    root = data_path("proteins") / "proteingcn_decoys"
    mod = load_example("protein_nested_loto")
    summary = mod.main(["--root", str(root), "--out", str(tmp_path / "r"), "--orders", "1", *TINY])
    check(summary, tmp_path / "r", ["1ew0A", "1eyvA", "1ez3A", "1ezgA"], settings=2)
