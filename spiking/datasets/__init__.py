"""Neuromorphic datasets (readers, event -> frame integration, Dataset classes, downloads) and image sets
for generative models (:mod:`spiking.datasets.images`: bundled digits, MNIST, Fashion-MNIST, CIFAR-10, CelebA)."""

from .aedat2 import read_aedat2_header, read_cifar10dvs
from .aedat3 import cut_gesture_samples, read_aedat3, read_gesture_labels
from .atis import read_atis_bin, read_atis_frames
from .base import FrameDataset
from .cache import FrameCache
from .cifar10_dvs import CIFAR10DVS
from .download import RESOURCES, prepare
from .dvs128_gesture import DVS128Gesture
from .events import AUDIO_DTYPE, EVENT_DTYPE, make_audio_events, make_events, validate_audio_events, validate_events
from .image_files import read_cifar10_batch, read_idx
from .images import IMAGE_SETS, ImageFolderDataset, ImageTensorDataset, load_image_set
from .integrate import frames_by_duration, integrate_audio_events, integrate_events
from .nmnist import NMNIST, NCaltech101
from .shd import SHD, SSC
from .spike_h5 import SpikeH5File
from .synthetic import SyntheticEvents
from .transformer_sets import TRANSFORMER_DATASETS, per_class_split, transformer_dataset_pair

__all__ = [
    "TRANSFORMER_DATASETS",
    "per_class_split",
    "transformer_dataset_pair",
    "EVENT_DTYPE",
    "AUDIO_DTYPE",
    "make_events",
    "make_audio_events",
    "validate_events",
    "validate_audio_events",
    "read_atis_bin",
    "read_atis_frames",
    "integrate_events",
    "integrate_audio_events",
    "frames_by_duration",
    "read_aedat3",
    "read_gesture_labels",
    "cut_gesture_samples",
    "read_aedat2_header",
    "read_cifar10dvs",
    "SpikeH5File",
    "FrameCache",
    "FrameDataset",
    "NMNIST",
    "NCaltech101",
    "DVS128Gesture",
    "CIFAR10DVS",
    "SHD",
    "SSC",
    "SyntheticEvents",
    "RESOURCES",
    "prepare",
    "IMAGE_SETS",
    "ImageTensorDataset",
    "ImageFolderDataset",
    "load_image_set",
    "read_idx",
    "read_cifar10_batch",
]
