"""Batching of ``(frames [T, ...], label)`` samples into time-major tensors, and seeded subsets."""

from __future__ import annotations

import torch
from torch import Tensor
from torch.utils.data import Dataset, Subset

__all__ = ["random_subset", "time_major_collate"]


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
