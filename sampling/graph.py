r"""``Graph``: an immutable, validated CSR adjacency shared by every graphspike model.

Row ``i`` of the CSR lists the sources ``j`` whose messages node ``i`` aggregates, so
:func:`cuda_ext.spmm` computes :math:`\mathrm{out}_i = \sum_j w_{ij} x_j`. A graph built from a
PyG ``edge_index`` (``edge_index[0]`` = source, ``edge_index[1]`` = target) therefore stores
edge ``j -> i`` in row ``i``. Rectangular graphs (``num_rows != num_cols``, e.g. message-flow
blocks) are allowed; transforms that need a square graph say so.

Everything derived from the structure (row index per edge, transpose, degrees) is computed once
and cached; transforms return new graphs. Tensors are not copied, so do not write into
``indptr``/``indices``/``weight`` in place.
"""
from __future__ import annotations

from typing import Any, Optional

import torch
from torch import Tensor

from cuda_ext.csr import csr_rows, csr_transpose

__all__ = ["Graph", "InvalidGraphError"]


class InvalidGraphError(ValueError):
    """The tensors given to :class:`Graph` do not describe a valid CSR structure."""


def _describe(t: Any) -> str:
    if isinstance(t, Tensor):
        return f"{t.dtype} tensor of shape {tuple(t.shape)}"
    return type(t).__name__


class Graph:
    """Immutable CSR graph ``(indptr, indices, weight)``.

    Args:
        indptr: ``[num_rows + 1]`` int64, non-decreasing, starting at 0, ending at ``nnz``.
        indices: ``[nnz]`` int64 column (source) index of each entry, in ``[0, num_cols)``.
        weight: optional ``[nnz]`` floating-point, finite edge weights.
        num_cols: number of columns; defaults to ``num_rows`` (a square graph).
        validate: check the invariants above (the default). Internal constructors that build
            valid structures by construction pass ``False``.

    Raises:
        TypeError: a tensor has the wrong type or dtype.
        InvalidGraphError: the structure is not a valid CSR (a ``ValueError``).

    Example:
        >>> g = Graph(torch.tensor([0, 1, 2]), torch.tensor([1, 0]))
        >>> g
        Graph(num_rows=2, num_cols=2, num_edges=2, weighted=False, device=cpu)
    """

    __slots__ = ("_indptr", "_indices", "_weight", "_num_cols", "_cache")

    def __init__(
        self,
        indptr: Tensor,
        indices: Tensor,
        weight: Optional[Tensor] = None,
        num_cols: Optional[int] = None,
        *,
        validate: bool = True,
    ) -> None:
        if validate:
            num_cols = self._validate(indptr, indices, weight, num_cols)
        elif num_cols is None:
            num_cols = indptr.numel() - 1
        object.__setattr__(self, "_indptr", indptr)
        object.__setattr__(self, "_indices", indices)
        object.__setattr__(self, "_weight", weight)
        object.__setattr__(self, "_num_cols", int(num_cols))
        object.__setattr__(self, "_cache", {})

    @staticmethod
    def _validate(indptr: Tensor, indices: Tensor, weight: Optional[Tensor], num_cols: Optional[int]) -> int:
        for name, t in (("indptr", indptr), ("indices", indices)):
            if not isinstance(t, Tensor):
                raise TypeError(f"Graph: {name} must be a torch.Tensor (got {_describe(t)})")
            if t.dtype != torch.int64:
                raise TypeError(f"Graph: {name} must have dtype torch.int64 (got {t.dtype})")
            if t.dim() != 1:
                raise InvalidGraphError(f"Graph: {name} must be 1-D (got shape {tuple(t.shape)})")
        if indptr.numel() == 0:
            raise InvalidGraphError("Graph: indptr must have num_rows + 1 >= 1 entries (got an empty tensor)")
        if indices.device != indptr.device:
            raise InvalidGraphError(f"Graph: indptr and indices must share a device (got {indptr.device} and {indices.device})")
        num_rows = indptr.numel() - 1
        nnz = indices.numel()
        if int(indptr[0]) != 0:
            raise InvalidGraphError(f"Graph: indptr[0] must be 0 (got {int(indptr[0])})")
        if int(indptr[-1]) != nnz:
            raise InvalidGraphError(f"Graph: indptr[-1] must equal len(indices) = {nnz} (got {int(indptr[-1])})")
        if num_rows and bool((indptr[1:] < indptr[:-1]).any()):
            bad = int((indptr[1:] < indptr[:-1]).nonzero()[0, 0])
            raise InvalidGraphError(
                f"Graph: indptr must be non-decreasing (indptr[{bad + 1}] = {int(indptr[bad + 1])} "
                f"< indptr[{bad}] = {int(indptr[bad])})"
            )
        if num_cols is None:
            num_cols = num_rows
        if not isinstance(num_cols, int) or isinstance(num_cols, bool) or num_cols < 0:
            raise TypeError(f"Graph: num_cols must be a non-negative int (got {num_cols!r})")
        if nnz:
            lo, hi = int(indices.min()), int(indices.max())
            if lo < 0 or hi >= num_cols:
                bad = lo if lo < 0 else hi
                raise InvalidGraphError(f"Graph: indices must lie in [0, {num_cols}) (got {bad})")
        if weight is not None:
            if not isinstance(weight, Tensor) or not weight.is_floating_point():
                raise TypeError(f"Graph: weight must be a floating-point tensor (got {_describe(weight)})")
            if weight.shape != (nnz,):
                raise InvalidGraphError(f"Graph: weight must have shape [{nnz}] (got {tuple(weight.shape)})")
            if weight.device != indptr.device:
                raise InvalidGraphError(f"Graph: weight must be on {indptr.device} (got {weight.device})")
            if nnz and not bool(torch.isfinite(weight).all()):
                raise InvalidGraphError("Graph: weight must be finite (got NaN or inf)")
        return num_cols

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"Graph is immutable: cannot set {name!r}; transforms return new graphs")

    # --- structure -------------------------------------------------------------------------
    @property
    def indptr(self) -> Tensor:
        return self._indptr

    @property
    def indices(self) -> Tensor:
        return self._indices

    @property
    def weight(self) -> Optional[Tensor]:
        return self._weight

    @property
    def num_rows(self) -> int:
        return self._indptr.numel() - 1

    @property
    def num_nodes(self) -> int:
        """Number of rows (destination nodes); equal to ``num_cols`` for a square graph."""
        return self.num_rows

    @property
    def num_cols(self) -> int:
        return self._num_cols

    @property
    def num_edges(self) -> int:
        return self._indices.numel()

    @property
    def shape(self) -> tuple[int, int]:
        return (self.num_rows, self.num_cols)

    @property
    def device(self) -> torch.device:
        return self._indptr.device

    @property
    def is_square(self) -> bool:
        return self.num_rows == self.num_cols

    def _cached(self, key: str, fn):
        if key not in self._cache:
            self._cache[key] = fn()
        return self._cache[key]

    @property
    def row(self) -> Tensor:
        """``[nnz]`` row (destination) index of every edge, cached."""
        return self._cached("row", lambda: csr_rows(self._indptr, self.num_edges))

    def edge_values(self) -> Tensor:
        """The weights, or ones when the graph is unweighted (float32)."""
        if self._weight is not None:
            return self._weight
        return torch.ones(self.num_edges, device=self.device)

    def degree(self) -> Tensor:
        """Row degree: weighted row sums (or edge counts when unweighted), float ``[num_rows]``."""
        def compute() -> Tensor:
            vals = self.edge_values()
            return torch.zeros(self.num_rows, dtype=vals.dtype, device=self.device).index_add_(0, self.row, vals)
        return self._cached("degree", compute)

    def in_degree(self) -> Tensor:
        """Column degree: weighted column sums (or counts), float ``[num_cols]``."""
        def compute() -> Tensor:
            vals = self.edge_values()
            return torch.zeros(self.num_cols, dtype=vals.dtype, device=self.device).index_add_(0, self._indices, vals)
        return self._cached("in_degree", compute)

    def transpose_csr(self) -> tuple[Tensor, Tensor, Tensor]:
        """Cached ``(t_indptr, t_indices, t_perm)`` of ``A^T``; ``t_perm`` maps to original edge ids."""
        return self._cached("transpose_csr", lambda: csr_transpose(self._indptr, self._indices, self.num_cols))

    def transpose(self) -> "Graph":
        """``A^T`` as a graph (cached)."""
        def compute() -> Graph:
            t_indptr, t_indices, t_perm = self.transpose_csr()
            w = None if self._weight is None else self._weight.index_select(0, t_perm)
            return Graph(t_indptr, t_indices, w, num_cols=self.num_rows, validate=False)
        return self._cached("transpose", compute)

    def is_symmetric(self, atol: float = 0.0) -> bool:
        """Whether ``A == A^T`` (structure and weights, within ``atol``)."""
        if not self.is_square:
            return False
        t = self.transpose()
        if not (torch.equal(t.indptr, self._indptr) and torch.equal(t.indices, self._indices)):
            return False
        if self._weight is None:
            return True
        return bool(torch.allclose(t.weight, self._weight, rtol=0.0, atol=atol))

    # --- transforms --------------------------------------------------------------------------
    def with_weight(self, weight: Optional[Tensor]) -> "Graph":
        """Same structure with new edge weights (validated)."""
        Graph._validate(self._indptr, self._indices, weight, self.num_cols)
        return Graph(self._indptr, self._indices, weight, self.num_cols, validate=False)

    def normalize(self, kind: str = "sym", *, add_self_loops: bool = False) -> "Graph":
        r"""Normalised copy: ``"sym"`` :math:`D_r^{-1/2} A D_c^{-1/2}`, ``"row"`` :math:`D_r^{-1} A`,
        ``"col"`` :math:`A D_c^{-1}`, with :math:`D_r`/:math:`D_c` the row/column degrees
        (:math:`D_r = D_c = D` for a symmetric graph). Nodes of degree zero get weight 0 rather
        than inf. ``add_self_loops=True`` normalises :math:`A + I` (GCN's renormalisation trick).
        """
        if kind not in ("sym", "row", "col"):
            raise ValueError(f"Graph.normalize: kind must be 'sym', 'row' or 'col' (got {kind!r})")
        g = self.add_self_loops() if add_self_loops else self
        vals = g.edge_values()
        if kind in ("sym", "row"):
            d = g.degree().pow(-0.5 if kind == "sym" else -1.0)
            d = torch.where(torch.isinf(d), torch.zeros_like(d), d)
            vals = vals * d.index_select(0, g.row)
        if kind in ("sym", "col"):
            d = g.in_degree().pow(-0.5 if kind == "sym" else -1.0)
            d = torch.where(torch.isinf(d), torch.zeros_like(d), d)
            vals = vals * d.index_select(0, g.indices)
        return Graph(g.indptr, g.indices, vals, g.num_cols, validate=False)

    def select_rows(self, rows: Tensor) -> "Graph":
        """The rows ``rows`` of ``A`` as a ``[len(rows), num_cols]`` graph (repeats allowed).

        ``spmm(g.select_rows(r), x) == spmm(g, x)[r]`` at the cost of only the selected rows'
        edges: LightGCN's last layer is needed only at the batch's nodes.

        Raises:
            TypeError: ``rows`` is not a 1-D int64 tensor.
            IndexError: a row id lies outside ``[0, num_rows)``.
        """
        if not isinstance(rows, Tensor) or rows.dtype != torch.int64 or rows.dim() != 1:
            raise TypeError(f"Graph.select_rows: rows must be a 1-D int64 tensor (got {_describe(rows)})")
        if rows.device != self.device:
            raise ValueError(f"Graph.select_rows: rows must be on {self.device} (got {rows.device})")
        if rows.numel() and (int(rows.min()) < 0 or int(rows.max()) >= self.num_rows):
            bad = int(rows.min()) if int(rows.min()) < 0 else int(rows.max())
            raise IndexError(f"Graph.select_rows: row ids must lie in [0, {self.num_rows}) (got {bad})")
        starts = self._indptr.index_select(0, rows)
        counts = self._indptr.index_select(0, rows + 1) - starts  # [R]
        indptr = torch.zeros(rows.numel() + 1, dtype=torch.int64, device=self.device)
        torch.cumsum(counts, 0, out=indptr[1:])
        total = int(indptr[-1])
        # position of every selected edge in the original edge list: row start + rank within the row
        owner = torch.repeat_interleave(torch.arange(rows.numel(), device=self.device), counts, output_size=total)
        pos = (starts - indptr[:-1]).index_select(0, owner) + torch.arange(total, device=self.device)
        w = None if self._weight is None else self._weight.index_select(0, pos)
        return Graph(indptr, self._indices.index_select(0, pos), w, self.num_cols, validate=False)

    def add_self_loops(self, fill: float = 1.0) -> "Graph":
        """``A + fill * I``: adds one self loop to every node (existing loops are kept too)."""
        self._require_square("add_self_loops")
        n = self.num_rows
        loops = torch.arange(n, device=self.device)
        rows = torch.cat([self.row, loops])
        cols = torch.cat([self._indices, loops])
        vals = None
        if self._weight is not None:
            vals = torch.cat([self._weight, self._weight.new_full((n,), fill)])
        elif fill != 1.0:
            vals = torch.cat([torch.ones(self.num_edges, device=self.device), torch.full((n,), float(fill), device=self.device)])
        return Graph._from_coo(rows, cols, vals, n, n)

    def remove_self_loops(self) -> "Graph":
        """Copy without edges ``i -> i``."""
        self._require_square("remove_self_loops")
        keep = self.row != self._indices
        w = None if self._weight is None else self._weight[keep]
        return Graph._from_coo(self.row[keep], self._indices[keep], w, self.num_rows, self.num_cols)

    def _require_square(self, what: str) -> None:
        if not self.is_square:
            raise ValueError(f"Graph.{what}: needs a square graph (got shape {self.shape})")

    def to(self, device: Any) -> "Graph":
        """Copy to ``device`` (returns ``self`` when already there)."""
        device = torch.device(device)
        if device == self.device:
            return self
        w = None if self._weight is None else self._weight.to(device)
        return Graph(self._indptr.to(device), self._indices.to(device), w, self.num_cols, validate=False)

    # --- construction and conversion (implemented in sampling.convert) ------------------------
    @staticmethod
    def _from_coo(rows: Tensor, cols: Tensor, weight: Optional[Tensor], num_rows: int, num_cols: int) -> "Graph":
        """Trusted COO -> CSR (entries sorted by (row, col), duplicates kept)."""
        key = rows * max(num_cols, 1) + cols
        perm = torch.argsort(key, stable=True)
        indices = cols.index_select(0, perm)
        w = None if weight is None else weight.index_select(0, perm)
        indptr = torch.zeros(num_rows + 1, dtype=torch.int64, device=rows.device)
        torch.cumsum(torch.bincount(rows, minlength=num_rows), 0, out=indptr[1:])
        return Graph(indptr, indices, w, num_cols, validate=False)

    @classmethod
    def from_edge_index(cls, edge_index: Tensor, num_nodes: Optional[int] = None,
                        weight: Optional[Tensor] = None, num_cols: Optional[int] = None) -> "Graph":
        """From a PyG ``edge_index`` ``[2, E]`` (row 0 source, row 1 target); see :mod:`sampling.convert`."""
        from sampling.convert import from_edge_index
        return from_edge_index(edge_index, num_nodes, weight, num_cols)

    @classmethod
    def from_scipy(cls, matrix: Any) -> "Graph":
        from sampling.convert import from_scipy
        return from_scipy(matrix)

    @classmethod
    def from_torch_sparse(cls, tensor: Tensor) -> "Graph":
        from sampling.convert import from_torch_sparse
        return from_torch_sparse(tensor)

    @classmethod
    def from_pyg(cls, data: Any) -> "Graph":
        from sampling.convert import from_pyg
        return from_pyg(data)

    @classmethod
    def from_dgl(cls, graph: Any) -> "Graph":
        from sampling.convert import from_dgl
        return from_dgl(graph)

    @classmethod
    def bipartite(cls, users: Tensor, items: Tensor, num_users: int, num_items: int) -> "Graph":
        """Symmetric user-item graph on ``num_users + num_items`` nodes (item ``j`` -> node ``U + j``)."""
        from sampling.convert import bipartite
        return bipartite(users, items, num_users, num_items)

    def to_edge_index(self) -> tuple[Tensor, Optional[Tensor]]:
        """``(edge_index [2, E], weight)`` in PyG convention (``edge_index[0]`` = source = column)."""
        return torch.stack([self._indices, self.row]), self._weight

    def to_scipy(self) -> Any:
        from sampling.convert import to_scipy
        return to_scipy(self)

    def to_torch_sparse(self) -> Tensor:
        """A ``torch.sparse_csr_tensor`` with the same entries."""
        return torch.sparse_csr_tensor(self._indptr, self._indices, self.edge_values(), size=self.shape,
                                       check_invariants=False)  # validated on construction

    def to_dense(self) -> Tensor:
        """Dense ``[num_rows, num_cols]`` matrix (duplicates summed); for tests and tiny graphs."""
        vals = self.edge_values()
        dense = torch.zeros(self.shape, dtype=vals.dtype, device=self.device)
        return dense.index_put_((self.row, self._indices), vals, accumulate=True)

    def to_dgl(self) -> Any:
        from sampling.convert import to_dgl
        return to_dgl(self)

    def __repr__(self) -> str:
        return (f"Graph(num_rows={self.num_rows}, num_cols={self.num_cols}, num_edges={self.num_edges}, "
                f"weighted={self._weight is not None}, device={self.device})")
