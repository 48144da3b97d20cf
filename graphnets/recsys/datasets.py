"""One entry point for every dataset source: ``load_dataset(name, root)``.

* ``"synthetic"`` -> :func:`graphnets.recsys.synthetic.make_synthetic` (no files);
* ``<root>/<name>/train.txt`` + ``test.txt`` -> the LightGCN text format;
* ``<root>/<name>/<name>[.train|.test].inter`` -> RecBole atomic files;
* otherwise, with ``download=True`` and a known name, the official files are fetched first.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional, Union

import torch

from graphnets.recsys.data import InteractionData
from graphnets.recsys.download import DOWNLOADS, download_dataset
from graphnets.recsys.recbole import load_recbole
from graphnets.recsys.synthetic import make_synthetic
from graphnets.recsys.text_format import load_lightgcn_split

__all__ = ["load_dataset"]


def load_dataset(
    name: str,
    root: Union[str, os.PathLike, None] = None,
    *,
    download: bool = False,
    seed: int = 0,
    synthetic: Optional[dict[str, Any]] = None,
    cold_users: str = "error",
    drop_duplicates: bool = False,
) -> InteractionData:
    """Load dataset ``name`` from ``root`` (see the module docstring); ``seed`` drives synthetic
    generation and RecBole random splits; ``synthetic`` holds keyword arguments of
    :func:`graphnets.recsys.synthetic.make_synthetic`; ``cold_users`` (``"error"`` or ``"drop"``)
    is what to do with test users that have no train interaction (see :class:`InteractionData`);
    ``drop_duplicates`` keeps the first of repeated (user, item) rows of RecBole files instead of raising.

    Raises:
        FileNotFoundError: no data found under ``root/name`` (with a hint to ``download``).
    """
    if name == "synthetic":
        return make_synthetic(**(synthetic or {}), generator=torch.Generator().manual_seed(seed))
    if root is None:
        raise ValueError(f"load_dataset: dataset {name!r} needs a root folder (got root=None)")
    folder = Path(root) / name
    if not (folder / "train.txt").is_file() and download:
        download_dataset(name, root)
    if (folder / "train.txt").is_file():
        return load_lightgcn_split(folder, name=name, cold_users=cold_users)
    if folder.is_dir() and any(folder.glob("*.inter")):
        return load_recbole(
            folder,
            name,
            cold_users=cold_users,
            drop_duplicates=drop_duplicates,
            generator=torch.Generator().manual_seed(seed),
        )
    hint = "; pass download=True (--download) to fetch it" if name in DOWNLOADS and not download else ""
    raise FileNotFoundError(f"load_dataset: no train.txt/test.txt or .inter files in {str(folder)!r}{hint}")
