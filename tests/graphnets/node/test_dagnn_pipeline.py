"""DAGNN's deep propagation as pipeline layers: the sequence is DAGNN, pipelined gradients equal it."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from graphnets.conv import gcn_norm
from graphnets.node import DAGNN
from graphnets.node.dagnn_pipeline import DAGNNHop, dagnn_layers
from sampling import Graph
from sampling.pipeline import GNNPipe, GNNPipeConfig, NodeWise, PipelineConfig, init_distributed
from tests.sampling.pipeline._dist import run_ranks

N, FEAT, C, K = 40, 6, 3, 5


def _graph() -> Graph:
    gen = torch.Generator().manual_seed(0)
    ei = torch.randint(0, N, (2, 100), generator=gen)
    ei = ei[:, ei[0] != ei[1]]
    return Graph.from_edge_index(torch.cat([ei, ei.flip(0)], 1).unique(dim=1), num_nodes=N)


def _model(adaptive=True):
    torch.manual_seed(2)
    return DAGNN(FEAT, 8, C, K=K, dropout=0.0, adaptive=adaptive).double()


def _data():
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(N, FEAT, generator=gen, dtype=torch.float64)
    y = torch.randint(0, C, (N,), generator=gen)
    train = torch.rand(N, generator=gen) < 0.5
    return x, y, train.double() / train.sum()


def _run(layers, x, graph):
    g = gcn_norm(graph)
    for layer in layers:
        x = layer(x) if isinstance(layer, NodeWise) else layer(x, g)
    return x


@pytest.mark.parametrize("adaptive", [True, False])
def test_layer_sequence_is_dagnn(adaptive):
    model = _model(adaptive).eval()
    layers, widths = dagnn_layers(model)
    assert len(layers) == K + 2 and widths == [FEAT] + [k * C for k in range(1, K + 2)]
    x, _, _ = _data()
    torch.testing.assert_close(_run(layers, x, _graph()), model(x, _graph()), rtol=0, atol=1e-14)
    params = {id(p) for m in layers for p in m.parameters()}
    assert params == {id(p) for p in model.parameters()}  # shared, each exactly once


def test_hop_checks_the_stack_width():
    with pytest.raises(ValueError, match="stack of 2 x 3"):
        DAGNNHop(3, 2)(torch.zeros(4, 3), gcn_norm(Graph.from_edge_index(torch.tensor([[0], [1]]), num_nodes=4)))
    with pytest.raises(TypeError, match="graphnets.node.DAGNN"):
        dagnn_layers(torch.nn.Linear(2, 2))


def _loss(out, targets):
    y, w = targets
    return (F.nll_loss(out, y, reduction="none") * w).sum()


def _pipelined(rank, world):
    layout = init_distributed()
    model = _model()
    layers, widths = dagnn_layers(model)
    x, y, w = _data()
    pipe = GNNPipe(
        layers,
        widths,
        gcn_norm(_graph()),
        layout,
        loss_fn=_loss,
        config=GNNPipeConfig(chunks=4, mode="exact"),
        pipeline=PipelineConfig(schedule="1f1b"),
    )
    pipe.step(x, (y, w))
    ref = _model()
    _loss(ref(x, _graph()), (y, w)).backward()
    refp = dict(ref.named_parameters())
    return max(float((p.grad - refp[n].grad).abs().max()) for n, p in model.named_parameters() if p.grad is not None)


def test_pipelined_dagnn_gradients_equal_dagnn():
    for err in run_ranks(_pipelined, 2).results:
        assert err < 1e-12
