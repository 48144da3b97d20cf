r"""Spiking self-attention for the U-Net's feature maps (optional; SDDPM trains without it)."""

from __future__ import annotations

import torch
from torch import nn

from .layers import ActFactory, SeqBatchNorm2d, SeqConv2d

__all__ = ["SpikingSelfAttention2d"]


class SpikingSelfAttention2d(nn.Module):
    r"""Spikformer-style spiking self-attention (SSA, Zhou et al., ICLR 2023) over the pixels of
    ``[T, B, C, H, W]``, added to its input:

    .. math::
        S = \mathcal{N}(x),\ Q = \mathcal N(\mathrm{BN}(W_Q S)),\ K = \mathcal N(\mathrm{BN}(W_K S)),\
        V = \mathcal N(\mathrm{BN}(W_V S)),\quad
        y = x + \mathrm{BN}\big(W_O\, \mathcal N(s\, Q K^\top V)\big)

    per step and head, with :math:`\mathcal N` the activation (a spiking neuron, or ReLU/SiLU in the
    ANN twin), 1x1 convolutions :math:`W`, no softmax (spike products are non-negative) and
    ``scale`` :math:`s = 0.125` (Spikformer). ``channels`` must divide by ``heads``.

    The official SDDPM ``Spk_ResBlock`` names a ``Spike_SelfAttention`` that is defined nowhere in
    the released code (``attn`` non-empty raises ``NameError`` there); the authors report that
    attention gave no gain (issue #11), and its default is no attention.
    """

    def __init__(
        self, channels: int, act: ActFactory, T: int = 1, heads: int = 1, scale: float = 0.125, tsm: bool = False
    ) -> None:
        super().__init__()
        if channels % heads:
            raise ValueError(f"SpikingSelfAttention2d: channels must be divisible by heads (got {channels}, {heads})")
        self.channels, self.T, self.heads, self.scale, self.tsm = channels, T, heads, float(scale), bool(tsm)
        self.act_in = act()
        self.q, self.k, self.v, self.o = (SeqConv2d(channels, channels, 1, 1, 0, T, tsm) for _ in range(4))
        self.bn_q, self.bn_k, self.bn_v, self.bn_o = (SeqBatchNorm2d(channels) for _ in range(4))
        self.act_q, self.act_k, self.act_v, self.act_attn = act(), act(), act(), act()
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for m in (self.q, self.k, self.v, self.o, self.bn_q, self.bn_k, self.bn_v, self.bn_o):
            m.reset_parameters()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        T, B, C, H, W = x.shape
        s = self.act_in(x)
        q = self.act_q(self.bn_q(self.q(s)))
        k = self.act_k(self.bn_k(self.k(s)))
        v = self.act_v(self.bn_v(self.v(s)))

        def heads(z: torch.Tensor) -> torch.Tensor:  # [T, B, C, H, W] -> [T, B, heads, H*W, C/heads]
            return z.reshape(T, B, self.heads, C // self.heads, H * W).transpose(-1, -2)

        q, k, v = heads(q), heads(k), heads(v)
        y = (q @ (k.transpose(-1, -2) @ v)) * self.scale  # [T, B, heads, HW, C/heads]; Q(K^T V), same as (QK^T)V
        y = y.transpose(-1, -2).reshape(T, B, C, H, W)  # [T, B, C, H, W]
        return x + self.bn_o(self.o(self.act_attn(y)))

    def extra_repr(self) -> str:
        return f"channels={self.channels}, T={self.T}, heads={self.heads}, scale={self.scale}, tsm={self.tsm}"
