"""graphnets.protein.selection: the choice never looks at the held-out target; nested_loto on tiny synthetic data."""

from __future__ import annotations

import math

import pytest
import torch

from graphnets.protein import synthetic_decoy_set
from graphnets.protein.selection import nested_loto, nested_selection, setting_name
from graphnets.protein.train import QualityTrainConfig


def test_selection_uses_inner_scores_only():
    # setting "a" is best on every test target, but "b" wins the inner scores of A and B
    outer = {"a": {"A": 0.9, "B": 0.9, "C": 0.9}, "b": {"A": 0.1, "B": 0.2, "C": 0.3}}
    inner = {"a": {"A": 0.0, "B": 0.0, "C": 0.5}, "b": {"A": 0.4, "B": 0.4, "C": float("nan")}}
    r = nested_selection(outer, inner, ["A", "B", "C"])
    assert r["chosen"] == {"A": "b", "B": "b", "C": "a"}  # NaN ranks last
    assert r["per_target"] == {"A": 0.1, "B": 0.2, "C": 0.9}
    z = [math.atanh(v) for v in (0.1, 0.2, 0.9)]
    assert r["pearson"] == pytest.approx(math.tanh(sum(z) / 3))
    with pytest.raises(ValueError, match="same settings"):
        nested_selection(outer, {"a": inner["a"]}, ["A"])


def test_nested_loto_tiny_and_resumable():
    sets = {}

    def data(config):
        if config.order not in sets:
            sets[config.order] = synthetic_decoy_set(
                3, 2, 12, generator=torch.Generator().manual_seed(0), order=config.order
            )
        return sets[config.order]

    grid = [{"dropout": 0.0}, {"dropout": 0.5}]
    base = QualityTrainConfig(epochs=1, order=1)
    seen = []
    r = nested_loto(data, "gcn", grid, base, on_setting=lambda name, s: seen.append(name))
    assert seen == [setting_name("gcn", s) for s in grid] == ["gcn_dropout0.0", "gcn_dropout0.5"]
    assert set(r["chosen"]) == {"syn000", "syn001", "syn002"} and set(r["outer"]) == set(seen)
    again = nested_loto(
        data,
        "gcn",
        grid,
        base,
        done={"outer": r["outer"], "inner": r["inner"]},
        on_setting=lambda name, s: pytest.fail("scored settings are skipped"),
    )
    assert again == r
    with pytest.raises(ValueError, match=">= 3 targets"):
        nested_loto(lambda c: data(c).subset(["syn000", "syn001"]), "gcn", grid, base)
