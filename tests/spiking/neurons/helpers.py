"""Helpers shared by the neuron tests."""

from __future__ import annotations

import torch

from spiking.neurons import SpikingNeuron


def run_m(node: SpikingNeuron, x: torch.Tensor) -> torch.Tensor:
    """``node`` in multi-step mode over ``x`` [T, B, ...]."""
    node.step_mode = "m"
    return node(x)


def run_s(node: SpikingNeuron, x: torch.Tensor) -> torch.Tensor:
    """``node`` in single-step mode, stepped over the first dimension of ``x``."""
    node.step_mode = "s"
    return torch.stack([node(t) for t in x])
