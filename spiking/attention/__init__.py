"""Spiking self-attention: spike-driven Q/K/V and the modes SDT, SSA (Spikformer) and STAtten.

Time-major token tensors ``[T, B, N, D]`` throughout. :class:`SpikingAttention` is the core
(Q/K/V + attention mode + LIF); :class:`SpikeDrivenSelfAttention` (Spike-driven Transformer
v1, membrane shortcut) and :class:`SpikingSelfAttention` (Spikformer) are the sub-layers of the
two backbones in :mod:`spiking.models`; :mod:`spiking.attention.functional` holds the pure ops
(block-wise spatial-temporal attention and its dense reference).
"""

from .functional import ATTENTION_MODES, blockwise_attention, blockwise_attention_dense, token_sum
from .pool import token_max_pool
from .qkv import SpikingQKV
from .sdsa import SpikeDrivenSelfAttention
from .spiking_attention import SpikingAttention
from .ssa import SpikingSelfAttention

__all__ = [
    "ATTENTION_MODES",
    "SpikeDrivenSelfAttention",
    "SpikingAttention",
    "SpikingQKV",
    "SpikingSelfAttention",
    "blockwise_attention",
    "blockwise_attention_dense",
    "token_max_pool",
    "token_sum",
]
