r"""Node and pair stems of CKGConv (the official ``rrwp_stem`` encoders).

Node stem: :math:`h_i = \mathrm{BN}\big(\mathrm{Emb}(a_i) + W_p\,\mathrm{BN}(p_i)\big)` with the
atom type :math:`a_i` and the absolute RRWP :math:`p_i = \mathrm{diag}(M^k)_{k=1..K}`.

Pair stem (per support pair (i, j), target i):

.. math::
    e_{ij} = \mathrm{BN}\Big( W_P\, \big(\gamma \odot \mathrm{BN}_{\text{no affine}}(|S(i)|\,P_{ij}) + \beta\big)
             \;+\; \mathbb{1}[(j \to i) \in E]\ \mathrm{Emb}(b_{ij}) \Big),

with the support size :math:`|S(i)|` (``kernel_rescale``: the later *mean* aggregation then acts
like a sum over the raw coordinates), :math:`\gamma` initialised to 0.1 and :math:`\beta` to 0
(``AffineTransformLayer``), :math:`W_P` without bias, and bond embeddings added on real edges.

Differences from the official code: real edges are located inside the (target-sorted) pair list
with ``searchsorted`` instead of a ``torch_sparse.coalesce`` of the concatenation; an edge outside
the support raises ``ValueError`` (the official code would silently add it as a new pair).
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor, nn

__all__ = ["AffineTransform", "NodeStem", "PairStem", "support_size", "edge_to_pair"]


class AffineTransform(nn.Module):
    r"""Per-channel :math:`y = \gamma \odot x + \beta`, :math:`\gamma` = ``alpha``, :math:`\beta = 0` at init."""

    def __init__(self, dim: int, alpha: float = 0.1) -> None:
        super().__init__()
        self.dim = dim
        self.alpha = alpha
        self.gamma = nn.Parameter(torch.empty(dim))
        self.beta = nn.Parameter(torch.empty(dim))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.constant_(self.gamma, self.alpha)
        nn.init.zeros_(self.beta)

    def forward(self, x: Tensor) -> Tensor:
        return x * self.gamma + self.beta

    def extra_repr(self) -> str:
        return f"{self.dim}, alpha={self.alpha}"


def support_size(pair_index: Tensor, num_nodes: int) -> Tensor:
    """``|S(i)|``: number of support pairs whose target is ``i``, float ``[N]``."""
    return torch.bincount(pair_index[1], minlength=num_nodes).to(torch.float32)


def edge_to_pair(edge_index: Tensor, pair_index: Tensor, num_nodes: int) -> Tensor:
    """Position of every edge ``j -> i`` in a pair list sorted by (target, source).

    Raises:
        ValueError: the pair list is not sorted, or an edge is not in the support.
    """
    pair_key = pair_index[1] * num_nodes + pair_index[0]  # [P]
    edge_key = edge_index[1] * num_nodes + edge_index[0]  # [E]
    if pair_key.numel() > 1 and bool((pair_key[1:] < pair_key[:-1]).any()):
        raise ValueError("edge_to_pair: pair_index must be sorted by (target, source), as AddRRWP returns it")
    pos = torch.searchsorted(pair_key, edge_key).clamp_max(max(pair_key.numel() - 1, 0))
    if edge_key.numel() and (pair_key.numel() == 0 or bool((pair_key[pos] != edge_key).any())):
        raise ValueError(
            "edge_to_pair: some edges lie outside the kernel support, so their bond features cannot be added "
            "(got support without them: use support='full'/'nonzero' or hops >= 1)"
        )
    return pos


class NodeStem(nn.Module):
    """Atom-type embedding plus the projected absolute RRWP, then BatchNorm.

    Args:
        num_types: number of atom types (ZINC subset: 28-entry dictionary, 21 used).
        K: length of ``abs_pe`` (0 disables the positional term).
        dim: hidden width.
        pe_norm: BatchNorm on the raw ``abs_pe`` before the projection.

    Shapes: ``x`` ``[N]`` int64, ``abs_pe`` ``[N, K]`` -> ``[N, dim]``.
    """

    def __init__(self, num_types: int, K: int, dim: int, pe_norm: bool = True) -> None:
        super().__init__()
        self.num_types, self.K, self.dim, self.pe_norm = num_types, K, dim, pe_norm
        self.embed = nn.Embedding(num_types, dim)
        self.raw_norm = nn.BatchNorm1d(K) if (pe_norm and K > 0) else nn.Identity()
        self.pe_fc = nn.Linear(K, dim, bias=False) if K > 0 else None
        self.post_norm = nn.BatchNorm1d(dim)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.embed.reset_parameters()
        if self.pe_fc is not None:
            nn.init.trunc_normal_(self.pe_fc.weight, std=0.02)
        for m in (self.raw_norm, self.post_norm):
            if isinstance(m, nn.BatchNorm1d):
                m.reset_parameters()

    def forward(self, x: Tensor, abs_pe: Optional[Tensor]) -> Tensor:
        if x.dtype != torch.int64 or x.dim() != 1:
            raise TypeError(f"NodeStem: x must be int64 atom types [N] (got {x.dtype} {tuple(x.shape)})")
        if x.numel() and (int(x.min()) < 0 or int(x.max()) >= self.num_types):
            raise ValueError(
                f"NodeStem: atom types must be in [0, {self.num_types}) (got {int(x.min())}..{int(x.max())})"
            )
        h = self.embed(x)  # [N, dim]
        if self.pe_fc is not None:
            if abs_pe is None or abs_pe.shape != (x.shape[0], self.K):
                raise ValueError(
                    f"NodeStem: abs_pe must be [N={x.shape[0]}, K={self.K}] "
                    f"(got {None if abs_pe is None else tuple(abs_pe.shape)})"
                )
            h = h + self.pe_fc(self.raw_norm(abs_pe))
        return self.post_norm(h)

    def extra_repr(self) -> str:
        return f"num_types={self.num_types}, K={self.K}, dim={self.dim}, pe_norm={self.pe_norm}"


class PairStem(nn.Module):
    """Pair embedding from the relative RRWP (see the module docstring).

    Args:
        K: walk steps (``pair_attr`` has ``K + 1`` channels).
        dim: hidden width.
        num_edge_types: bond types (0 = no edge features).
        rescale: multiply coordinates by the support size of the target (``kernel_expected``).
        affine_alpha: initial :math:`\\gamma` of the affine layer (official 0.1).

    Shapes: ``pair_attr`` ``[P, K+1]``, ``pair_index`` ``[2, P]``, ``edge_index`` ``[2, E]``,
    ``edge_attr`` ``[E]`` int64 -> ``[P, dim]``.
    """

    def __init__(
        self, K: int, dim: int, num_edge_types: int = 0, rescale: bool = True, affine_alpha: float = 0.1
    ) -> None:
        super().__init__()
        self.K, self.dim, self.num_edge_types, self.rescale, self.affine_alpha = (
            K,
            dim,
            num_edge_types,
            rescale,
            affine_alpha,
        )
        self.raw_norm = nn.BatchNorm1d(K + 1, affine=False)
        self.affine = AffineTransform(K + 1, affine_alpha)
        self.pe_fc = nn.Linear(K + 1, dim, bias=False)
        self.edge_embed = nn.Embedding(num_edge_types, dim) if num_edge_types > 0 else None
        self.post_norm = nn.BatchNorm1d(dim)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.raw_norm.reset_parameters()
        self.affine.reset_parameters()
        nn.init.xavier_normal_(self.pe_fc.weight)
        if self.edge_embed is not None:
            self.edge_embed.reset_parameters()
        self.post_norm.reset_parameters()

    def forward(
        self,
        pair_attr: Tensor,
        pair_index: Tensor,
        num_nodes: int,
        edge_index: Optional[Tensor] = None,
        edge_attr: Optional[Tensor] = None,
    ) -> Tensor:
        if pair_attr.dim() != 2 or pair_attr.shape[1] != self.K + 1 or pair_index.shape != (2, pair_attr.shape[0]):
            raise ValueError(
                f"PairStem: expected pair_attr [P, K+1={self.K + 1}] and pair_index [2, P] "
                f"(got {tuple(pair_attr.shape)} and {tuple(pair_index.shape)})"
            )
        val = pair_attr
        if self.rescale:
            val = val * support_size(pair_index, num_nodes).to(val.dtype)[pair_index[1], None]  # [P, K+1]
        out = self.pe_fc(self.affine(self.raw_norm(val)))  # [P, dim]
        if self.edge_embed is not None and edge_attr is not None:
            if edge_index is None or edge_attr.shape != (edge_index.shape[1],) or edge_attr.dtype != torch.int64:
                raise ValueError(
                    f"PairStem: edge_attr must be int64 [E] matching edge_index [2, E] "
                    f"(got {edge_attr.dtype} {tuple(edge_attr.shape)})"
                )
            pos = edge_to_pair(edge_index, pair_index, num_nodes)
            out = out.index_add(0, pos, self.edge_embed(edge_attr))
        return self.post_norm(out)

    def extra_repr(self) -> str:
        return (
            f"K={self.K}, dim={self.dim}, num_edge_types={self.num_edge_types}, rescale={self.rescale}, "
            f"affine_alpha={self.affine_alpha}"
        )
