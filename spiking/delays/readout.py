"""Non-spiking read-out: the membrane potential of a LIF neuron that never fires."""

from __future__ import annotations

import math

from torch import Tensor, nn

from spiking.neurons import LIFParams, lif_multistep_sequence

__all__ = ["MembraneReadout"]

_NEVER = 1e9  # the official read-out threshold: the potential never reaches it


class MembraneReadout(nn.Module):
    r"""Membrane potential of a LIF neuron that never fires, the read-out of the delay networks.

    .. math::
        V[t] = V[t-1] - \frac{V[t-1]}{\tau} + X[t], \qquad V[-1] = 0

    (``decay_input=False``, ``v_reset = 0``, :math:`V_{th} = 10^9`). The official SNN-delays code
    reads ``v_seq`` of a spikingjelly ``LIFNode(v_threshold=1e9, decay_input=False)``; so do we:
    this is :func:`spiking.neurons.lif_multistep_sequence` (the shared LIF core, fused op) with that
    threshold, started from :math:`V = 0` at every call as the official code resets after each batch.
    The spikes it returns are all zero and unused; the reset is detached, so the gradient flows
    through the charge equation only.

    Args:
        tau: membrane time constant in steps, > 1 (1.005 for SHD, 1.5 for SSC: 10.05 ms and 15 ms at
            10 ms steps).
        backend: ``"auto"``, ``"torch"`` or ``"cuda"``, as :class:`spiking.neurons.LIF`.

    Shapes:
        ``[T, B, C]`` -> ``[T, B, C]`` (time-major; the potential at every step).

    Raises:
        ValueError: ``tau`` not > 1, or an input that is not a floating ``[T, B, ...]`` tensor.
    """

    def __init__(self, tau: float, backend: str = "auto") -> None:
        super().__init__()
        if isinstance(tau, bool) or not isinstance(tau, (int, float)) or not tau > 1 or math.isinf(tau):
            raise ValueError(f"MembraneReadout: tau must be a finite number > 1 (got {tau!r})")
        self.tau, self.backend = float(tau), backend
        self.params = LIFParams(tau=self.tau, v_threshold=_NEVER, v_reset=0.0, decay_input=False, detach_reset=True)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """No parameters."""

    def forward(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor) or x.dim() < 2 or not x.is_floating_point():
            raise ValueError(
                f"MembraneReadout: expected a floating tensor [T, B, ...] (got {getattr(x, 'shape', type(x).__name__)})"
            )
        _, v_seq = lif_multistep_sequence(x, None, self.params, backend=self.backend)  # [T, B, ...]
        return v_seq

    def extra_repr(self) -> str:
        return f"tau={self.tau}, backend={self.backend!r}"
