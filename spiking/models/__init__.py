"""Spiking network models."""
from .conv_snn import SpikingConvNet
from .mlp_snn import SpikingMLP

__all__ = ["SpikingConvNet", "SpikingMLP"]
