"""Communication counts: halo exchange from the partition vs GNNPipe's boundary activations."""
from __future__ import annotations

import pytest
import torch

from sampling import Graph
from sampling.pipeline import halo_exchange_bytes, halo_sizes, partition_nodes, pipeline_activation_bytes


def _path(n):  # 0 - 1 - 2 - ... - n-1, both directions
    a = torch.arange(n - 1)
    return Graph.from_edge_index(torch.stack([torch.cat([a, a + 1]), torch.cat([a + 1, a])]), num_nodes=n)


def test_halo_of_a_path_cut_in_two():
    g = _path(6)
    parts = partition_nodes(6, 2)  # [0,1,2] [3,4,5]: each side needs one node of the other
    assert halo_sizes(g, parts).tolist() == [1, 1]
    # 3 graph layers of widths 4, 4, 2 floats, forward and backward
    assert halo_exchange_bytes(g, parts, [4, 4, 2]) == 2 * (4 + 4 + 2) * 4 * 2
    assert halo_exchange_bytes(g, parts, [4, 4, 2], backward=False, itemsize=8) == 2 * 10 * 8


def test_halo_counts_distinct_sources_per_part():
    # node 0 feeds nodes 1, 2, 3 (all in part 1): part 1's halo holds node 0 once
    g = Graph.from_edge_index(torch.tensor([[0, 0, 0], [1, 2, 3]]), num_nodes=4)
    assert halo_sizes(g, [torch.tensor([0]), torch.tensor([1, 2, 3])]).tolist() == [0, 1]


def test_halo_matches_a_dense_count():
    gen = torch.Generator().manual_seed(0)
    ei = torch.randint(0, 50, (2, 300), generator=gen)
    g = Graph.from_edge_index(ei, num_nodes=50)
    parts = partition_nodes(50, 4, method="random", generator=gen)
    dense = g.to_dense() != 0
    for p, size in zip(parts, halo_sizes(g, parts).tolist()):
        outside = torch.ones(50, dtype=torch.bool)
        outside[p] = False
        assert size == int((dense[p][:, outside].any(0)).sum())


def test_pipeline_bytes_and_bad_partitions():
    assert pipeline_activation_bytes(100, [16, 16, 16]) == 100 * 48 * 4 * 2
    with pytest.raises(ValueError, match="cover every node"):
        halo_sizes(_path(4), [torch.tensor([0, 1])])


def test_partition_nodes():
    parts = partition_nodes(10, 3, method="random", generator=torch.Generator().manual_seed(1))
    assert sorted(torch.cat(parts).tolist()) == list(range(10))
    assert [p.numel() for p in parts] == [4, 3, 3] and all(bool((p[1:] > p[:-1]).all()) for p in parts)
    with pytest.raises(TypeError, match="torch.Generator"):
        partition_nodes(10, 3, method="random")
    with pytest.raises(ValueError, match="method"):
        partition_nodes(10, 3, method="metis")
