"""Train LightGCN or UltraGCN and evaluate by full ranking (Recall/NDCG/Precision/HR@20).

Default (no download, well under a minute on 2 CPU cores): LightGCN on a synthetic split with
planted taste clusters; it prints the popularity baseline beside the model's numbers.

    python examples/recommend.py
    python examples/recommend.py --model ultragcn --data amazon-electronics --root ../shared/data
    python examples/recommend.py --model lightgcn --data gowalla --root ../shared/data --epochs 50
    python examples/recommend.py ... --out runs/x --resume     # continue exactly where it stopped
    python examples/recommend.py --minibatch --fanouts 10,10,10  # LightGCN on sampled neighbourhoods

``--root`` holds one folder per dataset (``<root>/<name>/train.txt``, ``test.txt`` in the
LightGCN format, or RecBole ``<name>.train.inter`` / ``<name>.test.inter``). The paper preset of
the model for the dataset applies when one exists (``--preset none`` disables it); flags override
it. ``--download`` fetches the known splits (gowalla, yelp2018, amazon-book, amazon-electronics,
ml-1m, amazon-cds) into ``--root`` first, checksums verified. ``--minibatch`` trains LightGCN on
the sampled K-hop neighbourhood of each batch (one fan-out per layer, ``--fanouts``) instead of
propagating the whole graph every step (``graphnets.recsys.sampled``); evaluation still
propagates the whole graph once.

Writes the run folder of ``examples/_run.py``: ``config.json``, ``metrics.csv`` (one row per
epoch), ``tb/``, ``checkpoint.pt`` (after every epoch; ``--resume``, which may raise ``--epochs``)
and ``metrics.json`` with the best and final evaluation and the wall time.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _run import Run, example_parser, fail, nonnegative_int, positive_float, positive_int
from node_minibatch import fanout_list

from graphnets.recsys import (
    PAPER,
    RANKING_KEYS,
    build_trainer,
    dataset_record,
    evaluation_row,
    full_ranking_metrics,
    load_dataset,
    paper_comparison,
    popularity_embeddings,
    resolve_config,
    training_summary,
)
from graphnets.recsys import format_metrics as short
from graphnets.recsys.download import how_to_obtain
from graphnets.recsys.sampled import SampledLightGCNTrainer
from sampling.finite import NonFiniteError


def parse_args(argv=None):
    p = example_parser(__doc__, out="runs/recommend", seed=2020)
    p.add_argument("--model", choices=["lightgcn", "ultragcn"], default="lightgcn")
    p.add_argument("--data", default="synthetic", help="'synthetic' or a dataset folder name under --root")
    data_root = os.environ.get("GRAPHSPIKE_DATA", "data")
    p.add_argument("--root", default=data_root, help="one subfolder per dataset (default: $GRAPHSPIKE_DATA or ./data)")
    p.add_argument("--synthetic-users", type=positive_int, default=2000, help="users of the synthetic dataset")
    p.add_argument("--synthetic-items", type=positive_int, default=1500, help="items of the synthetic dataset")
    p.add_argument("--download", action="store_true", help="download the dataset into --root if missing")
    p.add_argument(
        "--cold-users", choices=["error", "drop"], default="error", help="test users with no train row: refuse or drop"
    )
    p.add_argument("--drop-duplicates", action="store_true", help="RecBole: keep the first of repeated rows")
    p.add_argument("--preset", default="auto", help="'auto' (the dataset's preset when one exists), 'none', or a name")
    p.add_argument("--epochs", type=positive_int, help="training epochs (preset default)")
    p.add_argument(
        "--eval-every", type=nonnegative_int, help="evaluate every N epochs (default: the official schedule)"
    )
    p.add_argument("--early-stop", type=nonnegative_int, help="stop after N evaluations without a better recall@20")
    p.add_argument("--batch-size", type=positive_int)
    p.add_argument("--lr", type=positive_float)
    p.add_argument("--dim", type=positive_int, help="embedding dimension")
    p.add_argument("--layers", type=positive_int, help="LightGCN propagation layers")
    p.add_argument("--max-minutes", type=positive_float, help="stop after this much training time")
    p.add_argument("--minibatch", action="store_true", help="LightGCN on sampled neighbourhoods (see --fanouts)")
    p.add_argument("--fanouts", type=fanout_list, help="with --minibatch: one fan-out per layer (default 10 each)")
    a = p.parse_args(argv)
    if a.minibatch and a.model != "lightgcn":
        p.error("--minibatch applies to lightgcn only (got --model ultragcn)")
    if a.fanouts is not None and not a.minibatch:
        p.error("--fanouts needs --minibatch")
    if a.download and a.data == "synthetic":
        p.error("--download needs a real --data (the synthetic split is generated, not downloaded)")
    if a.layers is not None and a.model != "lightgcn":
        p.error("--layers applies to lightgcn only (got --model ultragcn)")
    return a


def main(argv=None) -> dict:
    a = parse_args(argv)
    overrides = {"epochs": a.epochs, "batch_size": a.batch_size, "lr": a.lr, "embedding_dim": a.dim}
    if a.model == "lightgcn":
        overrides["num_layers"] = a.layers
    try:
        config, preset = resolve_config(a.model, a.data, a.preset, a.eval_every, a.early_stop, **overrides)
    except ValueError as err:
        fail(f"--preset: {err}")
    run = Run(a, name="recommend", resumable=("epochs", "max_minutes"))
    try:
        data = load_dataset(
            a.data,
            a.root,
            download=a.download,
            seed=a.seed,
            cold_users=a.cold_users,
            drop_duplicates=a.drop_duplicates,
            synthetic={"num_users": a.synthetic_users, "num_items": a.synthetic_items},
        )
    except FileNotFoundError as err:
        fail(f"{err}. {how_to_obtain(a.data, a.root)}")
    except ValueError as err:  # malformed files: the reader names file and line; library advice -> CLI flag
        fail(
            str(err)
            .replace("pass cold_users='drop'", "pass --cold-users drop")
            .replace("pass drop_duplicates=True", "pass --drop-duplicates")
        )
    print(data.summary())
    if a.minibatch:
        fanouts = a.fanouts or [10] * config.num_layers
        if len(fanouts) != config.num_layers:
            fail(f"--fanouts: one fan-out per LightGCN layer ({config.num_layers}) (got {len(fanouts)}: {fanouts})")
        trainer = SampledLightGCNTrainer(data, config, fanouts=fanouts, device=run.device, seed=a.seed)
    else:
        trainer = build_trainer(a.model, data, config, device=run.device, seed=a.seed)
    sampled = f", sampled fan-outs {trainer.fanouts}" if a.minibatch else ""
    print(f"model: {a.model}{sampled} (preset: {preset or 'none'}); setup {trainer.setup_seconds:.2f}s")
    if (state := run.resume()) is not None:
        trainer.load_state_dict(state["trainer"])
        print(f"resumed at epoch {trainer.epoch}")
    baseline = full_ranking_metrics(*popularity_embeddings(data), data, config.topk)
    print(f"popularity baseline  {short(baseline)}")
    fanouts = trainer.fanouts if a.minibatch else None
    run.write_config(dict(preset=preset, model=dataclasses.asdict(config), fanouts=fanouts, data=dataset_record(data)))

    def evaluate(row: dict) -> dict:
        metrics = trainer.evaluate()
        improved = trainer.record(metrics)
        print(f"eval epoch {trainer.epoch}: {short(metrics)}  ({metrics['seconds']:.2f}s){'  *' if improved else ''}")
        row.update(evaluation_row(metrics))
        return metrics

    def log(row: dict) -> None:
        run.log(row, step=trainer.epoch, echo=False)
        run.checkpoint({"trainer": trainer.state_dict()}, step=trainer.epoch)

    start = time.perf_counter()
    if trainer.epoch == 0 and trainer.eval_due():  # LightGCN-PyTorch tests before the first epoch
        row = {"epoch": 0}
        evaluate(row)
        log(row)
    last, stop_reason = (trainer.history[-1] if trainer.history else None), "epochs"
    while trainer.epoch < config.epochs and not trainer.should_stop:
        if a.max_minutes is not None and time.perf_counter() - start > 60 * a.max_minutes:
            stop_reason = "time limit"
            break
        try:
            with run.bar(total=trainer.num_batches(), desc=f"epoch {trainer.epoch + 1}") as bar:
                stats = trainer.train_epoch(progress=bar.update)
        except NonFiniteError as err:  # diverged: never evaluate, log or checkpoint the NaN state
            kept = f"{run.out} keeps the checkpoint of epoch {trainer.epoch}"
            print(f"{Path(sys.argv[0]).name}: error: {err}; {kept}", file=sys.stderr, flush=True)
            raise SystemExit(1) from None
        print(
            f"epoch {trainer.epoch}: loss: {stats['loss']:.5f}  train_seconds: {stats['seconds']:.2f}  "
            f"samples/s: {stats['samples_per_s']:.0f}"
        )
        row = dict(epoch=trainer.epoch, loss=stats["loss"], train_seconds=stats["seconds"])
        row["samples_per_s"] = stats["samples_per_s"]
        if trainer.eval_due() or trainer.epoch == config.epochs:
            last = evaluate(row)
        log(row)
    stop_reason = "early stop" if trainer.should_stop else stop_reason
    if last is None or trainer.history[-1]["epoch"] != trainer.epoch:
        row = {}
        last = evaluate(row)
        if run.rows and run.rows[-1]["epoch"] == trainer.epoch:
            run.amend(row, step=trainer.epoch)
        else:
            run.log({"epoch": trainer.epoch, **row}, step=trainer.epoch, echo=False)
    result = {
        **training_summary(trainer, run.rows, last, seconds=run.seconds, stop_reason=stop_reason),
        "popularity_baseline": {k: baseline[k] for k in RANKING_KEYS},
        "paper": PAPER[a.model].get(a.data),
        "model": a.model,
        "data": a.data,
        "preset": preset,
    }
    print(f"stopped: {stop_reason} after {trainer.epoch} epochs, {run.seconds:.1f}s")
    best, final = result["best"], result["final"]
    print(f"best (epoch {best['epoch']}): {short(best)}\nfinal (epoch {final['epoch']}): {short(final)}")
    if result["paper"]:
        print(paper_comparison(result["paper"], best))
    return run.finish(result)


if __name__ == "__main__":
    main()
