"""DAGNNConv: adaptive propagation against the paper's equations, blocks, equivariance, determinism."""

import pytest
import torch

from graphnets.conv import DAGNNConv
from tests.equivariance import assert_node_equivariant
from tests.graphnets.conv.helpers import assert_bitwise_deterministic, forms, full_block, random_block, random_graph


def dense_reference(conv: DAGNNConv, x: torch.Tensor, a: torch.Tensor):
    a = a + torch.diag((torch.diagonal(a) == 0).to(a.dtype))
    d = a.sum(1).pow(-0.5)
    a_hat = d[:, None] * a * d[None, :]
    hops = torch.stack([torch.linalg.matrix_power(a_hat, k) @ x for k in range(conv.K + 1)], 1)  # [N, K+1, C]
    s = torch.sigmoid(hops @ conv.proj.weight.view(-1) + conv.proj.bias)  # [N, K+1]
    return (s.unsqueeze(-1) * hops).sum(1), s, hops


def test_matches_dense_equations_repr_and_seeded_init():
    g = random_graph(12, 30, seed=0)
    conv = DAGNNConv(3, K=5).double()
    x = torch.randn(12, 3, dtype=torch.float64)
    ref, s_ref, hops_ref = dense_reference(conv, x, g.to_dense().double())
    torch.testing.assert_close(conv(x, g), ref)
    torch.testing.assert_close(conv.hops(x, g), hops_ref)
    torch.testing.assert_close(conv.retention(hops_ref), s_ref)
    assert repr(conv) == "DAGNNConv(\n  3, K=5\n  (proj): Linear(in_features=3, out_features=1, bias=True)\n)"
    a, b = DAGNNConv(3, 2), DAGNNConv(3, 2)
    a.reset_parameters(torch.Generator().manual_seed(1))
    b.reset_parameters(torch.Generator().manual_seed(1))
    assert torch.equal(a.proj.weight, b.proj.weight) and torch.equal(a.proj.bias, b.proj.bias)
    k0 = DAGNNConv(3, K=0).double()
    torch.testing.assert_close(k0(x, g), torch.sigmoid(x @ k0.proj.weight.view(-1) + k0.proj.bias)[:, None] * x)


def test_block_forms_equivariance_and_determinism():
    g = random_graph(15, 40, seed=1, dtype=torch.float32)
    conv = DAGNNConv(4, K=4)
    x = torch.randn(15, 4)
    assert torch.equal(conv(x, full_block(g)), conv(x, g))
    for name, form in forms(g).items():
        torch.testing.assert_close(conv(x, form), conv(x, g), msg=name)
    conv64 = DAGNNConv(4, K=4).double()
    assert_node_equivariant(lambda x, g: conv64(x, g), x.double(), g, generator=torch.Generator().manual_seed(0))
    assert_bitwise_deterministic(lambda: conv(x, g))


def test_bad_input():
    g = random_graph(10, 20, seed=2)
    with pytest.raises(ValueError, match="K must be a non-negative int"):
        DAGNNConv(3, K=-1)
    with pytest.raises(ValueError, match=r"in_channels=3 features \(got 2\)"):
        DAGNNConv(3, 2)(torch.randn(10, 2, dtype=torch.float64), g)
    with pytest.raises(ValueError, match=r"graph must be 5 x 5 .*hops repeat on one node set"):
        DAGNNConv(3, 2)(torch.randn(5, 3), random_block(5, 11))
