"""Spike trains ``[T, B, F]`` stored sparsely, with the synaptic current ``o_t W^T`` computed from them.

:class:`SparseSpikes` holds unordered coordinates (what :func:`spiking.encoding.sparse_bernoulli_encode`
draws); :class:`CSRSpikes` holds a row-sorted CSR for spikes that are reused (one
:func:`cuda_ext.spmm` per use, the transpose for its backward cached).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

import cuda_ext
from sampling import Graph

__all__ = ["CSRSpikes", "SparseSpikes"]


@dataclass(frozen=True)
class SparseSpikes:
    """Spikes ``[T, B, F]`` as unordered coordinates: ``rows`` (= ``t * B + b``) and ``cols`` (= ``f``),
    int64 ``[S]``."""

    rows: Tensor
    cols: Tensor
    T: int
    B: int
    F: int

    @property
    def num_spikes(self) -> int:
        return int(self.rows.numel())

    def per_node(self) -> Tensor:
        """Spike counts per node over all steps and features, ``[B]`` int64."""
        return torch.bincount(self.rows % self.B, minlength=self.B)

    def to_dense(self, dtype: torch.dtype = torch.float32) -> Tensor:
        out = torch.zeros(self.T * self.B, self.F, dtype=dtype, device=self.rows.device)
        out[self.rows, self.cols] = 1
        return out.view(self.T, self.B, self.F)  # [T, B, F]

    def matmul(self, w_t: Tensor) -> Tensor:
        """Synaptic current ``o_t W^T`` ``[T, B, C]`` for ``w_t = W^T`` ``[F, C]``: gather + scatter-add
        over the spikes only (cost ~ S * C; differentiable in ``w_t``). On CUDA the scatter-add
        order is not deterministic; :meth:`to_csr` gives the deterministic path."""
        out = w_t.new_zeros(self.T * self.B, w_t.shape[1])
        out = out.index_add(0, self.rows, w_t.index_select(0, self.cols))  # [T*B, C]
        return out.view(self.T, self.B, w_t.shape[1])  # [T, B, C]

    def to_csr(self) -> CSRSpikes:
        """The same spikes as a row-sorted CSR :class:`sampling.Graph` ``[T * B, F]`` (sorts once)."""
        edges = torch.stack([self.cols, self.rows])  # [2, S]: source f -> target row
        graph = Graph.from_edge_index(edges, num_nodes=self.T * self.B, num_cols=self.F)
        return CSRSpikes(graph=graph, T=self.T, B=self.B)


@dataclass(frozen=True)
class CSRSpikes:
    """Spikes ``[T, B, F]`` as a CSR :class:`sampling.Graph` with rows ``t * B + b``; for spikes that are
    reused (e.g. a fixed validation encoding): :meth:`matmul` is one :func:`cuda_ext.spmm` and the
    transpose for its backward is cached in the graph."""

    graph: Graph
    T: int
    B: int

    @property
    def num_spikes(self) -> int:
        return self.graph.num_edges

    def per_node(self) -> Tensor:
        """Spike counts per node over all steps and features, ``[B]`` int64."""
        return self.graph.degree().view(self.T, self.B).sum(0).round().long()  # [B]

    def matmul(self, w_t: Tensor) -> Tensor:
        """Synaptic current ``[T, B, C]`` for ``w_t = W^T`` ``[F, C]``: one deterministic SpMM."""
        out = cuda_ext.spmm(self.graph, w_t, self.graph.edge_values().to(w_t.dtype))  # [T*B, C]
        return out.view(self.T, self.B, w_t.shape[1])  # [T, B, C]
