"""SPS stem: shapes per pooling, membrane vs spike shortcut, bad input."""

from __future__ import annotations

import pytest
import torch

from spiking.models import SpikingPatchSplitting


@pytest.mark.parametrize("pooling,side", [("0011", 16), ("0111", 8), ("1111", 4), ("0000", 64)])
def test_token_shapes(pooling, side):
    m = SpikingPatchSplitting(2, 16, pooling)
    tokens, hw = m(torch.rand(2, 3, 2, 64, 64))
    assert hw == (side, side) and tokens.shape == (2, 3, side * side, 16)


def test_shortcut_kinds():
    x = torch.rand(3, 2, 2, 16, 16) * 4
    real, _ = SpikingPatchSplitting(2, 16, "0011", membrane_shortcut=True)(x)
    spikes, _ = SpikingPatchSplitting(2, 16, "0011", membrane_shortcut=False)(x)
    assert not set(real.unique().tolist()) <= {0.0, 1.0, 2.0}  # real-valued membrane shortcut
    assert set(spikes.unique().tolist()) <= {0.0, 1.0, 2.0}  # spike + spike
    assert "membrane_shortcut=False" in repr(SpikingPatchSplitting(2, 16, membrane_shortcut=False))


def test_bad_input():
    with pytest.raises(ValueError, match="multiple of 8"):
        SpikingPatchSplitting(2, 12)
    with pytest.raises(ValueError, match="pooling"):
        SpikingPatchSplitting(2, 16, "011")
    m = SpikingPatchSplitting(2, 16)
    with pytest.raises(ValueError, match=r"\[T, B, C, H, W\] \(got \(2, 2, 8, 8\)\)"):
        m(torch.zeros(2, 2, 8, 8))
    with pytest.raises(ValueError, match="expected C=2"):
        m(torch.zeros(2, 1, 3, 8, 8))
