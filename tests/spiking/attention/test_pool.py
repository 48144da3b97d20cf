"""The DVS max-pool on tokens equals the official MaxPool3d((1, 3, 3)) on [T, B, C, H, W]."""

from __future__ import annotations

import pytest
import torch

from spiking.attention import token_max_pool


def test_matches_official_maxpool3d():
    x = (torch.rand(3, 2, 5, 4, 6) < 0.2).float()  # [T, B, C, H, W]
    ref = torch.nn.MaxPool3d((1, 3, 3), 1, (0, 1, 1))(x)
    tokens = x.flatten(3).transpose(2, 3)  # [T, B, N, C]
    out = token_max_pool(tokens, (4, 6))
    torch.testing.assert_close(out, ref.flatten(3).transpose(2, 3))


def test_needs_hw():
    x = torch.zeros(2, 1, 6, 3)
    with pytest.raises(ValueError, match=r"hw=\(H, W\) with H \* W = N .*got hw=None, N=6"):
        token_max_pool(x, None)
    with pytest.raises(ValueError, match="got hw=\\(2, 2\\)"):
        token_max_pool(x, (2, 2))
