"""Spike-driven Transformer v1 (membrane-shortcut blocks), with SDT or STAtten attention."""

from __future__ import annotations

from torch import Tensor, nn

from spiking.attention import SpikeDrivenSelfAttention

from ._backbone import _MLP, _Backbone, _Block, multistep_lif
from .sps import SpikingPatchSplitting

__all__ = ["MSMLP", "MSBlock", "SpikeDrivenTransformer"]


class MSMLP(_MLP):
    r"""The membrane-shortcut MLP of SDT v1 (``MS_MLP_Conv``):
    :math:`Y = \mathrm{BN}(\mathrm{LIF}(\mathrm{BN}(\mathrm{LIF}(U) W_1)) W_2) + U` (real in, real out;
    when the hidden width equals ``D`` the hidden layer also gets the shortcut, as the official code).

    Shapes: ``u [T, B, N, D] -> [T, B, N, D]``.
    """

    def __init__(self, dim: int, hidden: int, tau: float = 2.0, surrogate: str = "sigmoid") -> None:
        super().__init__()
        self.dim, self.hidden, self.tau, self.surrogate = dim, hidden, tau, surrogate
        self.lif1, self.fc1, self.bn1 = multistep_lif(tau, surrogate), nn.Linear(dim, hidden), nn.BatchNorm1d(hidden)
        self.lif2, self.fc2, self.bn2 = multistep_lif(tau, surrogate), nn.Linear(hidden, dim), nn.BatchNorm1d(dim)
        self.reset_parameters()

    def forward(self, u: Tensor) -> Tensor:
        T, B, N, D = u.shape
        h = self.bn1(self.fc1(self.lif1(u).reshape(T * B * N, D))).view(T, B, N, self.hidden)  # [T, B, N, hidden]
        if self.hidden == D:
            u = h = h + u
        y = self.bn2(self.fc2(self.lif2(h).reshape(T * B * N, self.hidden))).view(T, B, N, D)  # [T, B, N, D]
        return y + u


class MSBlock(_Block):
    """One SDT v1 encoder block: :class:`~spiking.attention.SpikeDrivenSelfAttention` then :class:`MSMLP`
    (each carries its own membrane shortcut). ``u [T, B, N, D] -> [T, B, N, D]``."""

    attn_cls = SpikeDrivenSelfAttention
    mlp_cls = MSMLP

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
        self._init_block(dim, num_heads, mlp_ratio, attention, chunk_size, scale, dvs_pool, tau, surrogate)
        self.reset_parameters()

    def forward(self, u: Tensor, hw: tuple[int, int] | None = None) -> Tensor:
        return self.mlp(self.attn(u, hw))


class SpikeDrivenTransformer(_Backbone):
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
        self._init_backbone(
            "SpikeDrivenTransformer",
            in_channels,
            num_classes,
            embed_dim,
            num_heads,
            depth,
            mlp_ratio,
            pooling,
            attention,
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
        self.head_lif = multistep_lif(tau, surrogate)
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
