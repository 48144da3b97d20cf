r"""Technology presets: energy per multiply-accumulate (MAC), per accumulate (AC), per bit moved.

Values from M. Horowitz, "Computing's energy problem (and what we can do about it)",
ISSCC 2014 (45 nm), as used by the spiking-network literature (Spikformer, Spike-driven
Transformer, syops-counter) and encoded in spikingjelly 2.0 ``op_counter/simple_energy.py``:

=============  ============================  ==========
preset         MAC (pJ)                      AC (pJ)
=============  ============================  ==========
45nm-fp32      4.6  (3.7 mult + 0.9 add)     0.9
45nm-fp16      1.5  (1.1 mult + 0.4 add)     0.4
45nm-int8      0.23 (0.2 mult + 0.03 add)    0.03
45nm-int32     3.2  (3.1 mult + 0.1 add)     0.1
=============  ============================  ==========

The memory term defaults to 3.12 pJ per bit moved, the figure STEP (NeurIPS 2025) uses and
spikingjelly 2.0 stores as 24.96 pJ/byte.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Union

__all__ = ["EnergyPreset", "PRESETS", "get_preset", "preset_names"]

DEFAULT_MEMORY_PJ_PER_BIT = 3.12


@dataclass(frozen=True)
class EnergyPreset:
    """Unit energies of one technology.

    Args:
        name: label written into reports.
        mac_pj: energy of one multiply-accumulate, picojoules.
        ac_pj: energy of one accumulate (addition), picojoules.
        memory_pj_per_bit: energy per bit read or written (memory term), picojoules.
    """

    name: str
    mac_pj: float
    ac_pj: float
    memory_pj_per_bit: float = DEFAULT_MEMORY_PJ_PER_BIT

    def __post_init__(self) -> None:
        for field in ("mac_pj", "ac_pj", "memory_pj_per_bit"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"EnergyPreset: {field} must be a number (got {type(value).__name__})")
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"EnergyPreset: {field} must be finite and >= 0 (got {value})")

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "mac_pj": self.mac_pj,
            "ac_pj": self.ac_pj,
            "memory_pj_per_bit": self.memory_pj_per_bit,
        }


PRESETS: dict[str, EnergyPreset] = {
    "45nm-fp32": EnergyPreset("45nm-fp32", 4.6, 0.9),
    "45nm-fp16": EnergyPreset("45nm-fp16", 1.5, 0.4),
    "45nm-int8": EnergyPreset("45nm-int8", 0.23, 0.03),
    "45nm-int32": EnergyPreset("45nm-int32", 3.2, 0.1),
}


def preset_names() -> list[str]:
    """Names accepted by :func:`get_preset`."""
    return sorted(PRESETS)


def get_preset(preset: Union[str, EnergyPreset, Mapping[str, float]]) -> EnergyPreset:
    """Resolve a preset name, an :class:`EnergyPreset`, or a user mapping.

    A mapping needs ``mac_pj`` and ``ac_pj`` and may set ``memory_pj_per_bit`` and ``name``.
    """
    if isinstance(preset, EnergyPreset):
        return preset
    if isinstance(preset, str):
        key = preset.lower()
        if key not in PRESETS:
            raise ValueError(
                f"get_preset: unknown preset {preset!r}; valid: {preset_names()} "
                "or an EnergyPreset / mapping with mac_pj and ac_pj"
            )
        return PRESETS[key]
    if isinstance(preset, Mapping):
        missing = {"mac_pj", "ac_pj"} - set(preset)
        unknown = set(preset) - {"mac_pj", "ac_pj", "memory_pj_per_bit", "name"}
        if missing or unknown:
            raise ValueError(
                f"get_preset: a user preset needs mac_pj and ac_pj, optionally "
                f"memory_pj_per_bit and name (got keys {sorted(preset)})"
            )
        return EnergyPreset(
            name=str(preset.get("name", "user")),
            mac_pj=preset["mac_pj"],
            ac_pj=preset["ac_pj"],
            memory_pj_per_bit=preset.get("memory_pj_per_bit", DEFAULT_MEMORY_PJ_PER_BIT),
        )
    raise TypeError(f"get_preset: expected a preset name, EnergyPreset or mapping (got {type(preset).__name__})")
