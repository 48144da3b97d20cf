"""Thin CUDA host-memory helpers for page-locking a table in place (used by ``sampling``).

The sampling layer owns pinned feature tables (chunking, lifetime, finalisers, waiting for
in-flight gathers); this module only wraps the CUDA runtime calls so that their errors are
reported and then **cleared**: a failed ``cudaHostRegister`` otherwise stays in the runtime's
last-error slot, and the next kernel launch check (``C10_CUDA_KERNEL_LAUNCH_CHECK``) reports it
as its own failure.

* :func:`host_register` -- ``cudaHostRegister(ptr, nbytes, Portable | Mapped [| ReadOnly])``.
  ``read_only=True`` is what a read-only mapping (``np.memmap(mode="r")``, ``torch.from_file``
  with ``shared=False`` over a read-only file) needs: plain registration of such pages fails.
* :func:`host_unregister` -- ``cudaHostUnregister(ptr)`` of a pointer given to
  :func:`host_register`.
* :func:`is_pinned_range` -- whether a tensor is page-locked over its whole range (its first and
  last byte; ``Tensor.is_pinned()`` looks at the first byte only).

Both registration calls use the compiled extension when it is loaded, else
``torch.cuda.cudart()`` plus ``cudaGetLastError`` from the CUDA runtime library torch loaded.
"""

from __future__ import annotations

import ctypes
import functools

import torch
from torch import Tensor

from cuda_ext._backend import extension

__all__ = ["host_register", "host_unregister", "is_pinned_range"]

_PORTABLE, _MAPPED, _READ_ONLY = 1, 2, 8


@functools.lru_cache(maxsize=1)
def _cudart_library() -> "ctypes.CDLL | None":
    """The CUDA runtime torch already loaded (same soname, so the same error state), or None."""
    major = (torch.version.cuda or "").split(".")[0]
    for name in (f"libcudart.so.{major}", "libcudart.so"):
        try:
            return ctypes.CDLL(name, mode=ctypes.RTLD_GLOBAL)
        except OSError:
            continue
    return None


def _clear_last_error() -> None:
    library = _cudart_library()
    if library is not None:
        library.cudaGetLastError()


def _error_text(code: int) -> str:
    ext = extension()
    if ext is not None:
        return ext.cuda_error_name(code)
    try:
        return f"cudaError {code}: {torch.cuda.cudart().cudaGetErrorString(code)}"
    except (RuntimeError, TypeError):
        return f"cudaError {code}"


def _require_cuda(fn: str) -> None:
    if not torch.cuda.is_available():
        raise RuntimeError(f"{fn}: page-locking needs a CUDA driver and device (none visible)")


def host_register(ptr: int, nbytes: int, *, read_only: bool = False) -> None:
    """Page-lock ``[ptr, ptr + nbytes)`` in place and map it for the GPU.

    Raises:
        ValueError: a non-positive size or pointer.
        RuntimeError: no CUDA device, or the runtime refused (the message names the CUDA error;
            the runtime's error state is cleared before raising).
    """
    if not isinstance(ptr, int) or not isinstance(nbytes, int) or ptr <= 0 or nbytes <= 0:
        raise ValueError(f"host_register: expected a positive pointer and size (got ptr={ptr!r}, nbytes={nbytes!r})")
    _require_cuda("host_register")
    ext = extension()
    if ext is not None:
        code = int(ext.host_register(ptr, nbytes, read_only))
    else:
        flags = _PORTABLE | _MAPPED | (_READ_ONLY if read_only else 0)
        code = int(torch.cuda.cudart().cudaHostRegister(ptr, nbytes, flags))
        if code:
            _clear_last_error()
    if code:
        raise RuntimeError(
            f"host_register: cudaHostRegister of {nbytes} bytes at {ptr:#x} failed ({_error_text(code)})"
        )


def host_unregister(ptr: int) -> None:
    """Undo :func:`host_register` for the range that starts at ``ptr``.

    Raises:
        RuntimeError: the runtime refused (for example ``ptr`` was not registered); the error
            state is cleared before raising.
    """
    _require_cuda("host_unregister")
    ext = extension()
    if ext is not None:
        code = int(ext.host_unregister(ptr))
    else:
        code = int(torch.cuda.cudart().cudaHostUnregister(ptr))
        if code:
            _clear_last_error()
    if code:
        raise RuntimeError(f"host_unregister: cudaHostUnregister at {ptr:#x} failed ({_error_text(code)})")


def is_pinned_range(tensor: Tensor) -> bool:
    """Whether the bytes of a CPU tensor are page-locked at both ends of its range.

    For a tensor registered in chunks this checks the first and last byte (the sampling layer,
    which registered the chunks, knows about the inner ones). A tensor with no elements is
    pinned when its storage is.
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"is_pinned_range: expected a tensor (got {type(tensor).__name__})")
    if tensor.device.type != "cpu" or not torch.cuda.is_available():
        return False
    if tensor.numel() == 0 or not tensor.is_pinned():
        return tensor.is_pinned()
    ext = extension()
    if ext is not None:
        last = tensor.data_ptr() + _span_bytes(tensor) - 1
        return int(ext.pointer_info(last)[0]) == 1
    flat = tensor.as_strided((1,), (1,), tensor.storage_offset() + _last_element_offset(tensor))
    return flat.is_pinned()


def _last_element_offset(tensor: Tensor) -> int:
    return sum((size - 1) * stride for size, stride in zip(tensor.shape, tensor.stride()) if size > 0)


def _span_bytes(tensor: Tensor) -> int:
    return (_last_element_offset(tensor) + 1) * tensor.element_size()
