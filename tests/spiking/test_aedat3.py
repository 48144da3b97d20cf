"""AEDAT 3.1 reader + DVS128 Gesture label cutting on tiny files in the exact layout."""

from __future__ import annotations

import numpy as np
import pytest
from spikingjelly.datasets import utils as sju

from spiking.datasets import DVS128Gesture, cut_gesture_samples, read_aedat3, read_gesture_labels
from tests.spiking.formats import aedat3_header, aedat3_packet, polarity_payload, write_aedat3, write_gesture_csv


def two_packets():
    a = (np.array([5, 9, 20]), np.array([0, 127, 64]), np.array([3, 0, 127]), np.array([1, 0, 1]), 0)
    b = (np.array([30, 31, 45, 70]), np.array([1, 2, 3, 4]), np.array([5, 6, 7, 8]), np.array([0, 0, 1, 1]), 0)
    return [a, b]


def test_reader_roundtrip_and_spikingjelly_parity(tmp_path):
    f = tmp_path / "user01_led.aedat"
    write_aedat3(f, two_packets())
    ev = read_aedat3(f)
    assert ev["t"].tolist() == [5, 9, 20, 30, 31, 45, 70]
    assert ev["x"].tolist() == [0, 127, 64, 1, 2, 3, 4] and ev["y"].tolist() == [3, 0, 127, 5, 6, 7, 8]
    assert ev["p"].tolist() == [1, 0, 1, 0, 0, 1, 1]
    ref = sju.load_aedat_v3(f)
    for k in "txyp":
        np.testing.assert_array_equal(ev[k], ref[k])


def test_timestamp_overflow(tmp_path):
    f = tmp_path / "o.aedat"
    write_aedat3(f, [(np.array([7]), np.array([1]), np.array([1]), np.array([1]), 2)], with_special_packet=False)
    assert read_aedat3(f)["t"].tolist() == [(2 << 31) | 7]


def test_gesture_labels_and_cut(tmp_path):
    f = tmp_path / "user01_led.aedat"
    write_aedat3(f, two_packets())
    write_gesture_csv(tmp_path / "user01_led_labels.csv", [(3, 5, 21), (11, 30, 46)])
    lab = read_gesture_labels(tmp_path / "user01_led_labels.csv")
    assert lab.tolist() == [[3, 5, 21], [11, 30, 46]]
    samples = cut_gesture_samples(read_aedat3(f), lab)
    assert [s[1] for s in samples] == [2, 10]
    assert samples[0][0]["t"].tolist() == [5, 9, 20] and samples[1][0]["t"].tolist() == [30, 31, 45]


def test_dvs128gesture_dataset(tmp_path):
    root = tmp_path / "DvsGesture"
    root.mkdir()
    write_aedat3(root / "user01_led.aedat", two_packets())
    write_gesture_csv(root / "user01_led_labels.csv", [(3, 5, 21), (11, 30, 71)])
    write_aedat3(root / "user02_led.aedat", two_packets()[::-1][:1])
    write_gesture_csv(root / "user02_led_labels.csv", [(1, 30, 71)])
    (root / "trials_to_train.txt").write_text("user01_led.aedat\n")
    (root / "trials_to_test.txt").write_text("user02_led.aedat\n")
    tr = DVS128Gesture(tmp_path, train=True, T=2, cache_dir=tmp_path / "cache")
    te = DVS128Gesture(root, train=False, T=2)
    assert len(tr) == 2 and tr.labels == [2, 10] and len(te) == 1 and te.labels == [0]
    x, y = tr[1]
    assert tuple(x.shape) == (2, 2, 128, 128) and y == 10 and x.sum() == 4
    assert x[0, 0, 5, 1] == 1 and x[1, 1, 8, 4] == 1  # (p, y, x) of the first / last event
    with pytest.raises(FileNotFoundError, match="trials_to_train"):
        DVS128Gesture(tmp_path / "nowhere")


def test_bad_input(tmp_path):
    f = tmp_path / "bad.aedat"
    f.write_bytes(b"#!AER-DAT2.0\r\n" + b"\x00" * 8)
    with pytest.raises(ValueError, match="not an AEDAT 3.1 file"):
        read_aedat3(f)
    f.write_bytes(b"#!AER-DAT3.1\r\n#Format: RAW\r\n")
    with pytest.raises(ValueError, match="END-HEADER"):
        read_aedat3(f)
    full = aedat3_header() + aedat3_packet(1, polarity_payload([1, 2], [1, 1], [1, 1], [0, 1]), 8, 2)
    f.write_bytes(full[:-3])
    with pytest.raises(ValueError, match="truncated"):
        read_aedat3(f)
    f.write_bytes(full + b"\x01\x00")
    with pytest.raises(ValueError, match="truncated: packet header"):
        read_aedat3(f)
    f.write_bytes(aedat3_header() + aedat3_packet(1, b"\x00" * 24, 12, 2))
    with pytest.raises(ValueError, match="eventSize 8"):
        read_aedat3(f)
    f.write_bytes(aedat3_header())
    with pytest.raises(ValueError, match="empty recording"):
        read_aedat3(f)
    f.write_bytes(aedat3_header() + aedat3_packet(1, polarity_payload([1, 2], [1, 200], [1, 1], [0, 1]), 8, 2))
    with pytest.raises(ValueError, match="outside the 128x128 sensor"):
        read_aedat3(f)
    f.write_bytes(aedat3_header() + aedat3_packet(1, polarity_payload([5, 2], [1, 1], [1, 1], [0, 1]), 8, 2))
    with pytest.raises(ValueError, match="non-decreasing"):
        read_aedat3(f)
    c = tmp_path / "l.csv"
    c.write_text("cls,a,b\n1,2,3\n")
    with pytest.raises(ValueError, match="must start with"):
        read_gesture_labels(c)
    write_gesture_csv(c, [(12, 0, 5)])
    with pytest.raises(ValueError, match="class in 1..11"):
        read_gesture_labels(c)
    write_gesture_csv(c, [(1, 9, 5)])
    with pytest.raises(ValueError, match="start < end"):
        read_gesture_labels(c)
    write_gesture_csv(c, [])
    with pytest.raises(ValueError, match="no label rows"):
        read_gesture_labels(c)
