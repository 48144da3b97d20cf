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
    config = json.loads((out / "config.json").read_text())["config"]
    assert config["model"]["model"] == model and config["preset"] == "synthetic"
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
            rows.append([{k: v for k, v in r.items() if not k.endswith(("seconds", "_per_s"))}
                         for r in csv.DictReader(fh)])
    assert len(rows[0]) == 5 and rows[0] == rows[1]  # every epoch's loss and metrics, bit for bit


def test_resume_may_extend_epochs_and_uses_a_weights_only_checkpoint(tmp_path):
    import torch

    args = ["--model", "ultragcn", "--eval-every", "1", *SMALL]
    full = recommend.main([*args, "--epochs", "3", "--out", str(tmp_path / "full")])
    recommend.main([*args, "--epochs", "2", "--out", str(tmp_path / "part")])
    torch.load(tmp_path / "part" / "checkpoint.pt", weights_only=True)  # loads without executing code
    resumed = recommend.main([*args, "--epochs", "3", "--out", str(tmp_path / "part"), "--resume"])
    assert resumed["final"] == full["final"]


def test_missing_data_says_how_to_obtain_it(tmp_path, capsys):
    for name, expected in (("missing-set", "missing-set must be"), ("ml-1m", "--download (download_dataset) fetches")):
        with pytest.raises(SystemExit) as exc:
            recommend.main(["--data", name, "--root", str(tmp_path), "--out", str(tmp_path / name), *SMALL])
        err = capsys.readouterr().err.strip()
        assert exc.value.code == 2 and "\n" not in err and expected in err, err
