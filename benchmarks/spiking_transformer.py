"""Spiking-attention blocks: graphspike's against spikingjelly 2.0's own layers, side by side in one run.

Pairs (same shapes, same weights, outputs checked equal in float64 before anything is timed):

* ``SpikeDrivenSelfAttention`` (Spike-driven Transformer v1: membrane-shortcut LIF, Q/K/V conv-BN-LIF,
  ``Q * LIF(sum_N K*V)``, projection, residual): ``spiking.attention.SpikeDrivenSelfAttention`` on
  ``[T, B, N, D]`` tokens vs ``spikingjelly.activation_based.layer.SpikeDrivenSelfAttention`` on
  ``[T, B, C, H, W]``;
* ``SpikingSelfAttention`` (Spikformer: Q/K/V, ``LIF(Q K^T V s)``, projection-BN-LIF):
  ``spiking.attention.SpikingSelfAttention`` vs spikingjelly's on ``[T, B, C, N]``.

Each side runs on its own layout (ours token-major, spikingjelly channel-major), so a model
built from either pays no transposes. Also timed: our STAtten block (``attention="statten"``,
the same layer with block-wise spatial-temporal attention), which spikingjelly does not have.
The official STAtten module (``module/ms_conv.py::MS_SSA_Conv``) is tried and reported as not
run when its imports fail here (spikingjelly 0.0.0.0.12 ``clock_driven``, cupy, timm).

Our neurons run ``backend="auto"``: on CPU the compiled CPU kernel (``csrc/cpu/lif_cpu.cpp``)
when ``python -m cuda_ext build`` has built it (``ours_lif_backend`` says which ran); then our
layer is also timed on the PyTorch loop (``ours_torch_loop``, ``backend="torch"``).

Diagnostic: the same pair with every neuron (spikingjelly's ``LIFNode`` and our ``LIF``) replaced by
one stand-in threshold, which times everything except the neuron op.

Reported per shape: forward+backward seconds per batch (median of ``--repeats``, all variants taking
turns in each repeat, after a warm-up),
peak memory of that step (``torch.distributed._tools.mem_tracker.MemTracker``: parameters,
gradients, activations and temporaries; CUDA: ``max_memory_allocated``), and the ratios
spikingjelly / ours. Writes ``benchmarks/results/spiking_transformer-<cpu|cuda>.json``.

    python benchmarks/spiking_transformer.py                 # CPU, about two minutes with 1 thread
    python benchmarks/spiking_transformer.py --device cuda   # on a GPU
"""

from __future__ import annotations

import argparse
import copy
import importlib
import os
import statistics
import sys
import time
from pathlib import Path

import torch
from spikingjelly.activation_based import functional
from spikingjelly.activation_based.layer import attention as sj_attention

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks._common import write_result
from cuda_ext.lif import _prepare
from spiking.attention import SpikeDrivenSelfAttention, SpikingSelfAttention
from spiking.neurons import set_backend

# (T, B, D, H, W, heads): CIFAR-like 8 x 8 tokens at T=4, and the CIFAR10-DVS setting (16 x 16 tokens, T=10)
SHAPES = [(4, 8, 256, 8, 8, 8), (10, 2, 256, 16, 16, 8)]


def lif_backend(x: torch.Tensor) -> str:
    """What our neurons' ``backend="auto"`` runs on ``x``: ``"cpu"`` (compiled CPU kernel), ``"cuda"``, ``"torch"``."""
    return _prepare("lif_multistep", x, None, None, "auto")[1]


def randomise_bn(module: torch.nn.Module, seed: int = 0) -> None:
    """Batch-norm affine parameters that make the neurons fire (the default init barely does on random input)."""
    g = torch.Generator().manual_seed(seed)
    for m in module.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            with torch.no_grad():
                m.weight.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
                m.bias.copy_(torch.rand(m.bias.shape, generator=g) * 1.5 + 0.5)


def pairs(T, B, D, H, W, heads):
    """[(name, spikingjelly layer, our layer, sj input fn, our input fn, our output -> sj layout)]."""
    sdsa = sj_attention.SpikeDrivenSelfAttention(D, heads)
    ssa = sj_attention.SpikingSelfAttention(D, heads)
    for m in (sdsa, ssa):
        randomise_bn(m)
    return [
        (
            "SpikeDrivenSelfAttention",
            sdsa,
            SpikeDrivenSelfAttention.from_spikingjelly(sdsa),
            lambda x: x,
            lambda x: x.flatten(3).transpose(2, 3),
            lambda y: y.transpose(2, 3).reshape(T, B, D, H, W),
        ),
        (
            "SpikingSelfAttention",
            ssa,
            SpikingSelfAttention.from_spikingjelly(ssa),
            lambda x: (x > 0).to(x.dtype).flatten(3),
            lambda x: (x > 0).to(x.dtype).flatten(3).transpose(2, 3),
            lambda y: y.transpose(2, 3),
        ),
    ]


def check_equal(sj, ours, to_sj, to_ours, back, shape) -> float:
    """Max |difference| of outputs and input gradients in float64 (train mode); raises when not equal."""
    sj, ours = sj.double(), ours.double()
    x = torch.randn(*shape, dtype=torch.float64, generator=torch.Generator().manual_seed(1)) * 2
    xs = to_sj(x).clone().requires_grad_()
    xo = to_ours(x).contiguous().requires_grad_()
    ys, yo = sj(xs), ours(xo, shape[-2:])
    g = torch.randn(ys.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    ys.backward(g)
    back(yo).backward(g)
    # inputs and outputs have the same shape, so ``back`` maps our input gradient to spikingjelly's layout too
    diff = max((back(yo) - ys).abs().max().item(), (back(xo.grad) - xs.grad).abs().max().item())
    functional.reset_net(sj)
    functional.reset_net(ours)
    if diff > 1e-9 or ys.abs().sum() == 0:
        raise RuntimeError(f"outputs differ ({diff:.3g}) or are all zero; refusing to time unequal layers")
    sj.float()
    ours.float()
    for m in (sj, ours):
        m.zero_grad(set_to_none=True)
    return diff


class _Threshold(torch.autograd.Function):
    """Heaviside forward, identity backward: one cheap stand-in for every neuron on both sides."""

    @staticmethod
    def forward(ctx, x):
        return (x >= 1.0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad


def without_neurons(module: torch.nn.Module) -> torch.nn.Module:
    """A deep copy whose spiking neurons (spikingjelly's and ours) all run :class:`_Threshold`."""
    from spikingjelly.activation_based.neuron import BaseNode

    from spiking.neurons import SpikingNeuron

    twin = copy.deepcopy(module)
    for m in twin.modules():
        if isinstance(m, (BaseNode, SpikingNeuron)):
            m.forward = _Threshold.apply
    return twin


def interleaved_medians(fns: dict, repeats: int, sync, warmup: int = 2) -> dict:
    """Median seconds of each function, the functions taking turns in every repeat (so a change of
    machine load during the run hits all of them alike)."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times = {k: [] for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            sync()
            t0 = time.perf_counter()
            fn()
            sync()
            times[k].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def step(module, x, hw=None):
    y = module(x) if hw is None else module(x, hw)
    y.sum().backward()
    functional.reset_net(module)


def peak_bytes(module, x, hw, device) -> int:
    """Peak memory of one forward+backward (params, grads, activations, temporaries)."""
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        step(module, x, hw)
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated() - base
    from torch.distributed._tools.mem_tracker import MemTracker

    tracker = MemTracker()
    tracker.track_external(module, x)
    with tracker:
        step(module, x, hw)
    return int(tracker.get_tracker_snapshot("peak")[torch.device("cpu")]["Total"])


def official_statten() -> dict:
    """Whether the official STAtten module can run here, and why not."""
    missing = []
    for mod in ("spikingjelly.clock_driven.neuron", "cupy", "timm"):
        try:
            importlib.import_module(mod)
        except ImportError as err:
            missing.append(f"{mod} ({type(err).__name__}: {err})")
    if missing:
        return {
            "ran": False,
            "why": "its imports fail here: " + "; ".join(missing) + ". It is written for "
            "spikingjelly 0.0.0.0.12 (clock_driven API, removed in 2.0) with MultiStepLIFNode(backend='cupy') "
            "(CUDA only) and timm 0.6.12; spikingjelly 2.0 cannot be installed beside 0.0.0.0.12",
        }
    return {"ran": False, "why": "imports succeed, but running third-party code is out of this benchmark's scope"}


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    device = torch.device(a.device)
    torch.manual_seed(0)
    rows = []
    for T, B, D, H, W, heads in SHAPES:
        for name, sj, ours, to_sj, to_ours, back in pairs(T, B, D, H, W, heads):
            diff = check_equal(sj, ours, to_sj, to_ours, back, (T, B, D, H, W))
            sj, ours = sj.to(device), ours.to(device)
            x = torch.randn(T, B, D, H, W, generator=torch.Generator().manual_seed(3)).to(device) * 2
            xs, xo = to_sj(x).clone().requires_grad_(), to_ours(x).contiguous().requires_grad_()
            sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
            row = {"layer": name, "T": T, "B": B, "D": D, "H": H, "W": W, "heads": heads, "max_abs_diff_f64": diff}
            variants = {"spikingjelly": (sj, xs, None), "ours": (ours, xo, (H, W))}
            row["ours_lif_backend"] = lif_backend(xo)
            if row["ours_lif_backend"] == "cpu":  # the compiled CPU kernel; also time our PyTorch loop
                loop = copy.deepcopy(ours)
                set_backend(loop, "torch")
                variants["ours_torch_loop"] = (loop, xo, (H, W))
            if name == "SpikeDrivenSelfAttention":
                statten = SpikeDrivenSelfAttention(D, heads, "statten", chunk_size=2, scale="event").to(device)
                randomise_bn(statten)
                variants["ours_statten_c2"] = (statten, xo, (H, W))
            # diagnostic: the same pair with every neuron replaced by one stand-in, i.e. all but the neuron op
            for label in ("spikingjelly", "ours"):
                module, inp, hw = variants[label]
                variants[f"{label}_no_neurons"] = (without_neurons(module), inp, hw)
            fns = {label: (lambda m=m, i=i, hw=hw: step(m, i, hw)) for label, (m, i, hw) in variants.items()}
            for label, seconds in interleaved_medians(fns, a.repeats, sync).items():
                row[f"{label}_s"] = seconds
            for label, (module, inp, hw) in variants.items():
                if not label.endswith("_no_neurons"):
                    row[f"{label}_peak_MB"] = peak_bytes(module, inp, hw, device) / 2**20
            row["sj_over_ours_time"] = row["spikingjelly_s"] / row["ours_s"]
            if "ours_torch_loop_s" in row:
                row["sj_over_ours_torch_loop_time"] = row["spikingjelly_s"] / row["ours_torch_loop_s"]
            row["sj_over_ours_time_no_neurons"] = row["spikingjelly_no_neurons_s"] / row["ours_no_neurons_s"]
            row["sj_over_ours_peak_mem"] = row["spikingjelly_peak_MB"] / row["ours_peak_MB"]
            rows.append(row)
            print(
                "  ".join(f"{k}: {v:.4g}" if isinstance(v, float) else f"{k}: {v}" for k, v in row.items()), flush=True
            )
    payload = {
        "threads": torch.get_num_threads(),
        "repeats": a.repeats,
        "loadavg": list(os.getloadavg()),
        "note": "forward+backward per batch, medians; ratios = spikingjelly / ours (> 1: ours faster / smaller)",
        "rows": rows,
        "official_statten": official_statten(),
    }
    path = write_result("spiking_transformer", payload, str(device))
    print(f"official STAtten: {payload['official_statten']}\nwrote {path}")
    return payload


if __name__ == "__main__":
    main()
