r"""S-GCN networks (per-residue and scoring variants) and a plain-GCN baseline with the same trunk.

Igashov et al. 2021 (https://arxiv.org/abs/2011.07980), official ``networks.py``:

* :class:`SGCN` (= ``S5AndDropout``, "S-GCN"): five spherical convolutions
  ``23 -> 20 -> 16 -> 8 -> 4 -> 1``, ELU after the first four, BatchNorm after the 2nd and 4th,
  dropout after each of the first four; sigmoid output = per-residue score in [0, 1]
  (trained on per-residue CAD-score; here lDDT).
* :class:`SGCNScoring` (= ``S5WithScoring``, "S-GCN_s"): convolutions
  ``23 -> 20 -> 16 -> 14 -> 12 -> 8`` then a per-residue MLP ``8 -> 128 -> 64 -> 1`` (ELU,
  dropout 0.1), sigmoid.
* :class:`ResidueGCN`: the baseline of our comparison, the :class:`SGCN` trunk with each
  spherical convolution replaced by a GCN layer (:class:`graphnets.conv.GCNConv`)
  :math:`\hat A X W + b`, :math:`\hat A = \tilde D^{-1/2}(A+I)\tilde D^{-1/2}` on the same
  contact graph and features (no directional information).

The global score of a model is the mean of its per-residue predictions
(:func:`global_scores`), as in the official evaluation.

Differences from the official code: the official networks take ``(one_hot, features, sh)``
with the SH as a list of dense/sparse ``N x N`` matrices; ours take a :class:`ResidueGraph`
(``x``, CSR ``graph``, edge-list ``sh``) so graphs can be batched block-diagonally (the
official trains one graph at a time with gradient accumulation, so its BatchNorm statistics
are per graph; ours are per batch).

Shapes:
    input :class:`ResidueGraph` with ``R`` residues (any number of graphs) -> ``[R]``.
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from graphnets.conv import GCNConv, SphericalConvolution
from graphnets.protein.residue_graph import NUM_NODE_FEATURES, ResidueGraph
from sampling import segment_mean

__all__ = ["SGCN", "SGCNScoring", "ResidueGCN", "global_scores"]


def global_scores(residue_scores: Tensor, batch: Tensor, num_graphs: int) -> Tensor:
    """Mean residue score per graph: ``[R]``, ``[R]`` -> ``[G]`` (a deterministic segment mean).

    ``batch`` is the graph index of every residue, non-decreasing (graphs stored one after the
    other, as :func:`~graphnets.protein.collate_residue_graphs` lays them out).
    """
    if batch.numel() > 1 and bool((batch[1:] < batch[:-1]).any()):
        raise ValueError("global_scores: batch must be non-decreasing (residues of one graph stored together)")
    ptr = torch.zeros(num_graphs + 1, dtype=torch.int64, device=batch.device)
    torch.cumsum(torch.bincount(batch, minlength=num_graphs), 0, out=ptr[1:])
    return segment_mean(residue_scores, ptr)


def _check_input(name: str, data: ResidueGraph, in_channels: int) -> None:
    if not isinstance(data, ResidueGraph):
        raise TypeError(f"{name}.forward: expected a ResidueGraph (got {type(data).__name__})")
    if data.x.dim() != 2 or data.x.shape[1] != in_channels:
        raise ValueError(f"{name}.forward: node features must be [R, {in_channels}] (got {tuple(data.x.shape)})")


class _Trunk(nn.Module):
    """Convolutions with ELU, BatchNorm after the layers in ``norm_after``, dropout after all but the last."""

    def __init__(self, channels: Sequence[int], make_conv, norm_after: Sequence[int], dropout: float) -> None:
        super().__init__()
        self.convs = nn.ModuleList(make_conv(a, b) for a, b in zip(channels[:-1], channels[1:]))
        self.norms = nn.ModuleDict({str(i): nn.BatchNorm1d(channels[i + 1]) for i in norm_after})
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor, call, last_activation: bool) -> Tensor:
        n = len(self.convs)
        for i, conv in enumerate(self.convs):
            x = call(conv, x)
            if i == n - 1 and not last_activation:
                break
            x = F.elu(x)
            if str(i) in self.norms:
                x = self.norms[str(i)](x)
            if i < n - 1:
                x = self.dropout(x)
        return x


def _gcn_layer(in_channels: int, out_channels: int) -> GCNConv:
    return GCNConv(in_channels, out_channels, remaining_self_loops=False, degree="both")


def _reset_submodules(module: nn.Module) -> None:
    """Re-initialise every submodule that has ``reset_parameters`` (the networks share this)."""
    for m in module.modules():
        if m is not module and hasattr(m, "reset_parameters"):
            m.reset_parameters()


class SGCN(nn.Module):
    """S-GCN (``S5AndDropout``): five spherical convolutions, sigmoid per-residue score.

    Args:
        in_channels: node feature size (23 = 20 types + 3 geometric).
        order: SH order ``P`` of the input edge features (5 or 10 in the paper).
        hidden: widths of the four hidden layers (official ``(20, 16, 8, 4)``).
        dropout: dropout after each hidden layer (official default 0.2; its training script 0.02).
    """

    def __init__(
        self,
        in_channels: int = NUM_NODE_FEATURES,
        order: int = 5,
        hidden: Sequence[int] = (20, 16, 8, 4),
        dropout: float = 0.2,
    ) -> None:
        super().__init__()
        if len(hidden) != 4:
            raise ValueError(f"SGCN: hidden must list 4 widths (got {tuple(hidden)})")
        self.in_channels = in_channels
        self.order = order
        self.hidden = tuple(hidden)
        self.dropout = dropout
        self.trunk = _Trunk(
            (in_channels, *hidden, 1),
            lambda a, b: SphericalConvolution(a, b, order),
            norm_after=(1, 3),
            dropout=dropout,
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_submodules(self)

    def forward(self, data: ResidueGraph) -> Tensor:
        _check_input("SGCN", data, self.in_channels)
        out = self.trunk(data.x, lambda conv, h: conv(h, data.graph, data.sh), last_activation=False)
        return torch.sigmoid(out.squeeze(-1))  # [R]

    def extra_repr(self) -> str:
        return f"in_channels={self.in_channels}, order={self.order}, hidden={self.hidden}, dropout={self.dropout}"


class SGCNScoring(nn.Module):
    """S-GCN_s (``S5WithScoring``): convolutions 23-20-16-14-12-8, per-residue MLP 8-128-64-1, sigmoid."""

    def __init__(
        self,
        in_channels: int = NUM_NODE_FEATURES,
        order: int = 5,
        hidden: Sequence[int] = (20, 16, 14, 12, 8),
        mlp: Sequence[int] = (128, 64),
        dropout: float = 0.2,
        mlp_dropout: float = 0.1,
    ) -> None:
        super().__init__()
        if len(hidden) != 5:
            raise ValueError(f"SGCNScoring: hidden must list 5 widths (got {tuple(hidden)})")
        self.in_channels = in_channels
        self.order = order
        self.hidden = tuple(hidden)
        self.mlp_sizes = tuple(mlp)
        self.dropout = dropout
        self.mlp_dropout = mlp_dropout
        self.trunk = _Trunk(
            (in_channels, *hidden), lambda a, b: SphericalConvolution(a, b, order), norm_after=(1, 3), dropout=dropout
        )
        sizes = (hidden[-1], *mlp, 1)
        self.mlp = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.mlp_drop = nn.Dropout(mlp_dropout)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_submodules(self)

    def forward(self, data: ResidueGraph) -> Tensor:
        _check_input("SGCNScoring", data, self.in_channels)
        # every convolution of S-GCN_s has its ELU (the official conv4 too), no dropout before the MLP
        h = self.trunk(data.x, lambda conv, z: conv(z, data.graph, data.sh), last_activation=True)
        for i, lin in enumerate(self.mlp):
            h = lin(h)
            if i < len(self.mlp) - 1:
                h = self.mlp_drop(F.elu(h))
        return torch.sigmoid(h.squeeze(-1))  # [R]

    def extra_repr(self) -> str:
        return (
            f"in_channels={self.in_channels}, order={self.order}, hidden={self.hidden}, mlp={self.mlp_sizes}, "
            f"dropout={self.dropout}, mlp_dropout={self.mlp_dropout}"
        )


class ResidueGCN(nn.Module):
    r"""Baseline: the :class:`SGCN` trunk with plain GCN layers (no direction), same features and graph.

    Each spherical convolution is replaced by :class:`graphnets.conv.GCNConv`,
    :math:`\hat A X W + b` with :math:`\hat A = D_r^{-1/2}(A+I)D_c^{-1/2}` (``remaining_self_loops=False,
    degree="both"``; the contact graph is symmetric without loops, where this equals PyG's
    normalisation), Xavier-normal weights like the spherical convolutions. :math:`\hat A` is
    memoised on the batch graph, so it is computed once per forward.

    Args:
        in_channels: node feature size (23).
        hidden: widths of the four hidden layers (as :class:`SGCN`).
        dropout: dropout after each hidden layer.
    """

    def __init__(
        self, in_channels: int = NUM_NODE_FEATURES, hidden: Sequence[int] = (20, 16, 8, 4), dropout: float = 0.2
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.hidden = tuple(hidden)
        self.dropout = dropout
        self.trunk = _Trunk((in_channels, *hidden, 1), _gcn_layer, norm_after=(1, 3), dropout=dropout)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_submodules(self)

    def forward(self, data: ResidueGraph) -> Tensor:
        _check_input("ResidueGCN", data, self.in_channels)
        out = self.trunk(data.x, lambda conv, h: conv(h, data.graph), last_activation=False)
        return torch.sigmoid(out.squeeze(-1))  # [R]

    def extra_repr(self) -> str:
        return f"in_channels={self.in_channels}, hidden={self.hidden}, dropout={self.dropout}"
