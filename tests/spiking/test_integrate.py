"""Integration rules on hand tables, audio integration, event validation and the frame cache."""

from __future__ import annotations

import numpy as np
import pytest

from spiking.datasets import (
    FrameCache,
    frames_by_duration,
    integrate_audio_events,
    integrate_events,
    make_audio_events,
    make_events,
    validate_events,
)
from spiking.datasets.cache import cache_key


def test_time_split_with_empty_window():
    # t spans 0..90, T=3 -> dt=30: windows [0,30) [30,60) [60, end]; the middle window is empty
    ev = make_events([0, 10, 70, 80, 90], [0, 1, 2, 0, 0], [0, 0, 1, 1, 1], [1, 1, 0, 0, 1])
    fr = integrate_events(ev, 3, (3, 2), "time")
    assert fr.shape == (3, 2, 2, 3)
    assert fr[0].sum() == 2 and fr[1].sum() == 0 and fr[2].sum() == 3
    assert fr[2, 0, 1, 2] == 1 and fr[2, 0, 1, 0] == 1 and fr[2, 1, 1, 0] == 1


def test_duration_frames():
    ev = make_events([100, 150, 250, 300], [0, 0, 0, 0], [0, 0, 0, 0], [0, 1, 1, 1])
    fr = frames_by_duration(ev, 100, (1, 1))  # span 200 -> 2 frames; t=300 (=200 after shift) -> last frame
    assert fr.shape == (2, 2, 1, 1)
    assert fr[:, 0].ravel().tolist() == [1, 0] and fr[:, 1].ravel().tolist() == [1, 2]
    with pytest.raises(ValueError, match="duration"):
        frames_by_duration(ev, 0, (1, 1))


def test_audio_integration():
    ev = make_audio_events([0, 1, 2, 3, 4, 5], [0, 699, 3, 3, 3, 0])
    fr = integrate_audio_events(ev, 2, 700, "number")
    assert fr.shape == (2, 700) and fr[0, 0] == 1 and fr[0, 699] == 1 and fr[0, 3] == 1 and fr[1, 3] == 2
    with pytest.raises(TypeError, match="AUDIO_DTYPE"):
        integrate_audio_events(make_events([0], [0], [0], [0]), 2, 700)


def test_validate_events_errors():
    with pytest.raises(ValueError, match="negative timestamp"):
        validate_events(make_events([-1, 2], [0, 0], [0, 0], [0, 0]), (2, 2))
    with pytest.raises(ValueError, match="polarity"):
        validate_events(make_events([0, 2], [0, 0], [0, 0], [0, 2]), (2, 2))
    with pytest.raises(ValueError, match="empty recording"):
        validate_events(make_events([], [], [], []), (2, 2))
    with pytest.raises(TypeError, match="EVENT_DTYPE"):
        validate_events(np.zeros(3), (2, 2))
    with pytest.raises(ValueError, match="equal lengths"):
        make_events([0, 1], [0], [0], [0])
    with pytest.raises(ValueError, match="empty recording"):
        integrate_events(make_events([], [], [], []), 2, (2, 2))
    with pytest.raises(ValueError, match="positive int"):
        integrate_events(make_events([0], [0], [0], [0]), 0, (2, 2))


def test_frame_cache(tmp_path):
    calls = []

    def build():
        calls.append(1)
        return np.full((2, 2, 3, 3), 300.0, dtype=np.float32)

    c = FrameCache(tmp_path, "x", {"T": 2, "split_by": "number"})
    a = c.get(0, build)
    b = FrameCache(tmp_path, "x", {"split_by": "number", "T": 2}).get(0, build)  # same key, any order
    assert len(calls) == 1 and b.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    assert np.load(c.path(0)).dtype == np.uint16  # 300 does not fit uint8
    FrameCache(tmp_path, "x", {"T": 3, "split_by": "number"}).get(0, build)
    assert len(calls) == 2  # a different parameter never reuses stale frames
    assert cache_key({"T": 2}) != cache_key({"T": 3})
    assert (c.dir / "params.json").is_file() and not list(tmp_path.glob("**/*.tmp*"))


def test_warm_fills_cache(tmp_path):
    from spiking.datasets import SyntheticEvents

    ds = SyntheticEvents(5, T=2, cache_dir=tmp_path, in_memory=False)
    seen = []
    ds.warm([3, 1], lambda r: (seen.append(list(r)), r)[1])
    assert seen == [[1, 3]] and len(list(tmp_path.glob("synthetic-*/*.npy"))) == 2
    ds.warm()
    assert len(list(tmp_path.glob("synthetic-*/*.npy"))) == 5
