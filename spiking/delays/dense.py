r"""Dense delay path: cross-correlate a ``[C_out, C_in, K]`` delay kernel along time.

.. math::
    y[t, b, o] = \sum_{i} \sum_{k=0}^{K-1} \kappa_{oi}[k]\, x[t + k - (K - 1), b, i] \;(+\; \text{bias}_o)

over time-major input ``x [T, B, C_in]`` padded with ``K - 1`` zeros before and ``right_padding``
(default :math:`\lfloor (K-1)/2 \rfloor`, the official code's) zeros after, so tap ``k`` delays by
``K - 1 - k`` steps and the output has ``T + right_padding`` steps: late spikes still reach it.
This is ``F.pad`` + ``Dcls1d`` (``conv1d``) of the official SNN-delays code, in time-major layout.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

__all__ = ["check_delay_input", "check_right_padding", "delay_conv"]


def check_delay_input(fn: str, x, in_channels: int) -> None:
    """``x`` must be a floating tensor ``[T, B, in_channels]`` with T >= 1."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}: expected a tensor [T, B, C_in] (got {type(x).__name__})")
    if not x.is_floating_point():
        raise TypeError(f"{fn}: expected a floating-point input (got {x.dtype})")
    if x.dim() != 3:
        raise ValueError(f"{fn}: expected time-major input [T, B, C_in] (got shape {tuple(x.shape)})")
    if x.shape[-1] != in_channels:
        raise ValueError(
            f"{fn}: input has {x.shape[-1]} channels but the layer expects C_in={in_channels} "
            f"(got shape {tuple(x.shape)})"
        )
    if x.shape[0] == 0:
        raise ValueError(f"{fn}: input has no time steps (got shape {tuple(x.shape)})")


def check_right_padding(fn: str, right_padding, kernel_size: int) -> int:
    """``None`` -> ``(K - 1) // 2``; else an int >= 0."""
    if right_padding is None:
        return (kernel_size - 1) // 2
    if isinstance(right_padding, bool) or not isinstance(right_padding, int) or right_padding < 0:
        raise ValueError(f"{fn}: right_padding must be None or an int >= 0 (got {right_padding!r})")
    return right_padding


def delay_conv(x: Tensor, kernel: Tensor, bias: Tensor | None = None, right_padding: int | None = None) -> Tensor:
    """Apply a delay kernel ``[C_out, C_in, K]`` to ``x [T, B, C_in]`` -> ``[T + right_padding, B, C_out]``
    (module docstring). Differentiable in ``x``, ``kernel`` and ``bias``."""
    fn = "delay_conv"
    if kernel.dim() != 3:
        raise ValueError(f"{fn}: kernel must be [C_out, C_in, K] (got shape {tuple(kernel.shape)})")
    check_delay_input(fn, x, kernel.shape[1])
    K = kernel.shape[-1]
    rp = check_right_padding(fn, right_padding, K)
    xb = F.pad(x.permute(1, 2, 0), (K - 1, rp))  # [B, C_in, K - 1 + T + rp]
    return F.conv1d(xb, kernel, bias).permute(2, 0, 1)  # [B, C_out, T + rp] -> [T + rp, B, C_out]
