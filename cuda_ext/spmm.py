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
  :math:`\partial L/\partial w_e = \langle g_{\mathrm{row}_e}, x_{\mathrm{col}_e}\rangle`, the op
  ``torch.ops.graphspike.spmm_edge_grad``: a fused row-wise dot kernel on CUDA, edge chunks of
  bounded size elsewhere, never an ``[nnz, F]`` temporary (differentiable again, for double
  backward).

Bad structure is an error on every path. Raw ``(indptr, indices)`` tuples are checked on the
host (``indptr`` non-decreasing from 0 to nnz, column ids in range). Graphs are validated when
built; for ``Graph(..., validate=False)`` the CPU path checks column ids and ``indptr`` before
multiplying (host tensors, no synchronisation; once per structure while its tensors live
unmodified), and so does the transpose the backward needs; on CUDA the kernel checks them as it reads
them and stops with a device-side assertion (the PyTorch fallback on CUDA queues
``torch._assert_async``): nothing is read out of bounds, no host synchronisation.

The CUDA kernel (``csrc/spmm.cu``) splits long rows into segments summed separately and combined
in segment order, so power-law in-degrees do not leave one warp running: :data:`SEG_LEN` edges for
rows of 512 bytes or more, proportionally fewer (at least 32) for narrower rows, where a warp
serves several rows at once and the longest of them sets its time. The schedule is computed on
the device once per ``indptr`` and segment length, and cached.

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
from cuda_ext.csr import CSR, check_csr, csr_rows, csr_transpose, invert_permutation

__all__ = ["SEG_LEN", "spmm", "spmm_reference"]

#: Rows with more edges are split by the CUDA kernel into segments of this many edges (rows of
#: x of 512 bytes or more; see :func:`_seg_len`).
SEG_LEN = 256
#: Edge-weight gradient off the kernel: edges per chunk are EDGE_GRAD_CHUNK // F, so each of the
#: chunk's temporaries holds at most this many elements (4 MiB in float32).
EDGE_GRAD_CHUNK = 1 << 20


def spmm_reference(indptr: Tensor, indices: Tensor, weight: Optional[Tensor], x: Tensor) -> Tensor:
    """Executable spec of :func:`spmm`: ``out[row[e]] += weight[e] * x[indices[e]]`` in edge order."""
    num_rows = indptr.numel() - 1
    msg = x.index_select(0, indices)  # [nnz, F]
    if weight is not None:
        msg = msg * weight.unsqueeze(-1)
    rows = csr_rows(indptr, indices.numel())
    return x.new_zeros((num_rows, x.shape[1])).index_add_(0, rows, msg)


# torch's CSR matmul covers these dtypes on every device; half types go through float32, others
# use the reference.
_SPARSE_DTYPES = (torch.float32, torch.float64)


# (id(indptr), id(indices), num_cols) -> (indptr ref, indices ref, versions) of structures already checked
_CHECKED: dict[tuple[int, int, int], tuple] = {}


def _check_once(indptr: Tensor, indices: Tensor, num_cols: int) -> None:
    """:func:`check_csr` once per (indptr, indices, num_cols) while both tensors live unmodified
    (a model multiplies by the same graph at every layer and step)."""
    key = (id(indptr), id(indices), num_cols)
    versions = (indptr._version, indices._version)
    hit = _CHECKED.get(key)
    if hit is not None and hit[0]() is indptr and hit[1]() is indices and hit[2] == versions:
        return
    check_csr(indptr, indices, num_cols, "spmm")
    if _is_plain(indptr) and _is_plain(indices):
        drop = lambda _=None, k=key: _CHECKED.pop(k, None)  # noqa: E731 -- forget the entry with either tensor
        _CHECKED[key] = (weakref.ref(indptr, drop), weakref.ref(indices, drop), versions)


def _spmm_torch(indptr: Tensor, indices: Tensor, weight: Optional[Tensor], x: Tensor) -> Tensor:
    _check_once(indptr, indices, x.shape[0])
    num_rows = indptr.numel() - 1
    if x.dtype in (torch.float16, torch.bfloat16):
        # accumulate in float32, as the kernel does (half-precision sums lose digits per edge)
        return _spmm_torch(indptr, indices, None if weight is None else weight.float(), x.float()).to(x.dtype)
    if x.dtype not in _SPARSE_DTYPES or indices.numel() == 0 or x.shape[1] == 0:
        return spmm_reference(indptr, indices, weight, x)
    values = weight if weight is not None else x.new_ones(indices.numel())
    with warnings.catch_warnings():
        # torch warns once that CSR is "beta"; the structure was validated by the caller.
        warnings.simplefilter("ignore", UserWarning)
        adj = torch.sparse_csr_tensor(indptr, indices, values, size=(num_rows, x.shape[0]), check_invariants=False)
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


# (id(indptr), seg_len) -> (indptr ref, version, extra_ptr, ws_ptr)
_SCHEDULES: dict[tuple[int, int], tuple] = {}


def _segment_schedule(indptr: Tensor, seg_len: int) -> tuple[Tensor, Tensor]:
    """``(extra_ptr, ws_ptr)``, each ``[R + 1]``: exclusive prefix sums over rows of (segments - 1)
    and of the workspace rows of heavy rows (rows of more than ``seg_len`` edges). Device-side
    torch ops, no synchronisation; cached per ``indptr`` tensor while it lives unmodified."""
    key = (id(indptr), seg_len)
    hit = _SCHEDULES.get(key)
    if hit is not None and hit[0]() is indptr and hit[1] == indptr._version:
        return hit[2], hit[3]
    counts = indptr[1:] - indptr[:-1]
    segments = torch.div(counts + (seg_len - 1), seg_len, rounding_mode="floor").clamp_(min=1)
    extra_ptr = torch.zeros_like(indptr)
    torch.cumsum(segments - 1, 0, out=extra_ptr[1:])
    ws_ptr = torch.zeros_like(indptr)
    torch.cumsum(torch.where(segments > 1, segments, 0), 0, out=ws_ptr[1:])
    if _is_plain(indptr):
        drop = lambda k=key: _SCHEDULES.pop(k, None)  # noqa: E731 -- forget the entry with the tensor
        _SCHEDULES[key] = (weakref.ref(indptr, lambda _: drop()), indptr._version, extra_ptr, ws_ptr)
    return extra_ptr, ws_ptr


def _seg_len(x: Tensor) -> int:
    """Segment length for rows of ``x``: SEG_LEN at 512 bytes and more (a warp per row), scaled down
    with the row size (32 / G rows per warp) to at least min(32, SEG_LEN)."""
    row_bytes = x.shape[1] * x.element_size()
    return max(min(32, SEG_LEN), min(SEG_LEN, SEG_LEN * row_bytes // 512))


def _kernel_inputs(indptr: Tensor, indices: Tensor, x: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor, int]:
    """``(indptr, indices, extra_ptr, ws_ptr, seg_len)`` for the kernels of ``csrc/spmm.cu``."""
    indptr = indptr.contiguous()
    seg_len = _seg_len(x)
    extra_ptr, ws_ptr = _segment_schedule(indptr, seg_len)
    return indptr, indices.contiguous(), extra_ptr, ws_ptr, seg_len


@_spmm_op.register_kernel("cuda")
def _spmm_cuda(indptr, indices, weight, x, t_indptr, t_indices, t_perm, backend):
    if backend == "cuda":
        indptr, indices, extra_ptr, ws_ptr, seg_len = _kernel_inputs(indptr, indices, x)
        return extension().spmm_csr(indptr, indices, weight, x.contiguous(), extra_ptr, ws_ptr, seg_len)
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
    cacheable = (
        not weight.requires_grad and _is_plain(weight) and _is_plain(t_perm) and not torch.compiler.is_compiling()
    )
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
    _TRANSPOSED[key] = (
        weakref.ref(weight, lambda _: drop()),
        weakref.ref(t_perm, lambda _: drop()),
        (weight._version, t_perm._version),
        t_weight,
        inv,
    )
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
        grad_w = _edge_grad_op(indptr, indices, grad, x, t_indptr, t_indices, t_perm, ctx.backend)
    return None, None, grad_w, grad_x, None, None, None, None


_spmm_op.register_autograd(_backward, setup_context=_setup_context)


# ---------------------------------------------------------------------------------------------
# Edge-weight gradient grad_w[e] = <grad[row_e], x[col_e]> (a row-wise SDDMM)
# ---------------------------------------------------------------------------------------------
def _edge_grad_torch(indptr: Tensor, indices: Tensor, grad: Tensor, x: Tensor) -> Tensor:
    """Chunks of ``EDGE_GRAD_CHUNK // F`` edges: temporaries stay bounded whatever nnz is."""
    nnz, features = indices.numel(), x.shape[1]
    om = torch.float32 if x.dtype in (torch.float16, torch.bfloat16) else x.dtype
    out = torch.empty(nnz, dtype=x.dtype, device=x.device)
    rows = csr_rows(indptr, nnz)  # [nnz]
    chunk = max(1, EDGE_GRAD_CHUNK // max(features, 1))
    for start in range(0, nnz, chunk):
        stop = min(nnz, start + chunk)
        g = grad.index_select(0, rows[start:stop]).to(om)  # [chunk, F]
        xs = x.index_select(0, indices[start:stop]).to(om)  # [chunk, F]
        out[start:stop] = torch.einsum("ef,ef->e", g, xs)
    return out


@torch.library.custom_op("graphspike::spmm_edge_grad", mutates_args=())
def _edge_grad_op(
    indptr: Tensor,
    indices: Tensor,
    grad: Tensor,
    x: Tensor,
    t_indptr: Tensor,
    t_indices: Tensor,
    t_perm: Tensor,
    backend: str,
) -> Tensor:
    return _edge_grad_torch(indptr, indices, grad, x)


@_edge_grad_op.register_kernel("cuda")
def _edge_grad_cuda(indptr, indices, grad, x, t_indptr, t_indices, t_perm, backend):
    if backend == "cuda":
        indptr, indices, extra_ptr, _, seg_len = _kernel_inputs(indptr, indices, x)
        return extension().spmm_edge_dot(indptr, indices, grad.contiguous(), x.contiguous(), extra_ptr, seg_len)
    return _edge_grad_torch(indptr, indices, grad, x)


@_edge_grad_op.register_fake
def _edge_grad_fake(indptr, indices, grad, x, t_indptr, t_indices, t_perm, backend):
    return x.new_empty(indices.shape)


def _edge_grad_setup(ctx: Any, inputs: tuple, output: Tensor) -> None:
    indptr, indices, grad, x, t_indptr, t_indices, t_perm, backend = inputs
    ctx.backend = backend
    ctx.save_for_backward(indptr, indices, grad, x, t_indptr, t_indices, t_perm)


def _edge_grad_backward(ctx: Any, gg: Tensor):
    # gw[e] = <g[row_e], x[col_e]>:  d/dg = A(gg) x,  d/dx = A(gg)^T g  -- two SpMMs, still differentiable.
    indptr, indices, grad, x, t_indptr, t_indices, t_perm = ctx.saved_tensors
    d_grad = d_x = None
    if ctx.needs_input_grad[2]:
        d_grad = _spmm_op(indptr, indices, gg, x, t_indptr, t_indices, t_perm, ctx.backend)
    if ctx.needs_input_grad[3]:
        t_gg, inv_perm = gg.index_select(0, t_perm), invert_permutation(t_perm)
        d_x = _spmm_op(t_indptr, t_indices, t_gg, grad, indptr, indices, inv_perm, ctx.backend)
    return None, None, d_grad, d_x, None, None, None, None


_edge_grad_op.register_autograd(_edge_grad_backward, setup_context=_edge_grad_setup)


def _unpack(graph_or_csr: Any, num_cols: int) -> tuple[Tensor, Tensor, Optional[Tensor], tuple[Tensor, Tensor, Tensor]]:
    if isinstance(graph_or_csr, CSR):
        if graph_or_csr.num_cols != num_cols:
            raise ValueError(
                f"spmm: x must have one row per graph column ({graph_or_csr.num_cols}) (got x with {num_cols} rows)"
            )
        return graph_or_csr.indptr, graph_or_csr.indices, graph_or_csr.weight, graph_or_csr.transpose_csr()
    if isinstance(graph_or_csr, (tuple, list)):
        if len(graph_or_csr) != 2:
            raise ValueError(f"spmm: a CSR tuple must be (indptr, indices) (got {len(graph_or_csr)} items)")
        indptr, indices = graph_or_csr
        _check_raw_csr(indptr, indices, num_cols)
        return indptr, indices, None, csr_transpose(indptr, indices, num_cols)
    raise TypeError(
        "spmm: expected a sampling.Graph (or another cuda_ext.csr.CSR) or an (indptr, indices) "
        f"tuple (got {type(graph_or_csr).__name__})"
    )


def _check_raw_csr(indptr: Tensor, indices: Tensor, num_cols: int) -> None:
    for name, t in (("indptr", indptr), ("indices", indices)):
        if not isinstance(t, Tensor) or t.dtype != torch.int64 or t.dim() != 1:
            got = f"{t.dtype} tensor of dim {t.dim()}" if isinstance(t, Tensor) else type(t).__name__
            raise TypeError(f"spmm: {name} must be a 1-D int64 tensor (got {got})")
    if indptr.device != indices.device:
        raise ValueError(f"spmm: indptr and indices must be on one device (got {indptr.device} and {indices.device})")
    check_csr(indptr, indices, num_cols, "spmm", sync=True)


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
