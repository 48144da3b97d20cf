"""Leaky integrate-and-fire neuron module on the fused multi-step kernel."""

from __future__ import annotations

import torch

from .base import SpikingNeuron

__all__ = ["LIF"]


class LIF(SpikingNeuron):
    r"""Leaky integrate-and-fire neuron (Gerstner & Kistler 2002), spikingjelly 2.0 ``LIFNode`` semantics.

    .. math::
        H[t] = V[t-1] + \frac{1}{\tau}\big(X[t] - (V[t-1] - V_{reset})\big),\quad
        S[t] = \Theta(H[t] - V_{th}),\quad V[t] = S[t] V_{reset} + (1 - S[t]) H[t]

    (``decay_input=False``: :math:`H = V - (V - V_{reset})/\tau + X`; ``v_reset=None``: soft reset
    :math:`V = H - V_{th} S`.) Full equations and the parameter record in :mod:`cuda_ext.neuron`;
    state, step modes and backends in :class:`~spiking.neurons.base.SpikingNeuron`.

    Args:
        tau: membrane time constant, > 1 (default 2.0; ``inf`` gives :class:`IF`).
        v_threshold: firing threshold (1.0); may be changed after construction.
        v_reset: reset potential below ``v_threshold``, or ``None`` for soft reset (0.0).
        surrogate: surrogate-gradient name (``"sigmoid"``, ``"atan"``, ...) or a spikingjelly
            surrogate object such as ``surrogate.ATan(alpha=2.0)``.
        alpha: surrogate shape parameter when ``surrogate`` is a name (spikingjelly's default if None).
        detach_reset: detach the spike in the reset path (no gradient through the reset).
        decay_input: whether the input is scaled by 1/tau.
        step_mode: ``'s'`` (``x`` [B, ...]) or ``'m'`` (``x_seq`` [T, B, ...]).
        store_v_seq: keep ``v_seq`` [T, B, ...] after a multi-step call.
        backend: ``"auto"``, ``"torch"`` or ``"cuda"``.

    Shapes:
        's': [B, *] -> [B, *]; 'm': [T, B, *] -> [T, B, *] (time-major).

    Raises:
        TypeError / ValueError: a hyperparameter of the wrong type or out of range (from
        :class:`cuda_ext.LIFParams`, prefixed with ``LIF:``).

    Example:
        >>> from spikingjelly.activation_based import functional
        >>> lif = LIF(tau=2.0, step_mode="m")
        >>> s = lif(torch.rand(8, 4, 16))   # [T=8, B=4, 16]
        >>> lif.v_threshold = 0.9           # e.g. threshold guidance at inference
        >>> functional.reset_net(lif)

    Differences from spikingjelly: same math and defaults; our multi-step path is the fused
    ``cuda_ext.lif_multistep`` op (which keeps no membrane sequence unless ``store_v_seq``),
    surrogate given by name or object, inputs validated, ``backend`` chosen per module.
    """

    def __init__(
        self,
        tau: float = 2.0,
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
        if isinstance(tau, torch.Tensor):
            raise TypeError("LIF: tau must be a float (got a tensor; ParametricLIF learns tau)")
        super().__init__(
            v_threshold, v_reset, surrogate, alpha, detach_reset, decay_input, step_mode, store_v_seq, backend, tau=tau
        )

    @property
    def tau(self) -> float:
        return self._params.tau

    @tau.setter
    def tau(self, value: float) -> None:
        if isinstance(value, torch.Tensor):
            raise TypeError("LIF: tau must be a float (got a tensor; ParametricLIF learns tau)")
        self._update(tau=value)

    def extra_repr(self) -> str:
        return f"tau={self.tau}, " + super().extra_repr()
