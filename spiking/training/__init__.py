"""Training of spiking classifiers: the supervised loops (mean-logit and per-step/TET), firing rates, batching."""

from spiking.training.data import random_subset, time_major_collate, warm_frames
from spiking.training.monitor import FiringRateMonitor
from spiking.training.sequence import run_sequence_epoch
from spiking.training.trainer import SNNClassifierTrainer, SNNTrainConfig
from spiking.training.transformer_trainer import SpikingTransformerTrainer

__all__ = [
    "FiringRateMonitor",
    "SNNClassifierTrainer",
    "SNNTrainConfig",
    "SpikingTransformerTrainer",
    "random_subset",
    "run_sequence_epoch",
    "time_major_collate",
    "warm_frames",
]
