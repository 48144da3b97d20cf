"""Structured event arrays and their validation.

Camera events are a numpy structured array of dtype :data:`EVENT_DTYPE` with fields
``t`` (int64 microseconds), ``x``, ``y`` (int16 pixel column/row), ``p`` (int8 polarity, 1 = ON).
Audio (cochlea) events — SHD/SSC, N-TIDIGITS — use :data:`AUDIO_DTYPE`: ``t`` (int64 microseconds)
and ``unit`` (int32 channel).
"""

from __future__ import annotations

import numpy as np

EVENT_DTYPE = np.dtype([("t", np.int64), ("x", np.int16), ("y", np.int16), ("p", np.int8)])
AUDIO_DTYPE = np.dtype([("t", np.int64), ("unit", np.int32)])


def make_events(t, x, y, p) -> np.ndarray:
    """Pack equal-length arrays into an :data:`EVENT_DTYPE` array (no validation; see :func:`validate_events`)."""
    n = len(t)
    if not (len(x) == len(y) == len(p) == n):
        raise ValueError(f"make_events: t, x, y, p must have equal lengths (got {n}, {len(x)}, {len(y)}, {len(p)})")
    ev = np.empty(n, dtype=EVENT_DTYPE)
    ev["t"], ev["x"], ev["y"], ev["p"] = t, x, y, p
    return ev


def make_audio_events(t, unit) -> np.ndarray:
    """Pack ``t`` (microseconds) and ``unit`` into an :data:`AUDIO_DTYPE` array."""
    if len(t) != len(unit):
        raise ValueError(f"make_audio_events: t and unit must have equal lengths (got {len(t)}, {len(unit)})")
    ev = np.empty(len(t), dtype=AUDIO_DTYPE)
    ev["t"], ev["unit"] = t, unit
    return ev


def _check_time(fn: str, t: np.ndarray, where: str) -> None:
    if t.size and t[0] < 0:
        raise ValueError(f"{fn}: negative timestamp in {where} (got t[0]={int(t[0])})")
    if t.size > 1:
        d = np.diff(t)
        bad = np.flatnonzero(d < 0)
        if bad.size:
            i = int(bad[0])
            raise ValueError(
                f"{fn}: timestamps must be non-decreasing in {where} (got t[{i}]={t[i]} > t[{i + 1}]={t[i + 1]})"
            )


def validate_events(
    events: np.ndarray,
    sensor_size: tuple[int, int],
    fn: str = "validate_events",
    where: str = "events",
    allow_empty: bool = False,
) -> np.ndarray:
    """Check a camera event array against ``sensor_size = (W, H)``; return it unchanged.

    Raises ``ValueError`` for an empty recording (unless ``allow_empty``), coordinates outside
    ``[0, W) x [0, H)``, polarity outside {0, 1}, negative or decreasing timestamps.
    """
    if not isinstance(events, np.ndarray) or events.dtype != EVENT_DTYPE:
        raise TypeError(f"{fn}: expected a numpy array of EVENT_DTYPE (got {getattr(events, 'dtype', type(events))})")
    W, H = sensor_size
    if events.size == 0:
        if allow_empty:
            return events
        raise ValueError(f"{fn}: empty recording in {where} (got 0 events)")
    x, y, p = events["x"], events["y"], events["p"]
    if x.min() < 0 or x.max() >= W or y.min() < 0 or y.max() >= H:
        raise ValueError(
            f"{fn}: coordinates outside the {W}x{H} sensor in {where} (got x in [{x.min()}, {x.max()}], "
            f"y in [{y.min()}, {y.max()}])"
        )
    if p.min() < 0 or p.max() > 1:
        raise ValueError(f"{fn}: polarity must be 0 or 1 in {where} (got values in [{p.min()}, {p.max()}])")
    _check_time(fn, events["t"], where)
    return events


def validate_audio_events(
    events: np.ndarray,
    num_units: int,
    fn: str = "validate_audio_events",
    where: str = "events",
    allow_empty: bool = False,
) -> np.ndarray:
    """Check an audio event array (``unit`` in ``[0, num_units)``, times >= 0 and non-decreasing)."""
    if not isinstance(events, np.ndarray) or events.dtype != AUDIO_DTYPE:
        raise TypeError(f"{fn}: expected a numpy array of AUDIO_DTYPE (got {getattr(events, 'dtype', type(events))})")
    if events.size == 0:
        if allow_empty:
            return events
        raise ValueError(f"{fn}: empty recording in {where} (got 0 events)")
    u = events["unit"]
    if u.min() < 0 or u.max() >= num_units:
        raise ValueError(f"{fn}: unit outside [0, {num_units}) in {where} (got [{u.min()}, {u.max()}])")
    _check_time(fn, events["t"], where)
    return events
