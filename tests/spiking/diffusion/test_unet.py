"""The spiking U-Net, its ANN twin and their layers: shapes, read-out weighting, spikes, errors."""

import pytest
import torch

from spiking.diffusion import MembraneOutputLayer, SpikingUNet, TemporalOutputLayer, UNet, spiking_neurons

SMALL = {"image_channels": 1, "ch": 8, "ch_mult": (1, 2), "num_res_blocks": 1}


def small(**kw):
    return SpikingUNet(**{**SMALL, "T_snn": 4, **kw})


def test_membrane_output_layer_hand_computed():
    x = torch.tensor([1.0, 2.0, 3.0, 4.0]).view(4, 1, 1)  # [T=4, B=1, 1]
    # 0.8^3 * 1 + 0.8^2 * 2 + 0.8 * 3 + 1 * 4 = 0.512 + 1.28 + 2.4 + 4
    assert MembraneOutputLayer(4)(x).item() == pytest.approx(8.192)
    assert MembraneOutputLayer(1)(x[:1]).item() == 1.0
    with pytest.raises(ValueError, match="expected 4 steps"):
        MembraneOutputLayer(4)(x[:3])


def test_unet_output_is_the_membrane_weighting_of_its_last_sequence():
    net = small().eval()
    seen = {}
    net.temporal_output.register_forward_hook(lambda m, a, out: seen.__setitem__("h", out))
    x, t = torch.randn(3, 1, 8, 8), torch.tensor([0, 10, 999])
    with torch.no_grad():
        y = net(x, t)
    h = seen["h"]  # [T, B, C, H, W]
    assert h.shape == (4, 3, 1, 8, 8)
    expect = 0.512 * h[0] + 0.64 * h[1] + 0.8 * h[2] + 1.0 * h[3]  # 0.8^(T-1-t) by hand
    torch.testing.assert_close(y, expect)


def test_shapes_repr_twin_and_parameter_parity():
    net = small()
    ann = UNet.twin_of(net)
    x, t = torch.randn(2, 1, 8, 8), torch.tensor([5, 7])
    assert net(x, t).shape == ann(x, t).shape == (2, 1, 8, 8)
    assert sum(p.numel() for p in net.parameters()) == sum(p.numel() for p in ann.parameters())
    assert "T_snn=4" in repr(net) and "neuron='if'" in repr(net) and "activation='silu'" in repr(ann)
    assert len(spiking_neurons(net)) > 0 and spiking_neurons(ann) == []


def test_neurons_emit_binary_spikes_and_time_embedding_matters():
    net = small().eval()
    outs = []
    for n in spiking_neurons(net):
        n.register_forward_hook(lambda m, a, out: outs.append(out))
    x = torch.randn(2, 1, 8, 8)
    with torch.no_grad():
        y0 = net(x, torch.tensor([0, 0]))
        y1 = net(x, torch.tensor([500, 500]))
    assert all(((o == 0) | (o == 1)).all() for o in outs)
    assert not torch.equal(y0, y1)


def test_calls_are_independent_episodes():
    # neurons are reset at the start of every call: same input -> same output, batch size may change
    net = small().eval()
    x, t = torch.randn(2, 1, 8, 8), torch.tensor([3, 4])
    with torch.no_grad():
        a = net(x, t)
        net(torch.randn(5, 1, 8, 8), torch.zeros(5, dtype=torch.long))
        torch.testing.assert_close(net(x, t), a)


def test_gradients_reach_every_parameter():
    net = small(attn=(1,), tsm=True)
    net(torch.randn(2, 1, 8, 8), torch.tensor([1, 2])).square().mean().backward()
    missing = [n for n, p in net.named_parameters() if p.grad is None]
    assert missing == []


def test_variants_lif_tsm_attention_temporal_kernel():
    x, t = torch.randn(2, 1, 8, 8), torch.tensor([1, 2])
    lif = small(neuron="lif", tau=2.0)
    assert "neuron='lif'" in repr(lif) and lif(x, t).shape == (2, 1, 8, 8)
    tsm = small(tsm=True).eval()
    scales = [p for n, p in tsm.named_parameters() if n.endswith("tsm_scale")]
    assert scales and all(p.shape == (4,) for p in scales)
    with torch.no_grad():
        before = tsm(x, t)
        scales[0].mul_(3.0)
        assert not torch.equal(tsm(x, t), before)
    att = small(attn=(0, 1), heads=2)
    assert att(x, t).shape == (2, 1, 8, 8) and UNet.twin_of(att)(x, t).shape == (2, 1, 8, 8)


def test_temporal_output_layer_kernel_one_mixes_no_steps():
    layer = TemporalOutputLayer(2, temporal_kernel=1).eval()
    x = torch.randn(4, 3, 2, 5, 5)
    y = layer(x)
    x2 = x.clone()
    x2[0] += 1.0
    torch.testing.assert_close(layer(x2)[1:], y[1:])  # step 0 changed, later steps untouched
    wide = TemporalOutputLayer(2, temporal_kernel=3).eval()
    assert not torch.allclose(wide(x2)[1], wide(x)[1])
    with pytest.raises(ValueError, match="odd"):
        TemporalOutputLayer(2, temporal_kernel=2)


@pytest.mark.parametrize("T_snn", [0, -1, 2.5, True])
def test_T_snn_must_be_positive(T_snn):
    with pytest.raises(ValueError, match=r"SpikingUNet: T_snn must be a positive int \(got"):
        small(T_snn=T_snn)


@pytest.mark.parametrize("ch_mult,size", [((1, 2), 15), ((1, 2, 2, 4), 12), ((1, 2, 2), 2)])
def test_image_size_the_downsampling_cannot_divide(ch_mult, size):
    net = SpikingUNet(image_channels=1, ch=8, ch_mult=ch_mult, num_res_blocks=1, T_snn=2)
    with pytest.raises(ValueError, match=r"multiples of 2\*\*\(len\(ch_mult\)-1\)"):
        net(torch.randn(1, 1, size, size), torch.tensor([0]))
    with pytest.raises(ValueError, match="multiples"):
        UNet.twin_of(net).check_image_size(size, size)


def test_other_bad_inputs():
    net = small()
    with pytest.raises(ValueError, match="image channels"):
        net(torch.randn(1, 3, 8, 8), torch.tensor([0]))
    with pytest.raises(ValueError, match="long tensor"):
        net(torch.randn(2, 1, 8, 8), torch.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="neuron must be one of"):
        small(neuron="relu")
    with pytest.raises(ValueError, match="attn"):
        small(attn=(2,))
    with pytest.raises(ValueError, match="ch must be even"):
        SpikingUNet(image_channels=1, ch=7, ch_mult=(1,))
    with pytest.raises(ValueError, match="UNet: activation"):
        UNet(activation="if")
