"""examples/neuromorphic.py runs end to end on its default synthetic data and writes its run folder."""
from __future__ import annotations

import json

import pytest
import torch

from tests.helpers import load_example


def test_synthetic_run(tmp_path):
    ex = load_example("neuromorphic")
    out = tmp_path / "run"
    metrics = ex.main(["--out", str(out), "--epochs", "2", "--T", "4", "--train-samples", "40",
                       "--test-samples", "20", "--batch-size", "20", "--channels", "4,8"])
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["best"]["epoch"] in (1, 2) and 0.0 <= saved["best"]["test_acc"] <= 1.0
    assert saved == json.loads(json.dumps(metrics))
    assert len(saved["history"]) == 2 and "rate/neurons.0" in saved["history"][0]
    assert 0.0 <= saved["history"][0]["rate/neurons.0"] <= 1.0
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["num_train"] == 40 and cfg["T"] == 4
    assert (out / "metrics.csv").read_text().count("\n") == 3
    assert list((out / "tb").glob("events.out.tfevents*"))
    ckpt = torch.load(out / "best.pt", weights_only=False)
    assert ckpt["epoch"] == saved["best"]["epoch"] and "model" in ckpt
    assert not list(out.glob("*.tmp"))


@pytest.mark.data
def test_nmnist_smoke(tmp_path):
    from tests.helpers import data_path

    ex = load_example("neuromorphic")
    m = ex.main(["--data", "nmnist", "--root", str(data_path("nmnist")), "--out", str(tmp_path / "n"), "--epochs", "1",
                 "--T", "3", "--train-samples", "40", "--test-samples", "20", "--channels", "4"])
    assert 0.0 <= m["best"]["test_acc"] <= 1.0


def test_bad_args(tmp_path):
    ex = load_example("neuromorphic")
    with pytest.raises(SystemExit):
        ex.main(["--data", "nmnist", "--out", str(tmp_path)])  # --root required
    with pytest.raises(SystemExit):
        ex.main(["--T", "0", "--out", str(tmp_path)])


def test_audio_and_cifar10dvs_paths(tmp_path):
    """--data shd (spiking MLP on [T, 700]) and --data cifar10dvs (9:1 split) on tiny files in the exact layouts."""
    import numpy as np

    from spiking.datasets.cifar10_dvs import CLASSES
    from tests.spiking.formats import write_aedat2_cifar, write_spike_h5

    ex = load_example("neuromorphic")
    rng = np.random.default_rng(0)
    samples = [(np.sort(rng.uniform(0, 0.5, 30)), rng.integers(0, 700, 30)) for _ in range(8)]
    for split in ("train", "test"):
        write_spike_h5(tmp_path / f"shd_{split}.h5", samples, [i % 20 for i in range(8)])
    m = ex.main(["--data", "shd", "--root", str(tmp_path), "--out", str(tmp_path / "a"), "--epochs", "1", "--T", "4",
                 "--channels", "8", "--batch-size", "4"])
    assert json.loads((tmp_path / "a" / "config.json").read_text())["input_shape"] == [4, 700]
    assert 0.0 <= m["best"]["test_acc"] <= 1.0
    croot = tmp_path / "c10"
    for cls in CLASSES:
        (croot / cls).mkdir(parents=True)
        for i in range(10):
            write_aedat2_cifar(croot / cls / f"cifar10_{cls}_{i}.aedat", t=np.arange(20), x=rng.integers(0, 128, 20),
                               y=rng.integers(0, 128, 20), p=rng.integers(0, 2, 20))
    m = ex.main(["--data", "cifar10dvs", "--root", str(croot), "--out", str(tmp_path / "b"), "--epochs", "1",
                 "--T", "2", "--channels", "4", "--batch-size", "30"])
    cfg = json.loads((tmp_path / "b" / "config.json").read_text())
    assert cfg["num_train"] == 90 and cfg["num_test"] == 10 and cfg["input_shape"] == [2, 2, 128, 128]

