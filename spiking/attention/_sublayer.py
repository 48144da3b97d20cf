"""What the two attention sub-layers share: hyperparameters, the core attention, the output projection's init."""

from __future__ import annotations

from torch import nn

from .spiking_attention import SpikingAttention


class _ProjectedAttention(nn.Module):
    """Base of :class:`~spiking.attention.SpikeDrivenSelfAttention` and
    :class:`~spiking.attention.SpikingSelfAttention`: a :class:`SpikingAttention` ``attn`` followed
    by a linear output projection ``proj`` and its batch norm ``proj_bn`` (made by the subclass)."""

    attn: SpikingAttention
    proj: nn.Linear
    proj_bn: nn.BatchNorm1d

    def _init_attention(
        self,
        dim: int,
        num_heads: int,
        attention: str,
        chunk_size: int,
        scale: float | str | None,
        dvs_pool: bool,
        qkv_bias: bool,
        proj_bias: bool,
        tau: float,
        surrogate: str,
    ) -> None:
        self.dim, self.num_heads, self.proj_bias, self.tau, self.surrogate = (
            dim,
            num_heads,
            bool(proj_bias),
            tau,
            surrogate,
        )
        self.attn = SpikingAttention(
            dim, num_heads, attention, chunk_size, scale, dvs_pool, qkv_bias, tau, surrogate=surrogate
        )

    def reset_parameters(self) -> None:
        self.attn.reset_parameters()
        nn.init.trunc_normal_(self.proj.weight, std=0.02)
        if self.proj.bias is not None:
            nn.init.zeros_(self.proj.bias)
        self.proj_bn.reset_parameters()

    def extra_repr(self) -> str:
        a = self.attn
        return (
            f"dim={self.dim}, num_heads={self.num_heads}, attention={a.attention!r}, chunk_size={a.chunk_size}, "
            f"scale={a.scale!r}, dvs_pool={a.dvs_pool}, qkv_bias={a.qkv_bias}, proj_bias={self.proj_bias}, "
            f"tau={self.tau}, surrogate={self.surrogate!r}"
        )
