"""DelayLinear: rounding, the integer-delay context, delays set by hand, state, repr, errors."""

from __future__ import annotations

import pytest
import torch

from spiking.delays import (
    DelayLinear,
    clamp_positions,
    delay_layers,
    integer_delay_linear_reference,
    integer_delays,
    position_limits,
    round_delays,
    set_sigma,
)


def _spikes(T=30, B=4, C=10, seed=0):
    return (torch.rand(T, B, C, generator=torch.Generator().manual_seed(seed)) < 0.2).float()


def test_rounded_paths_agree():
    layer = DelayLinear(10, 7, 25)
    x = _spikes()
    with integer_delays(layer):
        assert layer.rounded
        fast = layer(x.detach())  # no grad needed: the sparse path
        with torch.no_grad():
            fast_ng = layer(x)
        dense = layer(x.requires_grad_())  # grad needed: the one-tap dense kernel
    assert not layer.rounded
    ref = integer_delay_linear_reference(x.detach(), layer.weight.detach(), layer.integer_delays(), 25)
    torch.testing.assert_close(fast_ng, ref, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(dense, ref, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(fast, ref, rtol=1e-5, atol=1e-5)


def test_integer_delays_match_positions():
    layer = DelayLinear(3, 2, 9)
    with torch.no_grad():
        layer.P.copy_(torch.tensor([[-4.0, -0.4, 0.6], [3.49, 4.0, -2.51]]))
    assert layer.integer_delays().tolist() == [[8, 4, 3], [1, 0, 7]]  # 4 - round(P)
    torch.testing.assert_close(layer.delays(), 4 - layer.P.detach())
    P_before = layer.P.detach().clone()
    with integer_delays(layer):
        pass
    assert torch.equal(layer.P.detach(), P_before)  # the context never moves positions
    layer.round_delays()
    assert layer.rounded and layer.P.detach().tolist() == [[-4.0, 0.0, 1.0], [3.0, 4.0, -3.0]]


def test_set_delays_and_errors():
    layer = DelayLinear(3, 2, 5)
    d = torch.tensor([[0, 4, 2], [1, 3, 0]])
    layer.set_delays(d)
    assert torch.equal(layer.integer_delays(), d)
    with pytest.raises(ValueError, match="a longer delay needs a larger kernel_size"):
        layer.set_delays(d + 1)
    with pytest.raises(ValueError, match="delays must lie in"):
        layer.set_delays(d - 1)
    with pytest.raises(ValueError, match=r"delays must be a tensor \[C_out, C_in\]"):
        layer.set_delays(d[:, :2])


def test_clamp_and_sigma():
    layer = DelayLinear(3, 2, 6)
    with torch.no_grad():
        layer.P.fill_(10.0)
    clamp_positions(layer)
    assert layer.P.max().item() == position_limits(6)[1] == 2
    assert layer.integer_delays().min().item() == 0
    set_sigma(layer, 0.5)
    assert layer.sigma.item() == 0.5
    with pytest.raises(ValueError, match="sigma must be > 0"):
        layer.set_sigma(0.0)


def test_k1_is_linear():
    layer = DelayLinear(10, 7, 1, bias=True)
    x = torch.rand(20, 3, 10)
    y = layer(x)
    assert y.shape == (20, 3, 7)
    torch.testing.assert_close(y, (x @ layer.weight.T + layer.bias) / (1 + 1e-7), rtol=1e-6, atol=1e-6)
    with integer_delays(layer), torch.no_grad():
        torch.testing.assert_close(layer(x), x @ layer.weight.T + layer.bias, rtol=1e-6, atol=1e-6)


def test_state_dict_keeps_rounding_and_sigma():
    a = torch.nn.Sequential(DelayLinear(4, 3, 7), DelayLinear(3, 2, 7))
    round_delays(a)
    set_sigma(a, 0.7)
    b = torch.nn.Sequential(DelayLinear(4, 3, 7), DelayLinear(3, 2, 7))
    b.load_state_dict(a.state_dict())
    assert all(m.rounded for m in delay_layers(b)) and all(
        m.sigma.item() == pytest.approx(0.7) for m in delay_layers(b)
    )
    x = _spikes(C=4)
    with torch.no_grad():
        torch.testing.assert_close(a(x), b(x))


def test_reset_parameters_generator_and_repr():
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    a, b = DelayLinear(6, 4, 11), DelayLinear(6, 4, 11)
    a.reset_parameters(g1)
    b.reset_parameters(g2)
    assert torch.equal(a.weight, b.weight) and torch.equal(a.P, b.P)
    lo, hi = position_limits(11)
    assert a.P.min() >= lo and a.P.max() <= hi
    assert a.weight.abs().max() <= (6.0 / 6) ** 0.5
    assert repr(a) == (
        "DelayLinear(6, 4, kernel_size=11, interpolation='gauss', sigma=5.27, bias=False, right_padding=5)"
    )


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"kernel_size": 0}, "kernel_size"),
        ({"kernel_size": -3}, "kernel_size"),
        ({"interpolation": "max"}, "interpolation must be one of"),
        ({"sigma": -1.0}, "sigma must be > 0"),
        ({"in_channels": 0}, "in_channels must be an int >= 1"),
    ],
)
def test_constructor_errors(kwargs, match):
    args = {"in_channels": 3, "out_channels": 2, "kernel_size": 5} | kwargs
    with pytest.raises(ValueError, match=match):
        DelayLinear(**args)
