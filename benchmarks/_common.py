"""Shared by the benchmark scripts: machine/commit stamp, medians, JSON results."""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any, Callable

import torch

RESULTS = Path(__file__).resolve().parent / "results"


def device_name(device: "str | torch.device" = "cpu") -> str:
    """A short human name of the machine the numbers come from."""
    device = str(device)
    if device.startswith("cuda") and torch.cuda.is_available():
        return torch.cuda.get_device_name(torch.device(device))
    model = platform.processor() or "cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model} ({torch.get_num_threads()} threads)"


def git_commit() -> str:
    """The checked-out commit of this repository: ``$GRAPHSPIKE_COMMIT`` when set (a copy of the
    tree without ``.git``, e.g. on a lent GPU: ``benchmarks/device_check.sh`` sets it), else git's,
    else ``"unknown"``."""
    if os.environ.get("GRAPHSPIKE_COMMIT"):
        return os.environ["GRAPHSPIKE_COMMIT"]
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=RESULTS.parent, check=True
        ).stdout.strip()
        # uncommitted edits to tracked files mean the figures are not those of ``head``
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            cwd=RESULTS.parent,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head}-dirty" if dirty else head


def stamp(device: str = "cpu") -> dict[str, Any]:
    """Device, software versions, commit and date for a results file."""
    return {
        "device": device_name(device),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "commit": git_commit(),
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


def median_time(
    fn: Callable[[], Any], repeats: int = 5, warmup: int = 1, sync: Callable[[], None] = lambda: None
) -> tuple[float, list[float]]:
    """Median wall time of ``fn`` over ``repeats`` runs after ``warmup`` runs, and all runs."""
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def write_result(name: str, payload: dict[str, Any], device: str = "cpu") -> Path:
    """Write ``benchmarks/results/<name>-<device kind>.json`` with the stamp merged in."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    kind = "cuda" if device.startswith("cuda") else "cpu"
    path = RESULTS / f"{name}-{kind}.json"
    path.write_text(json.dumps({**stamp(device), **payload}, indent=2) + "\n")
    return path
