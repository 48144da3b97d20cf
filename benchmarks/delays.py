"""Learnable delays: graphspike ``DelayLinear`` vs ``dcls.Dcls1d`` + ``conv1d`` (the official SNN-delays layer).

Workloads, at the paper's network sizes (SHD: 140 -> 256 -> 256 -> 20, K = 25; SSC: 140 -> 512 ->
512 -> 512 -> 35, K = 31), time-major spike inputs (10 % rate) of ``--T`` steps, batch ``--batch``:

- ``infer-layer``: one hidden delay layer with rounded (integer) delays, no gradients.
  graphspike: ``integer_delay_linear`` (sparse gather, never builds the kernel); dcls:
  ``Dcls1d(version="max")`` with ``SIG = 0`` and rounded ``P`` (the official evaluation) on the
  padded input. Also our own dense path (one-tap kernel + ``conv1d``) as a third row. Outputs are
  checked: ours against the one-tap dense path (max |diff|, and bit equality with integer weights).
- ``infer-net``: the whole network (delay -> BN -> LIF -> dropout, read-out) in eval mode with
  rounded delays; the dcls network is the same ``DelaySNN`` with every ``DelayLinear`` replaced by
  a ``Dcls1d`` wrapper holding the same parameters.
- ``train-step``: forward, ``sum_softmax_loss``, backward and the two Adam steps of the whole network,
  Gaussian kernels (sigma = 0.5 + K / 4), dcls vs ours.
- ``parity`` (no timing): for each interpolation and K in {5, 25, 31}, float32, random weights,
  positions and per-synapse widths: max |diff| of our kernel against dcls's ``ConstructKernel1d``, and
  of the layer's output and its gradients (input, weight, position) against ``Dcls1d`` + ``conv1d``.

Both sides run in the same process, interleaved, ``--repeats`` times after a warm-up; medians of
process CPU time and of wall time; the ratio dcls / graphspike uses CPU time on the CPU (the machine
is shared) and wall time on CUDA. JSON: ``benchmarks/results/delays-<cpu|cuda>.json``.

    python benchmarks/delays.py --threads 1 --T 100,250         # CPU, batch 32
    python benchmarks/delays.py --device cuda --batch 256 --T 100,250
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import stamp, write_result
from spiking.delays import (
    DelayLinear,
    DelaySNN,
    delay_kernel,
    delay_layers,
    integer_delay_linear,
    integer_delay_linear_reference,
    integer_delays,
    set_sigma,
    sum_softmax_loss,
)
from spiking.delays.recipe import RECIPES

NETWORKS = {"shd": (140, 20), "ssc": (140, 35)}


def _dcls():
    try:
        from DCLS.construct.modules import Dcls1d
    except ImportError:
        sys.exit("benchmarks/delays.py needs the reference: pip install 'dcls==0.1.1' (or pip install '.[bench]')")
    return Dcls1d


# our interpolation -> (dcls version, c in sigma = |SIG| + c)
VERSIONS = {"gauss": ("gauss", 0.27), "triangle": ("max", 1.0), "bilinear": ("v1", None)}


class DclsDelay(torch.nn.Module):
    """The official layer: ``F.pad`` (K - 1, (K - 1) // 2) + ``Dcls1d`` in time-major layout, holding the
    parameters of a ``DelayLinear`` (its interpolation; ``SIG`` from its ``sigma`` or given per synapse);
    ``rounded`` switches to the official evaluation kernel."""

    def __init__(self, ours: DelayLinear, sig: torch.Tensor | None = None) -> None:
        super().__init__()
        Dcls1d = _dcls()
        self.K = ours.kernel_size
        version, offset = VERSIONS[ours.interpolation]
        self.m = Dcls1d(
            ours.in_channels, ours.out_channels, kernel_count=1, dilated_kernel_size=self.K, bias=False, version=version
        ).to(ours.weight.device)
        with torch.no_grad():
            self.m.weight.copy_(ours.weight.unsqueeze(-1))
            self.m.P.copy_(ours.P.view(1, *ours.P.shape, 1))
            if self.m.SIG is not None:
                sig = torch.full_like(ours.P, float(ours.sigma) - offset) if sig is None else sig
                self.m.SIG.copy_(sig.view(self.m.SIG.shape))
        if self.m.SIG is not None:
            self.m.SIG.requires_grad_(False)  # the official code never trains SIG
        self.rounded = False

    def forward(self, x):
        if self.rounded and self.m.version != "max":  # official eval_model: SIG = 0, "max", round(P)
            with torch.no_grad():
                self.m.SIG.zero_()
                self.m.P.round_()
            self.m.version = self.m.DCK.version = "max"
        xb = F.pad(x.permute(1, 2, 0), (self.K - 1, (self.K - 1) // 2))
        return self.m(xb).permute(2, 0, 1)


def dcls_twin(net: DelaySNN) -> DelaySNN:
    """A deep copy of ``net`` whose delay layers are ``DclsDelay`` with the same parameters."""
    import copy

    twin = copy.deepcopy(net)
    twin.delays = torch.nn.ModuleList(DclsDelay(m) for m in net.delays)
    twin.readout_delay = DclsDelay(net.readout_delay)
    return twin


def _timer(device):
    sync = torch.cuda.synchronize if str(device).startswith("cuda") else (lambda: None)

    def run(fn):
        sync()
        c0, w0 = time.process_time(), time.perf_counter()
        fn()
        sync()
        return time.process_time() - c0, time.perf_counter() - w0

    return run


def compare(fns: dict, repeats: int, device) -> dict:
    """Interleaved timing: ``{name: {"cpu_s": median, "wall_s": median}}``."""
    run = _timer(device)
    for fn in fns.values():  # warm-up
        fn()
    times = {k: ([], []) for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            c, w = run(fn)
            times[k][0].append(c)
            times[k][1].append(w)
    return {k: {"cpu_s": statistics.median(c), "wall_s": statistics.median(w)} for k, (c, w) in times.items()}


def spikes(T, B, C, device, g):
    return (torch.rand(T, B, C, generator=g) < 0.1).float().to(device)


def bench_infer_layer(net_name, T, B, repeats, device, g):
    recipe = RECIPES[net_name]
    H, K = recipe.hidden_features, recipe.kernel_size
    layer = DelayLinear(H, H, K).to(device)
    layer.reset_parameters(g)
    layer.round_delays()
    ref = DclsDelay(layer)
    ref.rounded = True
    x = spikes(T, B, H, device, g)
    d = layer.integer_delays()
    w = layer.weight.detach()
    with torch.no_grad():
        fast = integer_delay_linear(x, w, d, K)
        dense = integer_delay_linear_reference(x, w, d, K)
        theirs = ref(x)
        wi = w.mul(8).round()  # integer weights: every partial sum exact
        exact = torch.equal(integer_delay_linear(x, wi, d, K), integer_delay_linear_reference(x, wi, d, K))
        fns = {
            "graphspike": lambda: integer_delay_linear(x, w, d, K),
            "dcls": lambda: ref(x),
            "graphspike dense": lambda: integer_delay_linear_reference(x, w, d, K),
        }
        res = compare(fns, repeats, device)
    return {
        "check": {
            "max_abs_diff_vs_dense": float((fast - dense).abs().max()),
            "bit_equal_integer_weights": bool(exact),
            "max_abs_diff_vs_dcls": float((fast - theirs).abs().max()),
        },
        "shape": {"T": T, "B": B, "C_in": H, "C_out": H, "K": K},
        "times": res,
    }


def bench_infer_net(net_name, T, B, repeats, device, g):
    recipe = RECIPES[net_name]
    net = recipe.build_model(*NETWORKS[net_name], generator=g).to(device).eval()
    twin = dcls_twin(net).eval()
    for m in [*twin.delays, twin.readout_delay]:
        m.rounded = True
    x = spikes(T, B, NETWORKS[net_name][0], device, g)
    from spikingjelly.activation_based import functional

    def ours():
        with integer_delays(net):
            net(x)
        functional.reset_net(net)

    def theirs():
        twin(x)
        functional.reset_net(twin)

    with torch.no_grad():
        with integer_delays(net):
            v = net(x)
        functional.reset_net(net)
        v_ref = twin(x)
        functional.reset_net(twin)
        res = compare({"graphspike": ours, "dcls": theirs}, repeats, device)
    return {"check": {"max_abs_diff_readout": float((v - v_ref).abs().max())}, "shape": {"T": T, "B": B}, "times": res}


def bench_train_step(net_name, T, B, repeats, device, g):
    from spikingjelly.activation_based import functional

    recipe = RECIPES[net_name]
    net = recipe.build_model(*NETWORKS[net_name], generator=g).to(device).train()
    set_sigma(net, 0.5 + recipe.kernel_size / 4)
    twin = dcls_twin(net).train()
    x = spikes(T, B, NETWORKS[net_name][0], device, g)
    y = torch.randint(0, NETWORKS[net_name][1], (B,), generator=g).to(device)

    def step_fn(model, opts):
        def step():
            for o in opts:
                o.zero_grad(set_to_none=True)
            loss = sum_softmax_loss(model(x), y)
            loss.backward()
            for o in opts:
                o.step()
            functional.reset_net(model)

        return step

    opts, _ = recipe.optimizers(net)
    layers = [m.m for m in [*twin.delays, twin.readout_delay]]
    w_twin = [m.weight for m in layers]
    others = [
        p for p in twin.parameters() if p.requires_grad and all(p is not q for q in w_twin + [m.P for m in layers])
    ]
    opts_twin = [
        torch.optim.Adam(
            [{"params": w_twin, "weight_decay": recipe.weight_decay}, {"params": others, "weight_decay": 0.0}],
            lr=recipe.lr,
        ),
        torch.optim.Adam([m.P for m in layers], lr=recipe.lr_positions),
    ]
    assert delay_layers(twin) == []  # the twin really runs dcls
    res = compare({"graphspike": step_fn(net, opts), "dcls": step_fn(twin, opts_twin)}, repeats, device)
    return {"shape": {"T": T, "B": B}, "times": res}


def bench_parity(sizes=(5, 25, 31), T=60, B=4, C_in=48, C_out=40, seed=0) -> list[dict]:
    """Max |ours - dcls| (float32) of kernels, outputs and gradients, per interpolation and K."""
    rows = []
    for interpolation, (version, offset) in VERSIONS.items():
        for K in sizes:
            g = torch.Generator().manual_seed(seed + K)
            layer = DelayLinear(C_in, C_out, K, interpolation)
            layer.reset_parameters(g)
            with torch.no_grad():
                layer.weight.normal_(generator=g)
            sig = torch.rand(C_out, C_in, generator=g) * K / 2  # dcls SIG per synapse: width |SIG| + c
            ref = DclsDelay(layer, sig)
            sigma = sig.abs() + offset if offset is not None else 1.0
            with torch.no_grad():
                kernel = (
                    (
                        delay_kernel(layer.weight, layer.P, sigma, K, interpolation)
                        - ref.m.DCK(ref.m.weight, ref.m.P, ref.m.SIG)
                    )
                    .abs()
                    .max()
                )
            # the layer (one width for all synapses, the layer's sigma) against Dcls1d + conv1d
            layer.set_sigma(0.4 + K / 5)
            ref = DclsDelay(layer)
            x = (torch.rand(T, B, C_in, generator=g) < 0.2).float().requires_grad_()
            x_ref = x.detach().clone().requires_grad_()
            y, y_ref = layer(x), ref(x_ref)
            probe = torch.randn(y.shape, generator=g)
            (y * probe).sum().backward()
            (y_ref * probe).sum().backward()
            rows.append(
                {
                    "interpolation": interpolation,
                    "dcls_version": version,
                    "K": K,
                    "kernel": float(kernel),
                    "output": float((y - y_ref).abs().max()),
                    "grad_input": float((x.grad - x_ref.grad).abs().max()),
                    "grad_weight": float((layer.weight.grad - ref.m.weight.grad[..., 0]).abs().max()),
                    "grad_position": float((layer.P.grad - ref.m.P.grad[0, ..., 0]).abs().max()),
                    "output_scale": float(y_ref.abs().max()),
                }
            )
            print(
                "parity "
                + "  ".join(f"{k} {v:.2e}" if isinstance(v, float) else f"{k} {v}" for k, v in rows[-1].items()),
                flush=True,
            )
    return rows


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--T", default="100", help="comma list of input steps, e.g. 100,250")
    p.add_argument("--networks", default="shd,ssc")
    p.add_argument("--workloads", default="parity,infer-layer,infer-net,train-step")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-write", action="store_true", help="print only")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    device = torch.device(a.device)
    kind = "cuda" if device.type == "cuda" else "cpu"
    primary = "wall_s" if kind == "cuda" else "cpu_s"
    benches = {"infer-layer": bench_infer_layer, "infer-net": bench_infer_net, "train-step": bench_train_step}
    workloads = a.workloads.split(",")
    unknown = sorted(set(workloads) - set(benches) - {"parity"})
    if unknown:
        p.error(f"unknown workloads {unknown}; valid: {sorted(benches) + ['parity']}")
    parity = bench_parity(seed=a.seed) if "parity" in workloads else None
    workloads = [w for w in workloads if w != "parity"]
    rows = []
    for net_name in a.networks.split(",") if workloads else []:
        for T in (int(t) for t in a.T.split(",")):
            for wl in workloads:
                g = torch.Generator().manual_seed(a.seed)
                r = benches[wl](net_name, T, a.batch, a.repeats, device, g)
                t = r["times"]
                r.update(
                    network=net_name,
                    workload=wl,
                    ratio_dcls_over_graphspike=t["dcls"][primary] / t["graphspike"][primary],
                )
                rows.append(r)
                line = "  ".join(f"{k} {v[primary] * 1e3:9.1f} ms" for k, v in t.items())
                print(
                    f"{net_name} T={T:<4} {wl:<12} {line}   dcls/graphspike x{r['ratio_dcls_over_graphspike']:.2f}"
                    + (f"   check {r['check']}" if "check" in r else ""),
                    flush=True,
                )
    payload = {
        "benchmark": "delays: graphspike DelayLinear vs dcls.Dcls1d + conv1d",
        "threads": a.threads,
        "batch": a.batch,
        "repeats": a.repeats,
        "timing": primary,
        "input_rate": 0.1,
        "results": rows,
    }
    if parity is not None:
        payload["parity_max_abs_diff"] = parity
    if not a.no_write:
        print("wrote", write_result("delays", payload, str(device)))
    return {**stamp(str(device)), **payload}


if __name__ == "__main__":
    main()
