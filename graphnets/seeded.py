"""Randomness of layers drawn from a ``torch.Generator``: dropout masks and ``nn.Linear`` initialisation.

Shared by the conv layers and the node models (DAGNN, SpikingGCN), so a run seeded with one
generator draws its initialisation and its dropout masks from it.
"""

from __future__ import annotations

import math
from typing import Optional

import torch
from torch import Tensor, nn

__all__ = ["dropout", "reset_linear"]


def dropout(x: Tensor, p: float, training: bool, generator: Optional[torch.Generator] = None) -> Tensor:
    """Inverted dropout like ``F.dropout``, but drawing its mask from ``generator`` when given."""
    if not training or p == 0.0:
        return x
    if generator is None:
        return torch.nn.functional.dropout(x, p, training=True)
    if p >= 1.0:
        return torch.zeros_like(x)
    keep = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype) >= p
    return x * keep / (1.0 - p)


def reset_linear(lin: nn.Linear, generator: Optional[torch.Generator] = None) -> None:
    """``nn.Linear.reset_parameters`` (Kaiming-uniform weight, uniform bias) drawn from ``generator``."""
    nn.init.kaiming_uniform_(lin.weight, a=math.sqrt(5), generator=generator)
    if lin.bias is not None:
        bound = 1.0 / math.sqrt(lin.in_features) if lin.in_features > 0 else 0.0
        nn.init.uniform_(lin.bias, -bound, bound, generator=generator)
