r"""Spiking transformers as sequences of layers for :mod:`sampling.pipeline`.

:func:`transformer_layers` turns a :class:`~spiking.models.SpikeDrivenTransformer` or
:class:`~spiking.models.Spikformer` into ``[patch embedding, block 1, ..., block depth, head]``,
modules that share the model's parameters, so the pipelined model and the model itself are the
same network: split the list with :func:`sampling.pipeline.split_by_count` or ``split_by_cost``
and hand the stages to :class:`sampling.pipeline.PipelineDriver`.

Micro-batches are slices of the batch (dimension 1 of the time-major ``[T, B, ...]`` input). Neurons
keep their membrane potential between calls, so every stage must be reset before each
micro-batch: pass :func:`reset_neurons` as the driver's ``hook`` (without it the second
micro-batch would start from the first one's potential, or fail on a batch-size change).

BatchNorm layers normalise each micro-batch with its own statistics in training mode (as in
every pipeline or gradient-accumulation setup); in eval mode the pipelined model equals the
whole-batch one exactly.
"""

from __future__ import annotations

import torch
from spikingjelly.activation_based import functional
from torch import Tensor, nn

from .sdt import SpikeDrivenTransformer
from .spikformer import Spikformer

__all__ = ["EncoderLayer", "HeadLayer", "PatchEmbedLayer", "reset_neurons", "transformer_layers"]


class PatchEmbedLayer(nn.Module):
    """The spiking patch splitting stem as a layer: frames ``[T, B, C, H, W]`` -> tokens ``[T, B, N, D]``."""

    def __init__(self, patch_embed: nn.Module) -> None:
        super().__init__()
        self.patch_embed = patch_embed

    def forward(self, x: Tensor) -> Tensor:
        return self.patch_embed(x)[0]


class EncoderLayer(nn.Module):
    """One encoder block with its token grid fixed: ``[T, B, N, D] -> [T, B, N, D]``."""

    def __init__(self, block: nn.Module, hw: tuple[int, int]) -> None:
        super().__init__()
        self.block = block
        self.hw = tuple(hw)

    def forward(self, u: Tensor) -> Tensor:
        return self.block(u, self.hw)

    def extra_repr(self) -> str:
        return f"hw={self.hw}"


class HeadLayer(nn.Module):
    """Token mean, the optional head LIF (SDT), the classifier and the mean over time:
    ``[T, B, N, D] -> [B, num_classes]`` (the model's ``forward`` after its blocks)."""

    def __init__(self, head: nn.Linear, head_lif: nn.Module | None = None) -> None:
        super().__init__()
        self.head = head
        self.head_lif = head_lif

    def forward(self, u: Tensor) -> Tensor:
        z = u.mean(2)  # [T, B, D]
        if self.head_lif is not None:
            z = self.head_lif(z)
        return self.head(z).mean(0)  # [B, K]


def transformer_layers(model: nn.Module, image_size: tuple[int, int]) -> list[nn.Module]:
    """``[PatchEmbedLayer, EncoderLayer x depth, HeadLayer]`` sharing ``model``'s parameters.

    Args:
        model: a :class:`~spiking.models.SpikeDrivenTransformer` or :class:`~spiking.models.Spikformer`.
        image_size: input ``(H, W)``; fixes the token grid the attention blocks are given.

    Raises:
        TypeError: another model type.
    """
    if not isinstance(model, (SpikeDrivenTransformer, Spikformer)):
        raise TypeError(
            f"transformer_layers: model must be a SpikeDrivenTransformer or Spikformer (got {type(model).__name__})"
        )
    p = next(model.parameters())
    with torch.no_grad():  # one frame through the stem gives the token grid; neurons reset afterwards
        _, hw = model.patch_embed(torch.zeros(1, 1, model.in_channels, *image_size, dtype=p.dtype, device=p.device))
    functional.reset_net(model)
    return [
        PatchEmbedLayer(model.patch_embed),
        *(EncoderLayer(b, hw) for b in model.blocks),
        HeadLayer(model.head, getattr(model, "head_lif", None)),
    ]


def reset_neurons(module: nn.Module, stage_index: int, microbatch_index: int) -> None:
    """:data:`sampling.pipeline.MicrobatchHook` that resets every neuron of a stage before a micro-batch."""
    functional.reset_net(module)
