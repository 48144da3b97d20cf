"""N-MNIST and N-Caltech101 datasets (ATIS ``.bin`` recordings in the official folder layout)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import numpy as np

from .atis import NCALTECH101_SENSOR, NMNIST_SENSOR, read_atis_frames
from .base import FrameDataset, check_frames_args, class_folders

#: N-Caltech101's 101 class folders (Caltech-101's 102 minus ``Faces``, removed by the N-Caltech101
#: authors; ``Faces_easy`` and ``BACKGROUND_Google`` stay), in Python's sorted order (upper case first),
#: which is the label order of spikingjelly's ``DatasetFolder`` and tonic's sorted walk.
NCALTECH101_CLASSES: tuple[str, ...] = tuple(
    sorted(
        (
            "accordion",
            "airplanes",
            "anchor",
            "ant",
            "BACKGROUND_Google",
            "barrel",
            "bass",
            "beaver",
            "binocular",
            "bonsai",
            "brain",
            "brontosaurus",
            "buddha",
            "butterfly",
            "camera",
            "cannon",
            "car_side",
            "ceiling_fan",
            "cellphone",
            "chair",
            "chandelier",
            "cougar_body",
            "cougar_face",
            "crab",
            "crayfish",
            "crocodile",
            "crocodile_head",
            "cup",
            "dalmatian",
            "dollar_bill",
            "dolphin",
            "dragonfly",
            "electric_guitar",
            "elephant",
            "emu",
            "euphonium",
            "ewer",
            "Faces_easy",
            "ferry",
            "flamingo",
            "flamingo_head",
            "garfield",
            "gerenuk",
            "gramophone",
            "grand_piano",
            "hawksbill",
            "headphone",
            "hedgehog",
            "helicopter",
            "ibis",
            "inline_skate",
            "joshua_tree",
            "kangaroo",
            "ketch",
            "lamp",
            "laptop",
            "Leopards",
            "llama",
            "lobster",
            "lotus",
            "mandolin",
            "mayfly",
            "menorah",
            "metronome",
            "minaret",
            "Motorbikes",
            "nautilus",
            "octopus",
            "okapi",
            "pagoda",
            "panda",
            "pigeon",
            "pizza",
            "platypus",
            "pyramid",
            "revolver",
            "rhino",
            "rooster",
            "saxophone",
            "schooner",
            "scissors",
            "scorpion",
            "sea_horse",
            "snoopy",
            "soccer_ball",
            "stapler",
            "starfish",
            "stegosaurus",
            "stop_sign",
            "strawberry",
            "sunflower",
            "tick",
            "trilobite",
            "umbrella",
            "watch",
            "water_lilly",
            "wheelchair",
            "wild_cat",
            "windsor_chair",
            "wrench",
            "yin_yang",
        )
    )
)


class NMNIST(FrameDataset):
    """N-MNIST (Orchard et al., Front. Neurosci. 9:437, 2015): MNIST digits recorded by an ATIS
    sensor on saccading motion; 34 x 34 pixels, 2 polarities, 60,000 train / 10,000 test.

    ``root`` is the extracted dataset: ``root/Train/<digit>/*.bin`` and ``root/Test/<digit>/*.bin``
    (the official ``Train.zip``/``Test.zip``; see :mod:`spiking.datasets.download`). Samples are
    ordered by (digit, file name). Each item is ``(frames [T, 2, 34, 34] float32, digit)``
    integrated with ``split_by`` (as spikingjelly's ``frames_number=T, split_by=...``).

    Labels come from the class folder's **name** against the fixed list :attr:`classes`
    (``"0"`` .. ``"9"``), never from its position: a split lacking a class folder keeps the other
    labels and warns; a folder that is not a class raises ``ValueError``.

    Differences from spikingjelly: no ``.npz`` conversion pass; frames are built from the ``.bin``
    directly (and cached only when ``cache_dir`` is given).
    """

    name = "nmnist"
    sensor_size = NMNIST_SENSOR
    split_dirs = ("Train", "Test")
    classes: tuple[str, ...] = tuple(str(d) for d in range(10))
    num_classes = 10

    def __init__(
        self,
        root: str | os.PathLike,
        train: bool = True,
        T: int = 10,
        split_by: str = "number",
        cache_dir: str | os.PathLike | None = None,
        in_memory: bool = False,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
    ) -> None:
        super().__init__(cache_dir, in_memory, transform, target_transform)
        fn = type(self).__name__
        check_frames_args(fn, T, split_by)
        self.root, self.train, self.T, self.split_by = Path(root), bool(train), T, split_by
        split = self.root / self.split_dirs[0 if train else 1]
        if not split.is_dir():
            raise FileNotFoundError(
                f"{fn}: expected the extracted dataset folder {split} (got root={os.fspath(root)!r}); "
                f"see spiking.datasets.download for the archives and checksums"
            )
        self.class_to_idx = {name: c for c, name in enumerate(self.classes)}
        self.files: list[Path] = []
        for c, folder in class_folders(fn, split, self.classes):
            fs = sorted(folder.glob("*.bin"))
            self.files += fs
            self.labels += [c] * len(fs)
        if not self.files:
            raise ValueError(f"{fn}: no .bin recordings under {split} (got class folders without .bin files)")

    def cache_params(self) -> dict:
        return self._frames_params(len(self.files), root=os.fspath(self.root.resolve()), train=self.train)

    def build_frames(self, index: int) -> np.ndarray:
        return read_atis_frames(self.files[index], self.T, self.split_by, self.sensor_size)


class NCaltech101(NMNIST):
    """N-Caltech101 (same paper): Caltech101 images on an ATIS sensor, up to 240 x 180 pixels,
    100 object classes + ``BACKGROUND_Google`` (the authors removed Caltech-101's ``Faces``), no official
    split. ``root/<class>/*.bin`` (the extracted ``Caltech101.zip``). Labels index the fixed list
    :data:`NCALTECH101_CLASSES` by folder name (sorted, as spikingjelly). There is no ``train``
    argument: split per class yourself (``examples/spiking_transformer.py`` keeps the first 90 % of
    each class, in file order, for training).
    """

    name = "ncaltech101"
    sensor_size = NCALTECH101_SENSOR
    classes = NCALTECH101_CLASSES
    num_classes = 101

    def __init__(
        self,
        root: str | os.PathLike,
        T: int = 10,
        split_by: str = "number",
        cache_dir: str | os.PathLike | None = None,
        in_memory: bool = False,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
    ) -> None:
        self.split_dirs = ("", "")
        super().__init__(root, True, T, split_by, cache_dir, in_memory, transform, target_transform)
