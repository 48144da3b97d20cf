"""Fused Q/K/V: equals three separate 1x1 conv + BN + LIF triples; shapes, repr, bad input."""

from __future__ import annotations

import pytest
import torch
from spikingjelly.activation_based import functional, neuron
from torch import nn

from spiking.attention import SpikingQKV


def test_equals_three_separate_conv_bn_lif():
    D, T, B, H, W = 8, 3, 2, 3, 4
    convs = [nn.Conv2d(D, D, 1, bias=False).double() for _ in range(3)]
    bns = [nn.BatchNorm2d(D).double() for _ in range(3)]
    for bn in bns:
        nn.init.uniform_(bn.weight, 0.5, 2.0)
        nn.init.uniform_(bn.bias, 0.0, 1.0)
    m = SpikingQKV(D).double()
    m.load_separate([c.weight for c in convs], bns)
    x = torch.randn(T, B, D, H, W, dtype=torch.float64)
    refs = []
    for conv, bn in zip(convs, bns):
        lif = neuron.LIFNode(tau=2.0, detach_reset=True, step_mode="m")  # spikingjelly's own neuron
        refs.append(lif(bn(conv(x.flatten(0, 1))).unflatten(0, (T, B))).flatten(3).transpose(2, 3))
    out = m(x.flatten(3).transpose(2, 3))  # [T, B, N, D]
    for a, b in zip(out, refs):
        torch.testing.assert_close(a, b)
    assert sum(r.sum() for r in refs) > 0
    assert set(torch.cat(out).unique().tolist()) <= {0.0, 1.0}


def test_grad_repr_reset():
    m = SpikingQKV(4, bias=True)
    q, k, v = m(torch.randn(2, 3, 5, 4) * 3)
    (q.sum() + 2 * k.sum() + 3 * v.sum()).backward()
    assert m.proj.weight.grad.abs().sum() > 0 and m.proj.bias.grad is not None
    assert "dim=4, bias=True, tau=2.0" in repr(m)
    functional.reset_net(m)
    assert m.lif.v == 0.0


def test_bad_input():
    m = SpikingQKV(4)
    with pytest.raises(ValueError, match=r"expected D=4 channels \(got x of shape \(2, 3, 5, 6\)\)"):
        m(torch.zeros(2, 3, 5, 6))
    with pytest.raises(ValueError, match=r"\[T, B, N, D\]"):
        m(torch.zeros(3, 5, 4))
    with pytest.raises(ValueError, match="3 weights"):
        m.load_separate([torch.zeros(4, 4)], [nn.BatchNorm1d(4)])
