"""Tile a batch of images into one picture and write it as PNG (matplotlib, no torchvision needed)."""

from __future__ import annotations

import math
import os

import numpy as np
import torch

__all__ = ["image_grid", "save_image_grid"]


def image_grid(images: torch.Tensor, nrow: int | None = None, padding: int = 2, scale: int = 1) -> np.ndarray:
    """``images`` [N, C, H, W] in [-1, 1] (C = 1 or 3) -> uint8 ``[rows, cols, 3]``, ``nrow`` images per row
    (about square by default), ``padding`` grey pixels between tiles, each pixel repeated ``scale`` times."""
    if not isinstance(images, torch.Tensor) or images.dim() != 4 or images.shape[1] not in (1, 3) or not len(images):
        raise ValueError(
            f"image_grid: expected images [N>0, 1 or 3, H, W] (got "
            f"{tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__})"
        )
    n, c, h, w = images.shape
    nrow = nrow or math.ceil(math.sqrt(n))
    rows = math.ceil(n / nrow)
    x = ((images.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    x = x.expand(-1, 3, -1, -1) if c == 1 else x  # [N, 3, H, W]
    if scale > 1:
        x = x.repeat_interleave(scale, -1).repeat_interleave(scale, -2)
        h, w = h * scale, w * scale
    grid = torch.full((3, rows * (h + padding) + padding, nrow * (w + padding) + padding), 128, dtype=torch.uint8)
    for i in range(n):
        r, col = divmod(i, nrow)
        top, left = padding + r * (h + padding), padding + col * (w + padding)
        grid[:, top : top + h, left : left + w] = x[i]
    return grid.permute(1, 2, 0).numpy()  # [rows, cols, 3]


def save_image_grid(images: torch.Tensor, path: str | os.PathLike, nrow: int | None = None, scale: int = 4) -> None:
    """Write :func:`image_grid` of ``images`` to ``path`` (PNG)."""
    import matplotlib.image

    matplotlib.image.imsave(os.fspath(path), image_grid(images, nrow, scale=scale))
