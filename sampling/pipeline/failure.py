r"""Failure handling for pipelined runs: when one rank fails, every rank ends, with a clear message.

Three ways a rank can fail, and what the others see:

* it **raises** inside :class:`FailureGuard`: the guard writes ``"rank r (stages ...): <error>"``
  into the process group's key-value store and re-raises as :class:`PipelineFailure`. The other
  ranks' guards poll the store (a daemon thread, every ``poll_seconds``); on seeing the report
  they print it to stderr and end the process with ``exit_code`` at once, even while their main
  thread is blocked inside a send or receive.
* it is **killed** (or crashes hard): its sockets close, so its neighbours' pending transfers
  fail at once; their guards report "a peer closed the connection" and the failure spreads along
  the pipeline the same way.
* it **hangs**: its neighbours' transfers raise after the process-group ``timeout`` (see
  :func:`~sampling.pipeline.init_distributed`), their reports reach the hung rank's watchdog,
  which ends it. Every rank therefore exits non-zero within the timeout plus a poll interval
  and a one-second settling time.

The watchdog also writes a heartbeat, so when no rank reports an error of its own, the message
tells killed ranks (heartbeat stopped) from stuck ones (alive, but a transfer timed out).

Under ``torchrun`` the elastic agent also stops the remaining workers once one exits non-zero.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import time

import torch.distributed as dist

__all__ = ["FailureGuard", "PipelineFailure"]

_PREFIX = "graphspike/pipeline/failed/"
_AFTER_PEER = "(after a peer failed)"
_ALIVE = "graphspike/pipeline/alive/"
_SETTLE_SECONDS = 1.0  # how long to wait for further reports before naming the silent ranks


class PipelineFailure(RuntimeError):
    """A pipelined run stopped because this rank or another rank failed (the message says which)."""


def _store() -> dist.Store | None:
    try:
        return dist.distributed_c10d._get_default_store()  # the rendezvous store every rank shares
    except (RuntimeError, ValueError, AttributeError):
        return None


class FailureGuard:
    """Context manager that turns a failure anywhere in the world into a non-zero exit everywhere.

    Args:
        describe: how this rank names itself in reports (e.g. ``"rank 1 (stage 1)"``).
        poll_seconds: how often the watchdog looks for other ranks' reports.
        exit_code: exit status of a rank ended by its watchdog.

    Example::

        with FailureGuard(f"rank {rank}"):
            for epoch in range(epochs):
                driver.step(inputs, targets)
    """

    def __init__(self, describe: str, *, poll_seconds: float = 0.2, exit_code: int = 1) -> None:
        if not (poll_seconds > 0):
            raise ValueError(f"FailureGuard: poll_seconds must be > 0 (got {poll_seconds!r})")
        self.describe = describe
        self.poll_seconds = float(poll_seconds)
        self.exit_code = int(exit_code)
        self._rank = dist.get_rank() if dist.is_initialized() else 0
        self._world = dist.get_world_size() if dist.is_initialized() else 1
        self._store = _store() if self._world > 1 else None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- reports in the store --------------------------------------------------------------------
    def _key(self, rank: int) -> str:
        return f"{_PREFIX}{rank}"

    def reports(self) -> dict[int, str]:
        """Failure reports other ranks (and this one) have written so far, by rank."""
        if self._store is None:
            return {}
        out = {}
        for r in range(self._world):
            key = self._key(r)
            try:
                if self._store.check([key]):
                    out[r] = self._store.get(key).decode(errors="replace")
            except (RuntimeError, dist.DistStoreError):  # store gone with the rank hosting it
                break
        return out

    def _publish(self, message: str) -> None:
        if self._store is None:
            return
        try:
            self._store.set(self._key(self._rank), f"{time.time():.6f}|{message}")
        except (RuntimeError, dist.DistStoreError):
            pass

    def _first(self, reports: dict[int, str]) -> str:
        """The root cause among ``reports``: the earliest error of a rank's own; otherwise the ranks that
        reported nothing (killed, crashed or hung)."""
        stamped = sorted((float(v.split("|", 1)[0]), v.split("|", 1)[1]) for v in reports.values())
        own = [m for _, m in stamped if not m.endswith(_AFTER_PEER)]
        if own:
            return own[0]
        first = f"; first report: {stamped[0][1]}" if stamped else ""
        dead = self._silent_ranks(reports)
        if dead:
            return (
                f"rank{'s' if len(dead) > 1 else ''} {', '.join(map(str, dead))} stopped without a report "
                f"(no heartbeat for {self._stale_seconds:.1f} s: killed or crashed){first}"
            )
        return f"no rank reported an error of its own and every rank is alive: one is probably stuck{first}"

    @property
    def _stale_seconds(self) -> float:
        return max(1.0, 5 * self.poll_seconds)

    def _beat(self) -> None:
        try:
            self._store.set(f"{_ALIVE}{self._rank}", f"{time.time():.6f}")
        except (RuntimeError, dist.DistStoreError):
            pass

    def _silent_ranks(self, reports: dict[int, str]) -> list[int]:
        """Ranks (other than this one) without a report whose heartbeat is missing or older than the limit."""
        if self._store is None:
            return []
        now, out = time.time(), []
        for r in range(self._world):
            if r == self._rank or r in reports:
                continue
            try:
                key = f"{_ALIVE}{r}"
                last = float(self._store.get(key)) if self._store.check([key]) else 0.0
            except (RuntimeError, dist.DistStoreError, ValueError):
                last = 0.0
            if now - last > self._stale_seconds:
                out.append(r)
        return out

    # --- watchdog ----------------------------------------------------------------------------------
    def _watch(self) -> None:
        seen_at = None
        while not self._stop.wait(self.poll_seconds):
            self._beat()
            others = {r: m for r, m in self.reports().items() if r != self._rank}
            if not others:
                continue
            root_known = any(not m.endswith(_AFTER_PEER) for m in others.values())
            seen_at = seen_at or time.monotonic()
            if root_known or time.monotonic() - seen_at >= _SETTLE_SECONDS:  # let the other reports arrive
                print(f"[{self.describe}] stopping: {self._first(others)}", file=sys.stderr, flush=True)
                os._exit(self.exit_code)  # the main thread may be blocked in C++ (recv); end the process

    def __enter__(self) -> FailureGuard:  # noqa: PYI034 - no typing.Self on Python 3.10
        if self._store is not None:
            self._beat()
            self._thread = threading.Thread(target=self._watch, name="graphspike-failure-guard", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        self._stop.set()
        if exc is None or isinstance(exc, (KeyboardInterrupt, SystemExit)) and not isinstance(exc, PipelineFailure):
            if exc is not None:
                self._publish(f"{self.describe} stopped ({type(exc).__name__})")
            return False
        reason = _short(exc)
        peer = _looks_like_peer_failure(exc)
        self._publish(f"{self.describe} failed: {reason}" + (f" {_AFTER_PEER}" if peer else ""))
        if peer:
            time.sleep(_SETTLE_SECONDS)  # let the root cause's report arrive
            why = self._first({r: m for r, m in self.reports().items() if r != self._rank})
            raise PipelineFailure(
                f"{self.describe}: pipeline stopped because another rank failed: {why} [here: {reason}]"
            ) from exc
        raise PipelineFailure(f"{self.describe} failed: {reason}") from exc


def _short(exc: BaseException) -> str:
    """``Type: first line`` of an error, without the C++ source paths gloo/NCCL put in front."""
    lines = str(exc).strip().splitlines()
    text = re.sub(r"\[/[^\]]*\]\s*", "", lines[0] if lines else "")
    text = text.split(". This is typically")[0]
    return f"{type(exc).__name__}: {text[:200]}".strip()


def _looks_like_peer_failure(exc: BaseException) -> bool:
    """Whether ``exc`` is a communication error (a peer went away or timed out), not a local bug."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, dist.DistError) or type(exc).__name__ in ("DistNetworkError", "DistBackendError"):
            return True
        msg = str(exc).lower()
        if any(
            s in msg
            for s in (
                "connection closed",
                "connection reset",
                "timed out",
                "timeout",
                "gloo",
                "broken pipe",
                "nccl",
                "peer",
            )
        ):
            return True
        exc = exc.__cause__ or exc.__context__
    return False
