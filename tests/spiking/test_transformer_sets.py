"""spiking.datasets.transformer_sets: the benchmark datasets by name, N-Caltech101's per-class 90/10 split."""

from __future__ import annotations

import pytest
from torch.utils.data import Subset

from spiking.datasets import CIFAR10DVS, TRANSFORMER_DATASETS, per_class_split, transformer_dataset_pair
from spiking.models import TRANSFORMER_CONFIGS
from tests.spiking.models.test_transformer_config import cifar10dvs_root, ncaltech101_root


def test_names_are_those_of_the_configs():
    assert set(TRANSFORMER_DATASETS) == {c.dataset for c in TRANSFORMER_CONFIGS.values()}


def test_per_class_split_keeps_file_order_and_the_first_fraction_of_each_class():
    labels = [0, 0, 1, 0, 1, 1, 1, 2]
    train, test = per_class_split(labels, 0.5)  # classes 0, 1, 2 hold 3, 4, 1 samples: int(n / 2) = 1, 2, 0 train
    assert train == [0, 2, 4] and test == [1, 3, 5, 6, 7]
    assert per_class_split(labels, 1.0) == ([0, 1, 3, 2, 4, 5, 6, 7], [])
    with pytest.raises(ValueError, match=r"per_class_split: fraction must be in \[0, 1\] \(got 1.5\)"):
        per_class_split(labels, 1.5)


@pytest.mark.filterwarnings("ignore:NCaltech101. class folder")
def test_ncaltech101_pair_is_a_per_class_split_of_one_folder(tmp_path):
    train, test, classes = transformer_dataset_pair("ncaltech101", ncaltech101_root(tmp_path / "nc"), T=2)
    assert classes == 101 and isinstance(train, Subset) and train.dataset is test.dataset
    assert len(train) == 3 and len(test) == 3  # int(2 * 0.9) = 1 of each class's 2 recordings trains
    assert sorted(train.indices + test.indices) == list(range(6))
    x, y = train[0]
    assert x.shape[0] == 2 and y == train.dataset.labels[train.indices[0]]


def test_cifar10dvs_pair_and_errors(tmp_path):
    train, test, classes = transformer_dataset_pair("cifar10-dvs", cifar10dvs_root(tmp_path / "c"), T=2)
    assert isinstance(train, CIFAR10DVS) and classes == 10 and len(train) + len(test) == 20
    with pytest.raises(ValueError, match=r"transformer_dataset_pair: name must be one of .* \(got 'mnist'\)"):
        transformer_dataset_pair("mnist", tmp_path, T=2)
    with pytest.raises(FileNotFoundError):
        transformer_dataset_pair("nmnist", tmp_path / "missing", T=2)
