"""sampling.synthetic: structure (symmetric, power-law, homophilous), determinism, streaming to disk."""

import numpy as np
import pytest
import torch

from sampling import community_features, powerlaw_community_graph, synthetic_node_dataset


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_graph_is_symmetric_power_law_and_homophilous():
    graph, labels = powerlaw_community_graph(200_000, _gen(), num_classes=8, homophily=0.8, chunk_pairs=30_000)
    n = graph.num_nodes
    assert n == 10_000 and 0.97 * 200_000 < graph.num_edges <= 200_000 and graph.num_edges % 2 == 0
    adj = graph.to_scipy()
    assert (adj != adj.T).nnz == 0 and not bool((graph.row == graph.indices).any())  # symmetric, no self loops
    assert torch.equal(torch.bincount(labels), torch.full((8,), n // 8))  # balanced communities
    deg = graph.degree()
    assert float(deg.max()) > 50 * float(deg.mean())  # hubs: a heavy tail, not a Poisson degree
    same = (labels[graph.row] == labels[graph.indices]).float().mean()
    assert abs(float(same) - (0.8 + 0.2 / 8)) < 0.02  # edges inside a community: h + (1 - h) / C


def test_tail_exponent_roughly_matches():
    graph, _ = powerlaw_community_graph(400_000, _gen(1), exponent=2.5)
    deg = (graph.indptr[1:] - graph.indptr[:-1]).double()
    tail = deg[deg >= 40]
    alpha = 1 + tail.numel() / float(torch.log(tail / 39.5).sum())  # discrete MLE (Clauset et al. 2009)
    assert 2.1 < alpha < 2.9


def test_chunking_and_determinism():
    a, la = powerlaw_community_graph(50_000, _gen(2), chunk_pairs=7_000)
    b, lb = powerlaw_community_graph(50_000, _gen(2), chunk_pairs=7_000)
    assert torch.equal(a.indptr, b.indptr) and torch.equal(a.indices, b.indices) and torch.equal(la, lb)
    one_chunk, _ = powerlaw_community_graph(50_000, _gen(2), chunk_pairs=1 << 20)
    assert one_chunk.num_nodes == a.num_nodes  # same size, different edge draws
    assert abs(one_chunk.num_edges - a.num_edges) < 500


def test_features_streamed_to_disk_equal_in_memory(tmp_path):
    labels = torch.arange(1000) % 5
    mem = community_features(labels, 12, _gen(3), chunk_rows=77)
    disk = community_features(labels, 12, _gen(3), path=tmp_path / "f.npy", chunk_rows=77)
    assert torch.equal(mem, disk)
    assert isinstance(np.load(tmp_path / "f.npy", mmap_mode="r"), np.memmap)
    centroid_gap = (mem[labels == 0].mean(0) - mem[labels == 1].mean(0)).norm()
    assert centroid_gap > 0.5  # classes are separated in feature space


def test_dataset_split_is_disjoint():
    data = synthetic_node_dataset(20_000, _gen(4), feature_dim=8)
    ids = torch.cat([data.train, data.val, data.test])
    assert ids.unique().numel() == ids.numel()
    assert data.train.numel() == data.graph.num_nodes // 10 and data.features.shape == (data.graph.num_nodes, 8)
    assert data.features_path is None


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"num_edges": 1}, "num_edges must be an int >= 2"),
        ({"num_edges": 100, "num_classes": 1}, "num_classes"),
        ({"num_edges": 100, "exponent": 1.0}, "exponent must be a number > 1"),
        ({"num_edges": 100, "homophily": 1.5}, r"homophily must be a number in \[0, 1\]"),
        ({"num_edges": 100, "num_nodes": 3, "num_classes": 4}, "num_nodes must be >= num_classes"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        powerlaw_community_graph(generator=_gen(), **kwargs)
    with pytest.raises(TypeError, match="CPU torch.Generator"):
        powerlaw_community_graph(100, 0)


def test_bad_split():
    with pytest.raises(ValueError, match="sum to at most 1"):
        synthetic_node_dataset(100, _gen(), train_fraction=0.7, val_fraction=0.2, test_fraction=0.2)


@pytest.mark.cuda
def test_built_on_the_gpu():
    graph, labels = powerlaw_community_graph(100_000, _gen(5), device="cuda")
    assert graph.device.type == "cuda" and labels.device.type == "cuda"
    adj = graph.to("cpu").to_scipy()
    assert (adj != adj.T).nnz == 0 and 0.97 * 100_000 < graph.num_edges <= 100_000
    x = community_features(labels.cpu(), 16, _gen(6), device="cuda")
    assert x.device.type == "cpu" and x.shape == (graph.num_nodes, 16)
