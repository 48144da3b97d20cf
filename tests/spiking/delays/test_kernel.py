"""Delay kernels against dcls 0.1.1's ``ConstructKernel1d`` (every interpolation, K in {5, 25, 31})."""

from __future__ import annotations

import pytest
import torch

from spiking.delays import (
    DelayLinear,
    delay_kernel,
    integer_delay_kernel,
    position_limits,
)
from tests.spiking.delays.dcls_ref import VERSIONS, dcls_like

SIZES = (5, 25, 31)


@pytest.mark.parametrize("interpolation", sorted(VERSIONS))
@pytest.mark.parametrize("K", SIZES)
def test_kernel_equals_dcls(interpolation, K):
    g = torch.Generator().manual_seed(K)
    layer = DelayLinear(13, 11, K, interpolation)
    layer.reset_parameters(g)
    with torch.no_grad():
        layer.weight.normal_(generator=g)
        layer.P.uniform_(*position_limits(K), generator=g)
    sig = torch.rand(11, 13, generator=g) * K / 2  # random dcls SIG per synapse (|SIG| + c is the width)
    ref = dcls_like(layer, sig)
    _, offset = VERSIONS[interpolation]
    sigma = sig.abs() + offset if offset is not None else 1.0
    ours = delay_kernel(layer.weight, layer.P, sigma, K, interpolation)
    theirs = ref.DCK(ref.weight, ref.P, ref.SIG)  # [C_out, C_in, K]
    assert ours.shape == theirs.shape == (11, 13, K)
    torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-6)
    # gradients of a random functional of the kernel, in weight and position
    probe = torch.randn(11, 13, K, generator=g)
    gw, gp = torch.autograd.grad((ours * probe).sum(), (layer.weight, layer.P))
    gw_ref, gp_ref = torch.autograd.grad((theirs * probe).sum(), (ref.weight, ref.P))
    torch.testing.assert_close(gw, gw_ref[..., 0], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(gp, gp_ref[0, ..., 0], rtol=1e-5, atol=1e-6)


def test_kernel_hand_values():
    w, P = torch.tensor([[2.0]]), torch.tensor([[0.5]])  # K = 3: tap 1.5, halfway between taps 1 and 2
    k = delay_kernel(w, P, 1.0, 3, "bilinear")[0, 0]
    torch.testing.assert_close(k, torch.tensor([0.0, 1.0, 1.0]) / (1 + 1e-7))
    g = torch.exp(-0.5 * (torch.arange(3.0) - 1.5) ** 2 / 0.5**2)
    torch.testing.assert_close(delay_kernel(w, P, 0.5, 3, "gauss")[0, 0], 2 * g / (g.sum() + 1e-7))
    t = (2.0 - (torch.arange(3.0) - 1.5).abs()).relu()  # triangle of half-width 2
    torch.testing.assert_close(delay_kernel(w, P, 2.0, 3, "triangle")[0, 0], 2 * t / (t.sum() + 1e-7))


def test_integer_kernel_is_one_tap():
    w = torch.randn(4, 6)
    d = torch.randint(0, 7, (4, 6))
    k = integer_delay_kernel(w, d, 7)
    assert torch.equal(k.sum(-1), w) and torch.equal((k != 0).sum(-1), (w != 0).long())
    assert torch.equal(k.gather(-1, (6 - d).unsqueeze(-1))[..., 0], w)
    # = the triangle of half-width 1 (dcls "max" at SIG = 0) at integer positions, up to its 1e-7 guard
    P = (6 // 2 - d).float()  # (K - 1) // 2 - d, K = 7
    torch.testing.assert_close(delay_kernel(w, P, 1.0, 7, "triangle"), k, rtol=2e-7, atol=0)


def test_position_limits_cover_every_delay():
    for K in (1, 2, 5, 6, 25):
        lo, hi = position_limits(K)
        assert hi - lo == K - 1 and lo + K // 2 == 0  # taps 0 .. K - 1


def test_kernel_errors():
    w = torch.randn(3, 4)
    with pytest.raises(ValueError, match="kernel_size.*>= 1"):
        delay_kernel(w, w, 1.0, 0)
    with pytest.raises(TypeError, match="kernel_size must be an int"):
        delay_kernel(w, w, 1.0, 2.5)
    with pytest.raises(ValueError, match="interpolation must be one of"):
        delay_kernel(w, w, 1.0, 5, "cubic")
    with pytest.raises(ValueError, match="sigma must be > 0"):
        delay_kernel(w, w, 0.0, 5)
    with pytest.raises(ValueError, match=r"\[C_out, C_in\]"):
        delay_kernel(w, w[:, :2], 1.0, 5)
