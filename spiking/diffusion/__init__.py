"""Spiking diffusion models (SDDPM, WACV 2024; SDM, IEEE TAI 2024) on graphspike's neurons.

:class:`SpikingUNet` (IF/LIF neurons, membrane read-out) and its ANN twin :class:`UNet`;
:class:`GaussianDiffusion` (DDPM, epsilon prediction) with DDPM and DDIM samplers; :class:`EMA`;
threshold guidance (:func:`threshold_shift`); SDM's temporal-wise mechanism (``tsm=True``);
energy of whole sampling runs (:func:`sampling_energy`); an offline FID (:class:`ClassifierFID`)
and the Inception FID through torch-fidelity (:func:`inception_fid`, optional).
"""

from .attention import SpikingSelfAttention2d
from .blocks import DownSample, ResBlock, UpSample
from .config import CPU_CONFIGS, PAPER_CONFIGS, SDDPMConfig
from .ema import EMA
from .embedding import TimeEmbedding, sinusoidal_embedding
from .energy import sampling_energy
from .feature_net import ClassifierFID, FIDClassifier, train_fid_classifier
from .fid import FeatureStatistics, feature_statistics, frechet_distance
from .gaussian import GaussianDiffusion
from .grid import image_grid, save_image_grid
from .guidance import spiking_neurons, threshold_shift
from .inception import inception_fid
from .layers import MembraneOutputLayer, SeqBatchNorm2d, SeqConv2d, TemporalOutputLayer, make_activation
from .samplers import SAMPLERS, ddim_sample, ddpm_sample, timestep_sequence
from .schedule import NoiseSchedule
from .train import DiffusionTrainer, TrainConfig
from .unet import SpikingUNet, UNet

__all__ = [
    "CPU_CONFIGS",
    "EMA",
    "PAPER_CONFIGS",
    "SAMPLERS",
    "ClassifierFID",
    "DiffusionTrainer",
    "DownSample",
    "FIDClassifier",
    "FeatureStatistics",
    "GaussianDiffusion",
    "MembraneOutputLayer",
    "NoiseSchedule",
    "ResBlock",
    "SDDPMConfig",
    "SeqBatchNorm2d",
    "SeqConv2d",
    "SpikingSelfAttention2d",
    "SpikingUNet",
    "TemporalOutputLayer",
    "TimeEmbedding",
    "TrainConfig",
    "UNet",
    "UpSample",
    "ddim_sample",
    "ddpm_sample",
    "feature_statistics",
    "frechet_distance",
    "image_grid",
    "inception_fid",
    "make_activation",
    "sampling_energy",
    "save_image_grid",
    "sinusoidal_embedding",
    "spiking_neurons",
    "threshold_shift",
    "timestep_sequence",
    "train_fid_classifier",
]
