r"""``NeighborSampler``: per-layer fan-out neighbour sampling into message-flow blocks (GraphSAGE).

Hamilton, Ying & Leskovec, "Inductive Representation Learning on Large Graphs", NeurIPS 2017,
Algorithm 2: to compute the outputs of an :math:`L`-layer GNN at a batch of seed nodes
:math:`\mathcal{B}^{(L)}`, draw for every node :math:`v \in \mathcal{B}^{(l)}` a set
:math:`\mathcal{S}^{(l)}(v) \subseteq \mathcal{N}(v)` of :math:`k_l` in-neighbours and let
:math:`\mathcal{B}^{(l-1)} = \mathcal{B}^{(l)} \cup \bigcup_v \mathcal{S}^{(l)}(v)`. Layer :math:`l`
then only needs :math:`h^{(l-1)}` on :math:`\mathcal{B}^{(l-1)}`.

Sampling, per destination :math:`v` of in-degree :math:`d` and fan-out :math:`k`:

* ``k = -1`` or :math:`d \le k` (without replacement): every in-neighbour;
* without replacement, :math:`d > k`: a uniform :math:`k`-subset by Floyd's algorithm (Bentley &
  Floyd, CACM 1987), vectorised over all such destinations -- :math:`k` steps, each one random
  draw per destination, so the cost is :math:`O(k^2)` per destination however large :math:`d`
  (power-law hubs cost no more than leaves). Each neighbour is drawn with probability
  :math:`k/d`;
* with replacement: :math:`k` independent uniform draws (destinations with :math:`d = 0` get none).

Chosen positions are sorted within each destination's row, so a destination's sampled edges keep
the graph's CSR order. Every random number comes from the ``torch.Generator`` passed in.

Output: ``blocks[l]`` (:class:`sampling.Block`) is the message-flow graph of GNN layer ``l``,
input layer first: ``blocks[0].src_nodes`` are the nodes whose input features are needed and
``blocks[-1].dst_nodes`` are the seeds. Node sets are nested prefixes of one list (seeds, then
nodes new at hop 1, ...), so ``blocks[l].dst_nodes == blocks[l + 1].src_nodes``. As in DGL's
``MultiLayerNeighborSampler``, each block samples afresh for *all* its destinations.

Fan-outs follow PyG's ``num_neighbors``: ``fanouts[0]`` is the first hop from the seeds, which
is the *last* layer (``blocks[-1]``); DGL lists them input layer first.

Relabelling global to local ids is vectorised with one ``num_nodes``-long scratch array per
thread and device (8 bytes per node: the local id, or -1), reset after each batch, so a batch
costs :math:`O(\text{sampled edges})`, never :math:`O(N)`. Sampling runs where the structure lives:
on the CPU, on the GPU (``device="cuda"``: ``structure="cuda"`` copies ``indptr``/``indices``
to GPU memory; ``structure="pinned"`` page-locks them in place and reads them zero-copy through
:func:`cuda_ext.gather_rows`, DGL's UVA sampling).

The class is also a torch_geometric sampler (``sample_from_nodes`` / ``sample_from_edges`` /
``edge_permutation``; registered as a virtual subclass of ``BaseSampler`` when
:mod:`sampling.pyg` is imported), so ``NodeLoader(data, node_sampler=NeighborSampler(data,
[10, 5]), ...)`` runs without pyg-lib or torch-sparse. That path follows PyG's semantics: one
subgraph in which each node's neighbourhood is sampled once (hop ``h`` expands only the nodes
new at hop ``h - 1``), edges ``(row, col)`` = (local source, local destination), grouped by
destination.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, Optional

import torch
from torch import Tensor

from sampling.block import Block
from sampling.graph import Graph

__all__ = ["NeighborSampler"]

_STRUCTURES = ("cuda", "pinned")


def _describe(x: Any) -> str:
    if isinstance(x, Tensor):
        return f"{x.dtype} tensor of shape {tuple(x.shape)}"
    return f"{type(x).__name__} {x!r}" if isinstance(x, (int, float, str)) else type(x).__name__


def _graph_from_pyg(data: Any, fn: str) -> tuple[Graph, Tensor]:
    """CSR of a PyG ``Data`` (row = target) and the permutation CSR position -> ``edge_index`` column."""
    edge_index = getattr(data, "edge_index", None)
    if not isinstance(edge_index, Tensor) or edge_index.dim() != 2 or edge_index.shape[0] != 2:
        raise TypeError(
            f"{fn}: a PyG graph must carry edge_index [2, E] (got {_describe(edge_index)}); "
            "SparseTensor adj_t and heterogeneous graphs are not supported"
        )
    n = int(data.num_nodes)
    src, dst = edge_index[0].long(), edge_index[1].long()
    if src.numel() and (int(edge_index.min()) < 0 or int(edge_index.max()) >= n):
        raise ValueError(
            f"{fn}: edge_index ids must lie in [0, {n}) (got range [{int(edge_index.min())}, {int(edge_index.max())}])"
        )
    perm = torch.argsort(dst * max(n, 1) + src, stable=True)
    indptr = torch.zeros(n + 1, dtype=torch.int64, device=src.device)
    torch.cumsum(torch.bincount(dst, minlength=n), 0, out=indptr[1:])
    return Graph(indptr, src.index_select(0, perm), num_cols=n, validate=False), perm


class _Scratch:
    """Per-thread, per-device relabelling array ``local[v]``: local id of node ``v``, -1 when absent."""

    def __init__(self) -> None:
        self._tls = threading.local()

    def get(self, num_nodes: int, device: torch.device) -> Tensor:
        store = getattr(self._tls, "arrays", None)
        if store is None:
            store = self._tls.arrays = {}
        key = str(device)
        if key not in store or store[key].numel() != num_nodes:
            store[key] = torch.full((num_nodes,), -1, dtype=torch.int64, device=device)
        return store[key]


class NeighborSampler:
    r"""Samples per-layer fan-outs around seed nodes into a list of :class:`sampling.Block`.

    Args:
        graph: a :class:`sampling.Graph` (row ``i`` lists the in-neighbours aggregated into ``i``;
            square), a torch_geometric ``Data`` with ``edge_index`` (``edge_index[0]`` source), or
            a ``(feature_store, PyGGraphStore)`` pair.
        fanouts: per-hop fan-outs, PyG order (``fanouts[0]`` = first hop from the seeds = last
            GNN layer); each ``>= 1`` or ``-1`` for all neighbours.
        replace: draw with replacement (default ``False``).
        device: where sampling runs; defaults to the graph's device. A CUDA device with a CPU
            graph copies the structure to the GPU (``structure="cuda"``) or pins it in place and
            reads it zero-copy (``structure="pinned"``).
        structure: ``"cuda"`` (default) or ``"pinned"``, used when ``device`` is CUDA and the
            graph is on the CPU.
        generator: default ``torch.Generator`` for calls that pass none (PyG's loaders); ``None``
            uses torch's default generator of the sampling device.

    Attributes:
        fanouts (tuple[int, ...]), replace, device, structure, generator: as given (resolved).
        graph: the CSR sampled from (on the sampling device unless ``structure="pinned"``).
        num_nodes: number of nodes.

    Shapes:
        ``sample_blocks(seeds [B]) -> list of len(fanouts) Blocks``; ``blocks[-1].num_dst == B``.

    Raises:
        TypeError: a graph of the wrong type, fan-outs that are not ints, seeds not int64/int32.
        ValueError: a fan-out of 0 or below -1, a non-square graph, seeds out of range or repeated.

    Example:
        >>> g = Graph.from_edge_index(torch.tensor([[1, 2, 0, 0], [0, 0, 1, 2]]), num_nodes=3)
        >>> blocks = NeighborSampler(g, [1]).sample_blocks(torch.tensor([0]), torch.Generator().manual_seed(0))
        >>> blocks[0].num_dst, blocks[0].num_edges
        (1, 1)
    """

    def __init__(
        self,
        graph: Any,
        fanouts: Sequence[int],
        *,
        replace: bool = False,
        device: Any = None,
        structure: str = "cuda",
        generator: Optional[torch.Generator] = None,
    ) -> None:
        fn = "NeighborSampler"
        perm = None
        if isinstance(graph, tuple) and len(graph) == 2 and isinstance(getattr(graph[1], "graph", None), Graph):
            graph = graph[1].graph  # PyG remote backend: (PyGFeatureStore, PyGGraphStore)
        if isinstance(graph, Graph):
            pass
        elif hasattr(graph, "edge_index") and hasattr(graph, "num_nodes"):
            graph, perm = _graph_from_pyg(graph, fn)
        else:
            raise TypeError(f"{fn}: graph must be a sampling.Graph or a torch_geometric Data (got {_describe(graph)})")
        if not graph.is_square:
            raise ValueError(
                f"{fn}: needs a square graph, one node set (got shape {graph.shape}); build "
                "user-item graphs with Graph.bipartite"
            )
        if isinstance(fanouts, (str, bytes)) or not isinstance(fanouts, Sequence) or len(fanouts) == 0:
            raise TypeError(f"{fn}: fanouts must be a non-empty sequence of ints (got {_describe(fanouts)})")
        for k in fanouts:
            if isinstance(k, bool) or not isinstance(k, int):
                raise TypeError(f"{fn}: fanouts must be ints (got {_describe(k)})")
            if k == 0 or k < -1:
                raise ValueError(f"{fn}: each fan-out must be >= 1, or -1 for all neighbours (got {k})")
        if not isinstance(replace, bool):
            raise TypeError(f"{fn}: replace must be a bool (got {_describe(replace)})")
        if structure not in _STRUCTURES:
            raise ValueError(f"{fn}: structure must be one of {_STRUCTURES} (got {structure!r})")
        self.fanouts = tuple(int(k) for k in fanouts)
        self.replace = replace
        self.structure = structure
        self.generator = generator
        self.device = torch.device(device) if device is not None else graph.device
        if self.device.type == "cuda" and self.device.index is None:
            self.device = torch.device("cuda", torch.cuda.current_device())
        self._region = None
        if graph.device != self.device:
            if graph.device.type == "cpu" and self.device.type == "cuda" and structure == "pinned":
                from sampling.pinned import PinnedRegion

                graph = Graph(
                    graph.indptr.contiguous(), graph.indices.contiguous(), num_cols=graph.num_cols, validate=False
                )
                self._region = (PinnedRegion(graph.indptr), PinnedRegion(graph.indices))
            else:
                graph = graph.to(self.device)
        self.graph = graph
        self.num_nodes = graph.num_rows
        self._perm = perm
        self._scratch = _Scratch()

    # --- reads of the structure (zero-copy when pinned) ---------------------------------------
    def _take(self, t: Tensor, idx: Tensor) -> Tensor:
        if t.device == idx.device:
            return t.index_select(0, idx)
        import cuda_ext

        return cuda_ext.gather_rows(t.view(-1, 1), idx).view(-1)  # [M] from a pinned [N, 1] view

    # --- one hop ------------------------------------------------------------------------------
    def _sample_hop(self, dst: Tensor, fanout: int, gen: Optional[torch.Generator]) -> tuple[Tensor, Tensor]:
        """Sampled edges of the destinations ``dst`` [D]: ``(counts [D], edge ids [E'])``, grouped by
        destination in ``dst`` order, CSR order within a destination."""
        indptr = self.graph.indptr
        start = self._take(indptr, dst)
        deg = self._take(indptr, dst + 1) - start  # [D]
        if fanout == -1 or (not self.replace and bool((deg <= fanout).all())):
            return deg, self._all_edges(start, deg)
        dev = dst.device
        k = fanout
        if self.replace:
            pos = (
                torch.rand((dst.numel(), k), generator=gen, dtype=torch.float64, device=dev) * deg.unsqueeze(1)
            ).long()  # [D, k] uniform in [0, deg)
        else:
            pos = torch.arange(k, device=dev).expand(dst.numel(), k).clone()  # [D, k]
            big = (deg > k).nonzero().squeeze(1)
            if big.numel():
                pos[big] = self._floyd(deg.index_select(0, big), k, gen)
        pos = torch.sort(pos, dim=1).values
        valid = pos < deg.unsqueeze(1)  # with replacement: all k when deg > 0, none when deg == 0
        counts = valid.sum(1)
        eid = (start.unsqueeze(1) + pos)[valid]  # row-major: grouped by destination
        return counts, eid

    @staticmethod
    def _all_edges(start: Tensor, deg: Tensor) -> Tensor:
        total = int(deg.sum())
        offsets = torch.cumsum(deg, 0) - deg  # exclusive scan
        owner = torch.repeat_interleave(torch.arange(deg.numel(), device=deg.device), deg, output_size=total)
        return (start - offsets).index_select(0, owner) + torch.arange(total, device=deg.device)

    @staticmethod
    def _floyd(n: Tensor, k: int, gen: Optional[torch.Generator]) -> Tensor:
        """Uniform ``k``-subsets of ``[0, n_r)`` for each row ``r`` (Floyd): ``[R, k]`` distinct positions."""
        rows = n.numel()
        chosen = torch.empty((rows, k), dtype=torch.int64, device=n.device)
        u = torch.rand((k, rows), generator=gen, dtype=torch.float64, device=n.device)
        for s in range(k):
            j = n - k + s  # [R]: draw t uniform in [0, j]; if taken already, take j (never taken yet)
            t = (u[s] * (j + 1)).long()
            if s:
                t = torch.where((chosen[:, :s] == t.unsqueeze(1)).any(1), j, t)
            chosen[:, s] = t
        return chosen

    # --- relabelling ------------------------------------------------------------------------
    def _extend(self, nodes: list[Tensor], count: int, nbr: Tensor, local: Tensor) -> Tensor:
        """Append the ids of ``nbr`` not seen yet to ``nodes`` (first-appearance order); local ids of ``nbr``."""
        loc = local.index_select(0, nbr)
        unseen = (loc < 0).nonzero().squeeze(1)
        if unseen.numel():
            cand = nbr.index_select(0, unseen)
            order = torch.arange(cand.numel(), device=cand.device)
            # local[v] <- first position of v among the candidates (the -1 placeholders are ignored)
            local.scatter_reduce_(0, cand, order, reduce="amin", include_self=False)
            new = cand[local.index_select(0, cand) == order]
            local.index_copy_(0, new, torch.arange(count, count + new.numel(), device=new.device))
            nodes.append(new)
            loc.index_copy_(0, unseen, local.index_select(0, cand))
        return loc

    def _start(self, seeds: Any, fn: str) -> tuple[Tensor, Tensor]:
        if not isinstance(seeds, Tensor) or seeds.dim() != 1 or seeds.dtype not in (torch.int64, torch.int32):
            raise TypeError(f"{fn}: seeds must be a 1-D int64/int32 tensor of node ids (got {_describe(seeds)})")
        seeds = seeds.to(self.device).long()
        if seeds.numel():
            lo, hi = (int(v) for v in torch.aminmax(seeds))
            if lo < 0 or hi >= self.num_nodes:
                raise ValueError(f"{fn}: seeds must lie in [0, {self.num_nodes}) (got min {lo}, max {hi})")
        local = self._scratch.get(self.num_nodes, self.device)
        arange = torch.arange(seeds.numel(), device=self.device)
        local.index_copy_(0, seeds, arange)
        if seeds.numel() and not bool((local.index_select(0, seeds) == arange).all()):
            local.index_fill_(0, seeds, -1)
            dup = seeds.numel() - torch.unique(seeds).numel()
            raise ValueError(f"{fn}: seeds must be unique (got {dup} repeated ids)")
        return seeds, local

    # --- public -----------------------------------------------------------------------------
    def sample_blocks(self, seeds: Tensor, generator: Optional[torch.Generator] = None) -> list[Block]:
        """The message-flow blocks of ``seeds``, input layer first (see the module docstring).

        Args:
            seeds: ``[B]`` unique node ids (int64/int32, any device; moved to :attr:`device`).
            generator: ``torch.Generator`` on :attr:`device` (default :attr:`generator`).

        Returns:
            ``len(fanouts)`` blocks on :attr:`device`; ``blocks[-1].dst_nodes`` equals ``seeds``.
        """
        seeds, local = self._start(seeds, "NeighborSampler.sample_blocks")
        gen = generator if generator is not None else self.generator
        nodes, count, hops = [seeds], seeds.numel(), []
        try:
            for fanout in self.fanouts:
                dst = torch.cat(nodes) if len(nodes) > 1 else nodes[0]
                counts, eid = self._sample_hop(dst, fanout, gen)
                nbr = self._take(self.graph.indices, eid)
                loc = self._extend(nodes, count, nbr, local)
                num_dst, count = count, sum(t.numel() for t in nodes)
                indptr = torch.zeros(num_dst + 1, dtype=torch.int64, device=self.device)
                torch.cumsum(counts, 0, out=indptr[1:])
                hops.append((Graph(indptr, loc, num_cols=count, validate=False), eid))
            all_nodes = torch.cat(nodes)
        finally:
            local.index_fill_(0, torch.cat(nodes), -1)
        blocks = [Block(g, all_nodes[: g.num_cols], eid) for g, eid in hops]
        return blocks[::-1]

    def sample_subgraph(
        self, seeds: Tensor, generator: Optional[torch.Generator] = None
    ) -> tuple[Tensor, Tensor, Tensor, Tensor, list[int], list[int]]:
        """PyG-style sampling: each node's neighbourhood once; hop ``h`` expands the nodes new at ``h - 1``.

        Returns:
            ``(node, row, col, edge, num_sampled_nodes, num_sampled_edges)``: global ids of the
            sampled nodes (seeds first), local source / destination of every edge, CSR edge ids
            (:attr:`edge_permutation` maps them to ``edge_index`` columns), per-hop counts.
        """
        seeds, local = self._start(seeds, "NeighborSampler.sample_subgraph")
        gen = generator if generator is not None else self.generator
        nodes, count = [seeds], seeds.numel()
        rows, cols, edges, num_nodes, num_edges = [], [], [], [seeds.numel()], []
        frontier_start = 0
        try:
            for fanout in self.fanouts:
                frontier = torch.cat(nodes)[frontier_start:] if len(nodes) > 1 else nodes[0][frontier_start:]
                counts, eid = self._sample_hop(frontier, fanout, gen)
                nbr = self._take(self.graph.indices, eid)
                rows.append(self._extend(nodes, count, nbr, local))
                owner = torch.repeat_interleave(
                    torch.arange(frontier.numel(), device=self.device), counts, output_size=eid.numel()
                )
                cols.append(owner + frontier_start)
                edges.append(eid)
                frontier_start, count = count, sum(t.numel() for t in nodes)
                num_nodes.append(count - frontier_start)
                num_edges.append(eid.numel())
            node = torch.cat(nodes)
        finally:
            local.index_fill_(0, torch.cat(nodes), -1)
        return node, torch.cat(rows), torch.cat(cols), torch.cat(edges), num_nodes, num_edges

    @property
    def edge_permutation(self) -> Optional[Tensor]:
        """PyG: CSR edge position -> column of the ``edge_index`` given (``None`` for a ``Graph``)."""
        return self._perm

    def sample_from_nodes(self, index: Any, **kwargs: Any) -> Any:
        """torch_geometric ``BaseSampler.sample_from_nodes`` (homogeneous, no temporal sampling)."""
        from sampling.pyg import sample_from_nodes

        return sample_from_nodes(self, index, **kwargs)

    def sample_from_edges(self, index: Any, neg_sampling: Any = None) -> Any:
        """torch_geometric ``BaseSampler.sample_from_edges`` (seed edges' endpoints, optional negatives)."""
        from sampling.pyg import sample_from_edges

        return sample_from_edges(self, index, neg_sampling)

    def close(self) -> None:
        """Unpin the structure (``structure="pinned"``); idempotent."""
        if self._region is not None:
            for region in self._region:
                region.close()
            self._region = None

    def __repr__(self) -> str:
        return (
            f"NeighborSampler(num_nodes={self.num_nodes}, fanouts={list(self.fanouts)}, replace={self.replace}, "
            f"device={self.device}, structure={self.structure!r})"
        )
