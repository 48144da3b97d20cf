r"""Pure attention ops of spiking transformers on time-major token tensors ``[T, B, N, D]``.

Symbols: ``T`` time steps, ``B`` batch, ``N`` tokens (``H x W`` patches), ``D`` channels,
``h`` heads of width ``d = D / h``, ``c`` the STAtten chunk size (``c`` divides ``T``).
``Q, K, V`` are binary spike tensors; nothing here owns parameters or neuron state.

* :func:`token_sum` -- :math:`\sum_n P[t, b, n, :]`, the spike-driven "mask and add" of the
  Spike-driven Transformer (Yao et al., NeurIPS 2023, Eq. 14).
* :func:`blockwise_attention` -- STAtten's block-wise spatial-temporal linear attention (Lee et
  al., CVPR 2025, arXiv 2409.19764): for chunk :math:`j` (steps :math:`jc .. jc+c-1`) and head
  :math:`h`, with the chunk's ``(c, N)`` axes merged into ``c N`` tokens,

  .. math::
      A_{j,h} = s\, K_{j,h}^\top V_{j,h} \in \mathbb{R}^{d\times d},\qquad
      O_{j,h} = Q_{j,h} A_{j,h} \in \mathbb{R}^{cN\times d}.

  Computing :math:`K^\top V` first costs :math:`O(T N d^2)` per head whatever ``c``; ``c = 1``
  is Spikformer's spatial-only :math:`Q K^\top V s` (Zhou et al., ICLR 2023).
* :func:`blockwise_attention_dense` -- the same output through the explicit
  ``(c N) x (c N)`` score matrix :math:`S = Q K^\top` (:math:`O(T c N^2 d)`); the executable
  specification the tests hold :func:`blockwise_attention` to.

Products are written as ``bmm`` so that :mod:`spiking.energy` counts them: ``K^T V`` and
``Q K^T`` as spike x spike accumulates, ``Q A`` as accumulates of the real ``A`` driven by the
spikes of ``Q``, and the token sum as ``1^T P`` (one addition per non-zero of ``P``).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = [
    "ATTENTION_MODES",
    "blockwise_attention",
    "blockwise_attention_dense",
    "check_chunk",
    "check_heads",
    "check_tokens",
    "resolve_scale",
    "token_sum",
]

#: the attention modes of :class:`spiking.attention.SpikingAttention`
ATTENTION_MODES = ("sdt", "ssa", "statten")


def check_tokens(fn: str, x: object, name: str = "x") -> Tensor:
    """Validate a time-major token tensor ``[T, B, N, D]`` (floating point); return it."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}: {name} must be a tensor [T, B, N, D] (got {type(x).__name__})")
    if x.dim() != 4:
        raise ValueError(f"{fn}: {name} must be time-major tokens [T, B, N, D] (got shape {tuple(x.shape)})")
    if not x.is_floating_point():
        raise TypeError(f"{fn}: {name} must be a floating-point tensor (got {x.dtype})")
    return x


def check_heads(fn: str, dim: int, num_heads: int) -> int:
    """``dim // num_heads`` after checking both are positive ints and ``num_heads`` divides ``dim``."""
    for key, value in (("dim", dim), ("num_heads", num_heads)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(f"{fn}: {key} must be a positive int (got {value!r})")
    if dim % num_heads:
        raise ValueError(f"{fn}: num_heads must divide the channel dimension D (got D={dim}, num_heads={num_heads})")
    return dim // num_heads


def check_chunk(fn: str, T: int, chunk_size: int) -> int:
    """The number of chunks ``T // chunk_size`` after checking that ``chunk_size`` divides ``T``."""
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size <= 0:
        raise ValueError(f"{fn}: chunk_size must be a positive int (got {chunk_size!r})")
    if T % chunk_size:
        raise ValueError(
            f"{fn}: chunk_size must divide the number of time steps T "
            f"(got T={T}, chunk_size={chunk_size}; valid: "
            f"{[c for c in range(1, T + 1) if T % c == 0]})"
        )
    return T // chunk_size


def resolve_scale(fn: str, scale: float | str, N: int, chunk_size: int, hw: tuple[int, int] | None) -> float:
    """STAtten's scale ``s``: a number as given, ``"event"`` -> ``1 / (N c)``, ``"static"`` -> ``1 / H``
    (the token-map height, from ``hw`` or ``sqrt(N)`` for a square map)."""
    if isinstance(scale, (int, float)) and not isinstance(scale, bool):
        return float(scale)
    if scale == "event":
        return 1.0 / (N * chunk_size)
    if scale == "static":
        if hw is not None:
            return 1.0 / hw[0]
        side = math.isqrt(N)
        if side * side != N:
            raise ValueError(
                f"{fn}: scale='static' is 1/H of the token map; pass hw=(H, W) for a non-square "
                f"map (got N={N} tokens and hw=None)"
            )
        return 1.0 / side
    raise ValueError(f"{fn}: scale must be a number, 'static' or 'event' (got {scale!r})")


def token_sum(p: Tensor) -> Tensor:
    """``[T, B, N, D] -> [T, B, 1, D]``: the sum over tokens, written as ``1^T P`` (a ``bmm``).

    For a binary ``P`` this is the spike-driven "addition" of SDT: one accumulate per non-zero
    entry, which is what :mod:`spiking.energy` charges for a spike x spike ``bmm``.
    """
    T, B, N, D = p.shape
    ones = p.new_ones(1, 1, N).expand(T * B, 1, N)  # [T*B, 1, N]
    return torch.bmm(ones, p.reshape(T * B, N, D)).view(T, B, 1, D)


def _to_chunks(x: Tensor, num_heads: int, chunk_size: int) -> Tensor:
    """``[T, B, N, D] -> [T/c * B * h, c N, d]``: chunk j's tokens ordered (step in chunk, token)."""
    T, B, N, D = x.shape
    J, d = T // chunk_size, D // num_heads
    x = x.reshape(J, chunk_size, B, N, num_heads, d)  # [J, c, B, N, h, d]
    return x.permute(0, 2, 4, 1, 3, 5).reshape(J * B * num_heads, chunk_size * N, d)  # [J*B*h, c*N, d]


def _from_chunks(o: Tensor, shape: torch.Size, num_heads: int, chunk_size: int) -> Tensor:
    """Inverse of :func:`_to_chunks`: ``[T/c * B * h, c N, d] -> [T, B, N, D]``."""
    T, B, N, D = shape
    J, d = T // chunk_size, D // num_heads
    o = o.view(J, B, num_heads, chunk_size, N, d)  # [J, B, h, c, N, d]
    return o.permute(0, 3, 1, 4, 2, 5).reshape(T, B, N, D)  # [T, B, N, D]


def _check_qkv(fn: str, q: Tensor, k: Tensor, v: Tensor, num_heads: int, chunk_size: int) -> None:
    for name, x in (("q", q), ("k", k), ("v", v)):
        check_tokens(fn, x, name)
    if not (q.shape == k.shape == v.shape):
        raise ValueError(
            f"{fn}: q, k and v must have the same shape [T, B, N, D] "
            f"(got {tuple(q.shape)}, {tuple(k.shape)}, {tuple(v.shape)})"
        )
    check_heads(fn, q.shape[-1], num_heads)
    check_chunk(fn, q.shape[0], chunk_size)


def blockwise_attention(q: Tensor, k: Tensor, v: Tensor, num_heads: int, chunk_size: int, scale: float) -> Tensor:
    r"""STAtten block-wise spatial-temporal attention (module docstring), linear in ``T`` and ``N``.

    Args:
        q, k, v: spikes ``[T, B, N, D]`` (any floating dtype; values are not checked to be binary).
        num_heads: ``h``, dividing ``D``.
        chunk_size: ``c``, dividing ``T``; ``1`` gives spatial-only attention (Spikformer's SSA product).
        scale: ``s``, multiplies :math:`K^\top V`.

    Returns:
        ``[T, B, N, D]`` real-valued (pre-LIF) attention output, in ``q``'s dtype and device.

    Raises:
        TypeError / ValueError: wrong rank or dtype, mismatched shapes, ``h`` not dividing ``D``,
        ``c`` not dividing ``T``.
    """
    _check_qkv("blockwise_attention", q, k, v, num_heads, chunk_size)
    kc, vc = _to_chunks(k, num_heads, chunk_size), _to_chunks(v, num_heads, chunk_size)  # [J*B*h, c*N, d]
    a = torch.bmm(kc.transpose(1, 2), vc) * scale  # [J*B*h, d, d]
    out = torch.bmm(_to_chunks(q, num_heads, chunk_size), a)  # [J*B*h, c*N, d]
    return _from_chunks(out, q.shape, num_heads, chunk_size)


def blockwise_attention_dense(q: Tensor, k: Tensor, v: Tensor, num_heads: int, chunk_size: int, scale: float) -> Tensor:
    r"""The reference of :func:`blockwise_attention`: materialises the ``(c N) x (c N)`` scores
    :math:`S_{j,h} = Q_{j,h} K_{j,h}^\top` of every chunk and head, then :math:`O = s\, S V`.

    Same arguments and result; memory and time :math:`O(T c N^2 d)` -- for tests and counting only.
    """
    _check_qkv("blockwise_attention_dense", q, k, v, num_heads, chunk_size)
    qc, kc, vc = (_to_chunks(x, num_heads, chunk_size) for x in (q, k, v))  # [J*B*h, c*N, d]
    scores = torch.bmm(qc, kc.transpose(1, 2))  # [J*B*h, c*N, c*N]
    out = torch.bmm(scores, vc) * scale  # [J*B*h, c*N, d]
    return _from_chunks(out, q.shape, num_heads, chunk_size)
