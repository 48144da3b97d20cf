"""Node classification with DAGNN or SpikingGCN on Planetoid citation graphs (or a synthetic SBM).

DAGNN (Liu, Gao, Ji, KDD 2020) and SpikingGCN (Zhu et al., IJCAI 2022) with the official
per-dataset settings and protocols (see ``graphnets/node/presets.py``); the paper's accuracy is
printed beside ours.

Default (no ``--root``): a synthetic stochastic-block-model graph, no download, a few seconds.
Real data: a directory holding the raw ``ind.<name>.*`` Planetoid files, e.g.

    python examples/node_classification.py --out runs/sbm
    python examples/node_classification.py --model dagnn --data cora --root ../shared/data/planetoid \\
        --split public --runs 10 --out runs/dagnn_cora
    python examples/node_classification.py --model dagnn --data cora --root ../shared/data/planetoid \\
        --split public --runs 10 --last-hop-only --out runs/dagnn_cora_lasthop      # ablation: H_K only
    python examples/node_classification.py --model spikinggcn --data cora --root ../shared/data/planetoid \\
        --runs 5 --out runs/sgcn_cora

Run ``r`` uses seed ``--seed + r`` for everything random (init, dropout, random split, spikes).
Writes ``<out>/config.json`` (resolved), ``metrics.csv`` (run, epoch, metrics), ``metrics.json``
(``test_acc`` runs/mean/std as fractions, time per run, paper figures, SpikingGCN spike counts
per node), TensorBoard events in ``<out>/tb`` and the selected model of every run in
``<out>/checkpoints/run<r>.pt``.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import sys
from dataclasses import asdict, replace
from pathlib import Path
from typing import Optional

import torch
from torch.utils.tensorboard import SummaryWriter
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from graphnets.node import (  # noqa: E402
    PAPER_ACCURACY,
    PLANETOID_NAMES,
    dagnn_preset,
    load_planetoid,
    make_sbm,
    spikinggcn_preset,
    train_dagnn,
    train_spikinggcn,
)
from sampling import random_planetoid_split  # noqa: E402

DAGNN_FLAGS = ("K", "dropout", "weight_decay", "lr", "hidden", "epochs", "early_stopping")
SGCN_FLAGS = ("T", "tau", "v_threshold", "lr", "epochs", "batch_size", "weight_decay")


def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", choices=("dagnn", "spikinggcn"), default="dagnn")
    p.add_argument("--data", default=None, help="cora | citeseer | pubmed (needs --root) | sbm (default without --root)")
    p.add_argument("--root", default=None, help="directory with the raw ind.<name>.* Planetoid files")
    p.add_argument("--split", choices=("public", "random"), default="public")
    p.add_argument("--runs", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--out", default="runs/node_classification")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: leave torch's default)")
    p.add_argument("--log-every", type=int, default=0, help="print every n-th epoch (0: 100 DAGNN, 20 SpikingGCN)")
    p.add_argument("--last-hop-only", action="store_true", help="DAGNN ablation: predict from H_K only")
    # overrides of the paper settings
    p.add_argument("--K", type=int)
    p.add_argument("--dropout", type=float)
    p.add_argument("--weight-decay", dest="weight_decay", type=float)
    p.add_argument("--lr", type=float)
    p.add_argument("--hidden", type=int)
    p.add_argument("--epochs", type=int)
    p.add_argument("--early-stopping", dest="early_stopping", type=int)
    p.add_argument("--T", type=int)
    p.add_argument("--tau", type=float)
    p.add_argument("--v-threshold", dest="v_threshold", type=float)
    p.add_argument("--batch-size", dest="batch_size", type=int)
    args = p.parse_args(argv)
    if args.data is None:
        args.data = "cora" if args.root else "sbm"
    args.data = args.data.lower()
    if args.data in PLANETOID_NAMES and args.root is None:
        p.error(f"--data {args.data} needs --root DIR holding ind.{args.data}.* (or use --data sbm)")
    if args.data not in PLANETOID_NAMES + ("sbm",):
        p.error(f"--data must be one of {PLANETOID_NAMES + ('sbm',)} (got {args.data!r})")
    if args.runs < 1:
        p.error(f"--runs must be >= 1 (got {args.runs})")
    return args


def model_config(args: argparse.Namespace):
    flags = DAGNN_FLAGS if args.model == "dagnn" else SGCN_FLAGS
    overrides = {k: getattr(args, k) for k in flags if getattr(args, k) is not None}
    if args.model == "dagnn":
        cfg = dagnn_preset(args.data, **overrides)
        return replace(cfg, adaptive=not args.last_hop_only)
    return spikinggcn_preset(args.data, **overrides)


def atomic_write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def atomic_save(obj, path: Path) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def stats(values: list[float]) -> dict:
    return {"runs": values, "mean": statistics.fmean(values),
            "std": statistics.stdev(values) if len(values) > 1 else 0.0}


def main(argv: Optional[list[str]] = None) -> dict:
    args = parse_args(argv)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    cfg = model_config(args)
    out = Path(args.out)
    (out / "checkpoints").mkdir(parents=True, exist_ok=True)

    if args.data == "sbm":
        data = make_sbm(torch.Generator().manual_seed(args.seed))
        sizes = {"num_val": 100, "num_test": 160}
    else:
        data = load_planetoid(args.root, args.data)
        sizes = {"num_val": 500, "num_test": 1000}
    print(f"data: {data}")
    print(f"model: {args.model} config: {asdict(cfg)}")
    data = data.to(device)
    resolved = {**vars(args), "model_config": asdict(cfg), "dataset": repr(data),
                "torch": torch.__version__, "threads": torch.get_num_threads()}
    atomic_write(out / "config.json", json.dumps(resolved, indent=2))

    train = train_dagnn if args.model == "dagnn" else train_spikinggcn
    log_every = args.log_every or (100 if args.model == "dagnn" else 20)
    writer = SummaryWriter(str(out / "tb"))
    rows: list[dict] = []
    results = []
    bar = tqdm(range(args.runs), desc=f"{args.model}/{args.data}/{args.split}", unit="run")
    for r in bar:
        seed = args.seed + r
        gen = torch.Generator(device=device).manual_seed(seed)
        split = data.split
        if args.split == "random":
            split = random_planetoid_split(data.y, data.num_classes, gen, **sizes)

        def on_epoch(info: dict, r: int = r) -> None:
            rows.append({"run": r, **info})
            for key, value in info.items():
                if key != "epoch":
                    writer.add_scalar(f"run{r}/{key}", value, info["epoch"])
            if info["epoch"] % log_every == 0:
                tqdm.write(f"run: {r} " + " ".join(f"{k}: {v:.4f}" if isinstance(v, float) else f"{k}: {v}"
                                                   for k, v in info.items()))

        res = train(data, split, cfg, gen, on_epoch=on_epoch)
        results.append(res)
        atomic_save({"state_dict": res.state, "config": asdict(cfg), "seed": seed}, out / "checkpoints" / f"run{r}.pt")
        line = (f"run: {r} seed: {seed} test_acc: {res.test_acc:.4f} val_acc: {res.val_acc:.4f} "
                f"val_loss: {res.val_loss:.4f} best_epoch: {res.best_epoch} epochs: {res.epochs_run} "
                f"seconds: {res.seconds:.1f} epochs_per_s: {res.epochs_run / res.seconds:.1f}")
        if args.model == "spikinggcn":
            line += (f" input_spikes_per_node: {res.extra['input_spikes_per_node']:.1f}"
                     f" output_spikes_per_node: {res.extra['output_spikes_per_node']:.1f}")
        tqdm.write(line)
        writer.add_scalar("test_acc", res.test_acc, r)
        bar.set_postfix(test_acc=f"{res.test_acc:.4f}")
    writer.close()

    accs = [r.test_acc for r in results]
    metrics = {
        "model": args.model, "data": args.data, "split": args.split,
        "test_acc": stats(accs),
        "val_acc": stats([r.val_acc for r in results]),
        "seconds_per_run": stats([r.seconds for r in results]),
        "epochs_run": [r.epochs_run for r in results],
        "best_epoch": [r.best_epoch for r in results],
    }
    if args.model == "spikinggcn":
        metrics["spikes_per_node"] = {
            "input": stats([r.extra["input_spikes_per_node"] for r in results]),
            "output": stats([r.extra["output_spikes_per_node"] for r in results]),
            "total": stats([r.extra["spikes_per_node"] for r in results]),
            "per_node_test_run0": {"input": results[0].extra["input_spikes"],
                                   "output": results[0].extra["output_spikes"]},
        }
    paper = PAPER_ACCURACY.get((args.model, args.data, args.split))
    paper_key = "paper" if (args.model != "dagnn" or cfg.adaptive) else "paper_full_dagnn"
    metrics[paper_key] = None if paper is None else {"mean": paper[0] / 100, "std": None if paper[1] is None else paper[1] / 100}
    atomic_write(out / "metrics.json", json.dumps(metrics, indent=2))
    if rows:
        keys = list(dict.fromkeys(k for row in rows for k in row))
        tmp = out / "metrics.csv.tmp"
        with open(tmp, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=keys)
            w.writeheader()
            w.writerows(rows)
        os.replace(tmp, out / "metrics.csv")

    m = metrics["test_acc"]
    ours = f"ours: {100 * m['mean']:.1f} +- {100 * m['std']:.1f} ({args.runs} runs)"
    if paper is None:
        ref = "paper: (no published number for this setting)"
    else:
        ref = f"paper: {paper[0]:.1f}" + ("" if paper[1] is None else f" +- {paper[1]:.1f}")
        if args.model == "dagnn" and not cfg.adaptive:
            ref += " (full DAGNN; this run is the last-hop ablation)"
        if args.model == "spikinggcn":
            ref += " (best single run of the official configuration)"
    print(f"test_acc: {m['mean']:.4f} std: {m['std']:.4f} seconds_per_run: {metrics['seconds_per_run']['mean']:.1f}")
    print(f"{args.model} {args.data} {args.split}: {ours} | {ref}")
    if args.model == "spikinggcn":
        s = metrics["spikes_per_node"]
        print(f"spikes per test node: input {s['input']['mean']:.1f} output {s['output']['mean']:.1f}")
    return metrics


if __name__ == "__main__":
    main()
