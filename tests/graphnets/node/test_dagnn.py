"""DAGNN: dense-reference parity, retention scores, ablation, equivariance, training protocol, bad inputs."""

import pytest
import torch
import torch.nn.functional as F

from graphnets.node import DAGNN, dagnn_preset, make_sbm, train_dagnn
from sampling import Graph, InvalidGraphError, Split
from tests.equivariance import assert_node_equivariant


def _data(n=12, f=6, seed=0):
    gen = torch.Generator().manual_seed(seed)
    ei = torch.randint(0, n, (2, 30), generator=gen)
    ei = torch.cat([ei, ei.flip(0)], 1)
    g = Graph.from_edge_index(ei, num_nodes=n)
    x = torch.rand(n, f, generator=gen, dtype=torch.float64)
    return x, g


def _dense_reference(model: DAGNN, x, g):
    """DAGNN in eval mode written with dense matrices, straight from the paper's equations."""
    a = g.to_dense().double()
    a = a + torch.diag((torch.diagonal(a) == 0).double())
    d = a.sum(1).pow(-0.5)
    a_hat = d[:, None] * a * d[None, :]
    z = model.lin2(torch.relu(model.lin1(x)))
    hops = torch.stack([torch.linalg.matrix_power(a_hat, k) @ z for k in range(model.K + 1)], 1)
    s = torch.sigmoid(hops @ model.prop.proj.weight.view(-1) + model.prop.proj.bias)  # [N, K+1]
    return F.log_softmax((s.unsqueeze(-1) * hops).sum(1), -1), s, hops


def test_forward_matches_dense_equations_and_retention_in_unit_interval():
    x, g = _data()
    model = DAGNN(6, 8, 3, K=5, dropout=0.5).double().eval()
    out = model(x, g)
    ref, s_ref, hops_ref = _dense_reference(model, x, g)
    torch.testing.assert_close(out, ref)
    hops = model.hops(x, g)
    torch.testing.assert_close(hops, hops_ref)
    s = model.prop.retention(hops)
    torch.testing.assert_close(s, s_ref)
    assert s.shape == (12, 6) and bool(((s > 0) & (s < 1)).all())
    assert out.shape == (12, 3) and torch.allclose(out.exp().sum(-1), torch.ones(12, dtype=torch.float64))
    assert "K=5" in repr(model) and "dropout=0.5" in repr(model)


def test_last_hop_ablation_and_sparse_features():
    x, g = _data()
    model = DAGNN(6, 8, 3, K=4, dropout=0.0, adaptive=False).double().eval()
    _, _, hops = _dense_reference(model, x, g)
    torch.testing.assert_close(model(x, g), F.log_softmax(hops[:, -1], -1))
    model.adaptive = True
    torch.testing.assert_close(model(x.to_sparse_csr(), g), model(x, g))
    torch.testing.assert_close(model(x.to_sparse(), g), model(x, g))


def test_dropout_uses_the_generator():
    x, g = _data()
    model = DAGNN(6, 8, 3, K=2, dropout=0.5).double().train()
    a = model(x, g, torch.Generator().manual_seed(1))
    b = model(x, g, torch.Generator().manual_seed(1))
    c = model(x, g, torch.Generator().manual_seed(2))
    torch.testing.assert_close(a, b)
    assert not torch.allclose(a, c)
    m1, m2 = DAGNN(6, 8, 3, 2), DAGNN(6, 8, 3, 2)
    m1.reset_parameters(torch.Generator().manual_seed(5))
    m2.reset_parameters(torch.Generator().manual_seed(5))
    assert torch.equal(m1.lin1.weight, m2.lin1.weight) and torch.equal(m1.prop.proj.bias, m2.prop.proj.bias)


def test_reset_parameters_drops_the_input_cache_and_the_graph_normalisation_is_shared():
    x, g = _data()
    model = DAGNN(6, 8, 3, K=2).double().eval()
    xs = x.to_sparse_csr()
    model(xs, g)
    assert model._feat_cache[0] is xs
    model.reset_parameters()
    assert model._feat_cache == (None, None)
    from graphnets.conv import gcn_norm

    assert gcn_norm(g) is gcn_norm(g)  # memoised on the graph: no per-model graph cache to go stale


def test_permutation_equivariance():
    x, g = _data()
    model = DAGNN(6, 8, 3, K=6, dropout=0.5).double().eval()
    assert_node_equivariant(lambda x, g: model(x, g), x, g, generator=torch.Generator().manual_seed(0))
    assert_node_equivariant(
        lambda x, g: model.prop.retention(model.hops(x, g)), x, g, generator=torch.Generator().manual_seed(1)
    )


def test_bad_inputs():
    x, g = _data()
    model = DAGNN(6, 8, 3, K=2).double()
    with pytest.raises(ValueError, match=r"in_channels=6 features \(got 5\)"):
        model(x[:, :5], g)
    with pytest.raises(ValueError, match=r"10 x 10 to match the features \(got shape \(12, 12\)\)"):
        model(x[:10], g)
    with pytest.raises(TypeError, match="sampling.Graph"):
        model(x, torch.zeros(2, 5, dtype=torch.int64))
    with pytest.raises(TypeError, match="floating"):
        model(x.long(), g)
    with pytest.raises(ValueError, match="K must be"):
        DAGNN(6, 8, 3, K=-1)
    with pytest.raises(InvalidGraphError):  # a graph with an index out of range never gets built
        Graph.from_edge_index(torch.tensor([[0, 20], [1, 0]]), num_nodes=12)


def test_training_protocol_on_sbm():
    data = make_sbm(torch.Generator().manual_seed(0))
    cfg = dagnn_preset("sbm", epochs=120, early_stopping=10)
    res = train_dagnn(data, data.split, cfg, torch.Generator().manual_seed(0))
    assert res.test_acc > 0.7  # chance is 0.25
    hist = res.history
    # reported test accuracy is the one at the lowest validation loss (first minimum)
    best = min(range(len(hist)), key=lambda i: (hist[i]["val_loss"], i))
    assert res.test_acc == hist[best]["test_acc"] and res.best_epoch == best + 1
    # early stopping: only after epochs // 2, when val loss exceeds the mean of the previous 10
    losses = [h["val_loss"] for h in hist]
    stopped = [e for e in range(cfg.epochs // 2, len(losses)) if losses[e] > sum(losses[e - 10 : e]) / 10]
    if res.epochs_run < cfg.epochs:
        assert stopped and stopped[0] == res.epochs_run - 1
    else:
        assert not stopped
    assert set(res.state) == {
        "lin1.weight",
        "lin1.bias",
        "lin2.weight",
        "lin2.bias",
        "prop.proj.weight",
        "prop.proj.bias",
    }


def test_training_rejects_bad_labels_and_splits():
    data = make_sbm(torch.Generator().manual_seed(0))
    cfg = dagnn_preset("sbm", epochs=2)
    bad = data.__class__(**{**data.__dict__, "y": data.y + 10})
    with pytest.raises(ValueError, match="labels must lie in"):
        train_dagnn(bad, data.split, cfg, torch.Generator())
    empty = Split(data.split.train, torch.tensor([], dtype=torch.int64), data.split.test)
    with pytest.raises(ValueError, match="split.val is empty"):
        train_dagnn(data, empty, cfg, torch.Generator())
