"""Nested leave-one-target-out model selection: S-GCN vs the plain GCN without peeking at test targets.

With four targets there is no spare validation target, so a setting picked by its test score
flatters whichever model has more settings to pick from. Here, for every held-out target ``t``,
each setting of the grid is scored by an inner leave-one-target-out over the *other* targets
only (Fisher-z mean of per-target residue Pearson); the best-scoring setting is then trained on
all other targets and scored on ``t`` (:func:`graphnets.protein.selection.nested_loto`). Both
models get the same grid (weight decay x dropout), epochs and folds; S-GCN also selects its SH order.

Default (no ``--root``): 3 small synthetic targets, 6 epochs, a 2 x 2 grid (well under a minute).
Real data (the grid below is the default there, 60 epochs):

    python examples/protein_nested_loto.py
    python examples/protein_nested_loto.py --root ../shared/data/proteins/proteingcn_decoys --seeds 0,1

Writes the run folder of ``examples/_run.py``: ``metrics.json`` (per seed and model the nested
per-target Pearson, the chosen settings, every setting's inner and outer scores, and the paired
S-GCN - GCN differences), ``metrics.csv`` (one row per seed, model and setting), ``tb/`` and
``checkpoint.pt`` (``--resume`` skips the settings already scored).
"""

from __future__ import annotations

import itertools
import statistics
import sys
import urllib.error
from dataclasses import asdict
from functools import cache
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _run import Run, comma_list, example_parser, fail, float_list, int_list, nonnegative_int, positive_int

from graphnets.protein import fisher_mean, load_decoy_set, synthetic_decoy_set
from graphnets.protein.download import download_decoys
from graphnets.protein.selection import nested_loto
from graphnets.protein.train import QualityTrainConfig

REAL = {"epochs": 60, "orders": [2, 5], "weight_decays": [3e-3, 3e-2, 1e-1], "dropouts": [0.02, 0.2, 0.5]}
SYNTHETIC = {"epochs": 6, "orders": [2], "weight_decays": [3e-3, 1e-1], "dropouts": [0.02, 0.5]}


def parse_args(argv=None):
    p = example_parser(__doc__, out="runs/protein_nested", threads=1)
    p.add_argument("--root", help="proteingcn_decoys-style folder (>= 3 targets); default: synthetic targets")
    p.add_argument("--download", action="store_true", help="fetch ProteinGCN's decoy set into --root first")
    p.add_argument("--seeds", type=comma_list(nonnegative_int), default=[0], help="comma list")
    p.add_argument("--epochs", type=positive_int, help="default 60 (real), 3 (synthetic)")
    p.add_argument("--orders", type=int_list, help="S-GCN SH orders to select from (default 2,5; synthetic 2)")
    p.add_argument("--weight-decays", type=float_list, help="default 3e-3,3e-2,1e-1 (synthetic 3e-3,1e-1)")
    p.add_argument("--dropouts", type=float_list, help="default 0.02,0.2,0.5 (synthetic 0.02,0.5)")
    p.add_argument("--synthetic-targets", type=positive_int, default=3)
    a = p.parse_args(argv)
    for key, value in (REAL if a.root else SYNTHETIC).items():
        if getattr(a, key) is None:
            setattr(a, key, value)
    if a.download and not a.root:
        p.error("--download needs --root DIR (where the decoys go)")
    if any(d >= 1 for d in a.dropouts):
        p.error(f"argument --dropouts: expected values in [0, 1) (got {a.dropouts})")
    return a


def settings(a) -> dict[str, list[dict]]:
    """The grid per model: the GCN has no SH order."""
    base = [{"weight_decay": wd, "dropout": dp} for wd, dp in itertools.product(a.weight_decays, a.dropouts)]
    return {"sgcn": [{"order": o, **b} for o in a.orders for b in base], "gcn": base}


def main(argv=None) -> dict:
    a = parse_args(argv)
    run = Run(a, name="protein_nested_loto")

    @cache
    def data(order: int):
        if a.root is None:
            return synthetic_decoy_set(
                a.synthetic_targets, 6, 32, generator=torch.Generator().manual_seed(a.seed), order=order
            )
        try:
            if a.download:
                download_decoys(a.root)
            return load_decoy_set(a.root, order=order)
        except FileNotFoundError as err:
            fail(
                f"{err}; --root must hold one folder per target with <decoy>.pdb and <decoy>.pdb.error files; "
                f"--download fetches ProteinGCN's 4-target set"
            )
        except (urllib.error.URLError, OSError) as err:
            fail(f"--download failed ({err})")

    targets = data(5).targets
    if len(targets) < 3:
        fail(f"need >= 3 targets for an inner split (got {len(targets)})")
    base = QualityTrainConfig(epochs=a.epochs)
    run.write_config({"base": asdict(base), "targets": targets, "grid": settings(a)})
    done = (run.resume() or {"done": {}})["done"]
    summary: dict = {"targets": targets, "seeds": {}}
    for seed in a.seeds:
        for model, grid in settings(a).items():
            key = f"{seed}/{model}"

            def on_setting(name: str, scores: dict, key=key, seed=seed) -> None:
                entry = done.setdefault(key, {"outer": {}, "inner": {}})
                entry["outer"][name], entry["inner"][name] = scores["outer"], scores["inner"]
                outer = fisher_mean(list(scores["outer"].values()))
                run.log(
                    {
                        "seed": seed,
                        "setting": name,
                        "outer_residue_pearson": outer,
                        **{f"inner_without_{t}": v for t, v in scores["inner"].items()},
                    },
                    step=len(run.rows),
                )
                run.checkpoint({"done": done}, step=len(run.rows))

            result = nested_loto(
                lambda c: data(c.order),
                model,
                grid,
                base,
                seed=seed,
                done=done.get(key),
                on_setting=on_setting,
                device=run.device,
            )
            summary["seeds"].setdefault(str(seed), {})[model] = result
        line = " ".join(f"{m}: {v['pearson']:.4f}" for m, v in summary["seeds"][str(seed)].items())
        print(f"seed: {seed} nested_residue_pearson {line}")
    diffs = [v["sgcn"]["pearson"] - v["gcn"]["pearson"] for v in summary["seeds"].values()]
    ahead = sum(d > 0 for d in diffs)
    summary["sgcn_minus_gcn"] = {
        "per_seed": diffs,
        "mean": statistics.mean(diffs),
        "sgcn_ahead": ahead,
        "seeds": len(diffs),
    }
    print(
        f"sgcn_minus_gcn nested residue Pearson: mean {statistics.mean(diffs):+.4f} "
        f"(S-GCN ahead in {ahead} of {len(diffs)} seeds)"
    )
    summary["wall_seconds"] = run.seconds
    return run.finish(summary)


if __name__ == "__main__":
    main()
