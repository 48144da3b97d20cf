"""benchmarks/neighbor_sampling.py: the quick CPU run writes every section; the GPU part exits cleanly without a GPU."""

import json

import pytest
import torch

import benchmarks._common as common
from benchmarks import neighbor_sampling as bench


@pytest.mark.slow
def test_quick_cpu_run_writes_every_section(tmp_path, monkeypatch):
    monkeypatch.setattr(common, "RESULTS", tmp_path / "results")
    bench.main(
        ["--quick", "--gpu-only"]
        if torch.cuda.is_available()
        else ["--quick", "--cache", str(tmp_path / "cache"), "--out", str(tmp_path / "out")]
    )
    if torch.cuda.is_available():
        return
    payload = json.loads((tmp_path / "out" / "neighbor_sampling-cpu.json").read_text())
    sections = {"device", "commit", "graph", "uniformity", "sampler", "peers", "gather", "epoch", "full_epoch"}
    assert sections <= set(payload)
    assert all(test["p_value"] > 1e-3 for test in payload["uniformity"].values())  # fixed seeds: deterministic
    assert payload["sampler"]["ratio_ours_over_naive"] > 1
    assert payload["peers"]["pyg_NodeLoader_on_ours"]["batches"] >= 1
    variants = {"plain", "prefetch1", "prefetch2", "prepare_only", "compute_only", "mmap_prefetch1"}
    assert variants <= set(payload["epoch"])
    assert payload["full_epoch"]["seeds"] == payload["full_epoch"]["batches"] * 1000  # quick: one batch of 1000
    assert (tmp_path / "results" / "neighbor_sampling-cpu.json").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message without a GPU")
def test_gpu_only_without_a_gpu_exits_cleanly(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(common, "RESULTS", tmp_path / "results")
    bench.main(["--gpu-only", "--quick", "--out", str(tmp_path / "out")])
    assert "no CUDA device visible" in capsys.readouterr().out
    assert not (tmp_path / "out").exists()
