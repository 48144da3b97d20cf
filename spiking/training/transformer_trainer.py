"""The optimizer, schedule, loaders and checkpoint state of one spiking-transformer training run."""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from sampling.checkpoint import TrainerState
from spiking.models import SpikingTransformerConfig
from spiking.training.data import time_major_collate
from spiking.training.sequence import run_sequence_epoch

__all__ = ["SpikingTransformerTrainer"]


class SpikingTransformerTrainer(TrainerState):
    """Train a spiking transformer with the recipe of a :class:`~spiking.models.SpikingTransformerConfig`.

    Holds ``model`` (moved to ``device``), the recipe's optimizer
    (:meth:`~spiking.models.SpikingTransformerConfig.make_optimizer`) and per-epoch warm-up + cosine
    schedule (:meth:`~spiking.models.SpikingTransformerConfig.make_scheduler`), the time-major loaders
    (``batch_size`` of the config; the training loader shuffled by ``generator``) and ``epoch``
    (epochs done). :meth:`state_dict` is ``{"model", "optimizer", "scheduler", "generator", "epoch"}``
    (:class:`~sampling.checkpoint.TrainerState`), so a run resumes bitwise where it stopped (with
    torch's global RNG state, which dropout draws from, restored by the caller).

    One epoch: :meth:`train_epoch` (``config.loss``: TET or cross-entropy of the mean logits, see
    :func:`~spiking.training.run_sequence_epoch`), :meth:`evaluate`, then :meth:`step_schedule`.
    The learning rate follows the recipe (STAtten / Spike-driven Transformer configs) per epoch as
    timm does; the official code adds mixed precision and data augmentation, which this does not.

    Args:
        model: maps ``[T, B, ...]`` through ``forward_seq`` to per-step logits ``[T, B, K]``.
        config: the setup (``batch_size``, ``epochs``, optimizer and schedule fields, ``loss``).
        train_set, test_set: datasets of ``(frames [T, ...], label)``.
        generator: shuffles the training set (one draw per epoch).
        device: where the model runs.
        workers: ``DataLoader`` worker processes.

    Raises:
        TypeError: ``config`` is not a ``SpikingTransformerConfig`` or ``generator`` not a ``torch.Generator``.
        ValueError: ``workers`` is not an int >= 0.
    """

    def __init__(
        self,
        model: nn.Module,
        config: SpikingTransformerConfig,
        train_set: Dataset,
        test_set: Dataset,
        generator: torch.Generator,
        *,
        device: str | torch.device = "cpu",
        workers: int = 0,
    ) -> None:
        fn = "SpikingTransformerTrainer"
        if not isinstance(config, SpikingTransformerConfig):
            raise TypeError(f"{fn}: config must be a SpikingTransformerConfig (got {type(config).__name__})")
        if not isinstance(generator, torch.Generator):
            raise TypeError(f"{fn}: generator must be a torch.Generator (got {type(generator).__name__})")
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
            raise ValueError(f"{fn}: workers must be an int >= 0 (got {workers!r})")
        self.config, self.generator, self.device = config, generator, torch.device(device)
        self.model = model.to(self.device)
        self.optimizer = config.make_optimizer(self.model.parameters())
        self.scheduler = config.make_scheduler(self.optimizer)
        self.train_loader = DataLoader(
            train_set,
            config.batch_size,
            shuffle=True,
            generator=generator,
            collate_fn=time_major_collate,
            num_workers=workers,
        )
        self.test_loader = DataLoader(test_set, config.batch_size, collate_fn=time_major_collate, num_workers=workers)
        self.epoch = 0

    @property
    def lr(self) -> float:
        """The learning rate the current epoch uses."""
        return self.optimizer.param_groups[0]["lr"]

    def train_epoch(self, batches=None, where: str = "SpikingTransformerTrainer (train)") -> dict:
        """One training pass over ``batches`` (default: the shuffled training loader; pass it wrapped in a
        progress bar to show one); returns :func:`~spiking.training.run_sequence_epoch`'s dict."""
        batches = self.train_loader if batches is None else batches
        return run_sequence_epoch(
            self.model, batches, self.config.loss, optimizer=self.optimizer, device=self.device, where=where
        )

    def evaluate(self, batches=None, where: str = "SpikingTransformerTrainer (test)") -> dict:
        """Loss (cross-entropy of the mean logits), accuracy and firing rates on ``batches`` (default: test set)."""
        batches = self.test_loader if batches is None else batches
        return run_sequence_epoch(self.model, batches, self.config.loss, device=self.device, where=where)

    def step_schedule(self) -> None:
        """End the epoch: step the schedule and count the epoch."""
        self.scheduler.step()
        self.epoch += 1
