"""cuda_ext.neuron: the LIFParams record (validation in one place) and the reference step."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from cuda_ext.neuron import LIFParams, lif_multistep_reference, lif_step


# ----------------------------------------------------------------------------- LIFParams
def test_defaults_are_spikingjelly_lifnode_defaults():
    p = LIFParams()
    assert (p.tau, p.v_threshold, p.v_reset, p.decay_input, p.detach_reset, p.surrogate, p.alpha) == (
        2.0,
        1.0,
        0.0,
        True,
        False,
        "sigmoid",
        4.0,
    )
    assert p.fused and not p.soft_reset and p.v_rest == 0.0
    assert LIFParams(v_reset=None).v_rest == 0.0 and LIFParams(v_reset=-0.5).v_rest == -0.5


def test_ints_become_floats_and_the_record_is_frozen():
    p = LIFParams(tau=3, v_threshold=1, v_reset=0, alpha=2)
    assert all(isinstance(v, float) for v in (p.tau, p.v_threshold, p.v_reset, p.alpha))
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.v_threshold = 2.0


@pytest.mark.parametrize("tau", [1.0000001, 2.0, 80.0, math.inf])
def test_tau_above_one_is_accepted(tau):
    assert LIFParams(tau=tau).tau == tau


@pytest.mark.parametrize("tau", [1.0, 0.5, 0.0, -2.0, math.nan])
def test_tau_must_exceed_one_as_in_spikingjelly(tau):
    # spikingjelly's LIFNode asserts tau > 1; tau = 1 is rejected, not accepted (the old op allowed it)
    with pytest.raises(ValueError, match="tau must be > 1"):
        LIFParams(tau=tau)


@pytest.mark.parametrize(
    "kwargs,err,match",
    [
        (dict(tau="2"), TypeError, "tau must be a float"),
        (dict(tau=True), TypeError, "tau must be a float"),
        (dict(tau=torch.ones(2)), TypeError, "0-dim floating"),
        (dict(tau=torch.tensor(2)), TypeError, "0-dim floating"),
        (dict(v_threshold=None), TypeError, "v_threshold must be a float"),
        (dict(v_threshold=math.inf), ValueError, "v_threshold must be finite"),
        (dict(v_reset="0"), TypeError, "v_reset must be a float or None"),
        (dict(v_reset=math.nan), ValueError, "v_reset must be finite and below"),
        (dict(v_reset=1.0), ValueError, "v_reset must be finite and below"),
        (dict(decay_input=1), TypeError, "decay_input must be a bool"),
        (dict(detach_reset=None), TypeError, "detach_reset must be a bool"),
        (dict(surrogate="relu"), ValueError, "surrogate must be one of"),
        (dict(surrogate=3), TypeError, "surrogate must be a name or a callable"),
        (dict(alpha=0.0), ValueError, "alpha must be a positive"),
        (dict(alpha=math.inf), ValueError, "alpha must be a positive"),
    ],
)
def test_bad_fields(kwargs, err, match):
    with pytest.raises(err, match=f"LIFParams: .*{match}"):
        LIFParams(**kwargs)


def test_replace_revalidates_and_tensor_tau_is_kept():
    p = LIFParams(v_threshold=0.5, v_reset=None)
    assert dataclasses.replace(p, v_threshold=0.3).v_threshold == 0.3
    with pytest.raises(ValueError, match="v_reset must be finite and below"):
        dataclasses.replace(LIFParams(), v_threshold=-1.0)  # hard reset at 0 above the threshold
    tau = torch.tensor(3.0, requires_grad=True)
    assert LIFParams(tau=tau).tau is tau


def test_callable_surrogate_skips_alpha():
    p = LIFParams(surrogate=lambda x: (x >= 0).to(x), alpha=math.nan)
    assert not p.fused


# ----------------------------------------------------------------------------- the step
def test_step_by_hand_hard_and_soft():
    # tau=2, V=0.5, X=1.5: H = 0.5 + (1.5 - 0.5)/2 = 1.0 -> fires; hard: V=0; soft: V = 1 - 1 = 0
    x, v = torch.tensor([1.5, 0.1]), torch.tensor([0.5, 0.5])
    s, v_hard = lif_step(x, v, LIFParams(tau=2.0))
    assert s.tolist() == [1.0, 0.0] and v_hard.tolist() == [0.0, pytest.approx(0.3)]
    _, v_soft = lif_step(torch.tensor([1.7]), torch.tensor([0.5]), LIFParams(tau=2.0, v_reset=None))
    assert v_soft.item() == pytest.approx(0.1)
    # decay_input=False: H = V - V/2 + X; IF: H = V + X
    assert lif_step(torch.tensor([0.4]), torch.tensor([0.8]), LIFParams(decay_input=False))[1].item() == pytest.approx(
        0.8
    )
    assert lif_step(torch.tensor([0.4]), torch.tensor([0.5]), LIFParams(tau=math.inf))[1].item() == pytest.approx(0.9)


def test_step_gradient_flows_through_surrogate_and_reset():
    x = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
    s, v = lif_step(x, torch.zeros(1, dtype=torch.float64), LIFParams(tau=2.0, surrogate="atan", alpha=2.0))
    (gx,) = torch.autograd.grad(s.sum(), x)
    # H = 0.5; dS/dH = (alpha/2) / (1 + (pi/2 * alpha * (H - 1))^2); dH/dX = 1/2
    assert gx.item() == pytest.approx(0.5 / (1 + (math.pi / 2 * 2.0 * 0.5) ** 2), rel=1e-12)


def test_tensor_tau_inf_is_if_without_host_sync():
    x, v = torch.tensor([0.3]), torch.tensor([0.4])
    _, v_if = lif_step(x, v, LIFParams(tau=torch.tensor(math.inf)))
    assert v_if.item() == pytest.approx(0.7)


def test_reference_is_the_loop_of_steps_and_upcasts_half():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(6, 5, generator=g) * 2
    p = LIFParams(tau=3.0, v_reset=-0.1)
    spikes, v_seq = lif_multistep_reference(x, None, p)
    v = torch.full((5,), -0.1)
    for t in range(6):
        s, v = lif_step(x[t], v, p)
        assert torch.equal(spikes[t], s) and torch.equal(v_seq[t], v)
    s16, v16 = lif_multistep_reference(x.half(), None, p)
    s32, v32 = lif_multistep_reference(x.half().float(), None, p)
    assert s16.dtype == torch.float16 and torch.equal(s16.float(), s32) and torch.equal(v16, v32.half())


def test_callable_surrogate_in_the_step():
    calls = []

    def spike_fn(z):
        calls.append(z.shape)
        return (z >= 0).to(z)

    s, _ = lif_step(torch.tensor([3.0, 0.0]), torch.zeros(2), LIFParams(surrogate=spike_fn))
    assert s.tolist() == [1.0, 0.0] and calls == [torch.Size([2])]
