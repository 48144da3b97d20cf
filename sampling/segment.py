r"""Deterministic segment reductions: sums of consecutive rows, through :func:`cuda_ext.spmm`.

A *segment* is a run of consecutive rows ``ptr[s] .. ptr[s+1]-1`` of a tensor: the edges of one
destination in CSR order (``ptr = graph.indptr``), or the nodes of one graph in a batch
(``ptr`` = the batch's node pointers). The sum runs in row order through ``spmm`` over the
segment-incidence CSR, so it is the same on every run and device (no atomic scatter, unlike
``index_add_`` on a GPU), and its backward is a gather.

.. math:: \mathrm{out}_s = \sum_{e = \mathrm{ptr}_s}^{\mathrm{ptr}_{s+1} - 1} \mathrm{src}_e

Shapes:
    src ``[E, F]`` or ``[E]``, ptr ``[S + 1]`` int64 (non-decreasing, ``ptr[0] = 0``,
    ``ptr[-1] = E``) -> ``[S, F]`` or ``[S]``.
"""

from __future__ import annotations

import torch
from torch import Tensor

from cuda_ext.spmm import spmm
from sampling.graph import incidence_csr

__all__ = ["segment_sum", "segment_mean"]


def _check(fn: str, src: Tensor, ptr: Tensor) -> None:
    if not isinstance(src, Tensor) or src.dim() not in (1, 2) or not src.is_floating_point():
        got = f"{src.dtype} tensor of shape {tuple(src.shape)}" if isinstance(src, Tensor) else type(src).__name__
        raise TypeError(f"{fn}: src must be a 1-D or 2-D floating tensor (got {got})")
    if not isinstance(ptr, Tensor) or ptr.dtype != torch.int64 or ptr.dim() != 1 or ptr.numel() == 0:
        got = f"{ptr.dtype} tensor of shape {tuple(ptr.shape)}" if isinstance(ptr, Tensor) else type(ptr).__name__
        raise TypeError(f"{fn}: ptr must be a non-empty 1-D int64 tensor (got {got})")
    if int(ptr[0]) != 0 or int(ptr[-1]) != src.shape[0]:
        raise ValueError(
            f"{fn}: ptr must start at 0 and end at len(src) = {src.shape[0]} (got {int(ptr[0])} .. {int(ptr[-1])})"
        )
    if ptr.numel() > 1 and bool((ptr[1:] < ptr[:-1]).any()):
        raise ValueError(f"{fn}: ptr must be non-decreasing (got {ptr.tolist()[:8]}...)")


def segment_sum(src: Tensor, ptr: Tensor) -> Tensor:
    """Sum of every segment ``src[ptr[s]:ptr[s+1]]``; empty segments give 0.

    Example:
        >>> segment_sum(torch.tensor([1.0, 2.0, 3.0, 4.0]), torch.tensor([0, 3, 3, 4]))
        tensor([6., 0., 4.])
    """
    _check("segment_sum", src, ptr)
    flat = src.dim() == 1
    out = spmm(incidence_csr(ptr, src.shape[0]), src.unsqueeze(1) if flat else src)  # [S, F]
    return out.squeeze(1) if flat else out


def segment_mean(src: Tensor, ptr: Tensor) -> Tensor:
    """Mean of every segment (sum divided by the segment length); empty segments give 0.

    Example:
        >>> segment_mean(torch.tensor([1.0, 2.0, 3.0, 4.0]), torch.tensor([0, 3, 3, 4]))
        tensor([2., 0., 4.])
    """
    total = segment_sum(src, ptr)
    count = (ptr[1:] - ptr[:-1]).clamp_min(1).to(src.dtype)  # [S]
    return total / (count if src.dim() == 1 else count.unsqueeze(1))
