r"""The official ZINC raw files read without running code from them, and cached as ``.npz``.

Dwivedi et al.'s ``molecules.zip`` holds ``<split>.pickle``: a pickled list of molecules, each a dict
of torch tensors -- ``atom_type [N]``, ``bond_type [N, N]`` (0 = no bond, 1 single, 2 double, 3
triple), ``logP_SA_cycle_normalized [1]`` -- and ``<split>.index``, the comma-separated ids of the
ZINC-12k subset. ``torch_geometric.datasets.ZINC`` reads the pickles with ``pickle.load``, which
runs any callable a tampered file names. :func:`read_zinc_raw` reads them with
:func:`sampling.safe_pickle.restricted_load`: only torch's tensor reconstruction and containers are
resolved, and a tensor's storage bytes are read by ``torch.load(weights_only=True)``.

The graphs are PyG's (``ZINC.process``): ``x = atom_type``, ``edge_index = bond_type.nonzero()``
(row-major: sorted by source, then target), ``edge_attr`` the bond types there, ``y`` the target;
the subset keeps the molecules of ``<split>.index`` in that order. They are stored as the ``.npz``
layout :func:`graphnets.ckgconv.load_zinc_npz` reads (numpy only, no pickle), written atomically.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch._utils

from graphnets.ckgconv.zinc import ZINC_NUM_ATOM_TYPES, ZINC_NUM_BOND_TYPES, ZINC_SPLITS
from sampling.safe_pickle import (
    CORRUPT_PICKLE_ERRORS,
    NUMPY_ARRAY_GLOBALS,
    PYTHON2_CONTAINER_GLOBALS,
    PickleDataError,
    UnsafePickleError,
    restricted_load,
)

__all__ = ["ZINC_PICKLE_GLOBALS", "read_zinc_raw", "zinc_npz_from_raw"]

_FN = "read_zinc_raw"


def _storage_from_bytes(data: bytes) -> Any:
    """``torch.storage._load_from_bytes`` (what a pickled tensor's storage calls), weights-only."""
    if not isinstance(data, bytes):
        raise UnsafePickleError(f"{_FN}: a tensor storage must be bytes (got {type(data).__name__})")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's notes on odd protocols of damaged bytes: the error follows
        try:
            return torch.load(io.BytesIO(data), weights_only=True, map_location="cpu")
        except Exception as err:  # noqa: BLE001 - torch's loaders raise anything on damaged bytes (even AssertionError)
            raise ValueError(
                f"{_FN}: a tensor storage is corrupt or not weights-only "
                f"(got {type(err).__name__}: {str(err).strip()[:200]})"
            ) from None


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks, metadata=None):
    if backward_hooks:  # callables attached to the tensor: a data file has none
        raise UnsafePickleError(f"{_FN}: a tensor carries backward hooks (got {backward_hooks!r:.80})")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's TypedStorage deprecation note: these files hold typed storages
        return torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, False, backward_hooks)


def _rebuild_tensor(storage, storage_offset, size, stride):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch._utils._rebuild_tensor(storage, storage_offset, size, stride)


# torch >= 0.4 pickles a tensor as _rebuild_tensor_v2(storage, ...), the storage as
# _load_from_bytes(<torch.save bytes>); older versions used _rebuild_tensor.
ZINC_PICKLE_GLOBALS = {
    **NUMPY_ARRAY_GLOBALS,
    **PYTHON2_CONTAINER_GLOBALS,
    ("torch.storage", "_load_from_bytes"): _storage_from_bytes,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
}


def _read_index(path: Path, num_molecules: int) -> list[int]:
    text = path.read_text(encoding="ascii", errors="replace").strip()
    try:
        ids = [int(t) for t in text.split(",")]
    except ValueError as err:
        raise ValueError(f"{_FN}: {path.name} must hold comma-separated molecule ids ({err})") from err
    bad = [i for i in ids if not 0 <= i < num_molecules]
    if bad:
        raise ValueError(f"{_FN}: {path.name} lists molecule {bad[0]}, outside the {num_molecules} of its pickle")
    return ids


def _molecule(mol: Any, k: int, where: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(x [N], edge_index [2, E] local, edge_attr [E], y) of molecule ``k``, checked."""
    keys = ("atom_type", "bond_type", "logP_SA_cycle_normalized")
    if not isinstance(mol, dict) or any(not isinstance(mol.get(key), torch.Tensor) for key in keys):
        got = sorted(map(str, mol)) if isinstance(mol, dict) else type(mol).__name__
        raise ValueError(f"{_FN}: {where} molecule {k} must be a dict of tensors {list(keys)} (got {got})")
    atoms, bonds, y = mol["atom_type"], mol["bond_type"], mol["logP_SA_cycle_normalized"]
    n = atoms.numel()
    if atoms.dim() != 1 or bonds.shape != (n, n) or y.numel() != 1:
        raise ValueError(
            f"{_FN}: {where} molecule {k}: expected atom_type [N], bond_type [N, N], one target "
            f"(got {tuple(atoms.shape)}, {tuple(bonds.shape)}, {tuple(y.shape)})"
        )
    if atoms.is_floating_point() or bonds.is_floating_point() or not y.is_floating_point():
        raise ValueError(
            f"{_FN}: {where} molecule {k}: integer atom/bond types and a float target expected "
            f"(got {atoms.dtype}, {bonds.dtype}, {y.dtype})"
        )
    if n and (int(atoms.min()) < 0 or int(atoms.max()) >= ZINC_NUM_ATOM_TYPES):
        raise ValueError(f"{_FN}: {where} molecule {k}: atom types must lie in [0, {ZINC_NUM_ATOM_TYPES})")
    if n and (int(bonds.min()) < 0 or int(bonds.max()) >= ZINC_NUM_BOND_TYPES):
        raise ValueError(f"{_FN}: {where} molecule {k}: bond types must lie in [0, {ZINC_NUM_BOND_TYPES})")
    if not torch.isfinite(y).all():
        raise ValueError(f"{_FN}: {where} molecule {k}: the target is not finite (got {y.item()})")
    edge_index = bonds.nonzero().t()  # [2, E], row-major as PyG
    edge_attr = bonds[edge_index[0], edge_index[1]]  # [E]
    return atoms.long().numpy(), edge_index.long().numpy(), edge_attr.long().numpy(), float(y.reshape(()))


def read_zinc_raw(raw_dir: str | os.PathLike, split: str, subset: bool = True) -> dict[str, np.ndarray]:
    """The ``split`` molecules of ``raw_dir/<split>.pickle`` (only the subset's when ``subset``), as arrays.

    Returns:
        ``x [N]``, ``edge_index [2, E]`` (local ids per graph), ``edge_attr [E]``, ``y [G]`` float32,
        ``node_ptr [G+1]``, ``edge_ptr [G+1]`` (int64): the layout of ``zinc_subset_<split>.npz``.

    Raises:
        FileNotFoundError: a raw file is missing. ValueError: a corrupt file, a molecule that is not
        the format's dict of tensors, out-of-range types or ids, a non-finite target;
        :class:`~sampling.safe_pickle.UnsafePickleError` (a ``ValueError``) when the pickle names
        anything but tensors and containers (nothing it names has run).
    """
    if split not in ZINC_SPLITS:
        raise ValueError(f"{_FN}: split must be one of {ZINC_SPLITS} (got {split!r})")
    raw_dir = Path(raw_dir)
    path, index = raw_dir / f"{split}.pickle", raw_dir / f"{split}.index"
    for p in (path, index) if subset else (path,):
        if not p.is_file():
            raise FileNotFoundError(f"{_FN}: no such file {p}")
    try:
        with open(path, "rb") as f:
            mols = restricted_load(f, ZINC_PICKLE_GLOBALS, _FN, path.name, encoding="latin1")
    except (UnsafePickleError, PickleDataError):
        raise
    except (*CORRUPT_PICKLE_ERRORS, RuntimeError) as err:
        raise ValueError(
            f"{_FN}: {path} is corrupt or not a ZINC molecule pickle (got {type(err).__name__}: "
            f"{str(err).strip().splitlines()[0] if str(err).strip() else ''})"
        ) from err
    if not isinstance(mols, list):
        raise ValueError(f"{_FN}: {path.name} must hold a list of molecules (got {type(mols).__name__})")  # noqa: TRY004
    ids = _read_index(index, len(mols)) if subset else range(len(mols))
    parts = [_molecule(mols[k], k, path.name) for k in ids]
    sizes = np.array([[p[0].size, p[2].size] for p in parts], dtype=np.int64).reshape(-1, 2)
    ptr = np.zeros((len(parts) + 1, 2), dtype=np.int64)
    np.cumsum(sizes, axis=0, out=ptr[1:])
    empty_edges = np.zeros((2, 0), np.int64)
    return {
        "x": np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.int64),
        "edge_index": np.concatenate([p[1] for p in parts], axis=1) if parts else empty_edges,
        "edge_attr": np.concatenate([p[2] for p in parts]) if parts else np.zeros(0, np.int64),
        "y": np.array([p[3] for p in parts], dtype=np.float32),
        "node_ptr": ptr[:, 0].copy(),
        "edge_ptr": ptr[:, 1].copy(),
    }


def zinc_npz_from_raw(raw_dir: str | os.PathLike, split: str, out: str | os.PathLike, subset: bool = True) -> Path:
    """Convert ``raw_dir/<split>.pickle`` with :func:`read_zinc_raw` into the ``.npz`` at ``out``
    (written to a temporary file, then renamed: never half-written); returns ``out``."""
    out = Path(out)
    arrays = read_zinc_raw(raw_dir, split, subset)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out
