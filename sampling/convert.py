"""Converters between :class:`sampling.Graph` and other graph containers.

What each source means, and how it maps (tested against PyG in ``tests/sampling/test_convert.py``):

* PyG ``edge_index``: ``edge_index[0]`` is the source ``j`` and ``edge_index[1]`` the target ``i``;
  messages flow source -> target and are summed at the target (``flow="source_to_target"``). The
  CSR stores edge ``j -> i`` in row ``i`` (matrix entry ``A[i, j]``), so ``spmm(A, x)`` is PyG's
  sum aggregation. Duplicated edges and self loops are kept as given (PyG sums duplicates in
  message passing, and so does ``spmm``); PyG's ``edge_weight`` is read, ``edge_attr`` (edge
  features) is not. A PyG ``Data`` holding ``adj_t`` (``T.ToSparseTensor``) is read from it.
* scipy and torch sparse matrices are read as the operator ``x -> A @ x``: ``A[i, j]`` is edge
  ``j -> i``. This is PyG's ``adj_t`` layout; PyG's ``to_scipy_sparse_matrix(edge_index)`` (and
  DGL's ``adj``) is the *transpose*, ``A[src, dst]``, so read it with ``Graph.from_scipy(m.T)``.
  Duplicate entries of a scipy matrix (allowed in COO and non-canonical CSR) are summed and
  explicit zeros kept, as ``m.toarray()`` and ``m @ x`` mean; an uncoalesced torch COO tensor is
  coalesced (summed) likewise. Integer and boolean values become float32 weights; complex values
  raise.
* DGL: edge ``u -> v`` is aggregated at ``v`` (row ``v``); edge weights are read from
  ``edata[weight]`` (``"w"`` by default, what :func:`to_dgl` writes).

:func:`bipartite` builds LightGCN's user-item graph, where a repeated user-item pair is a data error.
"""

from __future__ import annotations

import importlib
from typing import Any, Optional

import numpy as np
import torch
from torch import Tensor

from sampling.graph import Graph, InvalidGraphError

__all__ = [
    "bipartite",
    "from_dgl",
    "from_edge_index",
    "from_pyg",
    "from_scipy",
    "from_torch_sparse",
    "to_dgl",
    "to_scipy",
]


def _as_index(name: str, fn: str, t: Any) -> Tensor:
    if isinstance(t, np.ndarray):
        t = torch.from_numpy(t)
    if not isinstance(t, Tensor):
        raise TypeError(f"{fn}: {name} must be a tensor (got {type(t).__name__})")
    if t.is_floating_point() or t.is_complex() or t.dtype == torch.bool:
        raise TypeError(f"{fn}: {name} must have an integer dtype (got {t.dtype})")
    return t.long()


def _as_size(name: str, fn: str, v: Any) -> int:
    if isinstance(v, Tensor) and v.numel() == 1 and not (v.is_floating_point() or v.dtype == torch.bool):
        v = int(v)
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"{fn}: {name} must be a non-negative int (got {v!r})")
    if v < 0:
        raise InvalidGraphError(f"{fn}: {name} must be a non-negative int (got {v})")
    return int(v)


def _as_weight(fn: str, values: Any, device: torch.device) -> Tensor:
    """Floating-point, finite weights (integer/bool values become float32; complex raises)."""
    if values.is_complex():
        raise TypeError(f"{fn}: complex edge values have no graph meaning (got {values.dtype})")
    if not values.is_floating_point():
        values = values.float()
    if values.device != device:
        raise InvalidGraphError(f"{fn}: weight must be on {device}, the device of the edges (got {values.device})")
    if not bool(torch.isfinite(values).all()):
        bad = int((~torch.isfinite(values)).nonzero()[0, 0])
        raise InvalidGraphError(f"{fn}: weight must be finite (got {float(values[bad])} at edge {bad})")
    return values


def from_edge_index(
    edge_index: Tensor, num_nodes: Optional[int] = None, weight: Optional[Tensor] = None, num_cols: Optional[int] = None
) -> Graph:
    """Graph from ``edge_index [2, E]`` (source, target) and optional ``weight [E]``.

    ``num_nodes`` is the number of targets (rows); ``num_cols`` the number of sources, defaulting
    to ``num_nodes``. When ``num_nodes`` is omitted it is ``max(edge_index) + 1`` (PyG's
    ``maybe_num_nodes``). Duplicate edges and self loops are kept.
    """
    fn = "Graph.from_edge_index"
    edge_index = _as_index("edge_index", fn, edge_index)
    if edge_index.dim() != 2 or edge_index.shape[0] != 2:
        raise InvalidGraphError(f"{fn}: edge_index must have shape [2, E] (got {tuple(edge_index.shape)})")
    src, dst = edge_index[0], edge_index[1]
    if num_nodes is None:
        num_nodes = int(edge_index.max()) + 1 if edge_index.numel() else 0
    num_nodes = _as_size("num_nodes", fn, num_nodes)
    num_cols = num_nodes if num_cols is None else _as_size("num_cols", fn, num_cols)
    if edge_index.numel():
        if int(edge_index.min()) < 0:
            raise InvalidGraphError(f"{fn}: node ids must be >= 0 (got {int(edge_index.min())})")
        if int(dst.max()) >= num_nodes or int(src.max()) >= num_cols:
            raise InvalidGraphError(
                f"{fn}: node ids must be < num_nodes={num_nodes} (targets) and < num_cols={num_cols} "
                f"(sources) (got max target {int(dst.max())}, max source {int(src.max())})"
            )
    if weight is not None:
        if not isinstance(weight, Tensor) or not weight.is_floating_point():
            got = weight.dtype if isinstance(weight, Tensor) else type(weight).__name__
            raise TypeError(f"{fn}: weight must be a floating-point tensor (got {got})")
        if weight.shape != (src.numel(),):
            raise InvalidGraphError(f"{fn}: weight must have shape [{src.numel()}] (got {tuple(weight.shape)})")
        weight = _as_weight(fn, weight, edge_index.device)
    return Graph.from_coo(dst, src, weight, num_nodes, num_cols, validate=False)


def from_scipy(matrix: Any) -> Graph:
    """Graph of the operator ``x -> matrix @ x`` (``A[i, j]`` = edge ``j -> i``) from any scipy sparse
    matrix or array; duplicate entries are summed (module docstring)."""
    import scipy.sparse as sp

    fn = "Graph.from_scipy"
    if not sp.issparse(matrix):
        raise TypeError(f"{fn}: expected a scipy.sparse matrix (got {type(matrix).__name__})")
    if matrix.ndim != 2:
        raise TypeError(f"{fn}: expected a 2-D sparse matrix (got {matrix.ndim}-D)")
    csr = sp.csr_matrix(matrix, copy=True)
    csr.sum_duplicates()  # canonical: sorted indices, one entry per (i, j), as toarray() means
    weight = _as_weight(fn, torch.from_numpy(np.ascontiguousarray(csr.data)), torch.device("cpu"))
    return Graph(
        torch.from_numpy(csr.indptr.astype(np.int64)),
        torch.from_numpy(csr.indices.astype(np.int64)),
        weight,
        num_cols=csr.shape[1],
    )


def to_scipy(graph: Graph) -> Any:
    """``scipy.sparse.csr_matrix`` with the same entries (on CPU)."""
    import scipy.sparse as sp

    g = graph.to("cpu")
    return sp.csr_matrix((g.edge_values().numpy(), g.indices.numpy(), g.indptr.numpy()), shape=g.shape)


def from_torch_sparse(tensor: Tensor) -> Graph:
    """Graph of the operator ``x -> tensor @ x`` from a 2-D torch sparse tensor (COO or CSR), i.e.
    PyG's ``adj_t``; an uncoalesced COO tensor is summed first (module docstring)."""
    fn = "Graph.from_torch_sparse"
    if not isinstance(tensor, Tensor) or tensor.layout not in (torch.sparse_coo, torch.sparse_csr) or tensor.dim() != 2:
        got = f"{tensor.layout} tensor of dim {tensor.dim()}" if isinstance(tensor, Tensor) else type(tensor).__name__
        raise TypeError(f"{fn}: expected a 2-D sparse COO or CSR tensor (got {got})")
    if tensor.layout == torch.sparse_coo:
        tensor = tensor.coalesce()
        rows, cols = tensor.indices()
        vals = _as_weight(fn, tensor.values(), rows.device)
        return Graph.from_coo(rows, cols, vals, *tensor.shape, validate=False)
    crow, col = tensor.crow_indices().long(), tensor.col_indices().long()
    return Graph(crow, col, _as_weight(fn, tensor.values(), crow.device), num_cols=tensor.shape[1])


def from_pyg(data: Any) -> Graph:
    """Graph from a PyG ``Data``: ``edge_index`` with ``num_nodes`` and optional 1-D ``edge_weight``,
    or, after ``T.ToSparseTensor``, the torch sparse ``adj_t`` (module docstring)."""
    fn = "Graph.from_pyg"
    edge_index = getattr(data, "edge_index", None)
    adj_t = getattr(data, "adj_t", None)
    if edge_index is None and isinstance(adj_t, Tensor) and adj_t.layout != torch.strided:
        return from_torch_sparse(adj_t)
    if edge_index is None:
        got = (
            "a SparseTensor adj_t (convert it: adj_t.to_torch_sparse_csr_tensor())"
            if adj_t is not None
            else type(data).__name__
        )
        raise TypeError(f"{fn}: expected a torch_geometric Data with edge_index or a torch sparse adj_t (got {got})")
    weight = getattr(data, "edge_weight", None)
    return from_edge_index(edge_index, data.num_nodes, weight)


def _dgl() -> Any:
    try:
        return importlib.import_module("dgl")
    except Exception as err:  # dgl's compiled library raises various errors against new torch
        raise ImportError(
            f"DGL interop needs an importable `dgl` (import failed: {err}); "
            "note that PyPI's dgl does not import beside torch>=2.3"
        ) from err


def from_dgl(graph: Any, weight: Optional[str] = "w") -> Graph:
    """Graph from a homogeneous DGL graph (edge ``u -> v`` stored in row ``v``); needs dgl.

    ``weight`` names the 1-D edge feature read as edge weights when present (``"w"``, what
    :func:`to_dgl` writes); ``None`` reads none.
    """
    fn = "Graph.from_dgl"
    dgl = _dgl()
    if not isinstance(graph, dgl.DGLGraph):
        raise TypeError(f"{fn}: expected a dgl.DGLGraph (got {type(graph).__name__})")
    if not graph.is_homogeneous:
        raise TypeError(
            f"{fn}: expected a homogeneous graph (got node types {graph.ntypes}, edge types {graph.etypes})"
        )
    src, dst = graph.edges(order="eid")
    w = graph.edata[weight] if weight is not None and weight in graph.edata else None
    if w is not None and w.dim() != 1:
        raise InvalidGraphError(
            f"{fn}: edata[{weight!r}] must be 1-D edge weights (got shape {tuple(w.shape)}); "
            "pass weight=None to read no weights"
        )
    if w is not None and not w.is_floating_point():
        w = _as_weight(fn, w, w.device)
    return from_edge_index(torch.stack([src, dst]), graph.num_nodes(), w)


def to_dgl(graph: Graph) -> Any:
    """A DGL graph with the same edges (weights in ``edata['w']``); needs dgl."""
    dgl = _dgl()
    if not graph.is_square:
        raise ValueError(f"Graph.to_dgl: needs a square graph (got shape {graph.shape})")
    out = dgl.graph((graph.indices, graph.row), num_nodes=graph.num_nodes)
    if graph.weight is not None:
        out.edata["w"] = graph.weight
    return out


def bipartite(users: Tensor, items: Tensor, num_users: int, num_items: int) -> Graph:
    """Symmetric user-item graph: node ``u`` for user ``u``, node ``num_users + j`` for item ``j``.

    Each interaction ``(u, j)`` gives the two edges ``u -> U+j`` and ``U+j -> u``; the graph has
    no self loops and ``2 * len(users)`` edges. This is LightGCN's
    :math:`A = \\begin{pmatrix} 0 & R \\\\ R^\\top & 0 \\end{pmatrix}` built directly in CSR
    (the official code builds it through scipy dok/lil, which densifies a 5 GB block on Gowalla).

    Raises:
        ValueError: ids out of range, mismatched lengths, or a repeated (user, item) pair.
    """
    fn = "Graph.bipartite"
    users = _as_index("users", fn, users)
    items = _as_index("items", fn, items)
    if users.shape != items.shape or users.dim() != 1:
        raise InvalidGraphError(
            f"{fn}: users and items must be 1-D of equal length (got {tuple(users.shape)} and {tuple(items.shape)})"
        )
    if users.numel():
        if int(users.min()) < 0 or int(users.max()) >= num_users:
            raise InvalidGraphError(
                f"{fn}: user ids must lie in [0, {num_users}) (got range [{int(users.min())}, {int(users.max())}])"
            )
        if int(items.min()) < 0 or int(items.max()) >= num_items:
            raise InvalidGraphError(
                f"{fn}: item ids must lie in [0, {num_items}) (got range [{int(items.min())}, {int(items.max())}])"
            )
        pairs = users * num_items + items
        if torch.unique(pairs).numel() != pairs.numel():
            n_dup = pairs.numel() - torch.unique(pairs).numel()
            raise InvalidGraphError(f"{fn}: (user, item) pairs must be unique (got {n_dup} duplicates)")
    item_nodes = items + num_users
    rows = torch.cat([users, item_nodes])
    cols = torch.cat([item_nodes, users])
    n = num_users + num_items
    return Graph.from_coo(rows, cols, None, n, n, validate=False)
