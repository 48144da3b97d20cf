"""examples/spiking_transformer.py: synthetic run (metrics, energy next to the ANN twin), resume, bad flags."""

from __future__ import annotations

import json

import pytest

from tests.helpers import load_example

SMALL = [
    "--T",
    "4",
    "--chunk",
    "2",
    "--train-samples",
    "24",
    "--test-samples",
    "12",
    "--batch-size",
    "12",
    "--embed-dim",
    "16",
    "--heads",
    "2",
]


@pytest.mark.parametrize("attention", ["statten", "sdt"])
def test_synthetic_run(tmp_path, attention):
    ex = load_example("spiking_transformer")
    out = tmp_path / attention
    metrics = ex.main(["--out", str(out), "--epochs", "2", "--attention", attention, *SMALL])
    saved = json.loads((out / "metrics.json").read_text())
    assert saved == metrics
    assert saved["chance"] == 0.1 and 0.0 <= saved["best"]["test_acc"] <= 1.0 and saved["attention"] == attention
    assert len(saved["history"]) == 2 and "rate/blocks.0.attn.attn.qkv.lif" in saved["history"][0]
    e = saved["energy"]
    assert e["ann"]["mac"] > e["snn"]["mac"] > 0 and e["snn_over_ann"] > 0
    assert set(e["attention"]) == {"qkv_mac", "qkv_ac", "products_mac", "products_ac", "energy_mJ"}
    assert e["attention"]["products_mac"] == 0 and "blocks.0.attn.attn.attn_lif" in e["rates"]
    assert json.loads((out / "energy.json").read_text())["ann"]["total"]["mac"] == e["ann"]["mac"]
    cfg = json.loads((out / "config.json").read_text())["config"]
    assert cfg["transformer"]["chunk_size"] == 2 and cfg["transformer"]["attention"] == attention


def test_resume_after_interruption_matches_an_uninterrupted_run(tmp_path, monkeypatch):
    ex = load_example("spiking_transformer")
    args = ["--epochs", "2", *SMALL]
    full = ex.main([*args, "--out", str(tmp_path / "full")])
    real = ex.run_epoch

    def interrupted(model, loader, cfg, run, optimizer=None, desc=""):
        if desc == "epoch 2 train":
            raise KeyboardInterrupt
        return real(model, loader, cfg, run, optimizer, desc)

    monkeypatch.setattr(ex, "run_epoch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        ex.main([*args, "--out", str(tmp_path / "part")])
    monkeypatch.setattr(ex, "run_epoch", real)
    resumed = ex.main([*args, "--out", str(tmp_path / "part"), "--resume"])
    assert [h["train_loss"] for h in resumed["history"]] == [h["train_loss"] for h in full["history"]]
    assert resumed["best"] == full["best"] and resumed["final"]["test_loss"] == full["final"]["test_loss"]


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--T", "6", "--chunk", "4"], "chunk_size must divide the number of time steps T (got T=6, chunk_size=4"),
        (["--embed-dim", "16", "--heads", "3"], "num_heads must divide the channel dimension D"),
        (["--data", "nmnist"], "--data nmnist needs --root"),
        (["--backend", "cuda", "--device", "cpu"], "--backend cuda runs the fused kernel on a GPU: add --device cuda"),
    ],
)
def test_bad_flags(tmp_path, capsys, argv, message):
    ex = load_example("spiking_transformer")
    with pytest.raises(SystemExit) as exc:
        ex.main([*argv, "--out", str(tmp_path / "bad")])
    assert exc.value.code == 2 and message in capsys.readouterr().err


@pytest.mark.data
def test_nmnist_smoke(tmp_path):
    from tests.helpers import data_path

    ex = load_example("spiking_transformer")
    m = ex.main(
        [
            "--data",
            "nmnist",
            "--root",
            str(data_path("nmnist")),
            "--out",
            str(tmp_path / "n"),
            "--epochs",
            "1",
            "--train-samples",
            "24",
            "--test-samples",
            "12",
            "--embed-dim",
            "16",
            "--heads",
            "2",
        ]
    )
    assert 0.0 <= m["best"]["test_acc"] <= 1.0 and m["chance"] == 0.1


def test_a_diverged_run_stops_naming_the_epoch_and_keeps_no_nan_checkpoint(tmp_path):
    from sampling.finite import NonFiniteError

    ex = load_example("spiking_transformer")
    out = tmp_path / "diverged"
    # lr 1e30: the weights blow up in the first steps; the spiking layers would turn them into silence
    with pytest.raises(NonFiniteError, match=r"spiking_transformer \(epoch 1 train"):
        ex.main(["--out", str(out), "--epochs", "2", "--lr", "1e30", *SMALL])
    assert not (out / "checkpoint.pt").exists() and not (out / "best.pt").exists()
