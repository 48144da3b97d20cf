"""benchmarks/kernels.py: stops at once on a GPU machine without the compiled extension, and writes
its JSON after every section (a later failure keeps what was measured). CPU, --quick sizes."""

from __future__ import annotations

import json

import pytest
import torch

from benchmarks import kernels


def test_fails_fast_on_a_gpu_without_the_extension(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(kernels.cuda_ext, "extension_status", lambda: (False, "not built (simulated)"))

    def must_not_run(*args, **kwargs):
        raise AssertionError("a section ran although the extension is unavailable")

    for section in ("bench_ceilings", "bench_lif", "bench_spmm", "bench_gather"):
        monkeypatch.setattr(kernels, section, must_not_run)
    assert kernels.main(["--device", "cuda", "--quick", "--out", str(tmp_path)]) == 2
    assert "extension is unavailable on this GPU machine (not built (simulated))" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_results_are_written_after_each_section(monkeypatch, tmp_path):
    def broken_spmm(*args, **kwargs):
        raise RuntimeError("simulated failure in the SpMM section")

    monkeypatch.setattr(kernels, "bench_spmm", broken_spmm)
    with pytest.raises(RuntimeError, match="simulated failure"):
        kernels.main(["--device", "cpu", "--quick", "--sections", "lif,spmm", "--out", str(tmp_path)])
    written = json.loads((tmp_path / "kernels-cpu.json").read_text())
    assert written["sections_done"] == ["lif"]
    assert written["lif"][0]["ours_s"] > 0 and written["lif"][0]["min_traffic_bytes"] > 0


def test_quick_cpu_run_writes_every_cpu_section(tmp_path):
    assert kernels.main(["--device", "cpu", "--quick", "--sections", "spmm", "--out", str(tmp_path)]) == 0
    written = json.loads((tmp_path / "kernels-cpu.json").read_text())
    assert written["sections_done"] == ["spmm"]
    graphs = {row["graph"] for row in written["spmm"]}
    assert graphs == {"powerlaw_dst", "powerlaw_src"}
    for row in written["spmm"]:
        assert row["max_abs_err_over_max_abs"] < 1e-5 and row["edge_grad_ours_s"] > 0


def test_destination_power_law_has_heavy_rows():
    g = kernels.power_law_graph(20_000, 8, "dst", 0, torch.device("cpu"))
    degrees = g.indptr[1:] - g.indptr[:-1]
    assert int(degrees.max()) > 50 * float(degrees.float().mean())  # in-degree hubs: heavy CSR rows
    g = kernels.power_law_graph(20_000, 8, "src", 0, torch.device("cpu"))
    degrees = g.indptr[1:] - g.indptr[:-1]
    assert int(degrees.max()) < 5 * float(degrees.float().mean())  # rows stay light


def test_cpu_ceiling_byte_model_and_gather(tmp_path):
    sections = "ceilings,model,gather"
    assert kernels.main(["--device", "cpu", "--quick", "--sections", sections, "--out", str(tmp_path)]) == 0
    written = json.loads((tmp_path / "kernels-cpu.json").read_text())
    assert written["sections_done"] == ["ceilings", "model", "gather"]
    assert written["ceilings"]["peak"] == "host_copy_GBps" and written["ceilings"]["peak_GBps"] > 0
    model = {(row["kernel"], row["case"]): row for row in written["model"]["rows"]}
    assert "assumed" in written["model"]["peaks"]  # no GPU: an H200's peaks, the PCIe one assumed
    # byte models at the GPU run's sizes, by hand: LIF T N (4 b + 2 b_opmath); SpMM without a weight
    # nnz (8 + F b) + R F b + 8 (R + 1); zero-copy gather M row_bytes
    assert model[("lif fwd+bwd", "float32 T=8 N=4194304")]["bytes_per_call"] == 8 * 4194304 * (4 * 4 + 2 * 4)
    assert model[("lif fwd+bwd", "float16 T=8 N=4194304")]["bytes_per_call"] == 8 * 4194304 * (4 * 2 + 2 * 4)
    rows, nnz = 2_000_000, 32_000_000
    spmm = model[("spmm", f"powerlaw_dst rows={rows} nnz={nnz} F=64 fp32")]
    assert spmm["bytes_per_call"] == nnz * (8 + 64 * 4) + rows * 64 * 4 + 8 * (rows + 1)
    assert spmm["time_at_peak_s"] == pytest.approx(spmm["bytes_per_call"] / (kernels.H200_HBM_COPY_GBPS * 1e9))
    assert model[("gather zero-copy", "1048576 rows x 128 B")]["bytes_per_call"] == (1 << 20) * 128
    gather = written["gather"]
    assert [row["row_bytes"] for row in gather] == [16, 32, 64, 128, 256, 512, 1024]
    for row in gather:
        assert row["traffic_bytes"] == row["num_index"] * (2 * row["row_bytes"] + 8)
        assert row["ours_s"] > 0 and row["index_select_over_ours"] > 0 and row["ours_fraction_of_peak"] > 0


def test_commit_stamp_from_the_environment(monkeypatch):
    from benchmarks._common import git_commit

    monkeypatch.setenv("GRAPHSPIKE_COMMIT", "0123abc-dirty")  # a tree copied without .git
    assert git_commit() == "0123abc-dirty"
