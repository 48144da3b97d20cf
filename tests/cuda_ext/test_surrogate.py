"""cuda_ext.surrogate: each surrogate is the derivative of its smooth primitive; names are validated."""

from __future__ import annotations

import math

import pytest
import torch

from cuda_ext.surrogate import heaviside_spike, surrogate_grad, surrogate_id


@pytest.mark.parametrize(
    "name,primitive",
    [
        ("sigmoid", lambda x, a: torch.sigmoid(a * x)),
        ("atan", lambda x, a: torch.atan(math.pi / 2 * a * x) / math.pi + 0.5),
    ],
)
def test_surrogate_is_derivative_of_primitive(name, primitive):
    x = torch.linspace(-2, 2, 41, dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(primitive(x, 3.0).sum(), x)
    torch.testing.assert_close(surrogate_grad(x.detach(), 3.0, name), grad)


def test_heaviside_forward_and_second_derivative():
    x = torch.tensor([-0.5, 0.0, 0.25], dtype=torch.float64, requires_grad=True)
    s = heaviside_spike(x, 2.0, "atan")
    assert s.tolist() == [0.0, 1.0, 1.0]
    (g,) = torch.autograd.grad(s.sum(), x, create_graph=True)
    (gg,) = torch.autograd.grad(g.sum(), x)  # the surrogate's own derivative: double backward works
    xd = x.detach().requires_grad_()
    (want,) = torch.autograd.grad(surrogate_grad(xd, 2.0, "atan").sum(), xd)
    torch.testing.assert_close(gg, want)


def test_unknown_names():
    with pytest.raises(ValueError, match="myop: surrogate must be one of"):
        surrogate_id("relu", "myop")
    with pytest.raises(ValueError, match="surrogate_grad"):
        surrogate_grad(torch.zeros(1), 1.0, "relu")
