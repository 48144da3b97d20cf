r"""Exponential moving average of a model's weights, used for sampling.

.. math:: \bar\theta \leftarrow d_n \bar\theta + (1 - d_n)\,\theta,\qquad
          d_n = \min\!\big(d, \tfrac{1 + n}{10 + n}\big) \text{ with warmup, else } d

after the :math:`n`-th optimiser step (the warmup is TensorFlow's ``ExponentialMovingAverage``
with ``num_updates``; without it a decay of 0.9999 needs ~10^4 steps to forget the initial weights).
Floating-point buffers (batch-norm running statistics) are averaged the same way, other buffers copied.

The official SDDPM script defines ``ema`` and ``--ema_decay 0.9999`` but never calls them (its
samples come from the raw weights); here the average is kept and sampled from.
"""

from __future__ import annotations

import copy

import torch
from spikingjelly.activation_based import functional as sj_functional
from torch import nn

__all__ = ["EMA"]


class EMA(nn.Module):
    """Holds ``module``, an averaged copy of ``model`` (a deep copy made at construction).

    Args:
        model: the trained network (not modified).
        decay: :math:`d` in [0, 1) (SDDPM/DDPM: 0.9999).
        warmup: use :math:`d_n = \\min(d, (1+n)/(10+n))`.

    Call :meth:`update` after every optimiser step; sample with ``ema.module``.
    """

    def __init__(self, model: nn.Module, decay: float = 0.9999, warmup: bool = True) -> None:
        super().__init__()
        if not isinstance(model, nn.Module):
            raise TypeError(f"EMA: model must be an nn.Module (got {type(model).__name__})")
        if isinstance(decay, bool) or not isinstance(decay, (int, float)) or not 0.0 <= decay < 1.0:
            raise ValueError(f"EMA: decay must be a float in [0, 1) (got {decay!r})")
        self.decay, self.warmup = float(decay), bool(warmup)
        sj_functional.reset_net(model)  # do not copy a stale membrane state
        self.module = copy.deepcopy(model)
        self.module.requires_grad_(False)
        self.register_buffer("num_updates", torch.zeros((), dtype=torch.long))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Restart the update count (the averaged weights are left as they are)."""
        self.num_updates.zero_()

    def current_decay(self) -> float:
        n = int(self.num_updates)
        return min(self.decay, (1 + n) / (10 + n)) if self.warmup else self.decay

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Move the average towards ``model``'s current weights (same architecture as at construction)."""
        d = self.current_decay()
        ours, theirs = self.module.state_dict(), model.state_dict()
        if ours.keys() != theirs.keys():
            raise ValueError(
                "EMA.update: model's state_dict keys differ from the averaged copy's "
                f"(missing {sorted(ours.keys() - theirs.keys())[:3]}, extra {sorted(theirs.keys() - ours.keys())[:3]})"
            )
        for key, avg in ours.items():
            new = theirs[key].detach()
            if avg.is_floating_point():
                avg.mul_(d).add_(new.to(avg.dtype), alpha=1.0 - d)
            else:
                avg.copy_(new)
        self.num_updates += 1

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def extra_repr(self) -> str:
        return f"decay={self.decay}, warmup={self.warmup}"
