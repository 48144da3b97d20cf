r"""``Block``: one sampled message-flow graph (MFG), the unit every conv layer accepts besides a
:class:`~sampling.Graph`.

A block connects ``num_src`` source nodes to ``num_dst`` destination nodes of one layer of a
sampled computation. As in PyG (``NeighborLoader``'s ``n_id`` with the seeds first) and DGL
(``to_block``), the destination nodes come first among the source nodes, so a layer reads its
destination features as ``x_src[:num_dst]`` without a second gather. The CSR runs from
destinations (rows) to sources (columns) in *local* ids: row ``i`` lists the positions in
``src_nodes`` whose messages destination ``i`` aggregates, so ``cuda_ext.spmm(block.graph,
x_src)`` is the layer's sum aggregation.

Shapes:
    ``src_nodes`` ``[num_src]`` int64 global node ids (``src_nodes[:num_dst]`` are the
    destinations); ``graph`` a :class:`~sampling.Graph` of shape ``(num_dst, num_src)``;
    ``edge_ids`` optional ``[num_edges]`` int64 global edge ids in the CSR's order (for edge
    features), ``None`` when the sampler does not track them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import torch
from torch import Tensor

from sampling.graph import Graph

__all__ = ["Block"]


@dataclass(frozen=True)
class Block:
    """One message-flow graph: ``graph`` from ``num_dst`` destinations to ``src_nodes``.

    Args:
        graph: CSR of shape ``(num_dst, num_src)`` in local ids (row = destination,
            column = position in ``src_nodes``).
        src_nodes: ``[num_src]`` int64 global ids of the source nodes, destinations first.
        edge_ids: optional ``[num_edges]`` int64 global edge ids of the CSR entries.

    Raises:
        TypeError: ``graph`` is not a :class:`~sampling.Graph` or ``src_nodes`` not an int64
            tensor.
        ValueError: the sizes disagree (``graph.num_cols != len(src_nodes)``, more destinations
            than sources, or ``edge_ids`` not one id per edge).

    Example:
        >>> g = Graph(torch.tensor([0, 2, 3]), torch.tensor([1, 2, 0]), num_cols=3)
        >>> b = Block(g, torch.tensor([7, 3, 9]))
        >>> b.num_dst, b.num_src, b.dst_nodes.tolist()
        (2, 3, [7, 3])
    """

    graph: Graph
    src_nodes: Tensor
    edge_ids: Optional[Tensor] = None

    def __post_init__(self) -> None:
        if not isinstance(self.graph, Graph):
            raise TypeError(f"Block: graph must be a sampling.Graph (got {type(self.graph).__name__})")
        if not isinstance(self.src_nodes, Tensor) or self.src_nodes.dtype != torch.int64 or self.src_nodes.dim() != 1:
            got = (
                f"{self.src_nodes.dtype} tensor of shape {tuple(self.src_nodes.shape)}"
                if isinstance(self.src_nodes, Tensor)
                else type(self.src_nodes).__name__
            )
            raise TypeError(f"Block: src_nodes must be a 1-D int64 tensor (got {got})")
        if self.graph.num_cols != self.src_nodes.numel():
            raise ValueError(
                f"Block: graph has {self.graph.num_cols} columns but src_nodes has "
                f"{self.src_nodes.numel()} entries (got mismatched sizes)"
            )
        if self.graph.num_rows > self.graph.num_cols:
            raise ValueError(
                f"Block: destinations must be the first sources, so num_dst <= num_src "
                f"(got {self.graph.num_rows} > {self.graph.num_cols})"
            )
        if self.edge_ids is not None and self.edge_ids.shape != (self.graph.num_edges,):
            raise ValueError(
                f"Block: edge_ids must have shape [{self.graph.num_edges}] (got {tuple(self.edge_ids.shape)})"
            )

    @property
    def num_dst(self) -> int:
        """Number of destination nodes (rows)."""
        return self.graph.num_rows

    @property
    def num_src(self) -> int:
        """Number of source nodes (columns), destinations included."""
        return self.graph.num_cols

    @property
    def num_edges(self) -> int:
        """Number of sampled edges."""
        return self.graph.num_edges

    @property
    def dst_nodes(self) -> Tensor:
        """``[num_dst]`` global ids of the destinations (a view of ``src_nodes``)."""
        return self.src_nodes[: self.num_dst]

    @property
    def device(self) -> torch.device:
        return self.graph.device

    def to(self, device: Any) -> "Block":
        """The same block with every tensor on ``device``."""
        edge_ids = None if self.edge_ids is None else self.edge_ids.to(device)
        return Block(self.graph.to(device), self.src_nodes.to(device), edge_ids)

    def __repr__(self) -> str:
        return (
            f"Block(num_dst={self.num_dst}, num_src={self.num_src}, num_edges={self.num_edges}, device={self.device})"
        )
