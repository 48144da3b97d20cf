"""examples/diffusion.py runs end to end on the bundled digits and writes its run folder."""

from __future__ import annotations

import json

import pytest

from tests.helpers import load_example

pytest.importorskip("sklearn")

TINY = [
    "--steps",
    "2",
    "--eval-every",
    "2",
    "--fid-samples",
    "16",
    "--sample-steps",
    "2",
    "--fid-epochs",
    "1",
    "--T-snn",
    "2",
    "--ch",
    "8",
]


def test_both_models_on_digits(tmp_path):
    ex = load_example("diffusion")
    out = tmp_path / "run"
    metrics = ex.main(["--model", "both", "--out", str(out), *TINY])
    saved = json.loads((out / "metrics.json").read_text())
    assert saved == json.loads(json.dumps(metrics))
    for key in (
        "fid",
        "fid_ann_twin",
        "energy_step_mJ",
        "energy_sample_mJ",
        "energy_sample_mJ_ann_twin",
        "fid_classifier_accuracy",
    ):
        assert saved[key] > 0, key
    assert saved["energy_sample_mJ"] == pytest.approx(2 * saved["energy_step_mJ"])
    assert 0 <= saved["firing_rate"] <= 1 and saved["models"]["ann"]["firing_rate"] is None
    assert (out / "samples_spiking_step2.png").is_file() and (out / "samples_ann_step2.png").is_file()
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["config"]["sddpm"]["T_snn"] == 2 and cfg["config"]["models"] == ["spiking", "ann"]
    # continue the finished run for two more steps
    again = ex.main(["--model", "both", "--out", str(out), "--resume", *TINY[:1], "4", *TINY[2:]])
    assert again["models"]["spiking"]["step"] == 4


def test_threshold_shift_and_ddpm_sampler(tmp_path):
    ex = load_example("diffusion")
    m = ex.main(["--out", str(tmp_path / "r"), "--threshold-shift", "-0.1", "--sampler", "ddpm", *TINY])
    assert m["fid"] > 0 and m["models"]["spiking"]["energy_calls"] == 2


@pytest.mark.parametrize(
    "flags,message",
    [
        (["--T-snn", "0"], "T-snn"),
        (["--sampler", "plms"], "sampler"),
        (["--data", "mnist"], "needs root"),
        (["--threshold-shift", "nan"], "finite"),
    ],
)
def test_bad_flags_are_one_line_errors(tmp_path, capsys, flags, message):
    ex = load_example("diffusion")
    with pytest.raises(SystemExit) as err:
        ex.main(["--out", str(tmp_path / "bad"), *flags])
    assert err.value.code == 2 and message in capsys.readouterr().err


def test_image_size_the_unet_cannot_divide(tmp_path, capsys):
    ex = load_example("diffusion")
    with pytest.raises(SystemExit):
        ex.main(["--out", str(tmp_path / "bad"), "--image-size", "17", *TINY])
    assert "multiples of 2**(len(ch_mult)-1)" in capsys.readouterr().err
