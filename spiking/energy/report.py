r"""Turn raw counts into MAC/AC, energy and a per-layer report.

Energy model (Horowitz 45 nm, the SNN literature's convention):

.. math::
    E = E_{MAC} \cdot \#MAC + E_{AC} \cdot \#AC \;(+\; E_{bit} \cdot \text{bits moved})

* a synaptic layer (conv, linear, matmul, spmm) whose activation input is **binary** counts
  ``AC = r x FLOPs`` (``ac_count="rate"``) or the exact spike-triggered weight uses
  (``ac_count="exact"``); a **real-valued** input counts ``MAC = FLOPs``;
* additions-only ops count AC = FLOPs: average pooling, ``index_add`` scatter-adds (event-driven
  synapses given as spike coordinates), and ``spmm`` without edge weights;
* batch norm: folded into the preceding layer (``bn="fold"``, nothing counted, the papers'
  convention) or one MAC per element (``bn="count"``);
* the **first layer** (the module and op kind of the first synaptic op executed): ``first_layer="auto"``
  (binary -> AC, real -> MAC), ``"mac"`` (always MAC, e.g. static images), ``"ac"``
  (AC x non-zero rate, e.g. event counts that are small integers);
* ``static_input="once"``: a static input repeated over ``T`` steps drives the first layer once,
  so its counts are divided by ``T`` (``"per_step"`` keeps all ``T``);
* ``neuron_updates=True`` adds one AC per neuron per step (syops-counter's convention);
* memory (``memory=True``, reported separately): parameter bits read per step (per call times
  ``weight_reads``, which is ``T`` for one multi-step call), graph structure read by ``spmm``
  (likewise), and one read + one write of each neuron's state per step.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Optional

from .presets import EnergyPreset
from .rules import SYNAPTIC_OPS
from .stats import LayerStats

__all__ = ["EnergyOptions", "LayerEnergy", "EnergyReport", "build_report"]

_FIRST_LAYER = ("auto", "mac", "ac")
_AC_COUNT = ("rate", "exact")
_BN = ("fold", "count")
_STATIC = ("per_step", "once")


@dataclass(frozen=True)
class EnergyOptions:
    """Counting options (see the module docstring); validated on construction."""

    first_layer: str = "auto"
    ac_count: str = "rate"
    bn: str = "fold"
    static_input: str = "per_step"
    neuron_updates: bool = False
    memory: bool = False
    T: Optional[int] = None
    weight_reads: int = 1  # memory: parameter / graph reads per forward call (T for a multi-step call)
    all_mac: bool = False  # ANN counting: every synaptic op is a MAC

    def __post_init__(self) -> None:
        for field_name, valid in (
            ("first_layer", _FIRST_LAYER),
            ("ac_count", _AC_COUNT),
            ("bn", _BN),
            ("static_input", _STATIC),
        ):
            value = getattr(self, field_name)
            if value not in valid:
                raise ValueError(f"estimate_energy: {field_name} must be one of {list(valid)} (got {value!r})")
        if isinstance(self.weight_reads, bool) or not isinstance(self.weight_reads, int) or self.weight_reads < 1:
            raise ValueError(f"estimate_energy: weight_reads must be a positive int (got {self.weight_reads!r})")
        for field_name in ("neuron_updates", "memory", "all_mac"):
            if not isinstance(getattr(self, field_name), bool):
                raise TypeError(
                    f"estimate_energy: {field_name} must be a bool (got {type(getattr(self, field_name)).__name__})"
                )


@dataclass
class LayerEnergy:
    """One report row: a module (by qualified name) and the kind of op it ran."""

    name: str
    module_type: str
    op: str
    calls: int
    flops: float
    input_rate: Optional[float]
    mac: float
    ac: float
    energy_pJ: float
    first_layer: bool = False
    spikes: Optional[float] = None
    outputs: Optional[float] = None
    output_rate: Optional[float] = None
    memory_bits: float = 0.0
    memory_pJ: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class EnergyReport:
    """Per-layer rows and totals. ``energy_mJ`` is compute energy; memory is kept apart."""

    layers: list[LayerEnergy]
    preset: EnergyPreset
    options: EnergyOptions
    ann: Optional["EnergyReport"] = None
    notes: list[str] = field(default_factory=list)

    # totals ------------------------------------------------------------------------------
    @property
    def mac(self) -> float:
        return sum(r.mac for r in self.layers)

    @property
    def ac(self) -> float:
        return sum(r.ac for r in self.layers)

    @property
    def flops(self) -> float:
        return sum(r.flops for r in self.layers if r.op != "neuron")

    @property
    def energy_pJ(self) -> float:
        return sum(r.energy_pJ for r in self.layers)

    @property
    def energy_mJ(self) -> float:
        return self.energy_pJ * 1e-9

    @property
    def memory_mJ(self) -> float:
        return sum(r.memory_pJ for r in self.layers) * 1e-9

    @property
    def spikes(self) -> float:
        return sum(r.spikes or 0.0 for r in self.layers if r.op == "neuron")

    @property
    def firing_rate(self) -> Optional[float]:
        """All spikes over all neuron outputs, every neuron layer together (None without neurons)."""
        outputs = sum(r.outputs or 0.0 for r in self.layers if r.op == "neuron")
        return self.spikes / outputs if outputs else None

    def totals(self) -> dict:
        total = {
            "mac": self.mac,
            "ac": self.ac,
            "flops": self.flops,
            "energy_mJ": self.energy_mJ,
            "spikes": self.spikes,
            "firing_rate": self.firing_rate,
        }
        if self.options.memory:
            total["memory_mJ"] = self.memory_mJ
            total["energy_with_memory_mJ"] = self.energy_mJ + self.memory_mJ
        return total

    def to_dict(self) -> dict:
        out = {
            "total": self.totals(),
            "layers": [r.to_dict() for r in self.layers],
            "preset": self.preset.to_dict(),
            "options": asdict(self.options),
            "notes": list(self.notes),
        }
        if self.ann is not None:
            out["ann"] = {"total": self.ann.totals(), "layers": [r.to_dict() for r in self.ann.layers]}
            if self.ann.energy_pJ > 0:
                out["ann"]["snn_over_ann_energy"] = self.energy_pJ / self.ann.energy_pJ
        return out

    def to_json(self, path=None, indent: int = 2) -> str:
        text = json.dumps(self.to_dict(), indent=indent)
        if path is not None:
            with open(path, "w") as fh:
                fh.write(text + "\n")
        return text

    def table(self) -> str:
        """A plain-text per-layer table with totals (and the ANN twin's totals when present)."""
        head = f"{'layer':<34} {'op':<7} {'FLOPs':>11} {'rate':>6} {'MAC':>11} {'AC':>11} {'E (uJ)':>10}"
        lines = [head, "-" * len(head)]
        for r in self.layers:
            rate = r.output_rate if r.op == "neuron" else r.input_rate
            rate_s = "-" if rate is None else f"{rate:.3f}"
            name = (r.name + ("*" if r.first_layer else ""))[-34:]
            lines.append(
                f"{name:<34} {r.op:<7} {r.flops:>11.4g} {rate_s:>6} {r.mac:>11.4g} {r.ac:>11.4g} "
                f"{r.energy_pJ * 1e-6:>10.4g}"
            )
        lines.append("-" * len(head))
        lines.append(
            f"{'total':<34} {'':<7} {self.flops:>11.4g} {'':>6} {self.mac:>11.4g} {self.ac:>11.4g} "
            f"{self.energy_pJ * 1e-6:>10.4g}"
        )
        lines.append(
            f"energy: {self.energy_mJ:.6g} mJ ({self.preset.name}: MAC {self.preset.mac_pj} pJ, "
            f"AC {self.preset.ac_pj} pJ)"
        )
        if self.options.memory:
            lines.append(f"memory: {self.memory_mJ:.6g} mJ at {self.preset.memory_pj_per_bit} pJ/bit (separate)")
        if self.ann is not None:
            ratio = self.energy_pJ / self.ann.energy_pJ if self.ann.energy_pJ else float("nan")
            lines.append(
                f"ANN twin: MAC {self.ann.mac:.4g}, AC {self.ann.ac:.4g}, {self.ann.energy_mJ:.6g} mJ; "
                f"SNN/ANN energy = {ratio:.4f}"
            )
        if any(r.first_layer for r in self.layers):
            lines.append("* first layer")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


def _first_key(stats: list[LayerStats]) -> Optional[tuple[str, str]]:
    """``(name, op)`` of the first synaptic row executed (stats are in first-execution order)."""
    for row in stats:
        if row.op in SYNAPTIC_OPS:
            return row.name, row.op
    return None


def _synaptic_counts(row: LayerStats, opts: EnergyOptions, first: bool) -> tuple[float, float]:
    """(MAC, AC) of a synaptic row under the options."""
    exact = opts.ac_count == "exact"
    ac_bin = row.ac_exact_binary if exact else row.ac_rate_binary
    if opts.all_mac:
        return (0.0, row.flops) if row.additive else (row.flops, 0.0)
    if first and opts.first_layer == "mac":
        return row.flops, 0.0
    if first and opts.first_layer == "ac":
        ac_real = row.ac_exact_real if exact else row.ac_rate_real
        return 0.0, ac_bin + ac_real
    if row.additive:
        return 0.0, ac_bin + row.flops_real
    return row.flops_real, ac_bin


def build_report(stats: list[LayerStats], preset: EnergyPreset, opts: EnergyOptions) -> EnergyReport:
    """Apply the options and unit energies to raw :class:`LayerStats`."""
    first_key = _first_key(stats)
    layers: list[LayerEnergy] = []
    notes: list[str] = []
    per_bit = preset.memory_pj_per_bit
    for row in stats:
        first = (row.name, row.op) == first_key
        rate = None
        outputs = None
        spikes = None
        out_rate = None
        mem_bits = (row.param_bits + row.extra_bits) * opts.weight_reads
        if row.op == "neuron":
            mac, ac = 0.0, (row.updates if opts.neuron_updates else 0.0)
            if opts.all_mac:
                ac = 0.0  # a ReLU needs no accumulate; the ANN twin has no neurons anyway
            spikes, outputs = row.spikes, row.out_numel
            out_rate = row.spikes / row.out_numel if row.out_numel else None
            mem_bits += row.state_bits
        elif row.op in SYNAPTIC_OPS:
            mac, ac = _synaptic_counts(row, opts, first)
            if row.numel_binary:
                rate = row.nnz_binary / row.numel_binary
            elif first and opts.first_layer == "ac" and row.numel_real:
                rate = row.nnz_real / row.numel_real
        elif row.op == "bn":
            if opts.bn == "fold":
                mac, ac, mem_bits = 0.0, 0.0, 0.0
            else:
                mac, ac = row.flops, 0.0
        elif row.op in ("pool", "scatter"):
            mac, ac = 0.0, row.flops
        else:  # pragma: no cover - every rule returns one of the kinds above
            raise ValueError(f"build_report: unknown op kind {row.op!r}")
        flops = row.flops if row.op != "neuron" else row.updates
        if first and opts.static_input == "once" and opts.T:
            mac, ac, flops, mem_bits = mac / opts.T, ac / opts.T, flops / opts.T, mem_bits / opts.T
        energy = mac * preset.mac_pj + ac * preset.ac_pj
        layers.append(
            LayerEnergy(
                name=row.name,
                module_type=row.module_type,
                op=row.op,
                calls=row.calls,
                flops=flops,
                input_rate=rate,
                mac=mac,
                ac=ac,
                energy_pJ=energy,
                first_layer=first,
                spikes=spikes,
                outputs=outputs,
                output_rate=out_rate,
                memory_bits=mem_bits if opts.memory else 0.0,
                memory_pJ=mem_bits * per_bit if opts.memory else 0.0,
            )
        )
    if first_key is None:
        notes.append("no synaptic op (conv/linear/matmul/spmm) was executed")
    return EnergyReport(layers=layers, preset=preset, options=opts, notes=notes)
