"""Whole-model operations on every :class:`~spiking.delays.layer.DelayLinear` inside a model."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from torch import nn

from .integer import INTEGER_METHODS
from .layer import DelayLinear

__all__ = ["clamp_positions", "delay_layers", "delay_param_groups", "integer_delays", "round_delays", "set_sigma"]


def delay_layers(model: nn.Module) -> list[DelayLinear]:
    """The :class:`DelayLinear` modules of ``model`` (itself included), in ``modules()`` order."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"delay_layers: expected an nn.Module (got {type(model).__name__})")
    return [m for m in model.modules() if isinstance(m, DelayLinear)]


@contextlib.contextmanager
def integer_delays(model: nn.Module, method: str | None = None) -> Iterator[nn.Module]:
    """Evaluate with rounded delays and restore the interpolated ones afterwards.

    ``method`` (``"gather"`` or ``"spmm"``) temporarily sets every layer's ``integer_method``; use
    ``"spmm"`` under :func:`spiking.energy.estimate_energy` so each synapse is counted once per step.

    Inside, every delay layer uses ``round(P)`` (integer delays, the fast path without gradients);
    the positions themselves are not modified, so training resumes exactly where it was. This is
    the official evaluation (``SIG = 0``, ``version="max"``, rounded positions, then the saved
    state reloaded) without the copy.
    """
    if method is not None and method not in INTEGER_METHODS:
        raise ValueError(f"integer_delays: method must be one of {INTEGER_METHODS} (got {method!r})")
    layers = delay_layers(model)
    before = [(m.rounded, m.integer_method) for m in layers]
    for m in layers:
        m.rounded = True
        m.integer_method = method or m.integer_method
    try:
        yield model
    finally:
        for m, (r, meth) in zip(layers, before, strict=True):
            m.rounded, m.integer_method = r, meth


def round_delays(model: nn.Module) -> None:
    """Round every delay layer's positions in place (integer delays from now on)."""
    for m in delay_layers(model):
        m.round_delays()


def set_sigma(model: nn.Module, sigma: float) -> None:
    """Set the interpolation width of every delay layer (see :class:`~spiking.delays.SigmaSchedule`)."""
    for m in delay_layers(model):
        m.set_sigma(sigma)


def clamp_positions(model: nn.Module) -> None:
    """Clamp every delay layer's positions to its kernel (after each optimiser step)."""
    for m in delay_layers(model):
        m.clamp_positions()


def delay_param_groups(
    model: nn.Module, lr: float, lr_positions: float | None = None, weight_decay: float = 1e-5
) -> list[dict]:
    """Optimiser parameter groups: synaptic weights (``weight_decay``), everything else trainable
    (biases, batch-norm, neuron parameters; no decay), and positions (``lr_positions``, default
    ``100 * lr``, no decay), as the official code. Groups carry a ``"name"`` and empty groups are
    dropped; frozen parameters (``requires_grad=False``, e.g. fixed delays) are left out."""
    if not lr > 0:
        raise ValueError(f"delay_param_groups: lr must be > 0 (got {lr})")
    lr_positions = 100 * lr if lr_positions is None else lr_positions
    if not lr_positions >= 0:
        raise ValueError(f"delay_param_groups: lr_positions must be >= 0 (got {lr_positions})")
    layers = delay_layers(model)
    weights = [m.weight for m in layers]
    positions = [m.P for m in layers]
    taken = {id(p) for p in weights + positions}
    other = [p for p in model.parameters() if id(p) not in taken]
    groups = [
        {"name": "weights", "params": [p for p in weights if p.requires_grad], "lr": lr, "weight_decay": weight_decay},
        {"name": "other", "params": [p for p in other if p.requires_grad], "lr": lr, "weight_decay": 0.0},
        {
            "name": "positions",
            "params": [p for p in positions if p.requires_grad],
            "lr": lr_positions,
            "weight_decay": 0.0,
        },
    ]
    return [g for g in groups if g["params"]]
