"""The recommender contract shared by LightGCN and UltraGCN: forward() embeddings, loss(batch), recommend(users, k)."""

import dataclasses

import pytest
import torch

from graphnets.recsys import (
    LightGCN,
    PairBatch,
    Recommender,
    UltraGCN,
    beta_vectors,
    build_trainer,
    get_preset,
    item_item_topk,
    top_k_items,
)
from graphnets.recsys.synthetic import make_synthetic


def data():
    return make_synthetic(40, 30, mean_items=6, generator=torch.Generator().manual_seed(0))


def models(d):
    light = LightGCN(d.num_users, d.num_items, 8, 2, generator=torch.Generator().manual_seed(0))
    light.set_graph(d.bipartite_graph())
    ultra = UltraGCN(d.num_users, d.num_items, 8, init_std=0.1, generator=torch.Generator().manual_seed(0))
    ultra.set_constraints(*beta_vectors(d.user_degree(), d.item_degree()), *item_item_topk(d, 3))
    return {"lightgcn": light, "ultragcn": ultra}


@pytest.mark.parametrize("name", ["lightgcn", "ultragcn"])
def test_contract(name):
    d = data()
    model = models(d)[name]
    assert isinstance(model, Recommender)
    users, items = model()
    assert users.shape == (d.num_users, 8) and items.shape == (d.num_items, 8)
    negs = torch.randint(0, d.num_items, (5,) if name == "lightgcn" else (5, 4))
    loss = model.loss(PairBatch(d.train_users[:5], d.train_items[:5], negs))
    assert loss.dim() == 0 and torch.isfinite(loss)
    loss.backward()
    assert model.user_embedding.grad is not None
    # recommend = top-k of the inner-product scores, best first, train items never recommended
    q = torch.tensor([0, 3, 7])
    top = model.recommend(q, 5, exclude=d.train_csr())
    assert top.shape == (3, 5)
    with torch.no_grad():
        scores = users[q] @ items.T
    indptr, indices = d.train_csr()
    for row, u in zip(top, q.tolist()):
        seen = set(indices[indptr[u] : indptr[u + 1]].tolist())
        assert not seen & set(row.tolist())
        s = scores[q.tolist().index(u)][row]
        assert bool((s[:-1] >= s[1:]).all())
    assert torch.equal(top, top_k_items(users.detach(), items.detach(), q, 5, d.train_csr()))
    assert model.recommend(q, 2).shape == (3, 2)


def test_trainer_evaluation_scores_forward_embeddings():
    d = data()
    tr = build_trainer("ultragcn", d, get_preset("ultragcn", "synthetic", embedding_dim=8), seed=1)
    from graphnets.recsys import full_ranking_metrics

    u, i = tr.model()
    expected = full_ranking_metrics(u.detach(), i.detach(), d, tr.config.topk)
    got = tr.evaluate()
    assert {k: got[k] for k in expected} == expected


def test_recommend_bad_input_and_frozen_configs():
    d = data()
    model = models(d)["ultragcn"]
    with pytest.raises(ValueError, match=r"k must be an int in \[1, 30\]"):
        model.recommend(torch.tensor([0]), 0)
    with pytest.raises(ValueError, match=r"user ids must lie in \[0, 40\)"):
        model.recommend(torch.tensor([40]), 3)
    with pytest.raises(TypeError, match="1-D int64"):
        model.recommend(torch.tensor([0.0]), 3)
    with pytest.raises(ValueError, match=r"neg_items must be \[B, N\]"):
        model.loss(PairBatch(torch.tensor([0]), torch.tensor([1]), torch.tensor([2])))
    with pytest.raises(dataclasses.FrozenInstanceError):
        get_preset("lightgcn", "gowalla").lr = 1.0
