"""examples/energy.py: the default run, each model family, the JSON schema, bad arguments."""
from __future__ import annotations

import csv
import json

import pytest

from tests.helpers import data_path, load_example


def _check_run(out, metrics):
    report = json.loads((out / "report.json").read_text())
    assert set(report["total"]) >= {"mac", "ac", "energy_mJ"} and report["layers"]
    assert (out / "energy.png").read_bytes()[:4] == b"\x89PNG"
    assert json.loads((out / "config.json").read_text())["out"] == str(out)
    rows = list(csv.DictReader(open(out / "metrics.csv")))
    assert len(rows) == len(report["layers"])
    assert list((out / "tb").iterdir())
    assert json.loads((out / "metrics.json").read_text())["energy_mJ"] == pytest.approx(metrics["energy_mJ"])
    return report


def test_default_snn_with_ann_twin(tmp_path, capsys):
    ex = load_example("energy")
    out = tmp_path / "snn"
    metrics = ex.main(["--out", str(out), "--T", "2"])
    report = _check_run(out, metrics)
    assert "ann" in report and report["ann"]["total"]["mac"] > 0
    assert metrics["snn_over_ann_energy"] == pytest.approx(report["ann"]["snn_over_ann_energy"])
    assert any(layer["op"] == "neuron" for layer in report["layers"])
    text = capsys.readouterr().out
    assert "energy_mJ:" in text and "SNN/ANN" in text


def test_torchvision_and_json_flag(tmp_path):
    ex = load_example("energy")
    out = tmp_path / "tv"
    path = tmp_path / "custom.json"
    metrics = ex.main(["--model", "torchvision:resnet18", "--input", "1x3x64x64", "--out", str(out),
                       "--json", str(path), "--preset", "45nm-int8"])
    report = json.loads(path.read_text())
    assert report["preset"]["name"] == "45nm-int8" and report["total"]["ac"] == pytest.approx(512 * 3)
    # resnet18 at 64x64: (64/224)^2 of the convolution MACs (exact for stride-32 sizes) + fc
    assert metrics["mac"] == pytest.approx((1_814_073_344 - 512_000) * (64 / 224) ** 2 + 512_000, rel=0.02)


def test_lightgcn_per_query_and_callable(tmp_path):
    ex = load_example("energy")
    m = ex.main(["--model", "lightgcn", "--out", str(tmp_path / "lg")])
    assert m["propagation_once_mJ"] > m["scoring_one_query_mJ"] > 0
    assert m["amortised_per_query_mJ"] < m["energy_mJ_per_query"]
    m = ex.main(["--model", "torch.nn:Identity", "--input", "2x3", "--out", str(tmp_path / "id")])
    assert m["mac"] == 0 and m["energy_mJ"] == 0


def test_spikinggcn_short(tmp_path):
    ex = load_example("energy")
    m = ex.main(["--model", "spikinggcn", "--T", "5", "--out", str(tmp_path / "sg")])
    assert m["ac"] > 0 and m["mac"] == 0 and m["ann_mac"] > 0 and m["propagation_once_mJ"] > 0


@pytest.mark.data
def test_real_nmnist_sample(tmp_path):
    root = data_path("nmnist")
    ex = load_example("energy")
    m = ex.main(["--model", "snn", "--data-root", str(root), "--T", "4", "--out", str(tmp_path / "nm"),
                 "--no-ann"])
    assert m["mac"] > 0 and "snn_over_ann_energy" not in m


def test_bad_arguments(tmp_path):
    ex = load_example("energy")
    with pytest.raises(SystemExit, match="--model must be one of"):
        ex.main(["--model", "nonsense", "--out", str(tmp_path / "a")])
    with pytest.raises(SystemExit, match="cannot import"):
        ex.main(["--model", "no_such_module_xyz:f", "--input", "2", "--out", str(tmp_path / "b")])
    with pytest.raises(SystemExit, match="--input must look like"):
        ex.main(["--model", "torch.nn:Identity", "--input", "2xq", "--out", str(tmp_path / "c")])
    with pytest.raises(SystemExit, match=r"--T must be a positive number of time steps \(got 0\)"):
        ex.main(["--T", "0", "--out", str(tmp_path / "e")])
    with pytest.raises(ValueError, match="unknown preset"):
        ex.main(["--model", "torch.nn:Identity", "--input", "2", "--preset", "7nm", "--out", str(tmp_path / "d")])
