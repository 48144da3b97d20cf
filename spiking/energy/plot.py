"""Bar chart of energy per layer, an SNN beside its ANN twin (matplotlib, imported only when used)."""

from __future__ import annotations

import os
from typing import Optional

from .report import EnergyReport

__all__ = ["plot_energy"]


def plot_energy(report: EnergyReport, path: "str | os.PathLike", title: Optional[str] = None) -> str:
    """Write a PNG bar chart of compute energy (uJ) per layer; ANN twin bars beside when present.

    The model's bars are labelled "SNN" when the report has spiking-neuron rows, else "ANN".

    Layers are matched by ``(name, op)``; neuron rows appear only when they cost energy.

    Returns:
        the path written.
    """
    if not isinstance(report, EnergyReport):
        raise TypeError(f"plot_energy: expected an EnergyReport (got {type(report).__name__})")
    try:
        import matplotlib
    except ImportError as err:  # optional at this level
        raise ImportError("plot_energy needs matplotlib: pip install matplotlib") from err
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    # rows that cost nothing by construction (folded BN, neurons without update counting) are left out
    keys = [(r.name, r.op) for r in report.layers if r.op not in ("neuron", "bn") or r.energy_pJ > 0]
    ann = {}
    if report.ann is not None:
        ann = {(r.name, r.op): r.energy_pJ for r in report.ann.layers}
        keys += [k for k, e in ann.items() if k not in keys and (k[1] not in ("neuron", "bn") or e > 0)]
    snn = {(r.name, r.op): r.energy_pJ for r in report.layers}
    labels = [f"{n} ({op})" for n, op in keys]
    xs = range(len(keys))
    width = 0.4 if ann else 0.8
    fig, ax = plt.subplots(figsize=(max(6.0, 0.45 * len(keys) + 2), 4.5))
    # a model without spiking-neuron rows is an ANN: never label it "SNN"
    kind = "SNN" if any(r.op == "neuron" for r in report.layers) else "ANN"
    ax.bar(
        [x - (width / 2 if ann else 0) for x in xs],
        [snn.get(k, 0.0) * 1e-6 for k in keys],
        width,
        label=f"{kind} {report.energy_mJ:.4g} mJ",
    )
    if ann:
        ax.bar(
            [x + width / 2 for x in xs],
            [ann.get(k, 0.0) * 1e-6 for k in keys],
            width,
            label=f"ANN twin {report.ann.energy_mJ:.4g} mJ",
        )
    ax.set_xticks(list(xs))
    ax.set_xticklabels(labels, rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("energy for the example input (uJ)")
    ax.set_title(title or f"energy per layer ({report.preset.name})")
    ax.legend()
    fig.tight_layout()
    tmp = f"{os.fspath(path)}.tmp.png"
    fig.savefig(tmp, dpi=120)
    plt.close(fig)
    os.replace(tmp, path)
    return os.fspath(path)
