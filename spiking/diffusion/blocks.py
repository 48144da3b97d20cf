r"""Residual, down- and up-sampling blocks of the SDDPM U-Net (official ``Spk_ResBlock``,
``Spk_DownSample``, ``Spk_UpSample``), on time-major ``[T, B, C, H, W]``.

Each block starts with the activation, so the residual stream between blocks stays real-valued
(a membrane-shortcut layout): convolutions inside a block see spikes, the 1x1 shortcut sees the
real-valued stream.
"""

from __future__ import annotations

import torch
from torch import nn

from .attention import SpikingSelfAttention2d
from .layers import ActFactory, SeqBatchNorm2d, SeqConv2d

__all__ = ["DownSample", "ResBlock", "UpSample"]


class ResBlock(nn.Module):
    r"""
    .. math::
        h &= \mathrm{BN}_1(W_1 * \mathcal N_1(x)) + \mathrm{Linear}(\mathrm{SiLU}(e_t))\\
        y &= \mathrm{BN}_2(W_2 * \mathcal N_2(h)) + \mathrm{shortcut}(x)\quad(\to \text{attention if } \texttt{attn})

    The step embedding :math:`e_t` ([B, tdim]) is added as a real value, the same at every SNN step;
    ``shortcut`` is a 1x1 conv when the width changes, else the identity. SDDPM's ``dropout``
    argument is accepted there but never applied; it is left out here.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        tdim: int,
        act: ActFactory,
        T: int = 1,
        tsm: bool = False,
        attn: bool = False,
        heads: int = 1,
    ) -> None:
        super().__init__()
        self.in_channels, self.out_channels, self.tdim, self.T, self.tsm = in_channels, out_channels, tdim, T, tsm
        self.attn_enabled, self.heads = bool(attn), heads
        self.act1, self.conv1, self.bn1 = (
            act(),
            SeqConv2d(in_channels, out_channels, 3, 1, 1, T, tsm),
            SeqBatchNorm2d(out_channels),
        )
        self.temb_proj = nn.Sequential(nn.SiLU(), nn.Linear(tdim, out_channels))
        self.act2, self.conv2, self.bn2 = (
            act(),
            SeqConv2d(out_channels, out_channels, 3, 1, 1, T, tsm),
            SeqBatchNorm2d(out_channels),
        )
        self.shortcut = (
            SeqConv2d(in_channels, out_channels, 1, 1, 0, T, tsm) if in_channels != out_channels else nn.Identity()
        )
        self.attn = SpikingSelfAttention2d(out_channels, act, T, heads, tsm=tsm) if attn else nn.Identity()
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for m in (self.conv1, self.bn1, self.conv2, self.bn2):
            m.reset_parameters()
        nn.init.xavier_uniform_(self.temb_proj[1].weight)
        nn.init.zeros_(self.temb_proj[1].bias)
        if isinstance(self.shortcut, SeqConv2d):
            self.shortcut.reset_parameters()
        if isinstance(self.attn, SpikingSelfAttention2d):
            self.attn.reset_parameters()

    def forward(self, x: torch.Tensor, temb: torch.Tensor) -> torch.Tensor:
        h = self.bn1(self.conv1(self.act1(x)))  # [T, B, C_out, H, W]
        h = h + self.temb_proj(temb)[None, :, :, None, None]  # + [1, B, C_out, 1, 1]
        h = self.bn2(self.conv2(self.act2(h)))
        return self.attn(h + self.shortcut(x))

    def extra_repr(self) -> str:
        return (
            f"in_channels={self.in_channels}, out_channels={self.out_channels}, tdim={self.tdim}, T={self.T}, "
            f"tsm={self.tsm}, attn={self.attn_enabled}, heads={self.heads}"
        )


class DownSample(nn.Module):
    r""":math:`y = \mathrm{BN}(W * \mathcal N(x))` with a stride-2 3x3 conv.

    Shapes: ``[T, B, C, H, W] -> [T, B, C, H/2, W/2]``.
    """

    def __init__(self, channels: int, act: ActFactory, T: int = 1, tsm: bool = False) -> None:
        super().__init__()
        self.channels, self.T, self.tsm = channels, T, tsm
        self.act, self.conv, self.bn = act(), SeqConv2d(channels, channels, 3, 2, 1, T, tsm), SeqBatchNorm2d(channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.conv.reset_parameters()
        self.bn.reset_parameters()

    def forward(self, x: torch.Tensor, temb: torch.Tensor | None = None) -> torch.Tensor:
        return self.bn(self.conv(self.act(x)))

    def extra_repr(self) -> str:
        return f"channels={self.channels}, T={self.T}, tsm={self.tsm}"


class UpSample(nn.Module):
    r""":math:`y = \mathrm{BN}(W * \mathrm{up}_2(\mathcal N(x)))`, nearest-neighbour x2 then a 3x3 conv:
    ``[T, B, C, H, W] -> [T, B, C, 2H, 2W]`` (upsampled spikes stay binary)."""

    def __init__(self, channels: int, act: ActFactory, T: int = 1, tsm: bool = False) -> None:
        super().__init__()
        self.channels, self.T, self.tsm = channels, T, tsm
        self.act, self.conv, self.bn = act(), SeqConv2d(channels, channels, 3, 1, 1, T, tsm), SeqBatchNorm2d(channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.conv.reset_parameters()
        self.bn.reset_parameters()

    def forward(self, x: torch.Tensor, temb: torch.Tensor | None = None) -> torch.Tensor:
        s = self.act(x)
        up = nn.functional.interpolate(s.flatten(0, 1), scale_factor=2, mode="nearest")  # [T*B, C, 2H, 2W]
        return self.bn(self.conv(up.unflatten(0, s.shape[:2])))

    def extra_repr(self) -> str:
        return f"channels={self.channels}, T={self.T}, tsm={self.tsm}"
