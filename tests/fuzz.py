"""Shared harness of the reader fuzz tests (hypothesis).

The contract every file reader is held to: **any byte string gives either a valid result or a
``ValueError``** -- never another exception, a hang, or a silent partial read. Each fuzz test
feeds a reader three kinds of input:

* arbitrary bytes (``st.binary``),
* valid files generated in the exact published layout (the result must equal what was written:
  this is what catches a silent partial read),
* valid files with a few random byte edits (flip, insert, delete, overwrite, truncate), which
  reach the deeper parsing paths that random bytes never get past the magic line.

Budget. The default suite runs ``FUZZ_EXAMPLES`` (150) derandomised examples per test, a few
seconds per reader. For a long run set ``GRAPHSPIKE_FUZZ_EXAMPLES`` (e.g. 20000); the examples
are then random (a new seed each run) and hypothesis prints the failing input it shrank to::

    GRAPHSPIKE_FUZZ_EXAMPLES=20000 python -m pytest -m fuzz --hypothesis-show-statistics

A call that runs longer than ``HANG_SECONDS`` is reported as a hang (``SIGALRM``).
"""

from __future__ import annotations

import os
import signal
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

LONG_RUN = "GRAPHSPIKE_FUZZ_EXAMPLES" in os.environ
FUZZ_EXAMPLES = int(os.environ.get("GRAPHSPIKE_FUZZ_EXAMPLES", "150"))
HANG_SECONDS = 10.0

fuzz = pytest.mark.fuzz


def fuzz_settings(scale: float = 1.0) -> settings:
    """Settings of one fuzz test: ``scale * FUZZ_EXAMPLES`` examples, no deadline (the hang guard
    is :func:`time_limit`), derandomised in the default suite, no example database on disk."""
    return settings(
        max_examples=max(1, int(FUZZ_EXAMPLES * scale)),
        deadline=None,
        derandomize=not LONG_RUN,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


class ReaderHang(AssertionError):
    """A reader call ran past :data:`HANG_SECONDS`."""


@contextmanager
def time_limit(seconds: float = HANG_SECONDS):
    def on_alarm(signum, frame):
        raise ReaderHang(f"reader still running after {seconds} s (a hang)")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def read_or_value_error(fn: Callable[..., Any], *args, **kwargs) -> Any:
    """``fn(*args)``, or ``None`` when it raises ``ValueError``; any other exception (or a hang) fails."""
    with time_limit():
        try:
            return fn(*args, **kwargs)
        except ValueError:
            return None


@contextmanager
def scratch_dir():
    """A fresh temporary folder per example (pytest's ``tmp_path`` is per test, not per example)."""
    with tempfile.TemporaryDirectory(prefix="graphspike-fuzz-") as d:
        yield Path(d)


def _apply_edits(data: bytes, edits: list[tuple[str, int, bytes]]) -> bytes:
    buf = bytearray(data)
    for kind, pos, payload in edits:
        at = pos % (len(buf) + 1)
        if kind == "flip" and buf:
            at = pos % len(buf)
            buf[at] ^= payload[0] or 0x80
        elif kind == "insert":
            buf[at:at] = payload
        elif kind == "delete":
            del buf[at : at + len(payload)]
        elif kind == "overwrite":
            buf[at : at + len(payload)] = payload
        elif kind == "truncate":
            del buf[at:]
    return bytes(buf)


_EDIT = st.tuples(
    st.sampled_from(["flip", "insert", "delete", "overwrite", "truncate"]),
    st.integers(0, 1 << 20),
    st.binary(min_size=1, max_size=8),
)


def mutated(files: st.SearchStrategy[bytes], max_edits: int = 4) -> st.SearchStrategy[bytes]:
    """``files`` with 1..``max_edits`` random byte edits."""
    return st.builds(_apply_edits, files, st.lists(_EDIT, min_size=1, max_size=max_edits))
