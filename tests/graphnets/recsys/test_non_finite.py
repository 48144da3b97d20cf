"""A diverged recommender stops with an error naming where, instead of reporting plausible metrics.

Issue 19, case 2: with every embedding NaN, ``train_epoch`` returned ``loss=nan`` silently and
``evaluate()`` returned recall@10 = 0.49, because ``topk`` ranks NaN scores first, so "unseen items
in index order" were scored.
"""

import pytest
import torch

from graphnets.recsys import build_trainer, full_ranking_metrics, get_preset, top_k_items
from graphnets.recsys.synthetic import make_synthetic
from sampling.finite import NonFiniteError


def _trainer(model):
    data = make_synthetic(60, 40, mean_items=8, generator=torch.Generator().manual_seed(0))
    config = get_preset(model, "synthetic", epochs=2, batch_size=64, topk=(10,))
    return build_trainer(model, data, config, seed=0)


def _poison(trainer):
    with torch.no_grad():
        for p in trainer.model.parameters():
            p.fill_(float("nan"))


@pytest.mark.parametrize("model", ["lightgcn", "ultragcn"])
def test_nan_embeddings_train_epoch_raises_naming_epoch_and_batch(model):
    t = _trainer(model)
    t.train_epoch()
    _poison(t)
    with pytest.raises(
        NonFiniteError,
        match=rf"{type(t).__name__}.train_epoch: non-finite loss nan at epoch 2, "
        r"batch 0; training diverged",
    ):
        t.train_epoch()
    assert t.epoch == 1  # the diverged epoch is not counted
    assert t._losses == []  # the next epoch starts a fresh list of batch losses


@pytest.mark.parametrize("model", ["lightgcn", "ultragcn"])
def test_nan_embeddings_evaluate_raises_instead_of_recall_049(model):
    t = _trainer(model)
    good = t.evaluate()
    assert 0.0 <= good["recall@10"] <= 1.0
    _poison(t)
    with pytest.raises(NonFiniteError, match=r"full_ranking_metrics: user embeddings must be finite .* at user 0"):
        t.evaluate()


def test_overflowing_scores_are_refused_naming_user_and_item():
    data = make_synthetic(30, 25, mean_items=5, generator=torch.Generator().manual_seed(1))
    users, items = torch.ones(data.num_users, 2), torch.zeros(data.num_items, 2)
    items[7] = 3e38  # finite embeddings, but the dot product overflows to +inf
    users[0] = -1.0  # user 0 scores item 7 at -inf: ranked last, harmless
    with pytest.raises(NonFiniteError, match=r"full_ranking_metrics: non-finite score inf for user \d+, item 7"):
        full_ranking_metrics(users, items, data, (10,))
    with pytest.raises(NonFiniteError, match=r"top_k_items: non-finite score inf for user 1, item 7"):
        top_k_items(users, items, torch.tensor([0, 1]), 3)
    items[7] = 1.0
    assert top_k_items(users, items, torch.tensor([0]), 3).shape == (1, 3)


def test_losses_propagate_non_finite_scores_never_hide_them():
    from graphnets.recsys import bpr_loss, ultragcn_constraint_loss

    s = torch.tensor([1.0, float("nan")])
    assert torch.isnan(bpr_loss(s, torch.zeros(2)))
    # +inf on a negative's score (or NaN anywhere) is non-finite; a positive at +inf is a perfect
    # score (softplus(-inf) = 0) and rightly gives a finite loss.
    pos, neg = torch.zeros(1), torch.tensor([[0.0, float("inf")]])
    loss = ultragcn_constraint_loss(pos, neg, torch.ones(1), torch.ones(1, 2), 1.0)
    assert torch.isinf(loss)
    loss = ultragcn_constraint_loss(
        torch.tensor([float("nan")]), torch.zeros(1, 2), torch.ones(1), torch.ones(1, 2), 1.0
    )
    assert torch.isnan(loss)
