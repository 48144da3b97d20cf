r"""Training and evaluation of protein model-quality predictors, split by target.

As S-GCN's training and ``evaluation.py``, in miniature: each model learns per-residue lDDT-CA
(MSE, Adam with the official L2 of 3e-3 and dropout 0.02, a few graphs per step); targets are
split, never the decoys of one target (:func:`leave_one_target_out`: every target is tested once
by a model that never saw it); per target, Pearson and Spearman correlations of the global scores
(mean residue score) over its decoys and of the residue scores over its residues, Fisher-z
averaged over targets, and the z-score of the top-ranked decoy.

Differences from the official code: a fixed epoch budget, no validation target (four targets
leave none to spare), so nothing is selected on test targets; see
:func:`graphnets.protein.selection.nested_loto` for model selection without peeking.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from graphnets.protein.decoys import DecoySet
from graphnets.protein.metrics import per_target_correlation, top1_zscore
from graphnets.protein.near_native import near_native_decoy
from graphnets.protein.networks import SGCN, ResidueGCN, SGCNScoring, global_scores
from graphnets.protein.pdb import read_pdb
from graphnets.protein.residue_graph import ResidueGraph, collate_residue_graphs, residue_graph
from graphnets.protein.synthetic import torsion_decoy
from sampling import leave_one_group_out
from sampling.finite import check_loss

__all__ = [
    "QUALITY_MODELS",
    "QualityTrainConfig",
    "augmentation_graphs",
    "build_quality_model",
    "evaluate_quality",
    "leave_one_target_out",
    "predict_quality",
    "train_quality_model",
]

QUALITY_MODELS: dict[str, type[nn.Module]] = {"sgcn": SGCN, "sgcn_s": SGCNScoring, "gcn": ResidueGCN}

OnEpoch = Callable[[dict], Any] | None


@dataclass(frozen=True)
class QualityTrainConfig:
    """Settings of one training run (official S-GCN: Adam, L2 ``weight_decay`` 3e-3, dropout 0.02)."""

    epochs: int = 15
    lr: float = 1e-3
    weight_decay: float = 3e-3
    dropout: float = 0.02
    batch_size: int = 4  # graphs per optimiser step
    order: int = 5  # spherical-harmonic order (S-GCN models only)

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "order"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < (0 if name == "order" else 1):
                raise ValueError(
                    f"QualityTrainConfig: {name} must be an int >= {0 if name == 'order' else 1} (got {v!r})"
                )
        if not (math.isfinite(self.lr) and self.lr > 0 and math.isfinite(self.weight_decay) and self.weight_decay >= 0):
            raise ValueError(
                f"QualityTrainConfig: need lr > 0 and weight_decay >= 0, finite "
                f"(got {self.lr!r}, {self.weight_decay!r})"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"QualityTrainConfig: dropout must be in [0, 1) (got {self.dropout!r})")


def build_quality_model(name: str, config: QualityTrainConfig) -> nn.Module:
    """``"sgcn"`` (:class:`SGCN`), ``"sgcn_s"`` (:class:`SGCNScoring`) or ``"gcn"`` (:class:`ResidueGCN`)."""
    if name not in QUALITY_MODELS:
        raise ValueError(f"build_quality_model: name must be one of {sorted(QUALITY_MODELS)} (got {name!r})")
    kwargs = {"order": config.order} if name != "gcn" else {}
    return QUALITY_MODELS[name](dropout=config.dropout, **kwargs)


def _to(g: ResidueGraph, device: torch.device) -> ResidueGraph:
    """``g`` with its tensors on ``device`` (no copy when already there)."""
    if g.x.device == device:
        return g

    def move(t: Tensor | None) -> Tensor | None:
        return None if t is None else t.to(device)

    return replace(
        g,
        graph=g.graph.to(device),
        sh=move(g.sh),
        x=move(g.x),
        batch=move(g.batch),
        y=move(g.y),
        y_global=move(g.y_global),
    )


@torch.no_grad()
def predict_quality(
    model: nn.Module, graphs: Sequence[ResidueGraph], device: str | torch.device = "cpu"
) -> tuple[Tensor, Tensor]:
    """Per-residue predictions (concatenated, ``[R]``) and per-graph global scores (``[G]``), eval mode,
    computed on ``device`` and returned on the CPU."""
    model.eval()
    batch = _to(collate_residue_graphs(graphs), torch.device(device))
    res = model(batch)
    return res.cpu(), global_scores(res, batch.batch, batch.num_graphs).cpu()


def evaluate_quality(
    graphs: Sequence[ResidueGraph], res_pred: Tensor, glob_pred: Tensor, gdt_ts: dict[str, float] | None = None
) -> dict:
    """Per-target correlations (residue, global lDDT, global GDT-TS when known for every model),
    top-1 z-scores and the residue MSE of predictions for ``graphs``."""
    batch = collate_residue_graphs(graphs)
    res_targets = [batch.targets[int(b)] for b in batch.batch]
    out = {
        "residue": per_target_correlation(res_pred, batch.y, res_targets),
        "global_lddt": per_target_correlation(glob_pred, batch.y_global, list(batch.targets)),
        "top1_lddt": top1_zscore(glob_pred, batch.y_global, list(batch.targets)),
        "residue_mse": float(((res_pred - batch.y) ** 2).mean()),
    }
    if gdt_ts and all(n in gdt_ts for n in batch.names):
        g = torch.tensor([gdt_ts[n] for n in batch.names])
        out["global_gdt_ts"] = per_target_correlation(glob_pred, g, list(batch.targets))
        out["top1_gdt_ts"] = top1_zscore(glob_pred, g, list(batch.targets))
    return out


def train_quality_model(
    name: str,
    train: Sequence[ResidueGraph],
    test: Sequence[ResidueGraph],
    config: QualityTrainConfig,
    generator: torch.Generator,
    *,
    on_epoch: OnEpoch = None,
    device: str | torch.device = "cpu",
) -> tuple[nn.Module, float]:
    """Train one model on ``train`` (on ``device``); returns ``(model, seconds)``.

    ``generator`` draws the seed of torch's global generator (parameter initialisation and
    dropout) and the order of the training graphs every epoch. After every epoch ``on_epoch``
    gets ``epoch``, ``train_mse`` (per residue), ``test_residue_mse``, ``test_residue_pearson``
    and ``residues_per_s``: monitoring only, nothing is selected on ``test``. A non-finite loss
    raises :class:`~sampling.finite.NonFiniteError` (a ``FloatingPointError``) naming the epoch and
    batch, before that batch's update.
    """
    if not train or not test:
        raise ValueError(f"train_quality_model: need training and test graphs (got {len(train)} and {len(test)})")
    torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=generator)))  # init from the run seed
    device = torch.device(device)
    model = build_quality_model(name, config).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    test_batch = collate_residue_graphs(test)
    test_targets = [test_batch.targets[int(b)] for b in test_batch.batch]
    start = time.perf_counter()
    for epoch in range(1, config.epochs + 1):
        model.train()
        t0 = time.perf_counter()
        perm = torch.randperm(len(train), generator=generator).tolist()
        total, count = 0.0, 0
        for i in range(0, len(perm), config.batch_size):
            batch = _to(collate_residue_graphs([train[j] for j in perm[i : i + config.batch_size]]), device)
            loss = torch.nn.functional.mse_loss(model(batch), batch.y)
            value = check_loss(loss, "train_quality_model", epoch=epoch, batch=i // config.batch_size)  # pre-update
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += value * batch.num_nodes
            count += batch.num_nodes
        seconds = time.perf_counter() - t0
        res, _ = predict_quality(model, test, device)
        if on_epoch is not None:
            on_epoch(
                {
                    "epoch": epoch,
                    "train_mse": total / max(count, 1),
                    "test_residue_mse": float(((res - test_batch.y) ** 2).mean()),
                    "test_residue_pearson": per_target_correlation(res, test_batch.y, test_targets)["pearson"],
                    "residues_per_s": count / max(seconds, 1e-9),
                }
            )
    return model, time.perf_counter() - start


def augmentation_graphs(
    native_pdb: str | Path,
    target: str,
    generator: torch.Generator,
    *,
    near_native: int = 0,
    near_native_rmsd: float = 0.9,
    augment: int = 0,
    max_amplitude: float = 6.0,
    order: int = 5,
    cutoff: float = 10.0,
) -> list[ResidueGraph]:
    """Extra training models of one target made from its native (labels: lDDT-CA against the native).

    ``near_native`` decoys at ``near_native_rmsd`` Å CA RMSD (the official near-native set: 50 at
    ~0.9 Å), then ``augment`` torsion decoys of random amplitude up to ``max_amplitude`` degrees
    (1.5-14 Å RMSD on the shared natives: far from native, an exploratory setting). Backbone
    atoms only, so CA contacts.
    """
    native = read_pdb(native_pdb)
    made = [
        (f"{target}/near{k:03d}", *near_native_decoy(native, near_native_rmsd, generator)) for k in range(near_native)
    ]
    for k in range(augment):
        amp = max_amplitude * (0.05 + 0.95 * float(torch.rand(1, generator=generator)))
        made.append((f"{target}/aug{k:03d}", *torsion_decoy(native, amp, generator)))
    out = []
    for name, decoy, y in made:
        g = residue_graph(decoy, order=order, cutoff=cutoff, name=name, target=target)
        y = y.to(torch.float32)
        out.append(g.with_labels(y, y.mean().reshape(1)))
    return out


def leave_one_target_out(
    data: DecoySet,
    name: str,
    config: QualityTrainConfig,
    *,
    seed: int = 0,
    extra_train: dict[str, list[ResidueGraph]] | None = None,
    on_epoch: OnEpoch = None,
    on_fold: Callable[[int, nn.Module], Any] | None = None,
    device: str | torch.device = "cpu",
) -> dict:
    """Train and test model ``name`` once per target of ``data``, the target held out each time.

    Fold ``k`` tests target ``k`` (sorted; its native, when present, is never tested) with a model
    trained on every other target's models plus their ``extra_train`` graphs (augmentation). One
    ``torch.Generator`` seeded ``seed + 1000`` serves all folds, so every model name sees the same
    stream. ``on_epoch`` gets the per-epoch dicts with ``fold`` added; ``on_fold(fold, model)``
    is called after each fold. Models train on ``device``.

    Returns :func:`evaluate_quality`'s figures over all test models plus ``train_seconds``,
    ``num_parameters``, ``pred_global``, ``true_global`` and ``names``.

    Raises:
        ValueError: fewer than two targets.
    """
    targets = data.targets
    if len(targets) < 2:
        raise ValueError(f"leave_one_target_out: need >= 2 targets to split by target (got {len(targets)})")
    extra_train = extra_train or {}
    generator = torch.Generator().manual_seed(seed + 1000)
    res_all, glob_all, test_graphs, seconds, model = [], [], [], 0.0, None
    for fold, (train_targets, (held_out,)) in enumerate(leave_one_group_out(targets)):
        test = [g for g in data.graphs if g.targets[0] == held_out and not g.names[0].endswith("/native")]
        train = [g for g in data.graphs if g.targets[0] != held_out]
        for t in train_targets:
            train += extra_train.get(t, [])
        fold_cb = None if on_epoch is None else (lambda info, fold=fold: on_epoch({"fold": fold, **info}))
        model, s = train_quality_model(name, train, test, config, generator, on_epoch=fold_cb, device=device)
        seconds += s
        res, glob = predict_quality(model, test, device)
        res_all.append(res)
        glob_all.append(glob)
        test_graphs += test
        if on_fold is not None:
            on_fold(fold, model)
    res_pred, glob_pred = torch.cat(res_all), torch.cat(glob_all)
    batch = collate_residue_graphs(test_graphs)
    return {
        "train_seconds": seconds,
        "num_parameters": sum(p.numel() for p in model.parameters()),
        **evaluate_quality(test_graphs, res_pred, glob_pred, data.gdt_ts),
        "pred_global": glob_pred.tolist(),
        "true_global": batch.y_global.tolist(),
        "names": list(batch.names),
    }
