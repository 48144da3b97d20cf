r"""``DAGNNConv``: DAGNN's adaptive propagation, :math:`\sum_k s_k \hat A^k X` with learned retention scores."""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor, nn

from graphnets.conv._inputs import GraphLike, as_graph
from graphnets.conv.gcn_conv import gcn_norm
from graphnets.conv.propagate import check_features, check_square, propagate
from graphnets.seeded import reset_linear

__all__ = ["DAGNNConv"]


class DAGNNConv(nn.Module):
    r"""Adaptive adjustment of Liu, Gao, Ji, "Towards Deeper Graph Neural Networks", KDD 2020
    (https://arxiv.org/abs/2007.09296, Eq. 7-8; official code divelab/DeeperGNN ``dagnn.py``,
    class ``Prop``):

    .. math::
        H_k &= \hat A^k X,\quad k = 0..K, \qquad \hat A = \tilde D^{-1/2}(A + I)\tilde D^{-1/2} \\
        s_{ik} &= \sigma(H_{k,i}\, s + b) \in (0, 1) \quad\text{(one projection } s \in \mathbb{R}^C
            \text{ shared by all hops)} \\
        x'_i &= \sum_{k=0}^{K} s_{ik} H_{k,i}

    The propagation has no parameters (:math:`\hat A` is :func:`gcn_norm` with PyG's defaults, as
    the official code, memoised on the graph); the retention scores are sigmoids, not a softmax,
    so the output is a weighted *sum* of hops. Each hop is one :func:`cuda_ext.spmm`.

    Args:
        in_channels: :math:`C` (DAGNN propagates in class space, after its MLP).
        K: number of hops, ``K >= 0``.

    Shapes:
        x ``[N, C]``; graph a square :class:`sampling.Graph` ``N x N`` (raw: normalised inside), or
        a :class:`sampling.Block` whose destinations are all its sources -> ``[N, C]``.
        :meth:`hops` gives ``[N, K+1, C]``, :meth:`retention` ``[N, K+1]``.

    Differences from the official code: ``squeeze(-1)`` instead of ``squeeze()`` (the official
    layer breaks for one node or ``K = 0``); the normalisation is computed once per graph object
    instead of every forward; initialisation may draw from a ``torch.Generator``. DGL's
    ``DAGNNConv`` has no bias in the projection; the official code (and this layer) has one.

    Example:
        >>> import torch
        >>> from sampling import Graph
        >>> g = Graph.from_edge_index(torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]), num_nodes=3)
        >>> conv = DAGNNConv(2, K=3)
        >>> conv
        DAGNNConv(
          2, K=3
          (proj): Linear(in_features=2, out_features=1, bias=True)
        )
        >>> conv(torch.rand(3, 2), g).shape
        torch.Size([3, 2])
    """

    def __init__(self, in_channels: int, K: int) -> None:
        super().__init__()
        if isinstance(in_channels, bool) or not isinstance(in_channels, int) or in_channels < 1:
            raise ValueError(f"DAGNNConv: in_channels must be a positive int (got {in_channels!r})")
        if isinstance(K, bool) or not isinstance(K, int) or K < 0:
            raise ValueError(f"DAGNNConv: K must be a non-negative int (got {K!r})")
        self.in_channels = in_channels
        self.K = K
        self.proj = nn.Linear(in_channels, 1)  # retention projection s (+ bias), shared by all hops
        self.reset_parameters()

    def reset_parameters(self, generator: Optional[torch.Generator] = None) -> None:
        reset_linear(self.proj, generator)

    def hops(self, x: Tensor, graph: GraphLike) -> Tensor:
        """``[N, K+1, C]`` stack ``[H_0, .., H_K]``."""
        g = as_graph("DAGNNConv", graph)
        check_features(x, "DAGNNConv")
        check_square(g, x.shape[0], "DAGNNConv")
        if x.shape[1] != self.in_channels:
            raise ValueError(f"DAGNNConv: x must have in_channels={self.in_channels} features (got {x.shape[1]})")
        return propagate(gcn_norm(g), x, self.K)

    def retention(self, hops: Tensor) -> Tensor:
        """Retention scores ``sigmoid(s^T H_k + b)`` ``[N, K+1]`` for a ``[N, K+1, C]`` stack."""
        return torch.sigmoid(self.proj(hops).squeeze(-1))

    def forward(self, x: Tensor, graph: GraphLike) -> Tensor:
        hops = self.hops(x, graph)  # [N, K+1, C]
        score = self.retention(hops)  # [N, K+1]
        return (score.unsqueeze(1) @ hops).squeeze(1)  # [N, 1, K+1] @ [N, K+1, C] -> [N, C]

    def extra_repr(self) -> str:
        return f"{self.in_channels}, K={self.K}"
