"""Temporal efficient training (TET) loss."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["tet_loss"]


def tet_loss(
    logits_seq: Tensor, target: Tensor, means: float = 1.0, lamb: float = 0.001, label_smoothing: float = 0.0
) -> Tensor:
    r"""TET loss (Deng et al., "Temporal Efficient Training of Spiking Neural Network via Gradient
    Re-weighting", ICLR 2022, Eq. 8-10), as the STAtten / SDT training scripts use it:

    .. math::
        \mathcal{L} = (1 - \lambda)\,\frac1T \sum_{t} \mathrm{CE}(z[t], y)
        + \lambda\, \mathrm{MSE}(z, \phi)

    with :math:`\phi` = ``means`` (every logit of every step pulled towards it) and
    :math:`\lambda` = ``lamb`` (CIFAR10-DVS recipe: ``means=1.0``, ``lamb=0.001``).

    Args:
        logits_seq: per-step logits ``[T, B, K]`` (``model.forward_seq``).
        target: class indices ``[B]``.
        means, lamb: the regulariser's target and weight (``lamb`` in ``[0, 1]``).
        label_smoothing: of the cross-entropy (the official recipes use 0.1).

    Returns:
        a scalar in ``logits_seq``'s dtype. Non-finite logits give a non-finite loss (nothing is
        masked), which the trainers refuse before the update (:func:`sampling.finite.check_loss`).
    """
    if not isinstance(logits_seq, Tensor) or logits_seq.dim() != 3:
        got = tuple(logits_seq.shape) if isinstance(logits_seq, Tensor) else type(logits_seq).__name__
        raise ValueError(f"tet_loss: logits_seq must be per-step logits [T, B, K] (got {got})")
    if not isinstance(target, Tensor) or target.shape != logits_seq.shape[1:2]:
        got = tuple(target.shape) if isinstance(target, Tensor) else type(target).__name__
        raise ValueError(f"tet_loss: target must be class indices [B] with B={logits_seq.shape[1]} (got {got})")
    if not 0.0 <= lamb <= 1.0:
        raise ValueError(f"tet_loss: lamb must be in [0, 1] (got {lamb})")
    T, B, K = logits_seq.shape
    ce = torch.nn.functional.cross_entropy(
        logits_seq.reshape(T * B, K), target.repeat(T), label_smoothing=label_smoothing
    )  # mean over t and b = (1/T) sum_t CE_t
    if lamb == 0:
        return ce
    mse = torch.nn.functional.mse_loss(logits_seq, torch.full_like(logits_seq, means))
    return (1 - lamb) * ce + lamb * mse
