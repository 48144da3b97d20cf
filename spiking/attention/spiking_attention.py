"""Multi-head spiking attention with the modes ``"sdt"``, ``"ssa"`` and ``"statten"``."""

from __future__ import annotations

from torch import Tensor, nn

from spiking.neurons import LIF

from .functional import (
    ATTENTION_MODES,
    blockwise_attention,
    check_chunk,
    check_heads,
    check_tokens,
    resolve_scale,
    token_sum,
)
from .pool import check_hw, token_max_pool
from .qkv import SpikingQKV

__all__ = ["SpikingAttention"]

_DEFAULT_SCALE = {"sdt": None, "ssa": 0.125, "statten": "static"}


class SpikingAttention(nn.Module):
    r"""Spike-driven Q/K/V followed by one of three softmax-free attention modes.

    With :math:`Q, K, V = \mathrm{LIF}(\mathrm{BN}(X W))` (:class:`SpikingQKV`), binary ``[T, B, N, D]``:

    * ``"sdt"`` -- Spike-driven Transformer v1 (Yao et al., NeurIPS 2023, Eq. 12-14; STAtten's
      ``attention_mode="SDT"``): :math:`O = Q \odot \mathrm{LIF}_{0.5}\big(\sum_n K \odot V\big)`,
      per channel, so heads play no role; the output is binary.
    * ``"ssa"`` -- Spikformer's spiking self-attention (Zhou et al., ICLR 2023):
      :math:`O = \mathrm{LIF}_{0.5}(Q K^\top V s)` per step and head, computed as
      :math:`Q (K^\top V)`; ``s`` defaults to 0.125.
    * ``"statten"`` -- STAtten (Lee et al., CVPR 2025): the same product over chunks of ``c``
      steps whose ``(c, N)`` tokens are merged (:func:`~spiking.attention.functional.blockwise_attention`),
      :math:`O = \mathrm{LIF}_{0.5}(Q_j (K_j^\top V_j) s)`; ``c = 1`` is the ``"ssa"`` product.
      ``scale="static"`` (default) is ``s = 1/H`` (token-map height), ``"event"`` is
      ``s = 1/(N c)`` (the official DVS setting); a number is used as is.

    :math:`\mathrm{LIF}_{0.5}` is a LIF with threshold 0.5 (``attn_lif``; SDT's "talking-heads" LIF).
    ``dvs_pool=True`` is the DVS variant of the official code: Q, K and V go through a 3 x 3
    stride-1 spatial max-pool (:func:`~spiking.attention.pool.token_max_pool`) and, in ``"statten"``
    mode, :math:`O \leftarrow O \odot P + P` with :math:`P` the pooled input spikes.

    Args:
        dim: ``D``; num_heads: ``h`` (must divide ``D``).
        attention: ``"sdt" | "ssa" | "statten"``.
        chunk_size: ``c`` for ``"statten"`` (must divide ``T``; the official default is 2).
        scale: ``None`` (the mode's default), ``"static"``, ``"event"`` or a float (not used by ``"sdt"``).
        dvs_pool: the DVS max-pool variant (needs ``hw`` in :meth:`forward`).
        qkv_bias: bias of the Q/K/V projections.
        tau, attn_v_threshold, surrogate: LIF time constant, threshold of ``attn_lif``, surrogate.

    Shapes:
        ``x [T, B, N, D]`` (spikes; ``hw=(H, W)`` with ``H W = N`` for ``dvs_pool`` or a non-square
        ``"static"`` scale) -> ``[T, B, N, D]``.

    Raises:
        ValueError: unknown mode, ``num_heads`` not dividing ``D``, ``chunk_size`` not dividing ``T``,
        input not ``[T, B, N, D]``.

    Differences from the official code (STAtten ``module/ms_conv.py::MS_SSA_Conv``): token-major
    tensors and a fused Q/K/V projection; the DVS variant pools Q, K, V on the spatial map but
    not the SDT-mode ``kv`` and ``q * kv`` tensors, which the official code passes through the
    same ``MaxPool3d`` in ``[T, B, heads, N, d]`` layout (pooling over token index and channel
    rather than space); ``scale="event"`` uses ``N`` where the official code uses ``H * H``.
    """

    def __init__(
        self,
        dim: int,
        num_heads: int = 8,
        attention: str = "statten",
        chunk_size: int = 2,
        scale: float | str | None = None,
        dvs_pool: bool = False,
        qkv_bias: bool = False,
        tau: float = 2.0,
        attn_v_threshold: float = 0.5,
        surrogate: str = "sigmoid",
    ) -> None:
        super().__init__()
        self.head_dim = check_heads("SpikingAttention", dim, num_heads)
        if attention not in ATTENTION_MODES:
            raise ValueError(f"SpikingAttention: attention must be one of {ATTENTION_MODES} (got {attention!r})")
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size <= 0:
            raise ValueError(f"SpikingAttention: chunk_size must be a positive int (got {chunk_size!r})")
        if not (
            scale is None
            or scale in ("static", "event")
            or (isinstance(scale, (int, float)) and not isinstance(scale, bool))
        ):
            raise ValueError(f"SpikingAttention: scale must be None, 'static', 'event' or a number (got {scale!r})")
        self.dim, self.num_heads, self.attention, self.chunk_size = dim, num_heads, attention, chunk_size
        self.scale = _DEFAULT_SCALE[attention] if scale is None else scale
        self.dvs_pool, self.qkv_bias, self.tau = bool(dvs_pool), bool(qkv_bias), tau
        self.attn_v_threshold, self.surrogate = attn_v_threshold, surrogate
        self.qkv = SpikingQKV(dim, qkv_bias, tau, surrogate=surrogate, detach_reset=True)
        self.attn_lif = LIF(
            tau=tau, v_threshold=attn_v_threshold, surrogate=surrogate, detach_reset=True, step_mode="m"
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.qkv.reset_parameters()

    def scale_value(self, N: int, hw: tuple[int, int] | None = None) -> float | None:
        """The numeric ``s`` for ``N`` tokens (``None`` in ``"sdt"`` mode)."""
        if self.attention == "sdt":
            return None
        c = self.chunk_size if self.attention == "statten" else 1
        return resolve_scale("SpikingAttention", self.scale, N, c, hw)

    def forward(self, x: Tensor, hw: tuple[int, int] | None = None) -> Tensor:
        check_tokens("SpikingAttention", x)
        T, _, N, D = x.shape
        if D != self.dim:
            raise ValueError(f"SpikingAttention: expected D={self.dim} channels (got x of shape {tuple(x.shape)})")
        c = self.chunk_size if self.attention == "statten" else 1
        check_chunk("SpikingAttention", T, c)
        scale = self.scale_value(N, hw)
        if self.dvs_pool:
            check_hw("SpikingAttention", hw, N)
        q, k, v = self.qkv(x)  # 3 x [T, B, N, D]
        if self.dvs_pool:
            q, k, v = (token_max_pool(t, hw) for t in (q, k, v))
        if self.attention == "sdt":
            kv = self.attn_lif(token_sum(k * v))  # [T, B, 1, D]
            return q * kv  # [T, B, N, D]
        out = self.attn_lif(blockwise_attention(q, k, v, self.num_heads, c, scale))  # [T, B, N, D]
        if self.dvs_pool and self.attention == "statten":
            pooled = token_max_pool(x, hw)  # [T, B, N, D]
            out = out * pooled + pooled
        return out

    def extra_repr(self) -> str:
        return (
            f"dim={self.dim}, num_heads={self.num_heads}, attention={self.attention!r}, "
            f"chunk_size={self.chunk_size}, scale={self.scale!r}, dvs_pool={self.dvs_pool}, "
            f"qkv_bias={self.qkv_bias}, tau={self.tau}, attn_v_threshold={self.attn_v_threshold}, "
            f"surrogate={self.surrogate!r}"
        )
