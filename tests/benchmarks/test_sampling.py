"""benchmarks/sampling.py: the quick CPU run writes every section; the GPU part exits cleanly without a GPU."""
import json

import pytest
import torch

import benchmarks._common as common
from benchmarks import sampling as bench


@pytest.mark.slow
def test_quick_cpu_run_writes_every_section(tmp_path, monkeypatch):
    monkeypatch.setattr(common, "RESULTS", tmp_path / "results")
    bench.main(["--quick", "--gpu-only"] if torch.cuda.is_available() else
               ["--quick", "--cache", str(tmp_path / "cache"), "--out", str(tmp_path / "out")])
    if torch.cuda.is_available():
        return
    payload = json.loads((tmp_path / "out" / "sampling-cpu.json").read_text())
    assert {"device", "commit", "graph", "sampler", "peers", "gather", "epoch"} <= set(payload)
    assert payload["sampler"]["ratio_ours_over_naive"] > 1
    assert {"plain", "prefetch1", "prefetch2", "prepare_only", "mmap_prefetch1"} <= set(payload["epoch"])
    assert (tmp_path / "results" / "sampling-cpu.json").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message without a GPU")
def test_gpu_only_without_a_gpu_exits_cleanly(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(common, "RESULTS", tmp_path / "results")
    bench.main(["--gpu-only", "--quick", "--out", str(tmp_path / "out")])
    assert "no CUDA device visible" in capsys.readouterr().out
    assert not (tmp_path / "out").exists()
