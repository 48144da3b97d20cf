"""Spike-driven Transformer v1 (membrane-shortcut blocks), with SDT or STAtten attention."""

from __future__ import annotations

from torch import Tensor, nn

from spiking.attention import SpikeDrivenSelfAttention
from spiking.neurons import LIF

from .sps import SpikingPatchSplitting

__all__ = ["MSMLP", "MSBlock", "SpikeDrivenTransformer"]


def _lif(tau: float, surrogate: str) -> LIF:
    return LIF(tau=tau, surrogate=surrogate, detach_reset=True, step_mode="m")


class MSMLP(nn.Module):
    r"""The membrane-shortcut MLP of SDT v1 (``MS_MLP_Conv``):
    :math:`Y = \mathrm{BN}(\mathrm{LIF}(\mathrm{BN}(\mathrm{LIF}(U) W_1)) W_2) + U` (real in, real out;
    when the hidden width equals ``D`` the hidden layer also gets the shortcut, as the official code).

    Shapes: ``u [T, B, N, D] -> [T, B, N, D]``.
    """

    def __init__(self, dim: int, hidden: int, tau: float = 2.0, surrogate: str = "sigmoid") -> None:
        super().__init__()
        self.dim, self.hidden, self.tau, self.surrogate = dim, hidden, tau, surrogate
        self.lif1, self.fc1, self.bn1 = _lif(tau, surrogate), nn.Linear(dim, hidden), nn.BatchNorm1d(hidden)
        self.lif2, self.fc2, self.bn2 = _lif(tau, surrogate), nn.Linear(hidden, dim), nn.BatchNorm1d(dim)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for fc, bn in ((self.fc1, self.bn1), (self.fc2, self.bn2)):
            nn.init.trunc_normal_(fc.weight, std=0.02)
            nn.init.zeros_(fc.bias)
            bn.reset_parameters()

    def forward(self, u: Tensor) -> Tensor:
        T, B, N, D = u.shape
        h = self.bn1(self.fc1(self.lif1(u).reshape(T * B * N, D))).view(T, B, N, self.hidden)  # [T, B, N, hidden]
        if self.hidden == D:
            u = h = h + u
        y = self.bn2(self.fc2(self.lif2(h).reshape(T * B * N, self.hidden))).view(T, B, N, D)  # [T, B, N, D]
        return y + u

    def extra_repr(self) -> str:
        return f"dim={self.dim}, hidden={self.hidden}, tau={self.tau}, surrogate={self.surrogate!r}"


class MSBlock(nn.Module):
    """One SDT v1 encoder block: :class:`~spiking.attention.SpikeDrivenSelfAttention` then :class:`MSMLP`
    (each carries its own membrane shortcut). ``u [T, B, N, D] -> [T, B, N, D]``."""

    def __init__(
        self,
        dim: int,
        num_heads: int,
        mlp_ratio: float = 4.0,
        attention: str = "sdt",
        chunk_size: int = 2,
        scale: float | str | None = None,
        dvs_pool: bool = False,
        tau: float = 2.0,
        surrogate: str = "sigmoid",
    ) -> None:
        super().__init__()
        self.dim, self.num_heads, self.mlp_ratio = dim, num_heads, mlp_ratio
        self.attn = SpikeDrivenSelfAttention(
            dim, num_heads, attention, chunk_size, scale, dvs_pool, tau=tau, surrogate=surrogate
        )
        self.mlp = MSMLP(dim, int(dim * mlp_ratio), tau, surrogate)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.attn.reset_parameters()
        self.mlp.reset_parameters()

    def forward(self, u: Tensor, hw: tuple[int, int] | None = None) -> Tensor:
        return self.mlp(self.attn(u, hw))

    def extra_repr(self) -> str:
        return f"dim={self.dim}, num_heads={self.num_heads}, mlp_ratio={self.mlp_ratio}"


class SpikeDrivenTransformer(nn.Module):
    r"""Spike-driven Transformer v1 (Yao et al., NeurIPS 2023) with a choice of attention, the
    backbone of STAtten (Lee et al., CVPR 2025; official code ``model/spikeformer.py::sdt``).

    ``SPS`` stem (:class:`SpikingPatchSplitting`, membrane shortcut) -> ``depth`` x :class:`MSBlock`
    -> mean over tokens -> LIF -> linear head, per time step:

    .. math::
        U_0 = \mathrm{SPS}(X),\quad U_l = \mathrm{MLP}(\mathrm{SDSA}(U_{l-1})),\quad
        z[t] = W_h\,\mathrm{LIF}\big(\tfrac1N \textstyle\sum_n U_L[t, n]\big) + b_h

    and the prediction :math:`\bar z = \frac1T \sum_t z[t]` (TET trains on :meth:`forward_seq`).

    Args:
        in_channels, num_classes: input channels and classes.
        embed_dim, num_heads, depth, mlp_ratio: ``D``, heads, blocks, MLP width ratio (CIFAR10-DVS: 256, 8, 2, 4).
        pooling: SPS max-pools (``"0011"`` for 64 x 64 inputs, ``"1111"`` for 128 x 128).
        attention: ``"sdt"`` (the SDT v1 model), ``"statten"`` or ``"ssa"``
            (see :class:`~spiking.attention.SpikingAttention`).
        chunk_size, scale, dvs_pool: STAtten chunk, attention scale, DVS max-pool variant.
        tau, surrogate: LIF parameters.

    Shapes:
        ``x [T, B, C, H, W]`` (event frames; static images repeated over T) -> logits ``[B, num_classes]``;
        :meth:`forward_seq` -> ``[T, B, num_classes]``.

    Call ``spikingjelly.activation_based.functional.reset_net(model)`` after every batch.

    Differences from the official code: token-major ``[T, B, N, D]`` tensors with linear layers
    in place of 1 x 1 convolutions (the same maps), fused Q/K/V (see :class:`~spiking.attention.SpikingQKV`),
    no stochastic depth (the official configs use ``drop_path=0``), the DVS max-pool as noted in
    :class:`~spiking.attention.SpikingAttention`.
    """

    def __init__(
        self,
        in_channels: int = 2,
        num_classes: int = 10,
        embed_dim: int = 256,
        num_heads: int = 8,
        depth: int = 2,
        mlp_ratio: float = 4.0,
        pooling: str = "0011",
        attention: str = "sdt",
        chunk_size: int = 2,
        scale: float | str | None = None,
        dvs_pool: bool = False,
        tau: float = 2.0,
        surrogate: str = "sigmoid",
    ) -> None:
        super().__init__()
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
            raise ValueError(f"SpikeDrivenTransformer: depth must be a positive int (got {depth!r})")
        self.in_channels, self.num_classes, self.embed_dim, self.num_heads = (
            in_channels,
            num_classes,
            embed_dim,
            num_heads,
        )
        self.depth, self.mlp_ratio, self.pooling, self.attention = depth, mlp_ratio, pooling, attention
        self.chunk_size, self.scale, self.dvs_pool, self.tau, self.surrogate = (
            chunk_size,
            scale,
            dvs_pool,
            tau,
            surrogate,
        )
        self.patch_embed = SpikingPatchSplitting(in_channels, embed_dim, pooling, True, tau, surrogate)
        self.blocks = nn.ModuleList(
            MSBlock(embed_dim, num_heads, mlp_ratio, attention, chunk_size, scale, dvs_pool, tau, surrogate)
            for _ in range(depth)
        )
        self.head_lif = _lif(tau, surrogate)
        self.head = nn.Linear(embed_dim, num_classes)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.patch_embed.reset_parameters()
        for block in self.blocks:
            block.reset_parameters()
        self.head.reset_parameters()

    def forward_seq(self, x: Tensor) -> Tensor:
        """``x [T, B, C, H, W]`` -> per-step logits ``[T, B, num_classes]``."""
        u, hw = self.patch_embed(x)  # [T, B, N, D]
        for block in self.blocks:
            u = block(u, hw)  # [T, B, N, D]
        return self.head(self.head_lif(u.mean(2)))  # [T, B, K]

    def forward(self, x: Tensor) -> Tensor:
        return self.forward_seq(x).mean(0)  # [B, K]

    def extra_repr(self) -> str:
        return (
            f"in_channels={self.in_channels}, num_classes={self.num_classes}, embed_dim={self.embed_dim}, "
            f"num_heads={self.num_heads}, depth={self.depth}, mlp_ratio={self.mlp_ratio}, pooling={self.pooling!r}, "
            f"attention={self.attention!r}, chunk_size={self.chunk_size}, scale={self.scale!r}, "
            f"dvs_pool={self.dvs_pool}, tau={self.tau}, surrogate={self.surrogate!r}"
        )
