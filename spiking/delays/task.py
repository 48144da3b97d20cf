r"""A synthetic task that needs synaptic delays: classify the time offset between two spikes."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

__all__ = ["DelayTask", "delay_task"]


def delay_task(
    num_samples: int,
    offsets: Sequence[int] = (2, 5, 8, 11),
    T: int = 40,
    noise_channels: int = 6,
    noise_rate: float = 0.02,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    r"""Offset classification: which of ``offsets`` separates a spike on channel 0 from one on channel 1.

    Sample :math:`n` draws its class :math:`y_n` uniformly from ``range(len(offsets))`` and a start
    :math:`t_n` uniformly from :math:`[0, T - \Delta_{max})`, emits one spike on channel 0 at
    :math:`t_n` and one on channel 1 at :math:`t_n + \Delta_{y_n}` (:math:`\Delta` = ``offsets``), and
    fills ``noise_channels`` further channels with independent Bernoulli(``noise_rate``) spikes that
    carry no information. The label is set by the *time offset*: each channel on its own holds one
    spike at a random time (the ranges of every class overlap), only their difference tells the class.

    Why it needs delays: a LIF neuron with :math:`\tau \approx 1` step (the paper's 1.005) forgets
    its input within a step, so the network without delays computes, at every step, a function of
    that step's input only; the summed read-out then sees "one spike on channel 0" at one step and
    "one spike on channel 1" at another whatever the offset, and stays at chance
    (:math:`1/\text{len(offsets)}`). A neuron whose synapses from channels 0 and 1 have delays
    :math:`d_0 - d_1 = \Delta_y` receives both spikes at the same step (coincidence detection) and fires
    for class :math:`y` only; the kernel must allow delays up to :math:`\Delta_{max}`
    (``kernel_size > max(offsets)``).

    Returns:
        ``x [T, num_samples, 2 + noise_channels]`` float32 spikes (time-major) and ``y [num_samples]`` int64.
    """
    fn = "delay_task"
    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 1:
        raise ValueError(f"{fn}: num_samples must be an int >= 1 (got {num_samples!r})")
    offsets = [int(o) for o in offsets]
    if len(offsets) < 2 or len(set(offsets)) != len(offsets) or min(offsets) < 0:
        raise ValueError(f"{fn}: offsets must be >= 2 distinct non-negative ints (got {offsets})")
    if not isinstance(T, int) or T <= max(offsets):
        raise ValueError(f"{fn}: T must be an int > max(offsets) = {max(offsets)} (got {T!r})")
    if not 0.0 <= noise_rate <= 1.0 or noise_channels < 0:
        raise ValueError(
            f"{fn}: need noise_channels >= 0 and noise_rate in [0, 1] (got {noise_channels}, {noise_rate})"
        )
    n = num_samples
    y = torch.randint(len(offsets), (n,), generator=generator)
    start = torch.randint(T - max(offsets), (n,), generator=generator)
    delta = torch.tensor(offsets)[y]
    x = torch.zeros(T, n, 2 + noise_channels)
    cols = torch.arange(n)
    x[start, cols, 0] = 1.0
    x[start + delta, cols, 1] = 1.0
    if noise_channels:
        x[:, :, 2:] = (torch.rand(T, n, noise_channels, generator=generator) < noise_rate).float()
    return x, y


class DelayTask(torch.utils.data.Dataset):
    """:func:`delay_task` as a dataset of ``(frames [T, C], label)`` items (batch with
    :func:`~spiking.delays.data.pad_collate`); drawn once from ``generator`` at construction."""

    def __init__(
        self,
        num_samples: int,
        offsets: Sequence[int] = (2, 5, 8, 11),
        T: int = 40,
        noise_channels: int = 6,
        noise_rate: float = 0.02,
        generator: torch.Generator | None = None,
    ) -> None:
        x, y = delay_task(num_samples, offsets, T, noise_channels, noise_rate, generator)
        self.x = x.transpose(0, 1).contiguous()  # [N, T, C]
        self.labels = y.tolist()
        self.offsets, self.T, self.noise_channels, self.noise_rate = tuple(offsets), T, noise_channels, noise_rate
        self.num_channels, self.num_classes = self.x.shape[-1], len(self.offsets)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[Tensor, int]:
        return self.x[index], self.labels[index]
