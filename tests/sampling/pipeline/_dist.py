"""Run a function on N CPU ranks (gloo, forked processes) with a hard timeout, for the pipeline tests.

Forking keeps start-up under a second (the children inherit the imported torch). Each child gets a
file-store process group, one thread, its stdout/stderr in ``<tmp>/rank<r>.log``, and ends with
``os._exit`` (never returning into pytest). The parent kills every child still alive at the deadline
and fails the test, so a hanging pipeline can never hang CI.
"""

from __future__ import annotations

import datetime
import faulthandler
import multiprocessing as mp
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist


@dataclass
class RankRun:
    results: list[Any]  # what each rank returned (None for a rank that failed)
    exitcodes: list[int]
    logs: list[str]
    seconds: float
    folder: Path


def _entry(fn: Callable, rank: int, world: int, folder: str, pg_timeout: float, dump_after: float, args: tuple) -> None:
    code = 1
    try:
        log = os.open(os.path.join(folder, f"rank{rank}.log"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(log, 1)
        os.dup2(log, 2)
        sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115 - pytest's capture objects are not fd 1/2
        sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115 - closed by os._exit
        faulthandler.dump_traceback_later(dump_after, file=sys.stderr)  # a hung rank shows where it hangs
        torch.set_num_threads(1)
        dist.init_process_group(
            "gloo",
            init_method=f"file://{folder}/store",
            rank=rank,
            world_size=world,
            timeout=datetime.timedelta(seconds=pg_timeout),
        )
        result = fn(rank, world, *args)
        torch.save(result, os.path.join(folder, f"result{rank}.pt"))
        code = 0
    except BaseException:  # noqa: BLE001 - report everything, then leave without pytest's cleanup
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def run_ranks(
    fn: Callable, world: int, *args: Any, timeout: float = 60.0, pg_timeout: float = 20.0, check: bool = True
) -> RankRun:
    """``fn(rank, world, *args)`` on ``world`` forked ranks; with ``check`` every rank must succeed."""
    folder = Path(tempfile.mkdtemp(prefix="gs-pipeline-"))
    ctx = mp.get_context("fork")
    procs = [
        ctx.Process(target=_entry, args=(fn, r, world, str(folder), pg_timeout, max(1.0, timeout - 2.0), args))
        for r in range(world)
    ]
    t0 = time.perf_counter()
    for p in procs:
        p.start()
    deadline = t0 + timeout
    for p in procs:
        p.join(max(0.0, deadline - time.perf_counter()))
    hung = [r for r, p in enumerate(procs) if p.is_alive()]
    for r in hung:
        procs[r].kill()
        procs[r].join()
    seconds = time.perf_counter() - t0
    logs = [(folder / f"rank{r}.log").read_text() if (folder / f"rank{r}.log").exists() else "" for r in range(world)]
    if hung:
        raise AssertionError(f"ranks {hung} still running after {timeout} s (killed); logs:\n" + "\n".join(logs))
    results = [
        torch.load(folder / f"result{r}.pt", weights_only=False) if (folder / f"result{r}.pt").exists() else None
        for r in range(world)
    ]
    run = RankRun(results, [p.exitcode for p in procs], logs, seconds, folder)
    if check and any(run.exitcodes):
        raise AssertionError(f"exit codes {run.exitcodes}; logs:\n" + "\n---\n".join(logs))
    return run
