r"""Bernoulli spike encoding of non-negative node features, dense or sparse.

SpikingGCN (Zhu et al., IJCAI 2022, Eq. 5) encodes each entry :math:`h_{if}` of the propagated
features independently at every time step, :math:`o_{t,i,f} \sim \mathrm{Bernoulli}(\min(h_{if}, 1))`
(the official code uses spikingjelly's ``PoissonEncoder``: ``rand_like(h) <= h``).

:func:`bernoulli_spikes` returns the dense ``[T, B, F]`` 0/1 tensor. :func:`sparse_bernoulli_spikes`
draws only for the non-zero entries of ``h`` (a zero entry can never fire) and returns the spikes
as unordered coordinates (row ``t * B + b``, column ``f``): the same distribution with ~4x fewer
random numbers on Cora, and the synaptic current ``o_t W^T`` becomes a gather/scatter-add whose
cost scales with the number of spikes (the point of a spiking model; spikes arrive unordered, so
no CSR is sorted per batch). ``uniform`` lets a caller
supply the random numbers (e.g. to test permutation equivariance with common random numbers).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch
from torch import Tensor

import cuda_ext
from sampling import Graph

__all__ = ["CSRSpikes", "SparseSpikes", "bernoulli_spikes", "sparse_bernoulli_spikes"]


@dataclass(frozen=True)
class SparseSpikes:
    """Spikes ``[T, B, F]`` as unordered coordinates: ``rows`` (= ``t * B + b``) and ``cols`` (= ``f``), int64 ``[S]``."""

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
        over the spikes only (cost ~ S * C; differentiable in ``w_t``)."""
        out = w_t.new_zeros(self.T * self.B, w_t.shape[1])
        out = out.index_add(0, self.rows, w_t.index_select(0, self.cols))  # [T*B, C]
        return out.view(self.T, self.B, w_t.shape[1])  # [T, B, C]

    def to_csr(self) -> "CSRSpikes":
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
        return self.graph.degree().view(self.T, self.B).sum(0).round().long()  # [B]

    def matmul(self, w_t: Tensor) -> Tensor:
        out = cuda_ext.spmm(self.graph, w_t, self.graph.edge_values().to(w_t.dtype))  # [T*B, C]
        return out.view(self.T, self.B, w_t.shape[1])  # [T, B, C]


def _check(fn: str, h: Tensor, T: int, generator: Optional[torch.Generator]) -> None:
    if not isinstance(h, Tensor) or h.dim() != 2 or not h.is_floating_point():
        got = f"{h.dtype} tensor of shape {tuple(h.shape)}" if isinstance(h, Tensor) else type(h).__name__
        raise TypeError(f"{fn}: h must be a 2-D floating tensor [B, F] of firing probabilities (got {got})")
    if isinstance(T, bool) or not isinstance(T, int) or T < 1:
        raise ValueError(f"{fn}: T must be a positive int (got {T!r})")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"{fn}: generator must be a torch.Generator (got {type(generator).__name__})")


def bernoulli_spikes(h: Tensor, T: int, generator: Optional[torch.Generator] = None,
                     uniform: Optional[Tensor] = None) -> Tensor:
    """Dense encoding ``[T, B, F]``: spike where ``u <= h`` with ``u ~ U[0, 1)`` (``uniform`` if given).

    Entries of ``h`` above 1 always fire; entries ``<= 0`` fire only when ``u == 0`` exactly, as in
    the official code.
    """
    _check("bernoulli_spikes", h, T, generator)
    if uniform is None:
        uniform = torch.rand((T, *h.shape), generator=generator, dtype=h.dtype, device=h.device)  # [T, B, F]
    elif uniform.shape != (T, *h.shape):
        raise ValueError(f"bernoulli_spikes: uniform must have shape {(T, *h.shape)} (got {tuple(uniform.shape)})")
    return (uniform <= h.unsqueeze(0)).to(h.dtype)


def _geometric_positions(rate: float, total: int, generator: Optional[torch.Generator], device) -> Tensor:
    """Sorted positions in ``[0, total)`` of i.i.d. Bernoulli(``rate``) successes, by geometric gaps."""
    if rate <= 0.0 or total == 0:
        return torch.empty(0, dtype=torch.int64, device=device)
    mean = rate * total
    chunks, end = [], -1
    while end < total - 1:
        n = int(mean + 6.0 * mean ** 0.5 + 64)
        gaps = torch.empty(n, dtype=torch.float64, device=device).geometric_(rate, generator=generator)
        pos = end + torch.cumsum(gaps.to(torch.int64), 0)  # gaps >= 1: strictly increasing
        chunks.append(pos)
        end = int(pos[-1])
    pos = torch.cat(chunks)
    return pos[pos < total]


def sparse_bernoulli_spikes(h: Tensor, T: int, generator: Optional[torch.Generator] = None) -> SparseSpikes:
    """Sparse encoding with the same distribution as :func:`bernoulli_spikes` (see module doc).

    With :math:`p = \\min(h, 1)` and its floor :math:`c = \\max(0, \\min_{b,f} p_{bf})` (e.g.
    SpikingGCN's +0.05 offset), entries with :math:`p = c` fire as i.i.d. Bernoulli(:math:`c`) drawn by
    geometric gaps over the flattened ``[T, B, F]`` array (cost ~ number of spikes; draws that land on
    an entry with :math:`p > c` are discarded), and entries with :math:`p > c` are drawn directly,
    ``u < p``. Every entry is therefore Bernoulli(:math:`p`), independently.
    """
    _check("sparse_bernoulli_spikes", h, T, generator)
    B, F = h.shape
    p = h.clamp(max=1.0)
    c = max(float(p.min()), 0.0) if p.numel() else 0.0
    above = p > c  # [B, F]
    b_idx, f_idx = above.nonzero(as_tuple=True)
    fire = torch.rand((T, b_idx.numel()), generator=generator, dtype=h.dtype, device=h.device) < p[b_idx, f_idx]
    t_s, k_s = fire.nonzero(as_tuple=True)  # [T, nnz] -> spikes of the entries above the floor
    rows = [t_s * B + b_idx[k_s]]
    cols = [f_idx[k_s]]
    if c > 0.0:
        pos = _geometric_positions(c, T * B * F, generator, h.device)
        row, col = pos // F, pos % F
        keep = ~above.view(-1)[(row % B) * F + col]
        rows.append(row[keep])
        cols.append(col[keep])
    return SparseSpikes(rows=torch.cat(rows), cols=torch.cat(cols), T=T, B=B, F=F)
