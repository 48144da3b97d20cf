"""Samplers: exclusion is exact, distributions are uniform where they should be, seeds reproduce."""

import pytest
import torch

from sampling.bpr import sample_bpr_triples, sample_positive_pairs
from sampling.negatives import PositiveSets, sample_negatives, sample_uniform_items

# user 0: {1, 2, 5}; user 1: {} ; user 2: {0}; user 3: {0, 1, 2, 3, 4, 5, 6} minus {6} -> {0..5}
INDPTR = torch.tensor([0, 3, 3, 4, 10])
INDICES = torch.tensor([1, 2, 5, 0, 0, 1, 2, 3, 4, 5])
NUM_ITEMS = 7


def sets() -> PositiveSets:
    return PositiveSets(INDPTR, INDICES, NUM_ITEMS)


def test_contains_matches_the_sets():
    s = sets()
    users = torch.arange(4).repeat_interleave(NUM_ITEMS)
    items = torch.arange(NUM_ITEMS).repeat(4)
    expected = torch.zeros(4, NUM_ITEMS, dtype=torch.bool)
    for u in range(4):
        expected[u, INDICES[INDPTR[u] : INDPTR[u + 1]]] = True
    assert torch.equal(s.contains(users, items).view(4, NUM_ITEMS), expected)


def test_excluded_negatives_are_uniform_over_the_complement():
    g = torch.Generator().manual_seed(0)
    users = torch.tensor([0, 1, 2, 3])
    neg = sample_negatives(sets(), users, 20000, generator=g)  # [4, 20000]
    assert neg.shape == (4, 20000)
    assert not sets().contains(users.unsqueeze(1).expand_as(neg), neg).any()
    assert torch.all(neg[3] == 6)  # the only item user 3 lacks
    for u, free in ((0, [0, 3, 4, 6]), (1, list(range(7))), (2, list(range(1, 7)))):
        counts = torch.bincount(neg[u], minlength=NUM_ITEMS).double()
        assert set(torch.nonzero(counts).squeeze(1).tolist()) == set(free)
        freq = counts[free] / counts.sum()
        # 20000 draws: std of a frequency is <= 0.0036; 5 sigma band
        assert torch.allclose(freq, torch.full_like(freq, 1 / len(free)), atol=0.018)


def test_unexcluded_negatives_cover_all_items_uniformly():
    g = torch.Generator().manual_seed(1)
    neg = sample_negatives(sets(), torch.tensor([0]), 35000, exclude_positives=False, generator=g)
    freq = torch.bincount(neg[0], minlength=NUM_ITEMS).double() / 35000
    assert torch.allclose(freq, torch.full_like(freq, 1 / NUM_ITEMS), atol=0.012)
    assert sample_uniform_items((3, 2), 5, generator=g).shape == (3, 2)


def test_same_generator_state_same_samples():
    a = sample_negatives(sets(), torch.tensor([0, 2, 1]), 5, generator=torch.Generator().manual_seed(7))
    b = sample_negatives(sets(), torch.tensor([0, 2, 1]), 5, generator=torch.Generator().manual_seed(7))
    c = sample_negatives(sets(), torch.tensor([0, 2, 1]), 5, generator=torch.Generator().manual_seed(8))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_bad_input_is_reported():
    with pytest.raises(ValueError, match="has every item"):
        sample_negatives(PositiveSets(torch.tensor([0, 2]), torch.tensor([0, 1]), 2), torch.tensor([0]))
    with pytest.raises(ValueError, match=r"user ids must lie in \[0, 4\)"):
        sample_negatives(sets(), torch.tensor([4]))
    with pytest.raises(TypeError, match="users must be a 1-D int64"):
        sample_negatives(sets(), torch.tensor([0.0]))
    with pytest.raises(ValueError, match="sorted ascending and unique"):
        PositiveSets(torch.tensor([0, 2]), torch.tensor([3, 1]), 5)
    with pytest.raises(ValueError, match=r"items must lie in \[0, 3\)"):
        PositiveSets(torch.tensor([0, 1]), torch.tensor([3]), 3)
    with pytest.raises(ValueError, match="mode must be 'user' or 'edge'"):
        sample_bpr_triples(sets(), 3, mode="item")
    with pytest.raises(TypeError, match="torch.Generator"):
        sample_bpr_triples(sets(), 3, generator=0)


def test_user_mode_is_uniform_over_users_and_edge_mode_over_edges():
    g = torch.Generator().manual_seed(3)
    users, pos, neg = sample_bpr_triples(sets(), 30000, mode="user", generator=g)
    s = sets()
    assert s.contains(users, pos).all() and not s.contains(users, neg).any()
    counts = torch.bincount(users, minlength=4).double() / 30000
    # user 1 has no positives and is never drawn; the other three equally often
    assert counts[1] == 0
    assert torch.allclose(counts[[0, 2, 3]], torch.full((3,), 1 / 3, dtype=torch.float64), atol=0.015)
    # positives uniform inside user 3's six items
    p3 = torch.bincount(pos[users == 3], minlength=NUM_ITEMS).double()
    assert torch.allclose(p3[:6] / p3.sum(), torch.full((6,), 1 / 6, dtype=torch.float64), atol=0.02)
    # edge mode: each edge exactly once per pass
    eu, ei = sample_positive_pairs(s, 10, mode="edge", generator=g)
    got = sorted(zip(eu.tolist(), ei.tolist()))
    want = sorted((u, int(i)) for u in range(4) for i in INDICES[INDPTR[u] : INDPTR[u + 1]])
    assert got == want


def test_large_random_sets_never_return_positives():
    g = torch.Generator().manual_seed(5)
    num_users, num_items = 300, 113
    dense = torch.rand(num_users, num_items, generator=g) < torch.rand(num_users, 1, generator=g) * 0.95
    dense[:, 0] = False  # every user keeps one negative
    indptr = torch.zeros(num_users + 1, dtype=torch.int64)
    indptr[1:] = torch.cumsum(dense.sum(1), 0)
    indices = dense.nonzero()[:, 1]
    s = PositiveSets(indptr, indices, num_items)
    users = torch.randint(0, num_users, (5000,), generator=g)
    neg = sample_negatives(s, users, 8, generator=g)
    assert not dense[users.unsqueeze(1).expand_as(neg), neg].any()
    assert int(neg.min()) >= 0 and int(neg.max()) < num_items
