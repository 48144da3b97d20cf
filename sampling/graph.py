r"""``Graph``: an immutable, validated CSR adjacency shared by every graphspike model.

Row ``i`` of the CSR lists the sources ``j`` whose messages node ``i`` aggregates, so
:func:`cuda_ext.spmm` computes :math:`\mathrm{out}_i = \sum_j w_{ij} x_j`. A graph built from a
PyG ``edge_index`` (``edge_index[0]`` = source, ``edge_index[1]`` = target) therefore stores
edge ``j -> i`` in row ``i``. Rectangular graphs (``num_rows != num_cols``, e.g. message-flow
blocks) are allowed; transforms that need a square graph say so.

Everything derived from the structure (row index per edge, transpose, degrees) is computed once
and cached; transforms return new graphs (a transform that keeps the structure and only changes
the weights shares the structural caches). Tensors are not copied, so do not write into
``indptr``/``indices``/``weight`` in place. Degrees are deterministic segment sums over the CSR
(through :func:`cuda_ext.spmm`, never an atomic scatter).

:class:`Graph` subclasses :class:`cuda_ext.csr.CSR`, the type by which :func:`cuda_ext.spmm`
recognises a graph.
"""

from __future__ import annotations

from typing import Any, Optional

import torch
from torch import Tensor

from cuda_ext.csr import CSR, csr_rows, csr_transpose
from cuda_ext.spmm import spmm
from sampling.finite import check_finite

__all__ = ["Graph", "InvalidGraphError"]

# cache entries that depend only on (indptr, indices), shared by graphs that differ in weights
_STRUCTURAL = ("row", "transpose_csr", "incidence")


class InvalidGraphError(ValueError):
    """The tensors given to :class:`Graph` do not describe a valid CSR structure."""


def _describe(t: Any) -> str:
    if isinstance(t, Tensor):
        return f"{t.dtype} tensor of shape {tuple(t.shape)}"
    return type(t).__name__


def _check_sign(d: Tensor, kind: str, which: str, looped: bool) -> Tensor:
    """``d`` unchanged unless ``kind == "sym"`` meets a negative degree (whose ``d^-1/2`` is NaN)."""
    if kind == "sym" and d.numel() and bool((d < 0).any()):
        neg = (d < 0).nonzero().flatten()
        node = int(neg[0])
        raise ValueError(
            f"Graph.normalize: kind='sym' scales by d^-1/2, which needs non-negative weighted degrees (got {which} "
            f"degree {d[node].item():g}{' with the added self loop' if looped else ''} at node {node}; "
            f"{neg.numel()} such nodes); use kind='row' or 'col', "
            "or non-negative edge weights"
        )
    return d


def _inv_pow(d: Tensor, p: float) -> Tensor:
    """``d ** p`` with zero degrees giving 0 (only exact zeros: a tiny positive degree whose power
    overflows stays inf, and the caller's finiteness check refuses it instead of zeroing the row)."""
    return torch.where(d == 0, torch.zeros_like(d), d.pow(p))


def _row_sums(g: "Graph", values: Tensor) -> Tensor:
    """``[num_rows]`` sums of ``values`` over each CSR row, in row order (one ``spmm`` on ones)."""
    ones = values.new_ones(g.num_cols, 1)
    return spmm(g, ones, values).view(-1)


def incidence_csr(ptr: Tensor, num_items: int) -> "Graph":
    r"""Segment-incidence CSR: row ``s`` holds columns ``ptr[s] .. ptr[s+1]-1`` (value 1).

    ``spmm`` of it over ``src [num_items, F]`` is the segment sum :math:`out_s = \sum_{ptr_s \le e < ptr_{s+1}} src_e`.
    Its transpose (one entry per column) is known in closed form and cached at once.
    """
    cols = torch.arange(num_items, device=ptr.device)
    g = Graph(ptr, cols, None, num_items, validate=False)
    t_indptr = torch.arange(num_items + 1, device=ptr.device)
    g._cache["transpose_csr"] = (t_indptr, csr_rows(ptr, num_items), cols)
    return g


def _check_coo(row: Any, col: Any, weight: Any, num_rows: Optional[int], num_cols: Optional[int]) -> tuple[int, int]:
    fn = "Graph.from_coo"
    for name, t in (("row", row), ("col", col)):
        if not isinstance(t, Tensor) or t.dtype != torch.int64 or t.dim() != 1:
            raise TypeError(f"{fn}: {name} must be a 1-D int64 tensor (got {_describe(t)})")
    if row.shape != col.shape:
        raise InvalidGraphError(f"{fn}: row and col must have the same length (got {row.numel()} and {col.numel()})")
    if col.device != row.device:
        raise InvalidGraphError(f"{fn}: row and col must share a device (got {row.device} and {col.device})")
    if num_rows is None:
        num_rows = int(row.max()) + 1 if row.numel() else 0
    if num_cols is None:
        num_cols = num_rows
    for name, v in (("num_rows", num_rows), ("num_cols", num_cols)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise TypeError(f"{fn}: {name} must be a non-negative int (got {v!r})")
    if row.numel():
        if int(row.min()) < 0 or int(col.min()) < 0:
            raise InvalidGraphError(f"{fn}: ids must be >= 0 (got {min(int(row.min()), int(col.min()))})")
        if int(row.max()) >= num_rows or int(col.max()) >= num_cols:
            raise InvalidGraphError(
                f"{fn}: ids must be < num_rows={num_rows} (rows) and < num_cols={num_cols} "
                f"(columns) (got max row {int(row.max())}, max col {int(col.max())})"
            )
    if weight is not None:
        if not isinstance(weight, Tensor) or not weight.is_floating_point():
            raise TypeError(f"{fn}: weight must be a floating-point tensor (got {_describe(weight)})")
        if weight.shape != row.shape:
            raise InvalidGraphError(f"{fn}: weight must have shape [{row.numel()}] (got {tuple(weight.shape)})")
        if weight.device != row.device:
            raise InvalidGraphError(f"{fn}: weight must be on {row.device} (got {weight.device})")
        if not bool(torch.isfinite(weight).all()):
            raise InvalidGraphError(f"{fn}: weight must be finite (got NaN or inf)")
    return num_rows, num_cols


class Graph(CSR):
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
            raise InvalidGraphError(
                f"Graph: indptr and indices must share a device (got {indptr.device} and {indices.device})"
            )
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
        """Row degree: weighted row sums (or edge counts when unweighted), float ``[num_rows]``.

        A segment sum over each row in CSR order (edge counts straight from ``indptr`` when
        unweighted), so the result is the same on every run and device.
        """

        def compute() -> Tensor:
            if self._weight is None:
                return (self._indptr[1:] - self._indptr[:-1]).to(torch.get_default_dtype())
            return _row_sums(self, self._weight)

        return self._cached("degree", compute)

    def in_degree(self) -> Tensor:
        """Column degree: weighted column sums (or counts), float ``[num_cols]``, deterministic."""

        def compute() -> Tensor:
            if self._weight is None:
                return torch.bincount(self._indices, minlength=self.num_cols).to(torch.get_default_dtype())
            t = self.transpose()
            return _row_sums(t, t.weight)

        return self._cached("in_degree", compute)

    def incidence(self) -> "Graph":
        """The ``[num_rows, num_edges]`` CSR with one entry of value 1 per edge (row ``i``, column ``e``), cached.

        ``spmm(g.incidence(), m)`` sums per-edge rows ``m [num_edges, F]`` (in CSR edge order) into
        their destination rows: the deterministic segment sum every per-edge message uses.
        """
        return self._cached("incidence", lambda: incidence_csr(self._indptr, self.num_edges))

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
        """Same structure with new edge weights (validated); shares the structural caches."""
        Graph._validate(self._indptr, self._indices, weight, self.num_cols)
        return self._with_values(weight)

    def _with_values(self, weight: Optional[Tensor]) -> "Graph":
        """Trusted: same structure, new weights, structure-only caches (row, transpose) shared."""
        g = Graph(self._indptr, self._indices, weight, self.num_cols, validate=False)
        for key in _STRUCTURAL:
            if key in self._cache:
                g._cache[key] = self._cache[key]
        return g

    def normalize(
        self,
        kind: str = "sym",
        *,
        add_self_loops: bool = False,
        fill_value: float = 1.0,
        remaining_self_loops: bool = False,
        degree: str = "both",
    ) -> "Graph":
        r"""Normalised copy, memoised on this (immutable) graph per set of options.

        ``kind``: ``"sym"`` :math:`D_r^{-1/2} A D_c^{-1/2}`, ``"row"`` :math:`D_r^{-1} A`, ``"col"``
        :math:`A D_c^{-1}`, with :math:`D_r`/:math:`D_c` the weighted row/column degrees (equal for
        a symmetric graph). Nodes of degree zero get weight 0 rather than inf. ``"sym"`` needs
        non-negative degrees (:math:`d^{-1/2}` of a negative degree is not real; PyG's ``gcn_norm``
        returns NaN there): a negative weighted degree raises, naming the node. ``"row"``/``"col"``
        are defined for negative degrees (the signs divide out).

        Args:
            add_self_loops: normalise :math:`A + \mathrm{fill} \cdot I` (GCN's renormalisation trick);
                on a rectangular graph the loops join destination ``i`` to source ``i``.
            fill_value: weight of the added loops (1; 2 is PyG's ``improved`` GCN).
            remaining_self_loops: add a loop only to rows that have none, keeping existing loop
                weights (PyG's ``add_remaining_self_loops``) instead of adding one to every row.
            degree: for ``kind="sym"``: ``"both"`` scales edge ``j -> i`` by
                :math:`d^{row}_i{}^{-1/2} d^{col}_j{}^{-1/2}` (DGL ``GraphConv(norm="both")``;
                defined on rectangular graphs); ``"target"`` by :math:`d_i^{-1/2} d_j^{-1/2}` with
                :math:`d` the row (in-)degree for both ends, as PyG's ``gcn_norm`` (square graphs).

        The memo is skipped when the weights require grad (learnable edge weights).

        Raises:
            ValueError: an unknown ``kind``/``degree``, ``degree="target"`` on a rectangular graph,
                self loops on a graph with more rows than columns, or a negative degree with ``"sym"``.
            NonFiniteError: a normalised weight overflowed (names the edge).
        """
        if kind not in ("sym", "row", "col"):
            raise ValueError(f"Graph.normalize: kind must be 'sym', 'row' or 'col' (got {kind!r})")
        if degree not in ("both", "target"):
            raise ValueError(f"Graph.normalize: degree must be 'both' or 'target' (got {degree!r})")
        if degree == "target" and kind == "sym" and not self.is_square:
            raise ValueError(
                f"Graph.normalize: degree='target' uses each source's in-degree, so it needs a square "
                f"graph (got shape {self.shape}); use degree='both' for bipartite graphs and blocks"
            )

        def compute() -> Graph:
            g = self
            if add_self_loops:
                g = g.add_remaining_self_loops(fill_value) if remaining_self_loops else g.add_self_loops(fill_value)
            vals, p = g.edge_values(), (-0.5 if kind == "sym" else -1.0)
            if kind in ("sym", "row"):
                d = _inv_pow(_check_sign(g.degree(), kind, "row (target)", add_self_loops), p)
                vals = vals * d.index_select(0, g.row)
            if kind in ("sym", "col"):
                d_col = g.degree() if degree == "target" and kind == "sym" else g.in_degree()
                d = _inv_pow(_check_sign(d_col, kind, "column (source)", add_self_loops), p)
                vals = vals * d.index_select(0, g.indices)
            return g._with_values(check_finite(vals, "Graph.normalize", "the normalised weights", ("edge",)))

        if self._weight is not None and self._weight.requires_grad:
            return compute()
        key = ("normalize", kind, bool(add_self_loops), float(fill_value), bool(remaining_self_loops), degree)
        return self._cached(key, compute)

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
        """``A + fill * I``: one new self loop ``i -> i`` per row (existing loops are kept too).

        On a rectangular graph the loops join destination ``i`` to source ``i`` for every row
        (the :class:`~sampling.Block` convention: destinations are the first sources), so it
        needs ``num_rows <= num_cols``.
        """
        n = self._loop_rows("add_self_loops")
        loops = torch.arange(n, device=self.device)
        return self._with_loops(loops, fill, keep=None)

    def add_remaining_self_loops(self, fill: float = 1.0) -> "Graph":
        """A self loop of weight ``fill`` for every row that has none; existing loops keep their weight.

        PyG's ``add_remaining_self_loops``. Rectangular graphs as in :meth:`add_self_loops`.
        """
        n = self._loop_rows("add_remaining_self_loops")
        has_loop = torch.zeros(n, dtype=torch.bool, device=self.device)
        is_loop = self.row == self._indices
        has_loop[self.row[is_loop]] = True
        return self._with_loops((~has_loop).nonzero().view(-1), fill, keep=None)

    def _loop_rows(self, what: str) -> int:
        if self.num_rows > self.num_cols:
            raise ValueError(
                f"Graph.{what}: a self loop joins row i to column i, so it needs num_rows <= num_cols "
                f"(got shape {self.shape})"
            )
        return self.num_rows

    def _with_loops(self, loops: Tensor, fill: float, keep: Optional[Tensor]) -> "Graph":
        """Graph plus the entries ``(i, i)`` for ``i`` in ``loops`` with value ``fill`` (re-sorted)."""
        n = loops.numel()
        rows = torch.cat([self.row, loops])
        cols = torch.cat([self._indices, loops])
        vals = None
        if self._weight is not None:
            vals = torch.cat([self._weight, self._weight.new_full((n,), fill)])
        elif fill != 1.0:
            vals = torch.cat(
                [torch.ones(self.num_edges, device=self.device), torch.full((n,), float(fill), device=self.device)]
            )
        return Graph.from_coo(rows, cols, vals, self.num_rows, self.num_cols, validate=False)

    def remove_self_loops(self) -> "Graph":
        """Copy without edges ``i -> i``."""
        self._require_square("remove_self_loops")
        keep = self.row != self._indices
        w = None if self._weight is None else self._weight[keep]
        return Graph.from_coo(self.row[keep], self._indices[keep], w, self.num_rows, self.num_cols, validate=False)

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
    def from_coo(
        row: Tensor,
        col: Tensor,
        weight: Optional[Tensor] = None,
        num_rows: Optional[int] = None,
        num_cols: Optional[int] = None,
        *,
        validate: bool = True,
    ) -> "Graph":
        """From COO entries ``A[row[e], col[e]] = weight[e]`` (row = destination, col = source).

        Entries are sorted by ``(row, col)`` with a stable sort (entries already in that order keep
        it, so per-edge data stays aligned); duplicates are kept (they sum in ``spmm``).
        ``num_rows`` defaults to ``max(row) + 1``, ``num_cols`` to ``num_rows``.

        Raises:
            TypeError: ``row``/``col`` are not int64 tensors or ``weight`` is not floating.
            InvalidGraphError: shapes disagree, ids outside ``[0, num_rows)``/``[0, num_cols)``, or
                non-finite weights (checked only when ``validate``; trusted internal callers skip it).

        Example:
            >>> Graph.from_coo(torch.tensor([1, 0]), torch.tensor([0, 2]), num_cols=3).indices.tolist()
            [2, 0]
        """
        if validate or num_rows is None or num_cols is None:
            num_rows, num_cols = _check_coo(row, col, weight, num_rows, num_cols)
        key = row * max(num_cols, 1) + col
        perm = torch.argsort(key, stable=True)
        indices = col.index_select(0, perm)
        w = None if weight is None else weight.index_select(0, perm)
        indptr = torch.zeros(num_rows + 1, dtype=torch.int64, device=row.device)
        torch.cumsum(torch.bincount(row, minlength=num_rows), 0, out=indptr[1:])
        return Graph(indptr, indices, w, num_cols, validate=False)

    @classmethod
    def from_edge_index(
        cls,
        edge_index: Tensor,
        num_nodes: Optional[int] = None,
        weight: Optional[Tensor] = None,
        num_cols: Optional[int] = None,
    ) -> "Graph":
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
        return torch.sparse_csr_tensor(
            self._indptr, self._indices, self.edge_values(), size=self.shape, check_invariants=False
        )  # validated on construction

    def to_dense(self) -> Tensor:
        """Dense ``[num_rows, num_cols]`` matrix (duplicates summed); for tests and tiny graphs."""
        vals = self.edge_values()
        dense = torch.zeros(self.shape, dtype=vals.dtype, device=self.device)
        return dense.index_put_((self.row, self._indices), vals, accumulate=True)

    def to_dgl(self) -> Any:
        from sampling.convert import to_dgl

        return to_dgl(self)

    def __repr__(self) -> str:
        return (
            f"Graph(num_rows={self.num_rows}, num_cols={self.num_cols}, num_edges={self.num_edges}, "
            f"weighted={self._weight is not None}, device={self.device})"
        )
