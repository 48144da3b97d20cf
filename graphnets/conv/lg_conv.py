r"""``LGConv``: LightGCN's propagation, a GCN layer without weights, bias, self loops or non-linearity."""

from __future__ import annotations

from typing import Optional

from torch import Tensor, nn

from cuda_ext import spmm
from graphnets.conv._inputs import GraphLike, NodeFeatures, as_graph, split_features
from graphnets.conv.gcn_conv import gcn_norm

__all__ = ["LGConv"]


class LGConv(nn.Module):
    r"""The light graph convolution of He et al., "LightGCN: Simplifying and Powering Graph
    Convolution Network for Recommendation", SIGIR 2020 (https://arxiv.org/abs/2002.02126), Eq. 3:

    .. math::
        e'_i = \sum_{j \in N(i)} \frac{1}{\sqrt{|N(i)|}\sqrt{|N(j)|}}\, e_j
        \quad\text{i.e.}\quad E' = D^{-1/2} A D^{-1/2} E,

    no feature transformation, no self loop, no non-linearity. LightGCN sums the layer outputs
    (:class:`graphnets.recsys.LightGCN`). Aggregation runs through :func:`cuda_ext.spmm`.

    Args:
        normalize: scale edge ``j -> i`` by :math:`d_i^{-1/2} d_j^{-1/2}` (row degree of ``i``,
            column degree of ``j``: :func:`gcn_norm` with ``add_self_loops=False,
            degree="both"``, memoised on the graph). ``False`` (what LightGCN uses) aggregates
            with the graph's own weights, e.g. a user-item graph normalised once by
            ``InteractionData.bipartite_graph()``, or a sampled block whose weights were taken
            from the normalised full graph.

    Shapes:
        x ``[num_src, F]`` or ``(x_src, x_dst)`` (``x_dst`` not read); graph a
        :class:`sampling.Graph` (square, bipartite or any rectangular ``num_dst x num_src``) or
        :class:`sampling.Block` -> ``[num_dst, F]``.

    Differences from PyG's ``LGConv``: the normalisation uses row and column degrees (equal on the
    symmetric user-item graph; the only definition on a rectangular graph); it is memoised on the
    graph.

    Example:
        >>> import torch
        >>> from sampling import Graph
        >>> g = Graph.bipartite(torch.tensor([0, 0, 1]), torch.tensor([0, 1, 1]), 2, 2)
        >>> conv = LGConv()
        >>> conv
        LGConv(normalize=True)
        >>> conv(torch.ones(4, 3), g)[:, 0]
        tensor([1.2071, 0.7071, 0.7071, 1.2071])
    """

    def __init__(self, normalize: bool = True) -> None:
        super().__init__()
        self.normalize = bool(normalize)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """No parameters: present for the common layer interface."""

    def forward(self, x: NodeFeatures, graph: GraphLike, edge_weight: Optional[Tensor] = None) -> Tensor:
        g = as_graph("LGConv", graph)
        x_src, _ = split_features("LGConv", x, g)
        if edge_weight is not None:
            g = g.with_weight(edge_weight)
        if self.normalize:
            g = gcn_norm(g, add_self_loops=False, degree="both")
        w = g.weight.to(x_src.dtype) if g.weight is not None else None
        return spmm(g, x_src, w)  # [num_dst, F]

    def extra_repr(self) -> str:
        return f"normalize={self.normalize}"
