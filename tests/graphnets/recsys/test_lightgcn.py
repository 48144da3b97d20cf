"""LightGCN: propagation equals the dense formula; the training step is the official loss."""

import pytest
import torch

from graphnets.recsys import LightGCN, PairBatch, bpr_loss, build_trainer, get_preset, l2_batch_reg
from graphnets.recsys.synthetic import make_synthetic
from sampling import Graph
from tests.graphnets.recsys.test_metrics import tiny_split


def dense_normalized(data) -> torch.Tensor:
    u, i = data.num_users, data.num_items
    a = torch.zeros(u + i, u + i, dtype=torch.float64)
    a[data.train_users, u + data.train_items] = 1
    a[u + data.train_items, data.train_users] = 1
    d = a.sum(1)
    dinv = torch.where(d > 0, d.pow(-0.5), torch.zeros_like(d))
    return dinv[:, None] * a * dinv[None, :]


def test_propagation_matches_dense_mean_of_layers():
    data = tiny_split()
    model = LightGCN(
        data.num_users, data.num_items, embedding_dim=4, num_layers=3, generator=torch.Generator().manual_seed(0)
    ).double()
    graph = data.bipartite_graph()
    graph = graph.with_weight(graph.weight.double())
    a = dense_normalized(data)
    torch.testing.assert_close(graph.to_dense(), a)
    e0 = torch.cat([model.user_embedding, model.item_embedding]).detach()
    layers = [e0]
    for _ in range(3):
        layers.append(a @ layers[-1])
    expected = torch.stack(layers).mean(0)
    model.set_graph(graph)
    torch.testing.assert_close(model.propagate(), expected)
    users, items = model()
    torch.testing.assert_close(users, expected[:3])
    torch.testing.assert_close(items, expected[3:])
    # gradients flow to both tables through spmm's backward (transposed CSR)
    model.propagate().pow(2).sum().backward()
    e0r = e0.clone().requires_grad_()
    m = e0r
    out = e0r
    for _ in range(3):
        m = a @ m
        out = out + m
    (out / 4).pow(2).sum().backward()
    torch.testing.assert_close(torch.cat([model.user_embedding.grad, model.item_embedding.grad]), e0r.grad)


def test_propagate_rows_equals_rows_of_the_full_propagation():
    data = tiny_split()
    graph = data.bipartite_graph()
    rows = torch.tensor([0, 4, 4, 2, 7, 1])
    for layers in (0, 1, 3):
        model = LightGCN(data.num_users, data.num_items, 5, layers, generator=torch.Generator().manual_seed(1))
        model.set_graph(graph)
        upstream = torch.randn(rows.numel(), 5)
        full = model.propagate()[rows]
        torch.testing.assert_close(model.propagate_rows(rows), full)
        with torch.no_grad():  # the in-place evaluation path gives the same embeddings
            torch.testing.assert_close(model.propagate()[rows], full)
        g_full = torch.autograd.grad((full * upstream).sum(), list(model.parameters()))
        g_rows = torch.autograd.grad((model.propagate_rows(rows) * upstream).sum(), list(model.parameters()))
        for a, b in zip(g_full, g_rows):
            torch.testing.assert_close(a, b)


def test_repr_and_bad_args():
    model = LightGCN(3, 4, embedding_dim=8, num_layers=2)
    assert "num_layers=2, decay=0.0001" in repr(model) and model.user_embedding.shape == (3, 8)
    with pytest.raises(ValueError, match="num_layers must be an int >= 0"):
        LightGCN(3, 4, num_layers=-1)
    with pytest.raises(RuntimeError, match="set_graph"):
        model()
    with pytest.raises(ValueError, match=r"graph must be a sampling.Graph \[7, 7\]"):
        model.set_graph(tiny_split().train_matrix())
    model.set_graph(Graph.bipartite(torch.tensor([0]), torch.tensor([1]), 3, 4).normalize("sym"))
    with pytest.raises(ValueError, match=r"one negative per pair"):
        model.loss(PairBatch(torch.tensor([0]), torch.tensor([1]), torch.tensor([[2, 3]])))


def test_losses_match_formulas():
    pos, neg = torch.tensor([2.0, -1.0]), torch.tensor([0.5, 0.0])
    expected = -(torch.log(torch.sigmoid(pos - neg))).mean()
    torch.testing.assert_close(bpr_loss(pos, neg), expected)
    u, p, n = torch.ones(2, 3), 2 * torch.ones(2, 3), torch.zeros(2, 3)
    torch.testing.assert_close(l2_batch_reg(u, p, n), torch.tensor(0.5 * (6 + 24 + 0) / 2))


def test_training_step_is_the_official_loss():
    data = make_synthetic(60, 40, mean_items=8, generator=torch.Generator().manual_seed(0))
    cfg = get_preset("lightgcn", None, embedding_dim=8, batch_size=10_000, num_layers=2)
    tr = build_trainer("lightgcn", data, cfg, seed=5)
    before = [p.detach().clone() for p in tr.model.parameters()]
    # reproduce the one minibatch by hand from the same generator state
    from sampling.bpr import sample_bpr_triples

    g = torch.Generator()
    g.set_state(tr.generator.get_state())
    users, pos, neg = sample_bpr_triples(tr.positives, data.num_train, generator=g)
    model = LightGCN(data.num_users, data.num_items, 8, 2)
    model.set_graph(data.bipartite_graph())
    with torch.no_grad():
        model.user_embedding.copy_(before[0])
        model.item_embedding.copy_(before[1])
    out = model.propagate()
    ue, pe, ne = out[users], out[data.num_users + pos], out[data.num_users + neg]
    loss = torch.nn.functional.softplus((ue * ne).sum(1) - (ue * pe).sum(1)).mean()
    reg = (
        0.5
        * (
            model.user_embedding[users].pow(2).sum()
            + model.item_embedding[pos].pow(2).sum()
            + model.item_embedding[neg].pow(2).sum()
        )
        / users.numel()
    )
    stats = tr.train_epoch()
    assert stats["loss"] == pytest.approx(float((loss + 1e-4 * reg).detach()), rel=1e-5)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    (loss + 1e-4 * reg).backward()
    opt.step()
    torch.testing.assert_close(tr.model.user_embedding.detach(), model.user_embedding.detach())


def test_learns_the_synthetic_structure_beyond_popularity():
    from graphnets.recsys import full_ranking_metrics, popularity_embeddings

    data = make_synthetic(300, 200, mean_items=15, generator=torch.Generator().manual_seed(1))
    tr = build_trainer("lightgcn", data, get_preset("lightgcn", "synthetic", embedding_dim=16, batch_size=512), seed=1)
    for _ in range(4):
        tr.train_epoch()
    ours = tr.evaluate()["recall@20"]
    pop = full_ranking_metrics(*popularity_embeddings(data), data)["recall@20"]
    assert ours > 2 * pop
