"""SHD/SSC as the delay paper feeds them: 10 ms frames, 700 channels summed in groups of 5, padded batches."""

from __future__ import annotations

import math
import os

import numpy as np
import torch
from torch import Tensor

from spiking.datasets import SHD, SSC, FrameCache

__all__ = ["AudioFrames", "audio_frames", "pad_collate"]


def audio_frames(t_us: np.ndarray, units: np.ndarray, frame_us: int, num_units: int, channel_bins: int) -> np.ndarray:
    """Spike counts ``[n_frames, num_units // channel_bins]`` float32 of one recording (see :class:`AudioFrames`).

    ``t_us`` non-decreasing integer microseconds, ``units`` in ``[0, num_units)``.
    """
    if t_us.size == 0:
        raise ValueError("audio_frames: empty recording (got 0 spikes)")
    t = t_us - t_us[0]
    n_frames = max(1, math.ceil(int(t[-1]) / frame_us))
    frame = np.minimum(t // frame_us, n_frames - 1)  # the last frame takes the tail
    width = num_units // channel_bins
    keep = units < width * channel_bins  # channels past the last full group are dropped (none for 700 / 5)
    key = frame[keep] * width + units[keep] // channel_bins
    return np.bincount(key, minlength=n_frames * width).astype(np.float32).reshape(n_frames, width)


class AudioFrames(torch.utils.data.Dataset):
    r"""Frames of an :class:`~spiking.datasets.SHD` / :class:`~spiking.datasets.SSC` split for the delay networks.

    Frame :math:`j` of a recording counts the spikes with :math:`j\,\Delta \le t - t_0 < (j+1)\Delta`
    (:math:`\Delta` = ``frame_us``, default 10 ms; :math:`t_0` its first spike;
    :math:`\lceil (t_{N-1} - t_0)/\Delta \rceil` frames, at least one, the last taking the tail), and
    channels are summed in groups of ``channel_bins`` (700 -> 140). Items: ``(frames [T_i, C] float32,
    label)``, ``T_i`` varying per recording (about 100 for SHD); batch them with :func:`pad_collate`.

    This is spikingjelly's ``duration`` framing since its fix of March 2024 (issue #507) followed by
    the official code's ``BinnedSpikingHeidelbergDigits`` channel binning. The paper's runs used the
    spikingjelly of 2023, which started every frame at the first spike not yet taken, so silent gaps
    were dropped and timing compressed; we keep the time grid.

    Args:
        dataset: an ``SHD`` or ``SSC`` split (its ``events(i)`` and ``labels`` are used).
        frame_us: frame length in microseconds (10_000).
        channel_bins: channels summed per input (5).
        cache_dir: optional disk cache of the frames (:class:`~spiking.datasets.FrameCache`).
    """

    def __init__(
        self, dataset: SHD, frame_us: int = 10_000, channel_bins: int = 5, cache_dir: str | os.PathLike | None = None
    ) -> None:
        fn = "AudioFrames"
        if not isinstance(dataset, (SHD, SSC)):
            raise TypeError(f"{fn}: dataset must be a spiking.datasets.SHD or SSC split (got {type(dataset).__name__})")
        for name, v in (("frame_us", frame_us), ("channel_bins", channel_bins)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{fn}: {name} must be an int >= 1 (got {v!r})")
        if channel_bins > dataset.file.num_units:
            raise ValueError(f"{fn}: channel_bins must be <= {dataset.file.num_units} units (got {channel_bins})")
        self.dataset, self.frame_us, self.channel_bins = dataset, frame_us, channel_bins
        self.num_units = dataset.file.num_units
        self.num_channels = self.num_units // channel_bins
        self.num_classes = dataset.num_classes
        self.labels = dataset.labels
        self._cache = None
        if cache_dir is not None:
            params = {
                "dataset": dataset.name,
                "path": os.fspath(dataset.path.resolve()),
                "frame_us": frame_us,
                "channel_bins": channel_bins,
                "n": len(dataset.labels),
            }
            self._cache = FrameCache(cache_dir, f"{dataset.name}-delays", params)

    def __len__(self) -> int:
        return len(self.labels)

    def _build(self, index: int) -> np.ndarray:
        ev = self.dataset.events(index)
        return audio_frames(ev["t"], ev["unit"].astype(np.int64), self.frame_us, self.num_units, self.channel_bins)

    def __getitem__(self, index: int) -> tuple[Tensor, int]:
        if not -len(self) <= index < len(self):
            raise IndexError(f"AudioFrames: index {index} out of range for {len(self)} samples")
        index %= len(self)
        frames = self._build(index) if self._cache is None else self._cache.get(index, lambda: self._build(index))
        return torch.from_numpy(frames), self.labels[index]


def pad_collate(batch: list[tuple[Tensor, int]]) -> tuple[Tensor, Tensor, Tensor]:
    """``[(frames [T_i, C], label), ...]`` -> ``(x [max T_i, B, C]`` zero-padded at the end (time-major),
    ``labels [B]`` int64, ``lengths [B]`` int64)."""
    if not batch:
        raise ValueError("pad_collate: empty batch")
    frames = [f for f, _ in batch]
    x = torch.nn.utils.rnn.pad_sequence(frames)  # [T_max, B, C]
    labels = torch.tensor([int(y) for _, y in batch], dtype=torch.int64)
    lengths = torch.tensor([f.shape[0] for f in frames], dtype=torch.int64)
    return x, labels, lengths
