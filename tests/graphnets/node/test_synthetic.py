"""The SBM generator and split validation of node datasets (the splits themselves: tests/sampling/test_splits.py)."""

import pytest
import torch

from graphnets.node import make_sbm
from graphnets.node.dataset import check_split
from sampling import Split


def test_check_split_rejects_empty_and_out_of_range():
    ok = torch.tensor([0, 1])
    with pytest.raises(ValueError, match="split.val is empty"):
        check_split(Split(ok, torch.tensor([], dtype=torch.int64), ok), 5, "f")
    with pytest.raises(ValueError, match=r"split.test ids must lie in \[0, 5\) \(got 9\)"):
        check_split(Split(ok, ok, torch.tensor([9])), 5, "f")
    with pytest.raises(ValueError, match="labels must lie"):
        check_split(Split(ok, ok, ok), 5, "f", torch.tensor([0, 1, 2, 3, 4]), 3)


def test_sbm_is_symmetric_deterministic_and_block_structured():
    d1 = make_sbm(torch.Generator().manual_seed(0))
    d2 = make_sbm(torch.Generator().manual_seed(0))
    assert torch.equal(d1.graph.indices, d2.graph.indices) and torch.equal(d1.x, d2.x)
    g = d1.graph
    assert g.is_symmetric() and not bool((g.row == g.indices).any())
    same = (d1.y[g.row] == d1.y[g.indices]).float().mean()
    assert same > 0.6  # p_in / p_out = 10 with 4 blocks -> ~77% intra-block edges
    assert d1.num_nodes == 400 and d1.num_classes == 4
    with pytest.raises(ValueError, match="probability"):
        make_sbm(torch.Generator(), p_in=1.5)
