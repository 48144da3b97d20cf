"""spiking.neurons.ParametricLIF: spikingjelly parity of spikes and gradients (w included), tau learns."""

from __future__ import annotations

import pytest
import torch
from spikingjelly.activation_based import neuron

from spiking.neurons import ParametricLIF
from tests.spiking.neurons.helpers import run_m, run_s


@pytest.mark.parametrize("kwargs", [dict(init_tau=2.0), dict(init_tau=4.0, v_reset=None, detach_reset=True)])
@pytest.mark.parametrize("mode", ["s", "m"])
def test_parity_with_spikingjelly(kwargs, mode):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(8, 5, 6, generator=g) * 2.0  # [T, B, F]
    a, b = ParametricLIF(**kwargs), neuron.ParametricLIFNode(**kwargs)
    xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
    run = run_m if mode == "m" else run_s
    sa, sb = run(a, xa), run(b, xb)
    torch.testing.assert_close(sa, sb)
    torch.testing.assert_close(a.v, b.v)
    w = torch.randn(sa.shape, generator=g)
    (sa * w).sum().backward()
    (sb * w).sum().backward()
    torch.testing.assert_close(xa.grad, xb.grad, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(a.w.grad, b.w.grad, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(a.w.detach(), b.w.detach())


def test_tau_learns_and_reset_parameters_restores_it():
    plif = ParametricLIF(init_tau=2.0, step_mode="m")
    torch.testing.assert_close(plif.tau_value(), torch.tensor(2.0))
    plif(torch.rand(4, 3, 2) * 2).sum().backward()
    assert plif.w.grad is not None and plif.w.grad.abs() > 0
    with torch.no_grad():
        plif.w.add_(1.0)
    assert plif.lif_params().tau.item() != pytest.approx(2.0)
    plif.reset_parameters()
    torch.testing.assert_close(plif.tau_value(), torch.tensor(2.0))
    assert "init_tau=2.0" in repr(plif)


@pytest.mark.parametrize("init_tau", [float("inf"), float("nan"), "2", 1.0, 0.5])
def test_bad_init_tau(init_tau):
    with pytest.raises(ValueError, match="init_tau must be a finite float > 1|tau must be > 1"):
        ParametricLIF(init_tau=init_tau)
