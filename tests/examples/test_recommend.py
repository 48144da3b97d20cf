"""examples/recommend.py end to end on a small synthetic split: outputs, learning, exact resume."""
import csv
import json

import pytest

from tests.helpers import load_example

recommend = load_example("recommend")

SMALL = ["--synthetic-users", "300", "--synthetic-items", "200", "--threads", "1", "--seed", "3"]


@pytest.mark.parametrize("model", ["lightgcn", "ultragcn"])
def test_runs_and_writes_the_run_directory(tmp_path, model):
    out = tmp_path / model
    result = recommend.main(["--model", model, "--epochs", "4", "--eval-every", "2", "--out", str(out), *SMALL])
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["best"]["epoch"] in (2, 4) and saved["final"]["epoch"] == 4
    assert set(saved["best"]) >= {"recall@20", "ndcg@20", "epoch"} and saved["seconds"] > 0
    assert saved["best"]["recall@20"] > 1.5 * saved["popularity_baseline"]["recall@20"]
    assert result["final"] == saved["final"]
    config = json.loads((out / "config.json").read_text())
    assert config["config"]["model"] == model and config["preset"] == "synthetic"
    lines = (out / "metrics.csv").read_text().splitlines()
    assert lines[0].startswith("epoch,") and len(lines) == 1 + 4 + (model == "lightgcn")  # + epoch-0 eval
    assert (out / "checkpoint.pt").exists() and any((out / "tb").iterdir())


def test_resume_continues_exactly(tmp_path):
    args = ["--model", "lightgcn", "--eval-every", "2", *SMALL]
    full = recommend.main([*args, "--epochs", "4", "--out", str(tmp_path / "full")])
    recommend.main([*args, "--epochs", "2", "--out", str(tmp_path / "part")])
    resumed = recommend.main([*args, "--epochs", "4", "--out", str(tmp_path / "part"), "--resume"])
    assert resumed["final"] == full["final"] and resumed["best"] == full["best"]
    rows = []
    for run in ("full", "part"):
        with open(tmp_path / run / "metrics.csv") as fh:
            rows.append([{k: v for k, v in r.items() if not k.endswith("seconds")} for r in csv.DictReader(fh)])
    assert len(rows[0]) == 5 and rows[0] == rows[1]  # every epoch's loss and metrics, bit for bit


def test_bad_flags(tmp_path):
    with pytest.raises(ValueError, match="no lightgcn preset for dataset 'nope'"):
        recommend.main(["--preset", "nope", "--out", str(tmp_path), *SMALL])
    with pytest.raises(SystemExit, match="--resume given but"):
        recommend.main(["--resume", "--out", str(tmp_path / "empty"), *SMALL])
    with pytest.raises(FileNotFoundError, match="no train.txt/test.txt"):
        recommend.main(["--data", "missing-set", "--root", str(tmp_path), "--out", str(tmp_path / "x"), *SMALL])
