r"""Page-locking a CPU tensor *in place* so GPU threads can read it zero-copy (UVA).

``Tensor.pin_memory()`` copies the tensor into PyTorch's pinned caching allocator (twice the
host RAM at the peak, blocks rounded up to a power of two; pytorch#32167). For a feature table
that is most of the machine's RAM we register the existing pages instead, with
``cudaHostRegister(ptr, size, Portable | Mapped)``, as GraphBolt's ``pin_memory_()`` and
PyTorch-Direct's unified tensor do (Min et al., VLDB 2021). :class:`PinnedRegion` owns one such
registration:

* **Chunks on page boundaries.** One ``cudaHostRegister`` call over ~512 GiB fails on recent
  drivers (vllm#51080), so the range is registered in chunks of at most ``chunk_bytes``
  (64 GiB) whose inner boundaries fall on page boundaries (two registrations that share a page
  fail with ``cudaErrorHostMemoryAlreadyRegistered``).
* **No double registration.** A process-wide registry of the page ranges this module locked
  refuses a second region that overlaps a live one, before CUDA is called; memory that is
  already page-locked over its *whole* range (``tensor.pin_memory()``, or registered by another
  library) is borrowed, not registered again (:func:`is_pinned_range`).
* **Unregistration** on :meth:`PinnedRegion.close`, on context exit, and by a finaliser
  (``weakref.finalize``) when the handle is dropped -- after waiting for every CUDA event
  recorded with :meth:`PinnedRegion.track` (gathers still reading the pages). The region keeps
  the tensor alive until then, so the pages cannot be freed and reused while registered
  (a later table at the same address would otherwise look pinned).
* **Errors.** A failed ``cudaHostRegister`` is cleared from the CUDA runtime's error state
  (``cudaGetLastError``) before raising, so the next kernel's launch check does not report it.
  Read-only memory (a read-only ``np.memmap``) cannot be registered with the default flags: it
  is registered with ``cudaHostRegisterReadOnly`` where the device supports it, otherwise an
  :class:`UnpinnableError` says what to do (``FeatureStore(..., unpinnable="copy")`` copies the
  table into writable memory first, ``placement="mmap"`` reads it through the page cache).

All CUDA calls go through a small :class:`CudaRuntime` object (``torch.cuda.cudart()`` plus
``ctypes`` for the two functions torch does not bind), so the bookkeeping is testable on a
machine without a GPU by passing a fake runtime.
"""

from __future__ import annotations

import ctypes
import logging
import os
import threading
import weakref
from typing import Any, Optional, Protocol

import torch
from torch import Tensor

__all__ = [
    "CudaRuntime",
    "MAX_REGISTER_BYTES",
    "PinnedRegion",
    "UnpinnableError",
    "is_pinned_range",
    "page_size",
    "register_ranges",
    "writable_range",
]

log = logging.getLogger(__name__)

#: Largest single ``cudaHostRegister`` call; larger ranges are registered chunk by chunk.
MAX_REGISTER_BYTES = 64 << 30
HOST_REGISTER_PORTABLE = 0x01
HOST_REGISTER_MAPPED = 0x02
HOST_REGISTER_READ_ONLY = 0x08
_DEV_ATTR_HOST_REGISTER_READ_ONLY = 113  # cudaDevAttrHostRegisterReadOnlySupported
_MEMORY_TYPE_HOST = 1  # cudaMemoryTypeHost
#: Most pointer probes :func:`is_pinned_range` makes on memory this module did not register.
MAX_PROBES = 1 << 16


class UnpinnableError(ValueError):
    """The table cannot be page-locked in place (read-only memory, or the driver refused)."""


def page_size() -> int:
    """The host page size in bytes (4096 where the OS does not say)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):  # non-POSIX platforms
        return 4096


def register_ranges(base: int, nbytes: int, chunk_bytes: int, page: int) -> list[tuple[int, int]]:
    """Split ``[base, base + nbytes)`` into ``(start, size)`` chunks of at most ``chunk_bytes``.

    Every chunk boundary inside the range lies on a multiple of ``page``, so no two chunks share
    a page; the first chunk starts at ``base`` and the last ends at ``base + nbytes`` exactly.

    Raises:
        ValueError: ``chunk_bytes`` smaller than ``page``, or a negative size.
    """
    if chunk_bytes < page:
        raise ValueError(f"register_ranges: chunk_bytes must be at least the page size {page} (got {chunk_bytes})")
    if nbytes < 0:
        raise ValueError(f"register_ranges: nbytes must be >= 0 (got {nbytes})")
    ranges = []
    start, stop = base, base + nbytes
    while start < stop:
        end = (start + chunk_bytes) // page * page  # last page boundary within one chunk
        if end <= start:
            end = start + chunk_bytes
        end = min(stop, end)
        ranges.append((start, end - start))
        start = end
    return ranges


def writable_range(ptr: int, nbytes: int, maps: Optional[str] = None) -> Optional[bool]:
    """Whether every page of ``[ptr, ptr + nbytes)`` is mapped writable, from ``/proc/self/maps``.

    Returns ``None`` where the OS does not expose its mappings (not Linux).
    """
    if nbytes <= 0:
        return True
    if maps is None:
        try:
            with open("/proc/self/maps", encoding="ascii", errors="replace") as f:
                maps = f.read()
        except OSError:
            return None
    covered, stop = ptr, ptr + nbytes
    spans = []
    for line in maps.splitlines():
        fields = line.split(maxsplit=2)
        if len(fields) < 2:
            continue
        lo, hi = (int(x, 16) for x in fields[0].split("-"))
        if hi > ptr and lo < stop:
            spans.append((lo, hi, "w" in fields[1]))
    for lo, hi, writable in sorted(spans):
        if lo > covered:
            return False  # a hole: not mapped at all
        if not writable:
            return False
        covered = max(covered, hi)
        if covered >= stop:
            return True
    return covered >= stop


class Runtime(Protocol):
    """What :class:`PinnedRegion` needs from CUDA (a fake implements it in tests)."""

    def host_register(self, ptr: int, size: int, flags: int) -> int: ...
    def host_unregister(self, ptr: int) -> int: ...
    def clear_error(self) -> int: ...
    def error_string(self, code: int) -> str: ...
    def is_host_registered(self, ptr: int) -> bool: ...
    def read_only_supported(self) -> bool: ...


class _PointerAttributes(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("device", ctypes.c_int),
        ("devicePointer", ctypes.c_void_p),
        ("hostPointer", ctypes.c_void_p),
        ("reserved", ctypes.c_long * 8),
    ]


class CudaRuntime:
    """The CUDA runtime calls of in-place pinning.

    ``cudaHostRegister``/``cudaHostUnregister``/``cudaGetErrorString`` come from
    ``torch.cuda.cudart()``; ``cudaGetLastError``, ``cudaPointerGetAttributes`` and
    ``cudaDeviceGetAttribute``, which torch does not bind, from the ``libcudart`` that torch has
    loaded (found in ``/proc/self/maps``, so both share one runtime state).
    """

    def __init__(self) -> None:
        if not torch.cuda.is_available():
            raise RuntimeError("CudaRuntime: page-locking needs a CUDA driver and device (none visible)")
        torch.cuda.init()
        self._cudart = torch.cuda.cudart()
        self._lib = self._load_libcudart()

    @staticmethod
    def _load_libcudart() -> Optional[ctypes.CDLL]:
        try:
            with open("/proc/self/maps", encoding="ascii", errors="replace") as f:
                paths = {line.split()[-1] for line in f if "libcudart" in line}
        except OSError:
            paths = set()
        for path in sorted(paths):
            try:
                return ctypes.CDLL(path)
            except OSError:
                continue
        for name in ("libcudart.so", "libcudart.so.13", "libcudart.so.12"):  # statically linked torch builds
            try:
                return ctypes.CDLL(name)
            except OSError:
                continue
        log.warning("CudaRuntime: libcudart not found; CUDA errors cannot be cleared after a failed registration")
        return None

    def host_register(self, ptr: int, size: int, flags: int) -> int:
        return int(self._cudart.cudaHostRegister(ptr, size, flags))

    def host_unregister(self, ptr: int) -> int:
        return int(self._cudart.cudaHostUnregister(ptr))

    def clear_error(self) -> int:
        return int(self._lib.cudaGetLastError()) if self._lib is not None else 0

    def error_string(self, code: int) -> str:
        try:
            return str(self._cudart.cudaGetErrorString(self._cudart.cudaError(code)))
        except (TypeError, ValueError):
            return f"cudaError {code}"

    def is_host_registered(self, ptr: int) -> bool:
        if self._lib is None:  # fall back on torch, which asks the same question of one pointer
            return bool(torch.cuda.is_available() and _byte_tensor(ptr).is_pinned())
        attrs = _PointerAttributes()
        err = int(self._lib.cudaPointerGetAttributes(ctypes.byref(attrs), ctypes.c_void_p(ptr)))
        if err != 0:
            self.clear_error()
            return False
        return attrs.type == _MEMORY_TYPE_HOST

    def read_only_supported(self) -> bool:
        if self._lib is None:
            return False
        value = ctypes.c_int(0)
        err = int(
            self._lib.cudaDeviceGetAttribute(
                ctypes.byref(value), _DEV_ATTR_HOST_REGISTER_READ_ONLY, torch.cuda.current_device()
            )
        )
        if err != 0:
            self.clear_error()
            return False
        return bool(value.value)


def _byte_tensor(ptr: int) -> Tensor:
    return torch.frombuffer((ctypes.c_ubyte * 1).from_address(ptr), dtype=torch.uint8)


_default_runtime: Optional[Runtime] = None
_runtime_lock = threading.Lock()


def default_runtime() -> Runtime:
    """The process's :class:`CudaRuntime` (created on first use; raises without CUDA)."""
    global _default_runtime
    with _runtime_lock:
        if _default_runtime is None:
            _default_runtime = CudaRuntime()
        return _default_runtime


# Pages claimed by live regions: region id -> (first page address, end page address, locked yet).
_registry: dict[int, tuple[int, int, bool]] = {}
_registry_lock = threading.Lock()


def _page_span(ptr: int, nbytes: int, page: int) -> tuple[int, int]:
    return ptr // page * page, -(-(ptr + nbytes) // page) * page


def _registered_by_us(ptr: int, nbytes: int) -> bool:
    """Whether the union of this module's live registrations covers ``[ptr, ptr + nbytes)``."""
    stop, covered = ptr + nbytes, ptr
    with _registry_lock:
        spans = sorted((lo, hi) for lo, hi, locked in _registry.values() if locked)
    for lo, hi in spans:
        if lo > covered:
            break
        covered = max(covered, hi)
        if covered >= stop:
            return True
    return covered >= stop


def is_pinned_range(ptr: int, nbytes: int, runtime: Optional[Runtime] = None, *, max_probes: int = MAX_PROBES) -> bool:
    """Whether the whole byte range ``[ptr, ptr + nbytes)`` is page-locked (not only its first byte).

    Ranges registered by :class:`PinnedRegion` are answered exactly from its registry. For other
    memory (``tensor.pin_memory()``, other libraries) the runtime is asked about the first and
    last byte and about one byte in every page between -- at most ``max_probes`` evenly spaced
    pages for very large ranges, so a hole smaller than the probe spacing can go unseen there.
    """
    if nbytes <= 0:
        return True
    if _registered_by_us(ptr, nbytes):
        return True
    runtime = runtime if runtime is not None else default_runtime()
    page = page_size()
    lo, hi = _page_span(ptr, nbytes, page)
    npages = (hi - lo) // page
    step = max(1, -(-npages // max_probes))
    probes = [lo + i * page for i in range(0, npages, step)] + [ptr, ptr + nbytes - 1]
    return all(runtime.is_host_registered(max(p, ptr)) for p in probes)


class _State:
    """What the finaliser needs: no reference back to the :class:`PinnedRegion`."""

    def __init__(self, tensor: Tensor, runtime: Runtime) -> None:
        self.tensor: Optional[Tensor] = tensor  # keeps the pages alive while registered
        self.runtime = runtime
        self.chunks: list[int] = []
        self.events: list[Any] = []
        self.lock = threading.Lock()


def _release(state: _State, key: int) -> list[int]:
    """Wait for tracked events, unregister every chunk, drop the tensor; returns failed error codes."""
    with state.lock:
        events, state.events = state.events, []
        for event in events:
            event.synchronize()
        errors = []
        while state.chunks:
            err = state.runtime.host_unregister(state.chunks.pop())
            if err != 0:
                state.runtime.clear_error()
                errors.append(err)
        state.tensor = None
    with _registry_lock:
        _registry.pop(key, None)
    return errors


class PinnedRegion:
    """Page-locks a contiguous CPU tensor's memory in place until :meth:`close`.

    Args:
        tensor: contiguous CPU tensor (its whole ``numel * element_size`` bytes are locked).
        chunk_bytes: largest single registration (default 64 GiB; at least one page).
        runtime: the CUDA calls (default: the process's :class:`CudaRuntime`); tests pass a fake.

    Attributes:
        tensor: the registered tensor (``None`` after :meth:`close`).
        borrowed: ``True`` when the memory was already page-locked over its whole range, so this
            region registered nothing and will unregister nothing.
        read_only: ``True`` when registered with ``cudaHostRegisterReadOnly``.

    Raises:
        TypeError: not a CPU tensor.
        ValueError: not contiguous; overlaps a live region; partly page-locked by someone else.
        UnpinnableError: read-only memory on a device without read-only registration, or the
            driver refused the registration (the message carries CUDA's error string).
        RuntimeError: no CUDA device (with the default runtime).

    Example:
        >>> with PinnedRegion(table) as region:       # doctest: +SKIP
        ...     rows = cuda_ext.gather_rows(table, index.cuda())
        ...     region.track(torch.cuda.Event().record())
    """

    def __init__(
        self, tensor: Tensor, *, chunk_bytes: int = MAX_REGISTER_BYTES, runtime: Optional[Runtime] = None
    ) -> None:
        fn = "PinnedRegion"
        if not isinstance(tensor, Tensor) or tensor.device.type != "cpu":
            got = f"tensor on {tensor.device}" if isinstance(tensor, Tensor) else type(tensor).__name__
            raise TypeError(f"{fn}: expected a CPU tensor (got {got})")
        if not tensor.is_contiguous():
            raise ValueError(
                f"{fn}: the tensor must be contiguous (got strides {tensor.stride()}); pin the base tensor instead"
            )
        page = page_size()
        if isinstance(chunk_bytes, bool) or not isinstance(chunk_bytes, int) or chunk_bytes < page:
            raise ValueError(f"{fn}: chunk_bytes must be an int >= the page size {page} (got {chunk_bytes!r})")
        self.chunk_bytes = chunk_bytes
        self._runtime = runtime if runtime is not None else default_runtime()
        self._state = _State(tensor, self._runtime)
        self._key = id(self._state)
        self.borrowed = False
        self.read_only = False
        ptr, nbytes = tensor.data_ptr(), tensor.numel() * tensor.element_size()
        self._span = _page_span(ptr, nbytes, page)
        self._finalizer = weakref.finalize(self, _release, self._state, self._key)
        if nbytes == 0:
            self.borrowed = True
            return
        self._claim(fn)
        if self._foreign_pinned(ptr, nbytes, fn):
            self.borrowed = True
            self._mark_locked()
            return
        flags = HOST_REGISTER_PORTABLE | HOST_REGISTER_MAPPED
        if writable_range(ptr, nbytes) is False:
            if not self._runtime.read_only_supported():
                self.close()
                raise UnpinnableError(
                    f"{fn}: the table lies in read-only memory (a read-only mmap?) and this device cannot "
                    "register read-only host memory (got a read-only mapping); copy it into writable memory "
                    "first (FeatureStore(..., unpinnable='copy')) or read it with placement='mmap'"
                )
            flags |= HOST_REGISTER_READ_ONLY
            self.read_only = True
        try:
            for start, size in register_ranges(ptr, nbytes, chunk_bytes, page):
                err = self._runtime.host_register(start, size, flags)
                if err != 0:
                    self._runtime.clear_error()  # do not leave it for the next kernel launch check
                    raise UnpinnableError(
                        f"{fn}: cudaHostRegister failed at byte {start - ptr} of {nbytes} "
                        f"(got {self._runtime.error_string(err)}, cudaError {err}); check `ulimit -l` and free "
                        "RAM, or use placement='cpu'/'mmap'"
                    )
                self._state.chunks.append(start)
        except BaseException:
            self.close()
            raise
        self._mark_locked()

    def _claim(self, fn: str) -> None:
        lo, hi = self._span
        with _registry_lock:
            for other_lo, other_hi, _ in _registry.values():
                if lo < other_hi and other_lo < hi:
                    raise ValueError(
                        f"{fn}: this memory overlaps a live PinnedRegion (pages "
                        f"{other_lo:#x}-{other_hi:#x}); a page can be registered only once "
                        "(got a second registration of the same memory)"
                    )
            _registry[self._key] = (lo, hi, False)

    def _mark_locked(self) -> None:
        with _registry_lock:
            _registry[self._key] = (*self._span, True)

    def _foreign_pinned(self, ptr: int, nbytes: int, fn: str) -> bool:
        first = self._runtime.is_host_registered(ptr)
        last = self._runtime.is_host_registered(ptr + nbytes - 1)
        if not (first or last):
            return False
        if is_pinned_range(ptr, nbytes, self._runtime):  # our own claim is not locked yet, so not counted
            return True
        self.close()
        raise ValueError(
            f"{fn}: part of this memory is already page-locked by someone else (got a partly "
            "registered range); unpin it first or pass the whole pinned tensor"
        )

    @property
    def tensor(self) -> Optional[Tensor]:
        return self._state.tensor

    @property
    def closed(self) -> bool:
        return not self._finalizer.alive

    @property
    def num_chunks(self) -> int:
        """Number of live ``cudaHostRegister`` registrations."""
        return len(self._state.chunks)

    def track(self, event: Any) -> None:
        """Wait for ``event`` (anything with ``synchronize()`` and ``query()``) before unregistering.

        Record one after every kernel that reads the pages; completed events are pruned.
        """
        if self.closed:
            raise ValueError("PinnedRegion.track: the region is closed (got an event after close())")
        with self._state.lock:
            self._state.events = [e for e in self._state.events if not e.query()]
            self._state.events.append(event)

    def close(self) -> None:
        """Wait for tracked events, then unregister every chunk (idempotent).

        Raises:
            RuntimeError: ``cudaHostUnregister`` failed (the error is cleared first).
        """
        if not self._finalizer.alive:
            return
        errors = self._finalizer()
        if errors:
            raise RuntimeError(f"PinnedRegion.close: cudaHostUnregister failed (got cudaError {errors})")

    def __enter__(self) -> "PinnedRegion":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        lo, hi = self._span
        state = "closed" if self.closed else ("borrowed" if self.borrowed else f"{self.num_chunks} chunks")
        return f"PinnedRegion(bytes={hi - lo}, {state}, read_only={self.read_only})"
