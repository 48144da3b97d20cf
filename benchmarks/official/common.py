"""Helpers shared by the official-code drivers."""

from __future__ import annotations

import itertools
import json
import os
import resource
import sys
from pathlib import Path


def peak_rss_gb() -> float:
    """Peak resident set size of this process so far, in GB (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def link_data(src: Path, dst: Path, names: list[str]) -> None:
    """Make ``dst/<name>`` point at ``src/<name>`` (the official code reads fixed relative paths)."""
    dst.mkdir(parents=True, exist_ok=True)
    for name in names:
        target = dst / name
        if (src / name).exists() and not target.exists():
            os.symlink((src / name).resolve(), target)


class Truncated:
    """Iterate only the first ``n`` items of an iterable (``n=0``: all), keeping ``.dataset``."""

    def __init__(self, iterable, n: int):
        self.iterable, self.n = iterable, n
        self.dataset = getattr(iterable, "dataset", None)

    def __iter__(self):
        return iter(self.iterable) if self.n <= 0 else itertools.islice(iter(self.iterable), self.n)

    def __len__(self):
        full = len(self.iterable)
        return full if self.n <= 0 else min(full, self.n)


def emit(result: dict) -> None:
    result["peak_rss_gb"] = round(peak_rss_gb(), 3)
    print("RESULT " + json.dumps(result), flush=True)
    sys.stdout.flush()
