r"""Graph chunks as pipeline micro-batches (GNNPipe, Chen, Chen & Qian, arXiv 2308.10087).

A full-graph GNN of ``L`` layers is trained in a pipeline by cutting the *nodes* into chunks: the
micro-batch of chunk ``c`` carries the rows of its nodes from stage to stage. Layer ``l`` of chunk
``c`` needs the layer-``l`` inputs of the chunk's in-neighbours, some of them in other chunks.
:class:`GraphChunks` prepares, per chunk and layer, the :class:`~sampling.Block` that layer
aggregates over (destinations first, as every graphspike conv layer reads a block), in one of
two modes:

* **historical** (GNNPipe): the micro-batch keeps the chunk's rows at every layer; the block's
  sources are the chunk followed by its *halo* (out-of-chunk in-neighbours), whose rows a stage
  reads from its historical-embedding table (:class:`~sampling.pipeline.GraphStage`). Stale
  values stand in for halo nodes whose chunk has not passed this stage yet in the current step;
  the gradient of halo rows reaches their owners one step late (``halo_grad``) or not at all.
* **exact**: the micro-batch of chunk ``c`` carries, at the input of layer ``l``, every node its
  output depends on (the ``L - l``-hop in-neighbourhood, destinations first), so nothing is stale
  or cut and the gradients equal the full-graph ones. It costs up to ``chunks`` times the
  full-graph compute on deep models (the receptive field becomes the whole graph): a mode for
  checking, and with one chunk of all nodes, the exact full-graph forward used to evaluate and to
  refresh the historical tables.

Micro-batches must have one shape per stage boundary, so rows are padded with zeros to the
largest chunk (:meth:`GraphChunks.padded`); stages cut the padding off on entry.

Differences from the paper (whose code is not public; only its abstract was available): chunk
order is fixed (0, 1, ...) within a step, the staleness bound is one step (tables are refreshed
as chunks pass, plus optional exact refreshes), and halo gradients are one step stale (PipeGCN's
rule for boundary nodes) or dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from sampling.block import Block
from sampling.graph import Graph

__all__ = ["PARTITIONS", "GraphChunks", "partition_nodes"]

PARTITIONS = ("contiguous", "random", "metis")


def partition_nodes(
    num_nodes: int,
    num_parts: int,
    *,
    method: str = "contiguous",
    generator: torch.Generator | None = None,
    graph: Graph | None = None,
) -> list[Tensor]:
    """Cut ``0 .. num_nodes-1`` into ``num_parts`` chunks.

    Args:
        method: ``"contiguous"`` (id ranges) or ``"random"`` (a seeded random permutation), sizes
            differing by at most one; or ``"metis"``: METIS k-way partition of ``graph`` (Karypis &
            Kumar 1998, through ``pymetis``, ``pip install pymetis``) that keeps few edges between
            chunks (what GNNPipe's chunks want: fewer stale halo rows), sizes balanced within
            METIS's 3 % default, seeded from ``generator``.
        generator: the ``torch.Generator`` for ``"random"`` (required) and ``"metis"`` (optional).
        graph: the square graph to partition (``"metis"`` only; edge directions and weights are
            ignored).

    Returns:
        ``num_parts`` sorted 1-D int64 tensors, disjoint, covering every node.

    Raises:
        ImportError: ``"metis"`` without ``pymetis`` installed.

    Example:
        >>> [p.tolist() for p in partition_nodes(5, 2)]
        [[0, 1, 2], [3, 4]]
    """
    fn = "partition_nodes"
    for name, v in (("num_nodes", num_nodes), ("num_parts", num_parts)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{fn}: {name} must be a positive int (got {v!r})")
    if num_parts > num_nodes:
        raise ValueError(f"{fn}: every part needs a node, so num_parts <= num_nodes={num_nodes} (got {num_parts})")
    if method not in PARTITIONS:
        raise ValueError(f"{fn}: method must be one of {PARTITIONS} (got {method!r})")
    if method == "contiguous":
        return [p.clone() for p in torch.arange(num_nodes).tensor_split(num_parts)]
    if method == "metis":
        return _metis(num_nodes, num_parts, graph, generator)
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"{fn}: method='random' needs a torch.Generator (got {type(generator).__name__})")
    perm = torch.randperm(num_nodes, generator=generator)
    return [p.sort().values for p in perm.tensor_split(num_parts)]


def _metis(num_nodes: int, num_parts: int, graph: Graph | None, generator: torch.Generator | None) -> list[Tensor]:
    fn = "partition_nodes"
    if not isinstance(graph, Graph) or not graph.is_square or graph.num_nodes != num_nodes:
        got = f"shape {graph.shape}" if isinstance(graph, Graph) else type(graph).__name__
        raise ValueError(
            f"{fn}: method='metis' needs graph=, a square sampling.Graph over {num_nodes} nodes (got {got})"
        )
    try:
        import pymetis
    except ImportError as err:
        raise ImportError(f"{fn}: method='metis' needs pymetis (pip install pymetis)") from err
    if num_parts == 1:
        return [torch.arange(num_nodes)]
    row, col = graph.row.cpu(), graph.indices.cpu()
    keep = row != col
    a, b = torch.cat([row[keep], col[keep]]), torch.cat([col[keep], row[keep]])  # symmetric, no loops
    key = torch.unique(a * num_nodes + b)  # sorted by (a, b): a CSR once counted
    a, b = key // num_nodes, key % num_nodes
    xadj = torch.zeros(num_nodes + 1, dtype=torch.int64)
    xadj[1:] = torch.bincount(a, minlength=num_nodes).cumsum(0)
    seed = 0 if generator is None else int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
    adjacency = pymetis.CSRAdjacency(adj_starts=xadj.numpy(), adjacent=b.numpy())
    _, member = pymetis.part_graph(num_parts, adjacency, options=pymetis.Options(seed=seed))
    member = torch.as_tensor(member, dtype=torch.int64)
    parts = [torch.nonzero(member == i).flatten() for i in range(num_parts)]
    if any(p.numel() == 0 for p in parts):
        raise ValueError(
            f"{fn}: METIS left a part empty (num_parts={num_parts} for {num_nodes} nodes); use fewer parts"
        )
    return parts


def _block(graph: Graph, dst: Tensor, mark: Tensor) -> Block:
    """Block from the rows ``dst`` of ``graph`` to ``dst`` followed by its out-of-set in-neighbours."""
    sub = graph.select_rows(dst)  # [|dst|, N], global column ids
    cols = sub.indices
    mark[dst] = torch.arange(dst.numel(), device=dst.device)
    extra = torch.unique(cols[mark.index_select(0, cols) < 0])  # sorted halo
    mark[extra] = dst.numel() + torch.arange(extra.numel(), device=dst.device)
    local = mark.index_select(0, cols)
    src = torch.cat([dst, extra])
    mark[src] = -1  # leave the scratch map clean for the next block
    return Block(Graph(sub.indptr, local, sub.weight, num_cols=src.numel(), validate=False), src)


class GraphChunks:
    """Per-chunk, per-layer micro-batch structure of a full-graph pipeline (see the module doc).

    Args:
        graph: the square graph the layers aggregate over, already normalised (its weights are
            used as they are, e.g. GCN's :math:`\\hat A`).
        parts: the chunks, 1-D int64 node-id tensors, pairwise disjoint (a replica may hold a
            subset of all chunks).
        propagates: for each layer of the model, whether it aggregates over the graph
            (``False`` for row-wise layers, :class:`~sampling.pipeline.NodeWise`).
        exact: exact receptive-field micro-batches instead of historical ones.

    Raises:
        TypeError / ValueError: a non-square graph, parts that are not disjoint int64 node ids.

    Level ``l`` (``0 <= l <= L``) is the input of layer ``l`` (level ``L``: the model's output).
    """

    def __init__(
        self, graph: Graph, parts: Sequence[Tensor], propagates: Sequence[bool], *, exact: bool = False
    ) -> None:
        fn = "GraphChunks"
        if not isinstance(graph, Graph):
            raise TypeError(f"{fn}: graph must be a sampling.Graph (got {type(graph).__name__})")
        if not graph.is_square:
            raise ValueError(f"{fn}: needs a square graph (got shape {graph.shape})")
        parts = list(parts)
        if not parts:
            raise ValueError(f"{fn}: parts must hold at least one chunk (got none)")
        n = graph.num_nodes
        seen = torch.zeros(n, dtype=torch.bool, device=graph.device)
        for i, p in enumerate(parts):
            if not isinstance(p, Tensor) or p.dtype != torch.int64 or p.dim() != 1 or p.numel() == 0:
                got = f"{p.dtype} tensor of shape {tuple(p.shape)}" if isinstance(p, Tensor) else type(p).__name__
                raise TypeError(f"{fn}: part {i} must be a non-empty 1-D int64 tensor (got {got})")
            if int(p.min()) < 0 or int(p.max()) >= n:
                raise ValueError(f"{fn}: part {i} has node ids outside [0, {n})")
            p = p.to(graph.device)
            if bool(seen[p].any()) or p.unique().numel() != p.numel():
                raise ValueError(f"{fn}: parts must be disjoint (part {i} repeats a node)")
            seen[p] = True
        self.propagates = [bool(v) for v in propagates]
        if not self.propagates:
            raise ValueError(f"{fn}: propagates must list at least one layer (got none)")
        self.graph = graph
        self.exact = bool(exact)
        self.parts = [p.to(graph.device) for p in parts]
        L = len(self.propagates)
        mark = torch.full((n,), -1, dtype=torch.int64, device=graph.device)
        self._rows: list[list[Tensor]] = []
        self._blocks: list[list[Block | None]] = []
        for p in self.parts:
            rows: list[Tensor | None] = [None] * (L + 1)
            blocks: list[Block | None] = [None] * L
            rows[L] = p
            shared = None if self.exact or not any(self.propagates) else _block(graph, p, mark)
            for l in range(L - 1, -1, -1):
                if not self.propagates[l]:
                    rows[l] = rows[l + 1]
                elif self.exact:
                    blocks[l] = _block(graph, rows[l + 1], mark)
                    rows[l] = blocks[l].src_nodes
                else:
                    blocks[l] = shared
                    rows[l] = p
            self._rows.append(rows)
            self._blocks.append(blocks)
        self._padded = [max(int(r[l].numel()) for r in self._rows) for l in range(L + 1)]

    # --- structure ----------------------------------------------------------------------------------
    @property
    def num_chunks(self) -> int:
        return len(self.parts)

    @property
    def num_layers(self) -> int:
        return len(self.propagates)

    @property
    def num_nodes(self) -> int:
        return self.graph.num_nodes

    @property
    def device(self) -> torch.device:
        return self.graph.device

    def rows(self, chunk: int, level: int) -> Tensor:
        """Global ids of the rows micro-batch ``chunk`` carries at ``level`` (unpadded)."""
        return self._rows[chunk][level]

    def num_rows(self, chunk: int, level: int) -> int:
        return int(self._rows[chunk][level].numel())

    def padded(self, level: int) -> int:
        """Rows of every micro-batch at ``level`` (the largest chunk's count)."""
        return self._padded[level]

    def block(self, chunk: int, layer: int) -> Block:
        """The block layer ``layer`` of ``chunk`` aggregates over (destinations = ``rows(chunk, layer + 1)``)."""
        b = self._blocks[chunk][layer]
        if b is None:
            raise ValueError(f"GraphChunks.block: layer {layer} does not propagate (a NodeWise layer has no block)")
        return b

    def halo(self, chunk: int) -> Tensor:
        """Historical mode: the out-of-chunk in-neighbours of ``chunk`` (rows read from the tables)."""
        if self.exact:
            raise ValueError("GraphChunks.halo: an exact plan has no halo (its micro-batches carry every source)")
        for b in self._blocks[chunk]:
            if b is not None:
                return b.src_nodes[b.num_dst :]
        return self.parts[chunk][:0]

    def cut_edges(self) -> int:
        """Edges whose endpoints lie in different chunks (nodes outside every chunk count as another chunk)."""
        owner = torch.full((self.num_nodes,), -1, dtype=torch.int64, device=self.device)
        for i, p in enumerate(self.parts):
            owner[p] = i
        return int((owner[self.graph.row] != owner[self.graph.indices]).sum())

    # --- micro-batches ------------------------------------------------------------------------------
    def gather(self, t: Tensor, level: int | None = None) -> list[Tensor]:
        """Rows of a per-node tensor ``t [N, ...]`` for every chunk at ``level`` (default: the output),
        zero-padded to :meth:`padded` rows."""
        level = self.num_layers if level is None else level
        if not isinstance(t, Tensor) or t.dim() < 1 or t.shape[0] != self.num_nodes:
            got = f"shape {tuple(t.shape)}" if isinstance(t, Tensor) else type(t).__name__
            raise ValueError(
                f"GraphChunks.gather: expected a tensor with one row per node ({self.num_nodes}) (got {got})"
            )
        out = []
        for c in range(self.num_chunks):
            rows = t.index_select(0, self._rows[c][level].to(t.device))
            pad = self._padded[level] - rows.shape[0]
            if pad:
                rows = torch.cat([rows, rows.new_zeros((pad, *rows.shape[1:]))])
            out.append(rows)
        return out

    def inputs(self, x: Tensor) -> list[tuple[Tensor]]:
        """The first stage's micro-batches: ``x``'s rows at level 0, one ``(x_c,)`` per chunk."""
        return [(r,) for r in self.gather(x, 0)]

    def to(self, device: Any) -> GraphChunks:
        """The same plan with every tensor on ``device``."""
        device = torch.device(device)
        if device == self.device:
            return self
        out = object.__new__(GraphChunks)
        out.propagates, out.exact, out._padded = self.propagates, self.exact, self._padded
        out.graph = self.graph.to(device)
        out.parts = [p.to(device) for p in self.parts]
        out._rows = [[r.to(device) for r in rows] for rows in self._rows]
        cache: dict[int, Block] = {}
        out._blocks = [
            [None if b is None else cache.setdefault(id(b), b.to(device)) for b in blocks] for blocks in self._blocks
        ]
        return out

    def __repr__(self) -> str:
        return (
            f"GraphChunks(num_chunks={self.num_chunks}, num_layers={self.num_layers}, "
            f"mode={'exact' if self.exact else 'historical'}, padded_rows={self._padded[0]}->{self._padded[-1]})"
        )
