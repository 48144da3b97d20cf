"""Protein model quality assessment with S-GCN vs a plain GCN (same features, split and budget).

S-GCN (Igashov et al. 2021) predicts a per-residue quality score of a protein 3D model from a
residue graph whose edges carry spherical harmonics of neighbour directions in local residue
frames; the global score of a model is the mean of its residue scores. Here both S-GCN and the
baseline GCN (the same trunk without directions) learn per-residue lDDT-CA, trained and scored
by :func:`graphnets.protein.train.leave_one_target_out` (every target tested once, by a model that
never saw it; per-target Pearson/Spearman of residue and global scores, Fisher-z averaged; the
z-score of the top-ranked decoy).

Default (no ``--root``): tiny synthetic proteins and decoys, well under a minute.
Real data: ``--root ../shared/data/proteins/proteingcn_decoys`` (4 targets x 5 Rosetta decoys).

    python examples/protein_quality.py
    python examples/protein_quality.py --root ../shared/data/proteins/proteingcn_decoys --epochs 60 --out runs/pq_real

Writes the run folder of ``examples/_run.py``: ``config.json``, ``metrics.csv`` (per model, fold,
epoch), ``metrics.json`` (per-target figures per model), ``tb/``, ``checkpoint.pt`` (``--resume``
continues after the last finished model), the model of every fold in ``checkpoints/`` and ``scatter.png``.
"""

from __future__ import annotations

import sys
import urllib.error
from dataclasses import asdict
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _run import Run, choice_list, example_parser, fail, fraction, nonnegative_int, positive_float, positive_int

from graphnets.protein import load_decoy_set, synthetic_decoy_set
from graphnets.protein.download import download_decoys
from graphnets.protein.train import QUALITY_MODELS, QualityTrainConfig, augmentation_graphs, leave_one_target_out

HOW_TO_GET = (
    "--root must hold one folder per target with native.pdb, <decoy>.pdb and <decoy>.pdb.error "
    "(per-residue lDDT); --download fetches ProteinGCN's 4-target set (github.com/malllabiisc/ProteinGCN)"
)


def parse_args(argv=None):
    p = example_parser(__doc__, out="runs/protein_quality", threads=1)
    p.add_argument("--root", help="proteingcn_decoys-style folder; synthetic data when absent")
    p.add_argument("--download", action="store_true", help="fetch ProteinGCN's decoy set into --root first")
    p.add_argument("--models", type=choice_list(tuple(QUALITY_MODELS)), default=["sgcn", "gcn"], help="comma list")
    p.add_argument("--epochs", type=positive_int, default=15)
    p.add_argument("--lr", type=positive_float, default=1e-3)
    p.add_argument("--weight-decay", type=positive_float, default=3e-3, help="the official l2")
    p.add_argument("--dropout", type=fraction, default=0.02, help="the official training script's")
    p.add_argument("--batch-size", type=positive_int, default=4, help="graphs per optimiser step")
    p.add_argument("--order", type=nonnegative_int, default=5, help="spherical-harmonic order")
    p.add_argument("--cutoff", type=positive_float, default=10.0, help="CA-CA contact distance for --contacts ca")
    p.add_argument(
        "--contacts",
        choices=("ca", "voronoi"),
        default="ca",
        help="residue contacts: CA distance, or heavy-atom Voronoi faces (the official S-GCN graph)",
    )
    p.add_argument(
        "--augment",
        type=nonnegative_int,
        default=0,
        help="torsion-perturbed decoys of each training target's native (real data only)",
    )
    p.add_argument("--augment-max-amplitude", type=positive_float, default=6.0, help="degrees of phi/psi noise")
    p.add_argument(
        "--near-native",
        type=nonnegative_int,
        default=0,
        help="near-native decoys per training target at --near-native-rmsd (official training: 50)",
    )
    p.add_argument("--near-native-rmsd", type=positive_float, default=0.9)
    p.add_argument("--include-native", action="store_true", help="train on natives too (label 1.0)")
    p.add_argument("--synthetic-targets", type=positive_int, default=4)
    p.add_argument("--synthetic-decoys", type=positive_int, default=6)
    p.add_argument("--synthetic-length", type=positive_int, default=32)
    p.add_argument("--targets", help="comma list: use only these targets (default: all)")
    a = p.parse_args(argv)
    if a.contacts == "voronoi" and (a.augment or a.near_native):
        p.error(
            "--contacts voronoi needs side-chain atoms; the generated decoys of --augment/--near-native have "
            "backbone atoms only (use --contacts ca with them)"
        )
    if a.download and not a.root:
        p.error("--download needs --root DIR (where the decoys go)")
    a.targets = [t for t in a.targets.split(",") if t] if a.targets else None
    return a


def load_data(a, gen: torch.Generator):
    if not a.root:
        return synthetic_decoy_set(
            a.synthetic_targets, a.synthetic_decoys, a.synthetic_length, generator=gen, order=a.order, cutoff=a.cutoff
        ), "synthetic"
    try:
        if a.download:
            download_decoys(a.root)
        data = load_decoy_set(
            a.root, order=a.order, cutoff=a.cutoff, contacts=a.contacts, include_native=a.include_native
        )
    except FileNotFoundError as err:
        fail(f"{err}; {HOW_TO_GET}")
    except (urllib.error.URLError, OSError) as err:
        fail(f"--download failed ({err})")
    return data, str(a.root)


def scatter_plot(path: Path, results: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(4 * len(results), 4), squeeze=False)
    for ax, (name, r) in zip(axes[0], results.items(), strict=True):
        ax.scatter(r["true_global"], r["pred_global"], s=12)
        ax.set(xlabel="true mean lDDT-CA", ylabel="predicted global score", title=name)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None) -> dict:
    a = parse_args(argv)
    run = Run(a, name="protein_quality")
    data, source = load_data(a, torch.Generator().manual_seed(a.seed))
    print(f"data: {source} models: {len(data)} targets: {len(data.targets)} load_s: {run.seconds:.2f}")
    if a.targets is not None:
        unknown = sorted(set(a.targets) - set(data.targets))
        if unknown:
            fail(f"--targets {unknown} not in the data (targets: {data.targets})")
        data = data.subset(a.targets)
    if len(data.targets) < 2:
        fail(f"need >= 2 targets to split by target (got {len(data.targets)})")
    config = QualityTrainConfig(a.epochs, a.lr, a.weight_decay, a.dropout, a.batch_size, a.order)
    extra: dict = {}
    if a.root and (a.augment or a.near_native):
        gen = torch.Generator().manual_seed(a.seed + 1)
        extra = {
            t: augmentation_graphs(
                Path(a.root) / t / "native.pdb",
                t,
                gen,
                near_native=a.near_native,
                near_native_rmsd=a.near_native_rmsd,
                augment=a.augment,
                max_amplitude=a.augment_max_amplitude,
                order=a.order,
                cutoff=a.cutoff,
            )
            for t in data.targets
        }
        print(f"augmentation: {sum(len(v) for v in extra.values())} models from the natives")
    resolved = {
        **asdict(config),
        **{k: getattr(a, k) for k in ("cutoff", "contacts", "augment", "near_native", "include_native", "seed")},
        "data_source": source,
        "targets": data.targets,
        "split": "leave-one-target-out",
    }
    run.write_config(resolved)
    results = (run.resume() or {"results": {}})["results"]
    for name in a.models:
        if name in results:  # finished before a --resume
            continue

        def on_epoch(info: dict, name=name) -> None:
            run.log({"model": name, **info}, step=info["epoch"], tag=f"{name}/fold{info['fold']}")

        def on_fold(fold: int, model: torch.nn.Module, name=name) -> None:
            run.checkpoint(
                {"model": model.state_dict(), "name": name, "fold": fold},
                step=fold,
                name=f"checkpoints/{name}_fold{fold}.pt",
            )

        results[name] = ev = leave_one_target_out(
            data, name, config, seed=a.seed, extra_train=extra, on_epoch=on_epoch, on_fold=on_fold, device=run.device
        )
        run.checkpoint({"results": results}, step=len(results))
        print(
            f"model: {name} residue_pearson: {ev['residue']['pearson']:.4f} residue_spearman: "
            f"{ev['residue']['spearman']:.4f} global_pearson: {ev['global_lddt']['pearson']:.4f} "
            f"global_spearman: {ev['global_lddt']['spearman']:.4f} top1_z: {ev['top1_lddt']['z']:.4f} "
            f"train_s: {ev['train_seconds']:.1f}"
        )
    summary = {"config": resolved, "models": {m: results[m] for m in a.models}}
    if "sgcn" in results and "gcn" in results:
        for key in ("residue", "global_lddt"):
            summary[f"sgcn_minus_gcn_{key.split('_')[0]}_pearson"] = (
                results["sgcn"][key]["pearson"] - results["gcn"][key]["pearson"]
            )
    scatter_plot(run.path("scatter.png"), summary["models"])
    summary["wall_seconds"] = run.seconds
    return run.finish(summary)


if __name__ == "__main__":
    main()
