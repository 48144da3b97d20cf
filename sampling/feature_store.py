r"""``FeatureStore``: a node-feature table and the gather of mini-batch rows onto the compute device.

A sampled mini-batch needs the rows ``table[index]`` of its input nodes, a few thousand scattered
rows of a table that may not fit in GPU memory (or in RAM). Where the table lives decides how:

=========  ===========================================================================  ===========
placement  gather                                                                        table in
=========  ===========================================================================  ===========
"cuda"     ``index_select`` on the GPU                                                   GPU memory
"pinned"   GPU threads read the rows zero-copy from host memory page-locked in place     host RAM
           (:func:`cuda_ext.gather_rows`, PyTorch-Direct, Min et al. VLDB 2021)
"cpu"      CPU ``index_select`` into a pinned staging buffer, then one copy to the GPU   host RAM
"mmap"     as "cpu", rows read in ascending order from a file mapped into memory, so     disk + page
           the table may be larger than RAM (``np.load(path, mmap_mode="r")``)           cache
=========  ===========================================================================  ===========

:meth:`FeatureStore.gather` returns ``[M, *D]`` rows on the compute device;
:meth:`FeatureStore.gather_async` launches the same work on a high-priority side stream and
returns a :class:`GatherHandle` whose :meth:`~GatherHandle.wait` makes the caller's stream wait
(compute queued in between overlaps the transfer). The handle keeps the index, staging buffer and
output alive until then. Row ids out of ``[0, num_rows)`` are an error on every path: checked on
the CPU for CPU work, and on the device for GPU work -- a flag computed beside the gather and read
at :meth:`~GatherHandle.wait` -- so the asynchronous path costs no host synchronisation per batch
before ``wait``; the gather itself then reads clamped rows, never out-of-bounds memory.

Differences from DGL/GraphBolt (``TorchBasedFeature``): one object for the four placements with one
``gather``; in-place pinning is owned by the store (:class:`sampling.pinned.PinnedRegion`,
unregistered on :meth:`close`, on ``with`` exit and by a finaliser, after in-flight gathers); a
``memory_budget`` refuses placements that would hold a too-large table resident.
"""

from __future__ import annotations

import threading
import warnings
from pathlib import Path
from typing import Any, Optional, Union

import numpy as np
import torch
from torch import Tensor

from sampling.pinned import PinnedRegion, Runtime, UnpinnableError

__all__ = ["PLACEMENTS", "FeatureStore", "GatherHandle"]

PLACEMENTS = ("cuda", "pinned", "cpu", "mmap")
_UNPINNABLE = ("error", "copy")


def _describe(x: Any) -> str:
    if isinstance(x, Tensor):
        return f"{x.dtype} tensor of shape {tuple(x.shape)} on {x.device}"
    return type(x).__name__


def _check_index(fn: str, index: Any) -> Tensor:
    if not isinstance(index, Tensor) or index.dim() != 1 or index.dtype not in (torch.int64, torch.int32):
        raise TypeError(f"{fn}: index must be a 1-D int64/int32 tensor of row ids (got {_describe(index)})")
    return index


def _bounds_error(fn: str, num_rows: int, lo: Optional[int] = None, hi: Optional[int] = None) -> ValueError:
    got = f"min {lo}, max {hi}" if lo is not None else "an id outside the range, found on the device"
    return ValueError(f"{fn}: row ids must lie in [0, {num_rows}) (got {got})")


class GatherHandle:
    """A gather in flight; :meth:`wait` returns the rows ``[M, *D]`` on the compute device.

    Errors found while launching (out-of-range rows) are raised by :meth:`wait`, not before.
    """

    def __init__(
        self,
        out: Optional[Tensor],
        *,
        event: Any = None,
        flag: Optional[Tensor] = None,
        error: Optional[BaseException] = None,
        keep: tuple = (),
        num_rows: int = 0,
    ) -> None:
        self._out = out
        self._event = event
        self._flag = flag  # pinned host bool, True when a row id was out of range
        self._error = error
        self._keep = keep  # index / staging tensors the side stream still reads
        self._num_rows = num_rows

    def done(self) -> bool:
        """Whether the rows are ready (never blocks)."""
        return self._event is None or bool(self._event.query())

    def wait(self) -> Tensor:
        """Make the current stream wait for the gather; raise a launch error; return the rows.

        Raises:
            ValueError: a row id was out of range.
        """
        if self._error is not None:
            raise self._error
        if self._event is not None:
            current = torch.cuda.current_stream(self._out.device)
            current.wait_event(self._event)
            self._out.record_stream(current)
            if self._flag is not None:
                self._event.synchronize()  # the flag's copy to the host is part of the gather's work
                if bool(self._flag):
                    raise _bounds_error("FeatureStore.gather", self._num_rows)
        self._keep = ()
        return self._out


def _open_table(table: Any, placement: str, fn: str) -> tuple[Tensor, Optional[Path]]:
    """The table as a CPU or CUDA tensor; ``.npy`` paths and numpy arrays are wrapped without a copy."""
    path = None
    if isinstance(table, (str, Path)):
        path = Path(table)
        if not path.is_file():
            raise FileNotFoundError(f"{fn}: feature file {str(path)!r} does not exist")
        table = np.load(path, mmap_mode="r", allow_pickle=False)  # read into RAM (below) after the budget check
    elif placement == "mmap" and not isinstance(table, np.memmap):
        raise ValueError(
            f"{fn}: placement='mmap' reads a file: pass a .npy path or an np.memmap "
            f"(got {_describe(table)}; use placement='cpu' for an in-memory table)"
        )
    if isinstance(table, np.ndarray):
        if table.dtype.byteorder == ">" or not table.flags.c_contiguous:
            raise ValueError(
                f"{fn}: a numpy table must be C-contiguous and native-endian (got {table.dtype}, "
                f"c_contiguous={table.flags.c_contiguous})"
            )
        with warnings.catch_warnings():  # read-only memmaps are never written through the tensor
            warnings.simplefilter("ignore", UserWarning)
            table = torch.from_numpy(table)
    if not isinstance(table, Tensor) or table.dim() < 1:
        raise TypeError(f"{fn}: table must be a tensor/array [num_rows, ...] or a .npy path (got {_describe(table)})")
    return table, path


class FeatureStore:
    """A feature table ``[num_rows, *D]`` placed on the GPU, in pinned or plain host memory, or in a file.

    Args:
        table: a tensor or numpy array ``[num_rows, *D]``, or the path of a ``.npy`` file (mapped
            read-only for ``"mmap"``, loaded into RAM for the other placements).
        placement: ``"cuda"``, ``"pinned"``, ``"cpu"`` or ``"mmap"`` (see the module docstring).
        device: compute device the rows are returned on; defaults to the current CUDA device for
            ``"cuda"``/``"pinned"`` and to the CPU for ``"cpu"``/``"mmap"``.
        memory_budget: bytes the store may hold resident. ``"cuda"``, ``"pinned"`` and ``"cpu"``
            hold the whole table and refuse a larger one; ``"mmap"`` holds only what the OS
            caches, so it accepts any size. ``None``: no limit.
        unpinnable: what ``"pinned"`` does with a table that cannot be page-locked in place (a
            read-only mmap on a device without read-only registration): ``"error"`` (default)
            raises :class:`~sampling.pinned.UnpinnableError`; ``"copy"`` copies it into
            writable RAM (a table-sized allocation) and locks the copy, with a warning.
        runtime: CUDA runtime for page-locking (tests pass a fake; default the real one).

    Attributes:
        placement, device, memory_budget, unpinnable: as given (``device`` resolved).
        copied: whether ``"pinned"`` had to copy the table.

    Raises:
        TypeError: ``table`` or an index has the wrong type.
        ValueError: unknown placement/unpinnable, a table over ``memory_budget``, ``"mmap"`` without
            a file, a store used after :meth:`close`, row ids out of range.
        UnpinnableError: ``"pinned"`` on memory that cannot be page-locked (``unpinnable="error"``).
        RuntimeError: ``"cuda"``/``"pinned"`` without a CUDA device.

    Example:
        >>> store = FeatureStore(torch.arange(12.0).view(6, 2), "cpu")
        >>> store.gather(torch.tensor([5, 0])).tolist()
        [[10.0, 11.0], [0.0, 1.0]]
        >>> store.close()
    """

    def __init__(
        self,
        table: Any,
        placement: str = "cpu",
        *,
        device: Any = None,
        memory_budget: Optional[int] = None,
        unpinnable: str = "error",
        runtime: Optional[Runtime] = None,
    ) -> None:
        fn = "FeatureStore"
        if placement not in PLACEMENTS:
            raise ValueError(f"{fn}: placement must be one of {PLACEMENTS} (got {placement!r})")
        if unpinnable not in _UNPINNABLE:
            raise ValueError(f"{fn}: unpinnable must be one of {_UNPINNABLE} (got {unpinnable!r})")
        if memory_budget is not None and (
            isinstance(memory_budget, bool) or not isinstance(memory_budget, int) or memory_budget < 0
        ):
            raise ValueError(f"{fn}: memory_budget must be a non-negative int of bytes or None (got {memory_budget!r})")
        self.placement = placement
        self.memory_budget = memory_budget
        self.unpinnable = unpinnable
        self.copied = False
        self.device = self._resolve_device(fn, placement, device, runtime)
        table, self.path = _open_table(table, placement, fn)
        nbytes = table.numel() * table.element_size()
        if memory_budget is not None and placement != "mmap" and nbytes > memory_budget:
            raise ValueError(
                f"{fn}: placement={placement!r} holds the whole table resident, but it is {nbytes} "
                f"bytes, over memory_budget={memory_budget} (got a too-large table); use "
                "placement='mmap'" + (" or 'pinned'" if placement == "cuda" else "")
            )
        if self.path is not None and placement in ("cpu", "pinned"):
            table = table.clone()  # the file's rows into RAM ("cuda" copies them to the GPU below)
        self._region: Optional[PinnedRegion] = None
        if placement == "cuda":
            table = table.to(self.device)
        elif table.device.type != "cpu":
            raise ValueError(f"{fn}: placement={placement!r} needs a CPU table (got one on {table.device})")
        if placement == "pinned":
            table = self._pin(table.contiguous(), runtime)
        self._table: Optional[Tensor] = table
        self._shape = tuple(table.shape)
        self._dtype = table.dtype
        self._stream: Any = None
        self._lock = threading.Lock()

    @staticmethod
    def _resolve_device(fn: str, placement: str, device: Any, runtime: Optional[Runtime]) -> torch.device:
        if device is None:
            device = "cuda" if placement in ("cuda", "pinned") and runtime is None else "cpu"
        device = torch.device(device)
        if device.type == "cuda":
            if not torch.cuda.is_available():
                raise RuntimeError(
                    f"{fn}: placement={placement!r} on {device} needs a CUDA device (none visible); "
                    "use placement='cpu' or 'mmap' on the CPU"
                )
            device = torch.device("cuda", device.index if device.index is not None else torch.cuda.current_device())
        elif device.type != "cpu":
            raise ValueError(f"{fn}: device must be a CPU or CUDA device (got {device})")
        if placement == "cuda" and device.type != "cuda":
            raise ValueError(f"{fn}: placement='cuda' needs a CUDA compute device (got {device})")
        return device

    def _pin(self, table: Tensor, runtime: Optional[Runtime]) -> Tensor:
        try:
            self._region = PinnedRegion(table, runtime=runtime)
        except UnpinnableError:
            if self.unpinnable != "copy":
                raise
            warnings.warn(
                f"FeatureStore: the table cannot be page-locked in place; copying its "
                f"{table.numel() * table.element_size()} bytes into writable RAM to pin them",
                stacklevel=3,
            )
            table = torch.empty_like(table).copy_(table)
            self._region = PinnedRegion(table, runtime=runtime)
            self.copied = True
        return table

    @classmethod
    def from_file(cls, path: Union[str, Path], placement: str = "mmap", **kwargs: Any) -> "FeatureStore":
        """A store over the ``.npy`` file ``path`` (mapped read-only for ``"mmap"``)."""
        return cls(Path(path), placement, **kwargs)

    # --- description ---------------------------------------------------------------------------
    @property
    def closed(self) -> bool:
        return self._table is None

    @property
    def shape(self) -> tuple[int, ...]:
        return self._shape

    @property
    def num_rows(self) -> int:
        return self._shape[0]

    @property
    def dtype(self) -> torch.dtype:
        return self._dtype

    @property
    def nbytes(self) -> int:
        return int(np.prod(self._shape, dtype=np.int64)) * torch.empty((), dtype=self._dtype).element_size()

    @property
    def table(self) -> Tensor:
        """The underlying table (on the GPU for ``"cuda"``, else host memory or a mapped file)."""
        return self._live("FeatureStore.table")

    @property
    def region(self) -> Optional[PinnedRegion]:
        """The page-locking handle of ``"pinned"`` (``None`` for other placements)."""
        return self._region

    def __len__(self) -> int:
        return self.num_rows

    def _live(self, fn: str) -> Tensor:
        table = self._table
        if table is None:
            raise ValueError(f"{fn}: the store is closed (got a call after close())")
        return table

    # --- gather ------------------------------------------------------------------------------
    def gather(self, index: Tensor) -> Tensor:
        """Rows ``table[index]`` as ``[M, *D]`` on :attr:`device` (waits for them)."""
        return self._launch("FeatureStore.gather", index).wait()

    def gather_async(self, index: Tensor) -> GatherHandle:
        """Launch the gather of ``table[index]``; :meth:`GatherHandle.wait` returns the rows.

        On a CUDA device the work runs on a high-priority side stream that first waits for the
        caller's stream (which produced ``index``). Out-of-range ids raise at ``wait()``.
        """
        return self._launch("FeatureStore.gather_async", index)

    def _launch(self, fn: str, index: Tensor) -> GatherHandle:
        index = _check_index(fn, index)
        table = self._live(fn)
        if self.device.type == "cuda" and self.placement in ("cuda", "pinned"):
            return self._launch_device(table, index)
        return self._launch_host(table, index)

    def _launch_host(self, table: Tensor, index: Tensor) -> GatherHandle:
        """CPU gather (``"cpu"``, ``"mmap"``, or any placement with a CPU compute device)."""
        idx = index.to("cpu").long()
        if idx.numel():
            lo, hi = (int(v) for v in torch.aminmax(idx))
            if lo < 0 or hi >= self.num_rows:
                return GatherHandle(None, error=_bounds_error("FeatureStore.gather", self.num_rows, lo, hi))
        if self.device.type == "cpu":
            return GatherHandle(self._read_rows(table, idx, pin=False))
        staging = self._read_rows(table, idx, pin=True)
        event, stream = self._on_side_stream()
        with torch.cuda.stream(stream):
            out = staging.to(self.device, non_blocking=True)
            event.record(stream)
        return GatherHandle(out, event=event, keep=(staging,))

    def _read_rows(self, table: Tensor, idx: Tensor, pin: bool) -> Tensor:
        out = torch.empty((idx.numel(), *self._shape[1:]), dtype=self._dtype, pin_memory=pin)
        if self.placement == "mmap" and idx.numel() > 1:
            order = torch.argsort(idx)  # ascending file offsets: sequential reads, OS read-ahead
            out.index_copy_(0, order, table.index_select(0, idx.index_select(0, order)))
        else:
            torch.index_select(table, 0, idx, out=out)
        return out

    def _on_side_stream(self) -> tuple[Any, Any]:
        with self._lock:
            if self._stream is None:
                self._stream = torch.cuda.Stream(device=self.device, priority=-1)
        self._stream.wait_stream(torch.cuda.current_stream(self.device))
        return torch.cuda.Event(), self._stream

    def _launch_device(self, table: Tensor, index: Tensor) -> GatherHandle:
        """GPU gather (``"cuda"``; ``"pinned"`` through the zero-copy kernel)."""
        import cuda_ext

        if index.numel() and self.num_rows == 0:
            return GatherHandle(None, error=_bounds_error("FeatureStore.gather", 0, 0, 0))
        event, stream = self._on_side_stream()
        flag = torch.empty((), dtype=torch.bool, pin_memory=True)
        with torch.cuda.stream(stream):
            idx = index.to(self.device, non_blocking=True).long()
            bad = ((idx < 0) | (idx >= self.num_rows)).any()
            safe = idx.clamp(0, max(self.num_rows - 1, 0))
            if self.placement == "cuda":
                out = table.index_select(0, safe)
            else:
                out = cuda_ext.gather_rows(table, safe)
            flag.copy_(bad, non_blocking=True)
            event.record(stream)
        if index.device.type == "cuda":
            index.record_stream(stream)  # produced on the caller's stream, read on the side stream
        if self._region is not None:
            self._region.track(event)
        return GatherHandle(out, event=event, flag=flag, keep=(index, idx, safe), num_rows=self.num_rows)

    # --- lifetime ----------------------------------------------------------------------------
    def close(self) -> None:
        """Release the table: wait for in-flight gathers and unpin (``"pinned"``). Idempotent."""
        if self._table is None:
            return
        self._table = None
        if self._region is not None:
            self._region.close()

    def __enter__(self) -> "FeatureStore":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        state = ", closed" if self.closed else ""
        return (
            f"FeatureStore(shape={self._shape}, dtype={self._dtype}, placement={self.placement!r}, "
            f"device={self.device}, memory_budget={self.memory_budget}{state})"
        )
