r"""Batching many small graphs into one block-diagonal :class:`~sampling.Graph`.

Graph ``k`` of a batch keeps its nodes as ``ptr[k] .. ptr[k+1]-1`` and its edges as CSR entries
``edge_ptr[k] .. edge_ptr[k+1]-1``; no edge joins two graphs, so one ``spmm`` (or one conv layer)
runs over the whole batch and each graph only sees itself. Because rows and columns are both
offset by ``ptr[k]``, the CSR of the batch is the concatenation of the graphs' CSRs: per-edge data
(bond types, spherical-harmonic coefficients, ...) is batched by concatenating it in graph order,
and per-node data likewise. This is PyG's ``Batch`` layout (``batch`` vector, ``ptr``) on a CSR.

Readouts reduce each graph's node rows with a deterministic segment sum
(:func:`sampling.segment_sum`), never an atomic scatter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import torch
from torch import Tensor

from sampling.graph import Graph
from sampling.segment import segment_mean, segment_sum

__all__ = ["GraphBatch", "batch_graphs"]

_REDUCE = ("sum", "mean")


@dataclass(frozen=True)
class GraphBatch:
    """A batch of graphs as one block-diagonal graph, with the node and edge pointers.

    Attributes:
        graph: the block-diagonal :class:`~sampling.Graph` ``[N, N]``, ``N = ptr[-1]``.
        ptr: ``[G + 1]`` int64 node offsets (graph ``k`` owns nodes ``ptr[k] .. ptr[k+1]-1``).
        edge_ptr: ``[G + 1]`` int64 offsets of each graph's entries in the CSR.
        batch: ``[N]`` int64 graph index of every node (PyG's ``batch`` vector).

    Build with :func:`batch_graphs` (from separate graphs) or :meth:`from_ptr` (from a graph whose
    nodes are already concatenated, e.g. a PyG ``Batch``).

    Example:
        >>> a = Graph.from_edge_index(torch.tensor([[0, 1], [1, 0]]), num_nodes=2)
        >>> b = Graph.from_edge_index(torch.tensor([[0], [2]]), num_nodes=3)
        >>> gb = batch_graphs([a, b])
        >>> gb.ptr.tolist(), gb.batch.tolist(), gb.graph.to_edge_index()[0].tolist()
        ([0, 2, 5], [0, 0, 1, 1, 1], [[1, 0, 2], [0, 1, 4]])
        >>> gb.pool(torch.ones(5, 1)).view(-1).tolist()
        [2.0, 3.0]
    """

    graph: Graph
    ptr: Tensor
    edge_ptr: Tensor
    batch: Tensor

    def __post_init__(self) -> None:
        fn = "GraphBatch"
        if not isinstance(self.graph, Graph):
            raise TypeError(f"{fn}: graph must be a sampling.Graph (got {type(self.graph).__name__})")
        for name in ("ptr", "edge_ptr", "batch"):
            t = getattr(self, name)
            if not isinstance(t, Tensor) or t.dtype != torch.int64 or t.dim() != 1:
                got = f"{t.dtype} tensor of shape {tuple(t.shape)}" if isinstance(t, Tensor) else type(t).__name__
                raise TypeError(f"{fn}: {name} must be a 1-D int64 tensor (got {got})")
        if self.ptr.numel() != self.edge_ptr.numel() or self.ptr.numel() == 0:
            raise ValueError(
                f"{fn}: ptr and edge_ptr must both have G + 1 >= 1 entries "
                f"(got {self.ptr.numel()} and {self.edge_ptr.numel()})"
            )
        if int(self.ptr[-1]) != self.graph.num_rows or self.batch.numel() != self.graph.num_rows:
            raise ValueError(
                f"{fn}: ptr[-1] and len(batch) must equal the number of nodes {self.graph.num_rows} "
                f"(got {int(self.ptr[-1])} and {self.batch.numel()})"
            )
        if int(self.edge_ptr[-1]) != self.graph.num_edges:
            raise ValueError(
                f"{fn}: edge_ptr[-1] must equal the number of edges {self.graph.num_edges} "
                f"(got {int(self.edge_ptr[-1])})"
            )

    @classmethod
    def from_ptr(cls, graph: Graph, ptr: Tensor) -> "GraphBatch":
        """The batch view of a block-diagonal ``graph`` whose graph ``k`` owns nodes ``ptr[k]..ptr[k+1]-1``.

        Raises:
            ValueError: ``graph`` is not square, ``ptr`` does not cover its nodes, or an edge joins
                two different graphs.
        """
        fn = "GraphBatch.from_ptr"
        if not isinstance(graph, Graph) or not graph.is_square:
            raise ValueError(f"{fn}: graph must be a square sampling.Graph (got {graph!r})")
        if not isinstance(ptr, Tensor) or ptr.dtype != torch.int64 or ptr.dim() != 1 or ptr.numel() == 0:
            raise TypeError(f"{fn}: ptr must be a non-empty 1-D int64 tensor (got {ptr!r:.60})")
        if int(ptr[0]) != 0 or int(ptr[-1]) != graph.num_rows:
            raise ValueError(
                f"{fn}: ptr must run from 0 to the number of nodes {graph.num_rows} "
                f"(got {int(ptr[0])} .. {int(ptr[-1])})"
            )
        counts = ptr[1:] - ptr[:-1]  # [G]
        batch = torch.repeat_interleave(
            torch.arange(counts.numel(), device=ptr.device), counts, output_size=graph.num_rows
        )
        if graph.num_edges and not torch.equal(batch.index_select(0, graph.row), batch.index_select(0, graph.indices)):
            raise ValueError(
                f"{fn}: an edge joins two different graphs (got a graph that is not block-diagonal under ptr)"
            )
        edge_ptr = graph.indptr.index_select(0, ptr)  # [G + 1]: CSR position of each graph's first row
        return cls(graph, ptr, edge_ptr, batch)

    @property
    def num_graphs(self) -> int:
        return self.ptr.numel() - 1

    @property
    def num_nodes(self) -> int:
        return self.graph.num_rows

    def pool(self, x: Tensor, reduce: str = "sum") -> Tensor:
        """Per-graph readout ``[N, F] -> [G, F]`` (``"sum"`` or ``"mean"``), a deterministic segment reduction."""
        if reduce not in _REDUCE:
            raise ValueError(f"GraphBatch.pool: reduce must be one of {_REDUCE} (got {reduce!r})")
        if not isinstance(x, Tensor) or x.shape[:1] != (self.num_nodes,):
            got = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(f"GraphBatch.pool: x must have one row per node [{self.num_nodes}, ...] (got {got})")
        return segment_sum(x, self.ptr) if reduce == "sum" else segment_mean(x, self.ptr)

    def to(self, device: Any) -> "GraphBatch":
        return GraphBatch(self.graph.to(device), self.ptr.to(device), self.edge_ptr.to(device), self.batch.to(device))

    def __repr__(self) -> str:
        return (
            f"GraphBatch(num_graphs={self.num_graphs}, num_nodes={self.num_nodes}, "
            f"num_edges={self.graph.num_edges}, device={self.graph.device})"
        )


def batch_graphs(graphs: Sequence[Graph]) -> GraphBatch:
    """Stack square graphs into one block-diagonal :class:`GraphBatch` (weights kept when all have them).

    Raises:
        ValueError: an empty sequence, a rectangular graph, graphs on different devices, or a mix of
            weighted and unweighted graphs.
        TypeError: an element is not a :class:`~sampling.Graph`.
    """
    fn = "batch_graphs"
    if len(graphs) == 0:
        raise ValueError(f"{fn}: need at least one graph (got an empty sequence)")
    for k, g in enumerate(graphs):
        if not isinstance(g, Graph):
            raise TypeError(f"{fn}: graph {k} must be a sampling.Graph (got {type(g).__name__})")
        if not g.is_square:
            raise ValueError(f"{fn}: graph {k} must be square (got shape {g.shape})")
    devices = {g.device for g in graphs}
    if len(devices) != 1:
        raise ValueError(f"{fn}: all graphs must be on one device (got {sorted(map(str, devices))})")
    weighted = {g.weight is not None for g in graphs}
    if len(weighted) != 1:
        raise ValueError(f"{fn}: either every graph or none must be weighted (got a mix)")
    device = graphs[0].device
    nodes = torch.tensor([0] + [g.num_rows for g in graphs], device=device).cumsum(0)  # [G + 1]
    edges = torch.tensor([0] + [g.num_edges for g in graphs], device=device).cumsum(0)  # [G + 1]
    indptr = torch.cat([graphs[0].indptr[:1]] + [g.indptr[1:] + e for g, e in zip(graphs, edges.tolist())])
    indices = torch.cat([g.indices + n for g, n in zip(graphs, nodes.tolist())])
    weight = torch.cat([g.weight for g in graphs]) if graphs[0].weight is not None else None
    n = int(nodes[-1])
    graph = Graph(indptr, indices, weight, n, validate=False)
    counts = nodes[1:] - nodes[:-1]
    batch = torch.repeat_interleave(torch.arange(len(graphs), device=device), counts, output_size=n)
    return GraphBatch(graph, nodes, edges, batch)
