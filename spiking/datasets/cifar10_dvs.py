"""CIFAR10-DVS dataset with its two common train/test splits."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Callable

import numpy as np

from .aedat2 import CIFAR10DVS_SENSOR, read_cifar10dvs
from .base import FrameDataset, check_frames_args, class_folders
from .integrate import integrate_events

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
SPLITS = ("9:1", "tebn")


class CIFAR10DVS(FrameDataset):
    """CIFAR10-DVS (Li et al., Front. Neurosci. 11:309, 2017): 10,000 CIFAR-10 images (1,000 per
    class) recorded by a DVS128 from a monitor; 128 x 128, 2 polarities. There is **no official
    split**; two are in common use and give different accuracies, so the choice is explicit:

    - ``split="9:1"``: per class, the first 900 recordings **in file-name order**
      (``cifar10_<class>_0, _1, _10, _100, ...``, the order of torchvision's ``DatasetFolder``)
      train and the last 100 test. This is exactly what spikingjelly's
      ``split_to_train_test_set(0.9, dataset, 10)`` produces and what most papers (e.g. STAtten,
      PLIF) use.
    - ``split="tebn"``: recordings with index 0-99 of each class test and 100-999 train, as in
      TEBN (Duan et al., NeurIPS 2022) and spikingjelly's ``CIFAR10DVSTEBNSplit``. spikingjelly
      warns that it yields much higher accuracy than the 9:1 split; do not compare across splits.

    ``root`` holds ``<class>/cifar10_<class>_<i>.aedat`` (the extracted per-class zips).
    Items: ``(frames [T, 2, 128, 128] float32, class index)``. The class index is the folder
    name's position in the fixed list :attr:`classes` (CIFAR-10's order); a missing class folder
    warns, a folder that is not a class raises ``ValueError``.
    """

    name = "cifar10dvs"
    sensor_size = CIFAR10DVS_SENSOR
    classes = CLASSES
    num_classes = 10

    def __init__(
        self,
        root: str | os.PathLike,
        train: bool = True,
        split: str = "9:1",
        T: int = 10,
        split_by: str = "number",
        cache_dir: str | os.PathLike | None = None,
        in_memory: bool = False,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
    ) -> None:
        super().__init__(cache_dir, in_memory, transform, target_transform)
        check_frames_args("CIFAR10DVS", T, split_by)
        if split not in SPLITS:
            raise ValueError(f"CIFAR10DVS: split must be one of {SPLITS} (got {split!r})")
        self.root, self.train, self.split, self.T, self.split_by = Path(root), bool(train), split, T, split_by
        if not self.root.is_dir():
            raise FileNotFoundError(
                f"CIFAR10DVS: expected the folder holding the class folders (got root={os.fspath(root)!r}); "
                "see spiking.datasets.download"
            )
        self.class_to_idx = {name: c for c, name in enumerate(self.classes)}
        self.files: list[Path] = []
        for c, folder in class_folders("CIFAR10DVS", self.root, self.classes):
            files = sorted(folder.glob("*.aedat"))  # file-name order, as DatasetFolder
            if not files:
                raise ValueError(f"CIFAR10DVS: no .aedat recordings in {folder}")
            chosen = self.select(files, train, split)
            self.files += chosen
            self.labels += [c] * len(chosen)

    @staticmethod
    def select(files: list[Path], train: bool, split: str) -> list[Path]:
        """The recordings of one class that belong to the requested split (class docstring)."""
        if split == "9:1":
            n_train = int(len(files) * 0.9)  # spikingjelly: first 90 % per class in dataset order
            return files[:n_train] if train else files[n_train:]
        out = []
        for f in files:
            m = re.search(r"_(\d+)\.aedat$", f.name)
            if m is None:
                raise ValueError(f"CIFAR10DVS: cannot read the sample index from {f.name!r} (expected *_<i>.aedat)")
            if (int(m.group(1)) >= 100) == train:
                out.append(f)
        return out

    def cache_params(self) -> dict:
        return self._frames_params(
            len(self.files), root=os.fspath(self.root.resolve()), train=self.train, split=self.split
        )

    def events(self, index: int) -> np.ndarray:
        return read_cifar10dvs(self.files[index])

    def build_frames(self, index: int) -> np.ndarray:
        return integrate_events(self.events(index), self.T, self.sensor_size, self.split_by)
