"""Spike-driven query, key and value: ``LIF(BN(X W))`` for the three projections in one pass."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from spiking.neurons import LIF

from .functional import check_heads, check_tokens

__all__ = ["SpikingQKV"]


@torch.no_grad()
def _copy_linear_bn(linear: nn.Linear, bn: nn.BatchNorm1d, conv: nn.Module, conv_bn: nn.Module) -> None:
    """Copy a 1 x 1 convolution (+ its batch norm) into a linear layer (+ batch norm)."""
    linear.weight.copy_(conv.weight.reshape(linear.weight.shape))
    if linear.bias is not None:
        linear.bias.copy_(conv.bias)
    for name in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked"):
        getattr(bn, name).copy_(getattr(conv_bn, name))


class SpikingQKV(nn.Module):
    r"""Spike-driven Q, K, V of Spikformer / Spike-driven Transformer / STAtten.

    .. math::
        [Q\;K\;V] = \mathrm{LIF}\big(\mathrm{BN}(X\,[W_Q\;W_K\;W_V])\big),\qquad
        X \in \mathbb{R}^{T\times B\times N\times D}

    One linear map ``D -> 3D`` (a 1 x 1 convolution on the token map is the same map), batch
    norm over the ``3D`` channels (statistics over ``T, B, N``), and one multi-step LIF
    (``tau`` 2, hard reset to 0, ``detach_reset``, sigmoid surrogate with alpha 4: the official
    ``MultiStepLIFNode(tau=2.0, detach_reset=True)``).

    Args:
        dim: ``D``.
        bias: bias of the projections (official code: ``False``).
        tau, v_threshold, surrogate, detach_reset: the LIF (see :class:`spiking.neurons.LIF`).

    Shapes:
        ``x [T, B, N, D] -> (q, k, v)``, each ``[T, B, N, D]`` binary, views of one ``[T, B, N, 3D]`` tensor.

    Differences from the official code: the three ``Conv2d(D, D, 1)`` + ``BatchNorm2d`` + LIF
    triples run as one fused linear + one batch norm + one LIF call on token-major tensors (the
    same function, per channel; :meth:`load_separate` copies weights from three separate layers).
    """

    def __init__(
        self,
        dim: int,
        bias: bool = False,
        tau: float = 2.0,
        v_threshold: float = 1.0,
        surrogate: str = "sigmoid",
        detach_reset: bool = True,
    ) -> None:
        super().__init__()
        check_heads("SpikingQKV", dim, 1)
        self.dim, self.bias, self.tau, self.v_threshold = dim, bool(bias), tau, v_threshold
        self.surrogate, self.detach_reset = surrogate, detach_reset
        self.proj = nn.Linear(dim, 3 * dim, bias=self.bias)
        self.bn = nn.BatchNorm1d(3 * dim)
        self.lif = LIF(tau=tau, v_threshold=v_threshold, surrogate=surrogate, detach_reset=detach_reset, step_mode="m")
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.trunc_normal_(self.proj.weight, std=0.02)  # official _init_weights for the 1x1 convs
        if self.proj.bias is not None:
            nn.init.zeros_(self.proj.bias)
        self.bn.reset_parameters()

    @torch.no_grad()
    def load_separate(
        self,
        weights: list[Tensor],
        bns: list[nn.BatchNorm1d | nn.BatchNorm2d],
        biases: list[Tensor | None] | None = None,
    ) -> None:
        """Copy three separate projections (``[D, D]`` or ``[D, D, 1, 1]`` conv weights, in Q, K, V
        order), their batch norms (weights, biases, running statistics) and optional biases."""
        if len(weights) != 3 or len(bns) != 3:
            raise ValueError(
                f"SpikingQKV.load_separate: expected 3 weights and 3 batch norms (got {len(weights)}, {len(bns)})"
            )
        D = self.dim
        for i, (w, bn) in enumerate(zip(weights, bns)):
            self.proj.weight[i * D : (i + 1) * D] = w.reshape(D, D)
            for name in ("weight", "bias", "running_mean", "running_var"):
                getattr(self.bn, name)[i * D : (i + 1) * D] = getattr(bn, name)
            if biases is not None and self.proj.bias is not None and biases[i] is not None:
                self.proj.bias[i * D : (i + 1) * D] = biases[i]

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        check_tokens("SpikingQKV", x)
        T, B, N, D = x.shape
        if D != self.dim:
            raise ValueError(f"SpikingQKV: expected D={self.dim} channels (got x of shape {tuple(x.shape)})")
        h = self.bn(self.proj(x.reshape(T * B * N, D)))  # [T*B*N, 3D]
        s = self.lif(h.view(T, B, N, 3 * D))  # [T, B, N, 3D]
        q, k, v = s.split(D, dim=-1)  # 3 x [T, B, N, D]; split's backward is one cat (slices: 3 fills)
        return q, k, v

    def extra_repr(self) -> str:
        return (
            f"dim={self.dim}, bias={self.bias}, tau={self.tau}, v_threshold={self.v_threshold}, "
            f"surrogate={self.surrogate!r}, detach_reset={self.detach_reset}"
        )
