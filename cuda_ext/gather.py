r"""Row gather ``out[k] = table[index[k]]``, zero-copy from pinned host memory on a GPU.

A GNN mini-batch needs a few thousand scattered rows of a feature table too large for GPU
memory. The usual path gathers them on the CPU into a staging buffer and copies that over
(three passes over memory and CPU time). PyTorch-Direct (Min et al., "Large Graph
Convolutional Network Training with GPU-Oriented Data Communication Architecture",
VLDB 2021) lets GPU threads read the rows in place through the unified virtual address of
page-locked host memory. This module provides:

* :func:`pin_memory_inplace` -- page-lock an existing CPU tensor in place with
  ``cudaHostRegister`` (chunks of at most 64 GiB, because one call over ~512 GiB fails), and
  :meth:`PinnedMemory.unpin` (paired ``cudaHostUnregister``). ``Tensor.pin_memory()`` copies
  the tensor instead (pytorch#32167).
* :func:`gather_rows` -- the op, ``torch.ops.graphspike.gather_rows``:

  ============================  =======================================================
  table / index                 path
  ============================  =======================================================
  CPU / CPU                     ``index_select`` (the reference)
  pinned CPU / CUDA             zero-copy kernel ``csrc/gather.cu`` (when built): sorted
                                indices + permutation, 16-byte loads, 128-B aligned row
                                starts, capped thread count
  CPU (not pinned) / CUDA       CPU ``index_select`` then one copy to the GPU
  CUDA / any                    ``index_select`` on the GPU
  ============================  =======================================================

  The result lives on the compute device: the index's device if it is CUDA, else the
  table's. Out-of-range indices raise ``ValueError`` on every path *before* any row is read
  (one host synchronisation to read the index's min and max); the kernel also skips them.
* :func:`gather_rows_async` -- the same on a high-priority side stream, returning a handle
  whose :meth:`GatherHandle.wait` makes the current stream wait; compute queued in between
  overlaps the PCIe reads.

Differences from DGL/GraphBolt: plain torch tensors (no NDArray keep-alive object), a
handle object owns the pinning, and the gather is a ``torch.library`` op with a fake
implementation (``torch.compile``) and a gradient to the table (``index_add_``).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Optional

import torch
from torch import Tensor

from cuda_ext._backend import extension, resolve_backend

__all__ = [
    "GatherHandle",
    "PinnedMemory",
    "gather_rows",
    "gather_rows_async",
    "gather_rows_reference",
    "pin_memory_inplace",
]

#: Largest ``cudaHostRegister`` call; bigger tensors are registered chunk by chunk.
MAX_REGISTER_BYTES = 64 << 30
#: Default cap on the gather kernel's threads (GraphBolt's tuned value: about 5-7 SMs).
DEFAULT_MAX_THREADS = 10240
_CUDA_HOST_REGISTER_PORTABLE = 1
_CUDA_HOST_REGISTER_MAPPED = 2


# ---------------------------------------------------------------------------------------------
# In-place pinning
# ---------------------------------------------------------------------------------------------
def _page_size() -> int:
    try:
        return int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):  # non-POSIX platforms
        return 4096


def register_ranges(base: int, nbytes: int, chunk_bytes: int, page: int) -> list[tuple[int, int]]:
    """Split ``[base, base + nbytes)`` into ``(start, size)`` chunks of at most ``chunk_bytes``
    whose inner boundaries fall on page boundaries (two registrations sharing a page fail)."""
    ranges = []
    start, stop = base, base + nbytes
    while start < stop:
        end = min(stop, start + chunk_bytes)
        if end < stop and end % page and end - end % page > start:
            end -= end % page
        ranges.append((start, end - start))
        start = end
    return ranges


@dataclass
class PinnedMemory:
    """Page-locks ``tensor``'s storage in place until :meth:`unpin` (or ``with`` exit).

    Keep the handle (and the tensor) alive while GPU kernels read the table.
    """

    tensor: Tensor
    chunk_bytes: int = MAX_REGISTER_BYTES
    _chunks: list[int] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.tensor, Tensor) or self.tensor.device.type != "cpu":
            got = f"tensor on {self.tensor.device}" if isinstance(self.tensor, Tensor) else type(self.tensor).__name__
            raise TypeError(f"pin_memory_inplace: expected a CPU tensor (got {got})")
        if not self.tensor.is_contiguous():
            raise ValueError("pin_memory_inplace: the tensor must be contiguous (pin the base tensor instead)")
        if not torch.cuda.is_available():
            raise RuntimeError("pin_memory_inplace: page-locking needs a CUDA driver and device (none visible)")
        if self.tensor.is_pinned():
            raise ValueError("pin_memory_inplace: the tensor is already pinned")
        page = _page_size()
        if self.chunk_bytes < page:
            raise ValueError(f"pin_memory_inplace: chunk_bytes must be at least the page size {page} "
                             f"(got {self.chunk_bytes})")
        cudart = torch.cuda.cudart()
        base = self.tensor.data_ptr()
        nbytes = self.tensor.numel() * self.tensor.element_size()
        try:
            for start, size in register_ranges(base, nbytes, self.chunk_bytes, page):
                err = int(cudart.cudaHostRegister(start, size,
                                                  _CUDA_HOST_REGISTER_PORTABLE | _CUDA_HOST_REGISTER_MAPPED))
                if err != 0:
                    raise RuntimeError(f"pin_memory_inplace: cudaHostRegister failed with cudaError {err} "
                                       f"at byte {start - base} of {nbytes}")
                self._chunks.append(start)
        except RuntimeError:
            self.unpin()
            raise

    @property
    def pinned(self) -> bool:
        return bool(self._chunks)

    def unpin(self) -> None:
        """Unregister every chunk (idempotent)."""
        cudart = torch.cuda.cudart() if self._chunks else None
        errors = []
        while self._chunks:
            ptr = self._chunks.pop()
            err = int(cudart.cudaHostUnregister(ptr))
            if err != 0:
                errors.append(err)
        if errors:
            raise RuntimeError(f"PinnedMemory.unpin: cudaHostUnregister failed with cudaError {errors}")

    def __enter__(self) -> "PinnedMemory":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.unpin()


def pin_memory_inplace(tensor: Tensor, chunk_bytes: int = MAX_REGISTER_BYTES) -> PinnedMemory:
    """Page-lock a contiguous CPU tensor without copying it; returns the handle that unpins.

    Example:
        >>> with pin_memory_inplace(table):          # doctest: +SKIP
        ...     rows = gather_rows(table, index.cuda())
    """
    return PinnedMemory(tensor, chunk_bytes)


# ---------------------------------------------------------------------------------------------
# The op
# ---------------------------------------------------------------------------------------------
def _out_device(table: Tensor, index: Tensor) -> torch.device:
    return index.device if index.device.type == "cuda" else table.device


def gather_rows_reference(table: Tensor, index: Tensor) -> Tensor:
    """Executable spec: ``table.index_select(0, index)`` moved to the compute device."""
    rows = table.index_select(0, index.to(table.device))
    return rows.to(_out_device(table, index))


def _gather_torch(table: Tensor, index: Tensor) -> Tensor:
    _check_bounds(table, index)
    return gather_rows_reference(table, index)


@torch.library.custom_op("graphspike::gather_rows", mutates_args=())
def _gather_op(table: Tensor, index: Tensor, max_threads: int, backend: str) -> Tensor:
    return _gather_torch(table, index)


@_gather_op.register_kernel("cuda")
def _gather_cuda(table: Tensor, index: Tensor, max_threads: int, backend: str) -> Tensor:
    if backend != "cuda":
        return _gather_torch(table, index)
    _check_bounds(table, index)
    flat = table.reshape(table.shape[0], -1)  # [R, D] view of a contiguous table
    sorted_index, perm = torch.sort(index)
    out = torch.empty((index.numel(), flat.shape[1]), dtype=table.dtype, device=index.device)
    extension().gather_rows_uva(flat, sorted_index, perm, out, max_threads)
    return out.view((index.numel(), *table.shape[1:]))


@_gather_op.register_fake
def _gather_fake(table: Tensor, index: Tensor, max_threads: int, backend: str) -> Tensor:
    return table.new_empty((index.shape[0], *table.shape[1:]), device=_out_device(table, index))


def _gather_setup(ctx: Any, inputs: tuple, output: Tensor) -> None:
    table, index, _, _ = inputs
    ctx.table_shape = table.shape
    ctx.table_device = table.device
    ctx.save_for_backward(index)


def _gather_backward(ctx: Any, grad: Tensor):
    (index,) = ctx.saved_tensors
    grad_table = grad.new_zeros(ctx.table_shape, device=ctx.table_device)
    grad_table.index_add_(0, index.to(ctx.table_device), grad.to(ctx.table_device))
    return grad_table, None, None, None


_gather_op.register_autograd(_gather_backward, setup_context=_gather_setup)


def _validate(table: Any, index: Any, max_threads: Any) -> Tensor:
    if not isinstance(table, Tensor) or table.dim() < 1:
        got = f"tensor of shape {tuple(table.shape)}" if isinstance(table, Tensor) else type(table).__name__
        raise TypeError(f"gather_rows: table must be a tensor [R, ...] with at least one dimension (got {got})")
    if not isinstance(index, Tensor) or index.dim() != 1 or index.dtype not in (torch.int64, torch.int32):
        got = f"{index.dtype} tensor of shape {tuple(index.shape)}" if isinstance(index, Tensor) else type(index).__name__
        raise TypeError(f"gather_rows: index must be a 1-D int64/int32 tensor (got {got})")
    if isinstance(max_threads, bool) or not isinstance(max_threads, int) or max_threads < 256:
        raise ValueError(f"gather_rows: max_threads must be an int >= 256 (got {max_threads!r})")
    return index.long()


def _check_bounds(table: Tensor, index: Tensor) -> None:
    """Raise before any row is read. Runs inside the op (so also under ``torch.compile``);
    costs one host synchronisation to read the index's min and max."""
    if index.numel():
        lo, hi = torch.aminmax(index)
        lo, hi = int(lo), int(hi)
        if lo < 0 or hi >= table.shape[0]:
            raise ValueError(
                f"gather_rows: index out of range for a table of {table.shape[0]} rows (got min {lo}, max {hi})"
            )


def _use_kernel(table: Tensor, index: Tensor) -> bool:
    return index.device.type == "cuda" and table.device.type == "cpu" and table.is_pinned() and table.is_contiguous()


def gather_rows(table: Tensor, index: Tensor, *, backend: str = "auto",
                max_threads: int = DEFAULT_MAX_THREADS) -> Tensor:
    """Gather ``table[index]`` onto the compute device (see the module docstring for paths).

    Args:
        table: ``[R, *D]``; CPU (pinned in place for the zero-copy path) or CUDA.
        index: ``[M]`` int64/int32 row ids in ``[0, R)``, on CPU or CUDA.
        backend: ``"auto"``, ``"torch"`` or ``"cuda"``. The kernel applies only to a pinned
            contiguous CPU table with a CUDA index; ``"cuda"`` for anything else raises.
        max_threads: cap on the kernel's threads, so it shares the GPU with compute.

    Returns:
        ``[M, *D]`` with the table's dtype, on ``index.device`` if CUDA else ``table.device``.
    """
    index = _validate(table, index, max_threads)
    resolved = resolve_backend("gather_rows", backend, index.device)
    if resolved == "cuda" and not _use_kernel(table, index):
        if backend == "cuda":
            raise ValueError(
                "gather_rows: backend='cuda' needs a pinned contiguous CPU table and a CUDA index "
                f"(got table on {table.device}, pinned={table.device.type == 'cpu' and table.is_pinned()}, "
                f"index on {index.device})"
            )
        resolved = "torch"
    return _gather_op(table, index, max_threads, resolved)


@dataclass
class GatherHandle:
    """Result of :func:`gather_rows_async`; call :meth:`wait` before using the rows."""

    out: Tensor
    event: Optional["torch.cuda.Event"]
    stream: Optional["torch.cuda.Stream"]

    def wait(self) -> Tensor:
        """Make the current stream wait for the gather and return the rows."""
        if self.event is not None:
            current = torch.cuda.current_stream(self.out.device)
            current.wait_event(self.event)
            self.out.record_stream(current)
        return self.out


_side_streams: dict[int, "torch.cuda.Stream"] = {}


def _side_stream(device: torch.device) -> "torch.cuda.Stream":
    idx = device.index if device.index is not None else torch.cuda.current_device()
    if idx not in _side_streams:
        _side_streams[idx] = torch.cuda.Stream(device=idx, priority=-1)
    return _side_streams[idx]


def gather_rows_async(table: Tensor, index: Tensor, *, backend: str = "auto",
                      max_threads: int = DEFAULT_MAX_THREADS,
                      stream: Optional["torch.cuda.Stream"] = None) -> GatherHandle:
    """:func:`gather_rows` launched on a (high-priority) side stream when the index is on CUDA.

    The side stream first waits for the current stream (which produced ``index``); work the
    caller queues on the current stream afterwards overlaps the gather until
    :meth:`GatherHandle.wait`. On CPU this is :func:`gather_rows` with a no-op handle.
    """
    if not isinstance(index, Tensor) or index.device.type != "cuda":
        return GatherHandle(gather_rows(table, index, backend=backend, max_threads=max_threads), None, None)
    side = stream if stream is not None else _side_stream(index.device)
    side.wait_stream(torch.cuda.current_stream(index.device))
    with torch.cuda.stream(side):
        out = gather_rows(table, index, backend=backend, max_threads=max_threads)
        event = torch.cuda.Event()
        event.record(side)
    return GatherHandle(out, event, side)
