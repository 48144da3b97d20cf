"""The reference the delay tests hold us to: PyPI ``dcls==0.1.1``'s ``Dcls1d`` (test dependency),
wired as in the official SNN-delays ``snn_delays.py`` forward."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

DCLS = pytest.importorskip("DCLS.construct.modules", reason="dcls==0.1.1 (pip install '.[test]') is the reference")

# our interpolation name -> (dcls version, offset c in sigma = |SIG| + c)
VERSIONS = {"gauss": ("gauss", 0.27), "triangle": ("max", 1.0), "bilinear": ("v1", None)}


def dcls_like(layer, sig=None):
    """A ``Dcls1d`` holding ``layer``'s weights and positions (and ``sig`` = dcls ``SIG`` [C_out, C_in],
    default from ``layer.sigma``)."""
    version, offset = VERSIONS[layer.interpolation]
    m = DCLS.Dcls1d(
        layer.in_channels,
        layer.out_channels,
        kernel_count=1,
        dilated_kernel_size=layer.kernel_size,
        bias=layer.bias is not None,
        version=version,
    ).to(layer.weight.dtype)
    with torch.no_grad():
        m.weight.copy_(layer.weight.unsqueeze(-1))
        m.P.copy_(layer.P.view(1, *layer.P.shape, 1))
        if layer.bias is not None:
            m.bias.copy_(layer.bias)
        if m.SIG is not None:
            m.SIG.copy_((layer.sigma - offset if sig is None else sig).expand_as(m.SIG[0, ..., 0]).reshape(m.SIG.shape))
            m.SIG.requires_grad_(False)  # the official code never trains SIG
    return m


def official_forward(m, x, right_padding=None):
    """``x [T, B, C_in]`` -> permute, pad (K - 1, (K - 1) // 2), ``Dcls1d``, permute back."""
    K = m.dilated_kernel_size[0]
    rp = (K - 1) // 2 if right_padding is None else right_padding
    xb = F.pad(x.permute(1, 2, 0), (K - 1, rp), "constant", 0)
    return m(xb).permute(2, 0, 1)
