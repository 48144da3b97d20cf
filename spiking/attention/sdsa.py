"""The attention sub-layer of the Spike-driven Transformer v1 (membrane shortcut)."""

from __future__ import annotations

from torch import Tensor, nn

from spiking.neurons import LIF

from ._sublayer import _ProjectedAttention
from .functional import check_tokens
from .qkv import _copy_linear_bn

__all__ = ["SpikeDrivenSelfAttention"]


class SpikeDrivenSelfAttention(_ProjectedAttention):
    r"""Spike-driven self-attention with a membrane shortcut (SDT v1 ``MS_SSA_Conv``; STAtten).

    .. math::
        S = \mathrm{LIF}(U),\qquad U' = \mathrm{BN}\big(\mathrm{Attn}(S)\,W_O + b_O\big) + U

    ``U`` is the real-valued membrane stream of the MS block (Yao et al., NeurIPS 2023, Eq. 5),
    ``Attn`` a :class:`SpikingAttention` in any mode (default ``"sdt"``: the Spike-driven
    Transformer; ``"statten"``: STAtten's block-wise spatial-temporal attention, Lee et al.,
    CVPR 2025). With ``attention="sdt"`` and ``dvs_pool=False`` this is the function of
    spikingjelly 2.0's ``layer.SpikeDrivenSelfAttention`` (``[T, B, C, H, W]`` layout there).

    Args:
        dim, num_heads, attention, chunk_size, scale, dvs_pool, qkv_bias, tau, surrogate: as
            :class:`SpikingAttention`.
        proj_bias: bias of the output projection (official: ``True``).

    Shapes:
        ``u [T, B, N, D]`` (real) -> ``[T, B, N, D]`` (real); ``hw=(H, W)`` as :class:`SpikingAttention`.
    """

    def __init__(
        self,
        dim: int,
        num_heads: int = 8,
        attention: str = "sdt",
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
        self.shortcut_lif = LIF(tau=tau, surrogate=surrogate, detach_reset=True, step_mode="m")
        self.proj = nn.Linear(dim, dim, bias=self.proj_bias)
        self.proj_bn = nn.BatchNorm1d(dim)
        self.reset_parameters()

    @classmethod
    def from_spikingjelly(cls, layer: nn.Module) -> SpikeDrivenSelfAttention:
        """Our module computing the same function as spikingjelly 2.0's
        ``layer.SpikeDrivenSelfAttention`` ``layer`` (its weights, biases and batch-norm state
        copied; its neurons must be spikingjelly's default LIF: tau 2, ``detach_reset``)."""
        C = layer.dim
        ours = cls(C, layer.num_heads, "sdt", proj_bias=layer.proj_conv.bias is not None)
        ours.to(layer.q_conv.weight.dtype)  # before copying, so nothing is rounded
        ours.attn.qkv.load_separate(
            [layer.q_conv.weight, layer.k_conv.weight, layer.v_conv.weight], [layer.q_bn, layer.k_bn, layer.v_bn]
        )
        _copy_linear_bn(ours.proj, ours.proj_bn, layer.proj_conv, layer.proj_bn)
        return ours

    def forward(self, u: Tensor, hw: tuple[int, int] | None = None) -> Tensor:
        check_tokens("SpikeDrivenSelfAttention", u, "u")
        T, B, N, D = u.shape
        a = self.attn(self.shortcut_lif(u), hw)  # [T, B, N, D]
        return self.proj_bn(self.proj(a.reshape(T * B * N, D))).view(T, B, N, D) + u  # [T, B, N, D]
