"""ATIS .bin reader and frame integration on real N-MNIST: equality with spikingjelly 2.0; bad input."""

from __future__ import annotations

import numpy as np
import pytest
from spikingjelly.datasets import utils as sju

from spiking.datasets import NMNIST, frames_by_duration, integrate_events, read_atis_bin, read_atis_frames
from tests.helpers import data_path
from tests.spiking.formats import write_atis_bin


def real_files(step: int = 10):
    files = sorted(data_path("nmnist").glob("*/*/*.bin"))
    assert len(files) == 1100
    return files[::step]


@pytest.mark.data
def test_reader_equals_spikingjelly_on_real_nmnist():
    for f in real_files(5):
        ev, ref = read_atis_bin(f), sju.load_ATIS_bin(f)
        for k in "txyp":
            np.testing.assert_array_equal(ev[k], ref[k])
        assert ev["x"].max() < 34 and ev["y"].max() < 34


@pytest.mark.data
@pytest.mark.parametrize("split_by", ["number", "time"])
@pytest.mark.parametrize("T", [1, 4, 10, 17])
def test_frames_equal_spikingjelly_on_real_nmnist(split_by, T):
    for f in real_files(10):
        ref = sju.integrate_events_by_fixed_frames_number(sju.load_ATIS_bin(f), split_by, T, 34, 34)
        ours = integrate_events(read_atis_bin(f), T, (34, 34), split_by)
        fused = read_atis_frames(f, T, split_by)
        assert ours.shape == (T, 2, 34, 34) and ours.dtype == np.float32
        np.testing.assert_array_equal(ours, ref)
        np.testing.assert_array_equal(fused, ref)


@pytest.mark.data
@pytest.mark.parametrize("duration", [10_000, 33_333, 1_000_000])
def test_duration_frames_equal_spikingjelly_on_real_nmnist(duration):
    for f in real_files(20):
        ref = sju.integrate_events_by_fixed_duration(sju.load_ATIS_bin(f), duration, 34, 34)
        np.testing.assert_array_equal(frames_by_duration(read_atis_bin(f), duration, (34, 34)), ref)


@pytest.mark.data
def test_tonic_fixture_and_slayer_dvs_clip():
    ev = read_atis_bin(data_path("tonic_test_data") / "sample_nmnist.bin")
    assert ev.size == 21625 // 5 and ev["t"][0] >= 0
    clip = data_path("slayer_dvsgesture_ntidigits_samples") / "dvs128_1.bs2"
    ev = read_atis_bin(clip, sensor_size=(128, 128))
    ref = sju.load_ATIS_bin(clip)
    np.testing.assert_array_equal(ev["t"], ref["t"])
    for sb in ("number", "time"):
        np.testing.assert_array_equal(
            read_atis_frames(clip, 16, sb, (128, 128)),
            sju.integrate_events_by_fixed_frames_number(ref, sb, 16, 128, 128),
        )
    with pytest.raises(ValueError, match="outside the 34x34 sensor"):
        read_atis_bin(clip)  # a 128 x 128 recording is not N-MNIST


@pytest.mark.data
def test_nmnist_dataset_real(tmp_path):
    ds = NMNIST(data_path("nmnist"), train=False, T=6, cache_dir=tmp_path)
    assert len(ds) == 100 and ds.class_counts() == {0: 8, 1: 14, 2: 8, 3: 11, 4: 14, 5: 7, 6: 10, 7: 15, 8: 2, 9: 11}
    x, y = ds[0]
    assert tuple(x.shape) == (6, 2, 34, 34) and y == 0
    np.testing.assert_array_equal(x.numpy(), read_atis_frames(ds.files[0], 6, "number"))
    again, _ = NMNIST(data_path("nmnist"), train=False, T=6, cache_dir=tmp_path)[0]  # from the disk cache
    np.testing.assert_array_equal(again.numpy(), x.numpy())
    assert len(list(tmp_path.glob("nmnist-*/*.npy"))) == 1


def test_hand_table(tmp_path):
    # 5 events, T=2 by number: di=2 -> frame0 = events 0,1; frame1 = events 2,3,4
    f = tmp_path / "a.bin"
    write_atis_bin(f, t=[0, 10, 20, 30, 40], x=[0, 1, 1, 2, 2], y=[0, 0, 0, 3, 3], p=[1, 0, 1, 1, 1])
    ev = read_atis_bin(f, (4, 4))
    assert ev["t"].tolist() == [0, 10, 20, 30, 40] and ev["p"].tolist() == [1, 0, 1, 1, 1]
    fr = read_atis_frames(f, 2, "number", (4, 4))
    assert fr[0, 1, 0, 0] == 1 and fr[0, 0, 0, 1] == 1 and fr[0].sum() == 2
    assert fr[1, 1, 0, 1] == 1 and fr[1, 1, 3, 2] == 2 and fr[1].sum() == 3
    # by time: dt = 40 // 2 = 20 -> [0, 20) and the rest
    fr = read_atis_frames(f, 2, "time", (4, 4))
    assert fr[0].sum() == 2 and fr[1].sum() == 3
    # N < T: everything in the last frame (spikingjelly's rule)
    fr = read_atis_frames(f, 8, "number", (4, 4))
    assert fr[:7].sum() == 0 and fr[7].sum() == 5
    # a large timestamp uses all 23 bits
    write_atis_bin(f, t=[0, 2**23 - 1], x=[0, 0], y=[0, 0], p=[0, 1])
    assert read_atis_bin(f, (1, 1))["t"].tolist() == [0, 2**23 - 1]


def test_bad_input(tmp_path):
    f = tmp_path / "bad.bin"
    write_atis_bin(f, t=[0, 5, 9], x=[1, 2, 3], y=[1, 2, 3], p=[0, 1, 0])
    f.write_bytes(f.read_bytes()[:-2])
    for fn in (lambda: read_atis_bin(f), lambda: read_atis_frames(f, 2)):
        with pytest.raises(ValueError, match="truncated"):
            fn()
    f.write_bytes(b"")
    for fn in (lambda: read_atis_bin(f), lambda: read_atis_frames(f, 2)):
        with pytest.raises(ValueError, match="empty recording"):
            fn()
    write_atis_bin(f, t=[0, 5], x=[1, 40], y=[1, 2], p=[0, 1])
    for fn in (lambda: read_atis_bin(f), lambda: read_atis_frames(f, 2)):
        with pytest.raises(ValueError, match="outside the 34x34 sensor"):
            fn()
    write_atis_bin(f, t=[0, 9, 5], x=[1, 2, 3], y=[1, 2, 3], p=[0, 1, 0])
    for fn in (lambda: read_atis_bin(f), lambda: read_atis_frames(f, 2)):
        with pytest.raises(ValueError, match="non-decreasing"):
            fn()
    write_atis_bin(f, t=[0, 5, 9], x=[1, 2, 3], y=[1, 2, 3], p=[0, 1, 0])
    for T in (0, -3, 2.5):
        with pytest.raises(ValueError, match="positive int"):
            read_atis_frames(f, T)
    with pytest.raises(ValueError, match="split_by"):
        read_atis_frames(f, 2, "count")
    write_atis_bin(f, t=[7, 7, 8], x=[1, 2, 3], y=[1, 2, 3], p=[0, 1, 0])
    with pytest.raises(ValueError, match="too short"):
        read_atis_frames(f, 2, "time")  # span 1 us < T windows
    with pytest.raises(FileNotFoundError, match="extracted dataset folder"):
        NMNIST(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="T \\(frames per sample\\)"):
        NMNIST(tmp_path, T=0)


def test_ncaltech101_layout(tmp_path):
    from spiking.datasets import NCaltech101
    from spiking.datasets.nmnist import NCALTECH101_CLASSES

    for cls, n in (("accordion", 2), ("airplanes", 1)):
        (tmp_path / cls).mkdir()
        for i in range(n):
            write_atis_bin(
                tmp_path / cls / f"image_{i + 1:04d}.bin",
                t=[0, 4, 8, 12],
                x=[0, 239, 100, 5],
                y=[0, 179, 50, 7],
                p=[1, 0, 1, 1],
            )
    with pytest.warns(UserWarning, match="missing"):  # 99 of the 101 class folders are absent
        ds = NCaltech101(tmp_path, T=2)
    # labels index the fixed, sorted class list (upper case first, as spikingjelly's DatasetFolder)
    assert len(ds.classes) == 101 and ds.classes[:6] == (
        "BACKGROUND_Google",
        "Faces_easy",
        "Leopards",
        "Motorbikes",
        "accordion",
        "airplanes",
    )
    assert ds.classes == NCALTECH101_CLASSES and "Faces" not in ds.classes
    assert ds.labels == [4, 4, 5]
    x, y = ds[2]
    assert tuple(x.shape) == (2, 2, 180, 240) and y == 5 and x[0, 0, 179, 239] == 1 and x[1, 1, 7, 5] == 1


def _nmnist_tree(root, split, digits, per_class=1):
    for d in digits:
        (root / split / str(d)).mkdir(parents=True)
        for i in range(per_class):
            write_atis_bin(root / split / str(d) / f"{i:05d}.bin", t=[0, 5, 9], x=[d, 1, 2], y=[0, 1, 2], p=[1, 0, 1])


def test_nmnist_labels_by_folder_name_when_a_digit_is_missing(tmp_path):
    # issue 19, case 3: Test/ lacks digit 3; folders 4..9 must keep labels 4..9 (they were 3..8)
    _nmnist_tree(tmp_path, "Train", range(10))
    _nmnist_tree(tmp_path, "Test", [0, 1, 2, 4, 5, 6, 7, 8, 9])
    assert NMNIST(tmp_path, train=True, T=2).labels == list(range(10))
    with pytest.warns(UserWarning, match=r"\['3'\] missing"):
        test = NMNIST(tmp_path, train=False, T=2)
    assert test.labels == [0, 1, 2, 4, 5, 6, 7, 8, 9]
    assert [f.parent.name for f in test.files] == ["0", "1", "2", "4", "5", "6", "7", "8", "9"]
    for i, digit in enumerate(test.labels):  # the label is the digit the recording was written with (x[0])
        x, y = test[i]
        assert y == digit and x[:, 1, 0, digit].sum() == 1
    assert test.classes == tuple("0123456789") and test.class_to_idx["7"] == 7


def test_nmnist_unknown_or_absent_class_folders(tmp_path):
    _nmnist_tree(tmp_path, "Test", range(10))
    (tmp_path / "Test" / "10").mkdir()
    with pytest.raises(ValueError, match=r"unknown class folder\(s\) \['10'\]"):
        NMNIST(tmp_path, train=False)
    (tmp_path / "Test" / "10").rmdir()
    (tmp_path / "Test" / ".cache").mkdir()  # hidden folders are not classes
    assert len(NMNIST(tmp_path, train=False, T=2)) == 10
    (tmp_path / "Train" / "Train").mkdir(parents=True)  # extracted one level too deep
    with pytest.raises(ValueError, match="unknown class folder"):
        NMNIST(tmp_path, train=True)
    (tmp_path / "Train" / "Train").rmdir()
    with pytest.raises(FileNotFoundError, match="expected class folders named"):
        NMNIST(tmp_path, train=True)
