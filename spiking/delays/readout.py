"""Non-spiking read-out: the membrane potential of a leaky integrator."""
from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["MembraneReadout"]


class MembraneReadout(nn.Module):
    r"""Membrane potential of a LIF neuron that never fires, the read-out of the delay networks.

    .. math::
        V[t] = V[t-1] - \frac{V[t-1]}{\tau} + X[t], \qquad V[-1] = 0

    (``decay_input=False``, ``v_reset = 0``). The official SNN-delays code reads ``v_seq`` of a
    spikingjelly ``LIFNode(v_threshold=1e9, decay_input=False)``: with that threshold it never fires,
    so its potential is exactly this recurrence; we compute it directly (no threshold, surrogate
    or reset), starting from :math:`V = 0` at every call as the official code resets after each batch.

    Args:
        tau: membrane time constant in steps, > 1 (1.005 for SHD, 1.5 for SSC: 10.05 ms and 15 ms at
            10 ms steps).

    Shapes:
        ``[T, B, C]`` -> ``[T, B, C]`` (time-major; the potential at every step).
    """

    def __init__(self, tau: float) -> None:
        super().__init__()
        if isinstance(tau, bool) or not isinstance(tau, (int, float)) or not tau > 1:
            raise ValueError(f"MembraneReadout: tau must be a number > 1 (got {tau!r})")
        self.tau = float(tau)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """No parameters."""

    def forward(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor) or x.dim() < 2 or not x.is_floating_point():
            raise ValueError(f"MembraneReadout: expected a floating tensor [T, B, ...] (got "
                             f"{getattr(x, 'shape', type(x).__name__)})")
        keep = 1.0 - 1.0 / self.tau
        v = torch.zeros_like(x[0])
        out = []
        for t in range(x.shape[0]):
            v = keep * v + x[t]
            out.append(v)
        return torch.stack(out)  # [T, B, ...]

    def extra_repr(self) -> str:
        return f"tau={self.tau}"
