"""Reader of AEDAT 3.1 files and the DVS128 Gesture label files.

AEDAT 3.1 (iniVation cAER; used by DVS128 Gesture, Amir et al., CVPR 2017): ASCII header lines
starting with ``#`` (first ``#!AER-DAT3.1``, last ``#!END-HEADER``), then packets. Each packet has
a 28-byte little-endian header

    int16 eventType, int16 eventSource, int32 eventSize, int32 eventTSOffset,
    int32 eventTSOverflow, int32 eventCapacity, int32 eventNumber, int32 eventValid

followed by ``eventCapacity * eventSize`` bytes. Polarity events (type 1, 8 bytes) are
``uint32 data`` (bit 1 polarity, bits 2-16 y, bits 17-31 x) and ``int32 timestamp``; the full time
is ``eventTSOverflow << 31 | timestamp`` µs. Other packet types are skipped.

DVS128 Gesture cuts each recording ``userXX_<light>.aedat`` into samples with
``userXX_<light>_labels.csv`` (header ``class,startTime_usec,endTime_usec``; classes 1..11): a
sample holds the events with ``start <= t < end`` and label ``class - 1``. This gives
spikingjelly's and snnTorch's 1176 train / 288 test samples (tonic has 1077 / 264).

Like spikingjelly we keep every polarity event of a packet (the valid bit is not used); unlike
it we vectorise per packet and validate: magic line, end-of-header line, truncated packets,
``eventSize`` of polarity packets, coordinates inside 128 x 128, non-decreasing time.
"""

from __future__ import annotations

import os

import numpy as np

from .events import EVENT_DTYPE, validate_events

DVS128_SENSOR = (128, 128)
MAGIC = b"#!AER-DAT3.1"
END_HEADER = b"#!END-HEADER"
PACKET_HEADER = np.dtype(
    [
        ("type", "<i2"),
        ("source", "<i2"),
        ("size", "<i4"),
        ("ts_offset", "<i4"),
        ("ts_overflow", "<i4"),
        ("capacity", "<i4"),
        ("number", "<i4"),
        ("valid", "<i4"),
    ]
)
POLARITY_EVENT = np.dtype([("data", "<u4"), ("ts", "<i4")])


def _header_end(buf: bytes, name: str) -> int:
    if not buf.startswith(MAGIC):
        raise ValueError(
            f"read_aedat3: {name!r} is not an AEDAT 3.1 file: expected first line {MAGIC.decode()!r} (got {buf[:40]!r})"
        )
    pos = 0
    while pos < len(buf) and buf[pos : pos + 1] == b"#":
        nl = buf.find(b"\n", pos)
        if nl < 0:
            break
        line = buf[pos:nl]
        pos = nl + 1
        if line.rstrip(b"\r") == END_HEADER:
            return pos
    raise ValueError(f"read_aedat3: {name!r} has no '#!END-HEADER' line (got a header of {pos} bytes)")


def read_aedat3(path: str | os.PathLike, sensor_size: tuple[int, int] = DVS128_SENSOR) -> np.ndarray:
    """Read the polarity events of an AEDAT 3.1 file -> events (t, x, y, p), validated."""
    name = os.fspath(path)
    with open(path, "rb") as f:
        buf = f.read()
    pos = _header_end(buf, name)
    chunks = []
    while pos < len(buf):
        if pos + PACKET_HEADER.itemsize > len(buf):
            raise ValueError(
                f"read_aedat3: {name!r} is truncated: packet header at byte {pos} needs 28 bytes (got {len(buf) - pos})"
            )
        h = np.frombuffer(buf, PACKET_HEADER, 1, pos)[0]
        pos += PACKET_HEADER.itemsize
        size, cap, num = int(h["size"]), int(h["capacity"]), int(h["number"])
        if size <= 0 or cap < 0 or num < 0 or num > cap:
            raise ValueError(
                f"read_aedat3: corrupt packet header at byte {pos - 28} of {name!r} (got eventSize={size}, "
                f"eventCapacity={cap}, eventNumber={num})"
            )
        length = size * cap
        if pos + length > len(buf):
            raise ValueError(
                f"read_aedat3: {name!r} is truncated: packet at byte {pos - 28} declares {length} bytes of events "
                f"(got {len(buf) - pos})"
            )
        if int(h["type"]) == 1:
            if size != POLARITY_EVENT.itemsize:
                raise ValueError(
                    f"read_aedat3: polarity packet at byte {pos - 28} of {name!r} must have eventSize 8 (got {size})"
                )
            e = np.frombuffer(buf, POLARITY_EVENT, cap, pos)
            ev = np.empty(cap, EVENT_DTYPE)
            ev["t"] = e["ts"].astype(np.int64) | (np.int64(int(h["ts_overflow"])) << 31)
            ev["x"] = (e["data"] >> 17) & 0x7FFF
            ev["y"] = (e["data"] >> 2) & 0x7FFF
            ev["p"] = (e["data"] >> 1) & 1
            chunks.append(ev)
        pos += length
    ev = np.concatenate(chunks) if chunks else np.empty(0, EVENT_DTYPE)
    return validate_events(ev, sensor_size, "read_aedat3", repr(name))


def read_gesture_labels(path: str | os.PathLike) -> np.ndarray:
    """DVS128 Gesture label CSV -> int64 array ``[K, 3]`` of (class 1..11, start_us, end_us)."""
    name = os.fspath(path)
    with open(path) as f:
        head = f.readline().strip().replace(" ", "").lower()
        if head != "class,starttime_usec,endtime_usec":
            raise ValueError(
                f"read_gesture_labels: {name!r} must start with 'class,startTime_usec,endTime_usec' (got {head!r})"
            )
        rows = []
        for i, line in enumerate(f, start=2):
            if not line.strip():
                continue
            parts = line.strip().split(",")
            if len(parts) != 3 or not all(p.strip().isdigit() for p in parts):
                raise ValueError(
                    f"read_gesture_labels: line {i} of {name!r} must be three integers (got {line.strip()!r})"
                )
            rows.append([int(p) for p in parts])
    if not rows:
        raise ValueError(f"read_gesture_labels: {name!r} has no label rows (got only the header)")
    lab = np.asarray(rows, dtype=np.int64)
    bad = np.flatnonzero((lab[:, 0] < 1) | (lab[:, 0] > 11) | (lab[:, 1] >= lab[:, 2]))
    if bad.size:
        raise ValueError(
            f"read_gesture_labels: row {int(bad[0]) + 1} of {name!r} needs class in 1..11 and start < end "
            f"(got {lab[bad[0]].tolist()})"
        )
    return lab


def cut_gesture_samples(events: np.ndarray, labels: np.ndarray) -> list[tuple[np.ndarray, int]]:
    """Cut a recording into ``(events, label 0..10)`` samples, one per label row (``start <= t < end``)."""
    t = events["t"]
    out = []
    for cls, start, end in labels:
        lo, hi = np.searchsorted(t, start, "left"), np.searchsorted(t, end, "left")
        out.append((events[lo:hi], int(cls) - 1))
    return out
