"""Disk cache of integrated frames, keyed by every parameter that changes them.

Layout: ``<cache_dir>/<name>-<key>/<index>.npy`` with ``params.json`` beside the arrays, where
``key`` is a SHA-1 of the JSON of the parameters (dataset, split, T, split_by, sensor, format
version, ...). Changing any parameter gives a new folder, so stale frames are never reused.
Counts are stored in the smallest unsigned integer type that holds them and returned as float32.
Writes are atomic (temporary file + ``os.replace``), so concurrent readers never see half files.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Callable

import numpy as np

CACHE_FORMAT = 1


def cache_key(params: dict) -> str:
    """Stable 16-hex-digit key of a JSON-serialisable parameter dict."""
    blob = json.dumps({"format": CACHE_FORMAT, **params}, sort_keys=True, default=str)
    return hashlib.sha1(blob.encode()).hexdigest()[:16]


def _compact(frames: np.ndarray) -> np.ndarray:
    m = frames.max(initial=0)
    for dt in (np.uint8, np.uint16, np.uint32):
        if m <= np.iinfo(dt).max:
            return frames.astype(dt)
    return frames


class FrameCache:
    """Per-sample ``.npy`` cache for one parameter set (see module docstring)."""

    def __init__(self, cache_dir: str | os.PathLike, name: str, params: dict) -> None:
        self.params = dict(params)
        self.dir = Path(cache_dir) / f"{name}-{cache_key(self.params)}"
        self.dir.mkdir(parents=True, exist_ok=True)
        meta = self.dir / "params.json"
        if not meta.exists():
            tmp = meta.with_suffix(f".tmp{os.getpid()}")
            tmp.write_text(json.dumps({"format": CACHE_FORMAT, **self.params}, sort_keys=True, default=str, indent=1))
            os.replace(tmp, meta)

    def path(self, index: int) -> Path:
        return self.dir / f"{index}.npy"

    def get(self, index: int, build: Callable[[], np.ndarray]) -> np.ndarray:
        """Frames of sample ``index``: from disk when cached, else ``build()`` then store."""
        p = self.path(index)
        if p.exists():
            return np.load(p).astype(np.float32)
        frames = build()
        tmp = p.with_name(f".{p.stem}.{os.getpid()}.tmp.npy")
        np.save(tmp, _compact(frames))
        os.replace(tmp, p)
        return frames
