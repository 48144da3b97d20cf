import pytest
import torch

from graphnets.protein import SphericalConvolution, residue_graph, synthetic_native


def _graph(order=3, n=14, seed=0):
    return residue_graph(synthetic_native(n, torch.Generator().manual_seed(seed)), order=order, dtype=torch.float64)


def test_equals_official_dense_formula():
    rg = _graph()
    conv = SphericalConvolution(23, 5, order=3).double()
    with torch.no_grad():
        conv.bias.normal_()
    x = rg.x
    n = x.shape[0]
    expected = x @ conv.root_weight + conv.bias
    rows, cols = rg.graph.row, rg.graph.indices
    for k in range(9):
        s_k = torch.zeros(n, n, dtype=torch.float64)
        s_k[rows, cols] = rg.sh[:, k]  # (S_k)_{ij} = c_ij Y_k(d_ij)
        expected = expected + s_k @ x @ conv.sh_weight[k]
    torch.testing.assert_close(conv(x, rg.graph, rg.sh), expected)


def test_gradcheck_float64():
    rg = _graph(order=2, n=6)
    conv = SphericalConvolution(4, 3, order=2).double()
    x = torch.randn(6, 4, dtype=torch.float64, requires_grad=True)
    sh = rg.sh.clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda a, b: conv(a, rg.graph, b), (x, sh))


def test_repr_init_and_errors():
    conv = SphericalConvolution(8, 4, order=5)
    assert repr(conv) == "SphericalConvolution(8, 4, order=5, bias=True)"
    assert conv.sh_weight.shape == (25, 8, 4) and float(conv.bias.detach().abs().sum()) == 0.0
    rg = _graph(order=5)
    with pytest.raises(ValueError, match=r"x must be \[N, 8\]"):
        conv(torch.zeros(rg.num_nodes, 3), rg.graph, rg.sh.float())
    with pytest.raises(ValueError, match=r"sh must be \[E="):
        conv(torch.zeros(rg.num_nodes, 8), rg.graph, rg.sh.float()[:, :9])
    with pytest.raises(ValueError, match="in_channels must be a positive int"):
        SphericalConvolution(0, 4)


def test_isolated_nodes_and_no_edges():
    from sampling import Graph

    conv = SphericalConvolution(3, 2, order=2, bias=False)
    g = Graph(torch.zeros(5, dtype=torch.int64), torch.zeros(0, dtype=torch.int64))
    x = torch.randn(4, 3)
    torch.testing.assert_close(conv(x, g, torch.zeros(0, 4)), x @ conv.root_weight)
