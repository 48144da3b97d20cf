"""Energy estimate of a spiking or artificial model: per-layer MAC/AC, firing rates, mJ, ANN twin.

Counts one inference through PyTorch's dispatcher (``spiking.energy.estimate_energy``) and prices
it with Horowitz's 45 nm figures (fp32: MAC 4.6 pJ, AC 0.9 pJ). Default (no download, a few
seconds): the neuromorphic example's ``SpikingConvNet`` on synthetic N-MNIST-sized event frames.

    python examples/energy.py                                   # SpikingConvNet, T=8, synthetic events
    python examples/energy.py --model snn --data-root ../shared/data/nmnist   # a real N-MNIST sample
    python examples/energy.py --model snn --checkpoint runs/nmnist/best.pt    # trained weights
    python examples/energy.py --model torchvision:resnet18 --input 1x3x224x224
    python examples/energy.py --model lightgcn              # per recommendation query
    python examples/energy.py --model lightgcn --data-root ../shared/data/gowalla
    python examples/energy.py --model spikinggcn --T 100
    python examples/energy.py --model spikinggcn --data-root ../shared/data/planetoid --nodes 500
    python examples/energy.py --model mypkg.nets:build --input 4x2x8x8 --T 4

``--model`` is a graphspike model name (``snn``, ``snn-mlp``, ``lightgcn``, ``spikinggcn``), a
``torchvision:NAME`` (random weights) or ``module:callable`` returning an ``nn.Module``.
Writes ``<out>/config.json``, ``report.json`` (``--json`` overrides the path; ``{"total": ..,
"layers": [..], "ann": ..}``), ``metrics.json`` (totals), ``metrics.csv`` (one row per layer),
TensorBoard scalars in ``<out>/tb`` and ``energy.png`` (``--plot``; SNN vs ANN per layer).
"""
from __future__ import annotations

import argparse
import csv
import importlib
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import torch
from torch import nn
from torch.utils.tensorboard import SummaryWriter
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from spiking.energy import estimate_ann_energy, estimate_energy, plot_energy, preset_names  # noqa: E402

GRAPHSPIKE_MODELS = ("snn", "snn-mlp", "lightgcn", "spikinggcn")


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--model", default="snn",
                   help=f"one of {list(GRAPHSPIKE_MODELS)}, torchvision:NAME, or module:callable")
    p.add_argument("--input", default=None,
                   help="input shape, e.g. 1x3x224x224 (model default when omitted; for snn: B x C x H x W)")
    p.add_argument("--input-kind", choices=["real", "spikes", "events"], default=None,
                   help="random real values, Bernoulli spikes at --rate, or small event counts "
                        "(default: real for torchvision/callables, events for snn)")
    p.add_argument("--rate", type=float, default=0.1, help="spike probability for --input-kind spikes/events")
    p.add_argument("--T", type=int, default=None, help="time steps (snn default 8, spikinggcn default 200)")
    p.add_argument("--step-mode", choices=["m", "s"], default="m",
                   help="with --T on a static input: one call on [T, ...] (m) or T calls (s)")
    p.add_argument("--preset", default="45nm-fp32", help=f"one of {preset_names()}")
    p.add_argument("--mac-pj", type=float, default=None, help="user preset: energy per MAC (with --ac-pj)")
    p.add_argument("--ac-pj", type=float, default=None, help="user preset: energy per AC (with --mac-pj)")
    p.add_argument("--first-layer", choices=["auto", "mac", "ac"], default="auto")
    p.add_argument("--ac-count", choices=["rate", "exact"], default="rate")
    p.add_argument("--bn", choices=["fold", "count"], default="fold")
    p.add_argument("--static-input", choices=["per_step", "once"], default="per_step")
    p.add_argument("--neuron-updates", action="store_true", help="one AC per neuron per step")
    p.add_argument("--memory", action="store_true", help="add the memory-access term (3.12 pJ/bit)")
    p.add_argument("--no-ann", action="store_true", help="skip the ANN twin")
    p.add_argument("--data-root", default=None,
                   help="snn: extracted N-MNIST folder (real test samples); spikinggcn: Planetoid folder (Cora); "
                        "lightgcn: a LightGCN split folder (train.txt), e.g. <data>/gowalla")
    p.add_argument("--checkpoint", default=None, help="state dict (or {'model': state_dict}) to load")
    p.add_argument("--batch", type=int, default=1, help="batch size of the synthetic input (queries for lightgcn)")
    p.add_argument("--nodes", type=int, default=0, help="spikinggcn: count the first N nodes (0 = all)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/energy", help="run directory")
    p.add_argument("--json", default=None, help="report JSON path (default <out>/report.json)")
    p.add_argument("--plot", default=None, help="PNG path (default <out>/energy.png)")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    return p.parse_args(argv)


@dataclass
class Target:
    """What to count: the model, its example input and the estimate options that fit it."""

    name: str
    model: nn.Module
    example: Any
    T: Optional[int] = None
    weight_reads: Optional[int] = None  # memory term: steps inside one call when the input carries time
    ann_model: Optional[nn.Module] = None  # an explicit ANN counterpart (else neurons -> ReLU)
    ann_example: Any = None
    per: Optional[tuple[str, float]] = None  # (unit, divisor) for a per-unit figure
    notes: list[str] = field(default_factory=list)
    extra_reports: dict = field(default_factory=dict)


def _shape(text: Optional[str], default: tuple[int, ...]) -> tuple[int, ...]:
    if text is None:
        return default
    try:
        dims = tuple(int(d) for d in text.lower().replace(",", "x").split("x") if d)
    except ValueError as err:
        raise SystemExit(f"--input must look like 1x3x224x224 (got {text!r})") from err
    if not dims or any(d < 1 for d in dims):
        raise SystemExit(f"--input must have positive dimensions (got {text!r})")
    return dims


def _random_input(shape: tuple[int, ...], kind: str, rate: float, gen: torch.Generator) -> torch.Tensor:
    if kind == "spikes":
        return (torch.rand(shape, generator=gen) < rate).float()
    if kind == "events":  # event counts per pixel: mostly 0, some 1-3
        return torch.poisson(torch.full(shape, rate), generator=gen).clamp(max=3.0)
    return torch.randn(shape, generator=gen)


def _load_checkpoint(model: nn.Module, path: Optional[str]) -> None:
    if path is None:
        return
    state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "model" in state and isinstance(state["model"], dict):
        state = state["model"]
    model.load_state_dict(state)


def build_snn(args, gen: torch.Generator) -> Target:
    from spiking.models import SpikingConvNet, SpikingMLP

    T = args.T or 8
    if args.model == "snn-mlp":
        shape = _shape(args.input, (args.batch, 700))
        model = SpikingMLP(shape[-1], 20)
        _load_checkpoint(model, args.checkpoint)
        kind = args.input_kind or "spikes"
        x = _random_input((T, *shape), kind, args.rate, gen)
        return Target("SpikingMLP", model, x, weight_reads=T,
                      notes=[f"input [T={T}, {', '.join(map(str, shape))}] {kind}"])
    model = SpikingConvNet(2, 10, (16, 32), dropout=0.0)
    _load_checkpoint(model, args.checkpoint)
    if args.data_root:
        from spiking.datasets import NMNIST

        ds = NMNIST(args.data_root, train=False, T=T)
        frames = torch.stack([ds[i][0] for i in range(args.batch)], dim=1)  # [T, B, 2, 34, 34]
        source = f"{args.batch} real N-MNIST test sample(s), {T} frames by event count"
    else:
        shape = _shape(args.input, (args.batch, 2, 34, 34))
        kind = args.input_kind or "events"
        frames = _random_input((T, *shape), kind, args.rate, gen)
        source = f"synthetic {kind} frames [T={T}, {', '.join(map(str, shape))}] at rate {args.rate}"
    weights = "checkpoint " + args.checkpoint if args.checkpoint else "random init (untrained)"
    from spiking.energy import make_ann_twin

    # the ANN counterpart sees all events integrated into one frame: [1, B, 2, H, W]
    return Target("SpikingConvNet", model, frames, weight_reads=T, ann_model=make_ann_twin(model),
                  ann_example=frames.sum(0, keepdim=True), per=("sample", float(frames.shape[1])),
                  notes=[source, f"weights: {weights}",
                         "ANN twin: neurons -> ReLU, one step on the events integrated into one frame"])


class LightGCNRecommend(nn.Module):
    """One recommendation request batch: propagate embeddings, score ``users`` against every item."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, users: torch.Tensor) -> torch.Tensor:
        u, i = self.model()  # [U, D], [I, D]
        return u.index_select(0, users) @ i.t()  # [B, I] scores


class _Propagate(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, dummy: torch.Tensor) -> torch.Tensor:
        return self.model.propagate()


class _Score(nn.Module):
    def forward(self, user_emb: torch.Tensor, item_emb: torch.Tensor) -> torch.Tensor:
        return user_emb @ item_emb.t()


def build_lightgcn(args, gen: torch.Generator) -> Target:
    from graphnets.recsys import LightGCN
    from graphnets.recsys.synthetic import make_synthetic

    if args.data_root:
        from graphnets.recsys.datasets import load_dataset

        root = Path(args.data_root)
        data = load_dataset(root.name, root.parent)  # a LightGCN text split: <root>/train.txt
        source = f"{root.name}"
    else:
        data = make_synthetic(600, 400, generator=gen)
        source = "synthetic"
    graph = data.bipartite_graph()
    model = LightGCN(data.num_users, data.num_items, 64, 3, generator=gen)
    model.set_graph(graph)
    _load_checkpoint(model, args.checkpoint)
    users = torch.arange(min(args.batch, data.num_users))
    target = Target("LightGCN", LightGCNRecommend(model), users, per=("query", float(users.numel())),
                    notes=[f"{source}: {data.num_users} users x {data.num_items} items, "
                           f"{graph.num_edges} graph entries, D=64, K=3",
                           "a query = one user scored against every item; the propagation is shared by "
                           "all users, so its amortised share per query is propagation / num_users"])
    with torch.no_grad():
        u, i = model()
    common = dict(preset=_preset(args), memory=args.memory)
    prop = estimate_energy(_Propagate(model), torch.zeros(1), **common)
    score = estimate_energy(_Score(), (u[:1], i), **common)
    target.extra_reports = {
        "propagation_once": prop,
        "scoring_one_query": score,
        "amortised_per_query_mJ": prop.energy_mJ / data.num_users + score.energy_mJ,
    }
    return target


class SpikingGCNFeatures(nn.Module):
    """SpikingGCN's preprocessing: propagated features, computed once per graph."""

    def __init__(self, graph, hops: int = 2, offset: float = 0.0) -> None:
        super().__init__()
        self.graph, self.hops, self.offset = graph, hops, offset

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        from graphnets.node.spikinggcn import SpikingGCN

        return SpikingGCN.features(self.graph, x, self.hops, self.offset)  # [N, F]


def build_spikinggcn(args, gen: torch.Generator) -> Target:
    from graphnets.node.spikinggcn import SpikingGCN

    if args.data_root:
        from graphnets.node.planetoid import load_planetoid

        from graphnets.node.presets import spikinggcn_preset

        data = load_planetoid(args.data_root, "cora")
        offset = spikinggcn_preset("cora").feature_offset  # the official notebook adds 0.05 to A^2 X
        source = f"Cora (Planetoid), feature offset {offset}"
    else:
        from graphnets.node.synthetic import make_sbm

        data = make_sbm(gen)
        offset = 0.0
        source = "synthetic SBM"
    T = args.T or 200
    model = SpikingGCN(data.x.shape[1], data.num_classes, T=T)
    _load_checkpoint(model, args.checkpoint)
    feats = SpikingGCNFeatures(data.graph, offset=offset)
    with torch.no_grad():
        h = feats(data.x)  # [N, F]: firing probabilities of the Bernoulli encoder
    n = data.x.shape[0] if args.nodes <= 0 else min(args.nodes, data.x.shape[0])
    h = h[:n]
    with torch.no_grad():
        expected_in = float(h.clamp(0, 1).sum()) * T / n
    target = Target("SpikingGCN", model, (h, gen), weight_reads=T, ann_model=model.fc, ann_example=h, per=("node", float(n)),
                    notes=[f"{source}: {data.x.shape[0]} nodes ({n} counted), {data.graph.num_edges} edges, "
                           f"F={data.x.shape[1]}, C={data.num_classes}, T={T}",
                           "features A^2 X (+ offset) precomputed once per graph (propagation_once); the spiking "
                           "layer takes the model's Bernoulli input spikes (dense: linear on spikes; sparse: "
                           "scatter-add of weight rows), one AC per input spike and class; expected input "
                           f"spikes per node {expected_in:.1f}; output spikes drive no synapse (no energy)",
                           "ANN counterpart: SGC (the same linear layer on the real features)"])
    target.extra_reports = {"propagation_once": estimate_energy(feats, data.x, preset=_preset(args),
                                                                memory=args.memory)}
    return target


def build_torchvision(args, gen: torch.Generator) -> Target:
    import torchvision

    name = args.model.split(":", 1)[1]
    try:
        model = torchvision.models.get_model(name, weights=None)
    except ValueError as err:
        raise SystemExit(f"--model torchvision:{name}: {err}") from err
    shape = _shape(args.input, (1, 3, 224, 224))
    x = _random_input(shape, args.input_kind or "real", args.rate, gen)
    return Target(f"torchvision.{name}", model, x, T=args.T, per=("sample", float(shape[0])))


def build_callable(args, gen: torch.Generator) -> Target:
    module_name, _, attr = args.model.partition(":")
    try:
        fn = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as err:
        raise SystemExit(f"--model {args.model}: cannot import {attr!r} from {module_name!r} ({err})") from err
    model = fn()
    if not isinstance(model, nn.Module):
        raise SystemExit(f"--model {args.model}: the callable must return an nn.Module (got {type(model).__name__})")
    if args.input is None:
        raise SystemExit("--model module:callable needs --input SHAPE")
    x = _random_input(_shape(args.input, ()), args.input_kind or "real", args.rate, gen)
    return Target(args.model, model, x, T=args.T)


def build_target(args) -> Target:
    gen = torch.Generator().manual_seed(args.seed)
    if args.model in ("snn", "snn-mlp"):
        return build_snn(args, gen)
    if args.model == "lightgcn":
        return build_lightgcn(args, gen)
    if args.model == "spikinggcn":
        return build_spikinggcn(args, gen)
    if args.model.startswith("torchvision:"):
        return build_torchvision(args, gen)
    if ":" in args.model:
        return build_callable(args, gen)
    raise SystemExit(f"--model must be one of {list(GRAPHSPIKE_MODELS)}, torchvision:NAME or module:callable "
                     f"(got {args.model!r})")


def _preset(args):
    if (args.mac_pj is None) != (args.ac_pj is None):
        raise SystemExit("--mac-pj and --ac-pj go together")
    if args.mac_pj is not None:
        return {"name": "user", "mac_pj": args.mac_pj, "ac_pj": args.ac_pj}
    return args.preset


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.T is not None and args.T <= 0:
        raise SystemExit(f"--T must be a positive number of time steps (got {args.T})")
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(vars(args), indent=2) + "\n")
    t0 = time.perf_counter()
    steps = tqdm(total=3, desc="energy", unit="step", leave=False)
    target = build_target(args)
    steps.update(1)
    opts = dict(preset=_preset(args), first_layer=args.first_layer, ac_count=args.ac_count, bn=args.bn,
                neuron_updates=args.neuron_updates, memory=args.memory)
    report = estimate_energy(target.model, target.example, T=target.T, step_mode=args.step_mode,
                             weight_reads=target.weight_reads,
                             static_input=args.static_input if target.T else "per_step",
                             ann=not args.no_ann and target.ann_model is None, **opts)
    steps.update(1)
    if not args.no_ann and target.ann_model is not None:
        report.ann = estimate_ann_energy(target.ann_model, target.ann_example, preset=opts["preset"], bn=args.bn,
                                         memory=args.memory)
    report.notes.extend(target.notes)
    steps.update(1)
    steps.close()
    wall = time.perf_counter() - t0

    print(f"model: {target.name}")
    for note in target.notes:
        print(f"note: {note}")
    print(report.table())
    totals = report.totals()
    metrics = {"model": target.name, **{k: v for k, v in totals.items()}, "wall_s": wall}
    if report.ann is not None:
        metrics["ann_energy_mJ"] = report.ann.energy_mJ
        metrics["ann_mac"] = report.ann.mac
        metrics["snn_over_ann_energy"] = report.energy_pJ / report.ann.energy_pJ if report.ann.energy_pJ else None
    if target.per is not None:
        unit, count = target.per
        metrics[f"energy_mJ_per_{unit}"] = report.energy_mJ / count
        print(f"energy_mJ_per_{unit}: {report.energy_mJ / count:.6g}")
    data = report.to_dict()
    data["model"] = target.name
    for key, extra in target.extra_reports.items():
        if hasattr(extra, "to_dict"):
            data[key] = {"total": extra.totals(), "layers": [r.to_dict() for r in extra.layers]}
            metrics[f"{key}_mJ"] = extra.energy_mJ
            print(f"{key}_mJ: {extra.energy_mJ:.6g} (MAC {extra.mac:.4g}, AC {extra.ac:.4g})")
        else:
            data[key] = extra
            metrics[key] = extra
            print(f"{key}: {extra:.6g}")
    for key in ("mac", "ac", "energy_mJ", "firing_rate"):
        if totals.get(key) is not None:
            print(f"{key}: {totals[key]:.6g}")
    if report.ann is not None:
        print(f"ann_energy_mJ: {report.ann.energy_mJ:.6g}")
        print(f"snn_over_ann_energy: {metrics['snn_over_ann_energy']:.6g}")

    json_path = Path(args.json) if args.json else out / "report.json"
    _write_atomic(json_path, json.dumps(data, indent=2) + "\n")
    _write_atomic(out / "metrics.json", json.dumps(metrics, indent=2) + "\n")
    with open(out / "metrics.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(report.layers[0].to_dict()) if report.layers else ["name"])
        writer.writeheader()
        for row in report.layers:
            writer.writerow(row.to_dict())
    with SummaryWriter(str(out / "tb")) as tb:
        for key in ("mac", "ac", "energy_mJ"):
            tb.add_scalar(f"energy/{key}", totals[key], 0)
        if report.ann is not None:
            tb.add_scalar("energy/ann_energy_mJ", report.ann.energy_mJ, 0)
    plot_path = Path(args.plot) if args.plot else out / "energy.png"
    plot_energy(report, plot_path, title=f"{target.name}: energy per layer")
    print(f"wrote: {json_path} {plot_path} {out / 'metrics.json'} (wall {wall:.1f} s)")
    return metrics


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


if __name__ == "__main__":
    main()
