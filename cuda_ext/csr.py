"""Plain-PyTorch CSR helpers shared by the ops (no host synchronisation beyond what is noted)."""
from __future__ import annotations

import torch
from torch import Tensor


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
