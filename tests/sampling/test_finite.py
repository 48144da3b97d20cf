"""sampling.finite: one error type (catchable as FloatingPointError or ValueError) naming where."""

import math

import pytest
import torch

from sampling.finite import NonFiniteError, check_finite, check_loss


def test_check_loss():
    assert check_loss(torch.tensor(2.5), "f", epoch=1, batch=0) == 2.5
    with pytest.raises(NonFiniteError, match=r"f: non-finite loss nan at epoch 3, batch 7; training diverged"):
        check_loss(torch.tensor(float("nan")), "f", epoch=3, batch=7)
    with pytest.raises(FloatingPointError, match=r"non-finite gradient norm inf at step 2"):
        check_loss(math.inf, "f", "gradient norm", step=2)
    with pytest.raises(ValueError, match=r"non-finite loss -inf;"):
        check_loss(-math.inf, "f")


def test_check_finite_names_the_first_bad_entry():
    x = torch.zeros(3, 4)
    assert check_finite(x, "f", "x") is x
    x[2, 1], x[2, 3] = float("nan"), float("inf")
    with pytest.raises(
        NonFiniteError,
        match=r"f: scores must be finite \(got 2 NaN/inf entries of 12; "
        r"first at user 2, item 1: nan\)",
    ):
        check_finite(x, "f", "scores", ("user", "item"))
    with pytest.raises(NonFiniteError, match=r"first at node 2, index \(2, 1\)"):
        check_finite(x, "f", "x", ("node",))
    with pytest.raises(NonFiniteError, match=r"first at the value: inf"):
        check_finite(torch.tensor(float("inf")), "f", "x")
    assert check_finite(torch.tensor([1, 2]), "f", "ids").dtype == torch.int64  # integers are always finite
