"""Plain-PyTorch CSR helpers shared by the ops and ``sampling.Graph`` (none synchronises with the
host on CUDA: structure errors there are queued device-side assertions, see :func:`check_csr`),
and :class:`CSR`, the base class of every graph structure the ops accept (``sampling.Graph``)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Optional

import torch
from torch import Tensor

__all__ = ["CSR", "check_csr", "csr_rows", "csr_transpose", "invert_permutation"]


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


def check_csr(indptr: Tensor, indices: Tensor, num_cols: int, fn: str, *, sync: bool = False) -> None:
    """Check a CSR structure: ``indptr`` non-decreasing from 0 to ``nnz``, columns in ``[0, num_cols)``.

    Host tensors raise ``ValueError`` naming ``fn`` at once (no synchronisation involved). CUDA
    tensors queue a device-side assertion (``torch._assert_async``), which surfaces at the next
    synchronisation, unless ``sync=True``, which reads the answer on the host and raises
    ``ValueError`` (one synchronisation).

    Raises:
        ValueError: ``indptr`` is empty, or (on the host) the structure is malformed.
    """
    if indptr.numel() == 0:
        raise ValueError(f"{fn}: indptr must have num_rows + 1 >= 1 entries (got an empty tensor)")
    nnz = indices.numel()
    if indptr.device.type == "cuda" and not sync:
        ok = (indptr[0] == 0) & (indptr[-1] == nnz) & (indptr[1:] >= indptr[:-1]).all()
        if nnz:
            lo, hi = torch.aminmax(indices)
            ok = ok & (lo >= 0) & (hi < num_cols)
        torch._assert_async(ok, f"{fn}: malformed CSR (indptr or column ids)")
        return
    first, last = int(indptr[0]), int(indptr[-1])
    if first != 0 or last != nnz:
        raise ValueError(
            f"{fn}: indptr must start at 0 and end at len(indices) = {nnz} "
            f"(got indptr[0] = {first}, indptr[-1] = {last})"
        )
    decreasing = indptr[1:] < indptr[:-1]
    if bool(decreasing.any()):
        at = int(torch.nonzero(decreasing)[0, 0])
        raise ValueError(
            f"{fn}: indptr must be non-decreasing (got indptr[{at}] = {int(indptr[at])} > "
            f"indptr[{at + 1}] = {int(indptr[at + 1])})"
        )
    if nnz:
        lo, hi = torch.aminmax(indices)
        if int(lo) < 0 or int(hi) >= num_cols:
            raise ValueError(f"{fn}: column indices must lie in [0, {num_cols}) (got min {int(lo)}, max {int(hi)})")


def csr_rows(indptr: Tensor, nnz: int | None = None) -> Tensor:
    """Row index of every stored entry: ``row[e] = i`` for ``indptr[i] <= e < indptr[i+1]``.

    Passing ``nnz`` avoids a host synchronisation on CUDA.
    """
    num_rows = indptr.numel() - 1
    counts = indptr[1:] - indptr[:-1]
    rows = torch.arange(num_rows, device=indptr.device, dtype=indptr.dtype)
    return torch.repeat_interleave(rows, counts, output_size=nnz)


def csr_transpose(indptr: Tensor, indices: Tensor, num_cols: int) -> tuple[Tensor, Tensor, Tensor]:
    """Transpose a CSR structure (checked with :func:`check_csr` first).

    Returns ``(t_indptr, t_indices, t_perm)`` where the transposed matrix has ``num_cols`` rows,
    and ``t_perm[k]`` is the position in the original edge list of the transposed entry ``k``
    (so transposed weights are ``weight[t_perm]``). Within each transposed row the entries keep
    the original row order, because the sort is stable. Row pointers come from a binary search
    of the sorted columns (no ``bincount``, which synchronises on CUDA to size its output).
    """
    check_csr(indptr, indices, num_cols, "csr_transpose")
    rows = csr_rows(indptr, indices.numel())
    sorted_cols, t_perm = torch.sort(indices, stable=True)
    t_indices = rows.index_select(0, t_perm)
    bounds = torch.arange(num_cols + 1, device=indices.device, dtype=indices.dtype)
    t_indptr = torch.searchsorted(sorted_cols, bounds).to(indptr.dtype)
    return t_indptr, t_indices, t_perm


def invert_permutation(perm: Tensor) -> Tensor:
    """``inv`` with ``inv[perm[k]] = k``."""
    inv = torch.empty_like(perm)
    inv.scatter_(0, perm, torch.arange(perm.numel(), device=perm.device, dtype=perm.dtype))
    return inv
