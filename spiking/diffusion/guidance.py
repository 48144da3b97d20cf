r"""Threshold guidance (TG): a training-free shift of every spiking neuron's firing threshold at inference.

.. math:: V_{th} \leftarrow V_{th} + \delta \quad\text{for every spiking neuron of the model}

SDDPM (Cao et al., WACV 2024) reports that a small shift improves FID (CIFAR-10 19.73 -> 19.20
with DDPM sampling); the SDM code exposes it as one ``global_thres`` given to every ``IFNode``
(:math:`\delta` = ``global_thres - 1``). The best :math:`\delta` is data and model dependent:
choose it on held-out samples, never on the samples you report.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

from torch import nn

from spiking.energy import is_spiking_neuron

__all__ = ["spiking_neurons", "threshold_shift"]


def spiking_neurons(model: nn.Module) -> list[nn.Module]:
    """All spiking-neuron modules of ``model`` (graphspike and spikingjelly neurons)."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"spiking_neurons: model must be an nn.Module (got {type(model).__name__})")
    return [m for m in model.modules() if is_spiking_neuron(m)]


@contextmanager
def threshold_shift(model: nn.Module, shift: float) -> Iterator[nn.Module]:
    """Context manager: add ``shift`` to ``v_threshold`` of every spiking neuron of ``model``, restore on exit.

    Example::

        with threshold_shift(unet, -0.05):
            x = ddpm.sample((64, 1, 16, 16), generator=g)

    Raises:
        TypeError: ``shift`` not a real number.
        ValueError: ``shift`` not finite; ``model`` without spiking neurons; a shifted threshold at or
            below a neuron's (hard) reset potential.
    """
    if isinstance(shift, bool) or not isinstance(shift, (int, float)):
        raise TypeError(f"threshold_shift: shift must be a float (got {type(shift).__name__})")
    if not math.isfinite(shift):
        raise ValueError(f"threshold_shift: shift must be finite (got {shift})")
    neurons = spiking_neurons(model)
    if not neurons:
        raise ValueError(f"threshold_shift: {type(model).__name__} has no spiking neurons to shift")
    old = [n.v_threshold for n in neurons]
    for n, th in zip(neurons, old):
        reset = getattr(n, "v_reset", None)
        if reset is not None and th + shift <= reset:
            raise ValueError(
                f"threshold_shift: shifted threshold {th + shift} must stay above v_reset={reset} "
                f"(got shift={shift} for a threshold of {th})"
            )
    try:
        for n, th in zip(neurons, old):
            n.v_threshold = th + shift
        yield model
    finally:
        for n, th in zip(neurons, old):
            n.v_threshold = th
