"""Kernel benchmarks: graphspike's ops beside their competitors and the measured ceilings, one run, one device.

Sections (``--sections``, in this order; the JSON is rewritten after each one, so a run cut short
keeps what it measured):

* ``ceilings``: the peak every byte model is held to. GPU: HBM = one large device-to-device copy
  (bytes read + written); copy engine = one large pinned host -> device copy; zero-copy SM reads =
  graphspike's streaming copy kernel reading pinned host memory with no thread cap (and with the
  gather's default cap). CPU: one large host memory copy (bytes read + written).
* ``model``: the byte model of every kernel at the GPU run's sizes (LIF 4M neurons, SpMM on the
  2M-node power-law graphs and Gowalla, gather of 1M rows): bytes per call and the time that
  traffic takes at the peak (the measured ceilings on a GPU; elsewhere an H200's device-to-device
  copy as measured on this project's lent H200, 4300 GB/s, and an assumed 55 GB/s of PCIe Gen5
  x16 for zero-copy reads), so a CPU-only session can say what a GPU run should show.
* ``lif``: forward + backward of ``cuda_ext.lif_multistep`` vs spikingjelly 2.0
  ``LIFNode(step_mode='m')`` (CPU: its CPU path; GPU: its Triton path and its torch path); on
  CPU ``ours`` is the compiled CPU kernel when built (``ours_backend``), timed beside our PyTorch loop,
  effective GB/s on the minimal traffic model (forward reads x and writes spikes and H; backward
  reads grad and H and writes grad_x: ``T N (4 b + 2 b_opmath)`` bytes).
* ``spmm``: ``cuda_ext.spmm`` vs ``torch.sparse.mm`` (cuSPARSE on the GPU) on a graph whose
  DESTINATION rows follow a power law (heavy rows), one whose sources do, and Gowalla's
  normalised user-item graph (``--root``), F in {16, 64, 256}; GB/s on the byte model
  ``nnz (8 + b_w + F b) + R F b + 8 (R + 1)``; and the edge-weight gradient (fused row-wise dot)
  vs gathering two ``[nnz, F]`` tensors.
* ``gather``: GB/s of useful bytes vs row size (16..1024 B). GPU: ours zero-copy from pinned
  memory, the CPU path (``index_select`` into pinned staging, then a copy), all-in-GPU
  ``index_select``, and ours on a GPU table; with the ceilings above. CPU: ``gather_rows`` (its
  checked CPU path) vs ``torch.index_select``, and the fraction of the host copy peak on the byte
  model ``M (2 row_bytes + 8)``.

Timing: CUDA events around each call after warm-up, median over ``--repeats`` (GPU); wall clock
(median) on CPU. SpMM on the GPU is also timed from CUDA-graph replays (``*_graph_s``), which
leave out the host's per-call launch overhead that dominates small graphs. Ratios are competitor
time / ours. On a GPU the script stops at once (exit 2) when graphspike's compiled extension is
unavailable, unless ``--allow-fallback``.

    python benchmarks/kernels.py                                 # CPU, small sizes
    python benchmarks/kernels.py --root ../shared/data --repeats 7
    python benchmarks/kernels.py --device cuda --root .device/data --out $OUT   # device check
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Callable, Optional

import torch

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import cuda_ext  # noqa: E402
from benchmarks._common import device_name, git_commit  # noqa: E402
from cuda_ext.gather import DEFAULT_MAX_THREADS, gather_rows  # noqa: E402
from cuda_ext.lif import _prepare, lif_multistep  # noqa: E402
from sampling import Graph  # noqa: E402


# ----------------------------------------------------------------------------- timing
def time_fn(fn: Callable[[], object], device: torch.device, repeats: int, warmup: int = 2) -> float:
    """Median seconds per call: CUDA events around each call on a GPU, wall clock on the CPU."""
    for _ in range(warmup):
        fn()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        events = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(repeats)]
        for start, end in events:
            start.record()
            fn()
            end.record()
        torch.cuda.synchronize(device)
        return statistics.median(start.elapsed_time(end) for start, end in events) / 1e3
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def time_graph(fn: Callable[[], object], device: torch.device, repeats: int, inner: int = 3) -> Optional[float]:
    """Median seconds per call of ``fn`` replayed from a CUDA graph of ``inner`` calls: GPU time
    without the host's launch overhead (which the eager timing includes). None if not capturable."""
    if device.type != "cuda":
        return None
    try:
        fn()
        torch.cuda.synchronize(device)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            for _ in range(inner):
                fn()
        return time_fn(graph.replay, device, repeats, warmup=1) / inner
    except RuntimeError as err:  # an op that cannot be captured
        print(f"  (CUDA graph capture failed: {str(err)[:120]})", flush=True)
        torch.cuda.synchronize(device)
        return None


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")


# ----------------------------------------------------------------------------- ceilings
def bench_ceilings(device: torch.device, repeats: int, nbytes: int) -> dict:
    """Measured peaks; ``peak_GBps`` is the one the LIF, SpMM and CPU-gather byte models use."""
    src = torch.empty(nbytes, dtype=torch.uint8, device=device).random_()
    dst = torch.empty_like(src)
    t = time_fn(lambda: dst.copy_(src), device, repeats)
    key = "hbm_copy_GBps" if device.type == "cuda" else "host_copy_GBps"
    out = {"bytes": nbytes, key: 2 * nbytes / t / 1e9, "peak": key}
    out["peak_GBps"] = out[key]
    src = dst = None  # free the buffers before the next allocation
    if device.type != "cuda":
        print(f"ceilings  {key} {out[key]:.1f}", flush=True)
        return out
    ext = cuda_ext._backend.extension()
    host = torch.empty(nbytes, dtype=torch.uint8).random_().pin_memory()
    dst = torch.empty(nbytes, dtype=torch.uint8, device=device)
    t = time_fn(lambda: dst.copy_(host, non_blocking=True), device, repeats)
    out["copy_engine_h2d_GBps"] = nbytes / t / 1e9
    if ext is not None:
        for label, cap in (("sm_read_h2d_GBps", 1 << 30), ("sm_read_h2d_capped_GBps", DEFAULT_MAX_THREADS)):
            t = time_fn(lambda cap=cap: ext.stream_copy(host, dst, cap), device, repeats)
            out[label] = nbytes / t / 1e9
        torch.testing.assert_close(dst.cpu(), host, rtol=0, atol=0)
    print("ceilings  " + "  ".join(f"{k} {v:.1f}" for k, v in out.items() if k.endswith("GBps")), flush=True)
    return out


# ----------------------------------------------------------------------------- byte model
#: Peaks the model uses without a GPU: an H200's device-to-device copy as measured on this
#: project's lent H200 (read + written bytes; /work/.library/device/KINDS.md, 2026-10-28) and
#: an ASSUMED practical PCIe Gen5 x16 rate for SM reads of pinned host memory (not measured).
H200_HBM_COPY_GBPS = 4300.0
ASSUMED_PCIE5_H2D_GBPS = 55.0


def lif_traffic(T: int, n: int, elem: int, opmath: int) -> int:
    """Fewest bytes of LIF forward + backward: forward reads x, writes spikes and H (compute
    dtype); backward reads grad and H and writes grad_x."""
    return T * n * (4 * elem + 2 * opmath)


def byte_model(
    n: int,
    Ts: list[int],
    feats: list[int],
    graphs: dict[str, tuple[int, int, bool]],
    num_index: int,
    hbm_gbps: float,
    h2d_gbps: float,
    measured: bool,
) -> dict:
    """Bytes per call of every kernel at the given sizes, and the time that traffic takes at the
    peaks (``graphs``: name -> (rows, nnz, weighted))."""
    rows: list[dict] = []

    def add(kernel: str, case: str, nbytes: int, peak: float) -> None:
        rows.append(
            {
                "kernel": kernel,
                "case": case,
                "bytes_per_call": nbytes,
                "peak_GBps": peak,
                "time_at_peak_s": nbytes / (peak * 1e9),
            }
        )

    for dtype, elem, opmath in (("float32", 4, 4), ("float16", 2, 4)):
        for T in Ts:
            add("lif fwd+bwd", f"{dtype} T={T} N={n}", lif_traffic(T, n, elem, opmath), hbm_gbps)
    for name, (num_rows, nnz, weighted) in graphs.items():
        for F in feats:
            add(
                "spmm",
                f"{name} rows={num_rows} nnz={nnz} F={F} fp32",
                spmm_traffic_counts(num_rows, nnz, weighted, F, 4),
                hbm_gbps,
            )
            # edge-weight gradient: column ids, one grad row per edge is re-read within a row, one x row per edge
            add("spmm edge-grad", f"{name} F={F} fp32", nnz * (8 + 4 + F * 4) + num_rows * F * 4, hbm_gbps)
    for row_bytes in (16, 64, 128, 256, 1024):
        # zero-copy: every useful byte crosses PCIe once; index (8 B) and output stay on the GPU
        add("gather zero-copy", f"{num_index} rows x {row_bytes} B", num_index * row_bytes, h2d_gbps)
    peaks = (
        "measured in this run"
        if measured
        else f"H200 device copy {hbm_gbps:.0f} GB/s (measured on the lent H200), PCIe {h2d_gbps:.0f} GB/s (assumed)"
    )
    for r in rows:
        print(
            f"model  {r['kernel']:17s} {r['case']:48s} {r['bytes_per_call'] / 1e6:10.1f} MB  "
            f"{r['time_at_peak_s'] * 1e6:9.1f} us at {r['peak_GBps']:.0f} GB/s",
            flush=True,
        )
    return {"peaks": peaks, "hbm_GBps": hbm_gbps, "h2d_GBps": h2d_gbps, "rows": rows}


# ----------------------------------------------------------------------------- LIF
def _sj_lif_runner(x: torch.Tensor, grad: torch.Tensor, implementation: Optional[str]):
    from spikingjelly.activation_based import neuron

    restore = None
    if implementation is not None:
        # spikingjelly reads SJ_LIF_CUDA_IMPLEMENTATION at import; switch its selector in-process.
        from spikingjelly._ops import lif as sj_lif

        sel = sj_lif._selection
        restore = (sel._requested, dict(sel._selections))
        sel._requested = implementation
        sel._selections.clear()
    node = neuron.LIFNode(tau=2.0, step_mode="m")

    def run():
        node.reset()
        x.grad = None
        torch.autograd.backward(node(x), grad)

    return run, restore


def _restore_sj(restore) -> None:
    if restore is not None:
        from spikingjelly._ops import lif as sj_lif

        sj_lif._selection._requested = restore[0]
        sj_lif._selection._selections.clear()
        sj_lif._selection._selections.update(restore[1])


def bench_lif(
    device: torch.device, repeats: int, n: int, dtypes: list[torch.dtype], Ts: list[int], peak_gbps: float | None = None
) -> list[dict]:
    rows = []
    for dtype in dtypes:
        for T in Ts:
            g = torch.Generator(device="cpu").manual_seed(T)
            x = (torch.randn(T, n, generator=g) + 0.5).to(device=device, dtype=dtype).requires_grad_()
            grad = torch.randn(T, n, generator=g).to(device=device, dtype=dtype)

            def ours(backend: str = "auto"):
                x.grad = None
                torch.autograd.backward(lif_multistep(x, backend=backend)[0], grad)  # (spikes, v_last); tau 2

            row = {
                "T": T,
                "neurons": n,
                "dtype": str(dtype).replace("torch.", ""),
                "ours_backend": _prepare("lif_multistep", x, None, None, "auto")[1],
                "ours_s": time_fn(ours, device, repeats),
            }
            if device.type == "cpu" and row["ours_backend"] == "cpu":  # the compiled CPU kernel: also our loop
                row["ours_torch_loop_s"] = time_fn(lambda: ours("torch"), device, repeats)
                row["ours_torch_loop_over_ours"] = row["ours_torch_loop_s"] / row["ours_s"]
            b = x.element_size()
            opm = 8 if dtype == torch.float64 else 4
            row["min_traffic_bytes"] = lif_traffic(T, n, b, opm)
            row["ours_GBps"] = row["min_traffic_bytes"] / row["ours_s"] / 1e9
            if peak_gbps:
                row["ours_fraction_of_peak"] = row["ours_GBps"] / peak_gbps
            impls = [("sj", None)] if device.type == "cpu" else [("sj_triton", "triton"), ("sj_torch", "torch")]
            for label, impl in impls:
                restore = None
                try:
                    run, restore = _sj_lif_runner(x, grad, impl)
                    row[f"{label}_s"] = time_fn(run, device, repeats)
                    row[f"{label}_over_ours"] = row[f"{label}_s"] / row["ours_s"]
                except (ImportError, RuntimeError, AttributeError, ValueError) as err:
                    row[f"{label}_error"] = f"{type(err).__name__}: {err}"[:300]
                finally:
                    _restore_sj(restore)
            rows.append(row)
            extra = "  ".join(f"{k}={v:.3g}" for k, v in row.items() if k.endswith("_over_ours"))
            frac = f", {row['ours_fraction_of_peak']:.0%} of peak" if peak_gbps else ""
            print(
                f"lif  {row['dtype']:8s} T={T:<3d} N={n}  ours {row['ours_s'] * 1e3:8.3f} ms "
                f"({row['ours_GBps']:.1f} GB/s{frac})  {extra}",
                flush=True,
            )
    return rows


# ----------------------------------------------------------------------------- SpMM
def power_law_graph(num_nodes: int, avg_degree: int, skew: str, seed: int, device: torch.device) -> Graph:
    """Random directed graph whose ``skew`` ("dst" or "src") endpoints follow a Zipf-like law of
    exponent ~1 (inverse-CDF sampling of 1/k on [1, num_nodes], popular ids scattered), the other
    endpoint uniform. ``skew="dst"`` gives heavy CSR rows (in-degree hubs)."""
    gen = torch.Generator(device=device).manual_seed(seed)
    num_edges = num_nodes * avg_degree
    uniform = torch.randint(0, num_nodes, (num_edges,), generator=gen, device=device)
    u = torch.rand(num_edges, generator=gen, dtype=torch.float64, device=device)
    skewed = (num_nodes**u).long().clamp_(1, num_nodes) - 1
    skewed = torch.randperm(num_nodes, generator=gen, device=device)[skewed]
    src, dst = (uniform, skewed) if skew == "dst" else (skewed, uniform)
    return Graph.from_edge_index(torch.stack([src, dst]), num_nodes=num_nodes)


def gowalla_graph(root: Path) -> Optional[Graph]:
    path = root / "gowalla" / "train.txt"
    if not path.is_file():
        return None
    users, items = [], []
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) > 1:
            u = int(parts[0])
            users.extend([u] * (len(parts) - 1))
            items.extend(int(p) for p in parts[1:])
    u, i = torch.tensor(users), torch.tensor(items)
    return Graph.bipartite(u, i, int(u.max()) + 1, int(i.max()) + 1).normalize("sym")


def spmm_traffic_counts(rows: int, nnz: int, weighted: bool, features: int, elem: int) -> int:
    """Bytes an SpMM moves when no x row is reused from cache: column ids, weights and one x row
    per edge; the output; indptr."""
    w_bytes = elem if weighted else 0
    return nnz * (8 + w_bytes + features * elem) + rows * features * elem + 8 * (rows + 1)


def spmm_traffic(graph: Graph, features: int, elem: int) -> int:
    return spmm_traffic_counts(graph.num_rows, graph.num_edges, graph.weight is not None, features, elem)


def bench_spmm(
    device: torch.device, repeats: int, graphs: dict[str, Graph], features: list[int], peak_gbps: float | None
) -> list[dict]:
    from cuda_ext.spmm import _edge_grad_op

    rows = []
    for name, graph in graphs.items():
        graph = graph.to(device)
        t_csr = graph.transpose_csr()
        adj = graph.to_torch_sparse()
        max_degree = int((graph.indptr[1:] - graph.indptr[:-1]).max()) if graph.num_rows else 0
        for F in features:
            x = torch.randn(graph.num_cols, F, device=device)
            extra: dict[str, float] = {}
            ours = time_fn(lambda: cuda_ext.spmm(graph, x), device, repeats)
            theirs = time_fn(lambda: torch.sparse.mm(adj, x), device, repeats)
            for label, fn in (
                ("ours_graph_s", lambda: cuda_ext.spmm(graph, x)),
                ("torch_sparse_mm_graph_s", lambda: torch.sparse.mm(adj, x)),
            ):
                replayed = time_graph(fn, device, max(3, repeats // 2))
                if replayed is not None:
                    extra[label] = replayed
            ref = torch.sparse.mm(adj, x)
            rel_err = float((cuda_ext.spmm(graph, x) - ref).abs().max() / ref.abs().max().clamp_min(1e-30))
            del ref
            traffic = spmm_traffic(graph, F, 4)
            row = {
                "graph": name,
                "rows": graph.num_rows,
                "nnz": graph.num_edges,
                "max_row_degree": max_degree,
                "F": F,
                "ours_s": ours,
                "torch_sparse_mm_s": theirs,
                "torch_sparse_mm_over_ours": theirs / ours,
                "traffic_bytes": traffic,
                "ours_GBps": traffic / ours / 1e9,
                "torch_sparse_mm_GBps": traffic / theirs / 1e9,
                "max_abs_err_over_max_abs": rel_err,
            }
            row.update(extra)
            if "ours_graph_s" in extra and "torch_sparse_mm_graph_s" in extra:
                row["graph_replay_ratio"] = extra["torch_sparse_mm_graph_s"] / extra["ours_graph_s"]
            if peak_gbps:
                row["ours_fraction_of_peak"] = row["ours_GBps"] / peak_gbps
                row["torch_sparse_mm_fraction_of_peak"] = row["torch_sparse_mm_GBps"] / peak_gbps
            # edge-weight gradient: fused row-wise dot vs gathering two [nnz, F] tensors
            upstream = torch.randn(graph.num_rows, F, device=device)
            backend = "cuda" if device.type == "cuda" and cuda_ext.extension_available() else "torch"
            ours_w = time_fn(
                lambda: _edge_grad_op(graph.indptr, graph.indices, upstream, x, *t_csr, backend),
                device,
                max(3, repeats // 2),
            )
            gathered_bytes = 2 * graph.num_edges * F * 4
            if gathered_bytes <= (1 << 31):
                rows_e = graph.row

                def two_temporaries():
                    return (upstream.index_select(0, rows_e) * x.index_select(0, graph.indices)).sum(-1)

                row["edge_grad_two_temporaries_s"] = time_fn(two_temporaries, device, max(3, repeats // 2))
                row["edge_grad_two_temporaries_over_ours"] = row["edge_grad_two_temporaries_s"] / ours_w
            row["edge_grad_ours_s"] = ours_w
            row["edge_grad_ours_GBps"] = (graph.num_edges * (8 + 4 + F * 4) + graph.num_rows * F * 4) / ours_w / 1e9
            rows.append(row)
            frac = f" ({row['ours_fraction_of_peak']:.0%} of peak)" if "ours_fraction_of_peak" in row else ""
            print(
                f"spmm {name:13s} F={F:<4d} ours {ours * 1e3:8.3f} ms {row['ours_GBps']:7.1f} GB/s{frac}  "
                f"torch.sparse.mm {theirs * 1e3:8.3f} ms  ratio {row['torch_sparse_mm_over_ours']:.2f}  "
                f"edge-grad {ours_w * 1e3:.3f} ms  err {rel_err:.1e}",
                flush=True,
            )
    return rows


# ----------------------------------------------------------------------------- gather (GPU)
def bench_gather(device: torch.device, repeats: int, num_index: int, table_bytes: int, ceilings: dict) -> list[dict]:
    rows = []
    buffer = torch.empty(table_bytes // 4, dtype=torch.float32).uniform_().pin_memory()  # one pinned table
    for row_bytes in (16, 32, 64, 128, 256, 512, 1024):
        D = row_bytes // 4
        R = buffer.numel() // D
        table = buffer[: R * D].view(R, D)  # [R, D] view of the pinned buffer
        gen = torch.Generator().manual_seed(row_bytes)
        idx_cpu = torch.randint(0, R, (num_index,), generator=gen)
        idx = idx_cpu.to(device)
        moved = num_index * row_bytes
        ours = time_fn(lambda: gather_rows(table, idx, backend="cuda"), device, repeats)
        torch.testing.assert_close(gather_rows(table, idx, backend="cuda").cpu(), table[idx_cpu], rtol=0, atol=0)
        staging = torch.empty(num_index, D).pin_memory()

        def cpu_path():
            torch.index_select(table, 0, idx.cpu(), out=staging)
            return staging.to(device, non_blocking=True)

        cpu_t = time_fn(cpu_path, device, max(3, repeats // 4))
        table_gpu = table.to(device)
        gpu_t = time_fn(lambda: table_gpu.index_select(0, idx), device, repeats)
        ours_dev = time_fn(lambda: gather_rows(table_gpu, idx, backend="cuda"), device, repeats)
        table_gpu = None  # free the GPU copy before the next row size
        row = {
            "row_bytes": row_bytes,
            "num_index": num_index,
            "table_bytes": R * row_bytes,
            "ours_GBps": moved / ours / 1e9,
            "cpu_gather_pinned_copy_GBps": moved / cpu_t / 1e9,
            "all_in_gpu_index_select_GBps": moved / gpu_t / 1e9,
            "ours_device_table_GBps": moved / ours_dev / 1e9,
            "ours_over_cpu_path": cpu_t / ours,
        }
        sm = ceilings.get("sm_read_h2d_GBps")
        if sm:
            row["ours_fraction_of_sm_read"] = row["ours_GBps"] / sm
        rows.append(row)
        frac = f"  {row['ours_fraction_of_sm_read']:.0%} of SM-read" if sm else ""
        print(
            f"gather {row_bytes:5d} B  ours {row['ours_GBps']:6.1f} GB/s{frac}  cpu+copy "
            f"{row['cpu_gather_pinned_copy_GBps']:6.1f}  all-in-GPU {row['all_in_gpu_index_select_GBps']:7.1f}  "
            f"ours(GPU table) {row['ours_device_table_GBps']:7.1f}  x cpu-path {row['ours_over_cpu_path']:.2f}",
            flush=True,
        )
    return rows


def bench_gather_cpu(repeats: int, num_index: int, table_bytes: int, peak_gbps: float | None) -> list[dict]:
    """CPU table and index: ``gather_rows`` (bounds-checked, then ``index_select``) vs ``torch.index_select``."""
    rows = []
    buffer = torch.empty(table_bytes // 4, dtype=torch.float32).uniform_()
    for row_bytes in (16, 32, 64, 128, 256, 512, 1024):
        D = row_bytes // 4
        R = buffer.numel() // D
        table = buffer[: R * D].view(R, D)  # [R, D]
        idx = torch.randint(0, R, (num_index,), generator=torch.Generator().manual_seed(row_bytes))
        torch.testing.assert_close(gather_rows(table, idx), table.index_select(0, idx), rtol=0, atol=0)
        ours = time_fn(lambda table=table, idx=idx: gather_rows(table, idx), torch.device("cpu"), repeats)
        theirs = time_fn(lambda table=table, idx=idx: torch.index_select(table, 0, idx), torch.device("cpu"), repeats)
        traffic = num_index * (2 * row_bytes + 8)  # read each row, write it, read its index
        row = {
            "row_bytes": row_bytes,
            "num_index": num_index,
            "table_bytes": R * row_bytes,
            "ours_s": ours,
            "index_select_s": theirs,
            "index_select_over_ours": theirs / ours,
            "useful_GBps": num_index * row_bytes / ours / 1e9,
            "traffic_bytes": traffic,
            "ours_GBps": traffic / ours / 1e9,
            "index_select_GBps": traffic / theirs / 1e9,
        }
        if peak_gbps:
            row["ours_fraction_of_peak"] = row["ours_GBps"] / peak_gbps
        rows.append(row)
        frac = f" ({row['ours_fraction_of_peak']:.0%} of peak)" if peak_gbps else ""
        print(
            f"gather(cpu) {row_bytes:5d} B  ours {ours * 1e3:8.3f} ms {row['ours_GBps']:6.2f} GB/s{frac}  "
            f"index_select {theirs * 1e3:8.3f} ms  ratio {row['index_select_over_ours']:.2f}",
            flush=True,
        )
    return rows


# ----------------------------------------------------------------------------- main
#: Sizes of the GPU run (also what the byte model describes on any machine).
GPU_NEURONS, GPU_TS, GPU_NODES, GPU_AVG_DEGREE, GPU_NUM_INDEX = 1 << 22, [8, 32], 2_000_000, 16, 1 << 20
FEATURES = [16, 64, 256]
SECTIONS = ("ceilings", "model", "lif", "spmm", "gather")


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--root", type=Path, default=None, help="data root holding gowalla/train.txt (optional)")
    parser.add_argument("--repeats", type=int, default=None, help="timed calls per case (default 20 GPU, 5 CPU)")
    parser.add_argument("--neurons", type=int, default=None, help="LIF neurons (default 65536 CPU, 4M GPU)")
    parser.add_argument("--nodes", type=int, default=None, help="synthetic graph nodes (default 100k CPU, 2M GPU)")
    parser.add_argument("--sections", default=",".join(SECTIONS), help=f"comma-separated subset of {SECTIONS}")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results", help="folder of the JSON")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke run)")
    parser.add_argument(
        "--allow-fallback",
        action="store_true",
        help="on a GPU, run even when the compiled extension is unavailable ('ours' = PyTorch path)",
    )
    args = parser.parse_args(argv)
    sections = [s for s in args.sections.split(",") if s]
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f"--sections: unknown {sorted(unknown)} (choose from {SECTIONS})")

    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda but no CUDA GPU is visible")
    gpu = device.type == "cuda"
    available, reason = cuda_ext.extension_status()
    if gpu and not available and not args.allow_fallback:
        print(
            f"error: graphspike's CUDA extension is unavailable on this GPU machine ({reason}); "
            f"run `python -m cuda_ext build` (or pass --allow-fallback to time the PyTorch paths)",
            file=sys.stderr,
        )
        return 2
    repeats = args.repeats or (20 if gpu else 5)
    n = args.neurons or (GPU_NEURONS if gpu else 1 << 16)
    nodes = args.nodes or (GPU_NODES if gpu else 100_000)
    avg_degree = GPU_AVG_DEGREE if gpu else 10
    Ts, feats = (GPU_TS if gpu else [4, 16, 32]), FEATURES
    num_index = GPU_NUM_INDEX
    table_bytes, ceiling_bytes = (1 << 30, 1 << 30) if gpu else (1 << 28, 1 << 28)
    if args.quick:
        n, nodes, Ts, feats, repeats = 4096, 5000, [4], [16], 2
        num_index, table_bytes, ceiling_bytes = 4096, 1 << 24, 1 << 24

    results: dict[str, object] = {
        "device": device_name(device),
        "device_type": device.type,
        "torch": torch.__version__,
        "commit": git_commit(),
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "repeats": repeats,
        "threads": torch.get_num_threads(),
        "loadavg": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "extension": reason,
        "timing": "CUDA events, median" if gpu else "wall clock, median",
        "note": "ratio = competitor time / ours; GB/s on each section's byte model",
        "sections_done": [],
    }
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"kernels-{'cpu' if not gpu else _slug(str(results['device']))}.json"

    def write(section: str) -> None:
        results["sections_done"].append(section)
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(results, indent=2))
        os.replace(tmp, path)

    print(
        f"device: {results['device']}  torch {torch.__version__}  commit {str(results['commit'])[:10]}  "
        f"extension: {reason}",
        flush=True,
    )
    gowalla = None
    if args.root is not None and ("spmm" in sections or "model" in sections):
        gowalla = gowalla_graph(args.root)
        if gowalla is None:
            print(f"gowalla not found under {args.root}; skipped", flush=True)
    ceilings: dict = {}
    if "ceilings" in sections:
        ceilings = results["ceilings"] = bench_ceilings(device, repeats, ceiling_bytes)
        write("ceilings")
    peak = ceilings.get("peak_GBps")
    if "model" in sections:
        # the GPU run's sizes: measured peaks on a GPU, an H200's otherwise
        power_law = (GPU_NODES, GPU_NODES * GPU_AVG_DEGREE, False)  # (rows, nnz, weighted)
        model_graphs = {"powerlaw_dst": power_law, "powerlaw_src": power_law}
        if gowalla is not None:
            model_graphs["gowalla"] = (gowalla.num_rows, gowalla.num_edges, gowalla.weight is not None)
        measured = gpu and "hbm_copy_GBps" in ceilings and "sm_read_h2d_GBps" in ceilings
        results["model"] = byte_model(
            GPU_NEURONS,
            GPU_TS,
            FEATURES,
            model_graphs,
            GPU_NUM_INDEX,
            ceilings["hbm_copy_GBps"] if measured else H200_HBM_COPY_GBPS,
            ceilings["sm_read_h2d_GBps"] if measured else ASSUMED_PCIE5_H2D_GBPS,
            measured,
        )
        write("model")
    if "lif" in sections:
        dtypes = [torch.float32, torch.float16] if gpu else [torch.float32]
        results["lif"] = bench_lif(device, repeats, n, dtypes, Ts, peak)
        write("lif")
    if "spmm" in sections:
        graphs = {
            "powerlaw_dst": power_law_graph(nodes, avg_degree, "dst", 0, device),
            "powerlaw_src": power_law_graph(nodes, avg_degree, "src", 1, device),
        }
        if gowalla is not None:
            graphs["gowalla"] = gowalla
        results["spmm"] = bench_spmm(device, repeats, graphs, feats, peak)
        write("spmm")
    if "gather" in sections:
        if gpu:
            results["gather"] = bench_gather(device, repeats, num_index, table_bytes, ceilings)
        else:
            results["gather"] = bench_gather_cpu(repeats, num_index, table_bytes, peak)
        write("gather")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
