"""Encoders: seeded reproducibility, rates, exact latency codes, bad input."""
from __future__ import annotations

import pytest
import torch

from spiking.encoding import bernoulli_encode, latency_encode, poisson_encode, repeat_encode


def test_bernoulli_seeded_and_rate():
    x = torch.tensor([0.0, 0.25, 1.0])
    a = bernoulli_encode(x, 4000, generator=torch.Generator().manual_seed(3))
    b = bernoulli_encode(x, 4000, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and a.shape == (4000, 3) and a.dtype == x.dtype
    rate = a.mean(0)
    assert rate[0] == 0 and rate[2] == 1 and abs(rate[1] - 0.25) < 0.03


def test_poisson_rate():
    x = torch.tensor([0.0, 0.5, 1.0])
    s = poisson_encode(x, 4000, max_rate=2.0, generator=torch.Generator().manual_seed(0))
    expected = 1 - torch.exp(-2.0 * x)
    assert torch.all((s.mean(0) - expected).abs() < 0.03)
    assert set(s.unique().tolist()) <= {0.0, 1.0}


def test_repeat_and_latency_exact():
    x = torch.tensor([[0.0, 0.5], [1.0, 0.75]])
    r = repeat_encode(x, 3)
    assert r.shape == (3, 2, 2) and torch.equal(r[2], x)
    lat = latency_encode(x, 5)  # t_f = round(4 * (1 - x)): 1.0 -> 0, 0.75 -> 1, 0.5 -> 2, 0 -> never
    assert lat[0, 1, 0] == 1 and lat[1, 1, 1] == 1 and lat[2, 0, 1] == 1
    assert lat[:, 0, 0].sum() == 0 and lat.sum() == 3
    log = latency_encode(torch.tensor([1.0]), 5, mode="log")
    assert log[0, 0] == 1  # x=1 -> (T-1) - ln(e^(T-1)) = 0


def test_bad_input():
    x = torch.rand(3)
    with pytest.raises(ValueError, match="T must be a positive int"):
        bernoulli_encode(x, 0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        poisson_encode(x + 1, 3)
    with pytest.raises(TypeError, match="floating point"):
        repeat_encode(torch.ones(3, dtype=torch.long), 2)
    with pytest.raises(TypeError, match="torch.Generator"):
        bernoulli_encode(x, 2, generator=1)
    with pytest.raises(ValueError, match="mode"):
        latency_encode(x, 3, mode="exp")
    with pytest.raises(ValueError, match="max_rate"):
        poisson_encode(x, 3, max_rate=0.0)
