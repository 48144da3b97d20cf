"""examples/recommend.py --minibatch: LightGCN on sampled neighbourhoods learns, resumes, rejects bad flags."""

import json

import pytest

from tests.helpers import load_example

recommend = load_example("recommend")

SMALL = ["--synthetic-users", "300", "--synthetic-items", "200", "--threads", "1", "--seed", "3"]


def test_minibatch_lightgcn_learns(tmp_path):
    out = tmp_path / "run"
    result = recommend.main(
        ["--minibatch", "--fanouts", "5,5,5", "--epochs", "4", "--eval-every", "2", "--out", str(out), *SMALL]
    )
    assert result["best"]["recall@20"] > 1.5 * result["popularity_baseline"]["recall@20"]
    config = json.loads((out / "config.json").read_text())["config"]
    assert config["fanouts"] == [5, 5, 5]
    resumed = recommend.main(
        [
            "--minibatch",
            "--fanouts",
            "5,5,5",
            "--epochs",
            "5",
            "--eval-every",
            "2",
            "--out",
            str(out),
            "--resume",
            *SMALL,
        ]
    )
    assert resumed["final"]["epoch"] == 5


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--minibatch", "--model", "ultragcn"], "--minibatch applies to lightgcn only"),
        (["--fanouts", "5,5,5"], "--fanouts needs --minibatch"),
        (["--minibatch", "--fanouts", "5,5"], "one fan-out per LightGCN layer (3)"),
        (["--minibatch", "--fanouts", "0,5,5"], "fan-outs >= 1 or -1"),
    ],
)
def test_bad_flags_are_one_line_errors(tmp_path, flags, message, capsys):
    with pytest.raises(SystemExit) as err:
        recommend.main([*flags, "--out", str(tmp_path / "run"), *SMALL])
    assert err.value.code == 2 and message in capsys.readouterr().err
