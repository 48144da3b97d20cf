"""Spikformer (spike-residual blocks), with SSA or STAtten attention."""

from __future__ import annotations

from torch import Tensor, nn

from spiking.attention import SpikingSelfAttention

from ._backbone import _MLP, _Backbone, _Block, multistep_lif
from .sps import SpikingPatchSplitting

__all__ = ["Spikformer", "SpikformerBlock", "SpikformerMLP"]


class SpikformerMLP(_MLP):
    r"""Spikformer's MLP: :math:`\mathrm{LIF}(\mathrm{BN}(\mathrm{LIF}(\mathrm{BN}(X W_1)) W_2))`.
    Shapes: ``x [T, B, N, D] -> [T, B, N, D]`` binary."""

    def __init__(self, dim: int, hidden: int, tau: float = 2.0, surrogate: str = "sigmoid") -> None:
        super().__init__()
        self.dim, self.hidden, self.tau, self.surrogate = dim, hidden, tau, surrogate
        self.fc1, self.bn1, self.lif1 = nn.Linear(dim, hidden), nn.BatchNorm1d(hidden), multistep_lif(tau, surrogate)
        self.fc2, self.bn2, self.lif2 = nn.Linear(hidden, dim), nn.BatchNorm1d(dim), multistep_lif(tau, surrogate)
        self.reset_parameters()

    def forward(self, x: Tensor) -> Tensor:
        T, B, N, D = x.shape
        h = self.lif1(self.bn1(self.fc1(x.reshape(T * B * N, D))).view(T, B, N, self.hidden))  # [T, B, N, hidden]
        return self.lif2(self.bn2(self.fc2(h.reshape(T * B * N, self.hidden))).view(T, B, N, D))  # [T, B, N, D]


class SpikformerBlock(_Block):
    """One Spikformer encoder block: ``X' = X + SSA(X)``, ``X'' = X' + MLP(X')`` (spike residuals).
    ``x [T, B, N, D] -> [T, B, N, D]``."""

    attn_cls = SpikingSelfAttention
    mlp_cls = SpikformerMLP

    def __init__(
        self,
        dim: int,
        num_heads: int,
        mlp_ratio: float = 4.0,
        attention: str = "ssa",
        chunk_size: int = 2,
        scale: float | str | None = None,
        dvs_pool: bool = False,
        tau: float = 2.0,
        surrogate: str = "sigmoid",
    ) -> None:
        super().__init__()
        self._init_block(dim, num_heads, mlp_ratio, attention, chunk_size, scale, dvs_pool, tau, surrogate)
        self.reset_parameters()

    def forward(self, x: Tensor, hw: tuple[int, int] | None = None) -> Tensor:
        x = x + self.attn(x, hw)
        return x + self.mlp(x)


class Spikformer(_Backbone):
    r"""Spikformer (Zhou et al., "Spikformer: When Spiking Neural Network Meets Transformer", ICLR
    2023; official code ``ZK-Zhou/spikformer``, ``cifar10dvs/model.py``) with a choice of attention.

    ``SPS`` stem (:class:`SpikingPatchSplitting`, spike residual) -> ``depth`` x :class:`SpikformerBlock`
    -> mean over tokens -> linear head per step; prediction = mean over ``T``:

    .. math::
        X_0 = \mathrm{SPS}(I),\quad X_l' = X_{l-1} + \mathrm{SSA}(X_{l-1}),\quad
        X_l = X_l' + \mathrm{MLP}(X_l'),\quad z[t] = W_h \tfrac1N \textstyle\sum_n X_L[t, n] + b_h

    ``attention="statten"`` plugs STAtten's block-wise spatial-temporal attention into Spikformer
    (as in Lee et al., CVPR 2025, whose released code holds only the SDT backbone).

    Args and shapes: as :class:`~spiking.models.SpikeDrivenTransformer` (default ``attention="ssa"``,
    ``pooling="1111"``: 128 x 128 -> 8 x 8 tokens as Spikformer's CIFAR10-DVS model).

    Differences from the official code: token-major tensors and linear layers in place of 1 x 1
    ``Conv1d`` (the same maps), fused Q/K/V, and the SPS conv weights initialised as SDT's
    (truncated normal, std 0.02; batch norm follows each conv).
    """

    def __init__(
        self,
        in_channels: int = 2,
        num_classes: int = 10,
        embed_dim: int = 256,
        num_heads: int = 16,
        depth: int = 2,
        mlp_ratio: float = 4.0,
        pooling: str = "1111",
        attention: str = "ssa",
        chunk_size: int = 2,
        scale: float | str | None = None,
        dvs_pool: bool = False,
        tau: float = 2.0,
        surrogate: str = "sigmoid",
    ) -> None:
        super().__init__()
        self._init_backbone(
            "Spikformer",
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
        self.patch_embed = SpikingPatchSplitting(in_channels, embed_dim, pooling, False, tau, surrogate)
        self.blocks = nn.ModuleList(
            SpikformerBlock(embed_dim, num_heads, mlp_ratio, attention, chunk_size, scale, dvs_pool, tau, surrogate)
            for _ in range(depth)
        )
        self.head = nn.Linear(embed_dim, num_classes)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.patch_embed.reset_parameters()
        for block in self.blocks:
            block.reset_parameters()
        nn.init.trunc_normal_(self.head.weight, std=0.02)
        nn.init.zeros_(self.head.bias)

    def forward_seq(self, x: Tensor) -> Tensor:
        """``x [T, B, C, H, W]`` -> per-step logits ``[T, B, num_classes]``."""
        s, hw = self.patch_embed(x)  # [T, B, N, D]
        for block in self.blocks:
            s = block(s, hw)  # [T, B, N, D]
        return self.head(s.mean(2))  # [T, B, K]
