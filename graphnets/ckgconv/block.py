r"""Post-norm convolution block with FFN (the official ``CKGraphConvMLP`` layer).

.. math::
    h &= \mathrm{BN}\big(x + \mathrm{Drop}(W_O\, \mathrm{conv}(x))\big) \\
    y &= \mathrm{BN}\big(h + \mathrm{Drop}(W_2\, \sigma(W_1 h))\big), \qquad W_1: d \to r d,\ W_2: r d \to d.

``conv`` is any module mapping ``(x, *graph_args) -> [N, d]``: :class:`graphnets.conv.CKGConv` for
CKGCN, :class:`graphnets.conv.GCNConv` without weight for the GCN baseline (so that the two models
differ only in the convolution). :math:`W_O` is the official ``O_h`` ("1x1 conv", Xavier-normal
init); FFN weights use the truncated-normal init.

Shapes: x ``[N, d]`` -> ``[N, d]``.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

__all__ = ["PostNormBlock"]


class PostNormBlock(nn.Module):
    """Args: conv (the graph convolution), dim, dropout (official ZINC 0.0), ffn_ratio (2), act (GELU)."""

    def __init__(
        self, conv: nn.Module, dim: int, dropout: float = 0.0, ffn_ratio: int = 2, act: type[nn.Module] = nn.GELU
    ) -> None:
        super().__init__()
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"PostNormBlock: dropout must be in [0, 1) (got {dropout})")
        if ffn_ratio < 1:
            raise ValueError(f"PostNormBlock: ffn_ratio must be >= 1 (got {ffn_ratio})")
        self.dim, self.dropout, self.ffn_ratio = dim, dropout, ffn_ratio
        self.conv = conv
        self.out_proj = nn.Linear(dim, dim)
        self.norm1 = nn.BatchNorm1d(dim)
        self.ffn = nn.Sequential(nn.Linear(dim, dim * ffn_ratio), act(), nn.Linear(dim * ffn_ratio, dim))
        self.norm2 = nn.BatchNorm1d(dim)
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if hasattr(self.conv, "reset_parameters"):
            self.conv.reset_parameters()
        nn.init.xavier_normal_(self.out_proj.weight)
        nn.init.zeros_(self.out_proj.bias)
        for m in self.ffn:
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)
        self.norm1.reset_parameters()
        self.norm2.reset_parameters()

    def forward(self, x: Tensor, *graph_args: Any) -> Tensor:
        h = self.norm1(x + self.drop(self.out_proj(self.conv(x, *graph_args))))  # [N, d]
        return self.norm2(h + self.drop(self.ffn(h)))  # [N, d]

    def extra_repr(self) -> str:
        return f"dim={self.dim}, dropout={self.dropout}, ffn_ratio={self.ffn_ratio}, norm=post"
