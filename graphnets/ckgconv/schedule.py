r"""Cosine learning-rate schedule with linear warmup (timm ``cosine_with_warmup``, per epoch).

.. math::
    \eta_t = \begin{cases} \eta_0 + (\eta_{\max} - \eta_0)\, t / W & t < W \\
    \eta_{\min} + \tfrac12(\eta_{\max} - \eta_{\min})\big(1 + \cos(\pi\,\tfrac{t - W}{T - W})\big) & t \ge W \end{cases}

Official ZINC: :math:`\eta_{\max} = 10^{-3}`, :math:`W = 50`, :math:`T = 2000`,
:math:`\eta_{\min} = 10^{-6}`, :math:`\eta_0 = 10^{-6}`. Returns a ``LambdaLR`` stepping once per epoch.
"""

from __future__ import annotations

import math

import torch

__all__ = ["cosine_with_warmup"]


def cosine_with_warmup(
    optimizer: torch.optim.Optimizer, epochs: int, warmup: int, min_lr: float = 1e-6, warmup_init_lr: float = 1e-6
) -> torch.optim.lr_scheduler.LambdaLR:
    """A ``LambdaLR`` implementing the schedule above for every param group's base lr."""
    if epochs < 1 or not 0 <= warmup < epochs:
        raise ValueError(
            f"cosine_with_warmup: need epochs >= 1 and 0 <= warmup < epochs (got epochs={epochs}, warmup={warmup})"
        )
    base = [g["lr"] for g in optimizer.param_groups]
    if any(b <= 0 for b in base):
        raise ValueError(f"cosine_with_warmup: base learning rates must be > 0 (got {base})")

    def factor(base_lr: float):
        def f(t: int) -> float:
            if t < warmup:
                lr = warmup_init_lr + (base_lr - warmup_init_lr) * t / warmup
            else:
                p = min(1.0, (t - warmup) / max(1, epochs - warmup))
                lr = min_lr + 0.5 * (base_lr - min_lr) * (1.0 + math.cos(math.pi * p))
            return lr / base_lr

        return f

    return torch.optim.lr_scheduler.LambdaLR(optimizer, [factor(b) for b in base])
