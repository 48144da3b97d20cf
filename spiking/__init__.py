"""Spiking neural networks: LIF neurons on a fused kernel, encoders, neuromorphic data, energy.

Sub-packages: :mod:`spiking.neurons` (LIF, ParametricLIF, IF; spikingjelly-compatible),
:mod:`spiking.encoding` (and :mod:`spiking.sparse_spikes`), :mod:`spiking.attention` (spiking
self-attention: SDT, SSA, STAtten), :mod:`spiking.datasets` (N-MNIST, N-Caltech101, DVS128 Gesture,
CIFAR10-DVS, SHD, SSC readers and event-to-frame integration), :mod:`spiking.models` (conv/MLP SNNs,
Spike-driven Transformer, Spikformer), and :mod:`spiking.energy` (operation counts and energy for
any model).
"""

from spiking.attention import SpikeDrivenSelfAttention, SpikingAttention, SpikingSelfAttention
from spiking.encoding import bernoulli_encode, latency_encode, poisson_encode, repeat_encode, sparse_bernoulli_encode
from spiking.energy import EnergyReport, estimate_ann_energy, estimate_energy, make_ann_twin, plot_energy
from spiking.models import SpikeDrivenTransformer, Spikformer, SpikingConvNet, SpikingMLP
from spiking.neurons import (
    IF,
    LIF,
    LIFParams,
    ParametricLIF,
    SpikingNeuron,
    lif_multistep,
    lif_multistep_sequence,
    lif_step,
)
from spiking.sparse_spikes import CSRSpikes, SparseSpikes

__all__ = [
    "CSRSpikes",
    "IF",
    "EnergyReport",
    "LIF",
    "LIFParams",
    "ParametricLIF",
    "SpikeDrivenSelfAttention",
    "SpikeDrivenTransformer",
    "Spikformer",
    "SpikingAttention",
    "SpikingConvNet",
    "SpikingMLP",
    "SparseSpikes",
    "SpikingNeuron",
    "SpikingSelfAttention",
    "bernoulli_encode",
    "estimate_ann_energy",
    "estimate_energy",
    "latency_encode",
    "lif_multistep",
    "lif_multistep_sequence",
    "lif_step",
    "make_ann_twin",
    "plot_energy",
    "poisson_encode",
    "repeat_encode",
    "sparse_bernoulli_encode",
]
