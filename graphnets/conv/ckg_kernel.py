r"""The continuous kernel :math:`\psi`: an MLP from pair embeddings to per-channel kernel values.

ResNet-v2 style, as the official ``CKGConv.blocks`` with ``batch_norm: True``:

.. math::
    z \leftarrow z + \mathrm{Drop}\big(W_2\, \sigma(\mathrm{BN}(W_1\, \sigma(\mathrm{BN}(z))))\big)
    \quad (\times\ n\_blocks), \qquad \psi = W_o\, \mathrm{BN}(z).

The output has one value per channel (official ``num_heads = dim``, head dimension 1), i.e. a
*depthwise* kernel. There is no softmax and no clamp, so kernel values may be negative: CKGConv
is a general (sign-changing) filter, not attention.

Differences from the official code: plain ``nn.Sequential`` instead of the PyG ``Sequential``
string DSL; the truncated-normal init (std 0.02, zero bias) is the same.
"""

from __future__ import annotations

from torch import Tensor, nn

__all__ = ["KernelMLP"]


class _ResBlock(nn.Module):
    def __init__(self, dim: int, dropout: float, act: type[nn.Module]) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.BatchNorm1d(dim),
            act(),
            nn.Linear(dim, dim),
            nn.BatchNorm1d(dim),
            act(),
            nn.Linear(dim, dim),
            nn.Dropout(dropout) if dropout > 0 else nn.Identity(),
        )

    def forward(self, z: Tensor) -> Tensor:
        return z + self.body(z)


class KernelMLP(nn.Module):
    """Kernel MLP ``[P, dim] -> [P, dim]`` (one kernel value per pair and channel).

    Args:
        dim: pair-embedding width = number of channels.
        num_blocks: residual blocks (official: 2).
        dropout: dropout inside the blocks (official ``mlp_dropout``, ZINC 0.1).
        act: activation class (official GELU).
    """

    def __init__(self, dim: int, num_blocks: int = 2, dropout: float = 0.1, act: type[nn.Module] = nn.GELU) -> None:
        super().__init__()
        if num_blocks < 0:
            raise ValueError(f"KernelMLP: num_blocks must be >= 0 (got {num_blocks})")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"KernelMLP: dropout must be in [0, 1) (got {dropout})")
        self.dim, self.num_blocks, self.dropout, self.act = dim, num_blocks, dropout, act
        self.blocks = nn.Sequential(*[_ResBlock(dim, dropout, act) for _ in range(num_blocks)])
        self.out_norm = nn.BatchNorm1d(dim)
        self.out = nn.Linear(dim, dim)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm1d):
                m.reset_parameters()

    def forward(self, pair_emb: Tensor) -> Tensor:
        return self.out(self.out_norm(self.blocks(pair_emb)))  # [P, dim]

    def extra_repr(self) -> str:
        return f"dim={self.dim}, num_blocks={self.num_blocks}, dropout={self.dropout}"
