"""Spiking neurons: LIF, ParametricLIF, IF (spikingjelly-compatible ``MemoryModule``s) and their functional core."""
from .base import SpikingNeuron
from .functional import lif_multistep, lif_multistep_loop, lif_step
from .if_node import IF
from .lif import LIF
from .plif import ParametricLIF
from .surrogate import SurrogateSpec, resolve_surrogate, surrogate_names

__all__ = [
    "SpikingNeuron", "LIF", "ParametricLIF", "IF",
    "lif_step", "lif_multistep", "lif_multistep_loop",
    "SurrogateSpec", "resolve_surrogate", "surrogate_names",
]
