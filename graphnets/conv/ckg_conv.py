r"""``CKGConv``: graph convolution with a continuous, depthwise kernel over pseudo-coordinates."""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor, nn

from cuda_ext import spmm
from graphnets.conv._inputs import GraphLike, NodeFeatures, as_graph, split_features
from graphnets.conv.ckg_kernel import KernelMLP

__all__ = ["CKGConv"]


class CKGConv(nn.Module):
    r"""Continuous-kernel graph convolution of Ma, Pal, Zhang, Zhou, Zhang, Coates, "CKGConv: General
    Graph Convolution with Continuous Kernels", ICML 2024 (https://arxiv.org/abs/2404.13604;
    official code networkslab/CKGConv, ``ckgconv_layer.py``):

    .. math::
        h_i = \frac{1}{|S(i)|} \sum_{j \in S(i)} \mathrm{Drop}\big(\psi(e_{ij})\big) \odot x_j,
        \qquad
        h_i \leftarrow h_i \odot \theta_1 + \sqrt{\deg_i}\; h_i \odot \theta_2 \ (\text{degree scaler}),
        \qquad h_i \leftarrow h_i + b,

    with :math:`S(i)` the kernel support of destination :math:`i` (the rows of the support graph:
    full graph, k-hop or non-zero RRWP), :math:`e_{ij}` the pair embedding of support entry
    :math:`(i, j)` (:class:`graphnets.ckgconv.PairStem`), :math:`\psi` the
    :class:`~graphnets.conv.KernelMLP` (one value per channel, may be negative: a general, not
    attention-like, filter), :math:`\deg_i` the in-degree on the original edges and :math:`b` a
    bias fixed at zero (the official code freezes it when there is no value projection). No value
    projection (official ``value_proj: False``); channel mixing happens in the block's output
    Linear. With :math:`\psi \equiv 1` and no degree scaler this is the mean of :math:`x_j` over
    the support.

    The per-pair messages are reduced by a deterministic segment sum over the support CSR (one
    :func:`cuda_ext.spmm` over its edge incidence, in CSR order), never an atomic scatter.

    Args:
        dim: channels (input = output; ``num_heads = dim``, head dim 1).
        num_blocks: kernel MLP residual blocks (official 2).
        kernel_dropout: dropout on kernel values (official ``attn_dropout``, ZINC 0.5).
        mlp_dropout: dropout inside the kernel MLP (ZINC 0.1).
        deg_scaler: use the degree scaler (official True).
        act: activation class of the kernel MLP (official GELU).

    Shapes:
        x ``[num_src, dim]`` or ``(x_src, x_dst)`` (``x_dst`` not read: a node is in its own
        support); graph the support as a :class:`sampling.Graph` or :class:`sampling.Block`
        (rows = destinations, ``P`` entries); pair_emb ``[P, dim]`` in the support's CSR order;
        deg ``[num_dst]`` -> ``[num_dst, dim]``.

    Differences from the official code: the mean is a segment sum over the CSR divided by the
    support sizes instead of ``torch_scatter.scatter(reduce='mean')`` (same value, deterministic);
    the support is a graph (PyG pair list ``pair_index`` sorted by target, as
    :class:`graphnets.ckgconv.AddRRWP` returns it, is its CSR order); ``deg`` is passed explicitly.

    Example:
        >>> import torch
        >>> from sampling import Graph
        >>> support = Graph.from_edge_index(torch.tensor([[0, 1, 0, 1], [0, 0, 1, 1]]), num_nodes=2)
        >>> conv = CKGConv(8, kernel_dropout=0.0)
        >>> conv.extra_repr()
        'dim=8, num_blocks=2, kernel_dropout=0.0, mlp_dropout=0.1, deg_scaler=True'
        >>> conv(torch.rand(2, 8), support, torch.rand(4, 8), deg=torch.ones(2)).shape
        torch.Size([2, 8])
    """

    def __init__(
        self,
        dim: int,
        num_blocks: int = 2,
        kernel_dropout: float = 0.5,
        mlp_dropout: float = 0.1,
        deg_scaler: bool = True,
        act: type[nn.Module] = nn.GELU,
    ) -> None:
        super().__init__()
        if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
            raise ValueError(f"CKGConv: dim must be a positive int (got {dim!r})")
        if not 0.0 <= kernel_dropout < 1.0:
            raise ValueError(f"CKGConv: kernel_dropout must be in [0, 1) (got {kernel_dropout})")
        self.dim, self.num_blocks, self.kernel_dropout, self.mlp_dropout, self.deg_scaler = (
            dim,
            num_blocks,
            kernel_dropout,
            mlp_dropout,
            deg_scaler,
        )
        self.kernel = KernelMLP(dim, num_blocks, mlp_dropout, act)
        self.drop = nn.Dropout(kernel_dropout) if kernel_dropout > 0 else nn.Identity()
        self.deg_coef = nn.Parameter(torch.empty(1, dim, 2)) if deg_scaler else None
        self.register_buffer("bias", torch.zeros(dim))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.kernel.reset_parameters()
        if self.deg_coef is not None:
            nn.init.xavier_normal_(self.deg_coef)

    def forward(self, x: NodeFeatures, graph: GraphLike, pair_emb: Tensor, deg: Optional[Tensor] = None) -> Tensor:
        g = as_graph("CKGConv", graph)
        x_src, _ = split_features("CKGConv", x, g, self.dim)
        n = g.num_rows
        if not isinstance(pair_emb, Tensor) or pair_emb.shape != (g.num_edges, self.dim):
            got = tuple(pair_emb.shape) if isinstance(pair_emb, Tensor) else type(pair_emb).__name__
            raise ValueError(
                f"CKGConv: pair_emb must be [P={g.num_edges}, {self.dim}], one row per support entry (got {got})"
            )
        psi = self.drop(self.kernel(pair_emb))  # [P, dim] kernel values, may be negative
        msg = x_src.index_select(0, g.indices) * psi  # [P, dim]
        count = (g.indptr[1:] - g.indptr[:-1]).clamp_min(1).to(x_src.dtype)  # [num_dst] support sizes |S(i)|
        h = spmm(g.incidence(), msg) / count[:, None]  # [num_dst, dim] mean over S(i), segment sum in CSR order
        if self.deg_coef is not None:
            if deg is None or deg.shape != (n,):
                raise ValueError(
                    f"CKGConv: deg_scaler needs deg [num_dst={n}] (got {None if deg is None else tuple(deg.shape)})"
                )
            sqrt_deg = deg.to(x_src.dtype).sqrt()[:, None]  # [num_dst, 1]
            h = h * self.deg_coef[:, :, 0] + h * sqrt_deg * self.deg_coef[:, :, 1]
        return h + self.bias

    def extra_repr(self) -> str:
        return (
            f"dim={self.dim}, num_blocks={self.num_blocks}, kernel_dropout={self.kernel_dropout}, "
            f"mlp_dropout={self.mlp_dropout}, deg_scaler={self.deg_scaler}"
        )
