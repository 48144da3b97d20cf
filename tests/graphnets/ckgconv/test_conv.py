"""CKGConv layer: constant kernel = mean aggregation, degree scaler, signed kernels, bad input."""
from __future__ import annotations

import pytest
import torch

from graphnets.ckgconv import CKGConv, KernelMLP, PostNormBlock, rrwp, rrwp_support
from sampling import Graph


def ring_with_chord(n: int = 6) -> Graph:
    src = list(range(n)) + [0]
    dst = [(i + 1) % n for i in range(n)] + [n // 2]
    s, d = torch.tensor(src), torch.tensor(dst)
    return Graph.from_edge_index(torch.stack([torch.cat([s, d]), torch.cat([d, s])]), num_nodes=n)


def constant_kernel(conv: CKGConv, value: float = 1.0) -> CKGConv:
    with torch.no_grad():
        conv.kernel.out.weight.zero_()
        conv.kernel.out.bias.fill_(value)
    return conv.eval()


@pytest.mark.parametrize("support, hops", [("full", None), ("khop", 1), ("khop", 2), ("nonzero", None)])
def test_constant_kernel_is_mean_aggregation(support, hops):
    g = ring_with_chord()
    rel, _ = rrwp(g, 3)
    idx, _ = rrwp_support(rel, support, hops)
    x = torch.randn(g.num_nodes, 8, dtype=torch.float64)
    conv = constant_kernel(CKGConv(8, deg_scaler=False).double())
    out = conv(x, idx, torch.randn(idx.shape[1], 8, dtype=torch.float64))
    mask = torch.zeros(g.num_nodes, g.num_nodes, dtype=torch.float64)
    mask[idx[1], idx[0]] = 1.0  # mask[i, j] = 1 if j in S(i)
    expected = (mask / mask.sum(1, keepdim=True)) @ x
    torch.testing.assert_close(out, expected)
    if support == "khop" and hops == 1:  # mean over the closed neighbourhood, written out by hand for node 0
        torch.testing.assert_close(out[0], (x[0] + x[1] + x[5] + x[3]) / 4)


def test_degree_scaler_formula():
    g = ring_with_chord()
    idx, _ = rrwp_support(rrwp(g, 2)[0], "full")
    x = torch.randn(6, 4, dtype=torch.float64)
    conv = constant_kernel(CKGConv(4, deg_scaler=True).double())
    deg = g.in_degree().double()
    out = conv(x, idx, torch.zeros(idx.shape[1], 4, dtype=torch.float64), deg)
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


def test_kernel_dropout_only_in_training():
    g = ring_with_chord()
    idx, _ = rrwp_support(rrwp(g, 2)[0], "full")
    conv = CKGConv(8, kernel_dropout=0.5, deg_scaler=False)
    x, e = torch.randn(6, 8), torch.randn(idx.shape[1], 8)
    conv.train()
    a, b = conv(x, idx, e), conv(x, idx, e)
    assert not torch.allclose(a, b)
    conv.eval()
    torch.testing.assert_close(conv(x, idx, e), conv(x, idx, e))


def test_gradients_reach_every_parameter():
    g = ring_with_chord()
    idx, _ = rrwp_support(rrwp(g, 2)[0], "full")
    block = PostNormBlock(CKGConv(8), 8)
    x, e = torch.randn(6, 8, requires_grad=True), torch.randn(idx.shape[1], 8, requires_grad=True)
    block(x, idx, e, g.in_degree()).pow(2).sum().backward()
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
        ({"x": torch.randn(6, 5)}, ValueError, r"x must be \[N, 8\]"),
        ({"idx": torch.zeros(2, 36)}, TypeError, "pair_index must be int64"),
        ({"e": torch.randn(3, 8)}, ValueError, "pair_emb must be"),
        ({"deg": None}, ValueError, "deg_scaler needs deg"),
    ],
)
def test_bad_input(kwargs, exc, match):
    g = ring_with_chord()
    idx, _ = rrwp_support(rrwp(g, 2)[0], "full")
    args = {"x": torch.randn(6, 8), "idx": idx, "e": torch.randn(36, 8), "deg": g.in_degree()}
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        CKGConv(8)(args["x"], args["idx"], args["e"], args["deg"])


def test_bad_hyperparameters():
    with pytest.raises(ValueError, match="kernel_dropout must be in"):
        CKGConv(8, kernel_dropout=1.0)
    with pytest.raises(ValueError, match="num_blocks must be >= 0"):
        KernelMLP(8, num_blocks=-1)
    with pytest.raises(ValueError, match="dropout must be in"):
        PostNormBlock(CKGConv(8), 8, dropout=1.5)
