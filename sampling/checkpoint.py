"""The checkpoint state of a trainer: model, optimizer, scheduler, random generator and epoch.

One mixin for the trainers of both model packages (:class:`graphnets.ckgconv.train.GraphRegressionTrainer`,
:class:`spiking.training.SNNClassifierTrainer`), which may both import :mod:`sampling`.
"""

from __future__ import annotations

import torch

__all__ = ["TrainerState"]


class TrainerState:
    """Mixin giving a trainer ``state_dict()`` / ``load_state_dict(state)``.

    The trainer holds ``model`` (``nn.Module``), ``optimizer``, ``scheduler`` (an LR scheduler),
    ``generator`` (the ``torch.Generator`` of its shuffling) and ``epoch`` (epochs done). The state
    is the dict ``{"model", "optimizer", "scheduler", "generator", "epoch"}`` (``torch.save``-able);
    loading it restores all five, so training resumes bitwise where it stopped.
    """

    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    generator: torch.Generator
    epoch: int

    def state_dict(self) -> dict:
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "generator": self.generator.get_state(),
            "epoch": self.epoch,
        }

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.generator.set_state(state["generator"])
        self.epoch = int(state["epoch"])
