"""spiking.neurons.SpikingNeuron (shared by LIF, ParametricLIF, IF): single == multi step, chunks, state
and reset_net interop, store_v_seq, backends, memory of inference, half precision, CUDA == CPU."""

from __future__ import annotations

import pytest
import torch
from spikingjelly.activation_based import functional, layer, neuron
from torch.profiler import ProfilerActivity, profile

from cuda_ext import LIFParams, lif_multistep_reference
from spiking.neurons import IF, LIF, ParametricLIF, SpikingNeuron
from tests.spiking.neurons.helpers import run_m

MAKERS = [
    lambda: LIF(tau=3.0),
    lambda: ParametricLIF(init_tau=2.5, v_reset=None),
    lambda: IF(detach_reset=True),
    lambda: LIF(decay_input=False, surrogate="atan"),
    lambda: LIF(v_reset=-0.2, surrogate="piecewise_exp"),
]


@pytest.mark.parametrize("make", MAKERS)
def test_multistep_equals_loop_of_single_steps(make):
    x = torch.randn(7, 4, 3, dtype=torch.float64) * 1.5
    a, b = make().double(), make().double()
    xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
    b.step_mode = "s"
    sa = run_m(a, xa)
    sb = torch.stack([b(xt) for xt in xb])
    torch.testing.assert_close(sa, sb, rtol=0, atol=0)
    torch.testing.assert_close(a.v, b.v)
    w = torch.randn_like(sa)
    ga = torch.autograd.grad((sa * w).sum() + a.v.sum(), [xa] + list(a.parameters()))
    gb = torch.autograd.grad((sb * w).sum() + b.v.sum(), [xb] + list(b.parameters()))
    for u, v in zip(ga, gb):
        torch.testing.assert_close(u, v)


@pytest.mark.parametrize("make", MAKERS)
def test_store_v_seq_gives_the_same_spikes_and_state(make):
    x = torch.randn(6, 2, 5) * 2
    a, b = make(), make()
    b.store_v_seq = True
    b.register_memory("v_seq", None)
    sa, sb = run_m(a, x), run_m(b, x)
    assert torch.equal(sa, sb) and torch.equal(a.v, b.v) and torch.equal(b.v_seq[-1], b.v)
    assert b.v_seq.shape == (6, 2, 5)


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
    net[1].reset()  # the module's own reset() does the same for one neuron
    assert net[1].v == 0.0
    functional.reset_net(net)
    assert net(torch.rand(5, 3, 4)).shape == (5, 3, 3)


def test_detach_net_and_repr():
    lif = LIF(tau=2.0, step_mode="m")
    lif(torch.rand(3, 2, requires_grad=True) * 3)
    functional.detach_net(lif)
    assert not lif.v.requires_grad
    assert "tau=2.0" in repr(lif) and "surrogate='sigmoid'" in repr(lif) and "backend='auto'" in repr(lif)
    assert LIF.is_spiking_neuron and isinstance(lif, SpikingNeuron)


def test_chunked_calls_equal_one_call_with_gradients():
    x = torch.randn(8, 2, 3, dtype=torch.float64) * 2
    a, b = LIF(step_mode="m", v_reset=-0.1).double(), LIF(step_mode="m", v_reset=-0.1).double()
    xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
    sa = a(xa)
    sb = torch.cat([b(xb[:3]), b(xb[3:])])  # state carried across calls, gradient too
    torch.testing.assert_close(sa, sb, rtol=0, atol=0)
    w = torch.randn_like(sa)
    ((sa * w).sum() + a.v.sum()).backward()
    ((sb * w).sum() + b.v.sum()).backward()
    torch.testing.assert_close(xa.grad, xb.grad)


def test_a_subclass_defines_its_time_constant_by_tau_value():
    class TensorTau(SpikingNeuron):  # e.g. a neuron whose tau comes from elsewhere
        def tau_value(self) -> torch.Tensor:
            return torch.tensor(3.0)

    x = torch.rand(6, 2, 5) * 2
    node = TensorTau()
    assert isinstance(node.lif_params().tau, torch.Tensor)
    assert torch.equal(run_m(node, x), run_m(LIF(tau=3.0), x))


def test_backend_choice():
    x = torch.rand(4, 2, 3)
    assert torch.equal(LIF(backend="torch", step_mode="m")(x), LIF(step_mode="m")(x))
    with pytest.raises(ValueError, match="backend='cuda' needs CUDA tensors"):
        LIF(backend="cuda", step_mode="m")(x)  # an explicit request is never replaced
    with pytest.raises(ValueError, match="backend='cuda' needs CUDA tensors"):
        LIF(backend="cuda")(x[0])
    with pytest.raises(ValueError, match="backend must be one of"):
        LIF(backend="triton")
    with pytest.raises(ValueError, match="needs a surrogate the kernel implements"):
        LIF(surrogate="piecewise_quadratic", backend="cuda")
    node = LIF()
    node.backend = "torch"
    assert node.backend == "torch"


def _allocated_bytes(fn) -> int:
    """Bytes allocated by the ops run in ``fn`` (torch.profiler with profile_memory)."""
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    return sum(e.self_cpu_memory_usage for e in prof.events() if e.name != "[memory]" and e.self_cpu_memory_usage > 0)


def test_inference_does_not_materialise_the_membrane_sequence():
    T, B, F = 16, 8, 512
    x = torch.rand(T, B, F) * 2
    lif = LIF(step_mode="m")
    with torch.no_grad():
        spikes = lif(x)
        lif.reset()
        allocated = _allocated_bytes(lambda: lif(x))
    # the spikes plus a few [B, F] state buffers: nothing that grows with T beyond the output
    assert allocated <= spikes.nbytes + 8 * B * F * 4, allocated / spikes.nbytes


def test_half_precision_state_and_reference():
    x = (torch.rand(6, 3, 4) * 2).half()
    lif = LIF(v_reset=-0.3, step_mode="m")
    s = lif(x)
    s_ref, v_ref = lif_multistep_reference(x, None, LIFParams(v_reset=-0.3))
    assert s.dtype == torch.float16 and lif.v.dtype == torch.float16
    assert torch.equal(s, s_ref) and torch.equal(lif.v, v_ref[-1])


@pytest.mark.cuda
@pytest.mark.parametrize(
    "make",
    [
        lambda: LIF(tau=2.0, backend="cuda"),
        lambda: ParametricLIF(init_tau=3.0, v_reset=None, backend="cuda"),
        lambda: IF(backend="cuda"),
    ],
)
@pytest.mark.parametrize("mode", ["s", "m"])
def test_cuda_kernel_matches_cpu(make, mode):
    x = torch.randn(16, 8, 113) * 2
    a, b = make(), make().cuda()
    a.backend = "torch"
    xa, xb = x.clone().requires_grad_(), x.cuda().requires_grad_()
    a.step_mode = b.step_mode = mode
    sa = a(xa) if mode == "m" else torch.stack([a(t) for t in xa])
    sb = b(xb) if mode == "m" else torch.stack([b(t) for t in xb])
    torch.testing.assert_close(sb.cpu(), sa)
    torch.testing.assert_close(b.v.cpu(), a.v)
    (sa * x).sum().backward()
    (sb * x.cuda()).sum().backward()
    torch.testing.assert_close(xb.grad.cpu(), xa.grad, rtol=1e-4, atol=1e-5)
