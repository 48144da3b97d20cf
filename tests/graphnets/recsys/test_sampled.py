"""graphnets.recsys.sampled: LightGCN on sampled blocks equals full propagation at fan-out -1, is unbiased, trains."""

import pytest
import torch

from graphnets.recsys import LightGCN, LightGCNConfig, make_synthetic
from graphnets.recsys.sampled import SampledLightGCNTrainer, block_weights, propagate_blocks
from sampling import NeighborSampler


def _data():
    return make_synthetic(120, 80, mean_items=8.0, generator=torch.Generator().manual_seed(0))


def _model(data, layers=2):
    model = LightGCN(data.num_users, data.num_items, 16, layers, generator=torch.Generator().manual_seed(1))
    model.set_graph(data.bipartite_graph())
    return model


def test_full_fanouts_equal_full_propagation():
    data = _data()
    model = _model(data, layers=3)
    seeds = torch.tensor([0, 5, 17, data.num_users + 3, data.num_users + 40])
    blocks = NeighborSampler(model.graph, [-1, -1, -1]).sample_blocks(seeds)
    torch.testing.assert_close(propagate_blocks(model, blocks, model.graph), model.propagate()[seeds])


def test_sampled_layer_is_unbiased():
    data = _data()
    model = _model(data, layers=1)
    seeds = torch.arange(0, data.num_users, 7)
    sampler = NeighborSampler(model.graph, [2])
    runs = torch.stack(
        [
            propagate_blocks(
                model, sampler.sample_blocks(seeds, torch.Generator().manual_seed(r)), model.graph
            ).detach()
            for r in range(400)
        ]
    )
    exact = model.propagate()[seeds].detach()
    err = (runs.mean(0) - exact).abs().max()
    spread = runs.std(0).max() / 400**0.5
    assert err < 5 * spread  # Monte Carlo mean within 5 standard errors of the exact value


def test_block_weights_scale_sampled_rows_only():
    data = _data()
    graph = data.bipartite_graph()
    (block,) = NeighborSampler(graph, [1]).sample_blocks(torch.tensor([0, 1]))
    w = block_weights(block, graph)
    deg = (graph.indptr[1:] - graph.indptr[:-1])[block.dst_nodes]
    torch.testing.assert_close(w, graph.weight[block.edge_ids] * deg.float())
    with pytest.raises(ValueError, match="weighted"):
        block_weights(block, graph.with_weight(None))


def test_trainer_learns_and_checks_fanouts():
    data = _data()
    config = LightGCNConfig(embedding_dim=16, num_layers=2, batch_size=256, lr=0.01, epochs=3)
    trainer = SampledLightGCNTrainer(data, config, fanouts=[5, 5], seed=0)
    losses = [trainer.train_epoch()["loss"] for _ in range(3)]
    assert losses[-1] < losses[0] and trainer.epoch == 3
    assert 0.0 <= trainer.evaluate()["recall@20"] <= 1.0
    again = SampledLightGCNTrainer(data, config, fanouts=[5, 5], seed=0)
    again.load_state_dict(trainer.state_dict())
    with pytest.raises(ValueError, match=r"one fan-out per layer \(2\)"):
        SampledLightGCNTrainer(data, config, fanouts=[5, 5, 5], seed=0)
    with pytest.raises(ValueError, match="fanouts"):
        SampledLightGCNTrainer(data, config, fanouts=[3, 3], seed=0).load_state_dict(trainer.state_dict())
