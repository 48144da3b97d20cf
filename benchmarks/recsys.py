"""Side-by-side training/evaluation speed and peak memory: graphspike vs the official codes.

For each model the same dataset and the official hyperparameters (graphspike's presets mirror
the official configs) are run by both implementations, each in its own process (peak memory
is that implementation's alone):

* LightGCN: graphspike ``LightGCNTrainer`` vs gusye1234/LightGCN-PyTorch (``--official-lightgcn``);
* UltraGCN: graphspike ``UltraGCNTrainer`` vs xue-pai/UltraGCN (``--official-ultragcn``).

Reported per implementation: one-off preparation (loading, graph/constraint construction), one
training epoch, one full evaluation over all test users, peak RSS; then ratios official/ours.
Our epoch and evaluation are medians over ``--repeats`` runs. The official epoch may be
limited to its first ``--official-batches`` batches and extrapolated (reported as such).

The official code is not part of graphspike. Fetch it yourself and export a work tree, e.g.::

    git clone https://github.com/gusye1234/LightGCN-PyTorch /tmp/official/LightGCN-PyTorch
    git clone https://github.com/xue-pai/UltraGCN /tmp/official/UltraGCN
    pip install pandas tensorboardX scikit-learn ipython cppimport pybind11   # what they import

    python benchmarks/recsys.py --root ../shared/data --dataset gowalla \\
        --official-lightgcn /tmp/official/LightGCN-PyTorch --official-ultragcn /tmp/official/UltraGCN
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ULTRA_CONFIGS = {
    "gowalla": "gowalla_config.ini",
    "amazon-electronics": "electronics_config.ini",
    "ml-1m": "ml-1m_config.ini",
    "amazon-cds": "amazoncds_config.ini",
    "yelp2018": "yelp2018_config.ini",
}


def ours_worker(model: str, dataset: str, root: str, repeats: int, device: str) -> None:
    """Runs in a child process: time our preparation, epochs and evaluations; print one RESULT line."""
    import resource

    import torch

    from graphnets.recsys import build_trainer, get_preset
    from graphnets.recsys.datasets import load_dataset

    t0 = time.perf_counter()
    data = load_dataset(dataset, root)
    trainer = build_trainer(model, data, get_preset(model, dataset), device=device)
    prepare_s = time.perf_counter() - t0
    epochs = [trainer.train_epoch()["seconds"] for _ in range(repeats)]
    evals, metrics = [], {}
    for _ in range(repeats):
        t0 = time.perf_counter()
        metrics = trainer.evaluate()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        evals.append(time.perf_counter() - t0)
    print(
        "RESULT "
        + json.dumps(
            {
                "impl": f"graphspike-{model}",
                "dataset": dataset,
                "prepare_s": prepare_s,
                "epoch_s": statistics.median(epochs),
                "epoch_runs_s": epochs,
                "eval_s": statistics.median(evals),
                "eval_runs_s": evals,
                "batches_per_epoch": trainer.num_batches(),
                "recall@20": metrics.get("recall@20"),
                "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
            }
        ),
        flush=True,
    )


def run_child(cmd: list[str], label: str) -> dict:
    """Run a worker/driver process and parse its ``RESULT {json}`` line."""
    print(f"running {label} ...", flush=True)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stdout + proc.stderr)[-2000:]
        raise RuntimeError(f"{label} failed (exit {proc.returncode}):\n{tail}")
    result = json.loads(lines[-1][len("RESULT ") :])
    result["process_wall_s"] = time.perf_counter() - t0
    return result


def ratio(a: float | None, b: float | None) -> float | None:
    return None if not a or not b else a / b


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )
    p.add_argument("--root", required=True, help="folder with one subfolder per dataset (e.g. ../shared/data)")
    p.add_argument("--dataset", default="gowalla")
    p.add_argument("--models", default="lightgcn,ultragcn")
    p.add_argument("--official-lightgcn", type=Path, help="LightGCN-PyTorch work tree (holds code/)")
    p.add_argument("--official-ultragcn", type=Path, help="UltraGCN work tree (holds main.py)")
    p.add_argument("--official-batches", type=int, default=0, help="limit official epochs to N batches (0: full)")
    p.add_argument("--repeats", type=int, default=3, help="our epochs/evaluations to time (median)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--worker", nargs=2, metavar=("MODEL", "DATASET"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        ours_worker(args.worker[0], args.worker[1], args.root, args.repeats, args.device)
        return

    sys.path.insert(0, str(REPO))
    from benchmarks._common import write_result

    py = sys.executable
    rows = []
    for model in args.models.split(","):
        ours = run_child(
            [
                py,
                "benchmarks/recsys.py",
                "--root",
                args.root,
                "--repeats",
                str(args.repeats),
                "--device",
                args.device,
                "--worker",
                model,
                args.dataset,
            ],
            f"graphspike {model}",
        )
        official = None
        data_dir = str(Path(args.root).resolve() / args.dataset)
        if model == "lightgcn" and args.official_lightgcn:
            official = run_child(
                [
                    py,
                    "-m",
                    "benchmarks.official.lightgcn_driver",
                    "--code",
                    str(args.official_lightgcn),
                    "--data",
                    data_dir,
                    "--dataset",
                    args.dataset,
                    "--max-batches",
                    str(args.official_batches),
                ],
                "official LightGCN-PyTorch",
            )
        if model == "ultragcn" and args.official_ultragcn:
            official = run_child(
                [
                    py,
                    "-m",
                    "benchmarks.official.ultragcn_driver",
                    "--code",
                    str(args.official_ultragcn),
                    "--data",
                    data_dir,
                    "--config",
                    ULTRA_CONFIGS[args.dataset],
                    "--max-batches",
                    str(args.official_batches),
                ],
                "official UltraGCN",
            )
        rows.append(
            {
                "model": model,
                "ours": ours,
                "official": official,
                "speedup_epoch": ratio(official and official["epoch_s"], ours["epoch_s"]),
                "speedup_eval": ratio(official and official.get("eval_s"), ours["eval_s"]),
                "memory_ratio": ratio(ours["peak_rss_gb"], official and official["peak_rss_gb"]),
            }
        )
        # Written after every model, so a long later model never costs the earlier results.
        # one file per dataset and model list, so a LightGCN run never overwrites an UltraGCN one
        path = write_result(
            f"recsys-{args.dataset}-{args.models.replace(',', '-')}",
            {"dataset": args.dataset, "rows": rows},
            args.device,
        )

    print(f"\n{'model':9} {'impl':10} {'prepare s':>10} {'epoch s':>9} {'eval s':>8} {'peak GB':>8}")
    for row in rows:
        for name in ("official", "ours"):
            r = row[name]
            if r is None:
                continue
            prep = r.get("prepare_s", r.get("load_s", float("nan")))
            note = " (extrapolated)" if r.get("extrapolated") else ""
            print(
                f"{row['model']:9} {name:10} {prep:10.2f} {r['epoch_s']:9.2f} {r.get('eval_s', float('nan')):8.2f} "
                f"{r['peak_rss_gb']:8.2f}{note}"
            )
        if row["official"]:
            print(
                f"{row['model']:9} ratios: epoch {row['speedup_epoch']:.2f}x faster, evaluation "
                f"{row['speedup_eval']:.2f}x faster, peak memory {row['memory_ratio']:.2f} of official"
            )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
