"""DVS128 Gesture dataset (AEDAT 3.1 recordings cut into samples by the label CSVs)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import numpy as np

from .aedat3 import DVS128_SENSOR, cut_gesture_samples, read_aedat3, read_gesture_labels
from .base import FrameDataset, check_frames_args
from .integrate import integrate_events


class DVS128Gesture(FrameDataset):
    """DVS128 Gesture (Amir et al., "A Low Power, Fully Event-Based Gesture Recognition System",
    CVPR 2017): 11 hand/arm gestures by 29 subjects under 5 lighting conditions; 128 x 128 DVS.

    ``root`` is the extracted ``DvsGesture.tar.gz`` (the folder holding ``trials_to_train.txt``,
    ``trials_to_test.txt``, ``userXX_<light>.aedat`` and ``userXX_<light>_labels.csv``, or its
    parent). The official split lists the recordings of each set; every label row is one sample
    (1176 train / 288 test, as spikingjelly). Items: ``(frames [T, 2, 128, 128] float32, label 0..10)``.

    A recording is parsed once per access of its samples (the most recent one is kept in memory);
    pass ``cache_dir`` so each sample's frames are built once.
    """

    name = "dvs128gesture"
    sensor_size = DVS128_SENSOR
    num_classes = 11

    def __init__(
        self,
        root: str | os.PathLike,
        train: bool = True,
        T: int = 16,
        split_by: str = "number",
        cache_dir: str | os.PathLike | None = None,
        in_memory: bool = False,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
    ) -> None:
        super().__init__(cache_dir, in_memory, transform, target_transform)
        check_frames_args("DVS128Gesture", T, split_by)
        root = Path(root)
        if (root / "DvsGesture").is_dir():
            root = root / "DvsGesture"
        listing = root / ("trials_to_train.txt" if train else "trials_to_test.txt")
        if not listing.is_file():
            raise FileNotFoundError(
                f"DVS128Gesture: expected {listing} in the extracted DvsGesture folder (got root={os.fspath(root)!r}); "
                "see spiking.datasets.download"
            )
        self.root, self.train, self.T, self.split_by = root, bool(train), T, split_by
        self.samples: list[tuple[Path, int]] = []  # (aedat file, row in its label csv)
        for name in listing.read_text().split():
            aedat = root / name
            labels = read_gesture_labels(aedat.with_name(aedat.stem + "_labels.csv"))
            for row, (cls, _, _) in enumerate(labels):
                self.samples.append((aedat, row))
                self.labels.append(int(cls) - 1)
        if not self.samples:
            raise ValueError(f"DVS128Gesture: {listing} lists no recordings (got an empty file)")
        self._last: tuple[Path | None, list] = (None, [])

    def cache_params(self) -> dict:
        return self._frames_params(len(self.samples), root=os.fspath(self.root.resolve()), train=self.train)

    def events(self, index: int) -> np.ndarray:
        """Events of sample ``index`` (one label row of one recording)."""
        path, row = self.samples[index]
        if self._last[0] != path:
            labels = read_gesture_labels(path.with_name(path.stem + "_labels.csv"))
            self._last = (path, cut_gesture_samples(read_aedat3(path, self.sensor_size), labels))
        return self._last[1][row][0]

    def build_frames(self, index: int) -> np.ndarray:
        return integrate_events(self.events(index), self.T, self.sensor_size, self.split_by)
