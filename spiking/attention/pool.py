"""The DVS "max-pool" of STAtten / Spike-driven Transformer: a 3 x 3, stride-1 spatial max-pool
of token spikes (official code: ``nn.MaxPool3d((1, 3, 3), 1, (0, 1, 1))`` on ``[T, B, C, H, W]``)."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["check_hw", "token_max_pool"]


def check_hw(fn: str, hw: tuple[int, int] | None, N: int) -> tuple[int, int]:
    """``hw`` as ``(H, W)`` after checking ``H * W == N``; raises ``ValueError`` naming ``fn``."""
    if hw is None or len(hw) != 2 or hw[0] * hw[1] != N:
        raise ValueError(f"{fn}: hw=(H, W) with H * W = N is needed for the DVS max-pool (got hw={hw!r}, N={N})")
    return int(hw[0]), int(hw[1])


def token_max_pool(x: Tensor, hw: tuple[int, int] | None, kernel_size: int = 3) -> Tensor:
    """``[T, B, N, D] -> [T, B, N, D]``: max over the ``kernel_size`` x ``kernel_size`` spatial
    neighbourhood of each token on its ``H x W`` map (``N = H W``, row-major); at the
    border only the neighbours that exist count (torch's max-pool padding).

    Raises:
        ValueError: ``hw`` missing or ``H * W != N``.
    """
    T, B, N, D = x.shape
    H, W = check_hw("token_max_pool", hw, N)
    img = x.reshape(T * B, H, W, D).permute(0, 3, 1, 2)  # [T*B, D, H, W], channels-last strides
    out = torch.nn.functional.max_pool2d(img, kernel_size, 1, kernel_size // 2)  # [T*B, D, H, W]
    return out.permute(0, 2, 3, 1).reshape(T, B, N, D)  # [T, B, N, D]
