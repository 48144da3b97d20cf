"""CIFAR10-DVS AEDAT 2.0 reader (spikingjelly parity on a tiny file, tonic header fixture) and splits."""

from __future__ import annotations

import numpy as np
import pytest
from spikingjelly.datasets import cifar10_dvs as sj_c10

from spiking.datasets import CIFAR10DVS, read_aedat2_header, read_cifar10dvs
from spiking.datasets.cifar10_dvs import CLASSES
from tests.helpers import data_path
from tests.spiking.formats import write_aedat2_cifar


def test_reader_and_spikingjelly_parity(tmp_path):
    f = tmp_path / "cifar10_cat_0.aedat"
    write_aedat2_cifar(f, t=[10, 20, 20, 35], x=[0, 127, 5, 64], y=[0, 3, 127, 64], p=[1, 0, 0, 1])
    ev = read_cifar10dvs(f)
    assert ev["t"].tolist() == [10, 20, 20, 35]
    assert ev["x"].tolist() == [127, 124, 0, 63] and ev["y"].tolist() == [127, 0, 122, 63]  # x'=127-y, y'=127-x
    assert ev["p"].tolist() == [0, 1, 1, 0]
    ref = sj_c10._load_origin_data(f)
    for k in "txyp":
        np.testing.assert_array_equal(ev[k], ref[k])


@pytest.mark.data
def test_tonic_header_only_fixture():
    f = data_path("tonic_test_data") / "sample_aedat_header.aedat"
    lines, offset = read_aedat2_header(f)
    assert lines[0] == "!AER-DAT2.0" and any("1695355587880" in line for line in lines)
    assert offset == f.stat().st_size  # header only
    with pytest.raises(ValueError, match="empty recording"):
        read_cifar10dvs(f)


def test_bad_input(tmp_path):
    f = tmp_path / "x.aedat"
    f.write_bytes(b"#!AER-DAT3.1\r\n")
    with pytest.raises(ValueError, match="not an AEDAT 2.0 file"):
        read_cifar10dvs(f)
    write_aedat2_cifar(f, t=[1, 2], x=[1, 2], y=[1, 2], p=[0, 1])
    f.write_bytes(f.read_bytes()[:-4])
    with pytest.raises(ValueError, match="truncated"):
        read_cifar10dvs(f)
    write_aedat2_cifar(f, t=[5, 2], x=[1, 2], y=[1, 2], p=[0, 1])
    with pytest.raises(ValueError, match="non-decreasing"):
        read_cifar10dvs(f)


def make_tree(root, indices):
    for cls in CLASSES:
        (root / cls).mkdir(parents=True)
        for i in indices:
            write_aedat2_cifar(
                root / cls / f"cifar10_{cls}_{i}.aedat", t=[0, 1, 2, 3], x=[i % 128] * 4, y=[0, 1, 2, 3], p=[0, 1, 0, 1]
            )


def test_splits_9_1_and_tebn(tmp_path):
    idx = [0, 1, 2, 10, 100, 101, 150, 999, 998, 3]
    make_tree(tmp_path, idx)
    tr = CIFAR10DVS(tmp_path, train=True, split="9:1", T=2)
    te = CIFAR10DVS(tmp_path, train=False, split="9:1", T=2)
    assert len(tr) == 90 and len(te) == 10 and tr.class_counts() == {c: 9 for c in range(10)}
    # file-name order: _0 _1 _10 _100 _101 _150 _2 _3 _998 _999 -> the last in that order is _999
    assert [f.name for f in te.files[:1]] == ["cifar10_airplane_999.aedat"]
    tr = CIFAR10DVS(tmp_path, train=True, split="tebn", T=2)
    te = CIFAR10DVS(tmp_path, train=False, split="tebn", T=2)
    assert len(tr) == 50 and len(te) == 50
    assert all(int(f.stem.rsplit("_", 1)[1]) < 100 for f in te.files)
    x, y = te[0]
    assert tuple(x.shape) == (2, 2, 128, 128) and y == 0 and x.sum() == 4
    with pytest.raises(ValueError, match="split must be one of"):
        CIFAR10DVS(tmp_path, split="8:2")
    with pytest.raises(FileNotFoundError, match="class folder"):
        CIFAR10DVS(tmp_path / "airplane")


def test_labels_by_class_name_with_a_missing_or_unknown_folder(tmp_path):
    make_tree(tmp_path, [0, 1])
    for f in (tmp_path / "cat").iterdir():
        f.unlink()
    (tmp_path / "cat").rmdir()
    with pytest.warns(UserWarning, match=r"\['cat'\] missing"):
        ds = CIFAR10DVS(tmp_path, train=False, split="tebn", T=2)
    # without 'cat' (index 3), deer..truck keep 4..9: labels follow names, not positions
    labels = {f.parent.name: y for f, y in zip(ds.files, ds.labels)}
    assert labels == {c: i for i, c in enumerate(CLASSES) if c != "cat"}
    assert ds.classes == CLASSES and ds.class_to_idx["truck"] == 9
    (tmp_path / "kitten").mkdir()
    with pytest.raises(ValueError, match=r"unknown class folder\(s\) \['kitten'\]"):
        CIFAR10DVS(tmp_path, train=False, split="tebn", T=2)
