"""Batching of ``(frames [T, ...], label)`` samples into time-major tensors, seeded subsets, and frame-cache warm-up."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor
from torch.utils.data import Dataset, Subset

from spiking.datasets.base import FrameDataset

__all__ = ["random_subset", "time_major_collate", "warm_frames"]


def time_major_collate(batch: list) -> tuple[Tensor, Tensor]:
    """``[(x [T, ...], y), ...]`` -> ``(x [T, B, ...], y [B])``: the layout spiking layers expect."""
    if not batch:
        raise ValueError("time_major_collate: expected at least one sample (got an empty batch)")
    x = torch.stack([b[0] for b in batch], 1)  # [T, B, ...]
    y = torch.tensor([int(b[1]) for b in batch])
    return x, y


def random_subset(dataset: Dataset, n: int, generator: torch.Generator) -> Dataset:
    """``n`` samples drawn uniformly without replacement by ``generator``, kept in index order
    (index order keeps recordings that share a file together). ``n <= 0`` or ``n >= len``: all."""
    total = len(dataset)
    if n <= 0 or n >= total:
        return dataset
    idx = torch.randperm(total, generator=generator)[:n].tolist()
    return Subset(dataset, sorted(idx))


def warm_frames(dataset: Dataset, progress: Callable | None = None) -> None:
    """Integrate the frames of ``dataset`` (a :class:`~spiking.datasets.FrameDataset` or a ``Subset``
    of one) once, in file order, when it caches them (``cache_dir`` or ``in_memory``); otherwise do
    nothing. ``progress`` wraps the index range (e.g. a progress bar), as ``FrameDataset.warm``.

    Raises:
        TypeError: ``dataset`` (or the ``Subset``'s base) is not a ``FrameDataset``.
    """
    base, idx = (dataset.dataset, dataset.indices) if isinstance(dataset, Subset) else (dataset, None)
    if not isinstance(base, FrameDataset):
        raise TypeError(f"warm_frames: dataset must be a FrameDataset or a Subset of one (got {type(base).__name__})")
    if base.cache_dir is not None or base.in_memory:
        base.warm(idx, progress)
