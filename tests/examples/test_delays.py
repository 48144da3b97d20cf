"""examples/delays.py: the default task, and the SHD/SSC commands on tiny files in the real HDF5 layout."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.helpers import load_example
from tests.spiking.formats import write_spike_h5

TINY = ["--epochs", "2", "--hidden", "8", "--threads", "1"]


def _write(root, name, splits, classes, n=5):
    rng = np.random.default_rng(0)
    for split in splits:
        samples = []
        for _ in range(n):
            k = int(rng.integers(10, 60))
            samples.append((np.sort(rng.uniform(0.0, 0.25, k)), rng.integers(0, 700, k)))
        write_spike_h5(root / f"{name}_{split}.h5", samples, rng.integers(0, classes, n))


def test_default_task_run(tmp_path):
    ex = load_example("delays")
    out = tmp_path / "run"
    m = ex.main(["--out", str(out), *TINY, "--train-samples", "64", "--test-samples", "32"])
    saved = json.loads((out / "metrics.json").read_text())
    assert saved == json.loads(json.dumps(m)) and 0 <= saved["best"]["test_acc"] <= 1
    assert saved["recipe"]["dataset"] == "delay-task" and saved["energy_mJ_per_sample"] > 0
    for name in ("config.json", "metrics.csv", "delays.png", "energy.json", "checkpoint.pt", "best.pt"):
        assert (out / name).exists(), name
    energy = json.loads((out / "energy.json").read_text())
    assert [r["op"] for r in energy["layers"] if r["name"].startswith(("delays", "readout"))] == [
        "spmm",
        "spmm",
        "neuron",
    ]
    # resume from the last checkpoint: nothing left to train, same metrics
    again = ex.main(["--out", str(out), *TINY, "--train-samples", "64", "--test-samples", "32", "--resume"])
    assert again["best"] == saved["best"]


@pytest.mark.parametrize(
    "name,splits,classes,extra",
    [
        ("shd", ("train", "test"), 20, ["--delays", "learn"]),
        ("ssc", ("train", "valid", "test"), 35, ["--delays", "none"]),
    ],
)
def test_real_format_runs(tmp_path, name, splits, classes, extra):
    _write(tmp_path, name, splits, classes)
    ex = load_example("delays")
    m = ex.main(
        [
            "--data",
            name,
            "--root",
            str(tmp_path),
            "--out",
            str(tmp_path / "run"),
            *TINY,
            *extra,
            "--batch-size",
            "4",
            "--layers",
            "1",
            "--cache",
            str(tmp_path / "cache"),
        ]
    )
    cfg = json.loads((tmp_path / "run" / "config.json").read_text())["config"]
    assert cfg["in_channels"] == 140 and cfg["classes"] == classes and cfg["samples"]["train"] == 5
    assert cfg["recipe"]["kernel_size"] == (25 if name == "shd" else 31)
    assert 0 <= m["best"]["test_acc"] <= 1 and ("valid_acc" in m["best"]) == (name == "ssc")


def test_bad_args(tmp_path, capsys):
    ex = load_example("delays")
    with pytest.raises(SystemExit):
        ex.main(["--data", "shd", "--out", str(tmp_path / "a")])
    assert "needs --root" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        ex.main(["--data", "ssc", "--root", str(tmp_path), "--out", str(tmp_path / "b")])
    assert "ssc_train.h5" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        ex.main(["--delays", "random", "--out", str(tmp_path / "c")])
