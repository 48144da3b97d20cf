"""Spiking U-Net vs its ANN twin on the offline 16x16 digits: FID, threshold guidance, energy, speed.

Same size, budget and seeds for both models (``CPU_CONFIGS["digits"]``). For each seed: train both
(Adam, grad clip, EMA with warmup), then sample with DDIM (eta 0) from the EMA weights and score
with the offline classifier FID against the training images. Threshold guidance: the spiking
model samples a held-out set (its own generator seed) at each shift, the best shift is chosen
there, and every shift is then scored on the reported set. Energy: every denoising call of
sampling (``spiking.diffusion.sampling_energy``). ``--speed``: training steps/s of both models
(run it under ``/work/bin/heavy --exclusive``).

    python benchmarks/diffusion.py --seeds 0 1 --out-dir runs/diffusion_bench
    python benchmarks/diffusion.py --speed
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks._common import RESULTS, median_time, stamp
from spiking.datasets.images import load_image_set
from spiking.diffusion import (
    CPU_CONFIGS,
    EMA,
    ClassifierFID,
    DiffusionTrainer,
    GaussianDiffusion,
    TrainConfig,
    sampling_energy,
    save_image_grid,
    threshold_shift,
    train_fid_classifier,
)

CFG = CPU_CONFIGS["digits"]


def build(kind: str, seed: int) -> GaussianDiffusion:
    torch.manual_seed(seed)
    return GaussianDiffusion(CFG.build(kind), CFG.num_steps, CFG.beta_1, CFG.beta_T, CFG.var_type)


def train(ddpm: GaussianDiffusion, data, steps: int, seed: int) -> tuple[EMA, float, float]:
    tc = TrainConfig(CFG.lr, CFG.grad_clip, CFG.batch_size, CFG.ema_decay, True, False)
    trainer = DiffusionTrainer(ddpm, data, tc, torch.Generator().manual_seed(seed))
    t0, loss = time.perf_counter(), float("nan")
    for step in range(steps):
        loss_t = trainer.step()
        loss = 0.98 * loss + 0.02 * loss_t if step else loss_t
        if step % 200 == 0:
            print(f"  step {step} loss {loss:.4f} ({time.perf_counter() - t0:.0f} s)", flush=True)
    return trainer.ema, loss, time.perf_counter() - t0


def sample(ddpm_ema: GaussianDiffusion, n: int, seed: int, steps: int, batch: int = 128) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    out = [
        ddpm_ema.sample(
            (min(batch, n - i), 1, CFG.image_size, CFG.image_size), sampler="ddim", steps=steps, generator=g
        )
        for i in range(0, n, batch)
    ]
    return torch.cat(out)


def speed(args) -> dict:
    """Median time of one training step of each model; the two models alternate step by step so that
    any load left on the machine affects both alike."""
    data = load_image_set("digits")
    steps, out = {}, {}
    for kind in ("spiking", "ann"):
        tc = TrainConfig(CFG.lr, CFG.grad_clip, CFG.batch_size, CFG.ema_decay, True, False)
        steps[kind] = DiffusionTrainer(build(kind, 0), data, tc, torch.Generator().manual_seed(0))
        for _ in range(3):  # warm-up
            steps[kind].step()
    times = {kind: [] for kind in steps}
    for _ in range(args.speed_repeats):
        for kind, trainer in steps.items():
            times[kind].append(median_time(trainer.step, repeats=1, warmup=0)[0])
    for kind, trainer in steps.items():
        med = sorted(times[kind])[len(times[kind]) // 2]
        out[kind] = {
            "s_per_step": med,
            "steps_per_s": 1 / med,
            "images_per_s": CFG.batch_size / med,
            "repeats": args.speed_repeats,
            "params": sum(p.numel() for p in trainer.diffusion.model.parameters()),
        }
        print(kind, out[kind], flush=True)
    out["ann_over_spiking_speed"] = out["ann"]["steps_per_s"] / out["spiking"]["steps_per_s"]
    return out


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    p.add_argument("--steps", type=int, default=CFG.total_steps)
    p.add_argument("--samples", type=int, default=256)
    p.add_argument("--sample-steps", type=int, default=20)
    p.add_argument("--shifts", type=float, nargs="+", default=[-0.2, -0.1, 0.0, 0.1, 0.2])
    p.add_argument("--energy-steps", type=int, default=1000, help="DDPM steps of the energy count (one sample)")
    p.add_argument("--models", nargs="+", default=["spiking", "ann"])
    p.add_argument(
        "--tg-from",
        type=Path,
        default=None,
        help="skip training: load spiking_seed<S>_ema.pt from this folder and sweep --shifts only",
    )
    p.add_argument("--speed", action="store_true")
    p.add_argument("--speed-repeats", type=int, default=10)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out-dir", type=Path, default=Path("runs/diffusion_bench"))
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    result = {
        "stamp": stamp(),
        "config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in CFG.__dict__.items()},
    }
    if args.speed:
        result["speed"] = speed(args)
        path = args.json or RESULTS / "diffusion_speed.json"
        path.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {path}")
        return
    args.out_dir.mkdir(parents=True, exist_ok=True)
    train_set, test_set = load_image_set("digits"), load_image_set("digits", split="test")
    real = train_set.batch(torch.arange(len(train_set)))
    clf, acc = train_fid_classifier(
        real,
        train_set.labels,
        test_set.batch(torch.arange(len(test_set))),
        test_set.labels,
        generator=torch.Generator().manual_seed(0),
    )
    fid = ClassifierFID(clf, real, acc)
    floor = fid.score(test_set.batch(torch.arange(min(args.samples, len(test_set)))))
    print(f"FID classifier held-out accuracy {acc:.4f}; real test vs train FID {floor:.3f}", flush=True)
    result.update(
        classifier_accuracy=acc,
        fid_real_test_vs_train=floor,
        samples=args.samples,
        sampler=f"ddim eta=0, {args.sample_steps} steps",
        runs=[],
    )
    save_image_grid(real[:64], args.out_dir / "real.png", nrow=8)
    for seed in args.seeds:
        for kind in args.models:
            if args.tg_from is not None and kind != "spiking":
                continue
            print(f"seed {seed} {kind}: training {args.steps} steps", flush=True)
            ddpm = build(kind, seed)
            if args.tg_from is not None:  # reuse trained weights: threshold-guidance sweep only
                ddpm.model.load_state_dict(torch.load(args.tg_from / f"spiking_seed{seed}_ema.pt", weights_only=True))
                ema, run = EMA(ddpm.model, 0.0), {"seed": seed, "model": kind, "weights": str(args.tg_from)}
                args.energy_steps = 0
            else:
                ema, loss, secs = train(ddpm, train_set, args.steps, seed)
                torch.save(ema.module.state_dict(), args.out_dir / f"{kind}_seed{seed}_ema.pt")
                run = {
                    "seed": seed,
                    "model": kind,
                    "final_loss": loss,
                    "train_seconds": secs,
                    "steps_per_s": args.steps / secs,
                }
            ema_ddpm = GaussianDiffusion(ema.module, CFG.num_steps, CFG.beta_1, CFG.beta_T, CFG.var_type)
            x = sample(ema_ddpm, args.samples, 1000 + seed, args.sample_steps)
            run["fid"] = fid.score(x)
            save_image_grid(x[:64], args.out_dir / f"{kind}_seed{seed}.png", nrow=8)
            print(f"  fid {run['fid']:.3f}", flush=True)
            if kind == "spiking":
                tg = []
                for shift in args.shifts:
                    with threshold_shift(ema.module, shift):
                        held = fid.score(sample(ema_ddpm, args.samples, 2000 + seed, args.sample_steps))
                        rep = (
                            run["fid"]
                            if shift == 0
                            else fid.score(sample(ema_ddpm, args.samples, 1000 + seed, args.sample_steps))
                        )
                    tg.append({"shift": shift, "fid_heldout": held, "fid_reported": rep})
                    print(f"  TG shift {shift:+.2f}: held-out {held:.3f}, reported {rep:.3f}", flush=True)
                best = min(tg, key=lambda r: r["fid_heldout"])
                run.update(threshold_guidance=tg, tg_best_shift=best["shift"], fid_tg=best["fid_reported"])
                with threshold_shift(ema.module, best["shift"]):
                    save_image_grid(
                        sample(ema_ddpm, 64, 1000 + seed, args.sample_steps),
                        args.out_dir / f"spiking_tg_seed{seed}.png",
                        nrow=8,
                    )
            if seed == args.seeds[0] and args.energy_steps:
                rep, calls = sampling_energy(
                    ema_ddpm,
                    (1, 1, CFG.image_size, CFG.image_size),
                    sampler="ddpm",
                    steps=args.energy_steps,
                    generator=torch.Generator().manual_seed(7),
                    ann=kind == "ann",
                )
                neurons = [r for r in rep.layers if r.op == "neuron"]
                run["energy"] = {
                    "sampler": f"ddpm {calls} steps",
                    "per_sample_mJ": rep.energy_mJ,
                    "per_step_mJ": rep.energy_mJ / calls,
                    "mac": rep.mac,
                    "ac": rep.ac,
                    "firing_rate": rep.firing_rate,
                    "layer_rates": {r.name: r.output_rate for r in neurons},
                }
                print(
                    f"  energy per sample {rep.energy_mJ:.4f} mJ ({calls} steps), firing rate {rep.firing_rate}",
                    flush=True,
                )
            result["runs"].append(run)
            path = args.json or RESULTS / "diffusion_digits.json"
            path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
