"""Energy estimation for any spiking or artificial model: MAC/AC counts, firing rates, energy.

``estimate_energy(model, example_input, T=..., preset=...)`` returns an :class:`EnergyReport`
with per-layer rows and totals; presets from Horowitz (ISSCC 2014, 45 nm); an ANN twin
(neurons -> ReLU) for the SNN/ANN ratio; :func:`measure_energy` counts an :class:`EnergyTarget`
(model, input, ANN counterpart, per-unit divisor) and collects the flat figures of an experiment log.
"""

from .ann_twin import count_neurons, make_ann_twin
from .counter import EnergyCounter, is_spiking_neuron
from .estimate import count_ops, estimate_ann_energy, estimate_energy
from .plot import plot_energy
from .presets import PRESETS, EnergyPreset, get_preset, preset_names
from .report import EnergyOptions, EnergyReport, LayerEnergy, build_report
from .stats import LayerStats
from .summary import format_transformer_energy, transformer_energy_summary
from .targets import EnergyResult, EnergyTarget, measure_energy, random_input, spiking_frames_target

__all__ = [
    "estimate_energy",
    "estimate_ann_energy",
    "count_ops",
    "EnergyReport",
    "LayerEnergy",
    "EnergyOptions",
    "build_report",
    "EnergyCounter",
    "LayerStats",
    "is_spiking_neuron",
    "make_ann_twin",
    "count_neurons",
    "EnergyPreset",
    "PRESETS",
    "get_preset",
    "preset_names",
    "plot_energy",
    "EnergyTarget",
    "EnergyResult",
    "measure_energy",
    "random_input",
    "spiking_frames_target",
    "transformer_energy_summary",
    "format_transformer_energy",
]
