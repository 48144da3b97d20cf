"""DelaySNN, its read-out and loss, parameter groups and recipes."""

from __future__ import annotations

import pytest
import torch
from spikingjelly.activation_based import functional, neuron

from spiking.delays import (
    RECIPES,
    DelaySNN,
    MembraneReadout,
    delay_param_groups,
    get_recipe,
    sum_softmax_loss,
    sum_softmax_predict,
)
from spiking.neurons import LIF


def test_shd_network_shapes_and_size():
    net = DelaySNN(140, 20)  # the paper's SHD network
    x = (torch.rand(50, 3, 140) < 0.1).float()
    v = net(x)
    functional.reset_net(net)
    assert v.shape == (50 + 3 * 12, 3, 20) == (net.output_steps(50), 3, 20)
    weights = sum(m.weight.numel() for m in [*net.delays, net.readout_delay])
    assert weights == 140 * 256 + 256 * 256 + 256 * 20 == 106_496  # x 2 with positions: the paper's 0.2 M
    assert sum(p.numel() for p in net.parameters()) == 2 * 106_496 + 2 * 2 * 256  # + BN affine
    assert "kernel_size=25" in repr(net) and "learn_delays=True" in repr(net)


def test_ssc_network_and_no_delay_twin():
    r = RECIPES["ssc"]
    net = r.build_model(140, 35)
    assert len(net.delays) == 3 and net.delays[1].weight.shape == (512, 512) and net.kernel_size == 31
    assert net.neurons[0].tau == 1.5 and net.drops[0].p == 0.25
    none = get_recipe("ssc", delays="none").build_model(140, 35)
    assert none.kernel_size == 1 and none.output_steps(40) == 40
    for name in RECIPES:  # every recipe's width schedule exists without delays too (K = 1: width unused)
        sched = get_recipe(name, delays="none").sigma_schedule()
        assert sched(0) == sched(10**6) == RECIPES[name].sigma_final
    fixed = get_recipe("shd", delays="fixed").build_model(140, 20)
    assert all(m.rounded and not m.P.requires_grad for m in [*fixed.delays, fixed.readout_delay])


def test_neurons_follow_the_paper():
    lif = DelaySNN(8, 3).neurons[0]
    assert isinstance(lif, LIF)  # the shared neuron core (fused lif_multistep), not a private LIF
    assert (lif.tau, lif.v_threshold, lif.decay_input, lif.detach_reset, lif.surrogate_name, lif.alpha) == (
        1.005,
        1.0,
        False,
        True,
        "atan",
        5.0,
    )
    net = DelaySNN(8, 3, backend="torch")
    assert all(n.backend == "torch" for n in net.neurons) and net.readout.backend == "torch"


@pytest.mark.parametrize("tau", [1.005, 1.5])
def test_readout_is_a_lif_that_never_fires(tau):
    x = (torch.randn(30, 4, 5, dtype=torch.float64) * 3).requires_grad_()
    ours = MembraneReadout(tau)(x)
    sj = neuron.LIFNode(tau=tau, decay_input=False, v_threshold=1e9, step_mode="m", store_v_seq=True)
    sj(x)
    torch.testing.assert_close(ours, sj.v_seq)
    w = torch.randn_like(x)
    (g_ours,) = torch.autograd.grad((ours * w).sum(), x)
    (g_sj,) = torch.autograd.grad((sj.v_seq * w).sum(), x)
    torch.testing.assert_close(g_ours, g_sj)
    with pytest.raises(ValueError, match="tau must be a finite number > 1"):
        MembraneReadout(1.0)


def test_loss_is_the_official_sum_loss():
    v = torch.randn(20, 6, 5, requires_grad=True)
    y = torch.randint(0, 5, (6,))
    m = torch.nn.Softmax(dim=2)(v).sum(0)  # official calc_loss, loss == 'sum'
    official = torch.nn.CrossEntropyLoss()(m, torch.nn.functional.one_hot(y, 5).float())
    torch.testing.assert_close(sum_softmax_loss(v, y), official)
    assert torch.equal(sum_softmax_predict(v), m.argmax(1))
    with pytest.raises(ValueError, match="target must be"):
        sum_softmax_loss(v, y[:3])


def test_param_groups_and_optimizers():
    net = DelaySNN(10, 4, hidden_features=8)
    groups = {g["name"]: g for g in delay_param_groups(net, 1e-3)}
    assert groups["positions"]["lr"] == pytest.approx(0.1) and groups["positions"]["weight_decay"] == 0
    assert groups["weights"]["weight_decay"] == 1e-5 and groups["other"]["weight_decay"] == 0
    n = sum(len(g["params"]) for g in groups.values())
    assert n == len(list(net.parameters()))
    layers = [*net.delays, net.readout_delay]
    assert [id(p) for p in groups["positions"]["params"]] == [id(m.P) for m in layers]
    assert [id(p) for p in groups["weights"]["params"]] == [id(m.weight) for m in layers]
    assert groups["weights"]["lr"] == groups["other"]["lr"] == 1e-3
    assert delay_param_groups(net, 2e-3, lr_positions=0.5)[-1]["lr"] == 0.5
    # one Adam step moves a position ~100x as far as a weight (Adam's first step is lr * sign(grad))
    opt = torch.optim.Adam(delay_param_groups(net, 1e-3, weight_decay=0.0))
    before = [m.P.detach().clone() for m in layers], [m.weight.detach().clone() for m in layers]
    net(torch.rand(12, 2, 10)).pow(2).sum().backward()
    opt.step()
    dp = max((m.P - p).abs().max().item() for m, p in zip(layers, before[0]))
    dw = max((m.weight - w).abs().max().item() for m, w in zip(layers, before[1]))
    assert dp == pytest.approx(0.1, rel=1e-3) and dw == pytest.approx(1e-3, rel=1e-3)
    frozen = DelaySNN(10, 4, hidden_features=8, learn_delays=False)
    assert "positions" not in {g["name"] for g in delay_param_groups(frozen, 1e-3)}
    opts, scheds = RECIPES["shd"].optimizers(net)
    assert (
        len(opts) == 2 and type(scheds[0]).__name__ == "OneCycleLR" and type(scheds[1]).__name__ == "CosineAnnealingLR"
    )
    assert scheds[0].total_steps == 150
    with pytest.raises(ValueError, match="lr must be > 0"):
        delay_param_groups(net, 0.0)


def test_network_errors():
    net = DelaySNN(10, 4, hidden_features=8)
    with pytest.raises(ValueError, match=r"in_features=10"):
        net(torch.rand(5, 2, 11))
    with pytest.raises(ValueError, match="num_hidden_layers"):
        DelaySNN(10, 4, num_hidden_layers=0)
    with pytest.raises(ValueError, match="unknown recipe"):
        get_recipe("gsc")
    with pytest.raises(ValueError, match="unknown fields"):
        get_recipe("shd", lr_pos=1.0)
    with pytest.raises(ValueError, match="delays must be one of"):
        get_recipe("shd", delays="random")
