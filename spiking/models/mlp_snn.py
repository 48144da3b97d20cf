"""Spiking multi-layer perceptron for 1-D spike inputs (SHD/SSC audio channels)."""

from __future__ import annotations

import torch
from torch import nn

from .conv_snn import make_neuron


class SpikingMLP(nn.Module):
    r"""Linear-BN-spiking layers and a linear read-out averaged over time.

    :math:`S^l[t] = \mathrm{LIF}(\mathrm{BN}(W^l S^{l-1}[t]))`, logits
    :math:`\bar z = \frac1T\sum_t W^{out} S^L[t]` (non-spiking read-out, cross-entropy). Linear and
    BN run on the flattened ``[T*B, F]`` batch.

    Args:
        in_features: input channels (700 cochlea units for SHD/SSC).
        num_classes: classes (20 SHD, 35 SSC).
        hidden: widths of the spiking layers, e.g. ``(256, 256)``.
        neuron, tau, surrogate, detach_reset: as :class:`~spiking.models.conv_snn.SpikingConvNet`.
        dropout: dropout after each spiking layer (same mask for all T).

    Shapes:
        input ``[T, B, F]`` (any trailing dims are flattened) -> logits ``[B, num_classes]``.
    """

    def __init__(
        self,
        in_features: int,
        num_classes: int,
        hidden: tuple[int, ...] = (256, 256),
        neuron: str = "lif",
        tau: float = 2.0,
        surrogate: str = "atan",
        detach_reset: bool = True,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        if not hidden:
            raise ValueError(f"SpikingMLP: hidden must be a non-empty tuple (got {hidden!r})")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"SpikingMLP: dropout must be in [0, 1) (got {dropout})")
        self.in_features, self.num_classes, self.hidden = in_features, num_classes, tuple(hidden)
        self.neuron, self.tau, self.surrogate, self.detach_reset, self.dropout = (
            neuron,
            tau,
            surrogate,
            detach_reset,
            dropout,
        )
        dims = (in_features, *self.hidden)
        self.linears = nn.ModuleList(nn.Linear(a, b, bias=False) for a, b in zip(dims[:-1], dims[1:]))
        self.bns = nn.ModuleList(nn.BatchNorm1d(b) for b in self.hidden)
        self.neurons = nn.ModuleList(make_neuron(neuron, tau, surrogate, detach_reset) for _ in self.hidden)
        self.fc = nn.Linear(dims[-1], num_classes)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for m in self.linears:
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
        for b in self.bns:
            b.reset_parameters()
        self.fc.reset_parameters()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() < 3:
            raise ValueError(f"SpikingMLP: expected input [T, B, F, ...] (got shape {tuple(x.shape)})")
        T, B = x.shape[:2]
        h = x.reshape(T * B, -1)  # [T*B, F]
        for lin, bn, node in zip(self.linears, self.bns, self.neurons):
            s = node(bn(lin(h)).unflatten(0, (T, B)))  # [T, B, H]
            if self.training and self.dropout > 0:
                mask = torch.bernoulli(torch.full((B, s.shape[-1]), 1 - self.dropout, device=s.device, dtype=s.dtype))
                s = s * (mask / (1 - self.dropout))  # same mask for all T
            h = s.flatten(0, 1)  # [T*B, H]
        return self.fc(h).unflatten(0, (T, B)).mean(0)  # [B, K]

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, num_classes={self.num_classes}, hidden={self.hidden}, "
            f"neuron={self.neuron!r}, tau={self.tau}, surrogate={self.surrogate!r}, dropout={self.dropout}"
        )
