"""The ANN counterpart of a spiking network: every spiking neuron replaced by ``nn.ReLU``.

This is the comparison the SNN papers make ("the same architecture as an ANN"): identical
synaptic layers, real-valued activations, every synaptic op a MAC. The twin is a deep copy of the
modules, parameters and buffers (plain attributes such as a graph are shared); the original model
is not modified. Neurons called functionally (``cuda_ext.lif_multistep`` inside a ``forward``)
cannot be replaced: give such models an explicit ANN counterpart.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from spikingjelly.activation_based import functional as sj_functional
from torch import nn

from .counter import is_spiking_neuron

__all__ = ["make_ann_twin", "count_neurons"]


def count_neurons(model: nn.Module) -> int:
    """Number of spiking-neuron modules in ``model``."""
    return sum(1 for m in model.modules() if is_spiking_neuron(m))


def make_ann_twin(model: nn.Module) -> nn.Module:
    """Deep copy of ``model`` with each spiking neuron replaced by ``nn.ReLU()``.

    Args:
        model: any module; spikingjelly ``BaseNode`` and graphspike neurons are replaced.

    Returns:
        the twin (a new module; ``model`` is untouched). A model without neurons is copied as is.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"make_ann_twin: expected an nn.Module (got {type(model).__name__})")
    if is_spiking_neuron(model):
        return nn.ReLU()
    sj_functional.reset_net(model)  # do not copy a stale membrane state
    # share plain (non-module, non-tensor) attributes such as an immutable sampling.Graph held by
    # a wrapper: only modules, parameters and buffers are copied
    memo: dict[int, Any] = {}
    for module in model.modules():
        for key, value in vars(module).items():
            if not key.startswith("_") and not isinstance(value, (nn.Module, torch.Tensor)):
                memo[id(value)] = value
    twin = copy.deepcopy(model, memo)
    _replace(twin)
    return twin


def _replace(module: nn.Module) -> None:
    for name, child in list(module.named_children()):
        if is_spiking_neuron(child):
            setattr(module, name, nn.ReLU())
        else:
            _replace(child)
