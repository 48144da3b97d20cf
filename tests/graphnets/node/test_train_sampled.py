"""graphnets.node.train_sampled: one epoch on sampled blocks or the whole graph, and its evaluation."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from graphnets.node import SampledGNN, evaluate_sampled, node_accuracy, train_sampled_epoch
from sampling import FeatureStore, Loader, NeighborSampler, synthetic_node_dataset


def _setup(seed: int = 0):
    data = synthetic_node_dataset(2000, torch.Generator().manual_seed(0), feature_dim=8, num_classes=4)
    torch.manual_seed(seed)
    net = SampledGNN("sage", [8, 16, data.num_classes], dropout=0.0)
    return data, net, torch.optim.Adam(net.parameters(), lr=0.01), FeatureStore(data.features, "cpu")


def test_node_accuracy():
    out = torch.tensor([[2.0, 1.0], [0.0, 1.0], [3.0, 0.0]])
    assert node_accuracy(out, torch.tensor([0, 0, 0])) == pytest.approx(2 / 3)
    assert math.isnan(node_accuracy(out[:0], torch.tensor([], dtype=torch.long)))


def test_full_graph_epoch_is_one_step_on_the_training_nodes():
    data, net, opt, store = _setup()
    _, ref, ref_opt, _ = _setup()
    loss, seeds, edges = train_sampled_epoch(
        net, opt, None, graph=data.graph, store=store, labels=data.labels, train=data.train
    )
    ref_loss = F.cross_entropy(ref([data.graph] * 2, data.features)[data.train], data.labels[data.train])
    ref_loss.backward()
    ref_opt.step()
    assert loss == ref_loss.item() and seeds == data.train.numel() and edges == data.graph.num_edges
    assert all(torch.equal(p, q) for p, q in zip(net.parameters(), ref.parameters()))


def test_sampled_epoch_visits_every_training_node():
    data, net, opt, store = _setup()
    loader = Loader(
        NeighborSampler(data.graph, [5, 5]),
        store,
        data.train,
        labels=data.labels,
        batch_size=32,
        generator=torch.Generator().manual_seed(0),
    )
    loss, seeds, edges = train_sampled_epoch(
        net, opt, loader, graph=data.graph, store=store, labels=data.labels, train=data.train
    )
    assert seeds == data.train.numel() and edges > 0 and math.isfinite(loss) and net.training


def test_full_fanout_sampled_evaluation_equals_full():
    data, net, _, store = _setup()
    ids = (data.val, data.test)
    full = evaluate_sampled(net, data.graph, store, data.labels, ids)
    sampled = evaluate_sampled(net, data.graph, store, data.labels, ids, mode="sampled", fanouts=[-1, -1])
    assert not net.training and full == pytest.approx(sampled, abs=1e-6)


def test_evaluation_arguments():
    data, net, _, store = _setup()
    with pytest.raises(ValueError, match=r"evaluate_sampled: mode must be 'full' or 'sampled' \(got 'half'\)"):
        evaluate_sampled(net, data.graph, store, data.labels, (data.val,), mode="half")
    with pytest.raises(ValueError, match=r"evaluate_sampled: mode='sampled' needs fanouts \(got None\)"):
        evaluate_sampled(net, data.graph, store, data.labels, (data.val,), mode="sampled")
