"""Spiking conv net / MLP: shapes, repr, gradients to every parameter, reset_net, bad input."""

from __future__ import annotations

import pytest
import torch
from spikingjelly.activation_based import functional

from spiking.datasets import SyntheticEvents
from spiking.models import SpikingConvNet, SpikingMLP
from spiking.neurons import LIF, ParametricLIF


@pytest.mark.parametrize("neuron", ["lif", "plif", "if"])
def test_conv_net(neuron):
    m = SpikingConvNet(2, 5, (4, 8), neuron=neuron, tau=2.0)
    x = (torch.rand(3, 2, 2, 20, 20) < 0.3).float() * 2  # [T, B, C, H, W]
    out = m(x)
    assert out.shape == (2, 5) and m.forward_seq(x).shape == (3, 2, 5)
    functional.reset_net(m)
    out = m(x)
    out.sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    assert f"neuron='{neuron}'" in repr(m)
    functional.reset_net(m)
    assert all(n.v == n.get_reset_value("v") for n in m.neurons)


def test_mlp_and_plif_params():
    m = SpikingMLP(700, 20, (16,), neuron="plif")
    assert isinstance(m.neurons[0], ParametricLIF)
    out = m(torch.rand(4, 3, 700))
    assert out.shape == (3, 20)
    out.sum().backward()
    assert m.neurons[0].w.grad is not None


def test_eval_deterministic_and_bad_input():
    m = SpikingConvNet(2, 3, (4,)).eval()
    x = torch.rand(2, 1, 2, 8, 8) * 3
    a = m(x)
    functional.reset_net(m)
    torch.testing.assert_close(a, m(x))
    with pytest.raises(ValueError, match=r"\[T, B, C, H, W\]"):
        m(torch.rand(2, 2, 8, 8))
    with pytest.raises(ValueError, match="kind must be one of"):
        SpikingConvNet(neuron="izh")
    with pytest.raises(ValueError, match="channels"):
        SpikingConvNet(channels=())
    with pytest.raises(ValueError, match="hidden"):
        SpikingMLP(3, 2, ())


def test_synthetic_dataset():
    ds = SyntheticEvents(12, num_classes=4, T=5, seed=3)
    x, y = ds[5]
    assert tuple(x.shape) == (5, 2, 34, 34) and y == 1 and x.sum() == 1500
    torch.testing.assert_close(SyntheticEvents(12, num_classes=4, T=5, seed=3)[5][0], x)  # reproducible
    assert not torch.equal(SyntheticEvents(12, num_classes=4, T=5, seed=4)[5][0], x)
    with pytest.raises(ValueError, match="num_samples"):
        SyntheticEvents(0)
    with pytest.raises(IndexError):
        ds[12]
    assert isinstance(SpikingConvNet().neurons[0], LIF)


def test_dataset_transforms():
    ds = SyntheticEvents(4, num_classes=2, T=3, transform=lambda x: (x > 0).float(), target_transform=lambda y: y + 10)
    x, y = ds[1]
    assert y == 11 and set(x.unique().tolist()) <= {0.0, 1.0}
    assert ds.frames(1).max() >= 1  # the cache holds un-transformed counts
