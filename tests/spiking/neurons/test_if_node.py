"""spiking.neurons.IF: golden trajectories and spikingjelly parity."""

from __future__ import annotations

import pytest
import torch
from spikingjelly.activation_based import neuron

from spiking.neurons import IF
from tests.spiking.neurons.helpers import run_m, run_s


@pytest.mark.parametrize(
    "make, spikes, v",
    [
        (lambda: IF(store_v_seq=True), [0, 1, 0, 1], [0.6, 0.0, 0.6, 0.0]),  # H = V + X
        (lambda: IF(v_reset=None, store_v_seq=True), [0, 1, 0, 1], [0.6, 0.2, 0.8, 0.4]),  # soft: subtract 1
    ],
)
def test_golden_trajectories(make, spikes, v):
    node = make()
    out = run_m(node, torch.full((4, 1), 0.6))
    torch.testing.assert_close(out.view(-1), torch.tensor(spikes, dtype=torch.float32))
    torch.testing.assert_close(node.v_seq.view(-1), torch.tensor(v))
    assert node.tau_value() == float("inf") and "tau" not in repr(node).split("(")[1].split("v_threshold")[0]


@pytest.mark.parametrize("v_reset", [0.0, None])
@pytest.mark.parametrize("mode", ["s", "m"])
def test_parity_with_spikingjelly(v_reset, mode):
    x = torch.randn(8, 5, 6, generator=torch.Generator().manual_seed(1))
    a, b = IF(v_reset=v_reset), neuron.IFNode(v_reset=v_reset)
    xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
    run = run_m if mode == "m" else run_s
    sa, sb = run(a, xa), run(b, xb)
    assert torch.equal(sa, sb) and torch.equal(a.v, b.v)
    sa.sum().backward()
    sb.sum().backward()
    torch.testing.assert_close(xa.grad, xb.grad, rtol=1e-5, atol=1e-6)
