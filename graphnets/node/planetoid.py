r"""Offline reader for the raw Planetoid files ``ind.<name>.{x,tx,allx,y,ty,ally,graph,test.index}``.

Yang, Cohen & Salakhutdinov, "Revisiting Semi-Supervised Learning with Graph Embeddings", ICML 2016
(https://github.com/kimiyoung/planetoid). The result is node-for-node what PyG's
``torch_geometric.io.read_planetoid_data`` builds (a test checks it on Cora):

* features ``x = [allx; tx]`` and one-hot labels ``[ally; ty]`` (argmax -> class ids); row ``i``
  of ``tx``/``ty`` belongs to node ``test.index[i]`` and is moved there;
* CiteSeer's 15 isolated test-index slots without features get zero rows and label 0, as in
  PyG and tkipf/gcn (the "citeseer fix"); they belong to no split;
* edges from the dict-of-lists ``graph``: self loops removed, duplicates merged (PyG does the
  same; the raw Cora/PubMed dicts are symmetric, so the graph is undirected);
* public split: the first ``len(y)`` nodes train (20 per class), the next 500 validation, the
  ``test.index`` nodes test (1000).

The files are Python 2 pickles. PyG unpickles them with ``pickle.load``, which runs any callable a
tampered file names; here they are read with :func:`sampling.safe_pickle.restricted_load`, which
resolves only what the format holds (numpy arrays, ``scipy.sparse.csr_matrix``, ``defaultdict`` of
lists) and refuses anything else before calling it. What comes out is then checked: numeric arrays
only, a sparse matrix whose indices lie inside its shape (scipy's ``toarray`` does not check them),
an adjacency dict of integer lists.

Differences from PyG: no ``processed/`` cache is written (the root may be read-only), a missing
or unreadable file raises a ``FileNotFoundError``/``ValueError`` naming it, and PubMed without
``ind.pubmed.allx`` is refused with an explanation (PyG would crash on the missing file).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor

from graphnets.node.dataset import NodeDataset, check_split
from sampling import Graph, Split
from sampling.safe_pickle import (
    CORRUPT_PICKLE_ERRORS,
    NUMPY_ARRAY_GLOBALS,
    PYTHON2_CONTAINER_GLOBALS,
    SCIPY_CSR_GLOBALS,
    PickleDataError,
    UnsafePickleError,
    restricted_load,
)

__all__ = ["PLANETOID_NAMES", "load_planetoid", "planetoid_files"]

PLANETOID_NAMES = ("cora", "citeseer", "pubmed")
_PARTS = ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index")
# What the raw files name: numpy arrays, scipy's CSR matrix (module path before and after scipy 1.8),
# Python 2's defaultdict of lists. Nothing else is resolved (see sampling.safe_pickle).
_ALLOWED = {**NUMPY_ARRAY_GLOBALS, **PYTHON2_CONTAINER_GLOBALS, **SCIPY_CSR_GLOBALS}
_MAX_DENSE = 2**31  # entries of one dense feature/label matrix (8 GiB of float32); PubMed's allx has 9.4e6


def planetoid_files(root: str | Path, name: str) -> dict[str, Path]:
    """Paths of the eight raw files of ``name`` under ``root`` (``root/ind.<name>.<part>``)."""
    return {part: Path(root) / f"ind.{name}.{part}" for part in _PARTS}


def _load_pickle(path: Path) -> Any:
    try:
        with open(path, "rb") as f, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # scipy/numpy deprecation notes for Python-2 pickles
            return restricted_load(f, _ALLOWED, "load_planetoid", path.name, encoding="latin1")
    except (UnsafePickleError, PickleDataError):
        raise
    except CORRUPT_PICKLE_ERRORS as err:
        raise ValueError(
            f"load_planetoid: {path} is corrupt or not a Planetoid pickle (got {type(err).__name__}: {err})"
        ) from err


def _dense(obj: Any, path: Path) -> np.ndarray:
    """The 2-D numeric matrix in ``obj`` (a CSR matrix or an ndarray) as float32, checked before densifying."""
    if isinstance(obj, sp.spmatrix) and obj.format == "csr":
        try:
            obj.check_format(full_check=True)  # indices inside the shape: toarray() writes unchecked
        except (ValueError, TypeError, AttributeError) as err:
            raise ValueError(f"load_planetoid: {path} holds an inconsistent CSR matrix ({err})") from err
        shape, dtype = obj.shape, obj.dtype
    elif isinstance(obj, np.ndarray):
        shape, dtype = obj.shape, obj.dtype
    else:
        raise ValueError(f"load_planetoid: {path} must hold a CSR matrix or a numpy array (got {type(obj).__name__})")
    if len(shape) != 2:
        raise ValueError(f"load_planetoid: {path} must hold a 2-D matrix (got shape {shape})")
    if dtype.kind not in "biuf":
        raise ValueError(f"load_planetoid: {path} must hold numbers (got dtype {dtype})")
    if shape[0] * shape[1] > _MAX_DENSE:
        raise ValueError(
            f"load_planetoid: {path} claims a {shape[0]} x {shape[1]} matrix, more than any "
            f"Planetoid data set (at most {_MAX_DENSE} entries)"
        )
    arr = obj.toarray() if isinstance(obj, sp.spmatrix) else obj
    with np.errstate(over="ignore", invalid="ignore"):  # a value beyond float32 becomes inf: refused below
        arr = arr.astype(np.float32)
    if not np.isfinite(arr).all():
        row = int(np.nonzero(~np.isfinite(arr).all(axis=1))[0][0])
        raise ValueError(f"load_planetoid: {path} holds a non-finite value in row {row}")
    return arr


def _edges(graph_dict: Any, path: Path, n: int) -> Tensor:
    """``[2, E]`` edges (key -> neighbour) of the adjacency dict ``{node: [neighbours]}`` over ``n`` nodes.

    A file holding anything else is corrupt: ``ValueError`` (file contents are values, not argument types).
    """
    ints = (int, np.integer)
    ok = isinstance(graph_dict, dict) and all(
        isinstance(k, ints) and isinstance(vs, (list, tuple)) and all(isinstance(v, ints) for v in vs)
        for k, vs in graph_dict.items()
    )
    if not ok:
        raise ValueError(
            f"load_planetoid: {path} must hold a dict of integer node ids to lists of integer "
            f"neighbour ids (got {type(graph_dict).__name__})"
        )
    src = [int(k) for k, vs in graph_dict.items() for _ in vs]
    dst = [int(v) for vs in graph_dict.values() for v in vs]
    for k, v in zip(src, dst):
        if not (0 <= k < n and 0 <= v < n):
            raise ValueError(f"load_planetoid: {path} has an edge {k} -> {v} to a node outside [0, {n})")
    return torch.tensor([src, dst], dtype=torch.int64).reshape(2, -1)  # [2, E]


def load_planetoid(root: str | Path, name: str) -> NodeDataset:
    """Read Cora, CiteSeer or PubMed from raw Planetoid files in ``root`` (no download).

    Args:
        root: directory holding ``ind.<name>.*`` directly (as ``shared/data/planetoid`` does).
        name: ``"cora"``, ``"citeseer"`` or ``"pubmed"`` (case-insensitive).

    Returns:
        :class:`NodeDataset` with raw (un-normalised) float32 features and the public split.

    Raises:
        ValueError: unknown name, corrupt file, inconsistent sizes, an edge to a node that does
            not exist, a non-finite feature; :class:`~sampling.safe_pickle.UnsafePickleError` (a
            ``ValueError``) when a file names anything but arrays, CSR matrices and containers.
        FileNotFoundError: a file is missing (for PubMed without ``allx`` the message explains
            that the features of 18,657 nodes are unavailable offline).
    """
    if not isinstance(name, str) or name.lower() not in PLANETOID_NAMES:
        raise ValueError(f"load_planetoid: name must be one of {PLANETOID_NAMES} (got {name!r})")
    name = name.lower()
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"load_planetoid: root {str(root)!r} is not a directory")
    files = planetoid_files(root, name)
    missing = [p.name for p in files.values() if not p.is_file()]
    if missing:
        hint = ""
        if name == "pubmed" and missing == ["ind.pubmed.allx"]:
            hint = (
                " PubMed's allx holds the features of all 18,657 non-test nodes; without it only the 60 "
                "train + 1000 test nodes have features, so PubMed cannot be trained on. Fetch the file "
                "from https://github.com/kimiyoung/planetoid (data/ind.pubmed.allx) into the root."
            )
        raise FileNotFoundError(f"load_planetoid: missing {missing} under {root}.{hint}")

    x, tx, allx, y, ty, ally = (
        _dense(_load_pickle(files[p]), files[p]) for p in ("x", "tx", "allx", "y", "ty", "ally")
    )
    graph_dict = _load_pickle(files["graph"])
    try:
        test_index = torch.from_numpy(np.loadtxt(files["test.index"], dtype=np.int64, ndmin=1))
    except ValueError as err:
        raise ValueError(f"load_planetoid: {files['test.index']} must hold one integer per line ({err})") from err

    num_feat = allx.shape[1]
    for part, arr in (("x", x), ("tx", tx)):
        if arr.shape[1] != num_feat:
            raise ValueError(f"load_planetoid: ind.{name}.{part} has {arr.shape[1]} features, allx has {num_feat}")
    if y.shape[0] != x.shape[0] or ty.shape[0] != tx.shape[0] or ally.shape[0] != allx.shape[0]:
        raise ValueError(
            f"load_planetoid: feature/label row counts disagree for {name} "
            f"(x {x.shape[0]} / y {y.shape[0]}, tx {tx.shape[0]} / ty {ty.shape[0]}, "
            f"allx {allx.shape[0]} / ally {ally.shape[0]})"
        )
    if test_index.numel() != tx.shape[0]:
        raise ValueError(f"load_planetoid: test.index has {test_index.numel()} ids but tx has {tx.shape[0]} rows")

    tx_t, ty_t = torch.from_numpy(tx), torch.from_numpy(ty)
    sorted_test = test_index.sort().values
    if name == "citeseer":  # isolated test-index slots without features: zero rows, label 0 (PyG)
        lo = int(test_index.min())
        span = int(test_index.max()) - lo + 1
        tx_ext = tx_t.new_zeros(span, num_feat)
        tx_ext[sorted_test - lo] = tx_t
        ty_ext = ty_t.new_zeros(span, ty_t.shape[1])
        ty_ext[sorted_test - lo] = ty_t
        tx_t, ty_t = tx_ext, ty_ext
    feats = torch.cat([torch.from_numpy(allx), tx_t], dim=0)  # [N, F]
    labels = torch.cat([torch.from_numpy(ally), ty_t], dim=0).argmax(dim=1)  # [N]
    n = feats.shape[0]
    if int(test_index.max()) >= n or int(test_index.min()) < 0:
        raise ValueError(f"load_planetoid: test.index ids must lie in [0, {n}) (got {int(test_index.max())})")
    feats[test_index] = feats[sorted_test]
    labels[test_index] = labels[sorted_test]

    edges = _edges(graph_dict, files["graph"], n)  # [2, E]
    edges = edges[:, edges[0] != edges[1]]  # no self loops
    edges = torch.unique(edges[0] * n + edges[1])  # merge duplicates
    edges = torch.stack([edges // n, edges % n])  # [2, E]
    graph = Graph.from_edge_index(edges, num_nodes=n)

    num_classes = int(ally.shape[1])
    split = Split(
        train=torch.arange(y.shape[0]),
        val=torch.arange(y.shape[0], min(y.shape[0] + 500, allx.shape[0])),  # clipped only for tiny files
        test=test_index.clone(),
    )
    check_split(split, n, "load_planetoid", labels, num_classes)
    return NodeDataset(name=name, x=feats.contiguous(), y=labels, graph=graph, num_classes=num_classes, split=split)
