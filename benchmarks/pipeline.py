"""GNNPipe vs the unpipelined model, and GNNPipe's traffic vs graph parallelism's halo exchange.

1. **Accuracy**: the same residual deep GCN (``--layers`` blocks, same seed, same epochs) trained by
   ``examples/pipeline_train.py`` once unpipelined (``--unpipelined``, one process) and once per
   ``--ranks`` entry pipelined over that many CPU ranks (``torchrun --standalone``, gloo, historical
   embeddings and late halo gradients, 1F1B, ``--partition`` chunks, METIS by default). Reported per
   run: test accuracy at the best validation epoch, the mean test accuracy of the last 20 epochs
   (less noisy), the median epoch time, and the difference to the unpipelined run; the curves go into one plot
   (``benchmarks/results/pipeline-<data>-cpu.png``).
2. **Communication per epoch** (float32, forward and backward): for ``P`` workers, GNNPipe over ``P``
   stages moves the ``N`` rows of each of the ``P - 1`` stage boundaries
   (:func:`sampling.pipeline.pipeline_activation_bytes`); graph parallelism over ``P`` partitions
   (contiguous node-id ranges, a seeded random partition, and METIS) moves every graph layer's halo rows
   (:func:`sampling.pipeline.halo_exchange_bytes`). The model's GNNPipe figure is checked against
   the bytes the pipelined runs really sent (``bytes_sent_per_epoch`` of their ``metrics.json``).
   The ratio is graph parallelism / GNNPipe (GNNPipe's abstract: 8.69x on average, up to 22.89x).

Times come from 2 CPU cores: ranks beyond two share cores, so they measure oversubscription, not
pipeline speed-up. Run under ``/work/bin/heavy --exclusive`` (or on an otherwise idle machine)::

    python benchmarks/pipeline.py --data cora --root ../shared/data/planetoid    # ~15 min on 2 cores
    python benchmarks/pipeline.py --epochs 30                                    # synthetic graph, quick
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks._common import RESULTS, write_result
from graphnets.conv import gcn_norm
from graphnets.node import load_planetoid, make_sbm
from sampling.pipeline import halo_exchange_bytes, partition_nodes, pipeline_activation_bytes, split_by_count


def parse(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default="synthetic", choices=("synthetic", "cora", "citeseer", "pubmed"))
    p.add_argument("--root", default=None, help="folder with the raw Planetoid files")
    p.add_argument("--layers", type=int, default=16)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--epochs", type=int, default=200)
    p.add_argument("--chunks", type=int, default=4)
    p.add_argument("--partition", default="metis", help="GNNPipe's chunks (contiguous, random, metis)")
    p.add_argument("--ranks", default="2,4", help="comma list of pipeline sizes")
    p.add_argument("--seeds", default="0,1,2", help="comma list: every configuration runs once per seed")
    p.add_argument("--keep", default=None, help="keep the run folders here (default: a temporary folder)")
    return p.parse_args(argv)


def train(args, ranks: int, seed: int, out: Path) -> dict:
    """One run of the example; ``ranks = 0`` is the unpipelined baseline. Returns its curves and metrics."""
    flags = [
        "--data",
        args.data,
        "--layers",
        str(args.layers),
        "--hidden",
        str(args.hidden),
        "--epochs",
        str(args.epochs),
        "--chunks",
        str(args.chunks),
        "--partition",
        args.partition,
        "--seed",
        str(seed),
        "--threads",
        "1",
        "--device",
        "cpu",
        "--schedule",
        "1f1b",
        "--checkpoint-every",
        "0",
        "--out",
        str(out),
        "--overwrite",
    ]
    if args.root:
        flags += ["--root", args.root]
    script = str(REPO / "examples" / "pipeline_train.py")
    if ranks:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(ranks), script]
    else:
        cmd = [sys.executable, script, "--unpipelined"]
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    print(" ".join(cmd + flags), file=sys.stderr, flush=True)
    proc = subprocess.run(cmd + flags, env=env, capture_output=True, text=True, timeout=3600, check=False)
    if proc.returncode:
        raise SystemExit(f"run with {ranks} ranks failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    with open(out / "metrics.csv") as fh:
        rows = list(csv.DictReader(fh))
    metrics = json.loads((out / "metrics.json").read_text())
    test = [float(r["test_acc"]) for r in rows]
    return {
        "ranks": ranks,
        "seed": seed,
        "test_acc": test,
        "val_acc": [float(r["val_acc"]) for r in rows],
        "loss": [float(r["loss"]) for r in rows],
        "best": metrics["best"],
        "last20_test_acc": statistics.mean(test[-20:]),
        "epoch_seconds": metrics["epoch_seconds"],
        "bytes_sent_per_epoch": metrics.get("bytes_sent_per_epoch"),
        "split": metrics.get("split"),
        "time_split": {k: metrics.get(k) for k in ("compute_seconds", "comm_seconds", "bubble_seconds")},
    }


def traffic(args, workers: int) -> dict:
    """Bytes per epoch (float32, forward + backward) for ``workers`` workers, from the partition."""
    if args.data == "synthetic":  # the example's default graph (seed 0)
        ds = make_sbm(
            torch.Generator().manual_seed(0),
            num_classes=4,
            nodes_per_class=250,
            p_in=0.02,
            p_out=0.002,
            num_features=64,
        )
    else:
        ds = load_planetoid(args.root, args.data)
    graph, n = gcn_norm(ds.graph), ds.num_nodes
    widths = [ds.num_features] + [args.hidden] * (args.layers + 1)  # inputs of encoder, blocks, head
    cuts = [widths[r.stop] for r in split_by_count(len(widths), workers)[:-1]]
    pipe = pipeline_activation_bytes(n, cuts)
    out = {"workers": workers, "gnnpipe_bytes": pipe, "graph_layers": args.layers}
    for method in ("contiguous", "random", "metis"):
        parts = partition_nodes(n, workers, method=method, generator=torch.Generator().manual_seed(0), graph=graph)
        halo = halo_exchange_bytes(graph, parts, [args.hidden] * args.layers)
        out[f"halo_bytes_{method}"] = halo
        out[f"ratio_{method}"] = halo / pipe
    return out


def plot(curves: dict[int, list[list[float]]], path: Path, title: str) -> None:
    """Mean test accuracy per epoch over the seeds, one line per configuration."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for ranks, per_seed in curves.items():
        mean = [statistics.mean(v) for v in zip(*per_seed)]
        label = "unpipelined" if not ranks else f"GNNPipe, {ranks} ranks"
        ax.plot(range(1, len(mean) + 1), mean, label=label, lw=1)
    ax.set(xlabel="epoch", ylabel=f"test accuracy (mean of {len(next(iter(curves.values())))} seeds)", title=title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def _stats(values: list[float]) -> dict:
    return {
        "mean": statistics.mean(values),
        "std": statistics.stdev(values) if len(values) > 1 else 0.0,
        "values": values,
    }


def main(argv=None) -> dict:
    args = parse(argv)
    ranks = [int(r) for r in args.ranks.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="gs-pipeline-bench-"))
    runs = [
        train(args, k, seed, folder / f"{'pp' + str(k) if k else 'unpipelined'}-seed{seed}")
        for seed in seeds
        for k in [0, *ranks]
    ]
    summary = {}
    for k in [0, *ranks]:
        mine = [r for r in runs if r["ranks"] == k]
        summary[k] = {
            "best_test_acc": _stats([r["best"]["test_acc"] for r in mine]),
            "last20_test_acc": _stats([r["last20_test_acc"] for r in mine]),
            "epoch_seconds": _stats([r["epoch_seconds"] for r in mine]),
        }
    base = summary[0]
    for k in ranks:
        s = summary[k]
        s["best_test_acc_minus_unpipelined"] = s["best_test_acc"]["mean"] - base["best_test_acc"]["mean"]
        s["last20_minus_unpipelined"] = s["last20_test_acc"]["mean"] - base["last20_test_acc"]["mean"]
        s["epoch_time_ratio_vs_unpipelined"] = s["epoch_seconds"]["mean"] / base["epoch_seconds"]["mean"]
    comm = []
    for k in ranks:
        t = traffic(args, k)
        counted = {int(r["bytes_sent_per_epoch"]) for r in runs if r["ranks"] == k}
        t["counted_gnnpipe_bytes"] = sorted(counted)
        t["model_equals_counted"] = counted == {t["gnnpipe_bytes"]}
        comm.append(t)
    name = f"pipeline-{args.data}"
    title = f"{args.data}: {args.layers}-layer residual GCN, {args.chunks} {args.partition} chunks"
    plot({k: [r["test_acc"] for r in runs if r["ranks"] == k] for k in [0, *ranks]}, RESULTS / f"{name}-cpu.png", title)
    payload = {
        "config": vars(args),
        "summary": {str(k): v for k, v in summary.items()},
        "communication": comm,
        "runs": runs,
        "note": "2 CPU cores: epoch times with more ranks than cores measure oversubscription",
    }
    path = write_result(name, payload)
    for k, s in summary.items():
        print(
            f"ranks: {k}  best_test_acc: {s['best_test_acc']['mean']:.4f} +- {s['best_test_acc']['std']:.4f}  "
            f"last20_test_acc: {s['last20_test_acc']['mean']:.4f} +- {s['last20_test_acc']['std']:.4f}  "
            f"epoch_s: {s['epoch_seconds']['mean']:.3f}"
        )
    for t in comm:
        print(
            f"workers: {t['workers']}  gnnpipe_bytes: {t['gnnpipe_bytes']}  counted: {t['counted_gnnpipe_bytes']}  "
            f"halo_contiguous: {t['halo_bytes_contiguous']} ({t['ratio_contiguous']:.2f}x)  "
            f"halo_random: {t['halo_bytes_random']} ({t['ratio_random']:.2f}x)  "
            f"halo_metis: {t['halo_bytes_metis']} ({t['ratio_metis']:.2f}x)"
        )
    print(f"wrote {path}")
    return payload


if __name__ == "__main__":
    main()
