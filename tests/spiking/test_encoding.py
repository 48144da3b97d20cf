"""Encoders: seeded reproducibility, rates (dense and sparse Bernoulli), exact latency codes, bad input."""

from __future__ import annotations

import math

import pytest
import torch

from spiking.encoding import bernoulli_encode, latency_encode, poisson_encode, repeat_encode, sparse_bernoulli_encode


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


def test_bernoulli_fires_where_u_is_at_most_x_like_spikingjelly():
    x = torch.tensor([0.0, 0.5, 1.0])
    u = torch.tensor([[0.0, 0.5, 0.99], [0.1, 0.51, 0.0]])
    assert bernoulli_encode(x, 2, uniform=u).tolist() == [[1.0, 1.0, 1.0], [0.0, 0.0, 1.0]]
    with pytest.raises(ValueError, match="uniform must have shape"):
        bernoulli_encode(x, 3, uniform=u)


@pytest.mark.parametrize("encoder", ["dense", "sparse"])
def test_encoder_rate_equals_probability(encoder):
    gen = torch.Generator().manual_seed(0)
    p = torch.rand(20, 30, generator=gen) * (torch.rand(20, 30, generator=gen) < 0.4) * 0.9 + 0.05  # floor 0.05
    p[0, 0] = 1.0  # always fires
    T = 4000
    if encoder == "dense":
        rate = bernoulli_encode(p, T, generator=gen).mean(0)
    else:
        rate = sparse_bernoulli_encode(p, T, generator=gen).to_dense().mean(0)
    # every entry within 5 standard errors of its probability; overall z-score near 0
    se = (p * (1 - p) / T).sqrt().clamp(min=1e-6)
    z = (rate - p) / se
    assert float(z.abs().max()) < 5.0
    assert abs(float(z[p < 1].mean())) * math.sqrt(int((p < 1).sum())) < 5.0
    assert rate[0, 0] == 1.0


def test_sparse_encoder_seeded_never_fires_zero_probability_and_counts_per_node():
    gen = torch.Generator().manual_seed(1)
    p = torch.rand(8, 50, generator=gen) * (torch.rand(8, 50, generator=gen) < 0.3)
    s = sparse_bernoulli_encode(p, 300, generator=torch.Generator().manual_seed(2))
    s2 = sparse_bernoulli_encode(p, 300, generator=torch.Generator().manual_seed(2))
    assert torch.equal(s.rows, s2.rows) and torch.equal(s.cols, s2.cols)
    dense = s.to_dense()
    assert dense[:, p == 0].sum() == 0
    assert torch.equal(s.per_node(), dense.sum((0, 2)).long())
    with pytest.raises(ValueError, match="2-D"):
        sparse_bernoulli_encode(torch.rand(3), 4)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        sparse_bernoulli_encode(torch.rand(3, 4) + 1, 4)
