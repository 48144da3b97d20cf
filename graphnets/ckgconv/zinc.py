r"""ZINC molecular graphs (Dwivedi et al., "Benchmarking Graph Neural Networks", 2020).

Target: constrained solubility (penalized logP); node feature: atom type index (28-type
dictionary); edge feature: bond type (1 single, 2 double, 3 triple); every bond in both directions.

Offline files (what ``torch_geometric.datasets.ZINC(subset=True)`` yields, see the data folder's
``SOURCE.md``):

- ``zinc_subset_<split>.npz`` (numpy only): ``x [N]``, ``edge_index [2, E]`` (local ids),
  ``edge_attr [E]``, ``y [G]``, ``node_ptr [G+1]``, ``edge_ptr [G+1]``;
- ``<split>.pt``: a PyG "processed" ``(Data, slices)`` pickle written by PyG 1.x (read weights-only).

:func:`load_zinc` prefers the ``.npz`` and falls back to the ``.pt``. :func:`download_zinc`
is the real download path for the full benchmark (10k/1k/1k subset or the 250k full set): it
fetches the official archive and split indices (network needed) and converts their pickles to
the ``.npz`` layout without unpickling code (:mod:`graphnets.ckgconv.zinc_raw`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "ZINC_NUM_ATOM_TYPES",
    "ZINC_NUM_BOND_TYPES",
    "ZINC_SPLITS",
    "download_zinc",
    "graphs_from_arrays",
    "load_zinc",
    "load_zinc_npz",
    "load_zinc_pt",
]

ZINC_SPLITS = ("train", "val", "test")
ZINC_NUM_ATOM_TYPES = 28
ZINC_NUM_BOND_TYPES = 4


def _data_cls() -> Any:
    from torch_geometric.data import Data

    return Data


def graphs_from_arrays(
    x: Tensor, edge_index: Tensor, edge_attr: Tensor, y: Tensor, node_ptr: Tensor, edge_ptr: Tensor
) -> list:
    """Split concatenated arrays (local node ids per graph) into a list of PyG ``Data``."""
    data_cls = _data_cls()
    g = y.shape[0]
    if node_ptr.shape != (g + 1,) or edge_ptr.shape != (g + 1,):
        raise ValueError(
            f"graphs_from_arrays: node_ptr and edge_ptr must be [G+1={g + 1}] "
            f"(got {tuple(node_ptr.shape)} and {tuple(edge_ptr.shape)})"
        )
    out = []
    for k in range(g):
        n0, n1, e0, e1 = int(node_ptr[k]), int(node_ptr[k + 1]), int(edge_ptr[k]), int(edge_ptr[k + 1])
        ei = edge_index[:, e0:e1]
        if ei.numel() and (int(ei.min()) < 0 or int(ei.max()) >= n1 - n0):
            raise ValueError(
                f"graphs_from_arrays: graph {k} has edge ids outside [0, {n1 - n0}) "
                f"(got {int(ei.min())}..{int(ei.max())}); edge_index must hold local ids"
            )
        out.append(
            data_cls(
                x=x[n0:n1].reshape(-1),
                edge_index=ei.contiguous(),
                edge_attr=edge_attr[e0:e1].reshape(-1),
                y=y[k].reshape(1).to(torch.float32),
                num_nodes=n1 - n0,
            )
        )
    return out


def load_zinc_npz(path: str | Path) -> list:
    """Graphs of one ``zinc_subset_<split>.npz`` file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"load_zinc_npz: no such file {path}")
    with np.load(path) as f:
        missing = {"x", "edge_index", "edge_attr", "y", "node_ptr", "edge_ptr"} - set(f.files)
        if missing:
            raise ValueError(f"load_zinc_npz: {path} lacks arrays {sorted(missing)} (got {sorted(f.files)})")
        arr = {k: torch.from_numpy(f[k]) for k in ("x", "edge_index", "edge_attr", "y", "node_ptr", "edge_ptr")}
    return graphs_from_arrays(
        arr["x"].long(),
        arr["edge_index"].long(),
        arr["edge_attr"].long(),
        arr["y"].float(),
        arr["node_ptr"].long(),
        arr["edge_ptr"].long(),
    )


def load_zinc_pt(path: str | Path) -> list:
    """Graphs of one PyG-processed ``<split>.pt`` (PyG 1.x pickle; needs torch_geometric installed).

    The old ``Data`` object cannot be used through PyG 2's accessors, so its tensors are read
    from the instance ``__dict__``; ``slices`` give graph boundaries (edge ids are local).
    Read with ``weights_only=True``: only tensors and the PyG data classes PyG registers as safe
    globals are rebuilt, no code from the file runs; anything else is refused with a ``ValueError``.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"load_zinc_pt: no such file {path}")
    _data_cls()  # importing PyG registers its data classes with torch.serialization's safe globals
    try:
        obj = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as err:  # torch raises UnpicklingError/RuntimeError/EOFError here
        raise ValueError(
            f"load_zinc_pt: {path} is not a PyG processed file that loads weights-only "
            f"(got {type(err).__name__}: {str(err).strip().splitlines()[0] if str(err).strip() else ''})"
        ) from err
    if not (isinstance(obj, tuple) and len(obj) >= 2 and isinstance(obj[1], dict)):
        raise ValueError(
            f"load_zinc_pt: expected a PyG processed (data, slices) tuple in {path} (got {type(obj).__name__})"
        )
    data, slices = obj[0], obj[1]
    store = data.__dict__.get("_store")
    raw = dict(store) if store is not None else data.__dict__
    for k in ("x", "edge_index", "edge_attr", "y"):
        if not isinstance(raw.get(k), Tensor) or k not in slices:
            raise ValueError(f"load_zinc_pt: {path} lacks {k!r} (got keys {sorted(raw)})")
    return graphs_from_arrays(
        raw["x"].reshape(-1).long(),
        raw["edge_index"].long(),
        raw["edge_attr"].reshape(-1).long(),
        raw["y"].reshape(-1).float(),
        slices["x"].long(),
        slices["edge_index"].long(),
    )


def load_zinc(root: str | Path, split: str) -> list:
    """The ``split`` graphs from an offline folder (``.npz`` preferred, then ``.pt``).

    Raises:
        ValueError: unknown split. FileNotFoundError: neither file present (e.g. the subset's
        train split, absent offline: use :func:`download_zinc` with a network).
    """
    if split not in ZINC_SPLITS:
        raise ValueError(f"load_zinc: split must be one of {ZINC_SPLITS} (got {split!r})")
    root = Path(root)
    npz, pt = root / f"zinc_subset_{split}.npz", root / f"{split}.pt"
    if npz.is_file():
        return load_zinc_npz(npz)
    if pt.is_file():
        return load_zinc_pt(pt)
    raise FileNotFoundError(
        f"load_zinc: neither {npz.name} nor {pt.name} in {root}; the offline copy has only val and "
        f"test; download_zinc(root, split) fetches the real data (network needed)"
    )


def download_zinc(
    root: str | Path, split: str = "train", subset: bool = True, pre_transform: Any | None = None
) -> list:
    """Download (once) the official raw ZINC files and return the real ``split`` graphs.

    ``subset=True`` is ZINC-12k (10k/1k/1k, the CKGConv paper's "ZINC"); ``False`` the 250k set.
    The raw files come through :func:`graphnets.ckgconv.zinc_download.fetch_zinc_raw` (atomic,
    resumable). Their pickles are converted once, without running code from them
    (:func:`graphnets.ckgconv.zinc_raw.read_zinc_raw`), into ``root/zinc_{subset|full}_<split>.npz``,
    which later calls -- and :func:`load_zinc` for the subset -- read directly. ``pre_transform``
    (a callable on one ``Data``) is applied to each graph on every call.

    The graphs are those of ``torch_geometric.datasets.ZINC(root, subset, split)`` (a test checks
    it), which instead unpickles the raw files with ``pickle.load`` and caches under ``processed/``.
    """
    if split not in ZINC_SPLITS:
        raise ValueError(f"download_zinc: split must be one of {ZINC_SPLITS} (got {split!r})")
    from graphnets.ckgconv.zinc_download import fetch_zinc_raw
    from graphnets.ckgconv.zinc_raw import zinc_npz_from_raw

    root = Path(root)
    npz = root / f"zinc_{'subset' if subset else 'full'}_{split}.npz"
    if not npz.is_file():
        zinc_npz_from_raw(fetch_zinc_raw(root), split, npz, subset=subset)
    graphs = load_zinc_npz(npz)
    return graphs if pre_transform is None else [pre_transform(g) for g in graphs]
