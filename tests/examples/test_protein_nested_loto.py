"""examples/protein_nested_loto.py: the selection never looks at the held-out target; end to end on the real set."""
from __future__ import annotations

import json
import math

import pytest

from tests.helpers import data_path, load_example


def test_selection_uses_inner_scores_only():
    mod = load_example("protein_nested_loto")
    # setting "a" is best on every test target, but "b" wins the inner scores of A and B
    outer = {"a": {"A": 0.9, "B": 0.9, "C": 0.9}, "b": {"A": 0.1, "B": 0.2, "C": 0.3}}
    inner = {"a": {"A": 0.0, "B": 0.0, "C": 0.5}, "b": {"A": 0.4, "B": 0.4, "C": float("nan")}}
    r = mod.nested(outer, inner, ["A", "B", "C"])
    assert r["chosen"] == {"A": "b", "B": "b", "C": "a"}  # NaN ranks last
    assert r["per_target"] == {"A": 0.1, "B": 0.2, "C": 0.9}
    z = [math.atanh(v) for v in (0.1, 0.2, 0.9)]
    assert r["pearson"] == pytest.approx(math.tanh(sum(z) / 3))


def test_grid_and_bad_lists():
    mod = load_example("protein_nested_loto")
    args = mod.parse_args(["--root", "x", "--orders", "1,2", "--weight-decays", "0.1", "--dropouts", "0,0.5"])
    grid = mod.settings(args)
    assert len(grid["sgcn"]) == 4 and len(grid["gcn"]) == 2 and all("order" not in s for s in grid["gcn"])
    with pytest.raises(SystemExit):
        mod.parse_args(["--root", "x", "--dropouts", "0.1,high"])


@pytest.mark.data
def test_nested_end_to_end_tiny(tmp_path):
    root = data_path("proteins") / "proteingcn_decoys"
    mod = load_example("protein_nested_loto")
    summary = mod.main(["--root", str(root), "--out", str(tmp_path), "--epochs", "1", "--orders", "1",
                        "--weight-decays", "3e-3", "--dropouts", "0.0,0.5"])
    saved = json.loads((tmp_path / "nested.json").read_text())
    assert saved["targets"] == ["1ew0A", "1eyvA", "1ez3A", "1ezgA"]
    seed = saved["seeds"]["0"]
    for model in ("sgcn", "gcn"):
        assert set(seed[model]["chosen"]) == set(saved["targets"])
        assert len(seed[model]["outer"]) == 2 and all(len(v) == 4 for v in seed[model]["inner"].values())
        for t, name in seed[model]["chosen"].items():  # the nested score is the chosen setting's outer score
            assert seed[model]["per_target"][t] == seed[model]["outer"][name][t]
    assert saved["sgcn_minus_gcn"]["seeds"] == 1 and summary["wall_seconds"] > 0
    # inner runs never contain their held-out target
    cfg = json.loads((tmp_path / "runs" / "s0" / "gcn_weight_decay0.003_dropout0.0" / "inner_without_1ew0A"
                      / "config.json").read_text())
    assert cfg["targets"] == ["1eyvA", "1ez3A", "1ezgA"]
