"""The synthetic offset task."""

from __future__ import annotations

import pytest
import torch

from spiking.delays import DelayTask, delay_task


def test_offsets_and_determinism():
    x, y = delay_task(200, offsets=(1, 4, 9), T=20, noise_channels=3, generator=torch.Generator().manual_seed(1))
    assert x.shape == (20, 200, 5) and y.shape == (200,) and set(y.tolist()) == {0, 1, 2}
    t0, t1 = x[:, :, 0].argmax(0), x[:, :, 1].argmax(0)
    assert torch.equal(x[:, :, :2].sum(0), torch.ones(200, 2))  # exactly one spike on each signal channel
    assert torch.equal(t1 - t0, torch.tensor([1, 4, 9])[y])
    assert set(x.unique().tolist()) <= {0.0, 1.0}
    x2, y2 = delay_task(200, offsets=(1, 4, 9), T=20, noise_channels=3, generator=torch.Generator().manual_seed(1))
    assert torch.equal(x, x2) and torch.equal(y, y2)
    ds = DelayTask(10, generator=torch.Generator().manual_seed(0))
    f, label = ds[3]
    assert f.shape == (40, 8) and label in range(4) and ds.num_classes == 4 and ds.num_channels == 8


def test_errors():
    with pytest.raises(ValueError, match="num_samples"):
        delay_task(0)
    with pytest.raises(ValueError, match="distinct"):
        delay_task(5, offsets=(3, 3))
    with pytest.raises(ValueError, match="T must be an int > max"):
        delay_task(5, offsets=(2, 40), T=40)
