"""Stage splitting by layer count and by measured cost."""

from __future__ import annotations

import itertools

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from sampling.pipeline import measure_layer_costs, split_by_cost, split_by_count, stage_costs


def test_split_by_count_sizes_differ_by_at_most_one():
    assert split_by_count(16, 4) == [range(4), range(4, 8), range(8, 12), range(12, 16)]
    assert split_by_count(10, 4) == [range(3), range(3, 6), range(6, 8), range(8, 10)]
    assert split_by_count(3, 3) == [range(1), range(1, 2), range(2, 3)]


def _brute_force(costs, stages):
    n = len(costs)
    best = None
    for cuts in itertools.combinations(range(1, n), stages - 1):
        b = (0, *cuts, n)
        worst = max(sum(costs[b[i] : b[i + 1]]) for i in range(stages))
        best = worst if best is None else min(best, worst)
    return best


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 20), min_size=1, max_size=9), st.integers(1, 4))
def test_split_by_cost_is_optimal_and_contiguous(costs, stages):
    if stages > len(costs):
        with pytest.raises(ValueError, match="num_stages"):
            split_by_cost(costs, stages)
        return
    split = split_by_cost(costs, stages)
    assert [i for r in split for i in r] == list(range(len(costs)))
    assert all(len(r) >= 1 for r in split)
    assert max(stage_costs(costs, split)) == _brute_force(costs, stages)


def test_split_by_cost_isolates_a_heavy_layer():
    assert split_by_cost([1, 1, 1, 5, 1, 1], 3) == [range(3), range(3, 4), range(4, 6)]


@pytest.mark.parametrize(
    "bad,match",
    [
        (([], 2), "non-empty"),
        (([1.0, -1.0], 1), "finite and >= 0"),
        (([1.0, float("nan")], 1), "finite"),
        (([1.0], 0), "positive int"),
    ],
)
def test_split_by_cost_rejects_bad_input(bad, match):
    with pytest.raises(ValueError, match=match):
        split_by_cost(*bad)


def test_split_by_count_rejects_bad_input():
    with pytest.raises(ValueError, match="num_stages <= num_layers"):
        split_by_count(2, 3)
    with pytest.raises(ValueError, match="positive int"):
        split_by_count(4, 0)


def test_measured_costs_rank_layers_by_work_and_keep_the_rng():
    layers = [nn.Linear(8, 8), nn.Sequential(*[nn.Linear(8, 8) for _ in range(40)]), nn.Linear(8, 8)]
    x = torch.randn(64, 8)
    state = torch.get_rng_state()
    costs = measure_layer_costs(layers, x, repeats=3)
    assert torch.equal(torch.get_rng_state(), state)
    assert len(costs) == 3 and all(c > 0 for c in costs)
    assert costs[1] > 5 * max(costs[0], costs[2])  # 40 layers cost more than one
    assert split_by_cost(costs, 3) == [range(1), range(1, 2), range(2, 3)]
    assert all(p.grad is None for m in layers for p in m.parameters())
