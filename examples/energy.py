"""Energy estimate of a spiking or artificial model: per-layer MAC/AC, firing rates, mJ, ANN twin.

Counts one inference through PyTorch's dispatcher (``spiking.energy.measure_energy``) and prices
it with Horowitz's 45 nm figures (fp32: MAC 4.6 pJ, AC 0.9 pJ). Default (no download, a few
seconds): the neuromorphic example's ``SpikingConvNet`` on synthetic N-MNIST-sized event frames.

    python examples/energy.py                                   # SpikingConvNet, T=8, synthetic events
    python examples/energy.py --model snn --root ../shared/data/nmnist     # real N-MNIST samples
    python examples/energy.py --model snn --checkpoint runs/neuromorphic/best.pt   # trained weights
    python examples/energy.py --model torchvision:resnet18 --input 1x3x224x224
    python examples/energy.py --model lightgcn --root ../shared/data/gowalla    # per recommendation query
    python examples/energy.py --model spikinggcn --root ../shared/data/planetoid --nodes 500

``--model`` is a graphspike model name (``snn``, ``snn-mlp``, ``lightgcn``, ``spikinggcn``), a
``torchvision:NAME`` (random weights) or ``module:callable`` returning an ``nn.Module`` (``--input`` gives
its input shape). Writes
the run folder of ``examples/_run.py``: ``config.json``, ``report.json`` (``--json``; ``{"total",
"layers", "ann"}``), ``metrics.json`` (totals), ``metrics.csv`` (one row per layer), ``tb/`` and
``energy.png`` (``--plot``; the model beside its ANN counterpart, per layer).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _run import (
    Run,
    atomic_write,
    example_parser,
    fail,
    fraction,
    load_weights,
    nonnegative_int,
    positive_float,
    positive_int,
    shape,
)

from spiking.energy import plot_energy, preset_names, targets
from spiking.energy.targets import EnergyTarget, random_input

GRAPHSPIKE_MODELS = ("snn", "snn-mlp", "lightgcn", "spikinggcn")


def parse_args(argv=None):
    p = example_parser(__doc__, out="runs/energy", threads=1)
    p.add_argument("--model", default="snn", help=f"{', '.join(GRAPHSPIKE_MODELS)}, torchvision:NAME, module:callable")
    p.add_argument("--input", type=shape, help="input shape, e.g. 1x3x224x224 (model default; snn: B x C x H x W)")
    p.add_argument("--input-kind", choices=targets.INPUT_KINDS, help="default: events for snn, else real")
    p.add_argument("--rate", type=fraction, default=0.1, help="spike probability for --input-kind spikes/events")
    p.add_argument("--T", type=positive_int, help="time steps (snn default 8, spikinggcn default 200)")
    p.add_argument("--step-mode", choices=["m", "s"], default="m", help="static input with --T: one call (m), T (s)")
    p.add_argument("--preset", default="45nm-fp32", choices=preset_names())
    p.add_argument("--mac-pj", type=positive_float, help="user preset: energy per MAC (with --ac-pj)")
    p.add_argument("--ac-pj", type=positive_float, help="user preset: energy per AC (with --mac-pj)")
    p.add_argument("--first-layer", choices=["auto", "mac", "ac"], default="auto")
    p.add_argument("--ac-count", choices=["rate", "exact"], default="rate")
    p.add_argument("--bn", choices=["fold", "count"], default="fold")
    p.add_argument("--static-input", choices=["per_step", "once"], default="per_step")
    p.add_argument("--neuron-updates", action="store_true", help="one AC per neuron per step")
    p.add_argument("--memory", action="store_true", help="add the memory-access term (3.12 pJ/bit)")
    p.add_argument("--no-ann", action="store_true", help="skip the ANN counterpart")
    p.add_argument(
        "--root", "--data-root", dest="root", help="N-MNIST (snn), Planetoid (spikinggcn), <data>/gowalla (lightgcn)"
    )
    p.add_argument("--checkpoint", help="weights: a run's checkpoint (best.pt) or a plain state dict")
    p.add_argument("--batch", type=positive_int, default=1, help="batch of the synthetic input (queries for lightgcn)")
    p.add_argument("--nodes", type=nonnegative_int, default=0, help="spikinggcn: count the first N nodes (0 = all)")
    p.add_argument("--json", help="report JSON path (default <out>/report.json)")
    p.add_argument("--plot", help="PNG path (default <out>/energy.png)")
    a = p.parse_args(argv)
    if (a.mac_pj is None) != (a.ac_pj is None):
        p.error("--mac-pj and --ac-pj go together")
    if a.model not in GRAPHSPIKE_MODELS and ":" not in a.model:
        p.error(
            f"--model must be one of {list(GRAPHSPIKE_MODELS)}, torchvision:NAME or module:callable (got {a.model!r})"
        )
    return a


def weights(model: nn.Module, path: str | None) -> str:
    if path is None:
        return "random init (untrained)"
    try:
        model.load_state_dict(load_weights(path))
    except RuntimeError as err:
        fail(f"--checkpoint {path} does not fit {type(model).__name__}: {' '.join(str(err).split())[:300]}")
    return f"checkpoint {path}"


def build_target(a, gen: torch.Generator) -> EnergyTarget:
    if a.model in ("snn", "snn-mlp"):
        from spiking.models import SpikingConvNet, SpikingMLP

        T = a.T or 8
        if a.model == "snn-mlp":
            dims = a.input or (a.batch, 700)
            model, kind = SpikingMLP(dims[-1], 20), a.input_kind or "spikes"
            notes = [f"input [T={T}, {', '.join(map(str, dims))}] {kind}", f"weights: {weights(model, a.checkpoint)}"]
            return EnergyTarget(
                "SpikingMLP", model, random_input((T, *dims), kind, a.rate, gen), weight_reads=T, notes=notes
            )
        model = SpikingConvNet(2, 10, (16, 32), dropout=0.0)
        source_w = weights(model, a.checkpoint)
        if a.root:
            from spiking.datasets import NMNIST

            try:
                ds = NMNIST(a.root, train=False, T=T)
            except FileNotFoundError as err:
                fail(f"{err}; --root must be the extracted N-MNIST folder (examples/neuromorphic.py --download)")
            frames = torch.stack([ds[i][0] for i in range(a.batch)], dim=1)  # [T, B, 2, 34, 34]
            source = f"{a.batch} real N-MNIST test sample(s), {T} frames by event count"
        else:
            dims, kind = a.input or (a.batch, 2, 34, 34), a.input_kind or "events"
            frames = random_input((T, *dims), kind, a.rate, gen)
            source = f"synthetic {kind} frames [T={T}, {', '.join(map(str, dims))}] at rate {a.rate}"
        return targets.spiking_frames_target("SpikingConvNet", model, frames, [source, f"weights: {source_w}"])
    common = {"preset": preset(a), "memory": a.memory, "device": a.device}
    if a.model == "lightgcn":
        from graphnets.recsys import LightGCN, load_dataset, make_synthetic
        from graphnets.recsys.energy import lightgcn_energy_target

        try:
            root = Path(a.root) if a.root else None
            data = load_dataset(root.name, root.parent) if root else make_synthetic(600, 400, generator=gen)
        except FileNotFoundError as err:
            fail(f"{err}; --root must be a LightGCN split folder (examples/recommend.py --download fetches some)")
        model = LightGCN(data.num_users, data.num_items, 64, 3, generator=gen)
        weights(model, a.checkpoint)
        return lightgcn_energy_target(
            model, data, batch=a.batch, source=Path(a.root).name if a.root else "synthetic", **common
        )
    if a.model == "spikinggcn":
        from graphnets.node import SpikingGCN, load_planetoid, make_sbm, spikinggcn_preset
        from graphnets.node.energy import spikinggcn_energy_target

        try:
            data = load_planetoid(a.root, "cora") if a.root else make_sbm(gen)
        except FileNotFoundError as err:
            fail(
                f"{err}; --root must be the folder of the raw Planetoid files ind.cora.* "
                f"(examples/node_classification.py --download fetches them)"
            )
        offset = spikinggcn_preset("cora").feature_offset if a.root else 0.0  # the official notebook adds 0.05
        model = SpikingGCN(data.x.shape[1], data.num_classes, T=a.T or 200)
        weights(model, a.checkpoint)
        source = f"Cora (Planetoid), feature offset {offset}" if a.root else "synthetic SBM"
        gen = torch.Generator(device=a.device).manual_seed(a.seed) if a.device != "cpu" else gen
        return spikinggcn_energy_target(model, data, gen, nodes=a.nodes, offset=offset, source=source, **common)
    try:
        return targets.imported_target(a.model, a.input, gen, a.input_kind, a.rate, a.T)
    except ValueError as err:
        fail(f"--model {a.model}: {err}")


def preset(a):  # a named preset, or the user's MAC/AC energies
    return {"name": "user", "mac_pj": a.mac_pj, "ac_pj": a.ac_pj} if a.mac_pj is not None else a.preset


def main(argv=None) -> dict:
    a = parse_args(argv)
    run = Run(a, name="energy", can_resume=False)
    t0 = time.perf_counter()
    target = build_target(a, torch.Generator().manual_seed(a.seed))
    target.to(run.device)
    result = targets.measure_energy(
        target,
        ann=not a.no_ann,
        preset=preset(a),
        first_layer=a.first_layer,
        ac_count=a.ac_count,
        bn=a.bn,
        step_mode=a.step_mode,
        static_input=a.static_input,
        neuron_updates=a.neuron_updates,
        memory=a.memory,
    )
    report, metrics = result.report, {**result.metrics, "wall_s": time.perf_counter() - t0}
    run.write_config({"model": target.name, "notes": target.notes})
    print("\n".join([f"model: {target.name}", *(f"note: {n}" for n in target.notes)]))
    print(report.table())
    for key, value in metrics.items():
        if key not in ("model", "flops", "spikes", "wall_s") and isinstance(value, float):
            print(f"{key}: {value:.6g}")
    for row in report.layers:
        run.log(row.to_dict(), step=0, echo=False, tb=False)
    run.log(
        {k: metrics[k] for k in ("mac", "ac", "energy_mJ", "ann_energy_mJ") if k in metrics},
        step=0,
        tag="energy",
        echo=False,
        csv=False,
    )
    json_path = Path(a.json) if a.json else run.path("report.json")
    json_path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(json_path, json.dumps(result.data, indent=2) + "\n")
    plot_path = Path(a.plot) if a.plot else run.path("energy.png")
    plot_energy(report, plot_path, title=f"{target.name}: energy per layer")
    print(f"wrote: {json_path} {plot_path}")
    return run.finish(metrics)


if __name__ == "__main__":
    main()
