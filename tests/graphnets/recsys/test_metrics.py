"""Ranking metrics against hand-computed values, and full-ranking evaluation on a tiny split."""

import math

import pytest
import torch

from graphnets.recsys import InteractionData, full_ranking_metrics, popularity_embeddings, ranking_metrics_per_user
from graphnets.recsys.evaluate import mask_train_items


def test_hand_computed_metrics():
    # user A: hits at ranks 1 and 3 of 3, 4 test items; user B: no hit, 1 test item; user C: hit at rank 2, 1 test item
    hits = torch.tensor([[1, 0, 1], [0, 0, 0], [0, 1, 0]], dtype=torch.bool)
    n = torch.tensor([4, 1, 1])
    m = ranking_metrics_per_user(hits, n, ks=[1, 3])
    l2 = math.log2
    torch.testing.assert_close(m["recall@3"], torch.tensor([2 / 4, 0, 1], dtype=torch.float64))
    torch.testing.assert_close(m["precision@3"], torch.tensor([2 / 3, 0, 1 / 3], dtype=torch.float64))
    torch.testing.assert_close(m["hr@3"], torch.tensor([1.0, 0, 1], dtype=torch.float64))
    idcg_a = 1 + 1 / l2(3) + 1 / l2(4)  # min(4, 3) = 3 ideal positions
    torch.testing.assert_close(
        m["ndcg@3"], torch.tensor([(1 + 1 / l2(4)) / idcg_a, 0, (1 / l2(3)) / 1], dtype=torch.float64)
    )
    torch.testing.assert_close(m["recall@1"], torch.tensor([1 / 4, 0, 0], dtype=torch.float64))
    torch.testing.assert_close(m["ndcg@1"], torch.tensor([1.0, 0, 0], dtype=torch.float64))
    with pytest.raises(ValueError, match=r"every k must lie in \[1, 3\]"):
        ranking_metrics_per_user(hits, n, ks=[4])


def tiny_split() -> InteractionData:
    # 3 users, 5 items. train: u0 {0, 1}, u1 {2}, u2 {0}. test: u0 {3}, u1 {0, 4}; u2 has no test item
    return InteractionData(
        torch.tensor([0, 0, 1, 2]),
        torch.tensor([0, 1, 2, 0]),
        torch.tensor([0, 1, 1]),
        torch.tensor([3, 0, 4]),
        num_items=5,
    )


def test_full_ranking_masks_train_items_and_matches_hand_ranking():
    data = tiny_split()
    # item scores for everybody: item0 .9, item1 .8, item2 .7, item3 .6, item4 .5 (user vector = 1)
    users = torch.ones(3, 1)
    items = torch.tensor([[0.9], [0.8], [0.7], [0.6], [0.5]])
    m = full_ranking_metrics(users, items, data, ks=[2])
    # u0: train {0,1} masked -> ranking [2, 3]: hit at rank 2 of 1 test item
    # u1: train {2} masked -> ranking [0, 1]: hit at rank 1, 2 test items
    l2 = math.log2
    recall = (1 + 0.5) / 2
    ndcg = ((1 / l2(3)) / 1 + 1 / (1 + 1 / l2(3))) / 2
    assert m["num_users"] == 2  # u2 has no test item
    assert m["recall@2"] == pytest.approx(recall)
    assert m["ndcg@2"] == pytest.approx(ndcg)
    assert m["precision@2"] == pytest.approx((0.5 + 0.5) / 2)
    assert m["hr@2"] == pytest.approx(1.0)
    assert m["f1@2"] == pytest.approx(2 * 0.5 * recall / (0.5 + recall))
    # chunking does not change the result
    assert full_ranking_metrics(users, items, data, ks=[2], chunk_size=1) == pytest.approx(m)


def test_mask_is_sparse_and_exact():
    data = tiny_split()
    scores = torch.zeros(2, 5)
    indptr, indices = data.train_csr()
    mask_train_items(scores, torch.tensor([2, 0]), indptr, indices)
    expected = torch.zeros(2, 5)
    expected[0, 0] = expected[1, 0] = expected[1, 1] = float("-inf")
    assert torch.equal(scores, expected)


def test_popularity_baseline_ranks_by_train_degree():
    data = tiny_split()
    m = full_ranking_metrics(*popularity_embeddings(data), data, ks=[1])
    # degrees: item0 2, item1 1, item2 1, others 0. u0 (0,1 masked) -> item 2: miss; u1 (2 masked) -> item 0: hit
    assert m["recall@1"] == pytest.approx((0 + 0.5) / 2)


def test_evaluation_rejects_mismatched_embeddings():
    with pytest.raises(ValueError, match="3 user rows and 5 item rows"):
        full_ranking_metrics(torch.ones(2, 1), torch.ones(5, 1), tiny_split())
