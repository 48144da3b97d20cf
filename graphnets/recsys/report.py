"""What a recommender training run chooses and reports: the config from a preset and overrides, the evaluation
fields of a metrics row, the dataset's sizes and the run's summary (best and final evaluation, times).

* :func:`resolve_config`: ``"auto"`` / ``"none"`` / a named preset, then overrides (``None`` keeps the preset);
* :func:`format_metrics`: ``"recall@20: 0.12345  ndcg@20: ..."`` for progress lines;
* :func:`evaluation_row`: the fields an evaluation adds to a per-epoch row;
* :func:`dataset_record`: name and sizes of an :class:`~graphnets.recsys.InteractionData`;
* :func:`training_summary`: best and final metrics, time to the best evaluation, median epoch and evaluation times;
* :func:`paper_comparison`: the paper's numbers beside ours, one line.
"""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Mapping, Sequence
from typing import Any, Optional, Union

from graphnets.recsys.data import InteractionData
from graphnets.recsys.presets import LightGCNConfig, UltraGCNConfig, get_preset, has_preset
from graphnets.recsys.trainer import RecommenderTrainer

__all__ = [
    "RANKING_KEYS",
    "dataset_record",
    "evaluation_row",
    "format_metrics",
    "paper_comparison",
    "resolve_config",
    "training_summary",
]

RANKING_KEYS = ("recall@20", "ndcg@20", "precision@20", "hr@20", "f1@20")


def resolve_config(
    model: str,
    data: str,
    preset: str = "auto",
    eval_every: Optional[int] = None,
    early_stop: Optional[int] = None,
    **overrides: Any,
) -> tuple[Union[LightGCNConfig, UltraGCNConfig], Optional[str]]:
    """``(config, preset_name)``: ``preset="auto"`` takes ``data``'s preset of ``model`` when one exists (else the
    model's defaults), ``"none"`` the defaults, any other string that preset; then ``overrides`` whose value is not
    ``None`` (:func:`~graphnets.recsys.get_preset`'s names). ``eval_every`` / ``early_stop`` replace the preset's;
    ``0`` turns them off (``None`` in the config).

    Raises:
        ValueError: unknown model or preset, or an unknown override name (from :func:`get_preset`).
    """
    name = None if preset == "none" else (data if has_preset(model, data) else None) if preset == "auto" else preset
    config = get_preset(model, name, **overrides)
    if eval_every is not None:
        config = dataclasses.replace(config, eval_every=eval_every or None)
    if early_stop is not None:
        config = dataclasses.replace(config, early_stop=early_stop or None)
    return config, name


def format_metrics(metrics: Mapping[str, float], keys: Sequence[str] = RANKING_KEYS[:4]) -> str:
    """``"k: v"`` with five decimals for each of ``keys`` present in ``metrics``, two spaces apart.

    Example:
        >>> format_metrics({"recall@20": 0.25, "ndcg@20": 0.125, "other": 1.0})
        'recall@20: 0.25000  ndcg@20: 0.12500'
    """
    return "  ".join(f"{k}: {metrics[k]:.5f}" for k in keys if k in metrics)


def evaluation_row(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """The fields an evaluation (:meth:`RecommenderTrainer.evaluate`) adds to a per-epoch row: its metrics
    without ``num_users`` and ``seconds``, and ``eval_seconds``."""
    row = {k: v for k, v in metrics.items() if k not in ("num_users", "seconds")}
    row["eval_seconds"] = metrics["seconds"]
    return row


def dataset_record(data: InteractionData) -> dict[str, Any]:
    """``name``, ``num_users``, ``num_items``, ``num_train`` and ``num_test`` of ``data``."""
    if not isinstance(data, InteractionData):
        raise TypeError(f"dataset_record: data must be an InteractionData (got {type(data).__name__})")
    keys = ("name", "num_users", "num_items", "num_train", "num_test")
    return {k: getattr(data, k) for k in keys}


def training_summary(
    trainer: RecommenderTrainer,
    rows: Sequence[Mapping[str, Any]],
    last: Mapping[str, Any],
    *,
    seconds: float,
    stop_reason: str,
) -> dict[str, Any]:
    """Summary of a finished run: ``best`` (the trainer's best evaluation) and ``final`` (``last``, the latest
    evaluation, at the trainer's epoch), each with the :data:`RANKING_KEYS` present and ``epoch``; ``seconds`` and
    ``stop_reason`` as given; ``seconds_to_best`` (setup plus training and evaluation time of the rows up to the best
    epoch); the median training seconds per epoch and evaluation seconds over ``rows`` (``None`` without any);
    ``setup_seconds``.

    Raises:
        ValueError: the trainer has no evaluation yet.
    """
    if trainer.best is None:
        raise ValueError("training_summary: the trainer has not evaluated yet (got best=None)")
    best = {**{k: trainer.best[k] for k in RANKING_KEYS if k in trainer.best}, "epoch": trainer.best["epoch"]}
    final = {**{k: last[k] for k in RANKING_KEYS if k in last}, "epoch": trainer.epoch}
    train_s = [r["train_seconds"] for r in rows if "train_seconds" in r]
    eval_s = [r["eval_seconds"] for r in rows if "eval_seconds" in r]
    to_best = sum(r.get("train_seconds", 0) + r.get("eval_seconds", 0) for r in rows if r["epoch"] <= best["epoch"])
    return {
        "best": best,
        "final": final,
        "seconds": seconds,
        "stop_reason": stop_reason,
        "seconds_to_best": trainer.setup_seconds + to_best,
        "median_train_seconds_per_epoch": statistics.median(train_s) if train_s else None,
        "median_eval_seconds": statistics.median(eval_s) if eval_s else None,
        "setup_seconds": trainer.setup_seconds,
    }


def paper_comparison(paper: Mapping[str, float], ours: Mapping[str, float]) -> str:
    """``"paper vs ours (best): k: paper vs ours  ..."`` for every metric of ``paper`` (``nan`` if ``ours`` lacks it).

    Example:
        >>> paper_comparison({"recall@20": 0.1830}, {"recall@20": 0.18123})
        'paper vs ours (best): recall@20: 0.1830 vs 0.1812'
    """
    return "paper vs ours (best): " + "  ".join(
        f"{k}: {v:.4f} vs {ours.get(k, float('nan')):.4f}" for k, v in paper.items()
    )
