"""Learn one delay per synapse (DCLS delays, Hammouamri et al., ICLR 2024) on SHD, SSC or a task that needs delays.

The network of :class:`spiking.delays.DelaySNN` (delay layer -> BN -> LIF -> dropout, leaky read-out,
loss summed over time) with the paper's recipe (:data:`spiking.delays.RECIPES`): Gaussian kernels
whose width shrinks over the first quarter of training, positions at 100x the weights' learning
rate, evaluation with rounded integer delays (the fast path). ``--delays fixed`` keeps random
integer delays, ``--delays none`` removes them (K = 1, the same network otherwise).

Default (no download): the offset task of :func:`spiking.delays.delay_task`, which a network
without delays cannot solve. Real data: ``--root`` holds the unzipped ``shd_{train,test}.h5`` or
``ssc_{train,valid,test}.h5``; these commands run the paper's configurations:

    python examples/delays.py --out runs/delay_task
    python examples/delays.py --data shd --root DATA/SHD --out runs/shd_delays
    python examples/delays.py --data ssc --root DATA/SSC --out runs/ssc_delays

Writes ``config.json``, ``metrics.csv``, ``metrics.json`` (``best.test_acc``: SHD and the task at the
best test epoch as the paper reports, SSC at the best validation epoch; ``final``: the last epoch),
TensorBoard events, ``checkpoint.pt`` / ``best.pt``, ``delays.png`` (histogram of the learned
integer delays per layer) and ``energy.json`` (operation counts and energy of one test sample).

Measured on the task (2000 / 1000 samples, 20 epochs, 1 CPU thread, ``heavy --exclusive``; chance
0.25): ``--delays learn`` 0.999 best test accuracy (36 s), ``fixed`` 0.996 (33 s), ``none`` 0.262 (22 s);
with ``--hidden 32``: ``learn`` 0.930, ``fixed`` 0.503 (spiking/delays/RESULTS.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from torch.utils.data import DataLoader

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _run import Run, example_parser, fail, nonnegative_int, positive_int

from spiking.datasets import SHD, SSC
from spiking.delays import (
    DELAY_MODES,
    AudioFrames,
    DelayTask,
    delay_layers,
    evaluate,
    get_recipe,
    integer_delays,
    pad_collate,
    set_sigma,
    train_epoch,
)
from spiking.energy import estimate_energy

DATASETS = ("delay-task", "shd", "ssc")


def parse(argv):
    p = example_parser(__doc__, out="runs/delays")
    p.add_argument("--data", choices=DATASETS, default="delay-task")
    p.add_argument("--root", help="folder of the unzipped SHD/SSC .h5 files (needed for shd/ssc)")
    p.add_argument("--delays", choices=DELAY_MODES, default="learn", help="learn, fixed random, or none (K = 1)")
    p.add_argument("--epochs", type=positive_int, help="default: the recipe's (150 SHD, 60 SSC, 20 task)")
    p.add_argument("--batch-size", type=positive_int, help="default: the recipe's (256 SHD, 128 SSC, 64 task)")
    p.add_argument("--hidden", type=positive_int, help="neurons per hidden layer (default: the recipe's)")
    p.add_argument("--layers", type=positive_int, help="hidden layers (default: the recipe's)")
    p.add_argument("--kernel-size", type=positive_int, help="K, max delay K - 1 steps (default: the recipe's)")
    p.add_argument(
        "--train-samples",
        type=nonnegative_int,
        default=0,
        help="task: samples (0: 2000); shd/ssc: first N recordings (0: all)",
    )
    p.add_argument("--test-samples", type=nonnegative_int, default=0, help="as --train-samples (0: 1000 / all)")
    p.add_argument("--cache", help="disk cache of the SHD/SSC frames")
    p.add_argument("--workers", type=nonnegative_int, default=0, help="DataLoader worker processes")
    args = p.parse_args(argv)
    if args.data != "delay-task" and not args.root:
        fail(f"--data {args.data} needs --root (the folder of the unzipped {args.data}_*.h5 files)")
    return args


def subset(ds, n):
    return torch.utils.data.Subset(ds, range(min(n, len(ds)))) if n else ds


def datasets(args, recipe):
    """``{split: dataset}`` with ``train``, ``test`` and for SSC ``valid``; plus (channels, classes)."""
    if args.data == "delay-task":
        g = torch.Generator().manual_seed(args.seed)
        train = DelayTask(args.train_samples or 2000, generator=g)
        sets = {"train": train, "test": DelayTask(args.test_samples or 1000, generator=g)}
        return sets, train.num_channels, train.num_classes
    cls, splits = (SHD, ("train", "test")) if args.data == "shd" else (SSC, ("train", "valid", "test"))
    sets = {}
    for split in splits:
        try:
            ds = AudioFrames(cls(args.root, split), recipe.frame_us, recipe.channel_bins, args.cache)
        except FileNotFoundError as err:
            fail(f"{err} (download {args.data} from https://zenkelab.org/datasets/ and unzip it into --root)")
        sets[split] = subset(ds, args.train_samples if split == "train" else args.test_samples)
    first = sets["train"].dataset if isinstance(sets["train"], torch.utils.data.Subset) else sets["train"]
    return sets, first.num_channels, first.num_classes


def plot_delays(model, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    layers = delay_layers(model)
    fig, axes = plt.subplots(1, len(layers), figsize=(3.2 * len(layers), 2.6), squeeze=False)
    for i, (ax, m) in enumerate(zip(axes[0], layers, strict=True)):
        d = m.integer_delays().flatten().cpu()
        ax.hist(d.numpy(), bins=torch.arange(m.kernel_size + 1).numpy() - 0.5, color="tab:blue")
        ax.set_title(f"layer {i + 1}: {m.in_channels} -> {m.out_channels}", fontsize=9)
        ax.set_xlabel("delay (steps)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0][0].set_ylabel("synapses")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> dict:
    args = parse(argv)
    run = Run(args)
    overrides = {
        k: v
        for k, v in (
            ("epochs", args.epochs),
            ("batch_size", args.batch_size),
            ("hidden_features", args.hidden),
            ("num_hidden_layers", args.layers),
            ("kernel_size", args.kernel_size),
        )
        if v is not None
    }
    recipe = get_recipe(args.data, delays=args.delays, **overrides)
    sets, channels, classes = datasets(args, recipe)
    model = recipe.build_model(channels, classes, generator=torch.Generator().manual_seed(args.seed)).to(run.device)
    optimizers, schedulers = recipe.optimizers(model)
    sigma = recipe.sigma_schedule()
    loaders = {
        k: DataLoader(
            v, batch_size=recipe.batch_size, shuffle=k == "train", collate_fn=pad_collate, num_workers=args.workers
        )
        for k, v in sets.items()
    }
    select = (
        "valid" if "valid" in sets else "test"
    )  # SSC selects on validation; SHD (no validation) and the task on test
    run.write_config(
        {
            "recipe": recipe.to_dict(),
            "samples": {k: len(v) for k, v in sets.items()},
            "in_channels": channels,
            "classes": classes,
            "parameters": sum(p.numel() for p in model.parameters()),
        }
    )
    start, best = 0, {"epoch": 0, select + "_acc": -1.0}
    state = run.resume()
    if state is not None:
        model.load_state_dict(state["model"])
        for o, s in zip(optimizers, state["optimizers"], strict=True):
            o.load_state_dict(s)
        for sch, s in zip(schedulers, state["schedulers"], strict=True):
            sch.load_state_dict(s)
        start, best = state["epoch"], state["best"]
    for epoch in range(start, recipe.epochs):
        set_sigma(model, sigma(epoch))
        t0 = run.seconds
        train = train_epoch(
            model, loaders["train"], optimizers, run.device, lambda it, e=epoch: run.bar(it, desc=f"epoch {e + 1}")
        )
        seconds = run.seconds - t0
        for sch in schedulers:
            sch.step()
        row = {"epoch": epoch + 1, "sigma": sigma(epoch), "train_loss": train["loss"], "train_acc": train["acc"]}
        for split in [s for s in ("valid", "test") if s in loaders]:
            ev = evaluate(model, loaders[split], run.device)
            row.update({f"{split}_loss": ev["loss"], f"{split}_acc": ev["acc"]})
        row.update({"samples_per_s": train["samples"] / max(seconds, 1e-9), "seconds": seconds})
        run.log(row, step=epoch + 1)
        if row[select + "_acc"] > best[select + "_acc"]:
            best = {k: row[k] for k in row if k == "epoch" or k.endswith("_acc")}
            run.checkpoint({"model": model.state_dict(), "epoch": epoch + 1}, step=epoch + 1, name="best.pt")
        run.checkpoint(
            {
                "model": model.state_dict(),
                "optimizers": [o.state_dict() for o in optimizers],
                "schedulers": [s.state_dict() for s in schedulers],
                "epoch": epoch + 1,
                "best": best,
            },
            step=epoch + 1,
        )
    plot_delays(model, run.path("delays.png"))
    x, _ = sets["test"][0]
    with integer_delays(model, method="spmm"):  # the op the energy counter charges once per synapse and step
        report = estimate_energy(model, x.unsqueeze(1).to(run.device), weight_reads=x.shape[0])
    report.to_json(run.path("energy.json"))
    print(report.table(), flush=True)
    final = {k: v for k, v in run.rows[-1].items() if k == "epoch" or k.endswith("_acc")} if run.rows else {}
    return run.finish(
        {
            "best": best,
            "final": final,
            "energy_mJ_per_sample": report.energy_mJ,
            "minutes": run.seconds / 60,
            "recipe": recipe.to_dict(),
        }
    )


if __name__ == "__main__":
    main()
