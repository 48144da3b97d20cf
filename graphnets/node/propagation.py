r"""Parameter-free GCN propagation on :class:`sampling.Graph` through :func:`cuda_ext.spmm`.

:func:`gcn_norm` builds :math:`\hat A = \tilde D^{-1/2} (A + I) \tilde D^{-1/2}` as PyG's ``gcn_norm``
does (the normalisation both DAGNN and SpikingGCN use): self loops of weight 1 are added only to
nodes that have none ("remaining" self loops; existing loop weights are kept), then every edge
``j -> i`` is scaled by :math:`\tilde d_i^{-1/2} w_{ij} \tilde d_j^{-1/2}` where :math:`\tilde d` is
the weighted *target* (row) degree, as in the official code's ``scatter_add(w, col)``. For the
symmetric citation graphs row and column degrees coincide.

:func:`propagate` returns the stack :math:`[H_0, \hat A H_0, \dots, \hat A^K H_0]`.
"""
from __future__ import annotations

import torch
from torch import Tensor

import cuda_ext
from sampling import Graph

__all__ = ["gcn_norm", "propagate", "check_graph"]


def check_graph(graph: Graph, num_nodes: int, fn: str) -> None:
    """Raise a clear error unless ``graph`` is a square :class:`sampling.Graph` over ``num_nodes`` nodes."""
    if not isinstance(graph, Graph):
        raise TypeError(f"{fn}: graph must be a sampling.Graph (got {type(graph).__name__}); "
                        "build one with Graph.from_edge_index(edge_index, num_nodes=N)")
    if graph.num_rows != num_nodes or graph.num_cols != num_nodes:
        raise ValueError(f"{fn}: graph must be {num_nodes} x {num_nodes} to match the features "
                         f"(got shape {graph.shape})")


def gcn_norm(graph: Graph) -> Graph:
    r"""Self-looped symmetric normalisation :math:`\tilde D^{-1/2} (A + I) \tilde D^{-1/2}` (see module doc)."""
    if not isinstance(graph, Graph):
        raise TypeError(f"gcn_norm: graph must be a sampling.Graph (got {type(graph).__name__})")
    if not graph.is_square:
        raise ValueError(f"gcn_norm: needs a square graph (got shape {graph.shape})")
    n = graph.num_rows
    has_loop = torch.zeros(n, dtype=torch.bool, device=graph.device)
    is_loop = graph.row == graph.indices
    has_loop[graph.row[is_loop]] = True
    missing = (~has_loop).nonzero().view(-1)
    vals = graph.edge_values()
    rows = torch.cat([graph.row, missing])
    cols = torch.cat([graph.indices, missing])
    w = torch.cat([vals, vals.new_ones(missing.numel())])
    looped = Graph._from_coo(rows, cols, w, n, n)
    deg = looped.degree()
    d = deg.pow(-0.5)
    d = torch.where(torch.isinf(d), torch.zeros_like(d), d)
    w = d.index_select(0, looped.row) * looped.weight * d.index_select(0, looped.indices)
    return looped.with_weight(w)


def propagate(graph: Graph, h: Tensor, K: int) -> Tensor:
    r"""``[N, K+1, C]`` stack of :math:`\hat A^k h` for ``k = 0..K`` with ``graph`` already normalised.

    Args:
        graph: normalised graph :math:`\hat A` (from :func:`gcn_norm`), ``N x N``.
        h: ``[N, C]`` floating features.
        K: number of propagation steps, ``K >= 0``.
    """
    if not isinstance(K, int) or K < 0:
        raise ValueError(f"propagate: K must be a non-negative int (got {K!r})")
    check_graph(graph, h.shape[0], "propagate")
    weight = graph.weight.to(h.dtype) if graph.weight is not None else None
    hs = [h]
    for _ in range(K):
        hs.append(cuda_ext.spmm(graph, hs[-1], weight))
    return torch.stack(hs, dim=1)  # [N, K+1, C]
