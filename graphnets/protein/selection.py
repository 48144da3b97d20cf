r"""Nested leave-one-target-out model selection: choose settings without looking at the held-out target.

With few targets there is no spare validation target, so a setting picked by its test score
flatters whichever model has more settings to pick from. :func:`nested_loto` scores every setting
of a grid twice: *outer* (leave-one-target-out over all targets: the score each target gets) and
*inner* (for each target ``t``, leave-one-target-out over the other targets only, Fisher-z mean of
their residue Pearson). :func:`nested_selection` then picks, per held-out ``t``, the setting with
the best inner score and reports that setting's outer score on ``t``. Nothing about ``t`` is used
before its final score (Varma & Simon, BMC Bioinformatics 7:91, 2006: nested cross-validation).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from graphnets.protein.decoys import DecoySet
from graphnets.protein.metrics import fisher_mean
from graphnets.protein.train import QualityTrainConfig, leave_one_target_out
from sampling import leave_one_group_out

__all__ = ["nested_loto", "nested_selection", "per_target_pearson", "setting_name"]


def setting_name(model: str, setting: dict) -> str:
    """``"sgcn_order2_weight_decay0.003_dropout0.02"``: the model and its setting, in key order."""
    return model + "".join(f"_{k}{v}" for k, v in setting.items())


def per_target_pearson(result: dict) -> dict[str, float]:
    """Residue Pearson per target of a :func:`leave_one_target_out` result (NaN for a constant prediction)."""
    return {t: math.nan if v["pearson"] is None else v["pearson"] for t, v in result["residue"]["per_target"].items()}


def nested_selection(
    outer: dict[str, dict[str, float]], inner: dict[str, dict[str, float]], targets: Sequence[str]
) -> dict:
    """Per held-out target: the setting with the best inner score, and its outer score.

    ``outer[setting][t]``: the score of ``t`` when held out; ``inner[setting][t]``: the score of the
    setting over the targets other than ``t``. NaN (a constant prediction) ranks last; ties break on
    the setting name, never on the test score. Returns ``pearson`` (Fisher-z mean of the chosen
    outer scores), ``per_target`` and ``chosen``.
    """
    if not outer or set(outer) != set(inner):
        raise ValueError(
            f"nested_selection: outer and inner must score the same settings (got {sorted(outer)} and {sorted(inner)})"
        )
    per_target, chosen = {}, {}
    for t in targets:
        best = max(inner, key=lambda s: (-math.inf if math.isnan(inner[s][t]) else inner[s][t], s))
        chosen[t] = best
        per_target[t] = outer[best][t]
    return {"pearson": fisher_mean(list(per_target.values())), "per_target": per_target, "chosen": chosen}


def nested_loto(
    data: Callable[[QualityTrainConfig], DecoySet],
    model: str,
    settings: Sequence[dict],
    base: QualityTrainConfig,
    *,
    seed: int = 0,
    done: dict | None = None,
    on_setting: Callable[[str, dict], Any] | None = None,
    device: Any = "cpu",
) -> dict:
    """Outer and inner scores of every setting of ``model``, then :func:`nested_selection`.

    Args:
        data: returns the decoy set for a config (graphs depend on ``order``; cache it).
        model: a :data:`~graphnets.protein.train.QUALITY_MODELS` name.
        settings: dicts of :class:`QualityTrainConfig` fields that vary (e.g. ``weight_decay``,
            ``dropout``, ``order``); the other fields come from ``base``.
        seed: seed of every run (:func:`leave_one_target_out`).
        done: ``{"outer": .., "inner": ..}`` of settings already scored (a resumed run): skipped.
        on_setting: called with ``(name, {"outer": per-target, "inner": per-target})`` after each setting.
        device: where the models train.

    Returns ``{"outer", "inner", "pearson", "per_target", "chosen"}``.

    Raises:
        ValueError: fewer than three targets (an inner split needs two).
    """
    done = done or {"outer": {}, "inner": {}}
    outer, inner = dict(done["outer"]), dict(done["inner"])
    targets: list[str] | None = None
    for setting in settings:
        name = setting_name(model, setting)
        config = replace(base, **setting)
        full = data(config)
        targets = full.targets
        if len(targets) < 3:
            raise ValueError(f"nested_loto: need >= 3 targets for an inner split (got {len(targets)})")
        if name in outer and name in inner:
            continue
        outer[name] = per_target_pearson(leave_one_target_out(full, model, config, seed=seed, device=device))
        inner[name] = {}
        for others, (t,) in leave_one_group_out(targets):
            rest = full.subset(others)
            scores = per_target_pearson(leave_one_target_out(rest, model, config, seed=seed, device=device))
            inner[name][t] = fisher_mean(list(scores.values()))
        if on_setting is not None:
            on_setting(name, {"outer": outer[name], "inner": inner[name]})
    if targets is None:
        raise ValueError("nested_loto: need at least one setting (got none)")
    return {**nested_selection(outer, inner, targets), "outer": outer, "inner": inner}
