"""Kernel benchmarks: graphspike's ops beside their competitors, in one run, on one device.

CPU (always available):
  * LIF forward+backward: ``cuda_ext.lif_multistep`` (PyTorch path) vs spikingjelly 2.0
    ``LIFNode(step_mode='m')`` (its CPU implementation), T in {4, 16, 32}.
  * SpMM: ``cuda_ext.spmm`` vs ``torch.sparse.mm`` on a power-law synthetic graph and, with
    ``--root``, the Gowalla user-item graph (LightGCN split), F in {16, 64, 256}.
GPU (when one is visible), additionally:
  * LIF vs spikingjelly's Triton path and its torch path, fp32 and fp16, ~4M neurons, with
    effective GB/s against the minimal-traffic model (fwd reads x, writes spikes and H;
    bwd reads grad and H, writes grad_x);
  * SpMM GB/s against ``nnz * (8 + F b) + R F b`` bytes, graph larger than L2;
  * gather GB/s vs row size (16..1024 B): ours (zero-copy), CPU index_select + pinned copy,
    all-in-GPU index_select, the copy engine (one large pinned copy) and the SM-read ceiling
    (our kernel on a sequential index).

Prints medians of ``--repeats`` runs and ratios (competitor time / ours), and writes
``benchmarks/results/kernels-<device>.json`` stamped with device, torch version, git commit
and date. Timings on a shared machine are noisy; the JSON records the load average.

    python benchmarks/kernels.py                # CPU, small default sizes (about a minute)
    python benchmarks/kernels.py --root ../shared/data --repeats 7
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
from cuda_ext.lif import lif_multistep  # noqa: E402
from sampling import Graph  # noqa: E402
from benchmarks._common import device_name, git_commit  # noqa: E402


# ----------------------------------------------------------------------------- timing
def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_fn(fn: Callable[[], object], device: torch.device, repeats: int, warmup: int = 1) -> float:
    """Median wall time in seconds (CUDA-synchronised)."""
    for _ in range(warmup):
        fn()
    _sync(device)
    times = []
    for _ in range(repeats):
        _sync(device)
        start = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


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


def bench_lif(device: torch.device, repeats: int, n: int, dtypes: list[torch.dtype], Ts: list[int]) -> list[dict]:
    rows = []
    for dtype in dtypes:
        for T in Ts:
            g = torch.Generator(device="cpu").manual_seed(T)
            x = (torch.randn(T, n, generator=g) + 0.5).to(device=device, dtype=dtype).requires_grad_()
            grad = torch.randn(T, n, generator=g).to(device=device, dtype=dtype)

            def ours():
                x.grad = None
                torch.autograd.backward(lif_multistep(x)[0], grad)

            row = {"T": T, "neurons": n, "dtype": str(dtype).replace("torch.", ""),
                   "ours_s": time_fn(ours, device, repeats)}
            b = x.element_size()
            opm = 4 if dtype in (torch.float16, torch.bfloat16, torch.float32) else 8
            traffic = T * n * (4 * b + 2 * opm)
            row["min_traffic_bytes"] = traffic
            row["ours_GBps"] = traffic / row["ours_s"] / 1e9
            impls = [("sj", None)] if device.type == "cpu" else [("sj_triton", "triton"), ("sj_torch", "torch")]
            for label, impl in impls:
                try:
                    run, restore = _sj_lif_runner(x, grad, impl)
                    row[f"{label}_s"] = time_fn(run, device, repeats)
                    row[f"{label}_over_ours"] = row[f"{label}_s"] / row["ours_s"]
                    if restore is not None:
                        from spikingjelly._ops import lif as sj_lif

                        sj_lif._selection._requested = restore[0]
                        sj_lif._selection._selections.clear()
                        sj_lif._selection._selections.update(restore[1])
                except (ImportError, RuntimeError, AttributeError) as err:
                    row[f"{label}_error"] = str(err)
            rows.append(row)
            extra = "  ".join(f"{k}={v:.3g}" for k, v in row.items() if k.endswith("_over_ours"))
            print(f"lif  {row['dtype']:8s} T={T:<3d} N={n}  ours {row['ours_s'] * 1e3:8.2f} ms "
                  f"({row['ours_GBps']:.1f} GB/s)  {extra}", flush=True)
    return rows


# ----------------------------------------------------------------------------- SpMM
def power_law_graph(num_nodes: int, avg_degree: int, gen: torch.Generator) -> Graph:
    """Directed graph whose source popularity follows a Zipf-like law (exponent ~1)."""
    num_edges = num_nodes * avg_degree
    dst = torch.randint(0, num_nodes, (num_edges,), generator=gen)
    # Inverse-CDF sampling of a truncated power law on [1, num_nodes].
    u = torch.rand(num_edges, generator=gen, dtype=torch.float64)
    src = (num_nodes ** u).long().clamp_(1, num_nodes) - 1
    src = torch.randperm(num_nodes, generator=gen)[src]  # scatter the popular ids
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


def bench_spmm(device: torch.device, repeats: int, graphs: dict[str, Graph], features: list[int]) -> list[dict]:
    rows = []
    for name, graph in graphs.items():
        graph = graph.to(device)
        adj = graph.to_torch_sparse()
        if adj.layout != torch.sparse_csr:
            adj = adj.to_sparse_csr()
        for F in features:
            x = torch.randn(graph.num_cols, F, device=device)
            ours = time_fn(lambda: cuda_ext.spmm(graph, x), device, repeats)
            theirs = time_fn(lambda: torch.sparse.mm(adj, x), device, repeats)
            w_bytes = 0 if graph.weight is None else 4
            traffic = graph.num_edges * (8 + w_bytes + F * 4) + graph.num_rows * F * 4
            row = {"graph": name, "rows": graph.num_rows, "nnz": graph.num_edges, "F": F, "ours_s": ours,
                   "torch_sparse_mm_s": theirs, "torch_sparse_mm_over_ours": theirs / ours,
                   "traffic_bytes": traffic, "ours_GBps": traffic / ours / 1e9}
            rows.append(row)
            print(f"spmm {name:10s} F={F:<4d} ours {ours * 1e3:8.2f} ms ({row['ours_GBps']:.1f} GB/s)  "
                  f"torch.sparse.mm {theirs * 1e3:8.2f} ms  ratio {row['torch_sparse_mm_over_ours']:.2f}", flush=True)
    return rows


# ----------------------------------------------------------------------------- gather (GPU)
def bench_gather(device: torch.device, repeats: int, num_index: int, table_bytes: int) -> list[dict]:
    from cuda_ext.gather import gather_rows, pin_memory_inplace

    rows = []
    # Copy-engine ceiling: one large pinned host -> device copy.
    big = torch.empty(min(table_bytes, 1 << 30), dtype=torch.uint8).pin_memory()
    dst = torch.empty_like(big, device=device)
    ce = time_fn(lambda: dst.copy_(big, non_blocking=True), device, repeats)
    ce_gbps = big.numel() / ce / 1e9
    print(f"gather copy-engine H2D: {ce_gbps:.1f} GB/s", flush=True)
    del big, dst
    for row_bytes in (16, 32, 64, 128, 256, 512, 1024):
        D = row_bytes // 4
        R = max(table_bytes // row_bytes, num_index)
        table = torch.empty(R, D).uniform_()
        handle = pin_memory_inplace(table)
        try:
            gen = torch.Generator().manual_seed(row_bytes)
            idx_cpu = torch.randint(0, R, (num_index,), generator=gen)
            idx = idx_cpu.to(device)
            seq = torch.arange(num_index, device=device)
            moved = num_index * row_bytes
            ours = time_fn(lambda: gather_rows(table, idx, backend="cuda"), device, repeats)
            sm_seq = time_fn(lambda: gather_rows(table, seq, backend="cuda"), device, repeats)
            staging = torch.empty(num_index, D).pin_memory()

            def cpu_path():
                torch.index_select(table, 0, idx.cpu(), out=staging)
                return staging.to(device, non_blocking=True)

            cpu_t = time_fn(cpu_path, device, repeats)
            table_gpu = table.to(device)
            gpu_t = time_fn(lambda: table_gpu.index_select(0, idx), device, repeats)
            del table_gpu
            torch.testing.assert_close(gather_rows(table, idx, backend="cuda"), table[idx_cpu].to(device))
            row = {"row_bytes": row_bytes, "num_index": num_index, "ours_GBps": moved / ours / 1e9,
                   "sm_read_sequential_GBps": moved / sm_seq / 1e9, "cpu_gather_pinned_copy_GBps": moved / cpu_t / 1e9,
                   "all_in_gpu_GBps": moved / gpu_t / 1e9, "copy_engine_GBps": ce_gbps,
                   "ours_over_cpu_path": cpu_t / ours, "ours_fraction_of_sm_read": sm_seq / ours,
                   "cuda_view_index_select": "not measured: torch has no public CUDA view of pinned host memory"}
            rows.append(row)
            print(f"gather {row_bytes:5d} B  ours {row['ours_GBps']:6.1f} GB/s  SM-seq {row['sm_read_sequential_GBps']:6.1f}  "
                  f"cpu+copy {row['cpu_gather_pinned_copy_GBps']:6.1f}  all-in-GPU {row['all_in_gpu_GBps']:7.1f}  "
                  f"x cpu-path {row['ours_over_cpu_path']:.2f}", flush=True)
        finally:
            handle.unpin()
    return rows


# ----------------------------------------------------------------------------- main
def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--root", type=Path, default=None, help="data root holding gowalla/ (optional)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--neurons", type=int, default=None, help="LIF neurons (default 65536 CPU, 4M GPU)")
    parser.add_argument("--nodes", type=int, default=None, help="synthetic graph nodes (default 100k CPU, 2M GPU)")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (CI smoke run)")
    args = parser.parse_args(argv)

    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda but no CUDA GPU is visible")
    gpu = device.type == "cuda"
    if gpu and not cuda_ext.extension_available():
        print("warning: CUDA extension not built (python -m cuda_ext build); 'ours' is the PyTorch path", flush=True)
    n = args.neurons or (1 << 22 if gpu else 1 << 16)
    nodes = args.nodes or (2_000_000 if gpu else 100_000)
    Ts = [4, 16, 32]
    feats = [16, 64, 256]
    if args.quick:
        n, nodes, Ts, feats, args.repeats = 4096, 5000, [4], [16], 2

    results: dict[str, object] = {
        "device": device_name(device), "device_type": device.type, "torch": torch.__version__,
        "commit": git_commit(), "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "repeats": args.repeats, "threads": torch.get_num_threads(),
        "loadavg": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "extension": cuda_ext.extension_status()[1], "note": "medians; ratio = competitor time / ours",
    }
    print(f"device: {results['device']}  torch {torch.__version__}  commit {results['commit'][:10]}", flush=True)
    results["lif"] = bench_lif(device, args.repeats, n, [torch.float32, torch.float16] if gpu else [torch.float32], Ts)
    gen = torch.Generator().manual_seed(0)
    graphs = {"powerlaw": power_law_graph(nodes, 16 if gpu else 10, gen)}
    if args.root is not None:
        gowalla = gowalla_graph(args.root)
        if gowalla is None:
            print(f"gowalla not found under {args.root}; skipped", flush=True)
        else:
            graphs["gowalla"] = gowalla
    results["spmm"] = bench_spmm(device, args.repeats, graphs, feats)
    if gpu:
        results["gather"] = bench_gather(device, args.repeats, num_index=1 << 20 if not args.quick else 4096,
                                         table_bytes=(1 << 30) if not args.quick else (1 << 24))
    args.out.mkdir(parents=True, exist_ok=True)
    slug = "cpu" if not gpu else "".join(c if c.isalnum() else "-" for c in results["device"].lower()).strip("-")
    path = args.out / f"kernels-{slug}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(results, indent=2))
    os.replace(tmp, path)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
