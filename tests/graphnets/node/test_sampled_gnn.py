"""graphnets.node.SampledGNN: the SAGE / GCN stack on sampled blocks or the whole graph."""

from __future__ import annotations

import pytest
import torch

from graphnets.conv import GCNConv, SAGEConv
from graphnets.node import SampledGNN
from sampling import NeighborSampler, synthetic_node_dataset


def _data():
    return synthetic_node_dataset(2000, torch.Generator().manual_seed(0), feature_dim=8, num_classes=4)


@pytest.mark.parametrize(("model", "cls"), [("sage", SAGEConv), ("gcn", GCNConv)])
def test_builds_the_layers_and_runs_on_the_graph(model, cls):
    data = _data()
    torch.manual_seed(0)
    net = SampledGNN(model, [8, 16, 4], dropout=0.5).eval()
    assert [type(c) for c in net.convs] == [cls, cls]
    assert net.extra_repr() == f"model='{model}', dims=[8, 16, 4], dropout=0.5"
    out = net([data.graph] * 2, data.features)
    assert out.shape == (data.graph.num_nodes, 4) and out.dtype == data.features.dtype


def test_same_seed_same_weights_and_reset_redraws():
    torch.manual_seed(3)
    a = SampledGNN("sage", [8, 4], 0.0)
    torch.manual_seed(3)
    b = SampledGNN("sage", [8, 4], 0.0)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    b.reset_parameters()
    assert not all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def test_full_fanout_blocks_equal_the_whole_graph_for_sage():
    data = _data()
    torch.manual_seed(0)
    net = SampledGNN("sage", [8, 16, 4], dropout=0.0).eval()
    seeds = torch.arange(50)
    blocks = NeighborSampler(data.graph, [-1, -1]).sample_blocks(seeds, torch.Generator().manual_seed(0))
    got = net(blocks, data.features[blocks[0].src_nodes])
    torch.testing.assert_close(got, net([data.graph] * 2, data.features)[seeds])


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("gat", [8, 4], 0.0), r"model must be one of \('sage', 'gcn'\) \(got 'gat'\)"),
        (("sage", [8], 0.0), r"dims must hold an input and an output width \(got \[8\]\)"),
        (("sage", [8, 4], 1.5), r"dropout must lie in \[0, 1\] \(got 1.5\)"),
    ],
)
def test_bad_arguments(args, match):
    with pytest.raises(ValueError, match="SampledGNN: " + match):
        SampledGNN(*args)


def test_one_graph_per_layer():
    data = _data()
    with pytest.raises(ValueError, match=r"SampledGNN: expected one graph per layer \(2\) \(got 1\)"):
        SampledGNN("gcn", [8, 8, 4], 0.0)([data.graph], data.features)
