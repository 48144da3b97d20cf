"""The layer's dense path against ``Dcls1d`` + ``conv1d`` wired as the official code: outputs and gradients."""

from __future__ import annotations

import pytest
import torch

from spiking.delays import DelayLinear, delay_conv, delay_kernel
from tests.spiking.delays.dcls_ref import VERSIONS, dcls_like, official_forward


@pytest.mark.parametrize("interpolation", sorted(VERSIONS))
@pytest.mark.parametrize("K,bias", [(5, False), (25, True), (31, False)])
def test_layer_equals_dcls_conv(interpolation, K, bias):
    g = torch.Generator().manual_seed(3)
    layer = DelayLinear(12, 9, K, interpolation, sigma=0.4 + K / 5, bias=bias)
    layer.reset_parameters(g)
    ref = dcls_like(layer)
    x = (torch.rand(40, 3, 12, generator=g) < 0.3).float().requires_grad_()
    x_ref = x.detach().clone().requires_grad_()
    y, y_ref = layer(x), official_forward(ref, x_ref)
    assert y.shape == y_ref.shape == (40 + (K - 1) // 2, 3, 9)
    torch.testing.assert_close(y, y_ref, rtol=1e-5, atol=1e-5)
    probe = torch.randn(y.shape, generator=g)
    (y * probe).sum().backward()
    (y_ref * probe).sum().backward()
    torch.testing.assert_close(x.grad, x_ref.grad, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(layer.weight.grad, ref.weight.grad[..., 0], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(layer.P.grad, ref.P.grad[0, ..., 0], rtol=1e-4, atol=1e-5)
    if bias:
        torch.testing.assert_close(layer.bias.grad, ref.bias.grad, rtol=1e-5, atol=1e-5)


def test_delay_is_a_shift():
    """A one-hot input on channel i comes out d_oi steps later (integer positions, bilinear kernel)."""
    layer = DelayLinear(2, 3, 7, "bilinear")
    with torch.no_grad():
        layer.weight.fill_(1.0)
    d = torch.tensor([[0, 6], [3, 1], [5, 5]])
    layer.set_delays(d)
    x = torch.zeros(10, 1, 2)
    x[2, 0, 0] = 1.0
    x[4, 0, 1] = 1.0
    y = layer(x)[:, 0]  # [13, 3]
    for o in range(3):
        expected = torch.zeros(13)
        expected[2 + d[o, 0]] += 1
        expected[4 + d[o, 1]] += 1
        torch.testing.assert_close(y[:, o], expected / (1 + 1e-7))


def test_gradcheck_float64():
    g = torch.Generator().manual_seed(0)
    w = torch.randn(3, 4, dtype=torch.float64, generator=g, requires_grad=True)
    P = (torch.rand(3, 4, dtype=torch.float64, generator=g) * 4 - 2).requires_grad_()
    sigma = torch.tensor(0.8, dtype=torch.float64, requires_grad=True)
    x = torch.randn(6, 2, 4, dtype=torch.float64, generator=g, requires_grad=True)
    for interp in ("gauss", "triangle", "bilinear"):

        def f(x, w, P, s, interp=interp):
            return delay_conv(x, delay_kernel(w, P, s, 5, interp), right_padding=1)

        assert torch.autograd.gradcheck(f, (x, w, P, sigma))


def test_right_padding_and_dtype():
    layer = DelayLinear(4, 5, 9, right_padding=0).double()
    x = torch.rand(11, 2, 4, dtype=torch.float64)
    y = layer(x)
    assert y.shape == (11, 2, 5) and y.dtype == torch.float64
    assert DelayLinear(4, 5, 9)(x.float()).shape == (15, 2, 5)


def test_bad_input():
    layer = DelayLinear(4, 5, 9)
    with pytest.raises(ValueError, match="input has 3 channels but the layer expects C_in=4"):
        layer(torch.rand(10, 2, 3))
    with pytest.raises(ValueError, match=r"time-major input \[T, B, C_in\]"):
        layer(torch.rand(10, 4))
    with pytest.raises(TypeError, match="floating-point"):
        layer(torch.ones(10, 2, 4, dtype=torch.long))
    with pytest.raises(ValueError, match="no time steps"):
        layer(torch.rand(0, 2, 4))
    with pytest.raises(ValueError, match="right_padding"):
        DelayLinear(4, 5, 9, right_padding=-1)
