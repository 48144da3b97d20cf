"""Synthetic event recordings for quick starts and CI (no download).

Class ``c`` of ``num_classes`` is a Gaussian blob of events moving across the sensor in direction
``2 pi c / num_classes``; ON events lead the blob's motion and OFF events trail it, as an edge does
on a DVS. Start position, speed and the noise events are random per sample, drawn from a
``torch.Generator`` seeded by ``(seed, index)``, so every sample is reproducible on its own.
"""

from __future__ import annotations

import math
import os
from typing import Callable

import numpy as np
import torch

from .base import FrameDataset, check_frames_args
from .events import make_events, validate_events
from .integrate import integrate_events


def synthetic_recording(
    label: int,
    num_classes: int,
    sensor_size: tuple[int, int],
    num_events: int,
    generator: torch.Generator,
    duration_us: int = 100_000,
    noise: float = 0.1,
) -> np.ndarray:
    """One synthetic recording (events) of class ``label`` (see module docstring)."""
    W, H = sensor_size
    g = generator
    n_sig = int(num_events * (1 - noise))
    n_noise = num_events - n_sig
    angle = 2 * math.pi * label / num_classes
    d = torch.tensor([math.cos(angle), math.sin(angle)])
    center = torch.tensor([W / 2, H / 2]) + (torch.rand(2, generator=g) - 0.5) * torch.tensor([W, H]) * 0.2
    travel = 0.5 * min(W, H) * (0.8 + 0.4 * torch.rand((), generator=g))
    t = torch.sort(torch.randint(0, duration_us, (n_sig,), generator=g)).values  # [n_sig]
    phase = t.double() / duration_us - 0.5  # [-0.5, 0.5)
    pol = torch.randint(0, 2, (n_sig,), generator=g)
    lead = (pol.double() - 0.5) * 2.0  # ON ahead of the centre, OFF behind
    pos = center + (phase * travel + lead).unsqueeze(1) * d  # [n_sig, 2]
    pos = pos + torch.randn(n_sig, 2, generator=g, dtype=torch.float64) * (0.06 * min(W, H))
    tn = torch.randint(0, duration_us, (n_noise,), generator=g)
    xn = torch.randint(0, W, (n_noise,), generator=g)
    yn = torch.randint(0, H, (n_noise,), generator=g)
    pn = torch.randint(0, 2, (n_noise,), generator=g)
    x = torch.cat([pos[:, 0].round().clamp(0, W - 1).long(), xn])
    y = torch.cat([pos[:, 1].round().clamp(0, H - 1).long(), yn])
    tt = torch.cat([t, tn])
    p = torch.cat([pol, pn])
    order = torch.argsort(tt, stable=True)
    ev = make_events(tt[order].numpy(), x[order].numpy(), y[order].numpy(), p[order].numpy())
    return validate_events(ev, sensor_size, "synthetic_recording")


class SyntheticEvents(FrameDataset):
    """A labelled synthetic event dataset (module docstring); items ``(frames [T, 2, H, W], label)``.

    Args:
        num_samples: dataset size; labels cycle ``0..num_classes-1``.
        num_classes: number of motion directions (10).
        sensor_size: ``(W, H)`` (34, 34 like N-MNIST).
        T, split_by: frame integration (see :mod:`spiking.datasets.integrate`).
        events_per_sample: events per recording (1500).
        seed: base seed; train and test sets should use different seeds.
    """

    name = "synthetic"

    def __init__(
        self,
        num_samples: int = 200,
        num_classes: int = 10,
        sensor_size: tuple[int, int] = (34, 34),
        T: int = 10,
        split_by: str = "number",
        events_per_sample: int = 1500,
        seed: int = 0,
        cache_dir: str | os.PathLike | None = None,
        in_memory: bool = True,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
    ) -> None:
        super().__init__(cache_dir, in_memory, transform, target_transform)
        check_frames_args("SyntheticEvents", T, split_by)
        for k, v in (
            ("num_samples", num_samples),
            ("num_classes", num_classes),
            ("events_per_sample", events_per_sample),
        ):
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                raise ValueError(f"SyntheticEvents: {k} must be a positive int (got {v!r})")
        self.num_classes, self.sensor_size, self.T, self.split_by = num_classes, tuple(sensor_size), T, split_by
        self.events_per_sample, self.seed = events_per_sample, seed
        self.labels = [i % num_classes for i in range(num_samples)]

    def events(self, index: int) -> np.ndarray:
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + index)
        return synthetic_recording(self.labels[index], self.num_classes, self.sensor_size, self.events_per_sample, g)

    def cache_params(self) -> dict:
        return {
            "dataset": self.name,
            "n": len(self),
            "classes": self.num_classes,
            "sensor": self.sensor_size,
            "T": self.T,
            "split_by": self.split_by,
            "events": self.events_per_sample,
            "seed": self.seed,
        }

    def build_frames(self, index: int) -> np.ndarray:
        return integrate_events(self.events(index), self.T, self.sensor_size, self.split_by)
