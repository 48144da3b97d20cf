"""A flat summary of an :class:`EnergyReport` of a spiking transformer: totals, SNN/ANN ratio, attention cost."""

from __future__ import annotations

from .report import EnergyReport

__all__ = ["format_transformer_energy", "transformer_energy_summary"]


def transformer_energy_summary(report: EnergyReport) -> dict:
    """Totals of ``report`` and of its ANN twin, their ratio, the attention's share and per-layer rates.

    ``attention`` sums the rows of the Q/K/V projections (names ending ``.attn.attn.qkv.proj``) and
    of the attention products (``matmul`` rows named ``.attn.attn``: ``K^T V`` and ``Q (K^T V)`` or the
    token sums of SDT), as MAC and AC counts and energy in mJ; ``rates`` maps each neuron layer to its
    output firing rate (spikes per neuron per step).

    Returns:
        ``{"snn", "ann", "snn_over_ann", "attention", "rates"}`` (``snn``/``ann``: :meth:`EnergyReport.totals`).

    Raises:
        TypeError: ``report`` is not an :class:`EnergyReport`.
        ValueError: ``report`` has no ANN twin (``estimate_energy(..., ann=True)``) or the twin costs no energy.
    """
    if not isinstance(report, EnergyReport):
        raise TypeError(f"transformer_energy_summary: report must be an EnergyReport (got {type(report).__name__})")
    if report.ann is None or report.ann.energy_pJ <= 0:
        raise ValueError(
            "transformer_energy_summary: report must carry an ANN twin with energy > 0 "
            f"(estimate_energy(..., ann=True)) (got {'none' if report.ann is None else report.ann.energy_pJ})"
        )
    qkv = [r for r in report.layers if r.name.endswith(".attn.attn.qkv.proj")]  # Q/K/V projections
    prod = [r for r in report.layers if r.name.endswith(".attn.attn") and r.op == "matmul"]  # K^T V, Q A / token sum
    return {
        "snn": report.totals(),
        "ann": report.ann.totals(),
        "snn_over_ann": report.energy_pJ / report.ann.energy_pJ,
        "attention": {
            "qkv_mac": sum(r.mac for r in qkv),
            "qkv_ac": sum(r.ac for r in qkv),
            "products_mac": sum(r.mac for r in prod),
            "products_ac": sum(r.ac for r in prod),
            "energy_mJ": sum(r.energy_pJ for r in qkv + prod) * 1e-9,
        },
        "rates": {r.name: r.output_rate for r in report.layers if r.op == "neuron"},
    }


def format_transformer_energy(summary: dict) -> str:
    """One line of :func:`transformer_energy_summary`'s dict: SNN energy, MAC/AC, firing rate, the ANN twin,
    their ratio and the attention's counts (``"energy/sample: SNN ... mJ (...); ANN twin ... mJ; ..."``)."""
    e, a = summary, summary["attention"]
    return (
        f"energy/sample: SNN {e['snn']['energy_mJ']:.4g} mJ "
        f"(MAC {e['snn']['mac']:.4g}, AC {e['snn']['ac']:.4g}, firing rate {e['snn']['firing_rate']:.4f}); "
        f"ANN twin {e['ann']['energy_mJ']:.4g} mJ; SNN/ANN {e['snn_over_ann']:.4f}; "
        f"attention: Q/K/V AC {a['qkv_ac']:.4g} MAC {a['qkv_mac']:.4g}, products AC {a['products_ac']:.4g} "
        f"MAC {a['products_mac']:.4g}, {a['energy_mJ']:.4g} mJ (the twin runs the same T frames)"
    )
