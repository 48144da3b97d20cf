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


def _counted_bytes(rank, world):
    import torch.distributed as dist

    from sampling.pipeline import GNNPipe, GNNPipeConfig, PipelineConfig, init_distributed
    from tests.sampling.pipeline._models import gcn_layers, masked_ce, random_graph, toy_data

    n, f, width, depth, classes = 40, 5, 8, 6, 3
    layout = init_distributed()
    layers = gcn_layers(f, width, depth, classes, seed=0)
    pipe = GNNPipe(
        layers,
        [f] + [width] * (depth + 1),
        random_graph(n, 3.0, 0),
        layout,
        loss_fn=masked_ce,
        config=GNNPipeConfig(chunks=4),
        pipeline=PipelineConfig(schedule="1f1b"),
    )
    x, y, w = toy_data(n, f, classes, 1)
    pipe.step(x, (y, w))
    sent = torch.tensor([pipe.driver.stats.bytes_sent], dtype=torch.float64)
    dist.all_reduce(sent)
    cuts = [([f] + [width] * (depth + 1))[r.stop] for r in pipe.split[:-1]]
    return int(sent), pipeline_activation_bytes(n, cuts, itemsize=8), len(cuts)


@pytest.mark.parametrize("world", [2, 4])
def test_counted_bytes_equal_the_model(world):
    """Bytes the stages really sent in one step (activations forward, gradients back, float64) equal
    ``pipeline_activation_bytes`` (40 nodes in 4 equal chunks: no padding)."""
    from tests.sampling.pipeline._dist import run_ranks

    for counted, model, cuts in run_ranks(_counted_bytes, world).results:
        assert cuts == world - 1 and counted == model == 40 * 8 * 8 * 2 * (world - 1)


def test_metis_partition_keeps_cliques_together():
    pytest.importorskip("pymetis")
    a, b = torch.combinations(torch.arange(6)).t(), torch.combinations(torch.arange(6, 12)).t()
    ei = torch.cat([a, b, torch.tensor([[5], [6]])], 1)  # two 6-cliques joined by one edge
    g = Graph.from_edge_index(torch.cat([ei, ei.flip(0)], 1), num_nodes=12)
    parts = partition_nodes(12, 2, method="metis", graph=g, generator=torch.Generator().manual_seed(0))
    assert sorted(p.tolist() for p in parts) == [list(range(6)), list(range(6, 12))]
    assert halo_sizes(g, parts).tolist() == [1, 1]
    with pytest.raises(ValueError, match="needs graph="):
        partition_nodes(12, 2, method="metis")
