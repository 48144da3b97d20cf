"""The event datasets of the spiking-transformer benchmarks by name: train/test pair and class count."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from torch.utils.data import Dataset, Subset

__all__ = ["TRANSFORMER_DATASETS", "per_class_split", "transformer_dataset_pair"]

#: the names :func:`transformer_dataset_pair` accepts (those of :data:`spiking.models.TRANSFORMER_CONFIGS`)
TRANSFORMER_DATASETS = ("nmnist", "cifar10-dvs", "dvs128-gesture", "ncaltech101")


def per_class_split(labels: Sequence[int], fraction: float) -> tuple[list[int], list[int]]:
    """``(train, test)`` indices: the first ``int(n_c * fraction)`` samples of each class ``c`` (in the
    order of ``labels``) train, the rest test; classes in order of first appearance.

    Raises:
        ValueError: ``fraction`` outside ``[0, 1]``.
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"per_class_split: fraction must be in [0, 1] (got {fraction!r})")
    by_class: dict[int, list[int]] = {}
    for i, y in enumerate(labels):
        by_class.setdefault(int(y), []).append(i)
    cut = {y: int(len(idx) * fraction) for y, idx in by_class.items()}
    train = [i for y, idx in by_class.items() for i in idx[: cut[y]]]
    test = [i for y, idx in by_class.items() for i in idx[cut[y] :]]
    return train, test


def transformer_dataset_pair(
    name: str,
    root: str | os.PathLike,
    *,
    T: int,
    split_by: str = "number",
    transform: Callable | None = None,
    cache_dir: str | os.PathLike | None = None,
) -> tuple[Dataset, Dataset, int]:
    """``(train, test, num_classes)`` of the dataset ``name`` under ``root``, frames integrated with
    ``T`` / ``split_by``, passed through ``transform`` (e.g. ``SpikingTransformerConfig.transform()``)
    and cached in ``cache_dir``.

    Splits: the official ones (N-MNIST, DVS128 Gesture; CIFAR10-DVS: its default 9:1 per class).
    N-Caltech101 has none: the first 90 % of each class (file order) train, as STAtten's loader.
    N-MNIST is also kept in RAM.

    Raises:
        ValueError: unknown ``name``. FileNotFoundError: files missing under ``root``.
    """
    from . import CIFAR10DVS, NMNIST, DVS128Gesture, NCaltech101

    if name not in TRANSFORMER_DATASETS:
        raise ValueError(f"transformer_dataset_pair: name must be one of {TRANSFORMER_DATASETS} (got {name!r})")
    kw = {"T": T, "split_by": split_by, "transform": transform, "cache_dir": cache_dir}
    if name == "ncaltech101":
        ds = NCaltech101(root, **kw)
        train, test = per_class_split(ds.labels, 0.9)
        return Subset(ds, train), Subset(ds, test), len(ds.classes)
    cls = {"nmnist": NMNIST, "cifar10-dvs": CIFAR10DVS, "dvs128-gesture": DVS128Gesture}[name]
    extra = {"in_memory": True} if name == "nmnist" else {}
    return cls(root, train=True, **kw, **extra), cls(root, train=False, **kw, **extra), cls.num_classes
