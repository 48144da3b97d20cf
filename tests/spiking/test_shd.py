"""SHD/SSC HDF5 reader and datasets on tiny files in the exact layout."""

from __future__ import annotations

import numpy as np
import pytest

from spiking.datasets import SHD, SSC, SpikeH5File
from tests.spiking.formats import write_spike_h5

SAMPLES = [
    (np.array([0.0, 0.0015, 0.2, 0.9]), np.array([3, 699, 3, 0])),
    (np.array([0.01, 0.02, 0.03]), np.array([5, 6, 7])),
]


def test_reader_and_dataset(tmp_path):
    write_spike_h5(tmp_path / "shd_train.h5", SAMPLES, [4, 19])
    f = SpikeH5File(tmp_path / "shd_train.h5")
    assert len(f) == 2 and f.labels.tolist() == [4, 19]
    ev = f.events(0)
    assert ev["t"].tolist() == [0, 1500, 200000, 900000] and ev["unit"].tolist() == [3, 699, 3, 0]
    ds = SHD(tmp_path, split="train", T=2, cache_dir=tmp_path / "c")
    x, y = ds[0]
    assert tuple(x.shape) == (2, 700) and y == 4
    assert x[0, 3] == 1 and x[0, 699] == 1 and x[1, 3] == 1 and x[1, 0] == 1
    x, _ = SHD(tmp_path, split="train", T=2, split_by="time")[0]  # dt = 450 ms: 3 events, then 1
    assert x[0].sum() == 3 and x[1].sum() == 1
    write_spike_h5(tmp_path / "ssc_valid.h5", SAMPLES, [0, 34])
    assert SSC(tmp_path, split="valid", T=3).labels == [0, 34]


def test_bad_input(tmp_path):
    p = tmp_path / "shd_test.h5"
    write_spike_h5(p, SAMPLES, [1, 2], drop="units")
    with pytest.raises(ValueError, match="spikes/units"):
        SpikeH5File(p)
    write_spike_h5(p, SAMPLES, [1])
    with pytest.raises(ValueError, match="must match"):
        SpikeH5File(p)
    write_spike_h5(p, [(np.array([0.1, 0.05]), np.array([1, 2]))], [1])
    with pytest.raises(ValueError, match="non-decreasing"):
        SpikeH5File(p).events(0)
    write_spike_h5(p, [(np.array([-0.1, 0.05]), np.array([1, 2]))], [1])
    with pytest.raises(ValueError, match="negative timestamp"):
        SpikeH5File(p).events(0)
    write_spike_h5(p, [(np.array([], np.float32), np.array([], np.uint16))], [1])
    with pytest.raises(ValueError, match="empty recording"):
        SpikeH5File(p).events(0)
    write_spike_h5(p, [(np.array([0.1]), np.array([700]))], [1])
    with pytest.raises(ValueError, match="unit outside"):
        SpikeH5File(p).events(0)
    write_spike_h5(p, SAMPLES, [1, 20])
    with pytest.raises(ValueError, match="labels must be in"):
        SHD(tmp_path, split="test")
    p.write_bytes(b"not hdf5")
    with pytest.raises(ValueError, match="not a readable HDF5"):
        SpikeH5File(p)
    with pytest.raises(ValueError, match="split must be one of"):
        SHD(tmp_path, split="valid")
    with pytest.raises(ValueError, match="T \\(frames"):
        SHD(tmp_path, split="test", T=-1)
