"""The DDPM schedule against its formulas: forward marginals, posterior mean/variance, x0 recovery."""

import math

import pytest
import torch

from spiking.diffusion import NoiseSchedule


def test_linear_betas_and_cumulative_product():
    s = NoiseSchedule()
    assert s.betas.dtype == torch.float64 and s.betas.shape == (1000,)
    assert s.betas[0].item() == pytest.approx(1e-4) and s.betas[-1].item() == pytest.approx(0.02)
    assert s.alphas_bar[10].item() == pytest.approx(math.prod(1 - b for b in s.betas[:11].tolist()), rel=1e-12)
    assert s.alphas_bar_prev[0].item() == 1.0
    assert s.alphas_bar[-1].item() == pytest.approx(4.04e-5, rel=0.02)  # sqrt(abar_T) ~ 0.0064: x_T is noise


def test_forward_marginals_match_the_markov_chain_exactly():
    # x_t = sqrt(alpha_t) x_{t-1} + sqrt(beta_t) eps: mean coefficient m_t and variance v_t by recursion
    s = NoiseSchedule()
    m, v = 1.0, 0.0
    for t in range(1000):
        beta = s.betas[t].item()
        m, v = math.sqrt(1 - beta) * m, (1 - beta) * v + beta
        if t in (0, 1, 10, 500, 999):
            assert m == pytest.approx(math.sqrt(s.alphas_bar[t].item()), rel=1e-10)
            assert v == pytest.approx(1 - s.alphas_bar[t].item(), rel=1e-10)


def test_forward_marginals_monte_carlo():
    s = NoiseSchedule(num_steps=100, beta_1=1e-3, beta_T=0.05)
    g = torch.Generator().manual_seed(0)
    x0 = torch.full((40000, 1), 0.7, dtype=torch.float64)
    x = x0.clone()
    for t in range(30):
        beta = s.betas[t].item()
        x = math.sqrt(1 - beta) * x + math.sqrt(beta) * torch.randn(x.shape, generator=g, dtype=torch.float64)
    t = torch.full((40000,), 29, dtype=torch.long)
    closed = s.q_sample(x0, t, torch.randn(x0.shape, generator=g, dtype=torch.float64))
    a = s.alphas_bar[29].item()
    for sample in (x, closed):
        assert sample.mean().item() == pytest.approx(math.sqrt(a) * 0.7, abs=0.01)
        assert sample.var().item() == pytest.approx(1 - a, rel=0.03)


def test_posterior_is_the_bayes_product_of_the_two_gaussians():
    # q(x_{t-1}|x_t, x0) ~ N(x_t; sqrt(a_t) x_{t-1}, b_t) * N(x_{t-1}; sqrt(abar_{t-1}) x0, 1 - abar_{t-1})
    s = NoiseSchedule()
    t = torch.tensor([1, 5, 100, 999])
    x0 = torch.tensor([0.3, -0.9, 0.1, 1.0], dtype=torch.float64)[:, None]
    xt = torch.tensor([1.2, 0.4, -2.0, 0.05], dtype=torch.float64)[:, None]
    mean, var = s.q_posterior(x0, xt, t)
    for i, ti in enumerate(t.tolist()):
        b, ab_prev = s.betas[ti].item(), s.alphas_bar[ti - 1].item()
        precision = (1 - b) / b + 1 / (1 - ab_prev)
        expect_mean = (
            math.sqrt(1 - b) / b * xt[i, 0].item() + math.sqrt(ab_prev) / (1 - ab_prev) * x0[i, 0].item()
        ) / precision
        assert mean[i, 0].item() == pytest.approx(expect_mean, rel=1e-9)
        assert var[i, 0].item() == pytest.approx(1 / precision, rel=1e-9)


def test_posterior_at_t0_is_x0_with_zero_variance():
    s = NoiseSchedule()
    x0, xt = torch.tensor([[0.25]], dtype=torch.float64), torch.tensor([[0.3]], dtype=torch.float64)
    mean, var = s.q_posterior(x0, xt, torch.tensor([0]))
    assert mean.item() == pytest.approx(0.25) and var.item() == 0.0


def test_predict_x0_inverts_q_sample_and_follows_dtype():
    s = NoiseSchedule()
    x0 = torch.rand(8, 1, 4, 4) * 2 - 1
    noise = torch.randn_like(x0)
    t = torch.randint(1000, (8,))
    xt = s.q_sample(x0, t, noise)
    assert xt.dtype == torch.float32
    torch.testing.assert_close(s.predict_x0(xt, t, noise), x0, atol=2e-3, rtol=0)


@pytest.mark.parametrize("kwargs", [{"num_steps": 0}, {"num_steps": 2.5}, {"beta_1": 0.0}, {"beta_T": 1.5}])
def test_bad_schedule_arguments(kwargs):
    with pytest.raises(ValueError, match="NoiseSchedule"):
        NoiseSchedule(**kwargs)


def test_t_must_be_integer_steps():
    with pytest.raises(TypeError, match="integer tensor"):
        NoiseSchedule().q_sample(torch.zeros(2, 1), torch.tensor([0.5, 1.0]), torch.zeros(2, 1))
