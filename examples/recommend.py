"""Train LightGCN or UltraGCN and evaluate by full ranking (Recall/NDCG/Precision/HR@20).

Default (no download, well under a minute on 2 CPU cores): LightGCN on a synthetic split with
planted taste clusters; it prints the popularity baseline beside the model's numbers.

    python examples/recommend.py
    python examples/recommend.py --model ultragcn --data amazon-electronics --root ../shared/data
    python examples/recommend.py --model lightgcn --data gowalla --root ../shared/data --epochs 50
    python examples/recommend.py ... --out runs/x --resume     # continue exactly where it stopped

``--root`` holds one folder per dataset (``<root>/<name>/train.txt``, ``test.txt`` in the
LightGCN format, or RecBole ``<name>.train.inter`` / ``<name>.test.inter``). The paper preset of
the model for the dataset applies when one exists (``--preset none`` disables it); flags
override it. ``--download`` fetches gowalla / yelp2018 / amazon-book into ``--root`` first.

The run directory ``--out`` receives ``config.json``, ``metrics.csv`` (one row per epoch),
TensorBoard events (``tb/``), ``checkpoint.pt`` (written atomically after every epoch) and
``metrics.json`` with the best and final evaluation and the wall time.
"""
from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import os
import statistics
import sys
import time
from pathlib import Path

import torch
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from graphnets.recsys import (PAPER, build_trainer, full_ranking_metrics, get_preset, has_preset,  # noqa: E402
                              load_dataset, popularity_embeddings)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--model", choices=["lightgcn", "ultragcn"], default="lightgcn")
    p.add_argument("--data", default="synthetic", help="'synthetic' or a dataset folder name under --root")
    p.add_argument("--root", default=os.environ.get("GRAPHSPIKE_DATA", "data"),
                   help="folder with one subfolder per dataset (default: $GRAPHSPIKE_DATA or ./data)")
    p.add_argument("--synthetic-users", type=int, default=2000, help="users of the synthetic dataset")
    p.add_argument("--synthetic-items", type=int, default=1500, help="items of the synthetic dataset")
    p.add_argument("--download", action="store_true", help="download the dataset into --root if missing")
    p.add_argument("--preset", default="auto",
                   help="'auto' (the dataset's preset when one exists), 'none', or a preset name")
    p.add_argument("--epochs", type=int, default=None, help="training epochs (preset default)")
    p.add_argument("--eval-every", type=int, default=None,
                   help="evaluate every N epochs (default: the official schedule of the model)")
    p.add_argument("--early-stop", type=int, default=None,
                   help="stop after N evaluations without a better recall@20 (0: never)")
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--dim", type=int, default=None, help="embedding dimension")
    p.add_argument("--layers", type=int, default=None, help="LightGCN propagation layers")
    p.add_argument("--max-minutes", type=float, default=None, help="stop after this much training time")
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--out", default="runs/recommend")
    p.add_argument("--seed", type=int, default=2020)
    p.add_argument("--resume", action="store_true", help="continue from <out>/checkpoint.pt")
    return p.parse_args(argv)


def resolve_config(args: argparse.Namespace):
    if args.preset == "none":
        preset = None
    elif args.preset == "auto":
        preset = args.data if has_preset(args.model, args.data) else None
    else:
        preset = args.preset  # get_preset raises a clear error when it does not exist
    overrides = {"epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr, "embedding_dim": args.dim}
    if args.model == "lightgcn":
        overrides["num_layers"] = args.layers
    elif args.layers is not None:
        raise SystemExit("recommend.py: --layers applies to lightgcn only (got --model ultragcn)")
    config = get_preset(args.model, preset, **overrides)
    if args.eval_every is not None:  # configs are frozen: 0 turns the schedule off (None)
        config = dataclasses.replace(config, eval_every=args.eval_every if args.eval_every > 0 else None)
    if args.early_stop is not None:
        config = dataclasses.replace(config, early_stop=args.early_stop if args.early_stop > 0 else None)
    return config, preset


def atomic_write(path: Path, write) -> None:
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    os.replace(tmp, path)


def write_csv(path: Path, rows: list[dict]) -> None:
    keys: list[str] = []
    for row in rows:
        keys += [k for k in row if k not in keys]

    def write(tmp: Path) -> None:
        with open(tmp, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=keys)
            w.writeheader()
            w.writerows(rows)
    atomic_write(path, write)


def short(metrics: dict, keys=("recall@20", "ndcg@20", "precision@20", "hr@20")) -> str:
    return "  ".join(f"{k}: {metrics[k]:.5f}" for k in keys if k in metrics)


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    config, preset = resolve_config(args)
    data = load_dataset(args.data, args.root, download=args.download, seed=args.seed,
                        synthetic={"num_users": args.synthetic_users, "num_items": args.synthetic_items})
    print(data.summary())
    trainer = build_trainer(args.model, data, config, device=args.device, seed=args.seed)
    print(f"model: {args.model} (preset: {preset or 'none'}); setup {trainer.setup_seconds:.2f}s")
    ckpt_path = out / "checkpoint.pt"
    rows: list[dict] = []
    elapsed = 0.0
    if args.resume:
        if not ckpt_path.exists():
            raise SystemExit(f"recommend.py: --resume given but {ckpt_path} does not exist")
        state = torch.load(ckpt_path, map_location="cpu", weights_only=False)
        trainer.load_state_dict(state["trainer"])
        rows, elapsed = state["rows"], state["seconds"]
        print(f"resumed from {ckpt_path} at epoch {trainer.epoch}")
    baseline = full_ranking_metrics(*popularity_embeddings(data), data, config.topk)
    print(f"popularity baseline  {short(baseline)}")
    resolved = {"args": vars(args), "preset": preset, "config": dataclasses.asdict(config),
                "data": {"name": data.name, "num_users": data.num_users, "num_items": data.num_items,
                         "num_train": data.num_train, "num_test": data.num_test},
                "torch": torch.__version__, "threads": torch.get_num_threads()}
    atomic_write(out / "config.json", lambda tmp: tmp.write_text(json.dumps(resolved, indent=2)))
    from torch.utils.tensorboard import SummaryWriter
    writer = SummaryWriter(str(out / "tb"))

    def evaluate_and_log(row: dict) -> dict:
        metrics = trainer.evaluate()
        improved = trainer.record(metrics)
        print(f"eval epoch {trainer.epoch}: {short(metrics)}  ({metrics['seconds']:.2f}s)" + ("  *" if improved else ""))
        for k, v in metrics.items():
            if k != "num_users":
                writer.add_scalar(f"eval/{k}", v, trainer.epoch)
        row.update({k: v for k, v in metrics.items() if k not in ("num_users", "seconds")})
        row["eval_seconds"] = metrics["seconds"]
        return metrics

    start = time.perf_counter() - elapsed
    if trainer.epoch == 0 and trainer.eval_due():  # LightGCN-PyTorch tests before the first epoch
        row = {"epoch": 0}
        evaluate_and_log(row)
        rows.append(row)
    last_metrics = trainer.history[-1] if trainer.history else None
    stop_reason = "epochs"
    while trainer.epoch < config.epochs:
        if trainer.should_stop:
            stop_reason = "early stop"
            break
        if args.max_minutes is not None and time.perf_counter() - start > 60 * args.max_minutes:
            stop_reason = "time limit"
            break
        with tqdm(total=trainer.num_batches(), desc=f"epoch {trainer.epoch + 1}", leave=False,
                  disable=not sys.stderr.isatty()) as bar:
            stats = trainer.train_epoch(progress=bar.update)
        print(f"epoch {trainer.epoch}: loss: {stats['loss']:.5f}  train_seconds: {stats['seconds']:.2f}  "
              f"samples/s: {stats['samples_per_s']:.0f}")
        writer.add_scalar("train/loss", stats["loss"], trainer.epoch)
        writer.add_scalar("train/samples_per_s", stats["samples_per_s"], trainer.epoch)
        row = {"epoch": trainer.epoch, "loss": stats["loss"], "train_seconds": stats["seconds"]}
        if trainer.eval_due() or trainer.epoch == config.epochs:
            last_metrics = evaluate_and_log(row)
        rows.append(row)
        write_csv(out / "metrics.csv", rows)
        state = {"trainer": trainer.state_dict(), "rows": rows, "seconds": time.perf_counter() - start}
        atomic_write(ckpt_path, lambda tmp: torch.save(state, tmp))
    if trainer.should_stop:
        stop_reason = "early stop"
    if last_metrics is None or trainer.history[-1]["epoch"] != trainer.epoch:
        row = rows[-1] if rows and rows[-1]["epoch"] == trainer.epoch else {"epoch": trainer.epoch}
        last_metrics = evaluate_and_log(row)
        write_csv(out / "metrics.csv", rows)
    seconds = time.perf_counter() - start
    writer.close()
    key_names = ("recall@20", "ndcg@20", "precision@20", "hr@20", "f1@20")
    best = {k: trainer.best[k] for k in key_names if k in trainer.best}
    best["epoch"] = trainer.best["epoch"]
    final = {k: last_metrics[k] for k in key_names if k in last_metrics}
    final["epoch"] = trainer.epoch
    train_s = [r["train_seconds"] for r in rows if "train_seconds" in r]
    eval_s = [r["eval_seconds"] for r in rows if "eval_seconds" in r]
    result = {
        "best": best, "final": final, "seconds": seconds, "stop_reason": stop_reason,
        "seconds_to_best": trainer.setup_seconds + sum(r.get("train_seconds", 0) + r.get("eval_seconds", 0)
                                                       for r in rows if r["epoch"] <= trainer.best["epoch"]),
        "median_train_seconds_per_epoch": statistics.median(train_s) if train_s else None,
        "median_eval_seconds": statistics.median(eval_s) if eval_s else None,
        "setup_seconds": trainer.setup_seconds,
        "popularity_baseline": {k: baseline[k] for k in key_names},
        "paper": PAPER[args.model].get(args.data),
        "model": args.model, "data": args.data, "preset": preset,
    }
    atomic_write(out / "metrics.json", lambda tmp: tmp.write_text(json.dumps(result, indent=2)))
    print(f"stopped: {stop_reason} after {trainer.epoch} epochs, {seconds:.1f}s")
    print(f"best (epoch {best['epoch']}): {short(best)}")
    print(f"final (epoch {final['epoch']}): {short(final)}")
    print(f"popularity baseline:  {short(baseline)}")
    paper = PAPER[args.model].get(args.data)
    if paper:
        print("paper vs ours (best): " + "  ".join(
            f"{k}: {v:.4f} vs {best.get(k, float('nan')):.4f}" for k, v in paper.items()))
    return result


if __name__ == "__main__":
    main()
