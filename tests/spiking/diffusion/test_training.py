"""GaussianDiffusion training/sampling, EMA and threshold guidance."""

import pytest
import torch

from spiking.diffusion import EMA, GaussianDiffusion, SpikingUNet, UNet, spiking_neurons, threshold_shift


def tiny(T_snn=2):
    return SpikingUNet(image_channels=1, ch=8, ch_mult=(1, 2), num_res_blocks=1, T_snn=T_snn)


@pytest.mark.slow
def test_loss_is_deterministic_given_a_generator_and_training_lowers_it():
    torch.manual_seed(0)
    ddpm = GaussianDiffusion(tiny(), num_steps=100)
    x0 = torch.rand(8, 1, 8, 8) * 2 - 1
    a = ddpm.loss(x0, generator=torch.Generator().manual_seed(1))
    b = ddpm.loss(x0, generator=torch.Generator().manual_seed(1))
    assert a.dim() == 0 and torch.equal(a, b)
    opt = torch.optim.Adam(ddpm.model.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(2)
    losses = []
    for _ in range(40):
        loss = ddpm.loss(x0, generator=g)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert sum(losses[-10:]) / 10 < 0.8 * sum(losses[:10]) / 10


def test_sample_shape_range_mode_and_errors():
    ddpm = GaussianDiffusion(tiny(), num_steps=20)
    ddpm.train()
    x = ddpm.sample((3, 1, 8, 8), sampler="ddpm", generator=torch.Generator().manual_seed(0))
    assert x.shape == (3, 1, 8, 8) and x.min() >= -1 and x.max() <= 1
    assert ddpm.model.training  # mode restored
    y = ddpm.sample(x_T=torch.randn(2, 1, 8, 8), sampler="ddim", steps=5)
    assert y.shape == (2, 1, 8, 8)
    with pytest.raises(ValueError, match="exactly one of shape and x_T"):
        ddpm.sample()
    with pytest.raises(ValueError, match="sampler must be one of"):
        ddpm.sample((1, 1, 8, 8), sampler="plms")
    with pytest.raises(ValueError, match="var_type"):
        GaussianDiffusion(tiny(), var_type="learned")
    with pytest.raises(ValueError, match="x0 must be"):
        ddpm.loss(torch.zeros(2, 8, 8))


def test_ema_average_warmup_and_buffers():
    net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2))
    ema = EMA(net, decay=0.9, warmup=False)
    start = net[0].weight.detach().clone()
    with torch.no_grad():
        net[0].weight.add_(1.0)
        net[1].running_mean.fill_(2.0)
        net[1].num_batches_tracked.fill_(7)
    ema.update(net)
    torch.testing.assert_close(ema.module[0].weight, 0.9 * start + 0.1 * (start + 1.0))
    torch.testing.assert_close(ema.module[1].running_mean, torch.full((2,), 0.2))
    assert int(ema.module[1].num_batches_tracked) == 7 and int(ema.num_updates) == 1
    warm = EMA(net, decay=0.9999)
    assert warm.current_decay() == pytest.approx(0.1)  # (1 + 0) / (10 + 0)
    with pytest.raises(ValueError, match="decay"):
        EMA(net, decay=1.0)
    with pytest.raises(ValueError, match="keys differ"):
        ema.update(torch.nn.Linear(2, 2))


def test_threshold_shift_walks_every_neuron_and_restores():
    net = tiny().eval()
    neurons = spiking_neurons(net)
    rates = {}
    x, t = torch.randn(4, 1, 8, 8), torch.tensor([1, 2, 3, 4])

    def rate():
        outs = []
        hooks = [n.register_forward_hook(lambda m, a, o: outs.append(o)) for n in neurons]
        with torch.no_grad():
            net(x, t)
        for h in hooks:
            h.remove()
        return sum(o.sum().item() for o in outs) / sum(o.numel() for o in outs)

    base = rate()
    for shift in (-0.3, 0.3):
        with threshold_shift(net, shift) as m:
            assert m is net and all(n.v_threshold == pytest.approx(1.0 + shift) for n in neurons)
            rates[shift] = rate()
    assert rates[-0.3] > base > rates[0.3]
    assert all(n.v_threshold == 1.0 for n in neurons)
    with pytest.raises(RuntimeError), threshold_shift(net, 0.1):
        raise RuntimeError("inside")
    assert all(n.v_threshold == 1.0 for n in neurons)


def test_threshold_shift_errors():
    net = tiny()
    with pytest.raises(ValueError, match="no spiking neurons"), threshold_shift(UNet.twin_of(net), 0.1):
        pass
    with pytest.raises(ValueError, match="above v_reset"), threshold_shift(net, -1.0):
        pass
    with pytest.raises(ValueError, match="finite"), threshold_shift(net, float("nan")):
        pass
    with pytest.raises(TypeError, match="float"), threshold_shift(net, "0.1"):
        pass
    assert all(n.v_threshold == 1.0 for n in spiking_neurons(net))
