"""Random Planetoid splits and the SBM generator."""
import pytest
import torch

from graphnets.node import make_sbm, random_planetoid_split
from graphnets.node.dataset import Split, check_split


def test_random_split_sizes_disjoint_deterministic():
    y = torch.arange(700) % 7
    s1 = random_planetoid_split(y, 7, torch.Generator().manual_seed(3), num_val=200, num_test=300)
    s2 = random_planetoid_split(y, 7, torch.Generator().manual_seed(3), num_val=200, num_test=300)
    s3 = random_planetoid_split(y, 7, torch.Generator().manual_seed(4), num_val=200, num_test=300)
    assert torch.equal(s1.train, s2.train) and torch.equal(s1.test, s2.test)
    assert not torch.equal(s1.train, s3.train)
    assert torch.bincount(y[s1.train], minlength=7).tolist() == [20] * 7
    assert s1.val.numel() == 200 and s1.test.numel() == 300
    allidx = torch.cat([s1.train, s1.val, s1.test])
    assert allidx.unique().numel() == allidx.numel()


def test_random_split_errors():
    y = torch.arange(100) % 2
    with pytest.raises(ValueError, match="fewer than num_val"):
        random_planetoid_split(y, 2, torch.Generator(), num_val=50, num_test=50)
    with pytest.raises(ValueError, match="labels must lie"):
        random_planetoid_split(y + 5, 2, torch.Generator())
    with pytest.raises(ValueError, match="class 1 has"):
        random_planetoid_split(torch.zeros(100, dtype=torch.int64), 2, torch.Generator(), num_val=10, num_test=10)
    with pytest.raises(TypeError, match="generator"):
        random_planetoid_split(y, 2, 0)


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
