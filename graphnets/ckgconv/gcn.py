r"""GCN aggregation for the same-depth/width baseline: :math:`\hat A x`, no weights.

Kipf & Welling, ICLR 2017: :math:`\hat A = \tilde D^{-1/2}(A + I)\tilde D^{-1/2}`. The weight
matrix of a GCN layer is the block's output Linear, so ``PostNormBlock(GCNAggregation(), d)`` is
a GCN layer inside exactly the block CKGConv uses. Aggregation runs through
:func:`cuda_ext.spmm` on a :class:`sampling.Graph` built per batch.

Shapes: x ``[N, d]``, edge_index ``[2, E]`` (PyG: row 0 source, row 1 target) -> ``[N, d]``.
"""
from __future__ import annotations

from torch import Tensor, nn

from cuda_ext import spmm
from sampling import Graph

__all__ = ["GCNAggregation"]


class GCNAggregation(nn.Module):
    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        if x.dim() != 2:
            raise ValueError(f"GCNAggregation: x must be [N, d] (got {tuple(x.shape)})")
        g = Graph.from_edge_index(edge_index, num_nodes=x.shape[0]).add_self_loops().normalize("sym")
        return spmm(g.to(x.device), x, g.weight.to(x.dtype))  # [N, d]
