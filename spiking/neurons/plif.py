"""Parametric LIF: LIF with a learnable membrane time constant."""

from __future__ import annotations

import math

import torch

from .base import SpikingNeuron

__all__ = ["ParametricLIF"]


class ParametricLIF(SpikingNeuron):
    r"""Parametric LIF (Fang et al., "Incorporating Learnable Membrane Time Constant to Enhance
    Learning of Spiking Neural Networks", ICCV 2021, https://arxiv.org/abs/2007.05785).

    LIF dynamics (see :class:`~spiking.neurons.lif.LIF`) with :math:`1/\tau = \sigma(w)`, where
    :math:`w` is a learnable scalar initialised to :math:`-\ln(\tau_0 - 1)` so that
    :math:`\tau = \tau_0` at start. The gradient reaches ``w`` through the kernel's tau gradient.

    Args:
        init_tau: initial time constant :math:`\tau_0`, a finite float > 1 (2.0). Others as :class:`LIF`.

    Shapes:
        's': [B, *] -> [B, *]; 'm': [T, B, *] -> [T, B, *].

    Differences from spikingjelly's ``ParametricLIFNode``: same parametrisation and math (tested
    for parity of spikes and gradients); ``reset_parameters`` restores ``w`` to its initial value.
    """

    def __init__(
        self,
        init_tau: float = 2.0,
        v_threshold: float = 1.0,
        v_reset: float | None = 0.0,
        surrogate: str | torch.nn.Module = "sigmoid",
        alpha: float | None = None,
        detach_reset: bool = False,
        decay_input: bool = True,
        step_mode: str = "s",
        store_v_seq: bool = False,
        backend: str = "auto",
    ) -> None:
        if isinstance(init_tau, bool) or not isinstance(init_tau, (int, float)) or not math.isfinite(init_tau):
            raise ValueError(f"ParametricLIF: init_tau must be a finite float > 1 (got {init_tau!r})")
        # the record's tau is the initial value; every call uses tau_value() (SpikingNeuron.lif_params)
        super().__init__(
            v_threshold,
            v_reset,
            surrogate,
            alpha,
            detach_reset,
            decay_input,
            step_mode,
            store_v_seq,
            backend,
            tau=init_tau,
        )
        self.init_tau = float(init_tau)
        self.w = torch.nn.Parameter(torch.empty(()))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        with torch.no_grad():
            self.w.fill_(-math.log(self.init_tau - 1.0))

    def tau_value(self) -> torch.Tensor:
        """:math:`\\tau = 1/\\sigma(w)`, a 0-dim tensor carrying the gradient to ``w``."""
        return 1.0 / self.w.sigmoid()

    def extra_repr(self) -> str:
        return f"init_tau={self.init_tau}, tau={self.tau_value().item():.4f}, " + super().extra_repr()
