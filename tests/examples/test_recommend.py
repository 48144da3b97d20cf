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
            rows.append(
                [{k: v for k, v in r.items() if not k.endswith(("seconds", "_per_s"))} for r in csv.DictReader(fh)]
            )
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


def test_recbole_data_errors_give_advice_the_cli_can_follow(tmp_path, capsys):
    folder = tmp_path / "data" / "ml"
    folder.mkdir(parents=True)
    header = "user_id:token\titem_id:token\n"
    rows = "".join(f"u{u}\ti{i}\n" for u in range(6) for i in range(u, u + 25))
    (folder / "ml.train.inter").write_text(header + rows)
    (folder / "ml.test.inter").write_text(header + "u1\ti0\nnew\ti1\n")  # 'new' has no train row
    args = ["--data", "ml", "--root", str(tmp_path / "data"), "--epochs", "1", "--preset", "none", "--threads", "1"]
    with pytest.raises(SystemExit) as err:
        recommend.main([*args, "--out", str(tmp_path / "a")])
    msg = capsys.readouterr().err
    assert err.value.code == 2 and "user 'new'" in msg and "pass --cold-users drop" in msg
    result = recommend.main([*args, "--out", str(tmp_path / "b"), "--cold-users", "drop"])  # the advice works
    assert result["final"]["epoch"] == 1
    (folder / "ml.train.inter").write_text(header + rows + "u1\ti1\n")  # a repeated row
    with pytest.raises(SystemExit):
        recommend.main([*args, "--out", str(tmp_path / "c"), "--cold-users", "drop"])
    assert "pass --drop-duplicates" in capsys.readouterr().err
    recommend.main([*args, "--out", str(tmp_path / "d"), "--cold-users", "drop", "--drop-duplicates"])


def test_a_diverged_run_stops_instead_of_keeping_a_nan_epoch_as_best(tmp_path, capsys):
    # issue 19, case 2: NaN embeddings scored recall 0.49 and could become the "best" epoch
    out = tmp_path / "div"
    with pytest.raises(SystemExit) as err:
        recommend.main(["--lr", "1e30", "--epochs", "3", "--out", str(out), *SMALL])
    msg = capsys.readouterr().err
    assert err.value.code == 1
    assert "LightGCNTrainer.train_epoch: non-finite loss nan at epoch 1, batch" in msg
    assert "keeps the checkpoint of epoch 0" in msg
    assert not (out / "metrics.json").exists()  # no result is reported for the diverged run
    rows = (out / "metrics.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in rows[1:]] == ["0"]  # only the finite epoch-0 evaluation was logged
