r"""``propagate``: the parameter-free hops :math:`[X, \hat A X, \dots, \hat A^K X]` (DAGNN, SGC, SpikingGCN)."""

from __future__ import annotations

import torch
from torch import Tensor

from cuda_ext import spmm
from graphnets.conv._inputs import GraphLike, as_graph
from sampling import Graph

__all__ = ["propagate"]


def propagate(graph: GraphLike, x: Tensor, K: int) -> Tensor:
    r"""``[N, K+1, C]`` stack of :math:`\hat A^k x` for ``k = 0..K`` over an already normalised graph.

    Each hop is one :func:`cuda_ext.spmm` (deterministic); the graph's weights are cast to ``x``'s
    dtype.

    Args:
        graph: :math:`\hat A`, e.g. from :func:`graphnets.conv.gcn_norm`; square (a
            :class:`sampling.Block` only when its destinations are all its sources).
        x: ``[N, C]`` floating features.
        K: number of hops, ``K >= 0``.

    Raises:
        ValueError: ``K < 0``, a rectangular graph, or ``x`` not ``[N, C]``.

    Example:
        >>> import torch
        >>> from sampling import Graph
        >>> g = Graph.from_edge_index(torch.tensor([[0, 1], [1, 0]]), num_nodes=2)
        >>> propagate(g, torch.tensor([[1.0], [2.0]]), 2)[:, :, 0]
        tensor([[1., 2., 1.],
                [2., 1., 2.]])
    """
    if isinstance(K, bool) or not isinstance(K, int) or K < 0:
        raise ValueError(f"propagate: K must be a non-negative int (got {K!r})")
    g = as_graph("propagate", graph)
    check_features(x, "propagate")
    check_square(g, x.shape[0], "propagate")
    weight = g.weight.to(x.dtype) if g.weight is not None else None
    hs = [x]
    for _ in range(K):
        hs.append(spmm(g, hs[-1], weight))
    return torch.stack(hs, dim=1)  # [N, K+1, C]


def check_features(x: Tensor, fn: str) -> None:
    """Raise a clear error unless ``x`` is a 2-D floating tensor ``[N, C]``."""
    if not isinstance(x, Tensor) or x.dim() != 2 or not x.is_floating_point():
        got = f"{x.dtype} tensor of shape {tuple(x.shape)}" if isinstance(x, Tensor) else type(x).__name__
        raise TypeError(f"{fn}: x must be a 2-D floating tensor [N, C] (got {got})")


def check_square(graph: Graph, num_nodes: int, fn: str) -> None:
    """Raise a clear error unless ``graph`` is square over ``num_nodes`` nodes (hops repeat on one set)."""
    if graph.num_rows != num_nodes or graph.num_cols != num_nodes:
        raise ValueError(
            f"{fn}: graph must be {num_nodes} x {num_nodes} to match the features (got shape "
            f"{graph.shape}); hops repeat on one node set, so a block needs all its sources as "
            f"destinations"
        )
