"""Neurons: hand-computed trajectories, single == multi step, spikingjelly parity, reset_net interop, bad input."""
from __future__ import annotations

import math

import pytest
import torch
from spikingjelly.activation_based import functional, layer, neuron, surrogate

from spiking.neurons import IF, LIF, ParametricLIF, SpikingNeuron


def run_m(node: SpikingNeuron, x: torch.Tensor) -> torch.Tensor:
    node.step_mode = "m"
    return node(x)


@pytest.mark.parametrize(
    "make, x, spikes, v",
    [
        # tau=2, hard reset: H = V + (X - V)/2
        (lambda: LIF(tau=2.0, store_v_seq=True), [1.5, 0.5, 1.5, 0.2], [0, 0, 1, 0], [0.75, 0.625, 0.0, 0.1]),
        # soft reset: 1.0625 - 1 = 0.0625; then 0.0625 + (0.2 - 0.0625)/2
        (lambda: LIF(tau=2.0, v_reset=None, store_v_seq=True), [1.5, 0.5, 1.5, 0.2], [0, 0, 1, 0],
         [0.75, 0.625, 0.0625, 0.13125]),
        # decay_input=False: H = V - V/2 + X
        (lambda: LIF(tau=2.0, decay_input=False, store_v_seq=True), [0.8, 0.8, 0.8], [0, 1, 0], [0.8, 0.0, 0.8]),
        # IF: H = V + X
        (lambda: IF(store_v_seq=True), [0.6, 0.6, 0.6, 0.6], [0, 1, 0, 1], [0.6, 0.0, 0.6, 0.0]),
        (lambda: IF(v_reset=None, store_v_seq=True), [0.6, 0.6, 0.6, 0.6], [0, 1, 0, 1], [0.6, 0.2, 0.8, 0.4]),
        # tau=4, v_th=0.5, v_reset=-0.1, V starts at v_reset: H = V + (X - (V + 0.1))/4:
        # -0.1 + 1/4 = 0.15 -> 0.15 + 0.75/4 = 0.3375 -> 0.3375 + 0.5625/4 = 0.478125
        # -> 0.478125 + 0.421875/4 = 0.58359375 >= 0.5: spike, V = -0.1
        (lambda: LIF(tau=4.0, v_threshold=0.5, v_reset=-0.1, store_v_seq=True), [1.0, 1.0, 1.0, 1.0],
         [0, 0, 0, 1], [0.15, 0.3375, 0.478125, -0.1]),
    ],
)
def test_golden_trajectories(make, x, spikes, v):
    node = make()
    xs = torch.tensor(x).view(-1, 1)  # [T, B=1]
    out = run_m(node, xs)
    torch.testing.assert_close(out.view(-1), torch.tensor(spikes, dtype=torch.float32))
    torch.testing.assert_close(node.v_seq.view(-1), torch.tensor(v, dtype=torch.float32))
    torch.testing.assert_close(node.v.view(-1), torch.tensor(v[-1:], dtype=torch.float32))


def test_surrogate_gradient_by_hand():
    node = LIF(tau=2.0, surrogate="sigmoid", alpha=4.0, step_mode="s")
    x = torch.tensor([0.5], requires_grad=True)
    node(x).sum().backward()
    z = 4.0 * (0.25 - 1.0)
    sig = 1 / (1 + math.exp(-z))
    torch.testing.assert_close(x.grad, torch.tensor([4.0 * sig * (1 - sig) * 0.5]))


@pytest.mark.parametrize("make", [lambda: LIF(tau=3.0), lambda: ParametricLIF(init_tau=2.5, v_reset=None),
                                  lambda: IF(detach_reset=True), lambda: LIF(decay_input=False, surrogate="atan")])
def test_multistep_equals_loop_of_single_steps(make):
    x = torch.randn(7, 4, 3, dtype=torch.float64) * 1.5
    a, b = make().double(), make().double()
    xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
    b.step_mode = "s"
    sa = run_m(a, xa)
    sb = torch.stack([b(xt) for xt in xb])
    torch.testing.assert_close(sa, sb)
    torch.testing.assert_close(a.v, b.v)
    w = torch.randn_like(sa)
    ga = torch.autograd.grad((sa * w).sum() + a.v.sum(), [xa] + list(a.parameters()))
    gb = torch.autograd.grad((sb * w).sum() + b.v.sum(), [xb] + list(b.parameters()))
    for u, v in zip(ga, gb):
        torch.testing.assert_close(u, v)


@pytest.mark.parametrize(
    "ours, ref",
    [
        (lambda: LIF(tau=2.0), lambda: neuron.LIFNode(tau=2.0)),
        (lambda: LIF(tau=3.0, v_reset=None, decay_input=False, surrogate=surrogate.ATan(alpha=3.0)),
         lambda: neuron.LIFNode(tau=3.0, v_reset=None, decay_input=False, surrogate_function=surrogate.ATan(alpha=3.0))),
        (lambda: LIF(tau=2.0, detach_reset=True), lambda: neuron.LIFNode(tau=2.0, detach_reset=True)),
        (lambda: ParametricLIF(init_tau=2.0), lambda: neuron.ParametricLIFNode(init_tau=2.0)),
        (lambda: ParametricLIF(init_tau=4.0, v_reset=None, detach_reset=True),
         lambda: neuron.ParametricLIFNode(init_tau=4.0, v_reset=None, detach_reset=True)),
        (lambda: IF(), lambda: neuron.IFNode()),
    ],
)
@pytest.mark.parametrize("mode", ["s", "m"])
def test_parity_with_spikingjelly(ours, ref, mode):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(8, 5, 6, generator=g) * 2.0  # [T, B, F]
    a, b = ours(), ref()
    xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
    if mode == "m":
        sa, sb = run_m(a, xa), run_m(b, xb)
    else:
        sa, sb = torch.stack([a(t) for t in xa]), torch.stack([b(t) for t in xb])
    torch.testing.assert_close(sa, sb)
    torch.testing.assert_close(a.v, b.v)
    w = torch.randn(sa.shape, generator=g)
    (sa * w).sum().backward()
    (sb * w).sum().backward()
    torch.testing.assert_close(xa.grad, xb.grad, rtol=1e-5, atol=1e-6)
    if isinstance(a, ParametricLIF):
        torch.testing.assert_close(a.w.grad, b.w.grad, rtol=1e-4, atol=1e-6)
        torch.testing.assert_close(a.w.detach(), b.w.detach())


def test_reset_net_and_mixed_network():
    torch.manual_seed(0)
    net = torch.nn.Sequential(layer.Linear(4, 8), LIF(), layer.Linear(8, 3), neuron.LIFNode(), ParametricLIF())
    functional.set_step_mode(net, "m")
    assert net[1].step_mode == "m" and net[4].step_mode == "m"
    x = torch.rand(5, 2, 4) * 3
    out1 = net(x)
    assert out1.shape == (5, 2, 3)
    assert isinstance(net[1].v, torch.Tensor)
    functional.reset_net(net)
    assert net[1].v == 0.0 and net[4].v == 0.0
    out2 = net(x)
    torch.testing.assert_close(out1, out2)  # identical after reset: no leftover state
    # a different batch size without reset is a clear error
    with pytest.raises(ValueError, match="reset_net"):
        net(torch.rand(5, 3, 4))
    functional.reset_net(net)
    assert net(torch.rand(5, 3, 4)).shape == (5, 3, 3)


def test_detach_net_and_repr():
    lif = LIF(tau=2.0, step_mode="m")
    lif(torch.rand(3, 2, requires_grad=True) * 3)
    functional.detach_net(lif)
    assert not lif.v.requires_grad
    assert "tau=2.0" in repr(lif) and "surrogate='sigmoid'" in repr(lif)
    assert LIF.is_spiking_neuron and isinstance(lif, SpikingNeuron)


def test_plif_tau_learns():
    plif = ParametricLIF(init_tau=2.0, step_mode="m")
    torch.testing.assert_close(plif.tau_value(), torch.tensor(2.0))
    plif(torch.rand(4, 3, 2) * 2).sum().backward()
    assert plif.w.grad is not None and plif.w.grad.abs() > 0
    with torch.no_grad():
        plif.w.add_(1.0)
    plif.reset_parameters()
    torch.testing.assert_close(plif.tau_value(), torch.tensor(2.0))


def test_bad_input():
    with pytest.raises(ValueError, match="tau must be > 1"):
        LIF(tau=1.0)
    with pytest.raises(TypeError, match="tau must be a float"):
        LIF(tau="2")
    with pytest.raises(ValueError, match="v_reset must be below"):
        LIF(v_reset=2.0)
    with pytest.raises(ValueError, match="unknown surrogate"):
        LIF(surrogate="nope")
    with pytest.raises(TypeError, match="surrogate name"):
        LIF(surrogate=3)
    with pytest.raises(ValueError, match="disagrees"):
        LIF(surrogate=surrogate.ATan(alpha=2.0), alpha=5.0)
    with pytest.raises(ValueError, match="init_tau"):
        ParametricLIF(init_tau=float("inf"))
    with pytest.raises(ValueError, match="step_mode"):
        LIF(step_mode="x")
    with pytest.raises(TypeError, match="floating-point"):
        LIF()(torch.ones(3, dtype=torch.long))
    with pytest.raises(ValueError, match=r"\[T, B"):
        LIF(step_mode="m")(torch.ones(3))


@pytest.mark.parametrize("sur", ["sigmoid", "atan"])
@pytest.mark.parametrize("v_reset, detach, decay", [(0.0, False, True), (None, True, False), (-0.2, False, False)])
def test_fused_path_equals_functional_loop(sur, v_reset, detach, decay):
    from spiking.neurons import lif_multistep, lif_multistep_loop, resolve_surrogate

    spec = resolve_surrogate(sur)
    g = torch.Generator().manual_seed(2)
    x = torch.randn(9, 3, 4, generator=g, dtype=torch.float64) * 2
    v0 = torch.randn(3, 4, generator=g, dtype=torch.float64) * 0.3
    tau = torch.tensor(2.7, dtype=torch.float64)
    outs = []
    for fn in (lif_multistep, lif_multistep_loop):
        xa, va, ta = x.clone().requires_grad_(), v0.clone().requires_grad_(), tau.clone().requires_grad_()
        s, v_last, v_seq = fn(xa, va, ta, decay_input=decay, v_threshold=1.0, v_reset=v_reset, surrogate=spec,
                              detach_reset=detach, return_v_seq=True)
        loss = (s * torch.linspace(-1, 1, 4, dtype=torch.float64)).sum() + (v_seq ** 2).sum() + v_last.sum()
        outs.append((s, v_last, v_seq, *torch.autograd.grad(loss, [xa, va, ta])))
    for a, b in zip(*outs):
        torch.testing.assert_close(a, b)


def test_chunked_calls_equal_one_call_with_gradients():
    x = torch.randn(8, 2, 3, dtype=torch.float64) * 2
    a, b = LIF(step_mode="m").double(), LIF(step_mode="m").double()
    xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
    sa = a(xa)
    sb = torch.cat([b(xb[:3]), b(xb[3:])])  # state carried across calls, gradient too
    torch.testing.assert_close(sa, sb)
    w = torch.randn_like(sa)
    (sa * w).sum().backward()
    (sb * w).sum().backward()
    torch.testing.assert_close(xa.grad, xb.grad)


def test_unfused_spikingjelly_surrogate_parity():
    x = torch.randn(6, 4, 5) * 2
    a = LIF(tau=2.0, surrogate=surrogate.PiecewiseQuadratic(alpha=1.5), step_mode="m")
    b = neuron.LIFNode(tau=2.0, surrogate_function=surrogate.PiecewiseQuadratic(alpha=1.5), step_mode="m")
    xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
    torch.testing.assert_close(a(xa), b(xb))
    a.v.sum().backward()
    b.v.sum().backward()
    torch.testing.assert_close(xa.grad, xb.grad)


@pytest.mark.cuda
@pytest.mark.parametrize("make", [lambda: LIF(tau=2.0), lambda: ParametricLIF(init_tau=3.0, v_reset=None), lambda: IF()])
def test_cuda_matches_cpu(make):
    x = torch.randn(16, 8, 113) * 2
    a, b = make(), make().cuda()
    xa, xb = x.clone().requires_grad_(), x.cuda().requires_grad_()
    sa, sb = run_m(a, xa), run_m(b, xb)
    torch.testing.assert_close(sb.cpu(), sa)
    (sa * x).sum().backward()
    (sb * x.cuda()).sum().backward()
    torch.testing.assert_close(xb.grad.cpu(), xa.grad, rtol=1e-4, atol=1e-5)
