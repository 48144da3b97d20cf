"""The training loop of SDDPM (``main_SDDPM.py``), as a small reusable object.

Each step: a batch drawn with replacement from the data (random horizontal flips where the data
set's SDDPM transform has them), the DDPM loss, Adam, gradient-norm clipping, then the EMA update.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from sampling.finite import check_loss
from spiking.datasets.images import random_hflip

from .ema import EMA
from .gaussian import GaussianDiffusion

__all__ = ["DiffusionTrainer", "TrainConfig"]


@dataclass(frozen=True)
class TrainConfig:
    """Adam ``lr`` (SDDPM 2e-4), ``grad_clip`` (1.0), ``batch_size`` (32), ``ema_decay`` with TF-style
    ``ema_warmup``, and ``hflip`` (random horizontal flips of the training images)."""

    lr: float = 2e-4
    grad_clip: float = 1.0
    batch_size: int = 32
    ema_decay: float = 0.9999
    ema_warmup: bool = True
    hflip: bool = False

    def __post_init__(self) -> None:
        if not self.lr > 0 or not self.grad_clip > 0:
            raise ValueError(f"TrainConfig: lr and grad_clip must be positive (got {self.lr}, {self.grad_clip})")
        if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise ValueError(f"TrainConfig: batch_size must be a positive int (got {self.batch_size!r})")


class DiffusionTrainer:
    """Trains ``diffusion.model`` on ``data`` (an image dataset with ``batch(index)`` and ``len``).

    ``step()`` runs one optimisation step and returns the loss (a NaN/inf loss or gradient norm raises
    :class:`~sampling.finite.NonFiniteError` naming the step, before the update); ``ema.module`` is the averaged
    model to sample from (:meth:`ema_diffusion`). All randomness (batches, flips, diffusion steps,
    noise) comes from ``generator``. ``state_dict``/``load_state_dict`` cover model, optimiser,
    EMA and step count for resuming.
    """

    def __init__(
        self,
        diffusion: GaussianDiffusion,
        data,
        config: TrainConfig = TrainConfig(),
        generator: torch.Generator | None = None,
    ) -> None:
        if not isinstance(diffusion, GaussianDiffusion):
            raise TypeError(f"DiffusionTrainer: diffusion must be a GaussianDiffusion (got {type(diffusion).__name__})")
        if not hasattr(data, "batch") or len(data) == 0:
            raise ValueError("DiffusionTrainer: data must be a non-empty image dataset with batch(index)")
        self.diffusion, self.data, self.config = diffusion, data, config
        self.generator = generator if generator is not None else torch.Generator().manual_seed(0)
        self.optimizer = torch.optim.Adam(diffusion.model.parameters(), lr=config.lr)
        self.ema = EMA(diffusion.model, config.ema_decay, config.ema_warmup)
        self.steps = 0

    def step(self) -> float:
        g, cfg, model = self.generator, self.config, self.diffusion.model
        model.train()
        idx = torch.randint(len(self.data), (cfg.batch_size,), generator=g)
        x0 = self.data.batch(idx)
        if cfg.hflip:
            x0 = random_hflip(x0, g)
        device = next(model.parameters()).device
        loss = self.diffusion.loss(x0.to(device), generator=g if device.type == "cpu" else None)
        value = check_loss(loss, "DiffusionTrainer.step", step=self.steps + 1)
        self.optimizer.zero_grad()
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        check_loss(norm, "DiffusionTrainer.step", "gradient norm", step=self.steps + 1)
        self.optimizer.step()
        self.ema.update(model)
        self.steps += 1
        return value

    def ema_diffusion(self) -> GaussianDiffusion:
        """A :class:`GaussianDiffusion` with the same schedule around the EMA model."""
        d = self.diffusion
        return GaussianDiffusion(self.ema.module, d.num_steps, d.beta_1, d.beta_T, d.var_type, d.clip_x0)

    def state_dict(self) -> dict:
        return {
            "model": self.diffusion.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "ema": self.ema.state_dict(),
            "steps": self.steps,
            "generator": self.generator.get_state(),
        }

    def load_state_dict(self, state: dict) -> None:
        self.diffusion.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.ema.load_state_dict(state["ema"])
        self.steps = int(state["steps"])
        self.generator.set_state(state["generator"])
