"""graphnets.node.pipeline_setup: the data, the layer-sequence models and the accuracies of a pipelined run."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from graphnets.node import (
    DAGNN,
    DeepGCN,
    build_pipeline_model,
    load_node_data,
    make_sbm,
    row_normalize,
    split_accuracies,
)
from sampling import Split
from sampling.pipeline import NodeWise


def test_synthetic_data_is_the_seeded_sbm_with_row_normalised_features():
    ds, x = load_node_data("synthetic", None, seed=3)
    ref = make_sbm(torch.Generator().manual_seed(3), num_classes=4, nodes_per_class=250, p_in=0.02, p_out=0.002)
    assert ds.num_nodes == 1000 and ds.num_classes == 4 and ds.num_features == 64
    assert torch.equal(ds.y, ref.y) and torch.equal(x, row_normalize(ds.x))
    assert torch.equal(load_node_data("synthetic", None, seed=3)[1], x)


def test_planetoid_needs_a_root(tmp_path):
    with pytest.raises(ValueError, match=r"load_node_data: the Planetoid graph 'cora' needs a root folder"):
        load_node_data("cora", None, seed=0)
    with pytest.raises(FileNotFoundError):
        load_node_data("cora", tmp_path, seed=0)


def _run(net, x):
    h = x
    for layer in net.layers:
        h = layer(h) if isinstance(layer, NodeWise) else layer(h, net.graph)
    return h


@pytest.mark.parametrize(
    ("name", "cls", "crit"), [("deep-gcn", DeepGCN, F.cross_entropy), ("dagnn", DAGNN, F.nll_loss)]
)
def test_layer_sequence_is_the_model(name, cls, crit):
    ds, x = load_node_data("synthetic", None, seed=0)
    torch.manual_seed(0)
    net = build_pipeline_model(name, ds, hidden=16, num_layers=3, dropout=0.5)
    assert isinstance(net.model, cls) and net.criterion is crit and len(net.widths) == len(net.layers)
    assert net.widths[0] == ds.num_features
    for module in (net.model, *net.layers):  # DAGNN's encoder and readout wrap its layers in new modules
        module.eval()
    torch.testing.assert_close(_run(net, x), net.model(x, ds.graph))


def test_unknown_model_is_rejected():
    ds, _ = load_node_data("synthetic", None, seed=0)
    with pytest.raises(ValueError, match=r"build_pipeline_model: name must be one of .*\(got 'gat'\)"):
        build_pipeline_model("gat", ds, 8, 2, 0.0)


def test_split_accuracies():
    out = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    y = torch.tensor([0, 0, 0, 1])
    split = Split(torch.tensor([0, 1]), torch.tensor([2]), torch.tensor([1, 3]))
    assert split_accuracies(out, y, split) == [0.5, 1.0, 0.5]
