"""SphericalConvolution: the official dense formula, gradients, blocks, determinism, bad input."""

import pytest
import torch

from graphnets.conv import SphericalConvolution
from graphnets.protein import residue_graph, synthetic_native
from sampling import Block, Graph
from tests.graphnets.conv.helpers import assert_bitwise_deterministic, full_block


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
    with pytest.raises(ValueError, match=r"in_channels=8 features \(got 3\)"):
        conv(torch.zeros(rg.num_nodes, 3), rg.graph, rg.sh.float())
    with pytest.raises(ValueError, match=r"sh must be \[E="):
        conv(torch.zeros(rg.num_nodes, 8), rg.graph, rg.sh.float()[:, :9])
    with pytest.raises(ValueError, match="in_channels must be a positive int"):
        SphericalConvolution(0, 4)


def test_isolated_nodes_and_no_edges():
    conv = SphericalConvolution(3, 2, order=2, bias=False)
    g = Graph(torch.zeros(5, dtype=torch.int64), torch.zeros(0, dtype=torch.int64))
    x = torch.randn(4, 3)
    torch.testing.assert_close(conv(x, g, torch.zeros(0, 4)), x @ conv.root_weight)


def test_block_equals_graph_rectangular_block_and_determinism():
    rg = _graph(order=3, n=16)
    conv = SphericalConvolution(23, 4, order=3).double()
    assert torch.equal(conv(rg.x, full_block(rg.graph), rg.sh), conv(rg.x, rg.graph, rg.sh))
    # the first 5 residues as destinations of a block over all 16: rows 0..4 of the full layer
    rows = torch.arange(5)
    sub = rg.graph.select_rows(rows)
    sh = rg.sh[: int(rg.graph.indptr[5])]
    block = Block(sub, torch.arange(16))
    torch.testing.assert_close(conv(rg.x, block, sh), conv(rg.x, rg.graph, rg.sh)[:5])
    torch.testing.assert_close(conv((rg.x, rg.x[:5]), block, sh), conv(rg.x, rg.graph, rg.sh)[:5])
    assert_bitwise_deterministic(lambda: conv(rg.x, rg.graph, rg.sh))
    with pytest.raises(ValueError, match="one row per source node"):
        conv(rg.x[:5], block, sh)
