"""Shared geometry for the protein tests."""

from __future__ import annotations

import torch


def random_rotation(seed: int) -> torch.Tensor:
    """A proper rotation (det +1), float64 ``[3, 3]``, from a seeded QR of a Gaussian matrix."""
    q, r = torch.linalg.qr(torch.randn(3, 3, generator=torch.Generator().manual_seed(seed), dtype=torch.float64))
    q = q * torch.sign(torch.diagonal(r))
    return q if torch.det(q) > 0 else -q
