"""GCNConv and gcn_norm: dense formulas for both normalisations, input forms, blocks, bipartite, determinism."""

import pytest
import torch

from graphnets.conv import GCNConv, gcn_norm
from sampling import Block, Graph
from tests.equivariance import assert_node_equivariant
from tests.graphnets.conv.helpers import (
    assert_forward_backward_deterministic,
    forms,
    full_block,
    random_block,
    random_graph,
)


def dense_norm(a: torch.Tensor, *, remaining: bool, degree: str, fill: float = 1.0) -> torch.Tensor:
    """Both GCN normalisations written with dense matrices (rows = destinations)."""
    a = a.clone()
    r, c = a.shape
    eye = torch.eye(r, c, dtype=a.dtype)
    if remaining:
        has = torch.diagonal(a) != 0
        a = a + fill * eye * (~has).to(a.dtype)[:, None]
    else:
        a = a + fill * eye
    inv = lambda d: torch.where(d > 0, d.pow(-0.5), torch.zeros_like(d))  # noqa: E731
    d_dst = a.sum(1)
    d_src = d_dst if degree == "target" else a.sum(0)
    return inv(d_dst)[:, None] * a * inv(d_src)[None, :]


@pytest.mark.parametrize("remaining, degree", [(True, "target"), (False, "both"), (True, "both"), (False, "target")])
@pytest.mark.parametrize("weighted", [False, True])
def test_gcn_norm_matches_dense_formulas_on_directed_graphs_with_loops(remaining, degree, weighted):
    g = random_graph(9, 25, seed=1, symmetric=False, weighted=weighted, loops=True)
    g = Graph.from_edge_index(
        torch.cat([g.to_edge_index()[0], torch.tensor([[8], [8]])], 1),
        num_nodes=10,
        weight=None if not weighted else torch.cat([g.weight, torch.tensor([2.0]).double()]),
    )
    expected = dense_norm(g.to_dense().double(), remaining=remaining, degree=degree)
    out = gcn_norm(g, remaining_self_loops=remaining, degree=degree)
    torch.testing.assert_close(out.to_dense().double(), expected)


def test_the_two_normalisations_agree_bitwise_on_symmetric_graphs_without_loops():
    # (Cora, ZINC and the residue graphs are like this: DAGNN's and the GCN baselines' results do not depend on it)
    g = random_graph(30, 80, seed=2, symmetric=True, loops=False)
    pyg = gcn_norm(g)
    kipf = gcn_norm(g, remaining_self_loops=False, degree="both")
    assert torch.equal(pyg.indptr, kipf.indptr) and torch.equal(pyg.indices, kipf.indices)
    assert torch.equal(pyg.weight, kipf.weight)
    # ... and differ where they should: an existing loop, a directed edge
    d = random_graph(8, 20, seed=3, symmetric=False, loops=True)
    a = gcn_norm(d).to_dense()
    b = gcn_norm(d, remaining_self_loops=False, degree="both").to_dense()
    assert not torch.allclose(a, b)


def test_gcn_norm_is_memoised_on_the_graph_and_improved_fill():
    g = random_graph(10, 20, seed=0)
    assert gcn_norm(g) is gcn_norm(g)
    assert gcn_norm(g) is not gcn_norm(g, remaining_self_loops=False, degree="both")
    torch.testing.assert_close(
        gcn_norm(g, fill_value=2.0).to_dense().double(),
        dense_norm(g.to_dense().double(), remaining=True, degree="target", fill=2.0),
    )
    learnable = g.with_weight(torch.rand(g.num_edges, dtype=torch.float64).requires_grad_())
    assert gcn_norm(learnable) is not gcn_norm(learnable)  # weights that learn are never memoised


def test_forward_matches_dense_formula_and_repr():
    g = random_graph(12, 30, seed=4, weighted=True)
    conv = GCNConv(5, 3).double()
    with torch.no_grad():
        conv.bias.normal_()
    x = torch.randn(12, 5, dtype=torch.float64)
    a_hat = dense_norm(g.to_dense(), remaining=True, degree="target")
    torch.testing.assert_close(conv(x, g), a_hat @ x @ conv.weight + conv.bias)
    assert repr(conv) == (
        "GCNConv(5, 3, weight=True, improved=False, add_self_loops=True, remaining_self_loops=True, "
        "degree='target', normalize=True, bias=True)"
    )
    assert conv.weight.shape == (5, 3) and conv(x, g).shape == (12, 3)
    # without weight: the aggregation alone; without normalisation: the graph's own weights
    agg = GCNConv(5, 5, weight=False, bias=False, remaining_self_loops=False, degree="both")
    torch.testing.assert_close(agg(x, g), dense_norm(g.to_dense(), remaining=False, degree="both") @ x)
    raw = GCNConv(5, 5, weight=False, bias=False, normalize=False)
    torch.testing.assert_close(raw(x, g), g.to_dense() @ x)
    assert list(agg.parameters()) == []


@pytest.mark.parametrize("weighted", [False, True])
def test_equal_across_input_forms(weighted):
    g = random_graph(15, 40, seed=5, weighted=weighted, dtype=torch.float32)
    conv = GCNConv(4, 6)
    x = torch.randn(15, 4)
    ref = conv(x, g)
    for name, form in forms(g).items():
        torch.testing.assert_close(conv(x, form), ref, msg=name)


def test_permutation_equivariance():
    g = random_graph(14, 35, seed=6, weighted=True)
    conv = GCNConv(4, 3).double()
    x = torch.randn(14, 4, dtype=torch.float64)
    assert_node_equivariant(lambda x, g: conv(x, g), x, g, generator=torch.Generator().manual_seed(0))


def test_block_covering_all_nodes_equals_the_full_graph_layer():
    g = random_graph(13, 30, seed=7)
    conv = GCNConv(4, 3)
    x = torch.randn(13, 4)
    assert torch.equal(conv(x, full_block(g)), conv(x, g))
    assert torch.equal(conv((x, x), full_block(g)), conv(x, g))


def test_bipartite_block_matches_dense_reference():
    block = random_block(5, 11, 24, seed=8, weighted=True)
    conv = GCNConv(4, 3, remaining_self_loops=False, degree="both").double()
    x_src = torch.randn(11, 4, dtype=torch.float64)
    a_hat = dense_norm(block.graph.to_dense(), remaining=False, degree="both")  # loops on destination i <- source i
    expected = a_hat @ x_src @ conv.weight + conv.bias
    torch.testing.assert_close(conv(x_src, block), expected)
    torch.testing.assert_close(conv((x_src, x_src[:5]), block), expected)
    with pytest.raises(ValueError, match="degree='target'.*square"):
        GCNConv(4, 3)(x_src, block)


def test_bitwise_deterministic_forward_and_backward():
    g = random_graph(200, 1500, seed=9, weighted=True, dtype=torch.float32)
    conv = GCNConv(16, 16)
    x = torch.randn(200, 16, requires_grad=True)

    assert_forward_backward_deterministic(lambda: conv(x, g), x)


def test_learnable_edge_weights_gradcheck():
    g = random_graph(7, 12, seed=10)
    conv = GCNConv(3, 2).double()
    x = torch.randn(7, 3, dtype=torch.float64)
    w = (torch.rand(g.num_edges, dtype=torch.float64) + 0.5).requires_grad_()
    assert torch.autograd.gradcheck(lambda w: conv(x, g, edge_weight=w), (w,))


def test_bad_input():
    g = random_graph(6, 10, seed=0)
    with pytest.raises(ValueError, match="in_channels must equal out_channels"):
        GCNConv(4, 3, weight=False)
    with pytest.raises(ValueError, match="degree must be 'target' or 'both'"):
        GCNConv(4, 3, degree="in")
    with pytest.raises(ValueError, match="in_channels must be a positive int"):
        GCNConv(0, 3)
    with pytest.raises(ValueError, match=r"in_channels=4 features \(got 5\)"):
        GCNConv(4, 3)(torch.randn(6, 5), g)
    with pytest.raises(ValueError, match=r"one row per source node \(6\) \(got 7 rows\)"):
        GCNConv(4, 3)(torch.randn(7, 4), g)
    with pytest.raises(TypeError, match="sampling.Graph or sampling.Block"):
        GCNConv(4, 3)(torch.randn(6, 4), g.to_dense())
    with pytest.raises(TypeError, match="floating"):
        GCNConv(4, 3)(torch.ones(6, 4, dtype=torch.int64), g)
    with pytest.raises(TypeError, match="gcn_norm: graph must be a sampling.Graph"):
        gcn_norm(Block(g, torch.arange(6)))
