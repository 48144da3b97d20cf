"""CKGConv: constant kernel = mean aggregation, degree scaler, signed kernels, segment-sum determinism, blocks."""

from __future__ import annotations

import pytest
import torch

from graphnets.ckgconv import PostNormBlock, rrwp, rrwp_support
from graphnets.conv import CKGConv, KernelMLP
from sampling import Graph
from tests.equivariance import assert_node_equivariant
from tests.graphnets.conv.helpers import (
    assert_forward_backward_deterministic,
    full_block,
    random_block,
)


def ring_with_chord(n: int = 6) -> Graph:
    src = list(range(n)) + [0]
    dst = [(i + 1) % n for i in range(n)] + [n // 2]
    s, d = torch.tensor(src), torch.tensor(dst)
    return Graph.from_edge_index(torch.stack([torch.cat([s, d]), torch.cat([d, s])]), num_nodes=n)


def support_graph(g: Graph, K: int = 3, support: str = "full", hops=None) -> Graph:
    """The kernel support as a graph; AddRRWP's pair list is sorted by target, i.e. already in CSR order."""
    idx, _ = rrwp_support(rrwp(g, K)[0], support, hops)
    s = Graph.from_edge_index(idx, num_nodes=g.num_nodes)
    assert torch.equal(s.indices, idx[0]) and torch.equal(s.row, idx[1])
    return s


def constant_kernel(conv: CKGConv, value: float = 1.0) -> CKGConv:
    with torch.no_grad():
        conv.kernel.out.weight.zero_()
        conv.kernel.out.bias.fill_(value)
    return conv.eval()


@pytest.mark.parametrize("support, hops", [("full", None), ("khop", 1), ("khop", 2), ("nonzero", None)])
def test_constant_kernel_is_mean_aggregation(support, hops):
    g = ring_with_chord()
    s = support_graph(g, 3, support, hops)
    x = torch.randn(g.num_nodes, 8, dtype=torch.float64)
    conv = constant_kernel(CKGConv(8, deg_scaler=False).double())
    out = conv(x, s, torch.randn(s.num_edges, 8, dtype=torch.float64))
    mask = s.to_dense().double()  # mask[i, j] = 1 if j in S(i)
    torch.testing.assert_close(out, (mask / mask.sum(1, keepdim=True)) @ x)
    if support == "khop" and hops == 1:  # mean over the closed neighbourhood, written out by hand for node 0
        torch.testing.assert_close(out[0], (x[0] + x[1] + x[5] + x[3]) / 4)


def test_degree_scaler_formula():
    g = ring_with_chord()
    s = support_graph(g, 2)
    x = torch.randn(6, 4, dtype=torch.float64)
    conv = constant_kernel(CKGConv(4, deg_scaler=True).double())
    deg = g.in_degree().double()
    out = conv(x, s, torch.zeros(s.num_edges, 4, dtype=torch.float64), deg)
    mean = x.mean(0, keepdim=True).expand(6, 4)
    th = conv.deg_coef[0]  # [4, 2]
    torch.testing.assert_close(out, mean * th[:, 0] + mean * deg.sqrt()[:, None] * th[:, 1])


def test_kernel_is_depthwise_and_signed():
    k = KernelMLP(16, num_blocks=2, dropout=0.0).eval()
    torch.manual_seed(1)
    with torch.no_grad():
        k.out.weight.normal_()
    psi = k(torch.randn(200, 16))
    assert psi.shape == (200, 16)
    assert (psi < 0).any() and (psi > 0).any()  # no softmax / positivity constraint


def test_segment_sum_equals_a_sequential_reference_and_is_bitwise_deterministic():
    # messages are reduced per destination in CSR order (spmm over the edge incidence), never index_add_
    g = support_graph(ring_with_chord(40), 4)
    conv = CKGConv(16, kernel_dropout=0.0, deg_scaler=False).eval()
    x = torch.randn(40, 16, requires_grad=True)
    e = torch.randn(g.num_edges, 16)
    with torch.no_grad():
        msg = x.index_select(0, g.indices) * conv.kernel(e)
        ref = torch.stack([msg[g.indptr[i] : g.indptr[i + 1]].sum(0) for i in range(40)]) / 40
    torch.testing.assert_close(conv(x, g, e), ref)

    assert_forward_backward_deterministic(lambda: conv(x, g, e), x)


def test_block_covering_all_nodes_equals_graph_and_rectangular_blocks():
    g = support_graph(ring_with_chord(), 3)
    conv = CKGConv(8, kernel_dropout=0.0).double().eval()
    x = torch.randn(6, 8, dtype=torch.float64)
    e = torch.randn(g.num_edges, 8, dtype=torch.float64)
    deg = torch.rand(6, dtype=torch.float64) + 1
    assert torch.equal(conv(x, full_block(g), e, deg), conv(x, g, e, deg))
    block = random_block(5, 11, 24, seed=1)
    const = constant_kernel(CKGConv(8, deg_scaler=False).double())
    x_src = torch.randn(11, 8, dtype=torch.float64)
    out = const((x_src, None), block, torch.zeros(block.num_edges, 8, dtype=torch.float64))
    a = block.graph.to_dense().double()
    torch.testing.assert_close(out, (a / a.sum(1, keepdim=True)) @ x_src)


def test_permutation_equivariance():
    g = ring_with_chord(7)
    idx, _ = rrwp_support(rrwp(g, 3)[0], "khop", 2)
    conv = CKGConv(4, kernel_dropout=0.0).double().eval()
    e = torch.randn(idx.shape[1], 4, dtype=torch.float64)
    deg = g.in_degree().double()

    def fn(xs, graph):
        x, d = xs
        pair_index, pair_emb = graph
        key = pair_index[1] * 7 + pair_index[0]
        perm = torch.argsort(key, stable=True)  # the support's CSR order
        s = Graph.from_edge_index(pair_index, num_nodes=7)
        return conv(x, s, pair_emb[perm], d)

    x = torch.randn(7, 4, dtype=torch.float64)
    assert_node_equivariant(fn, (x, deg), (idx, e), generator=torch.Generator().manual_seed(0))


def test_kernel_dropout_only_in_training():
    g = support_graph(ring_with_chord(), 2)
    conv = CKGConv(8, kernel_dropout=0.5, deg_scaler=False)
    x, e = torch.randn(6, 8), torch.randn(g.num_edges, 8)
    conv.train()
    a, b = conv(x, g, e), conv(x, g, e)
    assert not torch.allclose(a, b)
    conv.eval()
    torch.testing.assert_close(conv(x, g, e), conv(x, g, e))


def test_gradients_reach_every_parameter():
    g = ring_with_chord()
    s = support_graph(g, 2)
    block = PostNormBlock(CKGConv(8), 8)
    x, e = torch.randn(6, 8, requires_grad=True), torch.randn(s.num_edges, 8, requires_grad=True)
    block(x, s, e, g.in_degree()).pow(2).sum().backward()
    for name, p in block.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    assert x.grad.abs().sum() > 0 and e.grad.abs().sum() > 0


def test_repr_mirrors_constructor():
    r = repr(CKGConv(8, num_blocks=1, kernel_dropout=0.3, mlp_dropout=0.0, deg_scaler=False))
    assert "dim=8, num_blocks=1, kernel_dropout=0.3, mlp_dropout=0.0, deg_scaler=False" in r
    assert "ffn_ratio=2, norm=post" in repr(PostNormBlock(CKGConv(8), 8))


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"x": torch.randn(6, 5)}, ValueError, r"in_channels=8 features \(got 5\)"),
        ({"graph": torch.zeros(2, 36, dtype=torch.int64)}, TypeError, "sampling.Graph or sampling.Block"),
        ({"e": torch.randn(3, 8)}, ValueError, r"pair_emb must be \[P=36, 8\]"),
        ({"deg": None}, ValueError, "deg_scaler needs deg"),
    ],
)
def test_bad_input(kwargs, exc, match):
    g = ring_with_chord()
    args = {"x": torch.randn(6, 8), "graph": support_graph(g, 2), "e": torch.randn(36, 8), "deg": g.in_degree()}
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        CKGConv(8)(args["x"], args["graph"], args["e"], args["deg"])


def test_bad_hyperparameters():
    with pytest.raises(ValueError, match="kernel_dropout must be in"):
        CKGConv(8, kernel_dropout=1.0)
    with pytest.raises(ValueError, match="num_blocks must be >= 0"):
        KernelMLP(8, num_blocks=-1)
    with pytest.raises(ValueError, match="dropout must be in"):
        PostNormBlock(CKGConv(8), 8, dropout=1.5)
    with pytest.raises(ValueError, match="dim must be a positive int"):
        CKGConv(0)
