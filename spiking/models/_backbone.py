"""What Spikformer and the Spike-driven Transformer share: the LIF they use, the MLP's init, the
block's and the backbone's hyperparameters, ``forward`` and ``extra_repr``."""

from __future__ import annotations

from torch import Tensor, nn

from spiking.neurons import LIF


def multistep_lif(tau: float, surrogate: str) -> LIF:
    """The LIF of both backbones: multi-step, ``detach_reset`` (as the official code)."""
    return LIF(tau=tau, surrogate=surrogate, detach_reset=True, step_mode="m")


class _MLP(nn.Module):
    """Base of the two-layer MLPs (``fc1, bn1, fc2, bn2`` made by the subclass)."""

    fc1: nn.Linear
    fc2: nn.Linear
    bn1: nn.BatchNorm1d
    bn2: nn.BatchNorm1d

    def reset_parameters(self) -> None:
        for fc, bn in ((self.fc1, self.bn1), (self.fc2, self.bn2)):
            nn.init.trunc_normal_(fc.weight, std=0.02)  # official _init_weights for Linear
            nn.init.zeros_(fc.bias)
            bn.reset_parameters()

    def extra_repr(self) -> str:
        return f"dim={self.dim}, hidden={self.hidden}, tau={self.tau}, surrogate={self.surrogate!r}"


class _Block(nn.Module):
    """Base of the encoder blocks: an attention sub-layer ``attn`` (of the subclass's ``attn_cls``)
    and an MLP ``mlp`` (of its ``mlp_cls``)."""

    attn_cls: type[nn.Module]
    mlp_cls: type[nn.Module]

    def _init_block(
        self,
        dim: int,
        num_heads: int,
        mlp_ratio: float,
        attention: str,
        chunk_size: int,
        scale: float | str | None,
        dvs_pool: bool,
        tau: float,
        surrogate: str,
    ) -> None:
        self.dim, self.num_heads, self.mlp_ratio = dim, num_heads, mlp_ratio
        self.attn = self.attn_cls(dim, num_heads, attention, chunk_size, scale, dvs_pool, tau=tau, surrogate=surrogate)
        self.mlp = self.mlp_cls(dim, int(dim * mlp_ratio), tau, surrogate)

    def reset_parameters(self) -> None:
        self.attn.reset_parameters()
        self.mlp.reset_parameters()

    def extra_repr(self) -> str:
        return f"dim={self.dim}, num_heads={self.num_heads}, mlp_ratio={self.mlp_ratio}"


class _Backbone(nn.Module):
    """Base of the two backbones: hyperparameters, ``forward`` (mean over T of the subclass's
    ``forward_seq``) and ``extra_repr``."""

    def _init_backbone(
        self,
        name: str,
        in_channels: int,
        num_classes: int,
        embed_dim: int,
        num_heads: int,
        depth: int,
        mlp_ratio: float,
        pooling: str,
        attention: str,
        chunk_size: int,
        scale: float | str | None,
        dvs_pool: bool,
        tau: float,
        surrogate: str,
    ) -> None:
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
            raise ValueError(f"{name}: depth must be a positive int (got {depth!r})")
        self.in_channels, self.num_classes, self.embed_dim, self.num_heads = (
            in_channels,
            num_classes,
            embed_dim,
            num_heads,
        )
        self.depth, self.mlp_ratio, self.pooling, self.attention = depth, mlp_ratio, pooling, attention
        self.chunk_size, self.scale, self.dvs_pool, self.tau, self.surrogate = (
            chunk_size,
            scale,
            dvs_pool,
            tau,
            surrogate,
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.forward_seq(x).mean(0)  # [B, K]

    def extra_repr(self) -> str:
        return (
            f"in_channels={self.in_channels}, num_classes={self.num_classes}, embed_dim={self.embed_dim}, "
            f"num_heads={self.num_heads}, depth={self.depth}, mlp_ratio={self.mlp_ratio}, pooling={self.pooling!r}, "
            f"attention={self.attention!r}, chunk_size={self.chunk_size}, scale={self.scale!r}, "
            f"dvs_pool={self.dvs_pool}, tau={self.tau}, surrogate={self.surrogate!r}"
        )
