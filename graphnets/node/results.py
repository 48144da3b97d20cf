"""``RunResult``: what one training run of a node classifier reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["RunResult"]


@dataclass
class RunResult:
    """Outcome of one run. Accuracies are fractions in [0, 1].

    Attributes:
        test_acc: test accuracy of the selected model (DAGNN: at the lowest validation loss;
            SpikingGCN: of the checkpoint with the best validation accuracy).
        val_acc, val_loss: validation metrics of the selected epoch.
        best_epoch: the selected epoch (1-based). epochs_run: epochs actually trained.
        seconds: wall time of the run (training + per-epoch evaluation).
        history: per-epoch dicts (``epoch``, ``train_loss``, ``val_loss``, ``val_acc``, ...).
        extra: model-specific figures (SpikingGCN: spike counts per node).
        state: ``state_dict`` of the selected model (for checkpoints); not in :meth:`summary`.
    """

    test_acc: float
    val_acc: float
    val_loss: float
    best_epoch: int
    epochs_run: int
    seconds: float
    history: list[dict[str, float]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict, repr=False)

    def summary(self) -> dict[str, Any]:
        """Everything but the history (for metrics files)."""
        d = {k: v for k, v in self.__dict__.items() if k not in ("history", "state")}
        return d
