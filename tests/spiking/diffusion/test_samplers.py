"""DDPM and DDIM samplers on a 1-D toy with the exact noise predictor of a Gaussian mixture."""

import itertools
import math

import pytest
import torch
from scipy import stats

from spiking.diffusion import GaussianDiffusion, NoiseSchedule, ddim_sample, ddpm_sample, timestep_sequence

MU, SD, W = (-0.5, 0.5), (0.1, 0.1), (0.5, 0.5)  # x0 ~ 0.5 N(-0.5, 0.1^2) + 0.5 N(0.5, 0.1^2)


def exact_eps(schedule: NoiseSchedule):
    """eps*(x_t, t) = -sqrt(1 - abar_t) * d/dx log p_t(x_t) for the mixture (closed form)."""

    def fn(x, t):
        a = schedule.alphas_bar[t].to(x.dtype).view(-1, 1)  # [B, 1]
        logs, scores = [], []
        for mu, sd, w in zip(MU, SD, W):
            var = a * sd**2 + (1 - a)
            logs.append(math.log(w) - 0.5 * (x - a.sqrt() * mu) ** 2 / var - 0.5 * var.log())
            scores.append(-(x - a.sqrt() * mu) / var)
        r = torch.softmax(torch.stack(logs), dim=0)  # responsibilities [K, B, 1]
        return -(1 - a).sqrt() * (r * torch.stack(scores)).sum(0)

    return fn


def data_sample(n, g):
    comp = torch.rand(n, generator=g) < 0.5
    return torch.where(comp, torch.tensor(MU[0]), torch.tensor(MU[1])) + 0.1 * torch.randn(n, generator=g)


@pytest.fixture(scope="module")
def toy():
    s = NoiseSchedule()
    return s, exact_eps(s)


def test_timestep_sequence():
    assert timestep_sequence(1000) == list(range(999, -1, -1))
    seq = timestep_sequence(1000, 50)
    assert len(seq) == 50 and seq[0] == 999 and seq[-1] == 0 and all(a > b for a, b in itertools.pairwise(seq))
    assert timestep_sequence(10, 1) == [9]
    with pytest.raises(ValueError, match="steps"):
        timestep_sequence(10, 11)
    with pytest.raises(ValueError, match="steps"):
        timestep_sequence(10, 0)


def test_ddim_eta0_is_deterministic(toy):
    s, eps = toy
    x_T = torch.randn(64, 1, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    a = ddim_sample(eps, s, x_T, steps=50, eta=0.0, generator=torch.Generator().manual_seed(2))
    b = ddim_sample(eps, s, x_T, steps=50, eta=0.0, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
    c = ddim_sample(eps, s, x_T, steps=50, eta=1.0, generator=torch.Generator().manual_seed(3))
    assert not torch.equal(a, c)


def test_ddim_eta1_step_is_the_ddpm_fixedsmall_step(toy):
    # same x_T and noise stream: the two chains coincide path by path (no clipping)
    s, eps = toy
    x_T = torch.randn(256, 1, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    for steps in (40, 200):
        a = ddim_sample(eps, s, x_T, steps=steps, eta=1.0, clip_x0=False, generator=torch.Generator().manual_seed(5))
        b = ddpm_sample(
            eps, s, x_T, steps=steps, var_type="fixedsmall", clip_x0=False, generator=torch.Generator().manual_seed(5)
        )
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-9)


@pytest.fixture(scope="module")
def toy_samples(toy):
    """2000 samples of each sampler over all 1000 steps (DDIM eta=0: 100 steps), independent noise."""
    s, eps = toy
    n, out = 2000, {}
    for i, name in enumerate(("ddpm_fixedlarge", "ddpm_fixedsmall", "ddim_eta1", "ddim_eta0_100")):
        g = torch.Generator().manual_seed(20 + i)
        x_T = torch.randn(n, 1, generator=g, dtype=torch.float64)
        if name.startswith("ddpm"):
            x = ddpm_sample(eps, s, x_T, var_type=name[5:], clip_x0=False, generator=g)
        elif name == "ddim_eta1":
            x = ddim_sample(eps, s, x_T, steps=None, eta=1.0, clip_x0=False, generator=g)
        else:
            x = ddim_sample(eps, s, x_T, steps=100, eta=0.0, clip_x0=False)
        out[name] = x[:, 0].float()
    return out


@pytest.mark.slow
@pytest.mark.parametrize("sampler", ["ddpm_fixedlarge", "ddpm_fixedsmall", "ddim_eta1", "ddim_eta0_100"])
def test_samplers_recover_the_data_distribution(toy_samples, sampler):
    x = toy_samples[sampler]
    assert x.mean().item() == pytest.approx(0.0, abs=0.04)
    assert x.var().item() == pytest.approx(0.25 + 0.01, rel=0.06)  # mixture variance
    ref = data_sample(len(x), torch.Generator().manual_seed(7))
    assert stats.ks_2samp(x.numpy(), ref.numpy()).pvalue > 0.01


@pytest.mark.slow
def test_ddim_eta1_equals_ddpm_in_distribution(toy_samples):
    # independent noise: DDIM(eta=1) and DDPM (fixedsmall and fixedlarge) give the same distribution
    for other in ("ddpm_fixedsmall", "ddpm_fixedlarge"):
        assert stats.ks_2samp(toy_samples["ddim_eta1"].numpy(), toy_samples[other].numpy()).pvalue > 0.01


def test_sampler_argument_errors(toy):
    s, eps = toy
    x_T = torch.zeros(2, 1)
    with pytest.raises(ValueError, match="var_type"):
        ddpm_sample(eps, s, x_T, var_type="learned")
    with pytest.raises(ValueError, match="eta"):
        ddim_sample(eps, s, x_T, eta=1.5)
    with pytest.raises(ValueError, match="epsilon of the input's shape"):
        ddpm_sample(lambda x, t: x[:1], s, x_T, steps=2)
    with pytest.raises(TypeError, match="NoiseSchedule"):
        ddpm_sample(eps, object(), x_T)


def test_unknown_sampler_is_a_clear_error():
    ddpm = GaussianDiffusion(torch.nn.Conv2d(1, 1, 1), num_steps=10)
    with pytest.raises(ValueError, match=r"sampler must be one of \['ddpm', 'ddim'\] \(got 'euler'\)"):
        ddpm.sample((1, 1, 4, 4), sampler="euler")
