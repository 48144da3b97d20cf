"""spiking.neurons.LIF: golden trajectories, spikingjelly parity, thresholds changed after construction,
bad input."""

from __future__ import annotations

import math

import pytest
import torch
from spikingjelly.activation_based import functional, neuron, surrogate

from spiking.neurons import LIF
from tests.spiking.neurons.helpers import run_m, run_s


@pytest.mark.parametrize(
    "make, x, spikes, v",
    [
        # tau=2, hard reset: H = V + (X - V)/2
        (lambda: LIF(tau=2.0, store_v_seq=True), [1.5, 0.5, 1.5, 0.2], [0, 0, 1, 0], [0.75, 0.625, 0.0, 0.1]),
        # soft reset: 1.0625 - 1 = 0.0625; then 0.0625 + (0.2 - 0.0625)/2
        (
            lambda: LIF(tau=2.0, v_reset=None, store_v_seq=True),
            [1.5, 0.5, 1.5, 0.2],
            [0, 0, 1, 0],
            [0.75, 0.625, 0.0625, 0.13125],
        ),
        # decay_input=False: H = V - V/2 + X
        (lambda: LIF(tau=2.0, decay_input=False, store_v_seq=True), [0.8, 0.8, 0.8], [0, 1, 0], [0.8, 0.0, 0.8]),
        # tau=4, v_th=0.5, v_reset=-0.1, V starts at v_reset: H = V + (X - (V + 0.1))/4:
        # -0.1 + 1/4 = 0.15 -> 0.15 + 0.75/4 = 0.3375 -> 0.3375 + 0.5625/4 = 0.478125
        # -> 0.478125 + 0.421875/4 = 0.58359375 >= 0.5: spike, V = -0.1
        (
            lambda: LIF(tau=4.0, v_threshold=0.5, v_reset=-0.1, store_v_seq=True),
            [1.0, 1.0, 1.0, 1.0],
            [0, 0, 0, 1],
            [0.15, 0.3375, 0.478125, -0.1],
        ),
    ],
)
def test_golden_trajectories(make, x, spikes, v):
    node = make()
    xs = torch.tensor(x).view(-1, 1)  # [T, B=1]
    out = run_m(node, xs)
    torch.testing.assert_close(out.view(-1), torch.tensor(spikes, dtype=torch.float32))
    torch.testing.assert_close(node.v_seq.view(-1), torch.tensor(v, dtype=torch.float32))
    torch.testing.assert_close(node.v.view(-1), torch.tensor(v[-1:], dtype=torch.float32))
    functional.reset_net(node)
    torch.testing.assert_close(run_s(node, xs).view(-1), torch.tensor(spikes, dtype=torch.float32))


def test_surrogate_gradient_by_hand():
    node = LIF(tau=2.0, surrogate="sigmoid", alpha=4.0, step_mode="s")
    x = torch.tensor([0.5], requires_grad=True)
    node(x).sum().backward()
    z = 4.0 * (0.25 - 1.0)
    sig = 1 / (1 + math.exp(-z))
    torch.testing.assert_close(x.grad, torch.tensor([4.0 * sig * (1 - sig) * 0.5]))


@pytest.mark.parametrize(
    "ours, ref",
    [
        (lambda: LIF(tau=2.0), lambda: neuron.LIFNode(tau=2.0)),
        (
            lambda: LIF(tau=3.0, v_reset=None, decay_input=False, surrogate=surrogate.ATan(alpha=3.0)),
            lambda: neuron.LIFNode(
                tau=3.0, v_reset=None, decay_input=False, surrogate_function=surrogate.ATan(alpha=3.0)
            ),
        ),
        (lambda: LIF(tau=2.0, detach_reset=True), lambda: neuron.LIFNode(tau=2.0, detach_reset=True)),
        (
            lambda: LIF(tau=2.5, v_reset=-0.2, v_threshold=0.8),
            lambda: neuron.LIFNode(tau=2.5, v_reset=-0.2, v_threshold=0.8),
        ),
    ],
)
@pytest.mark.parametrize("mode", ["s", "m"])
def test_parity_with_spikingjelly(ours, ref, mode):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(8, 5, 6, generator=g) * 2.0  # [T, B, F]
    a, b = ours(), ref()
    xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
    run = run_m if mode == "m" else run_s
    sa, sb = run(a, xa), run(b, xb)
    assert torch.equal(sa, sb) and torch.equal(a.v, b.v)  # forward bitwise spikingjelly's
    w = torch.randn(sa.shape, generator=g)
    (sa * w).sum().backward()
    (sb * w).sum().backward()
    torch.testing.assert_close(xa.grad, xb.grad, rtol=1e-5, atol=1e-6)


def test_unfused_spikingjelly_surrogate_is_bitwise_spikingjelly():
    # A surrogate the kernel does not implement runs cuda_ext.lif_step with spikingjelly's object:
    # spikes, state and gradients all equal LIFNode's bit for bit, in both step modes.
    x = torch.randn(6, 4, 5) * 2
    for run in (run_m, run_s):
        a = LIF(tau=2.5, v_reset=-0.2, surrogate=surrogate.PiecewiseQuadratic(alpha=1.5))
        b = neuron.LIFNode(tau=2.5, v_reset=-0.2, surrogate_function=surrogate.PiecewiseQuadratic(alpha=1.5))
        xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
        sa, sb = run(a, xa), run(b, xb)
        assert torch.equal(sa, sb) and torch.equal(a.v, b.v)
        ((sa * x).sum() + a.v.sum()).backward()
        ((sb * x).sum() + b.v.sum()).backward()
        assert torch.equal(xa.grad, xb.grad)


def test_threshold_can_be_changed_after_construction():
    # e.g. threshold guidance shifts every neuron's threshold at inference
    x = torch.rand(10, 3, 7) * 1.5
    node = LIF(tau=2.0, step_mode="m")
    base = node(x)
    node.reset()
    node.v_threshold = 0.6
    assert node.v_threshold == 0.6 and "v_threshold=0.6" in repr(node)
    shifted = node(x)
    torch.testing.assert_close(shifted, run_m(LIF(tau=2.0, v_threshold=0.6), x), rtol=0, atol=0)
    assert shifted.sum() > base.sum()
    functional.reset_net(node)
    assert node.v == 0.0 and node.v_threshold == 0.6  # reset_net resets the state, not the hyperparameters
    with pytest.raises(ValueError, match=r"LIF: LIFParams: v_reset must be finite and below v_threshold"):
        node.v_threshold = -0.5  # below the hard-reset potential
    with pytest.raises(TypeError, match="v_threshold must be a float"):
        node.v_threshold = "1"
    assert node.v_threshold == 0.6  # a rejected assignment changes nothing


def test_other_hyperparameters_can_be_changed():
    node = LIF(tau=2.0, step_mode="m")
    node.tau = 4.0
    node.v_reset = -0.2
    assert node.tau == 4.0 and node.v == -0.2  # the resting state follows v_reset
    node(torch.rand(3, 2, 4))
    node.reset()
    assert node.v == -0.2
    node.decay_input = False
    node.detach_reset = True
    x = torch.rand(5, 2, 4) * 2
    node.reset()
    fresh = LIF(tau=4.0, v_reset=-0.2, decay_input=False, detach_reset=True, step_mode="m")
    assert torch.equal(node(x), fresh(x))
    with pytest.raises(ValueError, match="tau must be > 1"):
        node.tau = 1.0
    with pytest.raises(TypeError, match="ParametricLIF learns tau"):
        node.tau = torch.tensor(3.0)


def test_bad_input():
    with pytest.raises(ValueError, match="LIF: LIFParams: tau must be > 1"):
        LIF(tau=1.0)
    with pytest.raises(TypeError, match="tau must be a float"):
        LIF(tau="2")
    with pytest.raises(ValueError, match="v_reset must be finite and below v_threshold"):
        LIF(v_reset=2.0)
    with pytest.raises(ValueError, match="unknown surrogate"):
        LIF(surrogate="nope")
    with pytest.raises(TypeError, match="surrogate name"):
        LIF(surrogate=3)
    with pytest.raises(ValueError, match="disagrees"):
        LIF(surrogate=surrogate.ATan(alpha=2.0), alpha=5.0)
    with pytest.raises(ValueError, match="step_mode"):
        LIF(step_mode="x")
    with pytest.raises(TypeError, match="floating-point"):
        LIF()(torch.ones(3, dtype=torch.long))
    with pytest.raises(ValueError, match=r"\[T, B"):
        LIF(step_mode="m")(torch.ones(3))
