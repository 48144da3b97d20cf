"""The neuromorphic datasets by name: train/test pair, input kind, classes, and how to obtain the files."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from torch.utils.data import Dataset

from .download import RESOURCES

__all__ = ["EVENT_DATASETS", "EventDatasetInfo", "event_dataset_pair", "how_to_obtain"]


@dataclass(frozen=True)
class EventDatasetInfo:
    """What :func:`event_dataset_pair` returns for one dataset name besides the data."""

    kind: str  # "frames" ([T, 2, H, W]) or "audio" ([T, 700])
    num_classes: int
    layout: str  # the files expected under root


EVENT_DATASETS: dict[str, EventDatasetInfo] = {
    "nmnist": EventDatasetInfo("frames", 10, "<root>/Train/<digit>/*.bin and <root>/Test/<digit>/*.bin"),
    "dvs128gesture": EventDatasetInfo(
        "frames",
        11,
        "<root>/DvsGesture/{trials_to_train.txt, trials_to_test.txt, userXX_<light>.aedat, userXX_<light>_labels.csv}",
    ),
    "cifar10dvs": EventDatasetInfo("frames", 10, "<root>/<class>/cifar10_<class>_<i>.aedat for the 10 classes"),
    "shd": EventDatasetInfo("audio", 20, "<root>/shd_train.h5 and <root>/shd_test.h5"),
    "ssc": EventDatasetInfo("audio", 35, "<root>/ssc_train.h5 and <root>/ssc_test.h5"),
}


def how_to_obtain(name: str, root: str | os.PathLike) -> str:
    """One sentence: the files expected under ``root`` and where the archives come from
    (``prepare(name, root)`` fetches those with a direct link, verifies their MD5 and extracts them)."""
    if name not in EVENT_DATASETS:
        raise ValueError(f"how_to_obtain: unknown dataset {name!r} (valid: {sorted(EVENT_DATASETS)})")
    layout = EVENT_DATASETS[name].layout.replace("<root>", os.fspath(root))
    resources = RESOURCES[name]
    direct = [r.filename for r in resources if r.direct]
    manual = [r for r in resources if not r.direct]
    text = f"{name} expects {layout}"
    if direct:
        text += f"; prepare({name!r}, root) downloads {', '.join(direct)}, checks their MD5 and extracts them"
    for r in manual:
        text += (
            f"; {r.filename} must be downloaded by hand from {r.url} into {Path(root) / 'download'}"
            f" (md5 {r.md5}), then prepare({name!r}, root, download=False) verifies and extracts it"
        )
    return text


def event_dataset_pair(
    name: str,
    root: str | os.PathLike,
    *,
    T: int,
    split_by: str = "number",
    cache_dir: str | os.PathLike | None = None,
    in_memory: bool = False,
    cifar10dvs_split: str = "9:1",
) -> tuple[Dataset, Dataset, EventDatasetInfo]:
    """``(train, test, info)`` of the dataset ``name`` under ``root`` (its official split; CIFAR10-DVS:
    ``cifar10dvs_split``). Frames are integrated with ``T`` and ``split_by`` and cached in ``cache_dir``.

    Raises:
        ValueError: unknown name. FileNotFoundError: files missing (see :func:`how_to_obtain`).
    """
    from . import CIFAR10DVS, NMNIST, SHD, SSC, DVS128Gesture

    if name not in EVENT_DATASETS:
        raise ValueError(f"event_dataset_pair: unknown dataset {name!r} (valid: {sorted(EVENT_DATASETS)})")
    kw = dict(T=T, split_by=split_by, cache_dir=cache_dir, in_memory=in_memory)
    if name == "nmnist":
        pair = NMNIST(root, train=True, **kw), NMNIST(root, train=False, **kw)
    elif name == "dvs128gesture":
        pair = DVS128Gesture(root, train=True, **kw), DVS128Gesture(root, train=False, **kw)
    elif name == "cifar10dvs":
        pair = (
            CIFAR10DVS(root, train=True, split=cifar10dvs_split, **kw),
            CIFAR10DVS(root, train=False, split=cifar10dvs_split, **kw),
        )
    else:
        cls = SHD if name == "shd" else SSC
        pair = cls(root, split="train", **kw), cls(root, split="test", **kw)
    return pair[0], pair[1], EVENT_DATASETS[name]
