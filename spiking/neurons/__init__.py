"""Spiking neurons: LIF, ParametricLIF, IF (spikingjelly-compatible ``MemoryModule``s).

The dynamics live in :mod:`cuda_ext.neuron` (one :class:`LIFParams` record, one reference step
:func:`lif_step`) and run on the fused :func:`lif_multistep` op; re-exported here.
"""

from cuda_ext import LIFParams, lif_multistep, lif_multistep_sequence, lif_step

from .base import SpikingNeuron
from .functional import set_backend
from .if_node import IF
from .lif import LIF
from .plif import ParametricLIF
from .surrogate import SurrogateSpec, resolve_surrogate, surrogate_names

__all__ = [
    "IF",
    "LIF",
    "LIFParams",
    "ParametricLIF",
    "SpikingNeuron",
    "SurrogateSpec",
    "lif_multistep",
    "lif_multistep_sequence",
    "lif_step",
    "resolve_surrogate",
    "set_backend",
    "surrogate_names",
]
