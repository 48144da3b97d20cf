r"""``SAGEConv``: GraphSAGE with mean aggregation and a root weight, for full graphs and sampled blocks."""

from __future__ import annotations

from typing import Union

import torch.nn.functional as F
from torch import Tensor, nn

from cuda_ext import spmm
from graphnets.conv._inputs import GraphLike, NodeFeatures, as_graph, split_features

__all__ = ["SAGEConv"]


class SAGEConv(nn.Module):
    r"""GraphSAGE layer of Hamilton, Ying, Leskovec, "Inductive Representation Learning on Large
    Graphs", NeurIPS 2017 (https://arxiv.org/abs/1706.02216), mean aggregator (Alg. 1, with the
    concatenation written as two linear maps):

    .. math::
        x'_i = W_1 x_i + W_2 \cdot \frac{1}{|N(i)|} \sum_{j \in N(i)} w_{ji}\, x_j + b,

    with :math:`w_{ji}` the edge weights (1 when unweighted) and :math:`|N(i)|` the number of
    (sampled) neighbours of :math:`i`; nodes without neighbours aggregate 0. The neighbour sum runs
    through :func:`cuda_ext.spmm`. Made for sampled blocks: on a :class:`sampling.Block`,
    :math:`x_i` is the destination's own feature (``x_dst``, or ``x_src[:num_dst]``) and
    :math:`N(i)` its sampled neighbours, so a stack of SAGE layers runs on a neighbour sampler's
    blocks (one block per layer).

    Args:
        in_channels: :math:`F`, or ``(F_src, F_dst)`` for bipartite inputs of two widths.
        out_channels: :math:`F'`.
        root_weight: add :math:`W_1 x_i` (the "self" term); ``False`` keeps only the neighbours.
        bias: learn :math:`b` (carried by :math:`W_2`, as in PyG).
        normalize: L2-normalise the output rows (the paper's line 7).

    Shapes:
        x ``[num_src, F]`` or ``(x_src [num_src, F_src], x_dst [num_dst, F_dst])``; graph a
        :class:`sampling.Graph` or :class:`sampling.Block` -> ``[num_dst, F']``.

    Differences from PyG's ``SAGEConv``: mean aggregation only; edge weights, when present, weight
    the messages (DGL's ``edge_weight``); Linear layers keep ``nn.Linear``'s initialisation.

    Example:
        >>> import torch
        >>> from sampling import Block, Graph
        >>> block = Block(Graph(torch.tensor([0, 2, 3]), torch.tensor([1, 2, 0]), num_cols=3), torch.tensor([7, 3, 9]))
        >>> conv = SAGEConv(4, 8)
        >>> conv
        SAGEConv(
          4, 8, root_weight=True, bias=True, normalize=False
          (lin_neigh): Linear(in_features=4, out_features=8, bias=True)
          (lin_root): Linear(in_features=4, out_features=8, bias=False)
        )
        >>> conv(torch.rand(3, 4), block).shape
        torch.Size([2, 8])
    """

    def __init__(
        self,
        in_channels: Union[int, tuple[int, int]],
        out_channels: int,
        *,
        root_weight: bool = True,
        bias: bool = True,
        normalize: bool = False,
    ) -> None:
        super().__init__()
        src_ch, dst_ch = (in_channels, in_channels) if isinstance(in_channels, int) else tuple(in_channels)
        for name, v in (("in_channels", src_ch), ("in_channels", dst_ch), ("out_channels", out_channels)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"SAGEConv: {name} must be a positive int or a pair of them (got {v!r})")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.root_weight = bool(root_weight)
        self.normalize = bool(normalize)
        self.lin_neigh = nn.Linear(src_ch, out_channels, bias=bias)
        self.lin_root = nn.Linear(dst_ch, out_channels, bias=False) if root_weight else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.lin_neigh.reset_parameters()
        if self.lin_root is not None:
            self.lin_root.reset_parameters()

    def forward(self, x: NodeFeatures, graph: GraphLike) -> Tensor:
        g = as_graph("SAGEConv", graph)
        src_ch = self.in_channels if isinstance(self.in_channels, int) else self.in_channels[0]
        x_src, x_dst = split_features("SAGEConv", x, g, src_ch, need_dst=self.root_weight)
        w = g.weight.to(x_src.dtype) if g.weight is not None else None
        count = (g.indptr[1:] - g.indptr[:-1]).clamp_min(1).to(x_src.dtype)  # [num_dst] neighbours per node
        mean = spmm(g, x_src, w) / count.unsqueeze(1)  # [num_dst, F]
        out = self.lin_neigh(mean)  # [num_dst, F']
        if self.lin_root is not None:
            out = out + self.lin_root(x_dst)
        return F.normalize(out, p=2.0, dim=-1) if self.normalize else out

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, root_weight={self.root_weight}, "
            f"bias={self.lin_neigh.bias is not None}, normalize={self.normalize}"
        )
