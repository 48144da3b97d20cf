"""Learnable synaptic delays (DCLS along time, Hammouamri et al., ICLR 2024) and the paper's networks.

- :class:`DelayLinear`: one weight and one learnable delay per synapse, Gaussian / triangle /
  bilinear interpolation (:func:`delay_kernel`), rounded integer delays for evaluation with a fast
  path that never builds the dense kernel (:func:`integer_delay_linear`).
- :class:`SigmaSchedule`, :func:`delay_param_groups`, :func:`integer_delays`, :func:`round_delays`,
  :func:`set_sigma`, :func:`clamp_positions`: the training recipe's pieces.
- :class:`DelaySNN` (delay -> BN -> LIF -> dropout, leaky read-out), :func:`sum_softmax_loss`,
  :data:`RECIPES` (SHD, SSC, the synthetic task), :func:`train_epoch`, :func:`evaluate`.
- Data: :class:`AudioFrames` (SHD/SSC in 10 ms frames, 140 channels), :func:`pad_collate`,
  :func:`delay_task` / :class:`DelayTask` (a task that needs delays).
"""

from .data import AudioFrames, audio_frames, pad_collate
from .dense import delay_conv
from .integer import integer_delay_linear, integer_delay_linear_reference
from .kernel import INTERPOLATIONS, delay_kernel, integer_delay_kernel, position_limits
from .layer import DelayLinear
from .loss import sum_softmax_loss, sum_softmax_predict, summed_softmax
from .network import DelaySNN
from .readout import MembraneReadout
from .recipe import DELAY_MODES, RECIPES, DelayRecipe, get_recipe
from .schedule import SigmaSchedule
from .task import DelayTask, delay_task
from .tools import (
    clamp_positions,
    delay_layers,
    delay_param_groups,
    integer_delays,
    round_delays,
    set_sigma,
)
from .train import evaluate, train_epoch

__all__ = [
    "DELAY_MODES",
    "INTERPOLATIONS",
    "RECIPES",
    "AudioFrames",
    "DelayLinear",
    "DelayRecipe",
    "DelaySNN",
    "DelayTask",
    "MembraneReadout",
    "SigmaSchedule",
    "audio_frames",
    "clamp_positions",
    "delay_conv",
    "delay_kernel",
    "delay_layers",
    "delay_param_groups",
    "delay_task",
    "evaluate",
    "get_recipe",
    "integer_delay_kernel",
    "integer_delay_linear",
    "integer_delay_linear_reference",
    "integer_delays",
    "pad_collate",
    "position_limits",
    "round_delays",
    "set_sigma",
    "sum_softmax_loss",
    "sum_softmax_predict",
    "summed_softmax",
    "train_epoch",
]
