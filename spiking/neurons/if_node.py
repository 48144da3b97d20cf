"""Integrate-and-fire neuron (no leak)."""

from __future__ import annotations

import torch

from .base import SpikingNeuron

__all__ = ["IF"]


class IF(SpikingNeuron):
    r"""Integrate-and-fire neuron: :math:`H[t] = V[t-1] + X[t]`, then fire and reset as LIF.

    The LIF dynamics with :math:`\tau = \infty` (no leak). Same arguments as
    :class:`~spiking.neurons.lif.LIF` without ``tau``/``decay_input``.

    Shapes:
        's': [B, *] -> [B, *]; 'm': [T, B, *] -> [T, B, *].

    Differences from spikingjelly's ``IFNode``: same math; multi-step runs the fused LIF op.
    """

    def __init__(
        self,
        v_threshold: float = 1.0,
        v_reset: float | None = 0.0,
        surrogate: str | torch.nn.Module = "sigmoid",
        alpha: float | None = None,
        detach_reset: bool = False,
        step_mode: str = "s",
        store_v_seq: bool = False,
        backend: str = "auto",
    ) -> None:
        super().__init__(
            v_threshold,
            v_reset,
            surrogate,
            alpha,
            detach_reset,
            True,
            step_mode,
            store_v_seq,
            backend,
            tau=float("inf"),
        )
