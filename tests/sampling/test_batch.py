"""sampling.batch: block-diagonal batches of graphs, pointers, pooling, from_ptr, and a conv over a batch."""

import pytest
import torch

from cuda_ext import spmm
from sampling import Graph, GraphBatch, batch_graphs


def graphs():
    a = Graph.from_edge_index(torch.tensor([[0, 1], [1, 0]]), num_nodes=2)
    b = Graph.from_edge_index(torch.tensor([[0, 2, 1], [2, 0, 1]]), num_nodes=3)
    c = Graph.from_edge_index(torch.zeros(2, 0, dtype=torch.int64), num_nodes=1)
    return [a, b, c]


def test_layout_pointers_and_dense_block_diagonal():
    gs = graphs()
    gb = batch_graphs(gs)
    assert gb.ptr.tolist() == [0, 2, 5, 6] and gb.edge_ptr.tolist() == [0, 2, 5, 5]
    assert gb.batch.tolist() == [0, 0, 1, 1, 1, 2] and gb.num_graphs == 3 and gb.num_nodes == 6
    torch.testing.assert_close(gb.graph.to_dense(), torch.block_diag(*[g.to_dense() for g in gs]))
    assert repr(gb) == "GraphBatch(num_graphs=3, num_nodes=6, num_edges=5, device=cpu)"


def test_one_spmm_over_the_batch_equals_each_graph_alone_and_pooling():
    gs = graphs()
    gb = batch_graphs(gs)
    x = torch.randn(6, 4)
    out = spmm(gb.graph, x)
    for k, g in enumerate(gs):
        lo, hi = int(gb.ptr[k]), int(gb.ptr[k + 1])
        torch.testing.assert_close(out[lo:hi], spmm(g, x[lo:hi]))
    pooled = gb.pool(x)
    torch.testing.assert_close(pooled, torch.stack([x[:2].sum(0), x[2:5].sum(0), x[5:].sum(0)]))
    torch.testing.assert_close(gb.pool(x, "mean"), torch.stack([x[:2].mean(0), x[2:5].mean(0), x[5:].mean(0)]))


def test_weighted_graphs_keep_their_weights_and_from_ptr_round_trip():
    gs = [g.with_weight(torch.rand(g.num_edges)) for g in graphs()]
    gb = batch_graphs(gs)
    torch.testing.assert_close(gb.graph.weight, torch.cat([g.weight for g in gs]))
    again = GraphBatch.from_ptr(gb.graph, gb.ptr)
    assert torch.equal(again.batch, gb.batch) and torch.equal(again.edge_ptr, gb.edge_ptr)


def test_errors():
    with pytest.raises(ValueError, match="at least one graph"):
        batch_graphs([])
    with pytest.raises(ValueError, match="square"):
        batch_graphs([Graph(torch.tensor([0, 1]), torch.tensor([1]), num_cols=2)])
    with pytest.raises(ValueError, match="weighted"):
        a, b = graphs()[:2]
        batch_graphs([a.with_weight(torch.ones(2)), b])
    with pytest.raises(TypeError, match="sampling.Graph"):
        batch_graphs([torch.zeros(2, 2)])
    crossing = Graph.from_edge_index(torch.tensor([[0], [3]]), num_nodes=4)
    with pytest.raises(ValueError, match="joins two different graphs"):
        GraphBatch.from_ptr(crossing, torch.tensor([0, 2, 4]))
    with pytest.raises(ValueError, match="reduce must be one of"):
        batch_graphs(graphs()).pool(torch.ones(6, 1), "max")
    with pytest.raises(ValueError, match="one row per node"):
        batch_graphs(graphs()).pool(torch.ones(5, 1))
