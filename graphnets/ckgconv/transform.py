r"""Precompute CKGConv's inputs once per graph (a PyG-style transform).

Adds to a :class:`torch_geometric.data.Data` with ``edge_index`` (PyG convention: row 0 source,
row 1 target) and ``num_nodes``:

- ``abs_pe`` ``[N, K]``: :math:`\mathrm{diag}(M^k)`, ``k = 1..K`` (absolute RRWP);
- ``pair_index`` ``[2, P]`` and ``pair_attr`` ``[P, K+1]``: the kernel support with the
  relative RRWP of every pair (see :mod:`graphnets.ckgconv.rrwp`);
- ``deg`` ``[N]``: in-degree on the original edges (for the degree scaler).

PyG's ``Batch`` offsets ``pair_index`` by the node count like ``edge_index`` (its name contains
``index``), so batched pair lists stay sorted by target. The official code computes the dense
RRWP in a pre-transform too but pads to the full graph inside the stem at every forward; here the
support is chosen once.
"""

from __future__ import annotations

from typing import Any, Optional

import torch

from graphnets.ckgconv.rrwp import SUPPORTS, rrwp, rrwp_support
from sampling import Graph

__all__ = ["AddRRWP"]


class AddRRWP:
    """Callable transform adding ``abs_pe``, ``pair_index``, ``pair_attr`` and ``deg``.

    Args:
        K: random-walk steps (official ZINC: 21).
        support: ``"full"`` (official ZINC), ``"khop"`` or ``"nonzero"``.
        hops: the ``h`` of ``support="khop"``.
    """

    def __init__(self, K: int, support: str = "full", hops: Optional[int] = None) -> None:
        if isinstance(K, bool) or not isinstance(K, int) or K < 0:
            raise ValueError(f"AddRRWP: K must be an int >= 0 (got {K!r})")
        if support not in SUPPORTS:
            raise ValueError(f"AddRRWP: support must be one of {SUPPORTS} (got {support!r})")
        self.K = K
        self.support = support
        self.hops = hops

    def __call__(self, data: Any) -> Any:
        edge_index = getattr(data, "edge_index", None)
        if not isinstance(edge_index, torch.Tensor):
            raise TypeError(f"AddRRWP: data must carry an edge_index tensor (got {type(edge_index).__name__})")
        n = int(data.num_nodes) if data.num_nodes is not None else 0
        graph = Graph.from_edge_index(edge_index, num_nodes=n)
        rel, abs_pe = rrwp(graph, self.K)
        pair_index, pair_attr = rrwp_support(rel, self.support, self.hops)
        data.abs_pe = abs_pe  # [N, K]
        data.pair_index = pair_index  # [2, P]
        data.pair_attr = pair_attr  # [P, K+1]
        data.deg = torch.bincount(edge_index[1], minlength=n).to(torch.float32)  # [N]
        return data

    def __repr__(self) -> str:
        hops = f", hops={self.hops}" if self.hops is not None else ""
        return f"{type(self).__name__}(K={self.K}, support={self.support!r}{hops})"
