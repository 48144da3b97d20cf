"""Spikformer's spiking self-attention sub-layer (spike output, no shortcut inside)."""

from __future__ import annotations

from torch import Tensor, nn

from spiking.neurons import LIF

from ._sublayer import _ProjectedAttention
from .functional import check_tokens
from .qkv import _copy_linear_bn

__all__ = ["SpikingSelfAttention"]


class SpikingSelfAttention(_ProjectedAttention):
    r"""Spiking self-attention of Spikformer (Zhou et al., ICLR 2023, Eq. 7-10).

    .. math::
        O = \mathrm{LIF}\Big(\mathrm{BN}\big(\mathrm{Attn}(X)\,W_O + b_O\big)\Big)

    ``X`` are spikes (Spikformer's residual stream: sums of spikes), ``Attn`` a
    :class:`SpikingAttention` (default ``"ssa"``: :math:`\mathrm{LIF}_{0.5}(Q K^\top V s)`,
    ``s = 0.125``; ``"statten"`` plugs STAtten into Spikformer as in Lee et al., CVPR 2025). The
    block adds the residual (:class:`spiking.models.Spikformer`). With ``attention="ssa"``,
    ``qkv_bias=proj_bias=False`` this is the function of spikingjelly 2.0's
    ``layer.SpikingSelfAttention`` (``[T, B, C, N]`` layout there).

    Args:
        dim, num_heads, attention, chunk_size, scale, dvs_pool, qkv_bias, tau, surrogate: as
            :class:`SpikingAttention`.
        proj_bias: bias of the output projection (official Spikformer: ``True``).

    Shapes:
        ``x [T, B, N, D] -> [T, B, N, D]`` binary; ``hw=(H, W)`` as :class:`SpikingAttention`.
    """

    def __init__(
        self,
        dim: int,
        num_heads: int = 8,
        attention: str = "ssa",
        chunk_size: int = 2,
        scale: float | str | None = None,
        dvs_pool: bool = False,
        qkv_bias: bool = False,
        proj_bias: bool = True,
        tau: float = 2.0,
        surrogate: str = "sigmoid",
    ) -> None:
        super().__init__()
        self._init_attention(
            dim, num_heads, attention, chunk_size, scale, dvs_pool, qkv_bias, proj_bias, tau, surrogate
        )
        self.proj = nn.Linear(dim, dim, bias=self.proj_bias)
        self.proj_bn = nn.BatchNorm1d(dim)
        self.proj_lif = LIF(tau=tau, surrogate=surrogate, detach_reset=True, step_mode="m")
        self.reset_parameters()

    @classmethod
    def from_spikingjelly(cls, layer: nn.Module) -> SpikingSelfAttention:
        """Our module computing the same function as spikingjelly 2.0's ``layer.SpikingSelfAttention``
        ``layer`` (weights and batch-norm state copied; default LIF neurons: tau 2, ``detach_reset``)."""
        C = layer.dim
        conv, bn = layer.qkv_conv_bn[0], layer.qkv_conv_bn[1]
        pconv = layer.proj_conv_bn[0]
        ours = cls(
            C,
            layer.num_heads,
            "ssa",
            scale=layer.scale,
            qkv_bias=conv.bias is not None,
            proj_bias=pconv.bias is not None,
        )
        ours.to(conv.weight.dtype)  # before copying, so nothing is rounded
        _copy_linear_bn(ours.attn.qkv.proj, ours.attn.qkv.bn, conv, bn)
        _copy_linear_bn(ours.proj, ours.proj_bn, pconv, layer.proj_conv_bn[1])
        return ours

    def forward(self, x: Tensor, hw: tuple[int, int] | None = None) -> Tensor:
        check_tokens("SpikingSelfAttention", x)
        T, B, N, D = x.shape
        a = self.attn(x, hw)  # [T, B, N, D]
        return self.proj_lif(self.proj_bn(self.proj(a.reshape(T * B * N, D))).view(T, B, N, D))  # [T, B, N, D]
