"""Writers of tiny files in the exact published layouts, for reader tests (no real sample here).

Each writer is the inverse of the layout documented in the matching reader module; tests also
check the files against spikingjelly's own readers where those exist, so a writer bug cannot
hide a reader bug.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np


def write_atis_bin(path: Path, t, x, y, p) -> None:
    """ATIS 40-bit records: x, y, p<<7 | t>>16, (t>>8)&255, t&255."""
    t, x, y, p = (np.asarray(a, dtype=np.int64) for a in (t, x, y, p))
    rec = np.stack([x, y, (p << 7) | ((t >> 16) & 0x7F), (t >> 8) & 0xFF, t & 0xFF], 1).astype(np.uint8)
    path.write_bytes(rec.tobytes())


def aedat3_header(lines=("#Format: RAW", "#Source 1: DVS128")) -> bytes:
    return b"#!AER-DAT3.1\r\n" + b"".join(f"{line}\r\n".encode() for line in lines) + b"#!END-HEADER\r\n"


def aedat3_packet(event_type: int, payload: bytes, size: int, capacity: int, overflow: int = 0) -> bytes:
    return struct.pack("<hhiiiiii", event_type, 1, size, 4, overflow, capacity, capacity, capacity) + payload


def polarity_payload(t, x, y, p) -> bytes:
    t, x, y, p = (np.asarray(a, dtype=np.int64) for a in (t, x, y, p))
    data = (x << 17) | (y << 2) | (p << 1) | 1  # bit 0: valid mark
    arr = np.empty(len(t), dtype=[("data", "<u4"), ("ts", "<i4")])
    arr["data"], arr["ts"] = data, t & 0x7FFFFFFF
    return arr.tobytes()


def write_aedat3(
    path: Path,
    packets: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]],
    with_special_packet: bool = True,
) -> None:
    """Polarity packets ``(t, x, y, p, overflow)`` plus (optionally) a special-event packet (type 0)."""
    body = b""
    for i, (t, x, y, p, overflow) in enumerate(packets):
        if with_special_packet and i == 1:
            body += aedat3_packet(0, b"\x00" * 16, 8, 2)  # two 8-byte special events: skipped
        body += aedat3_packet(1, polarity_payload(t, x, y, p), 8, len(t), overflow)
    path.write_bytes(aedat3_header() + body)


def write_gesture_csv(path: Path, rows) -> None:
    path.write_text("class,startTime_usec,endTime_usec\n" + "".join(f"{c},{s},{e}\n" for c, s, e in rows))


def write_aedat2_cifar(path: Path, t, x, y, p) -> None:
    """CIFAR10-DVS AEDAT 2.0: header + big-endian (addr, ts); events given in the *stored* frame
    (x, y, p of the file), i.e. before the reader's x' = 127 - y, y' = 127 - x, p' = 1 - p."""
    t, x, y, p = (np.asarray(a, dtype=np.int64) for a in (t, x, y, p))
    addr = (y << 8) | (x << 1) | p
    words = np.stack([addr, t], 1).astype(">u4")
    header = (
        b"#!AER-DAT2.0\r\n# This is a raw AE data file - do not edit\r\n"
        b"# AEChip: ch.unizh.ini.caviar.chip.dvs128.DVS128\r\n"
    )
    path.write_bytes(header + words.tobytes())


def write_spike_h5(path: Path, samples: list[tuple[np.ndarray, np.ndarray]], labels, drop: str | None = None) -> None:
    """SHD/SSC layout: spikes/times (vlen float32 s), spikes/units (vlen uint16), labels (uint16)."""
    import h5py

    with h5py.File(path, "w") as f:
        ft = h5py.vlen_dtype(np.float32)
        fu = h5py.vlen_dtype(np.uint16)
        if drop != "times":
            d = f.create_dataset("spikes/times", (len(samples),), dtype=ft)
            for i, (t, _) in enumerate(samples):
                d[i] = np.asarray(t, np.float32)
        if drop != "units":
            d = f.create_dataset("spikes/units", (len(samples),), dtype=fu)
            for i, (_, u) in enumerate(samples):
                d[i] = np.asarray(u, np.uint16)
        if drop != "labels":
            f.create_dataset("labels", data=np.asarray(labels, np.uint16))
        f.create_dataset("extra/keys", data=np.array([b"digit"]))
