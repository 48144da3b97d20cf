"""sampling.splits: node (Planetoid), edge (per user) and graph (by group) splits, seeded and disjoint."""

import pytest
import torch

from sampling import Split, leave_one_group_out, random_group_split, random_planetoid_split, random_user_split


def test_random_planetoid_split_sizes_disjoint_deterministic():
    y = torch.arange(700) % 7
    s1 = random_planetoid_split(y, 7, torch.Generator().manual_seed(3), num_val=200, num_test=300)
    s2 = random_planetoid_split(y, 7, torch.Generator().manual_seed(3), num_val=200, num_test=300)
    s3 = random_planetoid_split(y, 7, torch.Generator().manual_seed(4), num_val=200, num_test=300)
    assert isinstance(s1, Split)
    assert torch.equal(s1.train, s2.train) and torch.equal(s1.test, s2.test)
    assert not torch.equal(s1.train, s3.train)
    assert torch.bincount(y[s1.train], minlength=7).tolist() == [20] * 7
    assert s1.val.numel() == 200 and s1.test.numel() == 300
    allidx = torch.cat([s1.train, s1.val, s1.test])
    assert allidx.unique().numel() == allidx.numel()


def test_random_planetoid_split_keeps_the_seeded_draws():
    # golden values computed with the code before the move (graphnets.node.splits, seed 0): same seeds, same splits
    s = random_planetoid_split(
        torch.arange(12) % 3, 3, torch.Generator().manual_seed(0), train_per_class=2, num_val=3, num_test=3
    )
    assert (s.train.tolist(), s.val.tolist(), s.test.tolist()) == ([0, 3, 1, 7, 11, 8], [4, 10, 2], [9, 5, 6])


def test_random_planetoid_split_errors():
    y = torch.arange(100) % 2
    with pytest.raises(ValueError, match="fewer than num_val"):
        random_planetoid_split(y, 2, torch.Generator(), num_val=50, num_test=50)
    with pytest.raises(ValueError, match="labels must lie"):
        random_planetoid_split(y + 5, 2, torch.Generator())
    with pytest.raises(ValueError, match="class 1 has"):
        random_planetoid_split(torch.zeros(100, dtype=torch.int64), 2, torch.Generator(), num_val=10, num_test=10)
    with pytest.raises(TypeError, match="generator"):
        random_planetoid_split(y, 2, 0)


def test_random_user_split_per_user_shares_and_seed():
    users = torch.tensor([0] * 10 + [1] * 4 + [2])
    items = torch.arange(15)
    m1 = random_user_split(users, items, 3, 0.2, torch.Generator().manual_seed(0))
    m2 = random_user_split(users, items, 3, 0.2, torch.Generator().manual_seed(0))
    assert torch.equal(m1, m2) and m1.dtype == torch.bool
    assert [int(m1[users == u].sum()) for u in range(3)] == [2, 1, 0]  # ceil(0.2 n), never a user's only pair
    assert m1.nonzero().view(-1).tolist() == [6, 9, 11]  # golden: graphnets.recsys.random_user_split before the move
    with pytest.raises(ValueError, match=r"test_ratio must lie in \(0, 1\)"):
        random_user_split(users, items, 3, 1.0)


def test_group_splits():
    train, test = random_group_split(["d", "a", "c", "b"], 1, torch.Generator().manual_seed(0))
    assert (train, test) == (["b", "c", "d"], ["a"])  # golden: graphnets.protein.split_by_target before the move
    again = random_group_split(["a", "b", "c", "d"], 1, torch.Generator().manual_seed(0))
    assert again == (train, test)  # input order does not matter, the seed does
    with pytest.raises(ValueError, match="need 1 <= num_test < 1"):
        random_group_split(["a"], 1, torch.Generator())
    with pytest.raises(ValueError, match="unique"):
        random_group_split(["a", "a", "b"], 1, torch.Generator())
    folds = leave_one_group_out(["b", "a", "c"])
    assert folds == [(["b", "c"], ["a"]), (["a", "c"], ["b"]), (["a", "b"], ["c"])]
    with pytest.raises(ValueError, match="at least 2 groups"):
        leave_one_group_out(["a"])
    with pytest.raises(TypeError, match="sequence of str"):
        leave_one_group_out("ab")
