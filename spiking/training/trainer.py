"""Supervised training of a spiking classifier on time-major frames (the loop of ``examples/neuromorphic.py``)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from spikingjelly.activation_based import functional
from torch import nn
from torch.utils.data import DataLoader, Dataset

from sampling.checkpoint import TrainerState
from sampling.finite import check_finite, check_loss, check_parameters
from spiking.training.data import time_major_collate
from spiking.training.monitor import FiringRateMonitor

__all__ = ["SNNClassifierTrainer", "SNNTrainConfig"]

Progress = Callable[[dict], Any] | None


@dataclass(frozen=True)
class SNNTrainConfig:
    """Settings of :class:`SNNClassifierTrainer` (Adam, cosine schedule over ``epochs``)."""

    epochs: int = 3
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 0.0
    workers: int = 0

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"SNNTrainConfig: {name} must be an int >= 1 (got {v!r})")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"SNNTrainConfig: lr must be finite and > 0 (got {self.lr!r})")
        if not (math.isfinite(self.weight_decay) and self.weight_decay >= 0):
            raise ValueError(f"SNNTrainConfig: weight_decay must be finite and >= 0 (got {self.weight_decay!r})")
        if isinstance(self.workers, bool) or not isinstance(self.workers, int) or self.workers < 0:
            raise ValueError(f"SNNTrainConfig: workers must be an int >= 0 (got {self.workers!r})")


class SNNClassifierTrainer(TrainerState):
    r"""Train a spiking classifier with cross-entropy on its time-averaged logits.

    Per batch: ``x [T, B, ...]`` (:func:`~spiking.training.time_major_collate`) -> logits
    ``[B, K]`` -> :math:`\mathrm{CE}` -> Adam step -> ``reset_net`` (spikingjelly's
    ``functional.reset_net``, which also resets graphspike neurons). After each training epoch
    the cosine schedule (``CosineAnnealingLR(T_max=epochs)``) steps. This is spikingjelly's
    classification recipe (Fang et al., ICCV 2021) without mixed precision.

    The trainer owns the optimizer, the schedule and the ``torch.Generator`` that shuffles the
    training set, so :meth:`state_dict` / :meth:`load_state_dict` continue a run exactly (with
    torch's global RNG state restored by the caller: dropout draws from it).

    Args:
        model: maps ``[T, B, ...]`` to logits ``[B, K]``; moved to ``device``.
        train_set, test_set: datasets of ``(frames [T, ...], label)``.
        config: :class:`SNNTrainConfig`.
        generator: shuffles the training set (one draw per epoch).
        device: where the model runs.

    Every epoch returns ``loss`` (mean cross-entropy), ``acc`` (fraction), ``samples``,
    ``seconds`` and ``rates`` (mean firing rate per neuron layer, :class:`FiringRateMonitor`).
    A non-finite loss raises :class:`~sampling.finite.NonFiniteError` (a ``FloatingPointError``)
    naming the epoch and batch, before that batch's update.
    """

    def __init__(
        self,
        model: nn.Module,
        train_set: Dataset,
        test_set: Dataset,
        config: SNNTrainConfig,
        generator: torch.Generator,
        *,
        device: str | torch.device = "cpu",
    ) -> None:
        if not isinstance(config, SNNTrainConfig):
            raise TypeError(f"SNNClassifierTrainer: config must be an SNNTrainConfig (got {type(config).__name__})")
        self.config, self.generator, self.device = config, generator, torch.device(device)
        self.model = model.to(self.device)
        self.train_loader = DataLoader(
            train_set,
            config.batch_size,
            shuffle=True,
            generator=generator,
            collate_fn=time_major_collate,
            num_workers=config.workers,
        )
        self.test_loader = DataLoader(
            test_set, config.batch_size, shuffle=False, collate_fn=time_major_collate, num_workers=config.workers
        )
        self.optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        self.scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(self.optimizer, T_max=config.epochs)
        self.monitor = FiringRateMonitor(self.model)
        self.epoch = 0

    @property
    def lr(self) -> float:
        """The learning rate the next epoch will use."""
        return self.optimizer.param_groups[0]["lr"]

    def _epoch(self, loader: DataLoader, train: bool, progress: Progress) -> dict:
        model = self.model
        model.train(train)
        total, correct, n, t0 = 0.0, 0, 0, time.perf_counter()
        with torch.set_grad_enabled(train):
            for i, (x, y) in enumerate(loader):
                x, y = x.to(self.device), y.to(self.device)
                check_finite(
                    x,
                    f"SNNClassifierTrainer (epoch {self.epoch + int(train)}, batch {i})",
                    "the input batch",
                    ("time", "sample"),
                )  # a spiking neuron would turn NaN into silence
                logits = model(x)
                loss = nn.functional.cross_entropy(logits, y)
                value = check_loss(
                    loss,
                    f"SNNClassifierTrainer ({'train' if train else 'test'})",
                    epoch=self.epoch + int(train),
                    batch=i,
                )  # before the update
                if train:
                    self.optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    self.optimizer.step()
                functional.reset_net(model)
                total += value * y.numel()
                correct += int((logits.argmax(1) == y).sum())
                n += y.numel()
                if progress is not None:
                    progress({"loss": total / n, "acc": correct / n, "samples": y.numel()})
        seconds = time.perf_counter() - t0
        return {"loss": total / n, "acc": correct / n, "samples": n, "seconds": seconds, "rates": self.monitor.pop()}

    def train_epoch(self, progress: Progress = None) -> dict:
        """One pass over the training set (shuffled); ``progress`` gets running ``loss``/``acc`` per batch."""
        self.monitor.pop()
        out = self._epoch(self.train_loader, True, progress)
        # a spiking layer turns NaN weights into silence and a finite loss: check the weights themselves
        check_parameters(self.model, "SNNClassifierTrainer", epoch=self.epoch + 1)
        return out

    @torch.no_grad()
    def evaluate(self, progress: Progress = None) -> dict:
        """Loss, accuracy and firing rates on the test set (eval mode)."""
        self.monitor.pop()
        return self._epoch(self.test_loader, False, progress)

    def step_schedule(self) -> None:
        """End the epoch: step the cosine schedule and count the epoch."""
        self.scheduler.step()
        self.epoch += 1
