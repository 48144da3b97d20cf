"""cuda_ext._build / ``python -m cuda_ext``: loading never compiles and always says why (no compile here)."""
from __future__ import annotations

import json

import pytest
import torch

from cuda_ext import _build
from cuda_ext.__main__ import main


@pytest.fixture
def empty_build_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("GRAPHSPIKE_BUILD_DIR", str(tmp_path))
    return tmp_path


def test_build_dir_honours_env(empty_build_dir):
    assert _build.build_dir() == empty_build_dir


def test_sources_are_the_binding_file_and_every_cu():
    names = [p.name for p in _build.sources()]
    assert names[0] == "bindings.cpp"
    assert {"lif.cu", "spmm.cu", "gather.cu"} <= set(names)
    assert all(p.is_file() for p in _build.sources())


def test_load_without_build_returns_reason(empty_build_dir):
    module, reason = _build.load()
    assert module is None
    if torch.version.cuda is None:
        assert "CPU-only" in reason
    else:
        assert "not built" in reason and "python -m cuda_ext build" in reason


@pytest.mark.skipif(torch.version.cuda is None, reason="stamp checks run only with a CUDA build of torch")
def test_load_rejects_stale_or_broken_stamp(empty_build_dir):
    (empty_build_dir / "graphspike_build.json").write_text(json.dumps({"path": "/nonexistent.so", "fingerprint": "old"}))
    module, reason = _build.load()
    assert module is None and "stale" in reason
    (empty_build_dir / "graphspike_build.json").write_text("{not json")
    module, reason = _build.load()
    assert module is None and "unreadable" in reason


def test_info_command_prints_every_op(empty_build_dir, capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    for op in ("spmm", "lif_multistep", "gather_rows"):
        assert op in out
    assert "extension:" in out


def test_build_command_requires_subcommand():
    with pytest.raises(SystemExit):
        main([])
