"""Every example: bad flags and missing data are one-line CLI errors (exit 2), never a late crash or exit 0;
the shared flags behave the same everywhere."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

from tests.helpers import REPO, load_example

EXAMPLES = (
    "recommend",
    "node_classification",
    "graph_regression",
    "neuromorphic",
    "energy",
    "protein_quality",
    "protein_nested_loto",
    "pipeline_train",
)
MISSING = "/nonexistent/graphspike-data"

# (example, argv, expected text in the one-line error)
BAD = [
    ("recommend", ["--epochs", "-1"], "argument --epochs: expected an integer >= 1 (got '-1')"),
    ("recommend", ["--lr", "0"], "argument --lr: expected a finite number > 0 (got '0')"),
    ("recommend", ["--batch-size", "0"], "argument --batch-size: expected an integer >= 1"),
    ("recommend", ["--eval-every", "-2"], "argument --eval-every: expected an integer >= 0"),
    ("recommend", ["--model", "ultragcn", "--layers", "2"], "--layers applies to lightgcn only"),
    ("recommend", ["--preset", "nope"], "--preset: get_preset: no lightgcn preset for dataset 'nope'"),
    ("recommend", ["--data", "ml-1m", "--root", MISSING], "--download (download_dataset) fetches it"),
    ("recommend", ["--data", "lastfm2", "--root", MISSING], f"lastfm2 must be {MISSING}/lastfm2/train.txt"),
    ("node_classification", ["--epochs", "-1"], "argument --epochs: expected an integer >= 1 (got '-1')"),
    ("node_classification", ["--runs", "0"], "argument --runs: expected an integer >= 1"),
    ("node_classification", ["--data", "cora"], "--data cora needs --root DIR holding ind.cora.*"),
    ("node_classification", ["--data", "reddit"], "argument --data: invalid choice: 'reddit'"),
    ("node_classification", ["--dropout", "1.5"], "argument --dropout: expected a number in [0, 1]"),
    ("node_classification", ["--data", "cora", "--root", MISSING], "--download fetches them"),
    ("graph_regression", ["--epochs", "-1"], "argument --epochs: expected an integer >= 1 (got '-1')"),
    ("graph_regression", ["--epochs", "1"], "argument --epochs: expected an integer >= 2 (got 1)"),
    ("graph_regression", ["--epochs", "3", "--warmup", "3"], "expected fewer warmup epochs than --epochs 3"),
    ("graph_regression", ["--models", "gat"], "argument --models: expected a comma list of ['ckgconv', 'gcn']"),
    ("graph_regression", ["--root", MISSING], "--root must hold zinc_subset_val.npz and zinc_subset_test.npz"),
    ("protein_quality", ["--root", MISSING], "--download fetches ProteinGCN's 4-target set"),
    ("neuromorphic", ["--epochs", "-1"], "argument --epochs: expected an integer >= 1 (got '-1')"),
    ("neuromorphic", ["--T", "0"], "argument --T: expected an integer >= 1 (got '0')"),
    ("neuromorphic", ["--channels", "4,x"], "argument --channels: expected an integer >= 1 (got 'x')"),
    ("neuromorphic", ["--data", "nmnist"], "--data nmnist needs --root DIR"),
    ("neuromorphic", ["--data", "shd", "--root", MISSING], "shd expects /nonexistent/graphspike-data/shd_train.h5"),
    ("energy", ["--T", "0"], "argument --T: expected an integer >= 1 (got '0')"),
    ("energy", ["--input", "2xq"], "argument --input: expected a shape like 1x3x224x224 (got '2xq')"),
    ("energy", ["--resume"], "trains nothing, so there is nothing to resume"),
    ("energy", ["--model", "lightgcn", "--root", MISSING], "--root must be a LightGCN split folder"),
    ("protein_quality", ["--epochs", "-1"], "argument --epochs: expected an integer >= 1 (got '-1')"),
    ("protein_quality", ["--models", "sgcn,transformer"], "expected a comma list of ['sgcn', 'sgcn_s', 'gcn']"),
    ("protein_quality", ["--contacts", "voronoi", "--near-native", "5"], "backbone atoms only"),
    ("protein_quality", ["--synthetic-targets", "3", "--targets", "syn000,nope"], "--targets ['nope'] not in the data"),
    ("protein_quality", ["--root", MISSING], "<decoy>.pdb.error"),
    ("protein_nested_loto", ["--epochs", "-1"], "argument --epochs: expected an integer >= 1 (got '-1')"),
    ("protein_nested_loto", ["--dropouts", "0.1,high"], "argument --dropouts: expected a finite number >= 0"),
    ("protein_nested_loto", ["--dropouts", "0.1,1.0"], "argument --dropouts: expected values in [0, 1)"),
    ("protein_nested_loto", ["--seeds", "a"], "argument --seeds: expected an integer >= 0 (got 'a')"),
    ("protein_nested_loto", ["--synthetic-targets", "2"], "need >= 3 targets for an inner split (got 2)"),
    ("protein_nested_loto", ["--root", MISSING], "--root must hold one folder per target"),
    ("pipeline_train", ["--epochs", "0"], "argument --epochs: expected an integer >= 1 (got '0')"),
    ("pipeline_train", ["--dropout", "1.0"], "argument --dropout: expected a number in [0, 1) (got 1.0)"),
    ("pipeline_train", ["--schedule", "zb"], "argument --schedule: invalid choice: 'zb'"),
    ("pipeline_train", ["--data", "cora"], "--data cora needs --root DIR holding ind.cora.*"),
    ("pipeline_train", ["--data", "cora", "--root", MISSING], "--root must hold the raw files ind.cora."),
    ("recommend", ["--download"], "--download needs a real --data"),
    ("node_classification", ["--download"], "--download needs --data cora|citeseer|pubmed and --root DIR"),
    ("graph_regression", ["--download"], "--download needs --root DIR"),
    ("neuromorphic", ["--download"], "--download needs a real --data"),
    ("protein_quality", ["--download"], "--download needs --root DIR"),
    ("protein_nested_loto", ["--download"], "--download needs --root DIR"),
]
SHARED = [
    (["--seed", "-1"], "argument --seed: expected an integer >= 0 (got '-1')"),
    (["--threads", "0"], "argument --threads: expected an integer >= 1 (got '0')"),
    (["--device", "tpu"], "argument --device: expected auto, cpu, cuda or cuda:N (got 'tpu')"),
    (["--resume", "--overwrite"], "argument --overwrite: not allowed with argument --resume"),
    (["--resume"], "holds no run to continue"),
]
if not torch.cuda.is_available():
    SHARED.append((["--device", "cuda"], "argument --device: cuda requested but CUDA is not available"))


def one_line_error(capsys, example: str, argv: list[str]) -> str:
    with pytest.raises(SystemExit) as exc:
        load_example(example).main(argv)
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 2, err
    assert "\n" not in err and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("example, argv, expected", BAD, ids=[f"{e}:{' '.join(a)}" for e, a, _ in BAD])
def test_bad_flags_and_missing_data(tmp_path, capsys, example, argv, expected):
    err = one_line_error(capsys, example, [*argv, "--out", str(tmp_path / "run")])
    assert expected in err, err
    assert not (tmp_path / "run" / "config.json").exists()


@pytest.mark.parametrize("example", EXAMPLES)
@pytest.mark.parametrize("argv, expected", SHARED, ids=[" ".join(a) for a, _ in SHARED])
def test_shared_flags(tmp_path, capsys, example, argv, expected):
    if example == "energy" and argv == ["--resume"]:
        expected = "nothing to resume"
    assert expected in one_line_error(capsys, example, [*argv, "--out", str(tmp_path / "run")])


@pytest.mark.parametrize("example", EXAMPLES)
def test_a_second_run_into_the_same_folder_is_refused(tmp_path, capsys, example):
    out = tmp_path / "run"
    out.mkdir()
    (out / ".graphspike-run").write_text(example)
    (out / "config.json").write_text("{}")
    assert "holds another run; pass --resume to continue it, --overwrite to replace it" in one_line_error(
        capsys, example, ["--out", str(out)]
    )


def test_real_command_line_exit_status_and_single_line(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(REPO / "examples" / "recommend.py"), "--epochs", "-1", "--out", str(tmp_path / "r")],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip() == (
        "recommend.py: error: argument --epochs: expected an integer >= 1 (got '-1') (see --help)"
    )
