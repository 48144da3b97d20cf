"""estimate_energy on spiking networks: neurons, firing rates, options, ANN twin, bad input."""

from __future__ import annotations

import json

import pytest
import torch
from spikingjelly.activation_based import functional, layer, neuron
from torch import nn

from spiking.energy import EnergyPreset, estimate_energy, get_preset, is_spiking_neuron, make_ann_twin, preset_names
from spiking.neurons import LIF


def sj_net() -> nn.Module:
    net = nn.Sequential(
        layer.Conv2d(2, 8, 3, padding=1, bias=False),
        neuron.LIFNode(v_threshold=0.1),
        layer.Conv2d(8, 16, 3, padding=1, stride=2),
        neuron.LIFNode(v_threshold=0.05),
        layer.AvgPool2d(2),
        layer.Flatten(),
        layer.Linear(16 * 4 * 4, 32),
        neuron.LIFNode(v_threshold=0.1),
        layer.Linear(32, 10),
    )
    functional.set_step_mode(net, "m")
    return net


def gs_net(step_mode: str = "m") -> nn.Module:
    """The same kind of network with graphspike's own neurons (a spikingjelly MemoryModule)."""
    net = nn.Sequential(
        layer.Flatten(),
        layer.Linear(2 * 8 * 8, 64),
        LIF(v_threshold=0.3),
        layer.Linear(64, 32),
        LIF(v_threshold=0.2),
        layer.Linear(32, 10),
    )
    functional.set_step_mode(net, step_mode)
    return net


def _rows(report, op):
    return [r for r in report.layers if r.op == op]


# ---------------------------------------------------------------- neurons and firing rates
def test_neuron_rows_match_spikes_counted_by_hooks():
    net = sj_net()
    x = torch.rand(2, 2, 16, 16)
    counted = {}

    def hook(mod, inp, out):
        counted[mod] = counted.get(mod, 0) + int(out.sum())

    handles = [m.register_forward_hook(hook) for m in net if isinstance(m, neuron.BaseNode)]
    report = estimate_energy(net, x, T=4)
    for h in handles:
        h.remove()
    neurons = _rows(report, "neuron")
    assert len(neurons) == 3
    by_name = {m: name for name, m in net.named_modules()}
    for mod, spikes in counted.items():
        row = next(r for r in neurons if r.name == by_name[mod])
        assert row.spikes == spikes and spikes > 0
        assert row.output_rate == pytest.approx(spikes / row.outputs)
    assert report.spikes == sum(counted.values())
    # the conv right after neuron "1" sees exactly those spikes: its input rate is that firing rate
    conv2 = next(r for r in report.layers if r.name == "2")
    assert conv2.input_rate == pytest.approx(next(r for r in neurons if r.name == "1").output_rate)
    assert conv2.ac == pytest.approx(conv2.input_rate * conv2.flops)


def test_graphspike_neurons_recognised_and_step_modes_agree():
    assert is_spiking_neuron(LIF()) and is_spiking_neuron(neuron.IFNode()) and not is_spiking_neuron(nn.ReLU())
    torch.manual_seed(1)
    m_net = gs_net("m")
    s_net = gs_net("s")
    s_net.load_state_dict(m_net.state_dict())
    x = torch.rand(3, 2, 8, 8)
    rm = estimate_energy(m_net, x, T=5, step_mode="m")
    rs = estimate_energy(s_net, x, T=5, step_mode="s")
    assert len(_rows(rm, "neuron")) == 2
    assert rm.mac == pytest.approx(rs.mac) and rm.ac == pytest.approx(rs.ac)
    assert rm.spikes == rs.spikes and rm.spikes > 0
    assert _rows(rs, "neuron")[0].calls == 5


def test_neuron_updates_and_memory_terms():
    net = gs_net()
    x = torch.rand(3, 2, 8, 8)
    base = estimate_energy(net, x, T=2)
    upd = estimate_energy(net, x, T=2, neuron_updates=True)
    assert upd.ac - base.ac == pytest.approx(2 * 3 * (64 + 32))  # one AC per neuron per step
    mem = estimate_energy(net, x, T=2, memory=True)
    lif_row = next(r for r in mem.layers if r.op == "neuron")
    assert lif_row.memory_bits == 2 * (2 * 3 * 64) * 32  # read + write of v per neuron-step, fp32
    lin_row = next(r for r in mem.layers if r.name == "1")
    # the layer's weights + bias, read at each of the T=2 steps of the one multi-step call
    assert lin_row.memory_bits == (128 * 64 + 64) * 32 * 2
    once = estimate_energy(net, x, T=2, memory=True, weight_reads=1)
    assert next(r for r in once.layers if r.name == "1").memory_bits == (128 * 64 + 64) * 32
    with pytest.raises(ValueError, match="weight_reads must be a positive int"):
        estimate_energy(net, x, memory=True, weight_reads=0)
    assert mem.totals()["memory_mJ"] > 0 and mem.energy_mJ == pytest.approx(base.energy_mJ)


# ---------------------------------------------------------------- first layer and static input
def test_first_layer_rules():
    net = gs_net()
    real = torch.rand(3, 2, 8, 8)
    r_auto = estimate_energy(net, real, T=4)
    first = next(r for r in r_auto.layers if r.first_layer)
    assert first.name == "1" and first.mac == first.flops and first.ac == 0
    events = torch.randint(0, 3, (3, 2, 8, 8)).float()  # event counts: small integers
    r_ac = estimate_energy(net, events, T=4, first_layer="ac")
    first = next(r for r in r_ac.layers if r.first_layer)
    nz = float(events.ne(0).float().mean())
    assert first.mac == 0 and first.ac == pytest.approx(nz * first.flops) and first.input_rate == pytest.approx(nz)
    spikes = (torch.rand(3, 2, 8, 8) < 0.3).float()
    r_mac = estimate_energy(net, spikes, T=4, first_layer="mac")
    first = next(r for r in r_mac.layers if r.first_layer)
    assert first.mac == first.flops and first.ac == 0
    r_auto = estimate_energy(net, spikes, T=4)
    assert next(r for r in r_auto.layers if r.first_layer).mac == 0


def test_static_input_once_divides_first_layer_by_T():
    net = gs_net()
    x = torch.rand(3, 2, 8, 8)
    per_step = estimate_energy(net, x, T=4)
    once = estimate_energy(net, x, T=4, static_input="once")
    f1 = next(r for r in per_step.layers if r.first_layer)
    f2 = next(r for r in once.layers if r.first_layer)
    assert f2.mac == pytest.approx(f1.mac / 4)
    rest = [(a.mac, a.ac) for a in per_step.layers if not a.first_layer]
    assert rest == [(b.mac, b.ac) for b in once.layers if not b.first_layer]


# ---------------------------------------------------------------- presets
def test_presets_and_energy_formula():
    assert {"45nm-fp32", "45nm-fp16", "45nm-int8"} <= set(preset_names())
    assert (get_preset("45nm-fp16").mac_pj, get_preset("45nm-fp16").ac_pj) == (1.5, 0.4)
    assert (get_preset("45nm-int8").mac_pj, get_preset("45nm-int8").ac_pj) == (0.23, 0.03)
    net = gs_net()
    x = torch.rand(3, 2, 8, 8)
    for preset in ("45nm-fp32", "45nm-fp16", "45nm-int8", {"mac_pj": 2.0, "ac_pj": 0.5}):
        p = get_preset(preset)
        r = estimate_energy(net, x, T=2, preset=preset)
        assert r.energy_pJ == pytest.approx(r.mac * p.mac_pj + r.ac * p.ac_pj)
    assert get_preset(EnergyPreset("x", 1.0, 0.1)).name == "x"


# ---------------------------------------------------------------- ANN twin and report
def test_ann_twin_all_mac_and_ratio():
    net = gs_net()
    twin = make_ann_twin(net)
    assert not any(is_spiking_neuron(m) for m in twin.modules())
    assert any(is_spiking_neuron(m) for m in net.modules())  # original untouched
    x = torch.rand(3, 2, 8, 8)
    r = estimate_energy(net, x, T=4, ann=True)
    # the ANN runs one step: each linear is a MAC over its dense FLOPs
    assert r.ann.ac == 0
    assert r.ann.mac == pytest.approx(3 * (128 * 64 + 64 * 32 + 32 * 10))
    d = r.to_dict()
    assert d["ann"]["snn_over_ann_energy"] == pytest.approx(r.energy_pJ / r.ann.energy_pJ)
    json.dumps(d)
    assert set(d["total"]) >= {"mac", "ac", "energy_mJ"} and len(d["layers"]) == len(r.layers)
    assert "SNN/ANN" in r.table()


# ---------------------------------------------------------------- bad input
def test_bad_inputs_raise_clear_errors():
    net = gs_net()
    x = torch.rand(3, 2, 8, 8)
    with pytest.raises(
        ValueError, match=r"estimate_energy: the model raised \w+Error on the example input Tensor\(3, 5\)"
    ):
        estimate_energy(net, torch.rand(3, 5))
    with pytest.raises(ValueError, match=r"T must be a positive.*got 0"):
        estimate_energy(net, x, T=0)
    with pytest.raises(ValueError, match=r"got -2"):
        estimate_energy(net, x, T=-2)
    with pytest.raises(TypeError, match=r"T must be a positive int"):
        estimate_energy(net, x, T=2.5)
    with pytest.raises(ValueError, match=r"unknown preset 'tsmc3'.*45nm-fp32"):
        estimate_energy(net, x, preset="tsmc3")
    with pytest.raises(ValueError, match=r"mac_pj and ac_pj"):
        get_preset({"mac": 1.0})
    with pytest.raises(ValueError, match=r"first_layer must be one of"):
        estimate_energy(net, x, first_layer="maybe")
    with pytest.raises(ValueError, match=r"static_input='once' needs T"):
        estimate_energy(net, x, static_input="once")
    with pytest.raises(TypeError, match=r"model must be an nn.Module"):
        estimate_energy(lambda t: t, x)

    class Texty(nn.Module):
        def forward(self, t):
            return "not a tensor"

    with pytest.raises(TypeError, match=r"must return a tensor.*got str"):
        estimate_energy(Texty(), x)
    # the model is left usable after a failure (hooks removed, state reset)
    assert all(not m._forward_hooks for m in net.modules())
    estimate_energy(net, x, T=2)


def test_graphspike_spiking_convnet_end_to_end():
    models = pytest.importorskip("spiking.models")
    net = models.SpikingConvNet(2, 10, (4, 8), dropout=0.0)
    frames = torch.poisson(torch.full((3, 2, 2, 16, 16), 0.3)).clamp(max=3.0)  # [T, B, 2, H, W] event counts
    seen = {}

    def hook(mod, inp, out):
        seen[mod] = seen.get(mod, 0) + int(out.sum())

    handles = [m.register_forward_hook(hook) for m in net.modules() if is_spiking_neuron(m)]
    r = estimate_energy(net, frames, ann=True)
    for h in handles:
        h.remove()
    neurons = _rows(r, "neuron")
    assert len(neurons) == 2 and sum(n.spikes for n in neurons) == sum(seen.values())
    first = next(row for row in r.layers if row.first_layer)
    assert first.name == "convs.0" and first.mac == first.flops  # event counts are not binary: MAC
    r_ac = estimate_energy(net, frames, first_layer="ac")
    f_ac = next(row for row in r_ac.layers if row.first_layer)
    assert f_ac.mac == 0 and f_ac.input_rate == pytest.approx(float(frames.ne(0).float().mean()))
    assert r.ann is not None and r.ann.ac == pytest.approx(sum(x.ac for x in r.ann.layers if x.op == "pool"))


def test_non_finite_activation_is_refused_naming_the_layer():
    import pytest
    import torch

    from spiking.energy import estimate_energy

    net = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    with torch.no_grad():
        net[0].bias[1] = float("nan")  # NaN != 0 would count as a dense operand of layer 2
    with pytest.raises(ValueError, match=r"estimate_energy: every operand must be finite .*in layer '2'"):
        estimate_energy(net, torch.ones(1, 4))
