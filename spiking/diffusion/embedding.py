r"""Sinusoidal diffusion-step embedding followed by an MLP (DDPM; SDDPM's ``TimeEmbedding``)."""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["TimeEmbedding", "sinusoidal_embedding"]


def sinusoidal_embedding(num_steps: int, dim: int) -> torch.Tensor:
    r"""Table ``[num_steps, dim]``: row :math:`t` holds, for :math:`i < d/2` and
    :math:`\omega_i = 10000^{-2i/d}`, :math:`\sin(t\omega_i)` at column :math:`2i` and
    :math:`\cos(t\omega_i)` at :math:`2i+1` (interleaved, as the official SDDPM/pytorch-ddpm code;
    the original Transformer concatenates the halves instead)."""
    if isinstance(dim, bool) or not isinstance(dim, int) or dim < 2 or dim % 2:
        raise ValueError(f"sinusoidal_embedding: dim must be an even int >= 2 (got {dim!r})")
    freqs = torch.exp(-torch.arange(0, dim, 2, dtype=torch.float64) / dim * math.log(10000.0))  # [d/2]
    angles = torch.arange(num_steps, dtype=torch.float64)[:, None] * freqs[None, :]  # [T, d/2]
    return torch.stack([angles.sin(), angles.cos()], dim=-1).reshape(num_steps, dim).float()  # [T, d]


class TimeEmbedding(nn.Module):
    r""":math:`e(t) = W_2\,\mathrm{SiLU}(W_1\,\mathrm{PE}(t) + b_1) + b_2`: step ``t`` (long [B]) -> ``[B, dim]``.

    ``PE`` is the fixed :func:`sinusoidal_embedding` of width ``d_model``; ``dim = 4 d_model`` in
    SDDPM. Xavier-uniform weights, zero biases (as the official code).
    """

    def __init__(self, num_steps: int, d_model: int, dim: int) -> None:
        super().__init__()
        self.num_steps, self.d_model, self.dim = num_steps, d_model, dim
        self.register_buffer("table", sinusoidal_embedding(num_steps, d_model), persistent=False)
        self.mlp = nn.Sequential(nn.Linear(d_model, dim), nn.SiLU(), nn.Linear(dim, dim))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for m in self.mlp:
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        return self.mlp(self.table[t])  # [B, dim]

    def extra_repr(self) -> str:
        return f"num_steps={self.num_steps}, d_model={self.d_model}, dim={self.dim}"
