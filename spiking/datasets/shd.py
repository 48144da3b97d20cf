"""Spiking Heidelberg Digits (SHD) and Spiking Speech Commands (SSC) datasets."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import numpy as np

from .base import FrameDataset, check_frames_args
from .integrate import integrate_audio_events
from .spike_h5 import NUM_UNITS, SpikeH5File


class SHD(FrameDataset):
    """SHD (Cramer et al., IEEE TNNLS 2020): spoken digits 0-9 in English and German through a
    700-channel cochlea model; 20 classes, 8,156 train / 2,264 test samples.

    ``root`` holds ``shd_train.h5`` and ``shd_test.h5`` (unzipped). Items:
    ``(counts [T, 700] float32, label)`` with the ``split_by`` rules of
    :mod:`spiking.datasets.integrate`.
    """

    name = "shd"
    prefix = "shd"
    splits = ("train", "test")
    num_classes = 20

    def __init__(
        self,
        root: str | os.PathLike,
        split: str = "train",
        T: int = 20,
        split_by: str = "number",
        cache_dir: str | os.PathLike | None = None,
        in_memory: bool = False,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
    ) -> None:
        super().__init__(cache_dir, in_memory, transform, target_transform)
        fn = type(self).__name__
        check_frames_args(fn, T, split_by)
        if split not in self.splits:
            raise ValueError(f"{fn}: split must be one of {self.splits} (got {split!r})")
        path = Path(root) / f"{self.prefix}_{split}.h5"
        if not path.is_file():
            raise FileNotFoundError(
                f"{fn}: expected {path} (got root={os.fspath(root)!r}); see spiking.datasets.download"
            )
        self.path, self.split, self.T, self.split_by = path, split, T, split_by
        self.file = SpikeH5File(path, NUM_UNITS)
        self.labels = [int(v) for v in self.file.labels]
        bad = [v for v in self.labels if not 0 <= v < self.num_classes]
        if bad:
            raise ValueError(f"{fn}: labels must be in [0, {self.num_classes}) in {path} (got {bad[0]})")

    def cache_params(self) -> dict:
        return self._frames_params(len(self.labels), path=os.fspath(self.path.resolve()))

    def events(self, index: int) -> np.ndarray:
        return self.file.events(index)

    def build_frames(self, index: int) -> np.ndarray:
        return integrate_audio_events(self.events(index), self.T, NUM_UNITS, self.split_by)


class SSC(SHD):
    """SSC (same paper): Google Speech Commands through the same cochlea model; 35 classes,
    splits ``train`` / ``valid`` / ``test`` in ``ssc_<split>.h5``."""

    name = "ssc"
    prefix = "ssc"
    splits = ("train", "valid", "test")
    num_classes = 35
