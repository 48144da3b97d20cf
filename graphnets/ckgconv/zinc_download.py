"""The raw ZINC files (Dwivedi et al.'s ``molecules.zip`` and the ZINC-12k split indices) through
:mod:`sampling.download`, laid out as ``torch_geometric.datasets.ZINC`` expects (``<root>/raw/``).

The archive holds Python pickles (``<split>.pickle``); :func:`graphnets.ckgconv.download_zinc` reads
them with an allow-list unpickler (:mod:`graphnets.ckgconv.zinc_raw`) that runs no code from them,
but ``torch_geometric.datasets.ZINC`` on the same folder would ``pickle.load`` them. No checksum of
these files is known offline, so they are accepted with a warning; the download is still atomic and
resumable.
"""

from __future__ import annotations

import os
import shutil
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sampling.download import Resource, extract, fetch

__all__ = ["ZINC_RAW", "ZINC_RAW_FILES", "fetch_zinc_raw"]

_SPLITS = "https://raw.githubusercontent.com/graphdeeplearning/benchmarking-gnns/master/data/molecules"
ZINC_RAW = Resource("molecules.zip", "https://www.dropbox.com/s/feo9qle74kg48gy/molecules.zip?dl=1")
ZINC_INDEX = tuple(Resource(f"{split}.index", f"{_SPLITS}/{split}.index") for split in ("train", "val", "test"))
ZINC_RAW_FILES = ("train.pickle", "val.pickle", "test.pickle", "train.index", "val.index", "test.index")


def fetch_zinc_raw(root: str | os.PathLike, *, opener: Callable[..., Any] = urllib.request.urlopen) -> Path:
    """Make ``<root>/raw/{train,val,test}.{pickle,index}`` present (what PyG's ``ZINC(root)`` reads
    without downloading again); returns ``<root>/raw``."""
    root = Path(root)
    raw = root / "raw"
    if all((raw / f).is_file() for f in ZINC_RAW_FILES):
        return raw
    archive = fetch(ZINC_RAW, root / "download", opener=opener)
    staging = extract(archive, root / "download" / "unzipped")
    raw.mkdir(parents=True, exist_ok=True)
    for split in ("train", "val", "test"):
        shutil.move(str(staging / "molecules" / f"{split}.pickle"), raw / f"{split}.pickle")
    for res in ZINC_INDEX:
        fetch(res, raw, opener=opener)
    shutil.rmtree(staging)
    return raw
