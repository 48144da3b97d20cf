r"""A large synthetic node-classification graph: power-law degrees, planted communities, features on disk.

Structure: a Chung-Lu graph (Chung & Lu, PNAS 2002) with planted communities. Node :math:`i` has
weight :math:`w_i = r_i^{-1/(\gamma - 1)}` for a random rank :math:`r_i \in \{1..N\}`, which gives
degrees with the tail :math:`P(d) \propto d^{-\gamma}`. Each of the ``num_edges / 2`` undirected
edges draws its first endpoint :math:`u` with probability :math:`\propto w_u`; with probability
``homophily`` the second endpoint is drawn :math:`\propto w` *inside u's community*, otherwise
:math:`\propto w` over all nodes. Self loops are dropped (so a graph has slightly fewer than
``num_edges`` edges), duplicate edges kept (rare); both directions are stored, the columns of a
row in generation order (not sorted). Communities are
balanced (``label = position in a random permutation mod C``), so labels are learnable.

Features: class centroids :math:`\mu_c \sim \mathcal{N}(0, \sigma_s^2 I)` and
:math:`x_i = \mu_{y_i} + \varepsilon_i`, :math:`\varepsilon_i \sim \mathcal{N}(0, I)`; with the
default ``signal`` a feature-only classifier is far from perfect while averaging neighbours
(same community with probability ``homophily``) helps, as on citation graphs.

Scale: edges are generated in chunks twice (degree count, then fill), each chunk from its own
seed, so building the CSR needs the CSR plus one chunk of memory, never a whole edge list;
features are written chunk by chunk into a ``.npy`` file (``np.lib.format.open_memmap``) and
mapped back read-only, so they may exceed RAM. Sizes from 10^4 to 10^8 edges (and beyond).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

import numpy as np
import torch
from torch import Tensor

from sampling.graph import Graph

__all__ = ["SyntheticGraph", "community_features", "powerlaw_community_graph", "synthetic_node_dataset"]

#: Undirected pairs generated per chunk.
CHUNK_PAIRS = 1 << 21


def _check_generator(fn: str, generator: object) -> None:
    if not isinstance(generator, torch.Generator) or generator.device.type != "cpu":
        raise TypeError(f"{fn}: generator must be a CPU torch.Generator (got {type(generator).__name__})")


def _check_int(fn: str, name: str, value: object, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{fn}: {name} must be an int >= {low} (got {value!r})")
    return value


def _check_unit(fn: str, name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ValueError(f"{fn}: {name} must be a number in [0, 1] (got {value!r})")
    return float(value)


class _Sampler:
    """Draws node ids with probability proportional to a weight, overall or within a community."""

    def __init__(self, weight: Tensor, labels: Tensor, num_classes: int) -> None:
        self.order = torch.argsort(labels, stable=True)  # nodes grouped by community
        self.cum = torch.cumsum(weight.index_select(0, self.order).double(), 0)  # [N]
        ends = torch.cumsum(torch.bincount(labels, minlength=num_classes), 0)  # [C]
        self.hi = self.cum.index_select(0, ends - 1)  # cumulative weight at each community's end
        self.lo = torch.cat([self.cum.new_zeros(1), self.hi[:-1]])
        self.labels = labels

    def draw(self, target: Tensor) -> Tensor:
        pos = torch.searchsorted(self.cum, target, right=True).clamp_(max=self.cum.numel() - 1)
        return self.order.index_select(0, pos)

    def pairs(self, seed: int, m: int, homophily: float) -> tuple[Tensor, Tensor]:
        """``m`` undirected pairs of one chunk (a deterministic function of ``seed``), self loops removed."""
        dev = self.cum.device
        gen = torch.Generator(device=dev).manual_seed(seed)
        total = self.cum[-1]
        u = self.draw(torch.rand(m, generator=gen, dtype=torch.float64, device=dev) * total)
        inside = torch.rand(m, generator=gen, device=dev) < homophily
        r = torch.rand(m, generator=gen, dtype=torch.float64, device=dev)
        c = self.labels.index_select(0, u)
        lo, hi = self.lo.index_select(0, c), self.hi.index_select(0, c)
        v = self.draw(torch.where(inside, lo + r * (hi - lo), r * total))
        keep = u != v
        return u[keep], v[keep]


def powerlaw_community_graph(
    num_edges: int,
    generator: torch.Generator,
    *,
    num_nodes: Optional[int] = None,
    num_classes: int = 16,
    exponent: float = 2.5,
    homophily: float = 0.8,
    chunk_pairs: int = CHUNK_PAIRS,
    device: object = "cpu",
) -> tuple[Graph, Tensor]:
    """A symmetric power-law graph with planted communities (see the module docstring).

    Args:
        num_edges: stored (directed) edges to aim for, ``>= 2``; the graph has ``num_edges``
            minus twice the number of self loops drawn (about ``2 * sum(w^2) / sum(w)^2``).
        generator: CPU ``torch.Generator``; the graph is a deterministic function of its state.
        num_nodes: ``N``; default ``max(num_edges // 20, 2 * num_classes)`` (mean degree 20).
        num_classes: number of communities ``C`` (``>= 2``).
        exponent: power-law exponent :math:`\\gamma > 1` of the degree tail.
        homophily: probability that an edge stays inside its first endpoint's community.
        chunk_pairs: undirected pairs generated at once (memory vs. speed).
        device: where the edges are drawn and the CSR is built (a CUDA device builds 10^8 edges in
            seconds); the draws, hence the graph, depend on the device.

    Returns:
        ``(graph, labels)``: a square :class:`Graph` on ``N`` nodes and ``[N]`` int64 community ids.
    """
    fn = "powerlaw_community_graph"
    _check_generator(fn, generator)
    _check_int(fn, "num_edges", num_edges, 2)
    _check_int(fn, "num_classes", num_classes, 2)
    _check_int(fn, "chunk_pairs", chunk_pairs, 1)
    n = max(num_edges // 20, 2 * num_classes) if num_nodes is None else _check_int(fn, "num_nodes", num_nodes, 2)
    if n < num_classes:
        raise ValueError(f"{fn}: num_nodes must be >= num_classes={num_classes} (got {n})")
    if isinstance(exponent, bool) or not isinstance(exponent, (int, float)) or not exponent > 1.0:
        raise ValueError(f"{fn}: exponent must be a number > 1 (got {exponent!r})")
    homophily = _check_unit(fn, "homophily", homophily)

    labels = torch.empty(n, dtype=torch.int64)
    labels[torch.randperm(n, generator=generator)] = torch.arange(n) % num_classes
    ranks = torch.randperm(n, generator=generator).double() + 1.0
    device = torch.device(device)
    labels = labels.to(device)
    draw = _Sampler(ranks.pow(-1.0 / (exponent - 1.0)).to(device), labels, num_classes)

    num_pairs = num_edges // 2
    sizes = [chunk_pairs] * (num_pairs // chunk_pairs) + ([num_pairs % chunk_pairs] if num_pairs % chunk_pairs else [])
    seeds = torch.randint(2**62, (len(sizes),), generator=generator).tolist()

    degree = torch.zeros(n, dtype=torch.int64, device=device)
    for seed, m in zip(seeds, sizes):  # pass 1: degrees
        u, v = draw.pairs(seed, m, homophily)
        degree += torch.bincount(torch.cat([u, v]), minlength=n)
    indptr = torch.zeros(n + 1, dtype=torch.int64, device=device)
    torch.cumsum(degree, 0, out=indptr[1:])
    indices = torch.empty(int(indptr[-1]), dtype=torch.int64, device=device)
    cursor = indptr[:-1].clone()
    for seed, m in zip(seeds, sizes):  # pass 2: fill row by row, in generation order
        u, v = draw.pairs(seed, m, homophily)
        rows, cols = torch.cat([v, u]), torch.cat([u, v])  # edge u -> v lands in row v, and back
        rows, perm = torch.sort(rows, stable=True)
        rank = torch.arange(rows.numel(), device=device) - torch.searchsorted(rows, rows)  # position in its row
        indices[cursor.index_select(0, rows) + rank] = cols.index_select(0, perm)
        cursor += torch.bincount(rows, minlength=n)
    return Graph(indptr, indices, validate=False), labels


def community_features(
    labels: Tensor,
    dim: int,
    generator: torch.Generator,
    *,
    signal: float = 0.25,
    path: Optional[Union[str, Path]] = None,
    chunk_rows: int = 1 << 16,
    device: object = "cpu",
) -> Tensor:
    r"""Features :math:`x_i = \mu_{y_i} + \varepsilon_i` (float32 ``[N, dim]``), optionally streamed to disk.

    Args:
        labels: ``[N]`` int64 class ids.
        dim: feature width (``>= 1``).
        generator: CPU ``torch.Generator``.
        signal: standard deviation :math:`\sigma_s` of the class centroids (noise has std 1).
        path: when given, rows are written chunk by chunk into this ``.npy`` file and the result
            is the file mapped read-only (so it may exceed RAM); otherwise an in-memory tensor.
        chunk_rows: rows generated at once (the values depend on it, not on ``path``).
        device: where the rows are drawn (a CUDA device is much faster for large tables); the
            result is always in host memory (or the file).
    """
    fn = "community_features"
    _check_generator(fn, generator)
    _check_int(fn, "dim", dim, 1)
    _check_int(fn, "chunk_rows", chunk_rows, 1)
    if not isinstance(labels, Tensor) or labels.dim() != 1 or labels.dtype != torch.int64:
        raise TypeError(f"{fn}: labels must be a 1-D int64 tensor (got {type(labels).__name__})")
    num_classes = int(labels.max()) + 1 if labels.numel() else 1
    device = torch.device(device)
    gen = (
        generator
        if device.type == "cpu"
        else torch.Generator(device=device).manual_seed(int(torch.randint(2**62, (), generator=generator)))
    )
    centroids = (torch.randn(num_classes, dim, generator=generator) * float(signal)).to(device)  # [C, dim]
    n = labels.numel()
    if path is None:
        out = torch.empty(n, dim)
    else:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, dim))
    for start in range(0, n, chunk_rows):  # the same draws whether kept in RAM or written to disk
        y = labels[start : start + chunk_rows].to(device)
        rows = centroids.index_select(0, y) + torch.randn(y.numel(), dim, generator=gen, device=device)  # [c, dim]
        out[start : start + y.numel()] = rows.cpu() if path is None else rows.cpu().numpy()
    if path is None:
        return out
    out.flush()
    del out
    with warnings.catch_warnings():  # read-only mapping; never written through the tensor
        warnings.simplefilter("ignore", UserWarning)
        return torch.from_numpy(np.load(path, mmap_mode="r"))


@dataclass(frozen=True)
class SyntheticGraph:
    """A synthetic node-classification dataset.

    Attributes:
        graph: symmetric :class:`Graph` on ``N`` nodes.
        labels: ``[N]`` int64 community ids.
        features: ``[N, F]`` float32 (in memory, or mapped read-only from ``features_path``).
        features_path: the ``.npy`` file of the features, or ``None``.
        num_classes: ``C``.
        train, val, test: disjoint int64 node ids.
    """

    graph: Graph
    labels: Tensor
    features: Tensor
    features_path: Optional[Path]
    num_classes: int
    train: Tensor
    val: Tensor
    test: Tensor


def synthetic_node_dataset(
    num_edges: int,
    generator: torch.Generator,
    *,
    num_nodes: Optional[int] = None,
    num_classes: int = 16,
    feature_dim: int = 64,
    exponent: float = 2.5,
    homophily: float = 0.8,
    signal: float = 0.25,
    root: Optional[Union[str, Path]] = None,
    train_fraction: float = 0.1,
    val_fraction: float = 0.05,
    test_fraction: float = 0.1,
) -> SyntheticGraph:
    """Graph (:func:`powerlaw_community_graph`), features (:func:`community_features`) and a random split.

    ``root``: a folder for ``features.npy`` (features streamed to disk); ``None`` keeps them in RAM.
    The split fractions must sum to at most 1 (the rest of the nodes belong to no split).
    """
    fn = "synthetic_node_dataset"
    fractions = (train_fraction, val_fraction, test_fraction)
    for name, f in zip(("train_fraction", "val_fraction", "test_fraction"), fractions):
        _check_unit(fn, name, f)
    if sum(fractions) > 1.0 + 1e-9:
        raise ValueError(f"{fn}: split fractions must sum to at most 1 (got {sum(fractions)})")
    graph, labels = powerlaw_community_graph(
        num_edges, generator, num_nodes=num_nodes, num_classes=num_classes, exponent=exponent, homophily=homophily
    )
    path = None if root is None else Path(root) / "features.npy"
    x = community_features(labels, feature_dim, generator, signal=signal, path=path)
    n = labels.numel()
    perm = torch.randperm(n, generator=generator)
    a = int(train_fraction * n)
    b = a + int(val_fraction * n)
    c = b + int(test_fraction * n)
    return SyntheticGraph(
        graph, labels, x, path, num_classes, perm[:a].sort().values, perm[a:b].sort().values, perm[b:c].sort().values
    )
