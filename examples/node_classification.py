"""Node classification with DAGNN or SpikingGCN on Planetoid citation graphs (or a synthetic SBM).

DAGNN (Liu, Gao, Ji, KDD 2020) and SpikingGCN (Zhu et al., IJCAI 2022) with the official
per-dataset settings and protocols (see ``graphnets/node/presets.py``), trained by
:func:`graphnets.node.train_dagnn` / :func:`graphnets.node.train_spikinggcn`; the paper's
accuracy is printed beside ours.

Default (no ``--root``): a synthetic stochastic-block-model graph, no download, a few seconds.
Real data: a directory holding the raw ``ind.<name>.*`` Planetoid files (``--download`` fetches them):

    python examples/node_classification.py
    python examples/node_classification.py --model dagnn --data cora --root ../shared/data/planetoid \\
        --split public --runs 10 --out runs/dagnn_cora
    python examples/node_classification.py --model dagnn --data cora --root ../shared/data/planetoid \\
        --split public --runs 10 --last-hop-only --out runs/dagnn_cora_lasthop      # ablation: H_K only
    python examples/node_classification.py --model spikinggcn --data cora --root ../shared/data/planetoid \\
        --runs 5 --out runs/sgcn_cora

Run ``r`` uses seed ``--seed + r`` for everything random (init, dropout, random split, spikes).
Writes the run folder of ``examples/_run.py``: ``config.json``, ``metrics.csv`` (run, epoch,
metrics), ``metrics.json`` (``test_acc`` runs/mean/std as fractions, time per run, paper figures,
SpikingGCN spike counts per node), ``tb/``, the selected model of every run in
``checkpoints/run<r>.pt`` and ``checkpoint.pt`` (``--resume`` continues after the last finished run).
"""

from __future__ import annotations

import statistics
import sys
import urllib.error
from dataclasses import asdict, replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _run import Run, example_parser, fail, fraction, nonnegative_float, nonnegative_int, positive_float, positive_int

from graphnets.node import (
    PAPER_ACCURACY,
    PLANETOID_NAMES,
    dagnn_preset,
    load_planetoid,
    make_sbm,
    spikinggcn_preset,
    train_dagnn,
    train_spikinggcn,
)
from graphnets.node.download import download_planetoid
from sampling import random_planetoid_split

DAGNN_FLAGS = ("K", "dropout", "weight_decay", "lr", "hidden", "epochs", "early_stopping")
SGCN_FLAGS = ("T", "tau", "v_threshold", "lr", "epochs", "batch_size", "weight_decay")


def parse_args(argv=None):
    p = example_parser(__doc__, out="runs/node_classification")
    p.add_argument("--model", choices=("dagnn", "spikinggcn"), default="dagnn")
    p.add_argument(
        "--data",
        type=str.lower,
        choices=(*PLANETOID_NAMES, "sbm"),
        help="cora | citeseer | pubmed (needs --root) | sbm (default without --root)",
    )
    p.add_argument("--root", help="directory with the raw ind.<name>.* Planetoid files")
    p.add_argument("--download", action="store_true", help="fetch the raw Planetoid files into --root first")
    p.add_argument("--split", choices=("public", "random"), default="public")
    p.add_argument("--runs", type=positive_int, default=2)
    p.add_argument("--log-every", type=nonnegative_int, default=0, help="print every n-th epoch (0: 100 / 20)")
    p.add_argument("--last-hop-only", action="store_true", help="DAGNN ablation: predict from H_K only")
    g = p.add_argument_group("overrides of the paper settings")
    g.add_argument("--K", type=positive_int)
    g.add_argument("--dropout", type=fraction)
    g.add_argument("--weight-decay", type=nonnegative_float)
    g.add_argument("--lr", type=positive_float)
    g.add_argument("--hidden", type=positive_int)
    g.add_argument("--epochs", type=positive_int)
    g.add_argument("--early-stopping", type=nonnegative_int)
    g.add_argument("--T", type=positive_int)
    g.add_argument("--tau", type=positive_float)
    g.add_argument("--v-threshold", type=positive_float)
    g.add_argument("--batch-size", type=positive_int)
    a = p.parse_args(argv)
    a.data = a.data or ("cora" if a.root else "sbm")
    if a.download and a.data == "sbm":
        p.error("--download needs --data cora|citeseer|pubmed and --root DIR (the SBM graph is generated)")
    if a.data in PLANETOID_NAMES and a.root is None:
        p.error(f"--data {a.data} needs --root DIR holding ind.{a.data}.* (--download fetches them), or use --data sbm")
    return a


def model_config(a):
    flags = DAGNN_FLAGS if a.model == "dagnn" else SGCN_FLAGS
    overrides = {k: getattr(a, k) for k in flags if getattr(a, k) is not None}
    if a.model == "dagnn":
        return replace(dagnn_preset(a.data, **overrides), adaptive=not a.last_hop_only)
    return spikinggcn_preset(a.data, **overrides)


def load_data(a):
    if a.data == "sbm":
        return make_sbm(torch.Generator().manual_seed(a.seed)), {"num_val": 100, "num_test": 160}
    try:
        if a.download:
            download_planetoid(a.data, a.root)
        return load_planetoid(a.root, a.data), {"num_val": 500, "num_test": 1000}
    except FileNotFoundError as err:
        fail(
            f"{err}; --root must hold the eight raw files ind.{a.data}.{{x,tx,allx,y,ty,ally,graph,test.index}} "
            f"(github.com/kimiyoung/planetoid, data/){'' if a.download else '; --download fetches them'}"
        )
    except (urllib.error.URLError, OSError) as err:
        fail(f"--download {a.data} failed ({err})")


def stats(values: list[float]) -> dict:
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return {"runs": values, "mean": statistics.fmean(values), "std": std}


def main(argv=None) -> dict:
    a = parse_args(argv)
    cfg = model_config(a)
    run = Run(a, name="node_classification")
    data, sizes = load_data(a)
    print(f"data: {data}\nmodel: {a.model} config: {asdict(cfg)}")
    data = data.to(run.device)
    run.write_config({"model": asdict(cfg), "dataset": repr(data)})
    train = train_dagnn if a.model == "dagnn" else train_spikinggcn
    log_every = a.log_every or (100 if a.model == "dagnn" else 20)
    results = (run.resume() or {"results": []})["results"]  # RunResult summaries of finished runs
    for r in run.bar(range(len(results), a.runs), desc=f"{a.model}/{a.data}/{a.split}", unit="run"):
        seed = a.seed + r
        gen = torch.Generator(device=run.device).manual_seed(seed)
        split = data.split if a.split == "public" else random_planetoid_split(data.y, data.num_classes, gen, **sizes)

        def on_epoch(info: dict, r: int = r) -> None:
            run.log({"run": r, **info}, step=info["epoch"], tag=f"run{r}", echo=info["epoch"] % log_every == 0)

        res = train(data, split, cfg, gen, on_epoch=on_epoch)
        results.append(res.summary())
        run.checkpoint({"model": res.state, "config": asdict(cfg), "seed": seed}, step=r, name=f"checkpoints/run{r}.pt")
        line = (
            f"run: {r} seed: {seed} test_acc: {res.test_acc:.4f} val_acc: {res.val_acc:.4f} "
            f"val_loss: {res.val_loss:.4f} best_epoch: {res.best_epoch} epochs: {res.epochs_run} "
            f"seconds: {res.seconds:.1f} epochs_per_s: {res.epochs_run / res.seconds:.1f}"
        )
        if a.model == "spikinggcn":
            line += (
                f" input_spikes_per_node: {res.extra['input_spikes_per_node']:.1f}"
                f" output_spikes_per_node: {res.extra['output_spikes_per_node']:.1f}"
            )
        run.print(line)
        run.log({"test_acc": res.test_acc}, step=r, echo=False, csv=False)
        run.checkpoint({"results": results}, step=r)
    metrics = {
        "model": a.model,
        "data": a.data,
        "split": a.split,
        **{
            k: stats([r[key] for r in results])
            for k, key in (("test_acc", "test_acc"), ("val_acc", "val_acc"), ("seconds_per_run", "seconds"))
        },
        "epochs_run": [r["epochs_run"] for r in results],
        "best_epoch": [r["best_epoch"] for r in results],
    }
    if a.model == "spikinggcn":
        extra = [r["extra"] for r in results]
        metrics["spikes_per_node"] = {
            **{k: stats([e[f"{k}_spikes_per_node"] for e in extra]) for k in ("input", "output")},
            "total": stats([e["spikes_per_node"] for e in extra]),
            "per_node_test_run0": {"input": extra[0]["input_spikes"], "output": extra[0]["output_spikes"]},
        }
    paper = PAPER_ACCURACY.get((a.model, a.data, a.split))
    paper_key = "paper" if (a.model != "dagnn" or cfg.adaptive) else "paper_full_dagnn"
    metrics[paper_key] = (
        None if paper is None else {"mean": paper[0] / 100, "std": None if paper[1] is None else paper[1] / 100}
    )
    m = metrics["test_acc"]
    ours = f"ours: {100 * m['mean']:.1f} +- {100 * m['std']:.1f} ({a.runs} runs)"
    if paper is None:
        ref = "paper: (no published number for this setting)"
    else:
        ref = f"paper: {paper[0]:.1f}" + ("" if paper[1] is None else f" +- {paper[1]:.1f}")
        ref += " (full DAGNN; this run is the last-hop ablation)" if a.model == "dagnn" and not cfg.adaptive else ""
        ref += " (best single run of the official configuration)" if a.model == "spikinggcn" else ""
    print(f"test_acc: {m['mean']:.4f} std: {m['std']:.4f} seconds_per_run: {metrics['seconds_per_run']['mean']:.1f}")
    print(f"{a.model} {a.data} {a.split}: {ours} | {ref}")
    if a.model == "spikinggcn":
        s = metrics["spikes_per_node"]
        print(f"spikes per test node: input {s['input']['mean']:.1f} output {s['output']['mean']:.1f}")
    return run.finish(metrics)


if __name__ == "__main__":
    main()
