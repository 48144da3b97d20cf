"""Nested leave-one-target-out model selection: S-GCN vs the plain GCN without peeking at test targets.

With four targets there is no spare validation target, so a setting picked by its test score
flatters whichever model has more settings to pick from. Here, for every held-out target
``t``, each setting of the grid is scored by an inner leave-one-target-out over the *other*
targets only (Fisher-z mean of per-target residue Pearson); the best-scoring setting is then
trained on all other targets and scored on ``t``. Nothing about ``t`` is used before its final
score. Both models get the same grid (weight decay x dropout), epochs and folds; S-GCN also
selects its SH order. Every run is :mod:`protein_quality` (``examples/protein_quality.py``).

    python examples/protein_nested_loto.py --root ../shared/data/proteins/proteingcn_decoys --seeds 0,1 --out runs/nested

Writes ``<out>/nested.json``: per seed and model the nested per-target Pearson and the chosen
settings, every setting's inner and outer scores, and the paired S-GCN - GCN differences.
Each ``protein_quality`` run's own outputs and log go to ``<out>/runs/<name>``.
"""
from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Optional

from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling example, also when loaded by path

import protein_quality  # noqa: E402
from graphnets.protein import fisher_mean, load_decoy_set  # noqa: E402


def _floats(text: str) -> list[float]:
    return [float(v) for v in text.split(",") if v]


def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--root", required=True, help="proteingcn_decoys-style folder (>= 3 targets)")
    p.add_argument("--out", default="runs/protein_nested")
    p.add_argument("--seeds", default="0", help="comma list")
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--orders", default="2,5", help="S-GCN SH orders to select from")
    p.add_argument("--weight-decays", default="3e-3,3e-2,1e-1")
    p.add_argument("--dropouts", default="0.02,0.2,0.5")
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args(argv)
    try:
        a.seeds = [int(s) for s in a.seeds.split(",") if s]
        a.orders = [int(o) for o in a.orders.split(",") if o]
        a.weight_decays, a.dropouts = _floats(a.weight_decays), _floats(a.dropouts)
    except ValueError as err:
        p.error(f"expected comma lists of numbers ({err})")
    if not (a.seeds and a.orders and a.weight_decays and a.dropouts):
        p.error("--seeds, --orders, --weight-decays and --dropouts each need at least one value")
    return a


def settings(args: argparse.Namespace) -> dict[str, list[dict]]:
    """The grid per model: the GCN has no SH order."""
    base = [{"weight_decay": wd, "dropout": dp} for wd, dp in itertools.product(args.weight_decays, args.dropouts)]
    return {"sgcn": [{"order": o, **b} for o in args.orders for b in base], "gcn": base}


def _name(model: str, setting: dict) -> str:
    return model + "".join(f"_{k}{v}" for k, v in setting.items())


def run_one(args, model: str, setting: dict, seed: int, targets: list[str], out: Path) -> dict:
    """One protein_quality LOTO run over ``targets``: per-target residue Pearson."""
    argv = ["--root", args.root, "--out", str(out), "--models", model, "--epochs", str(args.epochs),
            "--seed", str(seed), "--threads", str(args.threads), "--targets", ",".join(targets),
            "--weight-decay", str(setting["weight_decay"]), "--dropout", str(setting["dropout"])]
    if "order" in setting:
        argv += ["--order", str(setting["order"])]
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "log.txt", "w") as log, contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        metrics = protein_quality.main(argv)
    per_target = metrics["models"][model]["residue"]["per_target"]
    return {t: math.nan if v["pearson"] is None else v["pearson"] for t, v in per_target.items()}  # None: constant


def nested(outer: dict[str, dict[str, float]], inner: dict[str, dict[str, float]], targets: list[str]) -> dict:
    """Per held-out target: the setting with the best inner score, and its outer score."""
    per_target, chosen = {}, {}
    for t in targets:
        # NaN (a constant prediction) ranks last; ties break on the name, never on the test score
        best = max(inner, key=lambda s: (-math.inf if math.isnan(inner[s][t]) else inner[s][t], s))
        chosen[t] = best
        per_target[t] = outer[best][t]
    return {"pearson": fisher_mean(list(per_target.values())), "per_target": per_target, "chosen": chosen}


def main(argv: Optional[list[str]] = None) -> dict:
    args = parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    targets = load_decoy_set(args.root, order=1).targets
    if len(targets) < 3:
        raise SystemExit(f"protein_nested_loto: need >= 3 targets for an inner split (got {len(targets)})")
    grid = settings(args)
    jobs = [(seed, model, s) for seed in args.seeds for model, ss in grid.items() for s in ss]
    results: dict = {}
    t0 = time.perf_counter()
    for seed, model, setting in tqdm(jobs, desc="settings", file=sys.stderr):
        name = _name(model, setting)
        run_dir = out / "runs" / f"s{seed}" / name
        entry = results.setdefault(str(seed), {}).setdefault(model, {"outer": {}, "inner": {}})
        entry["outer"][name] = run_one(args, model, setting, seed, targets, run_dir / "outer")
        entry["inner"][name] = {}
        for t in targets:
            rest = [u for u in targets if u != t]
            scores = run_one(args, model, setting, seed, rest, run_dir / f"inner_without_{t}")
            entry["inner"][name][t] = fisher_mean(list(scores.values()))
        print(f"seed: {seed} {name} outer_residue_pearson: {fisher_mean(list(entry['outer'][name].values())):.4f} "
              f"inner: {' '.join(f'{t}={v:.3f}' for t, v in entry['inner'][name].items())}")
    summary: dict = {"config": vars(args), "targets": targets, "seeds": {}}
    for seed, models in results.items():
        summary["seeds"][seed] = {m: {**nested(r["outer"], r["inner"], targets), **r} for m, r in models.items()}
        line = " ".join(f"{m}: {v['pearson']:.4f}" for m, v in summary["seeds"][seed].items())
        print(f"seed: {seed} nested_residue_pearson {line}")
    # every seed ran both models (the grid always has both)
    diffs = [v["sgcn"]["pearson"] - v["gcn"]["pearson"] for v in summary["seeds"].values()]
    ahead = sum(d > 0 for d in diffs)
    summary["sgcn_minus_gcn"] = {"per_seed": diffs, "mean": statistics.mean(diffs), "sgcn_ahead": ahead,
                                 "seeds": len(diffs)}
    print(f"sgcn_minus_gcn nested residue Pearson: mean {statistics.mean(diffs):+.4f} "
          f"(S-GCN ahead in {ahead} of {len(diffs)} seeds)")
    summary["wall_seconds"] = time.perf_counter() - t0
    tmp = out / "nested.json.tmp"
    tmp.write_text(json.dumps(summary, indent=2))
    os.replace(tmp, out / "nested.json")
    return summary


if __name__ == "__main__":
    main()
