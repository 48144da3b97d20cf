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
    assert json.loads((out / "config.json").read_text())["args"]["out"] == str(out)
    with open(out / "metrics.csv") as fh:
        rows = list(csv.DictReader(fh))
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
    metrics = ex.main(
        [
            "--model",
            "torchvision:resnet18",
            "--input",
            "1x3x64x64",
            "--out",
            str(out),
            "--json",
            str(path),
            "--preset",
            "45nm-int8",
        ]
    )
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
    m = ex.main(["--model", "snn", "--root", str(root), "--T", "4", "--out", str(tmp_path / "nm"), "--no-ann"])
    assert m["mac"] > 0 and "snn_over_ann_energy" not in m


def test_checkpoint_of_the_neuromorphic_example(tmp_path, capsys):
    """--checkpoint takes the neuromorphic run's best.pt (weights only) or a plain state dict; junk is a CLI error."""
    import torch

    from spiking.models import SpikingConvNet

    nm = load_example("neuromorphic")
    nm.main(
        [
            "--out",
            str(tmp_path / "nm"),
            "--epochs",
            "1",
            "--T",
            "2",
            "--train-samples",
            "8",
            "--test-samples",
            "8",
            "--batch-size",
            "8",
        ]
    )
    ex = load_example("energy")
    m = ex.main(["--checkpoint", str(tmp_path / "nm" / "best.pt"), "--T", "2", "--out", str(tmp_path / "e")])
    assert any("weights: checkpoint" in n for n in json.loads((tmp_path / "e" / "report.json").read_text())["notes"])
    torch.save(SpikingConvNet(2, 10, (16, 32), dropout=0.0).state_dict(), tmp_path / "plain.pt")
    assert ex.main(["--checkpoint", str(tmp_path / "plain.pt"), "--T", "2", "--out", str(tmp_path / "p")])["mac"] > 0
    capsys.readouterr()
    torch.save({"w": torch.zeros(2)}, tmp_path / "bad.pt")
    with pytest.raises(SystemExit) as exc:
        ex.main(["--checkpoint", str(tmp_path / "bad.pt"), "--out", str(tmp_path / "b")])
    assert exc.value.code == 2 and "does not fit SpikingConvNet" in capsys.readouterr().err
    assert m["energy_mJ"] > 0


def test_resnet_plot_is_not_labelled_snn(tmp_path, monkeypatch):
    import matplotlib.axes

    labels = []
    real = matplotlib.axes.Axes.bar

    def bar(self, *a, **k):
        labels.append(k.get("label"))
        return real(self, *a, **k)

    monkeypatch.setattr(matplotlib.axes.Axes, "bar", bar)
    ex = load_example("energy")
    ex.main(["--model", "torchvision:resnet18", "--input", "1x3x32x32", "--out", str(tmp_path / "r")])
    assert len(labels) == 1 and labels[0].startswith("ANN ")
    labels.clear()
    ex.main(["--T", "2", "--out", str(tmp_path / "s")])
    assert labels[0].startswith("SNN ") and labels[1].startswith("ANN twin ")


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["--model", "nonsense"], "--model must be one of"),
        (["--model", "no_such_module_xyz:f", "--input", "2"], "cannot import"),
        (["--model", "torch.nn:Identity", "--input", "2xq"], "argument --input: expected a shape like 1x3x224x224"),
        (["--T", "0"], "argument --T: expected an integer >= 1 (got '0')"),
        (["--preset", "7nm"], "argument --preset: invalid choice: '7nm'"),
        (["--rate", "1.5"], "argument --rate: expected a number in [0, 1]"),
        (["--mac-pj", "1"], "--mac-pj and --ac-pj go together"),
        (["--resume"], "trains nothing, so there is nothing to resume"),
        (["--model", "spikinggcn", "--root", "/nonexistent"], "--root must be the folder of the raw Planetoid files"),
    ],
)
def test_bad_arguments(tmp_path, capsys, argv, expected):
    ex = load_example("energy")
    with pytest.raises(SystemExit) as exc:
        ex.main([*argv, "--out", str(tmp_path / "a")])
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 2 and "\n" not in err and expected in err, err
