"""gcn_norm and propagate against dense matrix formulas."""
import torch

from graphnets.node import gcn_norm, propagate
from sampling import Graph


def _dense_gcn_norm(a: torch.Tensor) -> torch.Tensor:
    a = a.clone()
    diag = torch.diagonal(a)
    diag[diag == 0] = 1.0  # remaining self loops
    d = a.sum(1).pow(-0.5)
    d[torch.isinf(d)] = 0
    return d[:, None] * a * d[None, :]


def test_gcn_norm_matches_dense_formula_with_loops_and_isolated_nodes():
    ei = torch.tensor([[0, 1, 1, 2, 3, 2], [1, 0, 2, 1, 3, 2]])  # node 3 and 2 have loops, node 4 isolated
    w = torch.tensor([1.0, 1.0, 2.0, 2.0, 3.0, 0.5], dtype=torch.float64)
    g = Graph.from_edge_index(ei, num_nodes=5, weight=w)
    torch.testing.assert_close(gcn_norm(g).to_dense().double(), _dense_gcn_norm(g.to_dense().double()))
    gu = Graph.from_edge_index(ei, num_nodes=5)
    torch.testing.assert_close(gcn_norm(gu).to_dense(), _dense_gcn_norm(gu.to_dense()))


def test_propagate_equals_dense_matrix_powers():
    gen = torch.Generator().manual_seed(0)
    n = 30
    ei = torch.randint(0, n, (2, 80), generator=gen)
    ei = torch.cat([ei, ei.flip(0)], 1)
    g = gcn_norm(Graph.from_edge_index(ei, num_nodes=n))
    z = torch.randn(n, 5, generator=gen, dtype=torch.float64)
    hops = propagate(g, z, 6)
    assert hops.shape == (n, 7, 5)
    a = g.to_dense().double()
    for k in range(7):
        torch.testing.assert_close(hops[:, k], torch.linalg.matrix_power(a, k) @ z)
