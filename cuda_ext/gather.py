r"""Row gather ``out[k] = table[index[k]]`` onto the compute device, zero-copy from pinned host memory.

A GNN mini-batch needs a few thousand scattered rows of a feature table too large for GPU
memory. The usual path gathers them on the CPU into a staging buffer and copies that over
(three passes over memory and CPU time). PyTorch-Direct (Min et al., "Large Graph
Convolutional Network Training with GPU-Oriented Data Communication Architecture",
VLDB 2021) lets GPU threads read the rows in place through the unified virtual address of
page-locked host memory. This module is the op only: page-locking a table in place, and its
lifetime, belong to the sampling layer (``sampling.FeatureStore``), which uses the thin
registration helpers of :mod:`cuda_ext.host_memory`.

:func:`gather_rows` -- ``torch.ops.graphspike.gather_rows`` -- by table and index:

============================  ===========================================================
table / index                 path
============================  ===========================================================
CPU / CPU                     ``index_select`` (the reference)
pinned CPU / CUDA             zero-copy kernel ``csrc/gather.cu`` (when built): indices
                              sorted (permutation kept), a lane group per row, 16-byte
                              loads, 128-B aligned row starts, index loads prefetched,
                              thread count capped by ``max_threads``
CUDA / CUDA or CPU            the same kernel on device memory (no sort), else ``index_select``
CPU (not pinned) / CUDA       CPU ``index_select``, then one copy to the GPU
============================  ===========================================================

"Pinned" means page-locked over the whole range (allocated pinned, or registered with
``cudaHostRegister``); the kernel checks the first and the last byte. The result lives on the
compute device: the index's device if it is CUDA, else the table's.

**Out-of-range indices are an error on every path, without a host synchronisation per call.**
With a host index they raise ``ValueError`` before any row is read. With a CUDA index the
kernel never reads them: it zero-fills their rows and counts them on the device, and

* :func:`gather_rows` (``check="device"``, the default) queues a device-side assertion on the
  count (``torch._assert_async``): nothing waits, the call stays capturable in a CUDA graph and
  traceable by ``torch.compile``, and a bad index surfaces at the next synchronisation as
  CUDA's "device-side assert triggered" -- exactly as ``torch.index_select`` does on CUDA
  (the CUDA context is unusable afterwards). ``check="sync"`` raises ``ValueError`` at once
  instead, at the price of one host synchronisation with the current stream;
* :func:`gather_rows_async` copies the count to pinned host memory on the side stream, and
  :meth:`GatherHandle.wait` raises ``ValueError``: it makes the consumer stream wait for the
  gather (a stream dependency, never a host wait for the compute stream), then waits on the
  host for this gather alone -- normally finished already when the loader prefetched it.
  ``wait(check=False)`` does not wait on the host: it queues the device-side assertion.

Differences from DGL/GraphBolt: plain torch tensors (no NDArray keep-alive object); the gather
is a ``torch.library`` op with a fake implementation (``torch.compile``), and a gradient to the
table (``index_add_``); out-of-range rows are counted and reported rather than unchecked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import torch
from torch import Tensor

from cuda_ext._backend import extension, resolve_backend

__all__ = ["DEFAULT_MAX_THREADS", "GatherHandle", "gather_rows", "gather_rows_async", "gather_rows_reference"]

#: Default cap on the gather kernel's threads (GraphBolt's tuned value: about 5-7 SMs), so a
#: gather on a side stream leaves the rest of the GPU to compute.
DEFAULT_MAX_THREADS = 10240
_CHECKS = ("device", "sync")


def _out_device(table: Tensor, index: Tensor) -> torch.device:
    return index.device if index.device.type == "cuda" else table.device


def gather_rows_reference(table: Tensor, index: Tensor) -> Tensor:
    """Executable spec: ``table.index_select(0, index)`` moved to the compute device."""
    rows = table.index_select(0, index.to(table.device))
    return rows.to(_out_device(table, index))


def _raise_out_of_range(count: int, index: Tensor, num_rows: int) -> None:
    lo, hi = torch.aminmax(index)
    raise ValueError(
        f"gather_rows: index out of range for a table of {num_rows} rows "
        f"({count} value(s) outside [0, {num_rows}); got min {int(lo)}, max {int(hi)})"
    )


def _check_host_index(table: Tensor, index: Tensor) -> None:
    """Raise before any row is read; the index is in host memory, so this costs no synchronisation."""
    if index.numel():
        lo, hi = torch.aminmax(index)
        if int(lo) < 0 or int(hi) >= table.shape[0]:
            _raise_out_of_range(int(((index < 0) | (index >= table.shape[0])).sum()), index, table.shape[0])


def _kernel_table(table: Tensor) -> bool:
    """A table the kernel can read: contiguous, on the GPU or page-locked host memory."""
    if not table.is_contiguous():
        return False
    if table.device.type == "cuda":
        return True
    return table.device.type == "cpu" and table.is_pinned()


def _gather_kernel(table: Tensor, index: Tensor, max_threads: int) -> tuple[Tensor, Tensor]:
    flat = table.reshape(table.shape[0], -1)  # [R, D]: a view of the contiguous table
    if table.device.type == "cpu":
        # Host rows: read them in address order (PCIe locality), then put them back in place.
        sorted_index, perm = torch.sort(index)
    else:
        sorted_index, perm = index, None
    out = torch.empty((index.numel(), flat.shape[1]), dtype=table.dtype, device=index.device)
    invalid = torch.zeros((), dtype=torch.int64, device=index.device)
    extension().gather_rows_into(flat, sorted_index, perm, out, invalid, max_threads)
    return out.view((index.numel(), *table.shape[1:])), invalid  # [M, *D]


def _gather_torch_device_index(table: Tensor, index: Tensor) -> tuple[Tensor, Tensor]:
    """PyTorch path for a CUDA index: bad rows zero-filled and counted on the device, no sync."""
    num_rows = table.shape[0]
    bad = (index < 0) | (index >= num_rows)
    invalid = bad.sum()
    if table.device.type == "cuda":
        if num_rows == 0:
            return table.new_zeros((index.numel(), *table.shape[1:])), invalid
        rows = table.index_select(0, index.masked_fill(bad, 0))
        return rows.masked_fill_(bad.view(-1, *[1] * (table.dim() - 1)), 0), invalid
    # Table in pageable host memory: the index must come to the host anyway (a synchronisation).
    host_index = index.cpu()
    _check_host_index(table, host_index)
    return table.index_select(0, host_index).to(index.device), invalid


@torch.library.custom_op("graphspike::gather_rows", mutates_args=())
def _gather_op(table: Tensor, index: Tensor, max_threads: int, backend: str) -> tuple[Tensor, Tensor]:
    """``(rows, invalid)``; ``backend``: ``"torch"``, ``"auto"`` (kernel when the table allows) or
    ``"cuda"`` (kernel or error). A host index out of range raises; a device index is counted."""
    _check_host_index(table, index)
    rows = gather_rows_reference(table, index)
    return rows, torch.zeros((), dtype=torch.int64, device=rows.device)


@_gather_op.register_kernel("cuda")
def _gather_cuda(table: Tensor, index: Tensor, max_threads: int, backend: str) -> tuple[Tensor, Tensor]:
    if index.device.type != "cuda":  # a CUDA table with a host index
        _check_host_index(table, index)
        index = index.to(table.device, non_blocking=True)
    if backend != "torch" and _kernel_table(table):
        return _gather_kernel(table, index, max_threads)
    if backend == "cuda":
        raise ValueError(
            "gather_rows: backend='cuda' needs a contiguous table on the GPU or in page-locked (pinned) host memory "
            f"(got a {'contiguous' if table.is_contiguous() else 'non-contiguous'} table on {table.device}, "
            f"pinned={table.device.type == 'cpu' and table.is_pinned()})"
        )
    return _gather_torch_device_index(table, index)


@_gather_op.register_fake
def _gather_fake(table: Tensor, index: Tensor, max_threads: int, backend: str) -> tuple[Tensor, Tensor]:
    device = _out_device(table, index)
    return (
        table.new_empty((index.shape[0], *table.shape[1:]), device=device),
        torch.empty((), dtype=torch.int64, device=device),
    )


def _gather_setup(ctx: Any, inputs: tuple, output: tuple) -> None:
    table, index, _, _ = inputs
    ctx.table_shape = table.shape
    ctx.table_device = table.device
    ctx.save_for_backward(index)


def _gather_backward(ctx: Any, grad: Tensor, _grad_invalid: Optional[Tensor]):
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
        got = (
            f"{index.dtype} tensor of shape {tuple(index.shape)}" if isinstance(index, Tensor) else type(index).__name__
        )
        raise TypeError(f"gather_rows: index must be a 1-D int64/int32 tensor (got {got})")
    if isinstance(max_threads, bool) or not isinstance(max_threads, int) or max_threads < 256:
        raise ValueError(f"gather_rows: max_threads must be an int >= 256 (got {max_threads!r})")
    return index.long()


def _op_backend(backend: str, table: Tensor, index: Tensor) -> str:
    """The op's backend: the requested one, with ``"auto"`` resolved (and warned about) once here."""
    compute = index.device if index.device.type == "cuda" else table.device
    resolved = resolve_backend("gather_rows", backend, compute)
    if backend == "cuda":
        return "cuda"
    return "auto" if resolved == "cuda" else "torch"


def gather_rows(
    table: Tensor,
    index: Tensor,
    *,
    backend: str = "auto",
    max_threads: int = DEFAULT_MAX_THREADS,
    check: str = "device",
) -> Tensor:
    """Gather ``table[index]`` onto the compute device (see the module docstring for the paths).

    Args:
        table: ``[R, *D]``; on the GPU, or on the CPU (page-locked for the zero-copy path).
        index: ``[M]`` int64/int32 row ids in ``[0, R)``, on CPU or CUDA.
        backend: ``"auto"``, ``"torch"`` or ``"cuda"``. ``"cuda"`` needs a CUDA table or index and a
            contiguous table on the GPU or in pinned host memory, and raises otherwise.
        max_threads: cap on the kernel's threads (>= 256), so it shares the GPU with compute.
        check: how an out-of-range CUDA index is reported: ``"device"`` (device-side assertion,
            no synchronisation) or ``"sync"`` (``ValueError`` now, one synchronisation). A host
            index always raises ``ValueError`` at once.

    Returns:
        ``[M, *D]`` with the table's dtype, on ``index.device`` if CUDA else ``table.device``.

    Raises:
        TypeError: malformed table or index. ValueError: an out-of-range host index, a bad
        ``max_threads``/``check``, or ``backend="cuda"`` for a table the kernel cannot read.
    """
    index = _validate(table, index, max_threads)
    if check not in _CHECKS:
        raise ValueError(f"gather_rows: check must be one of {_CHECKS} (got {check!r})")
    out, invalid = _gather_op(table, index, max_threads, _op_backend(backend, table, index))
    if invalid.device.type == "cuda":
        if check == "sync":
            count = int(invalid)
            if count:
                _raise_out_of_range(count, index, table.shape[0])
        else:
            torch._assert_async(invalid == 0, "gather_rows: index out of range")
    return out


@dataclass
class GatherHandle:
    """A gather in flight on a side stream (:func:`gather_rows_async`); :meth:`wait` for the rows.

    Holds the table and index (so neither is freed while the side stream reads them), the output,
    the device count of out-of-range indices and its pinned host copy, and the CUDA event recorded
    after the gather. On CPU (``event is None``) the rows are ready and were checked already.
    """

    out: Tensor
    event: Optional["torch.cuda.Event"] = None
    stream: Optional["torch.cuda.Stream"] = None
    invalid: Optional[Tensor] = None
    invalid_host: Optional[Tensor] = field(default=None, repr=False)
    num_rows: int = 0
    _keep: tuple = field(default=(), repr=False)
    _checked: bool = field(default=False, repr=False)

    def done(self) -> bool:
        """Whether the gather has finished (never blocks)."""
        return self.event is None or self.event.query()

    def check(self) -> None:
        """Wait on the host for this gather only, then raise ``ValueError`` if an index was out of range."""
        if self.event is None or self._checked:
            return
        self.event.synchronize()
        self._checked = True
        count = int(self.invalid_host[0])
        if count:
            _raise_out_of_range(count, self._keep[1], self.num_rows)

    def wait(self, check: bool = True) -> Tensor:
        """Make the current stream wait for the gather and return the rows.

        Args:
            check: raise ``ValueError`` for out-of-range indices (waits on the host for this gather,
                never for the compute stream); ``False`` queues a device-side assertion instead and
                does not wait on the host.
        """
        if self.event is not None:
            current = torch.cuda.current_stream(self.out.device)
            current.wait_event(self.event)
            self.out.record_stream(current)  # allocated on the side stream, used on this one
            if check:
                self.check()
            else:
                self.invalid.record_stream(current)
                torch._assert_async(self.invalid == 0, "gather_rows: index out of range")
        return self.out


_side_streams: dict[int, "torch.cuda.Stream"] = {}


def _side_stream(device: torch.device) -> "torch.cuda.Stream":
    idx = device.index if device.index is not None else torch.cuda.current_device()
    if idx not in _side_streams:
        _side_streams[idx] = torch.cuda.Stream(device=idx, priority=-1)
    return _side_streams[idx]


def gather_rows_async(
    table: Tensor,
    index: Tensor,
    *,
    backend: str = "auto",
    max_threads: int = DEFAULT_MAX_THREADS,
    stream: Optional["torch.cuda.Stream"] = None,
) -> GatherHandle:
    """:func:`gather_rows` on a (high-priority) side stream when the index is on CUDA.

    The side stream first waits for the current stream (which produced ``index``); work queued on
    the current stream afterwards overlaps the gather until :meth:`GatherHandle.wait`. The index
    (and a CUDA table) are recorded on the side stream, so the caching allocator does not hand
    their memory to new tensors of the current stream before the gather has read them, even if
    the caller drops its references at once. On CPU this is :func:`gather_rows` with a finished
    handle.
    """
    index = _validate(table, index, max_threads)
    if index.device.type != "cuda":
        return GatherHandle(gather_rows(table, index, backend=backend, max_threads=max_threads, check="sync"))
    op_backend = _op_backend(backend, table, index)
    current = torch.cuda.current_stream(index.device)
    side = stream if stream is not None else _side_stream(index.device)
    side.wait_stream(current)
    with torch.cuda.stream(side):
        out, invalid = _gather_op(table, index, max_threads, op_backend)
        invalid_host = torch.empty(1, dtype=torch.int64, pin_memory=True)
        invalid_host.copy_(invalid.view(1), non_blocking=True)
        event = torch.cuda.Event()
        event.record(side)
    index.record_stream(side)
    if table.device.type == "cuda":
        table.record_stream(side)
    return GatherHandle(out, event, side, invalid, invalid_host, table.shape[0], _keep=(table, index))
