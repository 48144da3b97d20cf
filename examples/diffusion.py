"""Spiking diffusion (SDDPM): train a spiking U-Net and/or its ANN twin as a DDPM noise predictor.

Default: scikit-learn's bundled 8x8 digits upsampled to 16x16, a small U-Net that trains on one CPU
thread in minutes, sampling from the EMA weights, an offline FID on the features of a small
classifier trained here (not comparable with Inception FIDs), energy per denoising step and per
sample (spiking.energy). Real data from files already on disk: --data mnist|fashion-mnist|cifar10|
celeba --root DIR (nothing is downloaded; SDDPM's network sizes for those sets).

    python examples/diffusion.py --model both --steps 500
    python examples/diffusion.py --model spiking --threshold-shift -0.1 --sampler ddpm --sample-steps 100
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import time

import torch
from _run import Run, example_parser, fail, positive_int

from spiking.datasets.images import IMAGE_SETS, load_image_set
from spiking.diffusion import (
    CPU_CONFIGS,
    PAPER_CONFIGS,
    SAMPLERS,
    ClassifierFID,
    DiffusionTrainer,
    GaussianDiffusion,
    TrainConfig,
    sampling_energy,
    save_image_grid,
    threshold_shift,
    train_fid_classifier,
)


def finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number (got {text!r})") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number (got {text!r})")
    return value


def parse(argv=None) -> argparse.Namespace:
    p = example_parser(__doc__, out="runs/diffusion", threads=1)
    p.add_argument("--model", choices=["spiking", "ann", "both"], default="spiking")
    p.add_argument("--data", choices=sorted(IMAGE_SETS), default="digits")
    p.add_argument("--root", default=None, help="folder with the data files (mnist, fashion-mnist, cifar10, celeba)")
    p.add_argument("--T-snn", type=positive_int, default=4, help="SNN time steps per U-Net call")
    p.add_argument("--neuron", choices=["if", "lif"], default="if")
    p.add_argument("--tsm", action="store_true", help="SDM's temporal-wise spiking mechanism")
    p.add_argument("--steps", type=positive_int, default=500, help="training steps (optimiser updates)")
    p.add_argument("--batch-size", type=positive_int, default=None)
    p.add_argument("--ch", type=positive_int, default=None, help="U-Net base width (data set default)")
    p.add_argument("--image-size", type=positive_int, default=None, help="training resolution (data set default)")
    p.add_argument("--sampler", choices=SAMPLERS, default="ddim")
    p.add_argument("--sample-steps", type=positive_int, default=20, help="model calls per sample")
    p.add_argument("--threshold-shift", type=finite_float, default=0.0, help="threshold guidance for sampling")
    p.add_argument("--eval-every", type=positive_int, default=250, help="steps between sample grids and FIDs")
    p.add_argument("--fid-samples", type=positive_int, default=256)
    p.add_argument("--fid-epochs", type=positive_int, default=30, help="training epochs of the FID classifier")
    p.add_argument(
        "--energy-steps",
        type=int,
        default=None,
        help="denoising steps counted for the energy of one sample (default: the sampler's)",
    )
    return p.parse_args(argv)


def main(argv=None) -> dict:
    args = parse(argv)
    run = Run(args, resumable=("steps",))
    base = CPU_CONFIGS.get(args.data) or PAPER_CONFIGS[args.data]
    cfg = dataclasses.replace(
        base,
        T_snn=args.T_snn,
        neuron=args.neuron,
        total_steps=args.steps,
        batch_size=args.batch_size or base.batch_size,
        ch=args.ch or base.ch,
        image_size=args.image_size or base.image_size,
    )
    device = torch.device(args.device)
    try:
        train_set = load_image_set(args.data, args.root, "train", cfg.image_size)
        test_set = load_image_set(args.data, args.root, "test", cfg.image_size)
    except (FileNotFoundError, ValueError, ImportError) as err:
        fail(str(err))
    models = ["spiking", "ann"] if args.model == "both" else [args.model]
    run.write_config({"sddpm": dataclasses.asdict(cfg), "models": models})

    # offline FID: a classifier trained on (at most 10k of) the training images, scored on the test split
    ref = torch.randperm(len(train_set), generator=torch.Generator().manual_seed(args.seed))[:10_000]
    real = train_set.batch(ref)
    held = torch.arange(min(len(test_set), 5000))
    clf, acc = train_fid_classifier(
        real,
        train_set.labels[ref],
        test_set.batch(held),
        test_set.labels[held],
        epochs=args.fid_epochs,
        generator=torch.Generator().manual_seed(args.seed),
    )
    fid = ClassifierFID(clf, real, acc)
    floor = fid.score(test_set.batch(held[: args.fid_samples]))
    print(f"fid classifier: test accuracy {acc:.4f}; real test images vs train: fid {floor:.3f}", flush=True)
    save_image_grid(real[:64], run.path("real.png"), nrow=8)

    shape = (cfg.image_channels, cfg.image_size, cfg.image_size)
    trainers = {}
    for i, kind in enumerate(models):
        torch.manual_seed(args.seed)  # same initial draw for both models' shared layers
        model = cfg.build(kind, **({"tsm": args.tsm} if kind == "spiking" else {})).to(device)
        try:
            model.check_image_size(cfg.image_size, cfg.image_size)
        except ValueError as err:
            fail(str(err))
        ddpm = GaussianDiffusion(model, cfg.num_steps, cfg.beta_1, cfg.beta_T, cfg.var_type)
        tc = TrainConfig(cfg.lr, cfg.grad_clip, cfg.batch_size, cfg.ema_decay, True, IMAGE_SETS[args.data].hflip)
        trainers[kind] = DiffusionTrainer(ddpm, train_set, tc, torch.Generator().manual_seed(args.seed + i))
    state = run.resume() or {}
    for kind, tr in trainers.items():
        if kind in state:
            tr.load_state_dict(state[kind])

    def sample(tr: DiffusionTrainer, kind: str, n: int, seed: int) -> torch.Tensor:
        ema, gen, out = tr.ema_diffusion(), torch.Generator(device).manual_seed(seed), []
        shift = args.threshold_shift if kind == "spiking" and args.threshold_shift else None
        for start in range(0, n, 128):
            size = (min(128, n - start), *shape)
            if shift is None:
                out.append(ema.sample(size, sampler=args.sampler, steps=args.sample_steps, generator=gen).cpu())
            else:
                with threshold_shift(ema.model, shift):
                    out.append(ema.sample(size, sampler=args.sampler, steps=args.sample_steps, generator=gen).cpu())
        return torch.cat(out)

    def evaluate(tr: DiffusionTrainer, kind: str, losses: list[float], secs: float) -> dict:
        x = sample(tr, kind, args.fid_samples, 10_000 + args.seed)
        save_image_grid(x[:64], run.path(f"samples_{kind}_step{tr.steps}.png"), nrow=8)
        row = {
            "model": kind,
            "step": tr.steps,
            "loss": sum(losses) / max(len(losses), 1),
            "train_samples_per_s": len(losses) * cfg.batch_size / max(secs, 1e-9),
            "fid": fid.score(x),
        }
        run.log(row, step=tr.steps, tag=kind)
        return row

    results = {}
    for kind, tr in trainers.items():
        t0, losses = time.perf_counter(), []
        bar = run.bar(range(tr.steps, args.steps), desc=kind, initial=tr.steps, total=args.steps)
        for _ in bar:
            losses.append(tr.step())
            rate = len(losses) * cfg.batch_size / (time.perf_counter() - t0)
            bar.set_postfix(loss=f"{losses[-1]:.4f}", samples_s=f"{rate:.1f}")
            if tr.steps % args.eval_every == 0 or tr.steps == args.steps:
                results[kind] = evaluate(tr, kind, losses, time.perf_counter() - t0)
                losses, t0 = [], time.perf_counter()
                run.checkpoint({k: t.state_dict() for k, t in trainers.items()}, step=tr.steps)
        if kind not in results:  # resumed after this model had finished
            results[kind] = evaluate(tr, kind, [], 0.0)
        rep, calls = sampling_energy(
            tr.ema_diffusion(),
            (1, *shape),
            sampler=args.sampler,
            steps=args.energy_steps or args.sample_steps,
            generator=torch.Generator(device).manual_seed(1),
            ann=kind == "ann",
        )
        results[kind].update(
            energy_step_mJ=rep.energy_mJ / calls,
            energy_sample_mJ=rep.energy_mJ,
            energy_calls=calls,
            firing_rate=rep.firing_rate,
        )
        print(
            f"{kind}: energy {rep.energy_mJ / calls:.5f} mJ per denoising step, {rep.energy_mJ:.4f} mJ per "
            f"sample ({calls} steps), firing rate {rep.firing_rate}",
            flush=True,
        )
    first = results[models[0]]
    metrics = {
        "fid": first["fid"],
        "fid_classifier_accuracy": acc,
        "fid_real_test_vs_train": floor,
        "energy_step_mJ": first["energy_step_mJ"],
        "energy_sample_mJ": first["energy_sample_mJ"],
        "firing_rate": first["firing_rate"],
        "models": results,
    }
    if "ann" in results and "spiking" in results:
        metrics.update(
            fid=results["spiking"]["fid"],
            fid_ann_twin=results["ann"]["fid"],
            energy_sample_mJ=results["spiking"]["energy_sample_mJ"],
            energy_step_mJ=results["spiking"]["energy_step_mJ"],
            energy_sample_mJ_ann_twin=results["ann"]["energy_sample_mJ"],
        )
    return run.finish(metrics)


if __name__ == "__main__":
    main()
