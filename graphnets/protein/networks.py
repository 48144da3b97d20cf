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
  spherical convolution replaced by a GCN layer :math:`\hat A X W + b`,
  :math:`\hat A = \tilde D^{-1/2}(A+I)\tilde D^{-1/2}` on the same contact graph and features
  (no directional information).

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

from cuda_ext import spmm
from graphnets.protein.residue_graph import NUM_NODE_FEATURES, ResidueGraph
from graphnets.protein.spherical_conv import SphericalConvolution, edge_incidence
from sampling import Graph

__all__ = ["SGCN", "SGCNScoring", "ResidueGCN", "GCNLayer", "global_scores"]


def global_scores(residue_scores: Tensor, batch: Tensor, num_graphs: int) -> Tensor:
    """Mean residue score per graph: ``[R]``, ``[R]`` -> ``[G]``."""
    total = residue_scores.new_zeros(num_graphs).index_add_(0, batch, residue_scores)
    count = residue_scores.new_zeros(num_graphs).index_add_(0, batch, torch.ones_like(residue_scores))
    return total / count.clamp_min(1.0)


class GCNLayer(nn.Module):
    r"""Kipf-Welling GCN layer :math:`\hat A X W + b` on a precomputed normalised graph."""

    def __init__(self, in_channels: int, out_channels: int, bias: bool = True) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.weight = nn.Parameter(torch.empty(in_channels, out_channels))
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.xavier_normal_(self.weight)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def forward(self, x: Tensor, norm_graph: Graph) -> Tensor:
        out = spmm(norm_graph, x @ self.weight)
        return out + self.bias if self.bias is not None else out

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, bias={self.bias is not None}"


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

    def __init__(self, in_channels: int = NUM_NODE_FEATURES, order: int = 5,
                 hidden: Sequence[int] = (20, 16, 8, 4), dropout: float = 0.2) -> None:
        super().__init__()
        if len(hidden) != 4:
            raise ValueError(f"SGCN: hidden must list 4 widths (got {tuple(hidden)})")
        self.in_channels = in_channels
        self.order = order
        self.hidden = tuple(hidden)
        self.dropout = dropout
        self.trunk = _Trunk((in_channels, *hidden, 1), lambda a, b: SphericalConvolution(a, b, order),
                            norm_after=(1, 3), dropout=dropout)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_submodules(self)

    def forward(self, data: ResidueGraph) -> Tensor:
        _check_input("SGCN", data, self.in_channels)
        inc = edge_incidence(data.graph)
        out = self.trunk(data.x, lambda conv, h: conv(h, data.graph, data.sh, inc), last_activation=False)
        return torch.sigmoid(out.squeeze(-1))  # [R]

    def extra_repr(self) -> str:
        return f"in_channels={self.in_channels}, order={self.order}, hidden={self.hidden}, dropout={self.dropout}"


class SGCNScoring(nn.Module):
    """S-GCN_s (``S5WithScoring``): convolutions 23-20-16-14-12-8, per-residue MLP 8-128-64-1, sigmoid."""

    def __init__(self, in_channels: int = NUM_NODE_FEATURES, order: int = 5,
                 hidden: Sequence[int] = (20, 16, 14, 12, 8), mlp: Sequence[int] = (128, 64),
                 dropout: float = 0.2, mlp_dropout: float = 0.1) -> None:
        super().__init__()
        if len(hidden) != 5:
            raise ValueError(f"SGCNScoring: hidden must list 5 widths (got {tuple(hidden)})")
        self.in_channels = in_channels
        self.order = order
        self.hidden = tuple(hidden)
        self.mlp_sizes = tuple(mlp)
        self.dropout = dropout
        self.mlp_dropout = mlp_dropout
        self.trunk = _Trunk((in_channels, *hidden), lambda a, b: SphericalConvolution(a, b, order),
                            norm_after=(1, 3), dropout=dropout)
        sizes = (hidden[-1], *mlp, 1)
        self.mlp = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.mlp_drop = nn.Dropout(mlp_dropout)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_submodules(self)

    def forward(self, data: ResidueGraph) -> Tensor:
        _check_input("SGCNScoring", data, self.in_channels)
        inc = edge_incidence(data.graph)
        # every convolution of S-GCN_s has its ELU (the official conv4 too), no dropout before the MLP
        h = self.trunk(data.x, lambda conv, z: conv(z, data.graph, data.sh, inc), last_activation=True)
        for i, lin in enumerate(self.mlp):
            h = lin(h)
            if i < len(self.mlp) - 1:
                h = self.mlp_drop(F.elu(h))
        return torch.sigmoid(h.squeeze(-1))  # [R]

    def extra_repr(self) -> str:
        return (f"in_channels={self.in_channels}, order={self.order}, hidden={self.hidden}, mlp={self.mlp_sizes}, "
                f"dropout={self.dropout}, mlp_dropout={self.mlp_dropout}")


class ResidueGCN(nn.Module):
    """Baseline: the :class:`SGCN` trunk with plain GCN layers (no direction), same features and graph."""

    def __init__(self, in_channels: int = NUM_NODE_FEATURES, hidden: Sequence[int] = (20, 16, 8, 4),
                 dropout: float = 0.2) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.hidden = tuple(hidden)
        self.dropout = dropout
        self.trunk = _Trunk((in_channels, *hidden, 1), GCNLayer, norm_after=(1, 3), dropout=dropout)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_submodules(self)

    def forward(self, data: ResidueGraph) -> Tensor:
        _check_input("ResidueGCN", data, self.in_channels)
        norm = data.graph.normalize("sym", add_self_loops=True)
        norm = norm.with_weight(norm.weight.to(data.x.dtype))
        out = self.trunk(data.x, lambda conv, h: conv(h, norm), last_activation=False)
        return torch.sigmoid(out.squeeze(-1))  # [R]

    def extra_repr(self) -> str:
        return f"in_channels={self.in_channels}, hidden={self.hidden}, dropout={self.dropout}"
