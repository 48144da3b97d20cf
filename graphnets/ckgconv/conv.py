r"""CKGConv: graph convolution with a continuous, depthwise kernel over RRWP coordinates.

Ma et al., "CKGConv: General Graph Convolution with Continuous Kernels", ICML 2024.

.. math::
    h_i = \frac{1}{|S(i)|} \sum_{j \in S(i)} \mathrm{Drop}\big(\psi(e_{ij})\big) \odot x_j,
    \qquad
    h_i \leftarrow h_i \odot \theta_1 + \sqrt{\deg_i}\; h_i \odot \theta_2 \ (\text{degree scaler}),
    \qquad h_i \leftarrow h_i + b,

with :math:`S(i)` the kernel support of target :math:`i` (full graph, k-hop or non-zero RRWP),
:math:`e_{ij}` the pair embedding from :class:`~graphnets.ckgconv.stem.PairStem`,
:math:`\psi` the :class:`~graphnets.ckgconv.kernel.KernelMLP` (one value per channel, may be
negative), :math:`\deg_i` the in-degree on the original edges and :math:`b` a bias fixed at
zero (the official code freezes it when there is no value projection). No value projection
(official ``value_proj: False``); channel mixing happens in the block's output Linear.

With a constant kernel :math:`\psi \equiv 1` and no degree scaler this is exactly the mean of
:math:`x_j` over the support.

Differences from the official code: aggregation with ``index_add`` + support counts instead of
``torch_scatter.scatter(reduce='mean')`` (same numbers); ``deg`` is passed explicitly.

Args:
    dim: channels (input = output; ``num_heads = dim``, head dim 1).
    num_blocks: kernel MLP residual blocks (official 2).
    kernel_dropout: dropout on kernel values (official ``attn_dropout``, ZINC 0.5).
    mlp_dropout: dropout inside the kernel MLP (ZINC 0.1).
    deg_scaler: use the degree scaler (official True).

Shapes:
    x ``[N, dim]``, pair_index ``[2, P]`` (row 0 source j, row 1 target i),
    pair_emb ``[P, dim]``, deg ``[N]`` -> ``[N, dim]``.
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor, nn

from graphnets.ckgconv.kernel import KernelMLP

__all__ = ["CKGConv"]


class CKGConv(nn.Module):
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
        if not 0.0 <= kernel_dropout < 1.0:
            raise ValueError(f"CKGConv: kernel_dropout must be in [0, 1) (got {kernel_dropout})")
        self.dim, self.num_blocks, self.kernel_dropout, self.mlp_dropout, self.deg_scaler = (
            dim, num_blocks, kernel_dropout, mlp_dropout, deg_scaler)
        self.kernel = KernelMLP(dim, num_blocks, mlp_dropout, act)
        self.drop = nn.Dropout(kernel_dropout) if kernel_dropout > 0 else nn.Identity()
        self.deg_coef = nn.Parameter(torch.empty(1, dim, 2)) if deg_scaler else None
        self.register_buffer("bias", torch.zeros(dim))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.kernel.reset_parameters()
        if self.deg_coef is not None:
            nn.init.xavier_normal_(self.deg_coef)

    def forward(self, x: Tensor, pair_index: Tensor, pair_emb: Tensor, deg: Optional[Tensor] = None) -> Tensor:
        n = x.shape[0]
        if x.dim() != 2 or x.shape[1] != self.dim:
            raise ValueError(f"CKGConv: x must be [N, {self.dim}] (got {tuple(x.shape)})")
        if pair_index.dtype != torch.int64 or pair_index.dim() != 2 or pair_index.shape[0] != 2:
            raise TypeError(f"CKGConv: pair_index must be int64 [2, P] (got {pair_index.dtype} {tuple(pair_index.shape)})")
        if pair_emb.shape != (pair_index.shape[1], self.dim):
            raise ValueError(f"CKGConv: pair_emb must be [P={pair_index.shape[1]}, {self.dim}] (got {tuple(pair_emb.shape)})")
        src, tgt = pair_index[0], pair_index[1]
        psi = self.drop(self.kernel(pair_emb))  # [P, dim] kernel values, may be negative
        msg = x.index_select(0, src) * psi  # [P, dim]
        count = torch.bincount(tgt, minlength=n).clamp_min(1).to(x.dtype)  # [N] support sizes
        h = x.new_zeros(n, self.dim).index_add_(0, tgt, msg) / count[:, None]  # [N, dim] mean over S(i)
        if self.deg_coef is not None:
            if deg is None or deg.shape != (n,):
                raise ValueError(f"CKGConv: deg_scaler needs deg [N={n}] (got {None if deg is None else tuple(deg.shape)})")
            sqrt_deg = deg.to(x.dtype).sqrt()[:, None]  # [N, 1]
            h = h * self.deg_coef[:, :, 0] + h * sqrt_deg * self.deg_coef[:, :, 1]
        return h + self.bias

    def extra_repr(self) -> str:
        return (f"dim={self.dim}, num_blocks={self.num_blocks}, kernel_dropout={self.kernel_dropout}, "
                f"mlp_dropout={self.mlp_dropout}, deg_scaler={self.deg_scaler}")
