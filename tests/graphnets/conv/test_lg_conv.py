"""LGConv: LightGCN's propagation against the dense formula, rectangular graphs, blocks, determinism."""

import pytest
import torch

from graphnets.conv import LGConv
from sampling import Graph
from tests.equivariance import assert_node_equivariant
from tests.graphnets.conv.helpers import (
    assert_forward_backward_deterministic,
    forms,
    full_block,
    random_graph,
)


def bipartite(num_users=6, num_items=5, seed=0) -> Graph:
    gen = torch.Generator().manual_seed(seed)
    pairs = torch.unique(torch.randint(0, num_users * num_items, (14,), generator=gen))
    return Graph.bipartite(pairs // num_items, pairs % num_items, num_users, num_items)


def dense_sym(a: torch.Tensor) -> torch.Tensor:
    inv = lambda d: torch.where(d > 0, d.pow(-0.5), torch.zeros_like(d))  # noqa: E731
    return inv(a.sum(1))[:, None] * a * inv(a.sum(0))[None, :]


def test_matches_dense_lightgcn_formula_and_repr():
    g = bipartite()
    x = torch.randn(11, 4, dtype=torch.float64)
    conv = LGConv()
    torch.testing.assert_close(conv(x, g), dense_sym(g.to_dense().double()) @ x)
    norm = g.normalize("sym")
    assert torch.equal(LGConv(normalize=False)(x, norm), conv(x, g))  # pre-normalised graph: same numbers
    assert repr(conv) == "LGConv(normalize=True)" and list(conv.parameters()) == []


def test_rectangular_rows_of_the_graph_equal_rows_of_the_full_layer():
    g = bipartite().normalize("sym")
    x = torch.randn(11, 3)
    rows = torch.tensor([0, 7, 7, 3, 10, 1, 2, 4, 5, 6, 8, 9, 0])  # more rows than columns: x_dst does not exist
    conv = LGConv(normalize=False)
    torch.testing.assert_close(conv(x, g.select_rows(rows)), conv(x, g)[rows])


@pytest.mark.parametrize("weighted", [False, True])
def test_equal_across_input_forms_and_equivariant(weighted):
    g = random_graph(12, 30, seed=1, weighted=weighted, dtype=torch.float32)
    x = torch.randn(12, 5)
    ref = LGConv()(x, g)
    for name, form in forms(g).items():
        torch.testing.assert_close(LGConv()(x, form), ref, msg=name)
    assert_node_equivariant(lambda x, g: LGConv()(x, g), x.double(), g, generator=torch.Generator().manual_seed(1))


def test_block_equals_graph_and_bitwise_deterministic():
    g = random_graph(300, 2000, seed=2, dtype=torch.float32)
    x = torch.randn(300, 64, requires_grad=True)
    assert torch.equal(LGConv()(x, full_block(g)), LGConv()(x, g))

    assert_forward_backward_deterministic(lambda: LGConv()(x, g), x)


def test_edge_weight_override_and_bad_input():
    g = random_graph(6, 10, seed=3)
    w = torch.rand(g.num_edges, dtype=torch.float64)
    x = torch.randn(6, 2, dtype=torch.float64)
    torch.testing.assert_close(LGConv(normalize=False)(x, g, edge_weight=w), g.with_weight(w).to_dense() @ x)
    with pytest.raises(ValueError, match="one row per source node"):
        LGConv()(torch.randn(5, 2), g)
