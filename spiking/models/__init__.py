"""Spiking network models: conv/MLP SNNs and spiking transformers (Spike-driven Transformer v1, Spikformer)."""

from .conv_snn import SpikingConvNet
from .frame_resize import FrameResize
from .mlp_snn import SpikingMLP
from .pipeline import EncoderLayer, HeadLayer, PatchEmbedLayer, reset_neurons, transformer_layers
from .sdt import MSMLP, MSBlock, SpikeDrivenTransformer
from .spikformer import Spikformer, SpikformerBlock, SpikformerMLP
from .sps import SpikingPatchSplitting
from .tet import tet_loss
from .transformer_config import TRANSFORMER_CONFIGS, SpikingTransformerConfig, get_transformer_config

__all__ = [
    "MSMLP",
    "TRANSFORMER_CONFIGS",
    "EncoderLayer",
    "FrameResize",
    "HeadLayer",
    "MSBlock",
    "PatchEmbedLayer",
    "SpikeDrivenTransformer",
    "Spikformer",
    "SpikformerBlock",
    "SpikformerMLP",
    "SpikingConvNet",
    "SpikingMLP",
    "SpikingPatchSplitting",
    "SpikingTransformerConfig",
    "get_transformer_config",
    "reset_neurons",
    "tet_loss",
    "transformer_layers",
]
