"""Graph-regression training of CKGCN / GCNRegressor (the official ZINC recipe, epochs scaled down).

L1 loss (MAE), AdamW, :func:`~graphnets.ckgconv.schedule.cosine_with_warmup` stepped once per
epoch, gradient-norm clipping; the test MAE is computed every ``eval_every`` epochs and after the
last one (no model selection). Differences from the official GraphGym loop: no validation split
(the example trains on ZINC's validation graphs, see ``examples/graph_regression.py``), no
checkpoint selection, the schedule is per epoch as there but over a short budget.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from graphnets.ckgconv.schedule import cosine_with_warmup
from sampling.checkpoint import TrainerState
from sampling.finite import check_finite, check_loss

with warnings.catch_warnings():  # PyG 2.8 calls torch.jit.script at import, which torch 2.14 deprecates
    warnings.filterwarnings("ignore", message=r".*torch\.jit\.script.* is deprecated", category=FutureWarning)
    from torch_geometric.loader import DataLoader

__all__ = ["GraphRegressionTrainer", "RegressionTrainConfig", "mean_absolute_error"]

Progress = Callable[[int], Any] | None


@dataclass(frozen=True)
class RegressionTrainConfig:
    """Settings of :class:`GraphRegressionTrainer` (official ZINC: lr 1e-3, weight decay 1e-5,
    warmup 50 of 2000 epochs, min lr 1e-6, clip 1.0, batch 32)."""

    epochs: int = 10
    warmup: int = 1
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-5
    min_lr: float = 1e-6
    clip: float = 1.0
    eval_every: int = 1
    eval_batch_size: int = 128

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "eval_every", "eval_batch_size"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"RegressionTrainConfig: {name} must be an int >= 1 (got {v!r})")
        if not 0 <= self.warmup < self.epochs:
            raise ValueError(
                f"RegressionTrainConfig: need 0 <= warmup < epochs (got warmup={self.warmup}, epochs={self.epochs})"
            )
        for name in ("lr", "clip"):
            if not (math.isfinite(getattr(self, name)) and getattr(self, name) > 0):
                raise ValueError(f"RegressionTrainConfig: {name} must be finite and > 0 (got {getattr(self, name)!r})")
        if not (math.isfinite(self.weight_decay) and self.weight_decay >= 0 and 0 <= self.min_lr <= self.lr):
            raise ValueError(
                f"RegressionTrainConfig: need weight_decay >= 0 and 0 <= min_lr <= lr "
                f"(got {self.weight_decay!r}, {self.min_lr!r})"
            )


@torch.no_grad()
def mean_absolute_error(model: nn.Module, loader: DataLoader, device: str | torch.device = "cpu") -> float:
    """Mean over graphs of ``|model(batch) - batch.y|`` (eval mode; batches moved to ``device``).

    Raises :class:`~sampling.finite.NonFiniteError` when a prediction or target is NaN/inf (naming the
    graph's position in ``loader``'s order)."""
    model.eval()
    err, n = 0.0, 0
    for b in loader:
        b = b.to(device)
        diff = (model(b) - b.y).abs()
        if not bool(torch.isfinite(diff).all()):
            g = n + int((~torch.isfinite(diff)).nonzero()[0, 0])
            check_finite(diff, "mean_absolute_error", f"|prediction - target| of graph {g}", ("graph in batch",))
        err += diff.sum().item()
        n += b.num_graphs
    return err / n


class GraphRegressionTrainer(TrainerState):
    """Train ``model`` (PyG ``Batch`` -> ``[G]``) on ``train`` graphs, test MAE on ``test``.

    The trainer owns AdamW, the schedule and the ``generator`` that shuffles the training graphs,
    so :meth:`state_dict` / :meth:`load_state_dict` continue a run exactly (the caller restores
    torch's global RNG, which dropout uses).

    Args:
        model: maps a batch of :class:`~graphnets.ckgconv.transform.AddRRWP`-transformed graphs to ``[G]``.
        train, test: lists of PyG ``Data`` with ``y`` ``[1]``.
        config: :class:`RegressionTrainConfig`.
        generator: shuffles the training graphs.
        device: where the batches go (the model's device).
    """

    def __init__(
        self,
        model: nn.Module,
        train: Sequence,
        test: Sequence,
        config: RegressionTrainConfig,
        generator: torch.Generator,
        *,
        device: str | torch.device = "cpu",
    ) -> None:
        if not isinstance(config, RegressionTrainConfig):
            raise TypeError(
                f"GraphRegressionTrainer: config must be a RegressionTrainConfig (got {type(config).__name__})"
            )
        if not len(train) or not len(test):
            raise ValueError(
                f"GraphRegressionTrainer: need training and test graphs (got {len(train)} and {len(test)})"
            )
        self.model, self.config, self.generator, self.device = model, config, generator, torch.device(device)
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        self.scheduler = cosine_with_warmup(self.optimizer, config.epochs, config.warmup, min_lr=config.min_lr)
        self.train_loader = DataLoader(train, batch_size=config.batch_size, shuffle=True, generator=generator)
        self.test_loader = DataLoader(test, batch_size=config.eval_batch_size)
        self.epoch = 0

    def train_epoch(self, progress: Progress = None) -> dict:
        """One epoch; returns ``train_mae`` (mean L1 over graphs), ``lr`` (used in this epoch),
        ``seconds``, ``graphs``, ``graphs_per_s``; ``progress(1)`` after every batch. A non-finite
        loss or gradient norm raises :class:`~sampling.finite.NonFiniteError` (a ``FloatingPointError``)
        naming the epoch and batch, before that batch's update."""
        model, opt, cfg = self.model, self.optimizer, self.config
        model.train()
        loss_sum, n_graphs, t0 = 0.0, 0, time.perf_counter()
        for i, b in enumerate(self.train_loader):
            b = b.to(self.device)
            opt.zero_grad(set_to_none=True)
            loss = (model(b) - b.y).abs().mean()
            value = check_loss(loss, "GraphRegressionTrainer", epoch=self.epoch + 1, batch=i)  # before the update
            loss.backward()
            norm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
            check_loss(norm, "GraphRegressionTrainer", "gradient norm", epoch=self.epoch + 1, batch=i)
            opt.step()
            loss_sum += value * b.num_graphs
            n_graphs += b.num_graphs
            if progress is not None:
                progress(1)
        lr = opt.param_groups[0]["lr"]
        self.scheduler.step()
        self.epoch += 1
        seconds = time.perf_counter() - t0
        return {
            "train_mae": loss_sum / n_graphs,
            "lr": lr,
            "seconds": seconds,
            "graphs": n_graphs,
            "graphs_per_s": n_graphs / seconds,
        }

    def eval_due(self) -> bool:
        """Whether the schedule evaluates after the epoch just trained."""
        return self.epoch % self.config.eval_every == 0 or self.epoch == self.config.epochs

    def evaluate(self) -> float:
        """Test MAE of the current model."""
        return mean_absolute_error(self.model, self.test_loader, self.device)
