"""Reader of jAER AEDAT 2.0 files as used by CIFAR10-DVS.

Format (jAER "AER-DAT2.0"; Li et al., "CIFAR10-DVS: An Event-Stream Dataset for Object
Classification", Front. Neurosci. 11:309, 2017): ASCII header lines starting with ``#`` (the first
is ``#!AER-DAT2.0``), then events as **big-endian** 32-bit pairs ``(address, timestamp_us)``.
For the DVS128 sensor of CIFAR10-DVS the address holds ``x = (a & 0xFE) >> 1``,
``y = (a & 0x7F00) >> 8``, ``p = a & 1``. CIFAR10-DVS is stored rotated, so (as spikingjelly
does) we return ``x' = 127 - y``, ``y' = 127 - x``, ``p' = 1 - p``.

Differences from spikingjelly: the magic line is checked, a byte count that is not a whole number
of 8-byte events is an error (spikingjelly raises only for an odd number of words), and the
events are validated (non-empty, inside 128 x 128, non-decreasing timestamps).
"""

from __future__ import annotations

import os

import numpy as np

from .events import make_events, validate_events

CIFAR10DVS_SENSOR = (128, 128)
MAGIC = b"#!AER-DAT2.0"


def read_aedat2_header(path: str | os.PathLike) -> tuple[list[str], int]:
    """``(header lines without the leading '#', byte offset of the first event)``.

    Raises ``ValueError`` when the first line is not ``#!AER-DAT2.0``.
    """
    lines: list[str] = []
    with open(path, "rb") as f:
        first = f.readline()
        if not first.startswith(MAGIC):
            raise ValueError(
                f"read_aedat2_header: {os.fspath(path)!r} is not an AEDAT 2.0 file: expected first line "
                f"{MAGIC.decode()!r} (got {first[:40]!r})"
            )
        lines.append(first[1:].decode("ascii", "replace").strip())
        offset = f.tell()
        while True:
            line = f.readline()
            if not line.startswith(b"#"):
                break
            lines.append(line[1:].decode("latin-1").strip())
            offset = f.tell()
    return lines, offset


def read_aedat2_words(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Raw ``(address, timestamp)`` uint32 arrays of an AEDAT 2.0 file (header skipped)."""
    _, offset = read_aedat2_header(path)
    raw = np.fromfile(path, dtype=np.uint8, offset=offset)
    if raw.size % 8:
        raise ValueError(
            f"read_aedat2: {os.fspath(path)!r} is truncated: the event block must be a whole number of 8-byte "
            f"(address, timestamp) pairs (got {raw.size} bytes)"
        )
    words = raw.view(">u4").reshape(-1, 2)  # [N, 2] big-endian
    return words[:, 0].astype(np.uint32), words[:, 1].astype(np.int64)


def read_cifar10dvs(path: str | os.PathLike) -> np.ndarray:
    """Read one CIFAR10-DVS ``.aedat`` recording -> events (t, x, y, p) on 128 x 128 (module docstring)."""
    addr, ts = read_aedat2_words(path)
    x = (addr & 0xFE) >> 1
    y = (addr & 0x7F00) >> 8
    p = addr & 1
    ev = make_events(ts, 127 - y.astype(np.int64), 127 - x.astype(np.int64), 1 - p.astype(np.int64))
    return validate_events(ev, CIFAR10DVS_SENSOR, "read_cifar10dvs", repr(os.fspath(path)))
