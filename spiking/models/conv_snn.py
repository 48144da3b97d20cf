"""Spiking convolutional network for event frames (the model of ``examples/neuromorphic.py``)."""

from __future__ import annotations

import torch
from torch import nn

from spiking.neurons import IF, LIF, ParametricLIF

NEURONS = {"lif": LIF, "plif": ParametricLIF, "if": IF}


def make_neuron(kind: str, tau: float, surrogate: str, detach_reset: bool) -> nn.Module:
    """A multi-step neuron of ``kind`` in {'lif', 'plif', 'if'}."""
    if kind not in NEURONS:
        raise ValueError(f"make_neuron: kind must be one of {sorted(NEURONS)} (got {kind!r})")
    if kind == "lif":
        return LIF(tau=tau, surrogate=surrogate, detach_reset=detach_reset, step_mode="m")
    if kind == "plif":
        return ParametricLIF(init_tau=tau, surrogate=surrogate, detach_reset=detach_reset, step_mode="m")
    return IF(surrogate=surrogate, detach_reset=detach_reset, step_mode="m")


class SpikingConvNet(nn.Module):
    r"""Conv-BN-spiking blocks with max-pooling, then a linear read-out averaged over time.

    For each block :math:`l`: :math:`S^l[t] = \mathrm{LIF}(\mathrm{BN}(\mathrm{Conv}(P^{l-1}[t])))`,
    :math:`P^l = \mathrm{MaxPool}_2(S^l)`; after the last block an adaptive average pool to
    ``pool_size``, flatten, dropout and a linear layer give logits :math:`z[t]`; the output is
    :math:`\bar z = \frac1T\sum_t z[t]` (a non-spiking read-out, trained with cross-entropy).
    This is the PLIF-net recipe of Fang et al. (ICCV 2021) reduced to a CPU-sized network; conv
    and BN run on the flattened ``[T*B, ...]`` batch (spikingjelly's ``SeqToANNContainer`` idea).

    Args:
        in_channels: input channels (2 polarities).
        num_classes: classes.
        channels: output channels of each block, e.g. ``(16, 32)``.
        neuron: 'lif' | 'plif' | 'if'; tau: (initial) time constant; surrogate: name.
        pool_size: spatial size after the adaptive pool (4).
        dropout: dropout before the read-out (the same mask for all T, as spikingjelly's ``Dropout``).

    Shapes:
        input ``[T, B, C, H, W]`` -> logits ``[B, num_classes]``; :meth:`forward_seq` gives ``[T, B, K]``.

    Call ``spikingjelly.activation_based.functional.reset_net(model)`` after every batch.
    """

    def __init__(
        self,
        in_channels: int = 2,
        num_classes: int = 10,
        channels: tuple[int, ...] = (16, 32),
        neuron: str = "lif",
        tau: float = 2.0,
        surrogate: str = "atan",
        detach_reset: bool = True,
        pool_size: int = 4,
        dropout: float = 0.2,
    ) -> None:
        super().__init__()
        if not channels:
            raise ValueError(f"SpikingConvNet: channels must be a non-empty tuple (got {channels!r})")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"SpikingConvNet: dropout must be in [0, 1) (got {dropout})")
        self.in_channels, self.num_classes, self.channels = in_channels, num_classes, tuple(channels)
        self.neuron, self.tau, self.surrogate, self.detach_reset = neuron, tau, surrogate, detach_reset
        self.pool_size, self.dropout = pool_size, dropout
        convs, bns, neurons = [], [], []
        c_in = in_channels
        for c in self.channels:
            convs.append(nn.Conv2d(c_in, c, 3, padding=1, bias=False))
            bns.append(nn.BatchNorm2d(c))
            neurons.append(make_neuron(neuron, tau, surrogate, detach_reset))
            c_in = c
        self.convs, self.bns, self.neurons = nn.ModuleList(convs), nn.ModuleList(bns), nn.ModuleList(neurons)
        self.pool = nn.AdaptiveAvgPool2d(pool_size)
        self.fc = nn.Linear(c_in * pool_size * pool_size, num_classes)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for m in self.convs:
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
        for b in self.bns:
            b.reset_parameters()
        self.fc.reset_parameters()

    def forward_seq(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` [T, B, C, H, W] -> per-step logits [T, B, K]."""
        if x.dim() != 5:
            raise ValueError(f"SpikingConvNet: expected input [T, B, C, H, W] (got shape {tuple(x.shape)})")
        T, B = x.shape[:2]
        h = x.flatten(0, 1)  # [T*B, C, H, W]
        for conv, bn, node in zip(self.convs, self.bns, self.neurons):
            h = bn(conv(h))  # [T*B, c, H, W]
            s = node(h.unflatten(0, (T, B)))  # [T, B, c, H, W]
            h = nn.functional.max_pool2d(s.flatten(0, 1), 2)  # [T*B, c, H/2, W/2]
        h = self.pool(h).flatten(1)  # [T*B, c*p*p]
        if self.training and self.dropout > 0:
            mask = torch.bernoulli(torch.full((B, h.shape[1]), 1 - self.dropout, device=h.device, dtype=h.dtype))
            h = (h.unflatten(0, (T, B)) * (mask / (1 - self.dropout))).flatten(0, 1)  # same mask for all T
        return self.fc(h).unflatten(0, (T, B))  # [T, B, K]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_seq(x).mean(0)  # [B, K]

    def extra_repr(self) -> str:
        return (
            f"in_channels={self.in_channels}, num_classes={self.num_classes}, channels={self.channels}, "
            f"neuron={self.neuron!r}, tau={self.tau}, surrogate={self.surrogate!r}, "
            f"detach_reset={self.detach_reset}, pool_size={self.pool_size}, dropout={self.dropout}"
        )
