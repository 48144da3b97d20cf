r"""CSR sum aggregation, ``out = A x``, as a registered op with reference, fake and autograd.

.. math::
    \mathrm{out}_i = \sum_{e=\mathrm{indptr}_i}^{\mathrm{indptr}_{i+1}-1} w_e \, x_{\mathrm{indices}_e}

Rows are destination nodes and columns source nodes, so for a graph built from a PyG
``edge_index`` this is the sum of messages :math:`w_{ji} x_j` arriving at node :math:`i`.

Pieces (ARCHITECTURE.md, "cuda_ext: one op, four pieces"):

* :func:`spmm` -- the public typed function; unpacks a :class:`sampling.Graph` (recognised by
  its base class :class:`cuda_ext.csr.CSR`) or an ``(indptr, indices)`` tuple and resolves the
  backend once.
* :func:`spmm_reference` -- the executable spec: gather, scale, ``index_add_`` in row order.
* ``torch.ops.graphspike.spmm`` -- the ``torch.library`` custom op. Its CPU (and generic)
  implementation multiplies a ``torch.sparse_csr_tensor``: row-parallel, deterministic, and
  several times faster than the reference on CPU. Its CUDA implementation calls the compiled
  kernel (``cuda_ext/csrc/spmm.cu``) when the backend resolves to ``"cuda"``.
* fake (meta) implementation for ``torch.compile``; autograd through the transposed CSR:
  :math:`\partial L/\partial x = A^\top g` (the same op on the transpose, never atomics) and
  :math:`\partial L/\partial w_e = \langle g_{\mathrm{row}_e}, x_{\mathrm{col}_e}\rangle`.

The transpose is an op input (not recomputed per call): :class:`sampling.Graph` caches it.
Its sizes are data-dependent, so under ``torch.compile`` call ``graph.transpose_csr()`` once
before the compiled region (as one builds the graph outside the model anyway).

Shapes:
    indptr ``[R + 1]`` int64, indices ``[nnz]`` int64, weight ``[nnz]`` or None,
    x ``[C, F]`` -> out ``[R, F]``.
"""
from __future__ import annotations

import warnings
import weakref
from typing import Any, Optional

import torch
from torch import Tensor

from cuda_ext._backend import extension, resolve_backend
from cuda_ext.csr import CSR, csr_rows, csr_transpose, invert_permutation

__all__ = ["spmm", "spmm_reference"]


def spmm_reference(indptr: Tensor, indices: Tensor, weight: Optional[Tensor], x: Tensor) -> Tensor:
    """Executable spec of :func:`spmm`: ``out[row[e]] += weight[e] * x[indices[e]]`` in edge order."""
    num_rows = indptr.numel() - 1
    msg = x.index_select(0, indices)  # [nnz, F]
    if weight is not None:
        msg = msg * weight.unsqueeze(-1)
    rows = csr_rows(indptr, indices.numel())
    return x.new_zeros((num_rows, x.shape[1])).index_add_(0, rows, msg)


# torch's CSR matmul covers these dtypes on every device; others use the reference.
_SPARSE_DTYPES = (torch.float32, torch.float64)


def _spmm_torch(indptr: Tensor, indices: Tensor, weight: Optional[Tensor], x: Tensor) -> Tensor:
    num_rows = indptr.numel() - 1
    if x.dtype not in _SPARSE_DTYPES or indices.numel() == 0 or x.shape[1] == 0:
        return spmm_reference(indptr, indices, weight, x)
    values = weight if weight is not None else x.new_ones(indices.numel())
    with warnings.catch_warnings():
        # torch warns once that CSR is "beta"; the structure was validated by the caller.
        warnings.simplefilter("ignore", UserWarning)
        adj = torch.sparse_csr_tensor(indptr, indices, values, size=(num_rows, x.shape[0]),
                                      check_invariants=False)
        return torch.sparse.mm(adj, x.contiguous())


@torch.library.custom_op("graphspike::spmm", mutates_args=())
def _spmm_op(
    indptr: Tensor,
    indices: Tensor,
    weight: Optional[Tensor],
    x: Tensor,
    t_indptr: Tensor,
    t_indices: Tensor,
    t_perm: Tensor,
    backend: str,
) -> Tensor:
    return _spmm_torch(indptr, indices, weight, x)


@_spmm_op.register_kernel("cuda")
def _spmm_cuda(indptr, indices, weight, x, t_indptr, t_indices, t_perm, backend):
    if backend == "cuda":
        return extension().spmm_csr(indptr, indices, weight, x.contiguous())
    return _spmm_torch(indptr, indices, weight, x)


@_spmm_op.register_fake
def _spmm_fake(indptr, indices, weight, x, t_indptr, t_indices, t_perm, backend):
    return x.new_empty((indptr.shape[0] - 1, x.shape[1]))


# (id(weight), id(t_perm)) -> (weight ref, t_perm ref, versions, weight[t_perm], inverse of t_perm)
_TRANSPOSED: dict[tuple[int, int], tuple] = {}


def _is_plain(t: Tensor) -> bool:
    """A real, eager tensor (not fake/functional/traced), whose values can be cached."""
    return type(t) is Tensor or type(t) is torch.nn.Parameter


def _transposed_weight(weight: Tensor, t_perm: Tensor) -> tuple[Tensor, Tensor]:
    """``(weight[t_perm], t_perm^-1)``: the transpose's weights and its own transpose permutation.

    Every backward needs both. For a fixed graph (LightGCN's normalised adjacency) they are
    the same at every step, so they are cached per ``(weight, t_perm)`` pair while both
    tensors live and are unmodified (``_version``); a weight that requires grad (learnable
    edge weights, double backward) or a traced tensor is never cached.
    """
    cacheable = (not weight.requires_grad and _is_plain(weight) and _is_plain(t_perm)
                 and not torch.compiler.is_compiling())
    if not cacheable:
        return weight.index_select(0, t_perm), invert_permutation(t_perm)
    key = (id(weight), id(t_perm))
    hit = _TRANSPOSED.get(key)
    if hit is not None:
        w_ref, p_ref, versions, t_weight, inv = hit
        if w_ref() is weight and p_ref() is t_perm and versions == (weight._version, t_perm._version):
            return t_weight, inv
    t_weight, inv = weight.index_select(0, t_perm), invert_permutation(t_perm)
    drop = lambda k=key: _TRANSPOSED.pop(k, None)  # noqa: E731 -- forget the entry with either tensor
    _TRANSPOSED[key] = (weakref.ref(weight, lambda _: drop()), weakref.ref(t_perm, lambda _: drop()),
                        (weight._version, t_perm._version), t_weight, inv)
    return t_weight, inv


def _setup_context(ctx: Any, inputs: tuple, output: Tensor) -> None:
    indptr, indices, weight, x, t_indptr, t_indices, t_perm, backend = inputs
    ctx.backend = backend
    ctx.has_weight = weight is not None
    need_w = weight is not None and ctx.needs_input_grad[2]
    ctx.save_for_backward(indptr, indices, weight, x if need_w else None, t_indptr, t_indices, t_perm)


def _backward(ctx: Any, grad: Tensor):
    indptr, indices, weight, x, t_indptr, t_indices, t_perm = ctx.saved_tensors
    grad_x = grad_w = None
    if ctx.needs_input_grad[3]:
        if ctx.has_weight:
            # The transpose's own transpose is the original graph; its permutation is the inverse.
            t_weight, inv_perm = _transposed_weight(weight, t_perm)
            grad_x = _spmm_op(t_indptr, t_indices, t_weight, grad, indptr, indices, inv_perm, ctx.backend)
        else:
            grad_x = _spmm_op(t_indptr, t_indices, None, grad, indptr, indices, t_perm, ctx.backend)
    if ctx.has_weight and ctx.needs_input_grad[2]:
        rows = csr_rows(indptr, indices.numel())
        # [nnz, F] * [nnz, F] -> [nnz]
        grad_w = (grad.index_select(0, rows) * x.index_select(0, indices)).sum(-1)
    return None, None, grad_w, grad_x, None, None, None, None


_spmm_op.register_autograd(_backward, setup_context=_setup_context)


def _unpack(graph_or_csr: Any, num_cols: int) -> tuple[Tensor, Tensor, Optional[Tensor], tuple[Tensor, Tensor, Tensor]]:
    if isinstance(graph_or_csr, CSR):
        if graph_or_csr.num_cols != num_cols:
            raise ValueError(f"spmm: x must have one row per graph column ({graph_or_csr.num_cols}) "
                             f"(got x with {num_cols} rows)")
        return graph_or_csr.indptr, graph_or_csr.indices, graph_or_csr.weight, graph_or_csr.transpose_csr()
    if isinstance(graph_or_csr, (tuple, list)):
        if len(graph_or_csr) != 2:
            raise ValueError(f"spmm: a CSR tuple must be (indptr, indices) (got {len(graph_or_csr)} items)")
        indptr, indices = graph_or_csr
        _check_raw_csr(indptr, indices, num_cols)
        return indptr, indices, None, csr_transpose(indptr, indices, num_cols)
    raise TypeError("spmm: expected a sampling.Graph (or another cuda_ext.csr.CSR) or an (indptr, indices) "
                    f"tuple (got {type(graph_or_csr).__name__})")


def _check_raw_csr(indptr: Tensor, indices: Tensor, num_cols: int) -> None:
    for name, t in (("indptr", indptr), ("indices", indices)):
        if not isinstance(t, Tensor) or t.dtype != torch.int64 or t.dim() != 1:
            got = f"{t.dtype} tensor of dim {t.dim()}" if isinstance(t, Tensor) else type(t).__name__
            raise TypeError(f"spmm: {name} must be a 1-D int64 tensor (got {got})")
    if indptr.numel() == 0 or int(indptr[-1]) != indices.numel():
        raise ValueError(f"spmm: indptr[-1] must equal len(indices) = {indices.numel()}")
    if indices.numel() and (int(indices.min()) < 0 or int(indices.max()) >= num_cols):
        raise ValueError(f"spmm: column indices must lie in [0, {num_cols}) (x has {num_cols} rows)")


def spmm(graph_or_csr: Any, x: Tensor, weight: Optional[Tensor] = None, *, backend: str = "auto") -> Tensor:
    """Sum aggregation ``out[i] = sum_e w_e x[col_e]`` over the CSR rows of a graph.

    Args:
        graph_or_csr: a :class:`sampling.Graph` or another :class:`cuda_ext.csr.CSR` (its cached
            transpose is used for backward), or an ``(indptr, indices)`` tuple of int64 tensors
            (unweighted; the transpose is computed per call).
        x: node features ``[num_cols, F]``, floating point.
        weight: edge weights ``[nnz]``; overrides the graph's own weights. Gradients flow to it
            when it requires grad.
        backend: ``"auto"``, ``"torch"`` or ``"cuda"`` (see :mod:`cuda_ext._backend`).

    Returns:
        ``[num_rows, F]`` with the dtype and device of ``x``.

    Example:
        >>> from sampling import Graph
        >>> g = Graph.from_edge_index(torch.tensor([[0, 1], [1, 0]]), num_nodes=2)
        >>> spmm(g, torch.eye(2))
        tensor([[0., 1.],
                [1., 0.]])
    """
    if not isinstance(x, Tensor) or x.dim() != 2 or not x.is_floating_point():
        got = f"{x.dtype} tensor of shape {tuple(x.shape)}" if isinstance(x, Tensor) else type(x).__name__
        raise TypeError(f"spmm: x must be a 2-D floating-point tensor [num_cols, F] (got {got})")
    indptr, indices, graph_weight, (t_indptr, t_indices, t_perm) = _unpack(graph_or_csr, x.shape[0])
    if weight is None:
        weight = graph_weight
    if weight is not None:
        if not isinstance(weight, Tensor) or weight.shape != indices.shape:
            got = tuple(weight.shape) if isinstance(weight, Tensor) else type(weight).__name__
            raise ValueError(f"spmm: weight must have shape [nnz] = [{indices.numel()}] (got {got})")
        if weight.dtype != x.dtype:
            raise TypeError(f"spmm: weight dtype must match x ({x.dtype}) (got {weight.dtype})")
    if indptr.device != x.device:
        raise ValueError(f"spmm: graph and x must be on one device (graph on {indptr.device}, x on {x.device})")
    resolved = resolve_backend("spmm", backend, x.device)
    return _spmm_op(indptr, indices, weight, x, t_indptr, t_indices, t_perm, resolved)
