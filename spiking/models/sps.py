"""Spiking patch splitting (SPS): the convolutional stem of Spikformer and the Spike-driven Transformer."""

from __future__ import annotations

from torch import Tensor, nn

from ._backbone import multistep_lif

__all__ = ["SpikingPatchSplitting"]


class SpikingPatchSplitting(nn.Module):
    r"""SPS stem: frames ``[T, B, C, H, W]`` -> tokens ``[T, B, N, D]``.

    Four stages ``Conv3x3 -> BN -> LIF`` with widths ``D/8, D/4, D/2, D``; after stage ``i`` a
    3 x 3, stride-2 max-pool when ``pooling[i] == "1"`` (``"0011"``: 64 x 64 -> 16 x 16 tokens). Then
    a relative position embedding (RPE) ``Conv3x3 -> BN`` is added:

    * ``membrane_shortcut=True`` (Spike-driven Transformer v1, ``MS_SPS``): the last stage is
      ``Conv -> BN -> MaxPool`` giving the real-valued ``U``; tokens are
      :math:`\mathrm{BN}(\mathrm{Conv}(\mathrm{LIF}(U))) + U` (real, a membrane shortcut).
    * ``membrane_shortcut=False`` (Spikformer): the last stage is ``Conv -> BN -> LIF -> MaxPool``
      giving spikes ``S``; tokens are :math:`S + \mathrm{LIF}(\mathrm{BN}(\mathrm{Conv}(S)))`
      (sums of spikes, in {0, 1, 2}).

    Args:
        in_channels: input channels (2 polarities for event frames).
        embed_dim: ``D`` (divisible by 8).
        pooling: four characters of ``0``/``1``.
        membrane_shortcut: see above.
        tau, surrogate: LIF parameters (``detach_reset=True`` as the official code).

    Shapes:
        ``x [T, B, C, H, W] -> (tokens [T, B, N, D], (h, w))`` with ``N = h w``.
    """

    def __init__(
        self,
        in_channels: int = 2,
        embed_dim: int = 256,
        pooling: str = "1111",
        membrane_shortcut: bool = True,
        tau: float = 2.0,
        surrogate: str = "sigmoid",
    ) -> None:
        super().__init__()
        if isinstance(embed_dim, bool) or not isinstance(embed_dim, int) or embed_dim <= 0 or embed_dim % 8:
            raise ValueError(f"SpikingPatchSplitting: embed_dim must be a positive multiple of 8 (got {embed_dim!r})")
        if not isinstance(pooling, str) or len(pooling) != 4 or set(pooling) - {"0", "1"}:
            raise ValueError(f"SpikingPatchSplitting: pooling must be 4 characters of '0'/'1' (got {pooling!r})")
        self.in_channels, self.embed_dim, self.pooling = in_channels, embed_dim, pooling
        self.membrane_shortcut, self.tau, self.surrogate = bool(membrane_shortcut), tau, surrogate
        widths = [embed_dim // 8, embed_dim // 4, embed_dim // 2, embed_dim]
        c_in = [in_channels] + widths[:3]
        self.convs = nn.ModuleList(nn.Conv2d(a, b, 3, padding=1, bias=False) for a, b in zip(c_in, widths))
        self.bns = nn.ModuleList(nn.BatchNorm2d(w) for w in widths)
        self.lifs = nn.ModuleList(multistep_lif(tau, surrogate) for _ in widths)
        self.rpe_conv = nn.Conv2d(embed_dim, embed_dim, 3, padding=1, bias=False)
        self.rpe_bn = nn.BatchNorm2d(embed_dim)
        self.rpe_lif = None if self.membrane_shortcut else multistep_lif(tau, surrogate)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for conv in [*self.convs, self.rpe_conv]:
            nn.init.trunc_normal_(conv.weight, std=0.02)  # official _init_weights
        for bn in [*self.bns, self.rpe_bn]:
            bn.reset_parameters()

    def _pool(self, i: int, x: Tensor) -> Tensor:
        return nn.functional.max_pool2d(x, 3, 2, 1) if self.pooling[i] == "1" else x

    def forward(self, x: Tensor) -> tuple[Tensor, tuple[int, int]]:
        if not isinstance(x, Tensor) or x.dim() != 5:
            got = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(f"SpikingPatchSplitting: expected frames [T, B, C, H, W] (got {got})")
        T, B, C = x.shape[:3]
        if C != self.in_channels:
            raise ValueError(
                f"SpikingPatchSplitting: expected C={self.in_channels} input channels (got shape {tuple(x.shape)})"
            )
        h = x.flatten(0, 1)  # [T*B, C, H, W]
        for i in range(3):
            h = self.bns[i](self.convs[i](h))  # [T*B, c_i, H_i, W_i]
            h = self._pool(i, self.lifs[i](h.unflatten(0, (T, B))).flatten(0, 1))  # [T*B, c_i, H_i', W_i']
        h = self.bns[3](self.convs[3](h))  # [T*B, D, h, w]
        if self.membrane_shortcut:
            u = self._pool(3, h)  # real-valued [T*B, D, h, w]
            s = self.lifs[3](u.unflatten(0, (T, B))).flatten(0, 1)
            out = self.rpe_bn(self.rpe_conv(s)) + u  # [T*B, D, h, w]
        else:
            s = self._pool(3, self.lifs[3](h.unflatten(0, (T, B))).flatten(0, 1))  # spikes [T*B, D, h, w]
            out = s + self.rpe_lif(self.rpe_bn(self.rpe_conv(s)).unflatten(0, (T, B))).flatten(0, 1)
        hh, ww = out.shape[-2:]
        tokens = out.flatten(2).transpose(1, 2).reshape(T, B, hh * ww, self.embed_dim)  # [T, B, N, D]
        return tokens, (hh, ww)

    def extra_repr(self) -> str:
        return (
            f"in_channels={self.in_channels}, embed_dim={self.embed_dim}, pooling={self.pooling!r}, "
            f"membrane_shortcut={self.membrane_shortcut}, tau={self.tau}, surrogate={self.surrogate!r}"
        )
