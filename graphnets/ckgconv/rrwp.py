r"""Relative random-walk probabilities (RRWP): CKGConv's pseudo-coordinates.

Ma et al., "CKGConv: General Graph Convolution with Continuous Kernels", ICML 2024
(arXiv:2404.13604), following GRIT (Ma et al., ICML 2023).

With the random-walk matrix :math:`M = D^{-1} A` (no self-loops, :math:`D` the row degree,
zero-degree rows stay zero), the relative coordinate of the ordered pair (target :math:`i`,
source :math:`j`) is

.. math::  P_{ij} = \big[ I_{ij},\ M_{ij},\ M^2_{ij},\ \dots,\ M^K_{ij} \big] \in \mathbb{R}^{K+1},

the probability of walking from :math:`i` to :math:`j` in :math:`k` steps, and the absolute
(node) encoding is :math:`p_i = [M_{ii}, M^2_{ii}, \dots, M^K_{ii}] \in \mathbb{R}^K`.

Conventions: a :class:`sampling.Graph` has rows = destination nodes, so ``A[i, j]`` is the
weight of edge ``j -> i`` and the walk moves from ``i`` against the edge direction. For the
undirected graphs CKGConv is used on (ZINC: every bond stored in both directions) this is the
official ``M = D^-1 A`` exactly. Pair lists follow PyG: ``pair_index[0]`` = source ``j``,
``pair_index[1]`` = target ``i``, value ``P[i, j]``.

Supports of the kernel (which pairs ``j`` each target ``i`` aggregates over):

- ``"full"``: every node of the same graph, self included (official ``full_attn: True``);
- ``"khop"``: pairs with :math:`\sum_{k \le h} P^k_{ij} > 0`, i.e. within ``h`` hops
  (official ``k_hop: h``, the localized filters);
- ``"nonzero"``: pairs with any non-zero RRWP channel (official ``full_attn: False``).

Differences from the official code: dense per-graph computation in torch (the official
transform uses ``torch_sparse``), and the support is chosen once here at preprocessing time
rather than in the stem encoder on every forward; bad input raises ``ValueError``.
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from sampling import Graph

__all__ = ["SUPPORTS", "rrwp", "rrwp_support"]

SUPPORTS = ("full", "khop", "nonzero")


def _check_k(fn: str, k: object) -> int:
    if isinstance(k, bool) or not isinstance(k, int):
        raise TypeError(f"{fn}: K must be an int (got {type(k).__name__} {k!r})")
    if k < 0:
        raise ValueError(f"{fn}: K must be >= 0 (got {k})")
    return k


def rrwp(graph: Graph, K: int, *, dtype: torch.dtype = torch.float32) -> tuple[Tensor, Tensor]:
    r"""Dense RRWP of one graph.

    Args:
        graph: a square :class:`sampling.Graph` of ``N`` nodes (weights used when present).
        K: number of random-walk steps; ``K = 0`` gives only the identity channel.
        dtype: floating dtype of the result.

    Returns:
        ``(rel, abs_pe)``: ``rel`` ``[N, N, K+1]`` with ``rel[i, j, k] = (M^k)[i, j]`` and
        ``abs_pe`` ``[N, K]`` with ``abs_pe[i, k-1] = (M^k)[i, i]``.

    Raises:
        TypeError: ``graph`` is not a :class:`sampling.Graph` or ``K`` not an int.
        ValueError: ``K < 0``; the graph is not square, is empty, or is too small for ``K``
            (``K >= 1`` needs at least 2 nodes and one edge, otherwise every walk channel is 0).
    """
    fn = "rrwp"
    if not isinstance(graph, Graph):
        raise TypeError(f"{fn}: expected a sampling.Graph (got {type(graph).__name__})")
    K = _check_k(fn, K)
    if not dtype.is_floating_point:
        raise TypeError(f"{fn}: dtype must be floating (got {dtype})")
    if not graph.is_square:
        raise ValueError(f"{fn}: the graph must be square (got shape {tuple(graph.shape)})")
    n = graph.num_nodes
    if n == 0:
        raise ValueError(f"{fn}: the graph has no nodes (got num_nodes=0)")
    if K > 0 and (n < 2 or graph.num_edges == 0):
        raise ValueError(
            f"{fn}: graph too small for K={K}: random walks of length >= 1 need at least 2 nodes and one "
            f"edge (got num_nodes={n}, num_edges={graph.num_edges}); use K=0 or drop the graph"
        )
    if graph.weight is not None and graph.num_edges and bool((graph.weight < 0).any()):
        e = int((graph.weight < 0).nonzero()[0, 0])
        raise ValueError(
            f"{fn}: random-walk probabilities need non-negative edge weights "
            f"(got {graph.weight[e].item():g} at edge {e}, row {int(graph.row[e])})"
        )
    adj = graph.remove_self_loops().to_dense().to(dtype)  # [N, N], adj[i, j] = w(j -> i)
    deg = adj.sum(dim=1, keepdim=True)  # [N, 1]
    m = torch.where(deg > 0, adj / deg.clamp_min(torch.finfo(dtype).tiny), torch.zeros_like(adj))
    powers = [torch.eye(n, dtype=dtype, device=adj.device)]
    for _ in range(K):
        powers.append(powers[-1] @ m)
    rel = torch.stack(powers, dim=-1)  # [N, N, K+1]
    abs_pe = torch.diagonal(rel[:, :, 1:], dim1=0, dim2=1).T.contiguous()  # [N, K]
    return rel, abs_pe


def rrwp_support(rel: Tensor, support: str = "full", hops: Optional[int] = None) -> tuple[Tensor, Tensor]:
    r"""Select the kernel support from a dense RRWP and return it as a pair list.

    Args:
        rel: ``[N, N, K+1]`` from :func:`rrwp`.
        support: ``"full"``, ``"khop"`` or ``"nonzero"`` (see the module docstring).
        hops: the ``h`` of ``"khop"``, ``0 <= h <= K`` (required there, rejected elsewhere).

    Returns:
        ``(pair_index, pair_attr)``: ``pair_index`` ``[2, P]`` int64 (row 0 source ``j``,
        row 1 target ``i``, sorted by target then source), ``pair_attr`` ``[P, K+1]`` =
        ``rel[i, j]``. Every node is in its own support (channel 0 is the identity).
    """
    fn = "rrwp_support"
    if not isinstance(rel, Tensor) or rel.dim() != 3 or rel.shape[0] != rel.shape[1] or rel.shape[2] < 1:
        raise ValueError(f"{fn}: rel must be a [N, N, K+1] tensor (got {getattr(rel, 'shape', type(rel))})")
    if support not in SUPPORTS:
        raise ValueError(f"{fn}: support must be one of {SUPPORTS} (got {support!r})")
    k = rel.shape[2] - 1
    if support == "khop":
        if hops is None or isinstance(hops, bool) or not isinstance(hops, int):
            raise TypeError(f"{fn}: support='khop' needs an int hops (got {hops!r})")
        if not 0 <= hops <= k:
            raise ValueError(
                f"{fn}: hops must be in [0, K={k}]: the RRWP only has walks up to K steps (got hops={hops}); "
                f"raise K or lower hops"
            )
        mask = rel[:, :, : hops + 1].sum(dim=-1) > 0  # [N, N]
    elif hops is not None:
        raise ValueError(f"{fn}: hops is only used with support='khop' (got support={support!r}, hops={hops})")
    elif support == "nonzero":
        mask = (rel != 0).any(dim=-1)  # [N, N]
    else:
        mask = torch.ones(rel.shape[:2], dtype=torch.bool, device=rel.device)
    tgt, src = mask.nonzero(as_tuple=True)  # row-major: sorted by target, then source
    pair_index = torch.stack([src, tgt])  # [2, P]
    return pair_index, rel[tgt, src]
