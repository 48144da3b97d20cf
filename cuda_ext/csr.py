"""Plain-PyTorch CSR helpers shared by the ops (no host synchronisation beyond what is noted), and
:class:`CSR`, the base class of every graph structure the ops accept (``sampling.Graph``)."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Optional

import torch
from torch import Tensor

__all__ = ["CSR", "csr_rows", "csr_transpose", "invert_permutation"]


class CSR(ABC):
    """A sparse matrix in CSR form (row = destination, column = source) whose transpose is cached.

    :func:`cuda_ext.spmm` recognises a graph by this type: ``cuda_ext`` cannot import
    ``sampling``, so :class:`sampling.Graph` subclasses :class:`CSR` instead. A subclass provides
    the arrays, the number of columns and ``transpose_csr()`` (computed once, reused by every
    backward pass).

    Shapes:
        ``indptr`` ``[num_rows + 1]`` int64, ``indices`` ``[nnz]`` int64 in ``[0, num_cols)``,
        ``weight`` ``[nnz]`` floating or ``None`` (all ones).
    """

    __slots__ = ()

    @property
    @abstractmethod
    def indptr(self) -> Tensor:
        """``[num_rows + 1]`` int64 row pointers."""

    @property
    @abstractmethod
    def indices(self) -> Tensor:
        """``[nnz]`` int64 column (source) index of every entry."""

    @property
    @abstractmethod
    def weight(self) -> Optional[Tensor]:
        """``[nnz]`` entry values, or ``None`` for an unweighted matrix."""

    @property
    @abstractmethod
    def num_cols(self) -> int:
        """Number of columns (source nodes)."""

    @abstractmethod
    def transpose_csr(self) -> tuple[Tensor, Tensor, Tensor]:
        """``(t_indptr, t_indices, t_perm)`` of the transpose (see :func:`csr_transpose`), cached."""


def csr_rows(indptr: Tensor, nnz: int | None = None) -> Tensor:
    """Row index of every stored entry: ``row[e] = i`` for ``indptr[i] <= e < indptr[i+1]``.

    Passing ``nnz`` avoids a host synchronisation on CUDA.
    """
    num_rows = indptr.numel() - 1
    counts = indptr[1:] - indptr[:-1]
    rows = torch.arange(num_rows, device=indptr.device, dtype=indptr.dtype)
    return torch.repeat_interleave(rows, counts, output_size=nnz)


def csr_transpose(indptr: Tensor, indices: Tensor, num_cols: int) -> tuple[Tensor, Tensor, Tensor]:
    """Transpose a CSR structure.

    Returns ``(t_indptr, t_indices, t_perm)`` where the transposed matrix has ``num_cols`` rows,
    and ``t_perm[k]`` is the position in the original edge list of the transposed entry ``k``
    (so transposed weights are ``weight[t_perm]``). Within each transposed row the entries keep
    the original row order, because the sort is stable.
    """
    rows = csr_rows(indptr, indices.numel())
    t_perm = torch.argsort(indices, stable=True)
    t_indices = rows.index_select(0, t_perm)
    counts = torch.bincount(indices, minlength=num_cols)
    t_indptr = torch.zeros(num_cols + 1, dtype=indptr.dtype, device=indptr.device)
    torch.cumsum(counts, 0, out=t_indptr[1:])
    return t_indptr, t_indices, t_perm


def invert_permutation(perm: Tensor) -> Tensor:
    """``inv`` with ``inv[perm[k]] = k``."""
    inv = torch.empty_like(perm)
    inv.scatter_(0, perm, torch.arange(perm.numel(), device=perm.device, dtype=perm.dtype))
    return inv
