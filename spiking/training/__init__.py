"""Training of spiking classifiers: the supervised loop, firing-rate monitoring, time-major batching."""

from spiking.training.data import random_subset, time_major_collate
from spiking.training.monitor import FiringRateMonitor
from spiking.training.trainer import SNNClassifierTrainer, SNNTrainConfig

__all__ = ["FiringRateMonitor", "SNNClassifierTrainer", "SNNTrainConfig", "random_subset", "time_major_collate"]
