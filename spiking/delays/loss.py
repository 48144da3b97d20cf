r"""The delay networks' loss: class probabilities summed over time.

.. math::
    m_{b} = \sum_t \mathrm{softmax}(V[t, b, :]), \qquad
    \mathcal L = \mathrm{CE}(m, y) = -\frac1B \sum_b \log \frac{e^{m_{b, y_b}}}{\sum_c e^{m_{b,c}}}

(the official ``loss='sum'``: ``nn.CrossEntropyLoss`` applied to the summed softmax, which it treats
as logits). The prediction is :math:`\arg\max_c m_{b,c}`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["sum_softmax_loss", "sum_softmax_predict", "summed_softmax"]


def summed_softmax(v: Tensor) -> Tensor:
    """``v [T, B, C]`` -> ``[B, C]``: the per-step softmax over classes, summed over time."""
    if not isinstance(v, Tensor) or v.dim() != 3:
        raise ValueError(
            f"summed_softmax: expected read-out potentials [T, B, C] (got {getattr(v, 'shape', type(v).__name__)})"
        )
    return F.softmax(v, dim=-1).sum(0)


def sum_softmax_loss(v: Tensor, target: Tensor) -> Tensor:
    """Cross-entropy of the summed softmax (module docstring); ``target`` int class ids ``[B]``."""
    m = summed_softmax(v)
    if not isinstance(target, Tensor) or target.shape != m.shape[:1]:
        raise ValueError(
            f"sum_softmax_loss: target must be [B={m.shape[0]}] class ids (got "
            f"{getattr(target, 'shape', type(target).__name__)})"
        )
    return F.cross_entropy(m, target)


def sum_softmax_predict(v: Tensor) -> Tensor:
    """Predicted classes ``[B]`` (int64) from read-out potentials ``[T, B, C]``."""
    with torch.no_grad():
        return summed_softmax(v).argmax(-1)
