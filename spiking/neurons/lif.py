"""Leaky integrate-and-fire neuron module on the fused multi-step kernel."""
from __future__ import annotations

import torch

from .base import SpikingNeuron
from .functional import check_neuron_args


class LIF(SpikingNeuron):
    r"""Leaky integrate-and-fire neuron (Gerstner & Kistler 2002), spikingjelly 2.0 ``LIFNode`` semantics.

    .. math::
        H[t] = V[t-1] + \frac{1}{\tau}\big(X[t] - (V[t-1] - V_{reset})\big),\quad
        S[t] = \Theta(H[t] - V_{th}),\quad V[t] = H[t](1 - S[t]) + V_{reset} S[t]

    (``decay_input=False``: :math:`H = V - (V - V_{reset})/\tau + X`; ``v_reset=None``: soft reset
    :math:`V = H - V_{th} S`.) Full equations in :mod:`spiking.neurons.functional`.

    Args:
        tau: membrane time constant, > 1 (default 2.0).
        v_threshold: firing threshold (1.0).
        v_reset: reset potential, or ``None`` for soft reset (0.0).
        surrogate: surrogate-gradient name (``"sigmoid"``, ``"atan"``, ...) or a spikingjelly
            surrogate object such as ``surrogate.ATan(alpha=2.0)``.
        alpha: surrogate shape parameter when ``surrogate`` is a name (spikingjelly's default if None).
        detach_reset: detach the spike in the reset path (no gradient through the reset).
        decay_input: whether the input is scaled by 1/tau.
        step_mode: ``'s'`` (``x`` [B, ...]) or ``'m'`` (``x_seq`` [T, B, ...]).
        store_v_seq: keep ``v_seq`` [T, B, ...] after a multi-step call.

    Shapes:
        's': [B, *] -> [B, *]; 'm': [T, B, *] -> [T, B, *] (time-major).

    Example:
        >>> from spikingjelly.activation_based import functional
        >>> lif = LIF(tau=2.0, step_mode="m")
        >>> s = lif(torch.rand(8, 4, 16))   # [T=8, B=4, 16]
        >>> functional.reset_net(lif)

    Differences from spikingjelly: same math and defaults; our multi-step path is the fused
    ``cuda_ext.lif_multistep`` op, surrogate given by name or object, and inputs are validated.
    """

    def __init__(self, tau: float = 2.0, v_threshold: float = 1.0, v_reset: float | None = 0.0,
                 surrogate: str | torch.nn.Module = "sigmoid", alpha: float | None = None,
                 detach_reset: bool = False, decay_input: bool = True, step_mode: str = "s",
                 store_v_seq: bool = False) -> None:
        check_neuron_args("LIF", float(tau) if isinstance(tau, int) else tau, v_threshold, v_reset)
        super().__init__(v_threshold, v_reset, surrogate, alpha, detach_reset, decay_input, step_mode, store_v_seq)
        self.tau = float(tau)

    def tau_value(self) -> float:
        return self.tau

    def extra_repr(self) -> str:
        return f"tau={self.tau}, " + super().extra_repr()
