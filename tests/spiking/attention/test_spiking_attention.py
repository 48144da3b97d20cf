"""SpikingAttention modes: shapes, spikes, c = 1 STAtten == SSA, DVS pool, energy rows, bad input."""

from __future__ import annotations

import pytest
import torch
from spikingjelly.activation_based import functional

from spiking.attention import ATTENTION_MODES, SpikingAttention
from spiking.energy import estimate_energy


def _spikes(*shape, p=0.4, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(*shape, generator=g) < p).float()


def _active(m):
    """Batch-norm shifts that make the Q/K/V neurons fire often (default init barely fires on random input)."""
    with torch.no_grad():
        m.qkv.bn.bias.fill_(1.5)
    return m


@pytest.mark.parametrize("mode", ATTENTION_MODES)
def test_modes_shapes_grads_reset(mode):
    m = _active(SpikingAttention(16, 4, mode, chunk_size=2))
    x = _spikes(4, 3, 9, 16)
    y = m(x)
    assert y.shape == x.shape and y.dtype == x.dtype
    assert set(y.unique().tolist()) <= {0.0, 1.0} and y.sum() > 0
    y.sum().backward()
    assert m.qkv.proj.weight.grad.abs().sum() > 0
    assert f"attention='{mode}'" in repr(m)
    functional.reset_net(m)
    assert m.attn_lif.v == 0.0 and m.qkv.lif.v == 0.0


def test_statten_chunk_one_equals_ssa():
    a = _active(SpikingAttention(8, 2, "statten", chunk_size=1, scale=0.3)).double()
    b = _active(SpikingAttention(8, 2, "ssa", scale=0.3)).double()
    b.load_state_dict(a.state_dict())
    x = _spikes(4, 2, 6, 8).double()
    ya, yb = a(x), b(x)
    torch.testing.assert_close(ya, yb)
    assert ya.sum() > 0


def test_statten_chunk_changes_output_and_scales():
    x = _spikes(4, 2, 16, 8, seed=3)
    outs = {}
    for c in (1, 2, 4):
        m = _active(SpikingAttention(8, 2, "statten", chunk_size=c, scale=0.05))
        torch.manual_seed(0)
        m.reset_parameters()
        _active(m)
        outs[c] = m(x)
    assert not torch.equal(outs[1], outs[4])
    m = SpikingAttention(8, 2, "statten", chunk_size=4, scale="event")
    assert m.scale_value(16) == 1 / 64
    assert SpikingAttention(8, 2, "statten").scale_value(16) == 1 / 4  # static: 1/H
    assert SpikingAttention(8, 2, "ssa").scale_value(16) == 0.125
    assert SpikingAttention(8, 2, "sdt").scale_value(16) is None


def test_dvs_pool_variant():
    m = _active(SpikingAttention(8, 2, "statten", chunk_size=2, dvs_pool=True))
    x = _spikes(2, 1, 12, 8)
    y = m(x, (3, 4))
    assert set(y.unique().tolist()) <= {0.0, 1.0, 2.0} and (y == 2).any()  # O * P + P
    with pytest.raises(ValueError, match="hw"):
        m(x)


def test_dtype_follows_input():
    m = _active(SpikingAttention(8, 2, "statten", chunk_size=2)).double()
    assert m(_spikes(2, 1, 4, 8).double()).dtype == torch.float64


def test_energy_counts_attention():
    for mode in ("sdt", "statten"):
        m = _active(SpikingAttention(16, 4, mode, chunk_size=2))
        r = estimate_energy(m, _spikes(4, 2, 9, 16))
        rows = {x.name: x for x in r.layers}
        assert rows["(root)"].ac > 0  # K^T V / Q A (statten) or the token sum (sdt)
        assert rows["qkv.lif"].output_rate > 0 and rows["attn_lif"].op == "neuron"


def test_bad_input():
    with pytest.raises(ValueError, match=r"num_heads must divide the channel dimension D \(got D=10, num_heads=4\)"):
        SpikingAttention(10, 4)
    with pytest.raises(ValueError, match="attention must be one of"):
        SpikingAttention(8, 2, "softmax")
    with pytest.raises(ValueError, match="chunk_size must be a positive int"):
        SpikingAttention(8, 2, chunk_size=0)
    with pytest.raises(ValueError, match="scale must be"):
        SpikingAttention(8, 2, scale="dvs")
    m = SpikingAttention(8, 2, "statten", chunk_size=3)
    with pytest.raises(ValueError, match=r"chunk_size must divide the number of time steps T \(got T=4, chunk_size=3"):
        m(torch.zeros(4, 1, 4, 8))
    with pytest.raises(ValueError, match=r"\[T, B, N, D\] \(got shape \(4, 8\)\)"):
        m(torch.zeros(4, 8))
    with pytest.raises(ValueError, match=r"expected D=8 channels"):
        m(torch.zeros(3, 1, 4, 6))
    with pytest.raises(TypeError, match="floating-point"):
        m(torch.zeros(3, 1, 4, 8, dtype=torch.long))
