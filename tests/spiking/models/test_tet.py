"""TET loss against the official formula (a loop over t)."""

from __future__ import annotations

import pytest
import torch

from spiking.models import tet_loss


def official(outputs, labels, means, lamb, smoothing=0.0):
    criterion = torch.nn.CrossEntropyLoss(label_smoothing=smoothing)
    T = outputs.size(0)
    loss_es = sum(criterion(outputs[t], labels) for t in range(T)) / T
    loss_mmd = torch.nn.MSELoss()(outputs, torch.zeros_like(outputs).fill_(means)) if lamb != 0 else 0
    return (1 - lamb) * loss_es + lamb * loss_mmd


@pytest.mark.parametrize("lamb,smoothing", [(0.001, 0.0), (0.0, 0.0), (0.3, 0.1)])
def test_equals_official_formula(lamb, smoothing):
    g = torch.Generator().manual_seed(0)
    z = torch.randn(5, 4, 3, generator=g, dtype=torch.float64, requires_grad=True)
    y = torch.tensor([0, 2, 1, 2])
    ours = tet_loss(z, y, 1.0, lamb, smoothing)
    torch.testing.assert_close(ours, official(z, y, 1.0, lamb, smoothing))
    ours.backward()
    assert z.grad.abs().sum() > 0


def test_bad_input():
    with pytest.raises(ValueError, match=r"\[T, B, K\]"):
        tet_loss(torch.zeros(4, 3), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match=r"target must be class indices \[B\] with B=4"):
        tet_loss(torch.zeros(2, 4, 3), torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match="lamb"):
        tet_loss(torch.zeros(2, 4, 3), torch.zeros(4, dtype=torch.long), lamb=2.0)


def test_non_finite_logits_give_a_non_finite_loss():
    import torch

    from spiking.models.tet import tet_loss

    z = torch.zeros(2, 3, 4)
    z[1, 0, 2] = float("nan")
    for lamb in (0.0, 0.001):
        assert torch.isnan(tet_loss(z, torch.tensor([0, 1, 2]), lamb=lamb))  # propagated, never masked
