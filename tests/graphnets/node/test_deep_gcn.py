"""DeepGCN: shapes, checks, and pipelined (GNNPipe, gloo CPU ranks) == unpipelined in exact mode."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from graphnets.node.deep_gcn import DeepGCN, ResGCNBlock
from sampling import Graph
from sampling.pipeline import GNNPipe, GNNPipeConfig, NodeWise, PipelineConfig, init_distributed
from tests.sampling.pipeline._dist import run_ranks

N, FEAT, HID, C, L = 48, 6, 8, 3, 6


def _graph() -> Graph:
    gen = torch.Generator().manual_seed(0)
    ei = torch.randint(0, N, (2, 120), generator=gen)
    ei = ei[:, ei[0] != ei[1]]
    return Graph.from_edge_index(torch.cat([ei, ei.flip(0)], 1).unique(dim=1), num_nodes=N)


def _data():
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(N, FEAT, generator=gen, dtype=torch.float64)
    y = torch.randint(0, C, (N,), generator=gen)
    train = torch.rand(N, generator=gen) < 0.6
    return x, y, train.double() / train.sum()


def _model(dropout=0.0):
    torch.manual_seed(3)
    return DeepGCN(FEAT, HID, C, num_layers=L, dropout=dropout).double()


def _loss(out, targets):
    y, w = targets
    return (F.cross_entropy(out, y, reduction="none") * w).sum()


def test_shapes_layers_and_repr():
    model = _model()
    x, _, _ = _data()
    assert model(x, _graph()).shape == (N, C)
    layers = model.pipeline_layers()
    assert len(layers) == L + 2 and isinstance(layers[0], NodeWise) and isinstance(layers[-1], NodeWise)
    assert all(isinstance(b, ResGCNBlock) for b in layers[1:-1])
    assert model.layer_widths() == [FEAT] + [HID] * (L + 1)
    assert "num_layers=6" in repr(model) and "dropout=0.0" in repr(model)
    # the layer sequence on the normalised graph is the model
    h = x
    g = DeepGCN.propagation_graph(_graph())
    for layer in layers:
        h = layer(h) if isinstance(layer, NodeWise) else layer(h, g)
    torch.testing.assert_close(h, model(x, _graph()), rtol=0, atol=0)


def test_deep_residual_stack_stays_finite_and_trains():
    torch.manual_seed(0)
    model = DeepGCN(FEAT, 16, C, num_layers=32, dropout=0.0)
    x, _, w = _data()
    x = x.float()
    y = x[:, :C].argmax(1)  # learnable labels
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    graph = _graph()
    losses = []
    for _ in range(25):
        opt.zero_grad()
        loss = _loss(model(x, graph), (y, w.float()))
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert all(torch.isfinite(torch.tensor(losses)))
    assert sum(losses[-5:]) / 5 < 0.85 * losses[0]


@pytest.mark.parametrize(
    "bad,match",
    [({"num_layers": 0}, "num_layers"), ({"dropout": 1.0}, "dropout"), ({"hidden_channels": True}, "hidden_channels")],
)
def test_bad_arguments(bad, match):
    args = {"in_channels": 4, "hidden_channels": 8, "out_channels": 2} | bad
    with pytest.raises(ValueError, match=match):
        DeepGCN(**args)


def test_graph_must_match_features():
    with pytest.raises(ValueError, match="square sampling.Graph over the 5 nodes"):
        _model()(torch.zeros(5, FEAT, dtype=torch.float64), _graph())


def _pipelined(rank, world, schedule):
    layout = init_distributed()
    model = _model()
    x, y, w = _data()
    graph = _graph()
    pipe = GNNPipe(
        model.pipeline_layers(),
        model.layer_widths(),
        DeepGCN.propagation_graph(graph),
        layout,
        loss_fn=_loss,
        config=GNNPipeConfig(chunks=4, mode="exact"),
        pipeline=PipelineConfig(schedule=schedule),
    )
    loss = pipe.step(x, (y, w))
    ref = _model()
    ref_loss = _loss(ref(x, graph), (y, w))
    ref_loss.backward()
    ref_grads = dict(ref.named_parameters())
    grads = {n: p.grad for n, p in model.named_parameters() if p.grad is not None}
    err = max(float((g - ref_grads[n].grad).abs().max()) for n, g in grads.items())
    out = pipe.predict(x)
    pred_err = None if out is None else float((out - ref(x, graph)).abs().max())
    return {"loss": loss, "ref": float(ref_loss.detach()), "err": err, "pred_err": pred_err, "n": len(grads)}


@pytest.mark.parametrize("world,schedule", [(2, "1f1b"), (4, "gpipe")])
def test_pipelined_exact_mode_equals_unpipelined_float64(world, schedule):
    results = run_ranks(_pipelined, world, schedule).results
    for r in results:
        assert r["n"] > 0 and r["err"] < 1e-12 and abs(r["loss"] - r["ref"]) < 1e-12
    assert results[-1]["pred_err"] < 1e-12  # the last stage's exact full-graph prediction
    assert sum(r["n"] for r in results) == len(list(_model().parameters()))
