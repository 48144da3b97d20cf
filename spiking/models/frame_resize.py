"""Resize event frames to a model's input size (the 128 -> 64 step of the CIFAR10-DVS recipes)."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["FrameResize"]

_MODES = ("bilinear", "nearest")


class FrameResize:
    """Dataset transform: frames ``[T, C, H, W]`` -> ``[T, C, *size]`` by ``torch.nn.functional.interpolate``.

    ``mode="bilinear"`` (``align_corners=False``, no antialias) is what torchvision's
    ``transforms.Resize`` did on tensors in the official CIFAR10-DVS pipelines (torchvision 0.14);
    ``"nearest"`` is the official N-Caltech101 resize. Picklable, so it works in loader workers.
    """

    def __init__(self, size: tuple[int, int], mode: str = "bilinear") -> None:
        if (
            not isinstance(size, (tuple, list))
            or len(size) != 2
            or any(isinstance(s, bool) or not isinstance(s, int) or s <= 0 for s in size)
        ):
            raise ValueError(f"FrameResize: size must be (H, W) of positive ints (got {size!r})")
        if mode not in _MODES:
            raise ValueError(f"FrameResize: mode must be one of {_MODES} (got {mode!r})")
        self.size, self.mode = (int(size[0]), int(size[1])), mode

    def __call__(self, frames: Tensor) -> Tensor:
        if not isinstance(frames, Tensor) or frames.dim() != 4:
            got = tuple(frames.shape) if isinstance(frames, Tensor) else type(frames).__name__
            raise ValueError(f"FrameResize: expected frames [T, C, H, W] (got {got})")
        if tuple(frames.shape[-2:]) == self.size:
            return frames
        kw = {"align_corners": False} if self.mode == "bilinear" else {}
        return torch.nn.functional.interpolate(frames, size=self.size, mode=self.mode, **kw)  # [T, C, *size]

    def __repr__(self) -> str:
        return f"FrameResize(size={self.size}, mode={self.mode!r})"
