"""Reader of the ATIS 40-bit ``.bin`` format of N-MNIST and N-Caltech101.

Format (Orchard et al., "Converting Static Image Datasets to Spiking Neuromorphic Datasets Using
Saccades", Front. Neurosci. 9:437, 2015): 5 bytes per event, big-endian bit layout

    byte0 = x, byte1 = y, byte2 bit 7 = polarity (1 = ON),
    t = (byte2 & 0x7F) << 16 | byte3 << 8 | byte4   (microseconds, 23 bits)

Same decoding as spikingjelly's ``load_ATIS_bin`` and tonic's ``read_mnist_file``; unlike them we
validate (length a multiple of 5, non-empty, coordinates inside the sensor, non-decreasing time).
The same 40-bit layout is SLAYER's ``.bs2``.
"""

from __future__ import annotations

import os

import numpy as np

from .events import EVENT_DTYPE, validate_events
from .integrate import frame_cuts

NMNIST_SENSOR = (34, 34)  # (W, H)
NCALTECH101_SENSOR = (240, 180)  # (W, H)


def decode_atis(raw: np.ndarray) -> np.ndarray:
    """Decode a uint8 buffer of ``5 * N`` bytes into an :data:`EVENT_DTYPE` array (no validation)."""
    b = raw.reshape(-1, 5)  # [N, 5]
    ev = np.empty(b.shape[0], dtype=EVENT_DTYPE)
    ev["x"] = b[:, 0]
    ev["y"] = b[:, 1]
    ev["p"] = b[:, 2] >> 7
    ev["t"] = ((b[:, 2].astype(np.int64) & 0x7F) << 16) | (b[:, 3].astype(np.int64) << 8) | b[:, 4]
    return ev


def read_atis_bin(path: str | os.PathLike, sensor_size: tuple[int, int] = NMNIST_SENSOR) -> np.ndarray:
    """Read one ATIS ``.bin`` recording -> events (t, x, y, p), validated against ``sensor_size=(W, H)``.

    Raises ``ValueError`` when the file is truncated (size not a multiple of 5), empty, has
    coordinates outside the sensor or decreasing timestamps.
    """
    raw = _read_bytes(path)
    if raw.size % 5:
        raise ValueError(
            f"read_atis_bin: {os.fspath(path)!r} is truncated or not an ATIS .bin file: size must be a multiple "
            f"of 5 bytes (got {raw.size} bytes)"
        )
    return validate_events(decode_atis(raw), sensor_size, "read_atis_bin", repr(os.fspath(path)))


def _read_bytes(path: str | os.PathLike) -> np.ndarray:
    fd = os.open(path, os.O_RDONLY)
    try:
        return np.frombuffer(os.read(fd, os.fstat(fd).st_size), dtype=np.uint8)
    finally:
        os.close(fd)


def read_atis_frames(
    path: str | os.PathLike, T: int, split_by: str = "number", sensor_size: tuple[int, int] = NMNIST_SENSOR
) -> np.ndarray:
    """Read an ATIS ``.bin`` straight into count frames ``[T, 2, H, W]`` float32.

    Same validation and the same frames as ``integrate_events(read_atis_bin(path), T, ...)``
    (tested), without building the structured event array: bytes 1..4 of each record read as one
    big-endian word ``y << 24 | p << 23 | t``, so ``y``, ``p`` and ``t`` come from a single strided load.
    """
    name = os.fspath(path)
    raw = _read_bytes(path)
    if raw.size % 5:
        raise ValueError(
            f"read_atis_frames: {name!r} is truncated or not an ATIS .bin file: size must be a multiple of 5 bytes "
            f"(got {raw.size} bytes)"
        )
    n = raw.size // 5
    if n == 0:
        raise ValueError(f"read_atis_frames: empty recording in {name!r} (got 0 events)")
    W, H = sensor_size
    word = np.ndarray((n,), dtype=">u4", buffer=raw, offset=1, strides=(5,)).astype(np.int64)  # [N]
    x = raw[0::5]
    t = word & 0x7FFFFF
    word >>= 23  # 2 y + p
    if x.max() >= W or word.max() >= 2 * H:
        raise ValueError(
            f"read_atis_frames: coordinates outside the {W}x{H} sensor in {name!r} (got x max {x.max()}, "
            f"y max {word.max() >> 1})"
        )
    dec = np.flatnonzero(t[1:] < t[:-1])
    if dec.size:
        i = int(dec[0])
        raise ValueError(
            f"read_atis_frames: timestamps must be non-decreasing in {name!r} "
            f"(got t[{i}]={t[i]} > t[{i + 1}]={t[i + 1]})"
        )
    counts = frame_cuts(t, T, split_by, "read_atis_frames")
    # key = ((frame * H + y) * 2 + p) * W + x, i.e. frames laid out [T, H, 2, W]: (2y + p) comes
    # straight from the word, so no polarity/row split is needed; transposed once at the end.
    word *= W
    word += x
    word += np.repeat(np.arange(0, T * 2 * H * W, 2 * H * W, dtype=np.int64), counts)  # frame offsets
    c = np.bincount(word, minlength=T * 2 * H * W).reshape(T, H, 2, W)
    return c.transpose(0, 2, 1, 3).astype(np.float32, order="C")  # [T, 2, H, W]
