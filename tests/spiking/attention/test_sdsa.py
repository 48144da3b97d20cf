"""SpikeDrivenSelfAttention: equals spikingjelly 2.0's layer, membrane shortcut, modes."""

from __future__ import annotations

import pytest
import torch
from spikingjelly.activation_based import functional
from spikingjelly.activation_based.layer import attention as sj_attention

from spiking.attention import SpikeDrivenSelfAttention


def _randomise_bn(module):
    g = torch.Generator().manual_seed(0)
    for m in module.modules():
        if isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
            with torch.no_grad():
                m.weight.uniform_(0.5, 1.5, generator=g)
                m.bias.uniform_(0.5, 2.0, generator=g)  # neurons fire often


@pytest.mark.parametrize("train", [True, False])
def test_equals_spikingjelly(train):
    sj = sj_attention.SpikeDrivenSelfAttention(16, 4).double()
    _randomise_bn(sj)
    ours = SpikeDrivenSelfAttention.from_spikingjelly(sj)
    sj.train(train)
    ours.train(train)
    x = (torch.randn(4, 2, 16, 3, 5, dtype=torch.float64) * 2).requires_grad_()  # [T, B, C, H, W]
    xt = x.detach().flatten(3).transpose(2, 3).clone().requires_grad_()  # [T, B, N, C]
    ys, yo = sj(x), ours(xt, (3, 5))
    torch.testing.assert_close(yo, ys.flatten(3).transpose(2, 3))
    g = torch.randn_like(yo)
    ys.flatten(3).transpose(2, 3).backward(g)
    yo.backward(g)
    torch.testing.assert_close(xt.grad, x.grad.flatten(3).transpose(2, 3))
    torch.testing.assert_close(ours.proj.weight.grad, sj.proj_conv.weight.grad.flatten(1))
    assert ours.attn.qkv.lif.v.abs().sum() > 0
    functional.reset_net(ours)


def test_statten_mode_and_repr():
    m = SpikeDrivenSelfAttention(8, 2, "statten", chunk_size=2, scale="event", dvs_pool=True)
    u = torch.randn(4, 2, 6, 8)
    y = m(u, (2, 3))
    assert y.shape == u.shape
    assert "attention='statten', chunk_size=2, scale='event', dvs_pool=True" in repr(m)
    with pytest.raises(ValueError, match=r"u must be time-major tokens"):
        m(u[0])
