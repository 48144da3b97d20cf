"""``torch.utils.data.Dataset`` shell shared by the neuromorphic datasets: frames + label,
optional disk cache, transforms."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch

from .cache import FrameCache
from .integrate import SPLIT_BY


def check_frames_args(fn: str, T: int, split_by: str) -> None:
    if isinstance(T, bool) or not isinstance(T, int) or T <= 0:
        raise ValueError(f"{fn}: T (frames per sample) must be a positive int (got {T!r})")
    if split_by not in SPLIT_BY:
        raise ValueError(f"{fn}: split_by must be one of {SPLIT_BY} (got {split_by!r})")


def class_folders(fn: str, split_dir: Path, classes: Sequence[str]) -> list[tuple[int, Path]]:
    """``(label, folder)`` for each folder of ``split_dir`` named after a class of the fixed list ``classes``.

    Labels come from the folder **name** (its index in ``classes``), never from its position among
    the folders present, so a split lacking a class keeps every other label. Hidden folders
    (``.name``) are ignored.

    Raises:
        FileNotFoundError: ``split_dir`` holds none of the class folders.
        ValueError: a folder whose name is not a class (the layout is not the official one).

    Warns (``UserWarning``) when some class folders are missing: those classes get no samples.
    """
    present = {d.name: d for d in split_dir.iterdir() if d.is_dir() and not d.name.startswith(".")}
    unknown = sorted(set(present) - set(classes))
    if unknown:
        raise ValueError(
            f"{fn}: unknown class folder(s) {unknown} in {os.fspath(split_dir)!r}; the class folders must be named "
            f"after the dataset's fixed class list {list(classes)} (got folders {sorted(present)})"
        )
    missing = [c for c in classes if c not in present]
    if len(missing) == len(classes):
        raise FileNotFoundError(
            f"{fn}: expected class folders named {list(classes)} in {os.fspath(split_dir)!r} (got no class folder); "
            "see spiking.datasets.download"
        )
    if missing:
        warnings.warn(
            f"{fn}: class folder(s) {missing} missing in {os.fspath(split_dir)!r}; labels still follow the fixed class "
            f"list (by folder name), those classes just have no samples",
            stacklevel=3,
        )
    return [(c, present[name]) for c, name in enumerate(classes) if name in present]


class FrameDataset(torch.utils.data.Dataset):
    """Base class: subclasses fill ``self.labels`` (list of int) and implement
    :meth:`build_frames` (numpy float32 frames of sample ``i``) and :meth:`cache_params`.

    ``__getitem__`` returns ``(frames, label)`` with ``frames`` a float32 tensor ``[T, ...]``
    (``[T, 2, H, W]`` for cameras, ``[T, units]`` for audio) after ``transform``, and ``label``
    an int after ``target_transform``. With ``cache_dir`` the frames are cached on disk
    (:class:`~spiking.datasets.cache.FrameCache`); ``in_memory=True`` also keeps them in RAM.
    """

    name = "frames"

    def __init__(
        self,
        cache_dir: str | os.PathLike | None = None,
        in_memory: bool = False,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
    ) -> None:
        self.labels: list[int] = []
        self.cache_dir = cache_dir
        self.in_memory = bool(in_memory)
        self.transform = transform
        self.target_transform = target_transform
        self._cache: FrameCache | None = None
        self._ram: dict[int, np.ndarray] = {}

    def cache_params(self) -> dict:
        raise NotImplementedError(f"{type(self).__name__}.cache_params must be defined by the subclass")

    def _frames_params(self, n: int, **source) -> dict:
        """The :meth:`cache_params` of a reader of recordings: the dataset ``name``, where the samples
        come from (``source``: resolved paths as strings, split choices), ``T``, ``split_by`` and the
        sample count ``n`` (so a changed folder gets a new cache)."""
        return {"dataset": self.name, **source, "T": self.T, "split_by": self.split_by, "n": n}

    def build_frames(self, index: int) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__}.build_frames must be defined by the subclass")

    def __len__(self) -> int:
        return len(self.labels)

    def frames(self, index: int) -> np.ndarray:
        """Un-transformed frames of sample ``index`` (numpy float32)."""
        if index in self._ram:
            return self._ram[index]
        if self.cache_dir is not None:
            if self._cache is None:
                self._cache = FrameCache(self.cache_dir, self.name, self.cache_params())
            out = self._cache.get(index, lambda: self.build_frames(index))
        else:
            out = self.build_frames(index)
        if self.in_memory:
            self._ram[index] = out
        return out

    def warm(self, indices=None, progress: Callable | None = None) -> None:
        """Build the frames of ``indices`` (default: all samples) once, in sorted order (fills the
        disk/RAM cache).

        Index order matters for datasets that cut several samples out of one recording
        (DVS128 Gesture): each recording is then parsed once instead of once per sample.
        ``progress`` wraps the index range (e.g. ``tqdm``).
        """
        indices = range(len(self)) if indices is None else sorted(indices)
        for i in progress(indices) if progress is not None else indices:
            self.frames(i)

    def __getitem__(self, index: int):
        if not -len(self) <= index < len(self):
            raise IndexError(f"{type(self).__name__}: index {index} out of range for {len(self)} samples")
        index = index % len(self)
        x = torch.from_numpy(self.frames(index))
        y = self.labels[index]
        if self.transform is not None:
            x = self.transform(x)
        if self.target_transform is not None:
            y = self.target_transform(y)
        return x, y

    def class_counts(self) -> dict[int, int]:
        u, c = np.unique(np.asarray(self.labels), return_counts=True)
        return {int(a): int(b) for a, b in zip(u, c)}
