"""N-MNIST and N-Caltech101 datasets (ATIS ``.bin`` recordings in the official folder layout)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import numpy as np

from .atis import NCALTECH101_SENSOR, NMNIST_SENSOR, read_atis_frames
from .base import FrameDataset, check_frames_args


class NMNIST(FrameDataset):
    """N-MNIST (Orchard et al., Front. Neurosci. 9:437, 2015): MNIST digits recorded by an ATIS
    sensor on saccading motion; 34 x 34 pixels, 2 polarities, 60,000 train / 10,000 test.

    ``root`` is the extracted dataset: ``root/Train/<digit>/*.bin`` and ``root/Test/<digit>/*.bin``
    (the official ``Train.zip``/``Test.zip``; see :mod:`spiking.datasets.download`). Samples are
    ordered by (digit, file name). Each item is ``(frames [T, 2, 34, 34] float32, digit)``
    integrated with ``split_by`` (as spikingjelly's ``frames_number=T, split_by=...``).

    Differences from spikingjelly: no ``.npz`` conversion pass; frames are built from the ``.bin``
    directly (and cached only when ``cache_dir`` is given).
    """

    name = "nmnist"
    sensor_size = NMNIST_SENSOR
    split_dirs = ("Train", "Test")
    num_classes = 10

    def __init__(self, root: str | os.PathLike, train: bool = True, T: int = 10, split_by: str = "number",
                 cache_dir: str | os.PathLike | None = None, in_memory: bool = False,
                 transform: Callable | None = None, target_transform: Callable | None = None) -> None:
        super().__init__(cache_dir, in_memory, transform, target_transform)
        fn = type(self).__name__
        check_frames_args(fn, T, split_by)
        self.root, self.train, self.T, self.split_by = Path(root), bool(train), T, split_by
        split = self.root / self.split_dirs[0 if train else 1]
        if not split.is_dir():
            raise FileNotFoundError(
                f"{fn}: expected the extracted dataset folder {split} (got root={os.fspath(root)!r}); "
                f"see spiking.datasets.download for the archives and checksums"
            )
        self.classes = sorted((d.name for d in split.iterdir() if d.is_dir()), key=self._class_sort_key)
        self.files: list[Path] = []
        for c, name in enumerate(self.classes):
            fs = sorted((split / name).glob("*.bin"))
            self.files += fs
            self.labels += [c] * len(fs)
        if not self.files:
            raise ValueError(f"{fn}: no .bin recordings under {split} (got an empty folder)")

    @staticmethod
    def _class_sort_key(name: str):
        return (0, int(name)) if name.isdigit() else (1, name)

    def cache_params(self) -> dict:
        return {"dataset": self.name, "root": os.fspath(self.root.resolve()), "train": self.train, "T": self.T,
                "split_by": self.split_by, "n": len(self.files)}

    def build_frames(self, index: int) -> np.ndarray:
        return read_atis_frames(self.files[index], self.T, self.split_by, self.sensor_size)


class NCaltech101(NMNIST):
    """N-Caltech101 (same paper): Caltech101 images on an ATIS sensor, up to 240 x 180 pixels,
    101 object classes + background, no official split. ``root/<class>/*.bin`` (the extracted
    ``Caltech101.zip``). ``train`` is ignored; split with :func:`spiking.datasets.split.per_class_split`.
    """

    name = "ncaltech101"
    sensor_size = NCALTECH101_SENSOR
    num_classes = 101

    def __init__(self, root: str | os.PathLike, T: int = 10, split_by: str = "number",
                 cache_dir: str | os.PathLike | None = None, in_memory: bool = False,
                 transform: Callable | None = None, target_transform: Callable | None = None) -> None:
        self.split_dirs = ("", "")
        super().__init__(root, True, T, split_by, cache_dir, in_memory, transform, target_transform)
