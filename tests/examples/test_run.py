"""examples/_run.py: one-line CLI errors, the run-folder policy, atomic weights-only checkpoints."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch

from tests.helpers import REPO, load_example

run_mod = load_example("_run")


def parse(argv, **kw):
    p = run_mod.example_parser("Test example.\n\nMore text.", out="runs/t", **kw)
    p.add_argument("--epochs", type=run_mod.positive_int, default=2)
    p.add_argument("--lr", type=run_mod.positive_float, default=1e-3)
    p.add_argument("--models", type=run_mod.choice_list(["a", "b"]), default=["a"])
    return p.parse_args(argv)


def one_line_error(capsys, fn, *args, **kwargs) -> str:
    with pytest.raises(SystemExit) as exc:
        fn(*args, **kwargs)
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "error:" in err, err
    return err


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["--epochs", "-1"], "argument --epochs: expected an integer >= 1 (got '-1')"),
        (["--epochs", "0"], "expected an integer >= 1 (got '0')"),
        (["--epochs", "2.5"], "expected an integer >= 1 (got '2.5')"),
        (["--lr", "nan"], "expected a finite number > 0 (got 'nan')"),
        (["--lr=-1e-3"], "expected a finite number > 0 (got '-1e-3')"),
        (["--seed", "-3"], "argument --seed: expected an integer >= 0"),
        (["--threads", "0"], "argument --threads: expected an integer >= 1"),
        (["--models", "a,c"], "expected a comma list of ['a', 'b'] (got 'c')"),
        (["--models", "a,a"], "at most once"),
        (["--device", "gpu"], "expected auto, cpu, cuda or cuda:N (got 'gpu')"),
        (["--resume", "--overwrite"], "not allowed with argument"),
        (["--nope"], "unrecognized arguments: --nope"),
    ],
)
def test_bad_flags_are_one_line_errors(capsys, argv, expected):
    assert expected in one_line_error(capsys, parse, argv)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error raised without a GPU")
def test_cuda_without_gpu_is_a_cli_error(capsys):
    err = one_line_error(capsys, parse, ["--device", "cuda"])
    assert "cuda requested but CUDA is not available" in err and "--device cpu" in err
    assert parse([]).device == "cpu"  # auto


def test_parser_defaults_and_device_auto():
    a = parse([])
    assert (a.out, a.resume, a.overwrite, a.seed, a.threads, a.epochs) == ("runs/t", False, False, 0, None, 2)
    assert a.device == ("cuda" if torch.cuda.is_available() else "cpu")
    assert parse(["--models", "b, a"]).models == ["b", "a"]


def _run(tmp_path, *extra, name="t"):
    args = parse(["--out", str(tmp_path / "r"), *extra])
    return run_mod.Run(args, name=name, resumable=("epochs",))


def test_folder_policy(tmp_path, capsys):
    run = _run(tmp_path)
    assert f"run folder: {tmp_path / 'r'}" in capsys.readouterr().out
    run.write_config({"x": 1})
    run.log({"epoch": 1, "loss": 0.5}, step=1)
    run.finish({"loss": float("nan")})
    out = capsys.readouterr().out
    assert "epoch: 1  loss: 0.5" in out and out.strip().endswith("tb/)")
    assert json.loads((tmp_path / "r" / "metrics.json").read_text()) == {"loss": None}
    assert json.loads((tmp_path / "r" / "config.json").read_text())["config"] == {"x": 1}
    assert (tmp_path / "r" / "metrics.csv").read_text().splitlines() == ["epoch,loss", "1,0.5"]
    # a second run into the same folder is refused ...
    assert "holds another run; pass --resume" in one_line_error(capsys, _run, tmp_path)
    # ... --resume needs a checkpoint ...
    assert "holds no checkpoint.pt" in one_line_error(capsys, _run, tmp_path, "--resume")
    # ... --overwrite clears it: one TensorBoard events file, not two
    run = _run(tmp_path, "--overwrite")
    assert not (tmp_path / "r" / "metrics.csv").exists()
    run.write_config()
    run.log({"epoch": 1, "loss": 0.25}, step=1)
    run.close()
    assert len(list((tmp_path / "r" / "tb").glob("events.out.tfevents*"))) == 1


def test_foreign_folders_are_never_written_or_deleted(tmp_path, capsys):
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "thesis.tex").write_text("precious")
    for flags in ((), ("--overwrite",), ("--resume",)):
        assert "was not made by an example" in one_line_error(capsys, _run, tmp_path, *flags)
    assert (tmp_path / "r" / "thesis.tex").read_text() == "precious"
    (tmp_path / "f").write_text("x")
    args = parse(["--out", str(tmp_path / "f")])
    assert "is a file" in one_line_error(capsys, run_mod.Run, args)


def test_resume_restores_rows_rng_and_refuses_other_settings(tmp_path, capsys):
    run = _run(tmp_path)
    run.write_config()
    run.log({"epoch": 1, "loss": 1.0}, step=1)
    run.checkpoint({"w": torch.ones(3), "epoch": 1}, step=1)
    expected = torch.rand(4)  # what the run would draw next
    run.log({"epoch": 2, "loss": 0.5}, step=2)  # logged after the checkpoint: dropped on resume
    run.close()
    capsys.readouterr()
    err = one_line_error(capsys, lambda: _run(tmp_path, "--resume", "--lr", "0.1").resume())
    assert "--lr 0.001 -> 0.1" in err
    args = parse(["--out", str(tmp_path / "r"), "--resume", "--epochs", "5"])
    err = one_line_error(capsys, lambda: run_mod.Run(args, name="t").resume())  # epochs fixed unless declared
    assert "--epochs 2 -> 5" in err
    run = _run(tmp_path, "--resume", "--epochs", "5")  # epochs may change
    state = run.resume()
    assert state["epoch"] == 1 and torch.equal(state["w"], torch.ones(3))
    assert torch.equal(torch.rand(4), expected)
    assert run.rows == [{"epoch": 1, "loss": 1.0}]
    assert (tmp_path / "r" / "metrics.csv").read_text().splitlines() == ["epoch,loss", "1,1.0"]
    run.close()
    assert len(list((tmp_path / "r" / "tb").glob("events.out.tfevents*"))) == 1


def test_corrupt_foreign_and_code_carrying_checkpoints(tmp_path, capsys):
    path = tmp_path / "c.pt"
    run_mod.save_checkpoint(path, {"w": torch.zeros(2)}, example="a")
    assert "is a checkpoint of 'a', not of 'b'" in one_line_error(capsys, run_mod.load_checkpoint, path, example="b")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert f"checkpoint {path} cannot be read" in one_line_error(capsys, run_mod.load_checkpoint, path)
    torch.save({"model": torch.zeros(2)}, path)  # a plain state dict: no format
    assert "is not a checkpoint of a graphspike example" in one_line_error(capsys, run_mod.load_checkpoint, path)
    torch.save({"format": run_mod.CHECKPOINT_FORMAT, "obj": _Evil()}, path)
    err = one_line_error(capsys, run_mod.load_checkpoint, path)
    assert "refused: weights only" in err and not (tmp_path / "pwned").exists()
    with pytest.raises(TypeError, match=r"checkpoint\['state'\]\['cfg'\] is a _Evil"):
        run_mod.save_checkpoint(path, {"cfg": _Evil()}, example="a")


class _Evil:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


KILL_SCRIPT = textwrap.dedent("""
    import io, os, signal, sys
    import torch
    sys.path.insert(0, {examples!r})
    import _run

    args = _run.example_parser(None, out="r").parse_args(["--out", sys.argv[1]])
    run = _run.Run(args, name="killtest")
    run.write_config()
    run.checkpoint({{"w": torch.full((100_000,), 1.0), "epoch": 1}}, step=1)
    if sys.argv[2] == "mid-write":  # die with half of the new checkpoint on disk
        real = torch.save
        def dying_save(obj, fh, *a, **k):
            buf = io.BytesIO(); real(obj, buf); data = buf.getvalue()
            fh.write(data[: len(data) // 2]); fh.flush(); os.fsync(fh.fileno())
            os.kill(os.getpid(), signal.SIGKILL)
        torch.save = dying_save
    else:  # die after the whole new file is written, before the rename
        os.replace = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)
    run.checkpoint({{"w": torch.full((100_000,), 2.0), "epoch": 2}}, step=2)
    print("not reached")
""")


@pytest.mark.parametrize("moment", ["mid-write", "before-rename"])
def test_killed_during_checkpoint_write_resumes_from_previous(tmp_path, moment, capsys):
    script = tmp_path / "kill.py"
    script.write_text(KILL_SCRIPT.format(examples=str(REPO / "examples")))
    out = tmp_path / "r"
    proc = subprocess.run(
        [sys.executable, str(script), str(out), moment],
        check=False,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.returncode == -9, proc.stderr
    assert "not reached" not in proc.stdout
    assert (out / "checkpoint.pt.part").exists()  # the interrupted write
    args = run_mod.example_parser(None, out="r").parse_args(["--out", str(out), "--resume"])
    state = run_mod.Run(args, name="killtest").resume()
    assert state["epoch"] == 1 and torch.equal(state["w"], torch.full((100_000,), 1.0))
    assert not (out / "checkpoint.pt.part").exists()


def test_progress_bar_hidden_when_stderr_is_not_a_terminal():
    bar = run_mod.progress(range(3))
    assert bar.disable and list(bar) == [0, 1, 2]


def test_fail_is_one_line(capsys):
    err = one_line_error(capsys, run_mod.fail, "data missing; pass --download")
    assert err.endswith("error: data missing; pass --download")
