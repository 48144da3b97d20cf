"""Sampling-layer benchmark: neighbour sampler throughput, feature gathering by placement, loader epochs.

CPU part (default; time it under ``/work/bin/heavy --exclusive``, ``--threads 1``):

* uniformity: chi-square tests of the sampler's draws on destinations of known degree -- each
  neighbour's inclusion count against ``trials * fanout / degree`` (without replacement; also on a
  hub of degree 10^5), the frequencies of the ``C(d, k)`` subsets against uniform, and positions
  drawn with replacement against uniform (statistic, degrees of freedom, p-value);
* sampler: sampled edges/s of ``NeighborSampler.sample_blocks`` against the per-node Python
  reference (``sampling.neighbor_reference``) on the same seeds, and which peer samplers could run
  here (PyG's ``NeighborLoader`` needs pyg-lib or torch-sparse; DGL must import) -- with the
  edges/s of PyG's own ``NodeLoader`` driving our sampler (``NeighborSampler(data, fanouts)`` as
  its ``node_sampler``: PyG ``Data`` batches, features and labels sliced by PyG);
* gather: input-feature rows/s and GB/s for the ``"cpu"`` and ``"mmap"`` placements;
* epoch: GraphSAGE minibatch epochs on the synthetic power-law graph (``--edges``, 10^7 by
  default) -- the plain loop (preparation and compute timed apart), the prefetching loader (1 and
  2 batches ahead; 2 ahead from 2 worker threads), preparation only, compute only (training steps on batches prepared
  beforehand, cycling through ``--cached-batches`` of them), and ``"mmap"`` features --
  interleaved over ``--rounds`` rounds (medians), with the peak resident memory of each epoch.
  "Prefetching hides sampling" is ``epoch(prefetch) / max(prepare_only, compute_only) <= 1.1``;
* full_epoch: one whole epoch over every training node with ``"mmap"`` features (prefetch 2),
  its time, edges/s and peak resident memory (``VmRSS``, split into anonymous memory and the
  mapped file's resident pages).

GPU part (``--gpu-only``; also run after the CPU part when a GPU is visible): a graph whose
feature table exceeds a GPU memory budget (``--gpu-budget-gb``, enforced for the ``"pinned"`` and
``"cpu"`` runs with ``torch.cuda.set_per_process_memory_fraction``), built on the GPU, sampled on
the GPU; epoch time with features ``"pinned"`` (zero-copy) vs ``"cpu"`` (gather then copy) vs
``"cuda"`` (all in GPU memory, over the budget: the reference), with and without prefetching, and
GPU sampler edges/s with the structure in GPU memory vs pinned (UVA). Sized for about two minutes
on an H200 with the defaults. Without a GPU, ``--gpu-only`` prints why and exits 0.

Results: ``benchmarks/results/sampling-{cpu,cuda}.json`` (stamped with device and commit, rewritten
after every section), and copies in ``--out`` when given.

    /work/bin/heavy --exclusive python benchmarks/neighbor_sampling.py --threads 1
    python benchmarks/neighbor_sampling.py --gpu-only --out $OUT
"""

from __future__ import annotations

import argparse
import importlib
import itertools
import json
import os
import random
import statistics
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import Any, Callable, Optional

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import stamp, write_result  # noqa: E402
from graphnets.conv import SAGEConv  # noqa: E402
from sampling import FeatureStore, Loader, NeighborSampler, synthetic_node_dataset  # noqa: E402
from sampling.neighbor_reference import neighbor_sample_reference  # noqa: E402
from sampling.synthetic import community_features, powerlaw_community_graph  # noqa: E402

SECTIONS = ("uniformity", "sampler", "gather", "epoch", "full_epoch")


CPU = torch.device("cpu")


def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--edges", type=float, default=1e7, help="edges of the CPU synthetic graph")
    p.add_argument("--dim", type=int, default=128, help="feature width (CPU part)")
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--fanouts", default="15,10")
    p.add_argument("--batch-size", type=int, default=1024)
    p.add_argument("--sampler-batches", type=int, default=20, help="batches timed for sampler edges/s")
    p.add_argument("--naive-batches", type=int, default=2, help="batches timed for the per-node reference")
    p.add_argument("--epoch-batches", type=int, default=40, help="batches per timed epoch (CPU)")
    p.add_argument("--rounds", type=int, default=3, help="rounds of the interleaved epoch variants (medians)")
    p.add_argument("--cached-batches", type=int, default=8, help="prepared batches the compute-only epoch cycles")
    p.add_argument("--uniformity-trials", type=int, default=20000, help="destinations per chi-square test")
    p.add_argument(
        "--sections",
        default=",".join(SECTIONS),
        help="CPU sections to run; a subset writes neighbor_sampling-<sections>-cpu.json (e.g. full_epoch alone, "
        "for its peak memory in a fresh process)",
    )
    p.add_argument("--threads", type=int, default=1, help="torch intra-op threads (CPU part)")
    p.add_argument("--gpu-threads", type=int, default=os.cpu_count(), help="torch intra-op threads (GPU part)")
    p.add_argument("--cache", type=Path, default=Path(".cache/sampling-bench"), help="folder for the mmap table")
    p.add_argument("--gpu-only", action="store_true", help="run only the GPU part (exits 0 without a GPU)")
    p.add_argument("--gpu-budget-gb", type=float, default=4.0, help="GPU memory budget for pinned/cpu runs")
    p.add_argument("--gpu-feature-gb", type=float, default=6.0, help="feature table size (over the budget)")
    p.add_argument("--gpu-dim", type=int, default=256)
    p.add_argument("--gpu-degree", type=int, default=10, help="mean degree of the GPU graph")
    p.add_argument("--gpu-batches", type=int, default=60, help="batches per timed GPU epoch")
    p.add_argument("--quick", action="store_true", help="tiny sizes (CI and dry runs)")
    p.add_argument("--out", type=Path, default=None, help="also write the JSON results here")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    args.fanouts = [int(k) for k in args.fanouts.split(",")]
    args.sections = [v for v in args.sections.split(",") if v]
    if not args.sections or not set(args.sections) <= set(SECTIONS):
        p.error(
            f"--sections: expected a comma-separated subset of {','.join(SECTIONS)} (got {','.join(args.sections)})"
        )
    if args.quick:
        args.edges, args.dim, args.hidden = 2e5, 32, 32
        args.sampler_batches, args.naive_batches, args.epoch_batches, args.rounds = 4, 1, 4, 1
        args.cached_batches, args.uniformity_trials = 2, 2000
        args.gpu_budget_gb, args.gpu_feature_gb, args.gpu_batches = 0.25, 0.4, 8
    return args


class SAGE(nn.Module):
    """GraphSAGE (mean) over sampled blocks, one block per layer."""

    def __init__(self, dims: list[int]) -> None:
        super().__init__()
        self.convs = nn.ModuleList(SAGEConv(a, b) for a, b in zip(dims[:-1], dims[1:]))

    def forward(self, blocks, x):
        for i, (conv, block) in enumerate(zip(self.convs, blocks)):
            x = conv(x, block)
            x = x.relu() if i < len(self.convs) - 1 else x
        return x


class PeakRSS:
    """Largest VmRSS (bytes) seen while the block runs, polled every 50 ms; ``peak_anon`` and
    ``peak_file`` are the largest anonymous and file-backed parts (mapped feature pages)."""

    def __enter__(self) -> "PeakRSS":
        self.peak = self.peak_anon = self.peak_file = 0
        self._sample()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        rss = _status("VmRSS", "RssAnon", "RssFile")
        self.peak = max(self.peak, rss["VmRSS"])
        self.peak_anon = max(self.peak_anon, rss["RssAnon"])
        self.peak_file = max(self.peak_file, rss["RssFile"])

    def _poll(self) -> None:
        while not self._stop.wait(0.05):
            self._sample()

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()


def _status(*keys: str) -> dict[str, int]:
    """Fields of ``/proc/self/status`` in bytes (0 when absent)."""
    out = dict.fromkeys(keys, 0)
    for line in Path("/proc/self/status").read_text().splitlines():
        key = line.split(":")[0]
        if key in out:
            out[key] = int(line.split()[1]) * 1024
    return out


def _hwm() -> int:
    return _status("VmHWM")["VmHWM"]


class Results:
    """The JSON payload, rewritten after every section."""

    def __init__(self, args: argparse.Namespace, device: str) -> None:
        self.device, self.out = device, args.out
        partial = device == "cpu" and list(args.sections) != list(SECTIONS)
        self.name = "neighbor_sampling" + ("-" + "-".join(args.sections) if partial else "")
        self.payload: dict[str, Any] = {
            "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
        }

    def add(self, key: str, value: Any, sub: Optional[str] = None) -> None:
        """Set ``payload[key]`` (or ``payload[key][sub]``), write the files, print the new value."""
        if sub is None:
            self.payload[key] = value
        else:
            self.payload.setdefault(key, {})[sub] = value
        path = write_result(self.name, self.payload, self.device)
        if self.out is not None:
            self.out.mkdir(parents=True, exist_ok=True)
            (self.out / path.name).write_text(json.dumps({**stamp(self.device), **self.payload}, indent=2) + "\n")
        print(f"{key}{'.' + sub if sub else ''}: {json.dumps(value)}", flush=True)


def _sync(device: torch.device) -> Callable[[], None]:
    return torch.cuda.synchronize if device.type == "cuda" else (lambda: None)


# --- CPU part --------------------------------------------------------------------------------
def _star_rows(num_rows: int, degree: int):
    """``num_rows`` destinations with ``degree`` distinct in-neighbours each (the rest are leaves)."""
    from sampling import Graph

    n = num_rows + degree * num_rows
    indptr = torch.full((n + 1,), num_rows * degree, dtype=torch.int64)
    indptr[: num_rows + 1] = torch.arange(num_rows + 1) * degree
    return Graph(indptr, torch.arange(num_rows, n), validate=False)


def _positions(degree: int, fanout: int, rows: int, seed: int, replace: bool = False) -> torch.Tensor:
    """``[rows, fanout]`` positions within each destination's row drawn by the sampler."""
    graph = _star_rows(rows, degree)
    (block,) = NeighborSampler(graph, [fanout], replace=replace).sample_blocks(
        torch.arange(rows), torch.Generator().manual_seed(seed)
    )
    return (block.edge_ids - graph.indptr[:rows].repeat_interleave(fanout)).view(rows, fanout)


def _chisquare(counts: torch.Tensor, expected: Optional[torch.Tensor] = None) -> dict[str, float]:
    from scipy import stats

    test = stats.chisquare(counts.double().numpy(), None if expected is None else expected.double().numpy())
    return {
        "statistic": float(test.statistic),
        "dof": counts.numel() - 1,
        "p_value": float(test.pvalue),
        "draws": int(counts.sum()),
    }


def bench_uniformity(args, res: Results) -> None:
    """Chi-square tests of the sampler's draws (see the module docstring)."""
    trials = args.uniformity_trials
    out: dict[str, Any] = {}
    for degree, fanout in ((10, 3), (40, 5), (1000, 10)):
        pos = _positions(degree, fanout, trials, seed=degree)
        distinct = bool((pos[:, 1:] > pos[:, :-1]).all())  # sorted and without repeats
        counts = torch.bincount(pos.reshape(-1), minlength=degree)
        expected = torch.full((degree,), trials * fanout / degree, dtype=torch.float64)
        out[f"inclusion_d{degree}_k{fanout}"] = {**_chisquare(counts, expected), "distinct_in_every_row": distinct}
    hub_degree, hub_fanout, hub_draws = 100_000, 8, max(trials // 20, 50)
    graph = _star_rows(1, hub_degree)
    sampler = NeighborSampler(graph, [hub_fanout])
    hub = torch.cat(
        [
            sampler.sample_blocks(torch.tensor([0]), torch.Generator().manual_seed(i))[0].edge_ids
            for i in range(hub_draws)
        ]
    )
    bins = 100  # positions pooled into 100 equal ranges: expected count per bin stays >= 5
    counts = torch.bincount(hub * bins // hub_degree, minlength=bins)
    out[f"inclusion_hub_d{hub_degree}_k{hub_fanout}_100bins"] = _chisquare(counts)
    for degree, fanout in ((5, 2), (6, 3)):
        pos = _positions(degree, fanout, trials, seed=100 + degree)
        subsets = {s: i for i, s in enumerate(itertools.combinations(range(degree), fanout))}
        codes = torch.tensor([subsets[tuple(r)] for r in pos.tolist()])
        out[f"subsets_d{degree}_k{fanout}"] = _chisquare(torch.bincount(codes, minlength=len(subsets)))
    pos = _positions(6, 4, trials, seed=7, replace=True)
    out["replace_d6_k4_positions"] = _chisquare(torch.bincount(pos.reshape(-1), minlength=6))
    res.add("uniformity", out)


def bench_sampler(data, args, res: Results) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(args.seed + 1)
    batches = [
        data.train[torch.randperm(data.train.numel(), generator=gen)[: args.batch_size]]
        for _ in range(args.sampler_batches)
    ]
    sampler = NeighborSampler(data.graph, args.fanouts)
    sampler.sample_blocks(batches[0], torch.Generator().manual_seed(0))  # warm-up (scratch arrays)
    t0, edges, inputs = time.perf_counter(), 0, []
    for i, seeds in enumerate(batches):
        blocks = sampler.sample_blocks(seeds, torch.Generator().manual_seed(i))
        edges += sum(b.num_edges for b in blocks)
        inputs.append(blocks[0].src_nodes)
    ours_s = time.perf_counter() - t0
    t0, naive_edges = time.perf_counter(), 0
    for i, seeds in enumerate(batches[: args.naive_batches]):
        blocks = neighbor_sample_reference(data.graph, seeds.tolist(), args.fanouts, rng=random.Random(i))
        naive_edges += sum(b.num_edges for b in blocks)
    naive_s = time.perf_counter() - t0
    ours, naive = edges / ours_s, naive_edges / naive_s
    res.add(
        "sampler",
        {
            "ours_edges_per_s": ours,
            "ours_seconds_per_batch": ours_s / len(batches),
            "naive_edges_per_s": naive,
            "ratio_ours_over_naive": ours / naive,
            "edges_per_batch": edges / len(batches),
        },
    )
    res.add("peers", {**peer_status(), "pyg_NodeLoader_on_ours": pyg_node_loader(data, batches, args)})
    return inputs


def pyg_node_loader(data, batches: list[torch.Tensor], args) -> dict[str, float]:
    """PyG's ``NodeLoader`` with our sampler as ``node_sampler``: sampled edges/s of whole PyG batches
    (subgraph sampling, relabelling, ``x``/``y`` sliced by PyG from an in-memory ``Data``)."""
    from torch_geometric.data import Data
    from torch_geometric.loader import NodeLoader

    g = data.graph
    dst = torch.arange(g.num_nodes).repeat_interleave(g.indptr[1:] - g.indptr[:-1])
    pyg = Data(edge_index=torch.stack([g.indices, dst]), y=data.labels, num_nodes=g.num_nodes)
    t0 = time.perf_counter()
    sampler = NeighborSampler(pyg, args.fanouts, generator=torch.Generator().manual_seed(args.seed))
    build_s = time.perf_counter() - t0
    order = torch.randperm(data.train.numel(), generator=torch.Generator().manual_seed(args.seed))
    seeds = data.train[order[: len(batches) * args.batch_size]]  # PyG batches need distinct seeds
    next(iter(NodeLoader(pyg, node_sampler=sampler, input_nodes=seeds, batch_size=args.batch_size)))  # warm-up
    loader = NodeLoader(pyg, node_sampler=sampler, input_nodes=seeds, batch_size=args.batch_size, shuffle=False)
    t0, edges, count = time.perf_counter(), 0, 0
    for batch in loader:
        edges += batch.num_edges
        count += 1
    dt = time.perf_counter() - t0
    return {
        "edges_per_s": edges / dt,
        "seconds_per_batch": dt / max(count, 1),
        "batches": count,
        "sampler_from_Data_seconds": build_s,
    }


def peer_status() -> dict[str, str]:
    """Which peer samplers run here, and why not."""
    out = {}
    try:
        from torch_geometric.data import Data
        from torch_geometric.loader import NeighborLoader

        d = Data(x=torch.zeros(4, 1), edge_index=torch.tensor([[0, 1, 2], [1, 2, 3]]))
        with warnings.catch_warnings():  # "Using 'NeighborSampler' without a 'pyg-lib' installation is deprecated"
            warnings.simplefilter("ignore", UserWarning)
            next(iter(NeighborLoader(d, num_neighbors=[2], batch_size=2)))
        out["pyg_NeighborLoader"] = "runs (not timed here yet)"
    except ImportError as err:
        out["pyg_NeighborLoader"] = f"cannot run: {err}"
    try:
        importlib.import_module("dgl")
        out["dgl"] = "imports (not timed here yet)"
    except Exception as err:  # dgl raises assorted errors against new torch
        out["dgl"] = f"cannot run: {type(err).__name__}: {err}"
    return out


def bench_gather(stores: dict[str, FeatureStore], inputs: list[torch.Tensor], res: Results) -> None:
    out = {}
    rows = sum(t.numel() for t in inputs)
    for name, store in stores.items():
        t0 = time.perf_counter()
        for idx in inputs:
            store.gather(idx)
        dt = time.perf_counter() - t0
        out[name] = {"rows_per_s": rows / dt, "GB_per_s": rows * store.shape[1] * 4 / dt / 1e9}
    res.add("gather", out)


def run_epoch(
    loader: "Loader | list",
    model: nn.Module,
    opt: torch.optim.Optimizer,
    *,
    compute: bool = True,
    device: torch.device = CPU,
) -> dict[str, float]:
    """One epoch; ``prepare`` is time spent waiting for the loader, ``compute`` in the training step."""
    sync = _sync(device)
    prepare = compute_s = 0.0
    edges = seeds = 0
    sync()
    t_start = t = time.perf_counter()
    it = iter(loader)
    while True:
        try:
            batch = next(it)
        except StopIteration:
            break
        sync()
        t1 = time.perf_counter()
        prepare += t1 - t
        if compute:
            loss = nn.functional.cross_entropy(model(batch.blocks, batch.x), batch.y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sync()
        edges += batch.num_edges
        seeds += batch.seeds.numel()
        t = time.perf_counter()
        compute_s += t - t1
    total = time.perf_counter() - t_start
    return {
        "seconds": total,
        "prepare_seconds": prepare,
        "compute_seconds": compute_s,
        "edges_per_s": edges / total,
        "seeds_per_s": seeds / total,
    }


def bench_epochs(data, stores: dict[str, FeatureStore], args, res: Results) -> None:
    """Epoch variants interleaved over ``--rounds`` rounds (medians), so machine noise hits all alike."""
    n_seeds = min(data.train.numel(), args.epoch_batches * args.batch_size)
    seeds = data.train[:n_seeds]
    sampler = NeighborSampler(data.graph, args.fanouts)
    torch.manual_seed(args.seed)
    model = SAGE([args.dim, args.hidden, data.num_classes])
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    res.add("epoch", len(Loader(sampler, None, seeds, batch_size=args.batch_size)), "batches")
    res.add("epoch", list(os.getloadavg()), "loadavg_at_start")  # other processes on the machine

    def loader(store, prefetch, workers=1):
        return Loader(
            sampler,
            store,
            seeds,
            labels=data.labels,
            batch_size=args.batch_size,
            prefetch=prefetch,
            num_workers=workers,
            generator=torch.Generator().manual_seed(args.seed),
        )

    variants = {
        "plain": ("cpu", 0, True),
        "prefetch1": ("cpu", 1, True),
        "prefetch2": ("cpu", 2, True),
        "prefetch2_workers2": ("cpu", 2, True),
        "prepare_only": ("cpu", 0, False),
        "compute_only": ("cached", 0, True),
        "mmap_prefetch1": ("mmap", 1, True),
    }
    run_epoch(loader(stores["cpu"], 1), model, opt)  # warm-up (allocator, scratch arrays, page cache)
    epoch_len = len(loader(None, 0))
    cached = list(itertools.islice(loader(stores["cpu"], 0), args.cached_batches))
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in variants}
    for _ in range(args.rounds):
        for name, (store, prefetch, compute) in variants.items():
            source = (
                [cached[i % len(cached)] for i in range(epoch_len)]
                if store == "cached"
                else loader(stores[store], prefetch, 2 if name.endswith("workers2") else 1)
            )
            with PeakRSS() as rss:
                stats = run_epoch(source, model, opt, compute=compute)
            runs[name].append({**stats, "peak_rss_GB": rss.peak / 1e9})
    out = {}
    for name, rs in runs.items():
        out[name] = {key: statistics.median(r[key] for r in rs) for key in rs[0]}
        out[name]["all_seconds"] = [r["seconds"] for r in rs]
        res.add("epoch", out[name], name)
    bound = max(out["prepare_only"]["seconds"], out["compute_only"]["seconds"])
    for name in ("prefetch1", "prefetch2", "prefetch2_workers2"):
        res.add("epoch", out[name]["seconds"] / bound, f"{name}_over_max_prepare_compute")
        res.add("epoch", out["plain"]["seconds"] / out[name]["seconds"], f"{name}_speedup_over_plain")
    res.add("epoch", _hwm() / 1e9, "process_peak_rss_GB")
    res.add("epoch", list(os.getloadavg()), "loadavg_at_end")


def bench_full_epoch(data, store: FeatureStore, args, res: Results) -> None:
    """One whole epoch over every training node, features read through the memory map."""
    sampler = NeighborSampler(data.graph, args.fanouts)
    torch.manual_seed(args.seed)
    model = SAGE([args.dim, args.hidden, data.num_classes])
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = Loader(
        sampler,
        store,
        data.train,
        labels=data.labels,
        batch_size=args.batch_size,
        prefetch=2,
        generator=torch.Generator().manual_seed(args.seed),
    )
    before = _status("VmRSS", "RssAnon", "RssFile")
    with PeakRSS() as rss:
        stats = run_epoch(loader, model, opt)
    res.add(
        "full_epoch",
        {
            **stats,
            "rss_before_GB": {k: v / 1e9 for k, v in before.items()},
            "batches": len(loader),
            "seeds": data.train.numel(),
            "feature_GB": data.features.numel() * 4 / 1e9,
            "peak_rss_GB": rss.peak / 1e9,
            "peak_rss_anon_GB": rss.peak_anon / 1e9,
            "peak_rss_file_GB": rss.peak_file / 1e9,
            "process_peak_rss_GB": _hwm() / 1e9,
        },
    )


def cpu_part(args) -> None:
    res = Results(args, "cpu")
    t0 = time.perf_counter()
    args.cache.mkdir(parents=True, exist_ok=True)
    data = synthetic_node_dataset(
        int(args.edges), torch.Generator().manual_seed(args.seed), feature_dim=args.dim, root=args.cache
    )
    feats = data.features_path
    res.add(
        "graph",
        {
            "num_nodes": data.graph.num_nodes,
            "num_edges": data.graph.num_edges,
            "max_degree": int((data.graph.indptr[1:] - data.graph.indptr[:-1]).max()),
            "feature_GB": data.features.numel() * 4 / 1e9,
            "build_seconds": time.perf_counter() - t0,
        },
    )
    sections = set(args.sections)
    stores = {"mmap": FeatureStore(feats, "mmap")}
    if sections & {"gather", "epoch"}:
        stores["cpu"] = FeatureStore(feats, "cpu")
    if "uniformity" in sections:
        bench_uniformity(args, res)
    if sections & {"sampler", "gather"}:
        inputs = bench_sampler(data, args, res)
    if "gather" in sections:
        bench_gather(stores, inputs, res)
    if "epoch" in sections:
        bench_epochs(data, stores, args, res)
    if "full_epoch" in sections:
        bench_full_epoch(data, stores["mmap"], args, res)
    for store in stores.values():
        store.close()


# --- GPU part --------------------------------------------------------------------------------
def gpu_part(args) -> None:
    if not torch.cuda.is_available():
        print("sampling benchmark: no CUDA device visible; the GPU part needs one (skipped)")
        return
    dev = torch.device("cuda")
    torch.set_num_threads(args.gpu_threads)  # the "cpu" placement gathers on the host
    res = Results(args, "cuda")
    gen = torch.Generator().manual_seed(args.seed)
    n = int(args.gpu_feature_gb * 2**30 / (args.gpu_dim * 4))
    t0 = time.perf_counter()
    graph, labels = powerlaw_community_graph(n * args.gpu_degree, gen, num_nodes=n, device=dev)
    x = community_features(labels.cpu(), args.gpu_dim, gen, device=dev)
    train = torch.randperm(n, generator=gen)[: args.gpu_batches * args.batch_size]
    total = torch.cuda.get_device_properties(dev).total_memory
    budget = int(args.gpu_budget_gb * 2**30)
    res.add(
        "gpu_graph",
        {
            "num_nodes": n,
            "num_edges": graph.num_edges,
            "feature_GB": x.numel() * 4 / 2**30,
            "gpu_budget_GB": args.gpu_budget_gb,
            "build_seconds": time.perf_counter() - t0,
        },
    )
    sampler = NeighborSampler(graph, args.fanouts)
    out: dict[str, Any] = {}
    for placement, prefetch in (("pinned", 2), ("cpu", 2), ("pinned", 0), ("cpu", 0), ("cuda", 2)):
        fraction = 1.0 if placement == "cuda" else min(1.0, budget / total)
        torch.cuda.empty_cache()
        torch.cuda.set_per_process_memory_fraction(fraction, dev)
        torch.manual_seed(args.seed)
        model = SAGE([args.gpu_dim, args.hidden, int(labels.max()) + 1]).to(dev)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        t1 = time.perf_counter()
        with FeatureStore(x, placement, device=dev) as store:
            setup = time.perf_counter() - t1
            loader = Loader(
                sampler,
                store,
                train,
                labels=labels,
                batch_size=args.batch_size,
                prefetch=prefetch,
                generator=torch.Generator().manual_seed(args.seed),
            )
            run_epoch(loader, model, opt, device=dev)  # warm-up epoch
            torch.cuda.reset_peak_memory_stats(dev)
            stats = run_epoch(loader, model, opt, device=dev)
        stats.update(
            setup_seconds=setup, gpu_peak_GB=torch.cuda.max_memory_allocated(dev) / 2**30, gpu_memory_fraction=fraction
        )
        out[f"{placement}_prefetch{prefetch}"] = stats
        res.add("gpu_epoch", stats, f"{placement}_prefetch{prefetch}")
    torch.cuda.set_per_process_memory_fraction(1.0, dev)
    for prefetch in (2, 0):
        pinned, cpu = out[f"pinned_prefetch{prefetch}"]["seconds"], out[f"cpu_prefetch{prefetch}"]["seconds"]
        res.add("gpu_epoch", cpu / pinned, f"cpu_over_pinned_prefetch{prefetch}")
    res.add(
        "gpu_epoch", out["pinned_prefetch2"]["seconds"] / out["cuda_prefetch2"]["seconds"], "pinned_over_cuda_prefetch2"
    )
    res.add("gpu_sampler", gpu_sampler(graph.to("cpu"), train, args))


def gpu_sampler(graph, train: torch.Tensor, args) -> dict[str, float]:
    out = {}
    for structure in ("cuda", "pinned"):
        sampler = NeighborSampler(graph, args.fanouts, device="cuda", structure=structure)
        batches = train[: 20 * args.batch_size].cuda().split(args.batch_size)
        sampler.sample_blocks(batches[0], torch.Generator("cuda").manual_seed(0))
        torch.cuda.synchronize()
        t0, edges = time.perf_counter(), 0
        for i, seeds in enumerate(batches):
            edges += sum(b.num_edges for b in sampler.sample_blocks(seeds, torch.Generator("cuda").manual_seed(i)))
        torch.cuda.synchronize()
        out[f"{structure}_edges_per_s"] = edges / (time.perf_counter() - t0)
        sampler.close()
    return out


def main(argv: Optional[list[str]] = None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    if not args.gpu_only:
        cpu_part(args)
    gpu_part(args)


if __name__ == "__main__":
    main()
