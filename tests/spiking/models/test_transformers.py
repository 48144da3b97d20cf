"""Spike-driven Transformer v1 and Spikformer: shapes, modes, gradients, reset, energy, bad input."""

from __future__ import annotations

import pytest
import torch
from spikingjelly.activation_based import functional

from spiking.energy import estimate_energy
from spiking.models import SpikeDrivenTransformer, Spikformer

MODELS = {"sdt": SpikeDrivenTransformer, "spikformer": Spikformer}


@pytest.mark.parametrize("model", list(MODELS))
@pytest.mark.parametrize("attention", ["sdt", "ssa", "statten"])
def test_forward_backward_reset(model, attention):
    m = MODELS[model](
        2,
        5,
        embed_dim=16,
        num_heads=2,
        depth=2,
        pooling="0011",
        attention=attention,
        chunk_size=2,
        dvs_pool=attention == "statten",
    )
    x = torch.rand(4, 3, 2, 16, 16) * 3  # [T, B, C, H, W]
    seq = m.forward_seq(x)
    assert seq.shape == (4, 3, 5)
    functional.reset_net(m)
    out = m(x)
    torch.testing.assert_close(out, seq.mean(0))  # BN in train mode: same batch, same result
    out.logsumexp(1).sum().backward()
    missing = [n for n, p in m.named_parameters() if p.grad is None]
    assert not missing, missing
    assert f"attention='{attention}'" in repr(m)
    functional.reset_net(m)


def test_eval_deterministic_and_dtype():
    m = SpikeDrivenTransformer(2, 3, embed_dim=16, num_heads=2, depth=1, attention="statten", chunk_size=2).eval()
    m.double()
    x = torch.rand(2, 1, 2, 8, 8, dtype=torch.float64)
    a = m(x)
    functional.reset_net(m)
    torch.testing.assert_close(a, m(x))
    assert a.dtype == torch.float64


@pytest.mark.parametrize("attention", ["sdt", "statten"])
def test_energy_report(attention):
    m = SpikeDrivenTransformer(2, 4, embed_dim=16, num_heads=2, depth=1, attention=attention, chunk_size=2)
    x = torch.rand(4, 8, 2, 16, 16) * 2
    for bn in m.modules():  # batch-norm running statistics of this data (an untrained eval model barely fires)
        if isinstance(bn, torch.nn.modules.batchnorm._BatchNorm):
            bn.momentum = None  # cumulative average
    with torch.no_grad():
        for _ in range(3):
            m(x)
            functional.reset_net(m)
    r = estimate_energy(m, x[:, :1], ann=True)
    names = {row.name for row in r.layers}
    assert "blocks.0.attn.attn" in names  # the attention products / token sum are counted
    assert r.mac > 0 and r.ac > 0 and r.ann is not None and r.ann.mac > r.mac
    assert 0 < r.firing_rate < 1


def test_bad_input():
    with pytest.raises(ValueError, match="depth"):
        SpikeDrivenTransformer(depth=0)
    with pytest.raises(ValueError, match="num_heads must divide"):
        Spikformer(embed_dim=24, num_heads=5)
    m = SpikeDrivenTransformer(2, 3, embed_dim=16, num_heads=2, depth=1, attention="statten", chunk_size=4)
    with pytest.raises(ValueError, match=r"chunk_size must divide the number of time steps T \(got T=6, chunk_size=4"):
        m(torch.rand(6, 1, 2, 8, 8))
    with pytest.raises(ValueError, match=r"\[T, B, C, H, W\]"):
        m(torch.rand(1, 2, 8, 8))
