"""Event -> frame integration: event counts per (polarity, y, x) in T frames.

Three ways to cut a recording of N events with timestamps :math:`t_0 \\le \\dots \\le t_{N-1}`
into frames, defined exactly as spikingjelly 2.0's ``datasets.utils`` functions (tested equal on
real N-MNIST):

- ``split_by="number"``: frame j holds events ``[j*floor(N/T), (j+1)*floor(N/T))``; the last
  frame also takes the remainder (with N < T, all events land in the last frame).
- ``split_by="time"``: :math:`\\Delta = \\lfloor (t_{N-1} - t_0)/T \\rfloor`; frame j holds
  events with :math:`t_0 + j\\Delta \\le t < t_0 + (j+1)\\Delta`; the last frame extends to the end.
- :func:`frames_by_duration`: frames of fixed ``duration`` µs from :math:`t_0`; the number of
  frames is :math:`\\lceil (t_{N-1}-t_0)/duration \\rceil` (at least 1), the last frame taking
  the tail.

Pixel value = event count (ON events in channel 1, OFF in channel 0). Frames: ``[T, 2, H, W]``
float32. Audio events integrate to ``[T, num_units]``.

How we differ from spikingjelly: one vectorised ``np.bincount`` over a combined
``(frame, p, y, x)`` index instead of one pass per frame, and frame ids from T-1 ``searchsorted``
cuts instead of T boolean masks (the speed comes from there;
:func:`spiking.datasets.atis.read_atis_frames` also skips the structured array); a time split
whose window is empty gives an empty frame instead of an ``IndexError``; a recording whose span
is shorter than T µs (Δ = 0) is rejected with a ``ValueError``; float32 output (counts are exact
integers either way).
"""

from __future__ import annotations

import math

import numpy as np

from .events import AUDIO_DTYPE, EVENT_DTYPE

SPLIT_BY = ("number", "time")


def _check_T(fn: str, T: int) -> None:
    if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or T <= 0:
        raise ValueError(f"{fn}: number of frames T must be a positive int (got {T!r})")


def frame_cuts(t: np.ndarray, T: int, split_by: str, fn: str = "frame_cuts") -> np.ndarray:
    """Event counts per frame, int64 ``[T]`` (frame j holds the next ``counts[j]`` events), for a
    ``split_by`` rule (module docstring). ``t`` must be non-decreasing (the readers check)."""
    _check_T(fn, T)
    n = t.size
    if n == 0:
        raise ValueError(f"{fn}: empty recording (got 0 events); cannot cut it into {T} frames")
    if split_by == "number":
        di = n // T  # di == 0: spikingjelly puts everything in the last frame
        cuts = np.arange(1, T, dtype=np.int64) * di
    elif split_by == "time":
        t0 = int(t[0])
        dt = (int(t[-1]) - t0) // T
        if dt <= 0:
            raise ValueError(
                f"{fn}: recording spans {int(t[-1]) - t0} us, too short to cut into T={T} time windows of >= 1 us"
            )
        cuts = np.searchsorted(t, t0 + dt * np.arange(1, T, dtype=np.int64), side="left")
    else:
        raise ValueError(f"{fn}: split_by must be one of {SPLIT_BY} (got {split_by!r})")
    return np.diff(cuts, prepend=0, append=n)


def frame_index(t: np.ndarray, T: int, split_by: str, fn: str = "frame_index") -> np.ndarray:
    """Frame id (int64 in ``[0, T)``) of every event."""
    return np.repeat(np.arange(T, dtype=np.int64), frame_cuts(t, T, split_by, fn))


def counts_to_frames(key: np.ndarray, T: int, H: int, W: int) -> np.ndarray:
    """``key[k] = ((frame * 2 + p) * H + y) * W + x`` -> count frames ``[T, 2, H, W]`` float32."""
    return np.bincount(key, minlength=T * 2 * H * W).astype(np.float32).reshape(T, 2, H, W)


def _bincount_frames(counts: np.ndarray, ev: np.ndarray, T: int, W: int, H: int) -> np.ndarray:
    hw = H * W
    key = np.repeat(np.arange(0, T * 2 * hw, 2 * hw, dtype=np.int64), counts)  # [N] frame offsets
    key += ev["p"].astype(np.int64) * hw
    key += ev["y"].astype(np.int64) * W
    key += ev["x"]
    return counts_to_frames(key, T, H, W)


def integrate_events(events: np.ndarray, T: int, sensor_size: tuple[int, int], split_by: str = "number") -> np.ndarray:
    """Camera events -> frames ``[T, 2, H, W]`` (float32 counts); ``sensor_size = (W, H)``.

    ``events`` must already be valid for the sensor (the readers validate); ``T`` > 0.
    """
    if not isinstance(events, np.ndarray) or events.dtype != EVENT_DTYPE:
        raise TypeError(f"integrate_events: expected EVENT_DTYPE events (got {getattr(events, 'dtype', type(events))})")
    W, H = sensor_size
    counts = frame_cuts(events["t"], T, split_by, "integrate_events")
    return _bincount_frames(counts, events, T, W, H)


def frames_by_duration(events: np.ndarray, duration: int, sensor_size: tuple[int, int]) -> np.ndarray:
    """Camera events -> frames of ``duration`` µs each, ``[ceil(span/duration), 2, H, W]``."""
    if isinstance(duration, bool) or not isinstance(duration, (int, np.integer)) or duration <= 0:
        raise ValueError(f"frames_by_duration: duration must be a positive int in us (got {duration!r})")
    if events.size == 0:
        raise ValueError("frames_by_duration: empty recording (got 0 events)")
    W, H = sensor_size
    t = events["t"] - events["t"].min()
    n_frames = max(1, math.ceil(int(t[-1]) / duration))
    fid = np.minimum(t // duration, n_frames - 1)
    counts = np.bincount(fid, minlength=n_frames)  # t sorted, so frames are contiguous runs
    return _bincount_frames(counts, events, n_frames, W, H)


def integrate_audio_events(events: np.ndarray, T: int, num_units: int, split_by: str = "number") -> np.ndarray:
    """Audio events (t, unit) -> spike counts ``[T, num_units]`` float32, same split rules."""
    if not isinstance(events, np.ndarray) or events.dtype != AUDIO_DTYPE:
        raise TypeError(
            f"integrate_audio_events: expected AUDIO_DTYPE events (got {getattr(events, 'dtype', type(events))})"
        )
    fid = frame_index(events["t"], T, split_by, "integrate_audio_events")
    idx = fid * num_units + events["unit"]
    return np.bincount(idx, minlength=T * num_units).astype(np.float32).reshape(T, num_units)  # [T, U]
