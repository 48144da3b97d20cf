"""Time to the best NDCG@20: graphspike UltraGCN vs the official UltraGCN, full runs side by side.

Both trainings run at the same time, each pinned to ``--threads`` torch threads, from process
start to their early stop (the official rule: ``early_stop`` evaluations without a better
Recall@20). Ours is ``examples/recommend.py`` with the dataset's preset, whose ``metrics.json``
records the seconds to its best evaluation. The official one is its unchanged ``main.py
--config_file <dataset config>``: every line it prints is timestamped on arrival, and its
time to best is the arrival of the evaluation line with the best NDCG@20, measured from its
start (preparation included, as ours). Official epochs are 0-based, ours 1-based.

    python benchmarks/time_to_best.py --root ../shared/data --dataset amazon-electronics \\
        --official-ultragcn /path/to/UltraGCN --out runs/ttb

The official checkout is never modified except for the ``data/<dataset>`` links it reads and
the model / item-item caches it writes itself.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Optional

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.official.common import link_data  # noqa: E402
from benchmarks.recsys import ULTRA_CONFIGS  # noqa: E402

_EPOCH = re.compile(r"The time for epoch (\d+)")
_METRICS = re.compile(r"Recall: ([\d.]+)\s+NDCG: ([\d.]+)")


def parse_official_log(lines: list[tuple[float, str]]) -> dict:
    """Best NDCG@20 and its arrival time from ``(seconds since start, line)`` pairs of ``main.py``."""
    epoch: Optional[int] = None
    curve = []
    for t, line in lines:
        m = _EPOCH.search(line)
        if m:
            epoch = int(m.group(1))
            continue
        m = _METRICS.search(line)
        if m and epoch is not None:
            curve.append({"epoch": epoch, "recall@20": float(m.group(1)), "ndcg@20": float(m.group(2)), "seconds": t})
    if not curve:
        raise RuntimeError("official UltraGCN printed no evaluation line (see its log)")
    best = max(curve, key=lambda r: r["ndcg@20"])
    return {"best": best, "evaluations": len(curve), "seconds": lines[-1][0], "curve": curve}


def run_official(code: Path, data_dir: Path, config: str, threads: int, log_path: Path) -> dict:
    dataset = config.split("_config")[0]
    link_data(data_dir, code / "data" / dataset, ["train.txt", "test.txt"])
    for suffix in ("_ii_constraint_mat", "_ii_neighbor_mat"):  # measure preparation from scratch
        (code / f"{dataset}{suffix}").unlink(missing_ok=True)
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-u", "main.py", "--config_file", config],
        cwd=code,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines = [(time.perf_counter() - t0, line.rstrip("\n")) for line in proc.stdout]
    proc.wait()
    log_path.write_text("".join(f"{t:10.3f} {line}\n" for t, line in lines))
    if proc.returncode != 0:
        raise RuntimeError(f"official UltraGCN exited with {proc.returncode}; log: {log_path}")
    return parse_official_log(lines)


def run_ours(dataset: str, root: str, threads: int, out: Path) -> dict:
    t0 = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "examples/recommend.py",
            "--model",
            "ultragcn",
            "--data",
            dataset,
            "--root",
            root,
            "--threads",
            str(threads),
            "--out",
            str(out),
        ],
        cwd=REPO,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - t0
    m = json.loads((out / "metrics.json").read_text())
    # metrics.json counts training + evaluation time; add the start-up before training began
    startup = wall - m["seconds"]
    return {
        "best": {
            "epoch": m["best"]["epoch"],
            "recall@20": m["best"]["recall@20"],
            "ndcg@20": m["best"]["ndcg@20"],
            "seconds": m["seconds_to_best"] + startup,
        },
        "seconds": wall,
        "median_train_seconds_per_epoch": m["median_train_seconds_per_epoch"],
    }


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )
    p.add_argument("--root", required=True, help="folder with one subfolder per dataset")
    p.add_argument("--dataset", default="amazon-electronics", choices=sorted(ULTRA_CONFIGS))
    p.add_argument("--official-ultragcn", type=Path, required=True, help="UltraGCN work tree (holds main.py)")
    p.add_argument("--threads", type=int, default=1, help="torch threads of each run (default 1)")
    p.add_argument("--out", type=Path, default=Path("runs/time_to_best"))
    args = p.parse_args()
    code = args.official_ultragcn.resolve()
    if not (code / "main.py").is_file():
        raise SystemExit(f"time_to_best: --official-ultragcn must hold main.py (got {code})")
    args.out.mkdir(parents=True, exist_ok=True)
    results: dict = {}

    def official() -> None:
        results["official"] = run_official(
            code,
            Path(args.root).resolve() / args.dataset,
            ULTRA_CONFIGS[args.dataset],
            args.threads,
            args.out / "official.log",
        )

    worker = threading.Thread(target=official)
    worker.start()
    results["ours"] = run_ours(args.dataset, str(Path(args.root).resolve()), args.threads, args.out.resolve() / "ours")
    worker.join()
    if "official" not in results:
        raise SystemExit("time_to_best: the official run failed (see the traceback above)")

    from benchmarks._common import write_result

    ours, off = results["ours"]["best"], results["official"]["best"]
    ratio = off["seconds"] / ours["seconds"]
    for name, b in (("official", off), ("ours", ours)):
        print(
            f"{name:9} best NDCG@20 {b['ndcg@20']:.4f} (Recall@20 {b['recall@20']:.4f}) at epoch {b['epoch']} "
            f"after {b['seconds']:.1f} s"
        )
    print(f"time to best: {ratio:.2f}x shorter")
    results["official"].pop("curve")
    path = write_result(
        f"time-to-best-{args.dataset}",
        {"dataset": args.dataset, "threads": args.threads, "ratio_time_to_best": ratio, **results},
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
