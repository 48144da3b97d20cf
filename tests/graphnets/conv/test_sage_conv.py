"""SAGEConv: mean aggregation + root weight against dense formulas, bipartite blocks, equivariance, determinism."""

import pytest
import torch

from graphnets.conv import SAGEConv
from tests.equivariance import assert_node_equivariant
from tests.graphnets.conv.helpers import (
    assert_forward_backward_deterministic,
    forms,
    full_block,
    random_block,
    random_graph,
)


def dense_mean(a: torch.Tensor) -> torch.Tensor:
    """Rows of the (weighted) adjacency divided by the number of neighbours (0 rows stay 0)."""
    count = (a != 0).sum(1, keepdim=True).clamp_min(1).to(a.dtype)
    return a / count


def test_matches_dense_formula_and_repr():
    g = random_graph(12, 25, seed=0, weighted=True)
    g = g.select_rows(torch.arange(12))  # same graph
    conv = SAGEConv(4, 3).double()
    x = torch.randn(12, 4, dtype=torch.float64)
    expected = dense_mean(g.to_dense()) @ x @ conv.lin_neigh.weight.T + conv.lin_neigh.bias + x @ conv.lin_root.weight.T
    torch.testing.assert_close(conv(x, g), expected)
    assert conv.extra_repr() == "4, 3, root_weight=True, bias=True, normalize=False"
    assert repr(conv).startswith("SAGEConv(\n  4, 3, root_weight=True") and "(lin_root): Linear" in repr(conv)
    no_root = SAGEConv(4, 3, root_weight=False, bias=False).double()
    torch.testing.assert_close(no_root(x, g), dense_mean(g.to_dense()) @ x @ no_root.lin_neigh.weight.T)
    unit = SAGEConv(4, 3, normalize=True).double()(x, g)
    torch.testing.assert_close(unit.norm(dim=-1), torch.ones(12, dtype=torch.float64))


def test_isolated_destinations_aggregate_zero():
    g = random_graph(8, 6, seed=1)
    iso = (g.indptr[1:] == g.indptr[:-1]).nonzero().view(-1)
    assert iso.numel() > 0
    conv = SAGEConv(3, 2).double()
    x = torch.randn(8, 3, dtype=torch.float64)
    out = conv(x, g)
    torch.testing.assert_close(out[iso], conv.lin_neigh.bias + x[iso] @ conv.lin_root.weight.T)


def test_bipartite_block_with_two_widths_matches_dense_reference():
    block = random_block(5, 11, 24, seed=2)
    conv = SAGEConv((4, 6), 3).double()
    x_src = torch.randn(11, 4, dtype=torch.float64)
    x_dst = torch.randn(5, 6, dtype=torch.float64)
    expected = (
        dense_mean(block.graph.to_dense().double()) @ x_src @ conv.lin_neigh.weight.T
        + conv.lin_neigh.bias
        + x_dst @ conv.lin_root.weight.T
    )
    torch.testing.assert_close(conv((x_src, x_dst), block), expected)
    # one width: x alone means x_dst = x_src[:num_dst]
    same = SAGEConv(4, 3).double()
    torch.testing.assert_close(same(x_src, block), same((x_src, x_src[:5]), block))


def test_block_covering_all_nodes_equals_graph_forms_and_equivariance():
    g = random_graph(14, 30, seed=3, dtype=torch.float32)
    conv = SAGEConv(5, 4)
    x = torch.randn(14, 5)
    assert torch.equal(conv(x, full_block(g)), conv(x, g))
    for name, form in forms(g).items():
        torch.testing.assert_close(conv(x, form), conv(x, g), msg=name)
    conv64 = SAGEConv(5, 4).double()
    assert_node_equivariant(lambda x, g: conv64(x, g), x.double(), g, generator=torch.Generator().manual_seed(2))


def test_bitwise_deterministic():
    g = random_graph(300, 2000, seed=4, dtype=torch.float32)
    conv = SAGEConv(32, 32)
    x = torch.randn(300, 32, requires_grad=True)

    assert_forward_backward_deterministic(lambda: conv(x, g), x)


def test_bad_input():
    block = random_block(5, 11, 24, seed=5)
    with pytest.raises(ValueError, match="in_channels must be a positive int"):
        SAGEConv(0, 3)
    with pytest.raises(ValueError, match=r"x_dst must be \[num_dst=5, F\]"):
        SAGEConv(4, 3)((torch.randn(11, 4), torch.randn(4, 4)), block)
    with pytest.raises(ValueError, match=r"in_channels=4 features \(got 3\)"):
        SAGEConv(4, 3)(torch.randn(11, 3), block)
