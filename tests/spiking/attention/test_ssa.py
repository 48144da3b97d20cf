"""SpikingSelfAttention (Spikformer): equals spikingjelly 2.0's layer; STAtten mode; bad input."""

from __future__ import annotations

import pytest
import torch
from spikingjelly.activation_based.layer import attention as sj_attention

from spiking.attention import SpikingSelfAttention

from .test_sdsa import _randomise_bn


@pytest.mark.parametrize("train", [True, False])
def test_equals_spikingjelly(train):
    sj = sj_attention.SpikingSelfAttention(16, 4).double()
    _randomise_bn(sj)
    ours = SpikingSelfAttention.from_spikingjelly(sj)
    sj.train(train)
    ours.train(train)
    x = (torch.rand(4, 2, 16, 12, dtype=torch.float64) < 0.4).double().requires_grad_()  # [T, B, C, L]
    xt = x.detach().transpose(2, 3).clone().requires_grad_()  # [T, B, N, C]
    ys, yo = sj(x), ours(xt)
    torch.testing.assert_close(yo, ys.transpose(2, 3))
    assert ys.sum() > 0
    g = torch.randn_like(yo)
    ys.transpose(2, 3).backward(g)
    yo.backward(g)
    torch.testing.assert_close(xt.grad, x.grad.transpose(2, 3))


def test_statten_mode():
    m = SpikingSelfAttention(8, 2, "statten", chunk_size=4)
    x = (torch.rand(4, 2, 16, 8) < 0.3).float()
    y = m(x)
    assert y.shape == x.shape and set(y.unique().tolist()) <= {0.0, 1.0}
    assert "attention='statten', chunk_size=4" in repr(m)
    with pytest.raises(ValueError, match="chunk_size must divide"):
        m(x[:3])
