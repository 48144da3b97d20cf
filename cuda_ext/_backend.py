"""Backend resolution for every ``cuda_ext`` op, in one place.

Each op accepts ``backend="auto" | "torch" | "cuda"``:

* ``"torch"`` always runs the pure-PyTorch implementation (it works on any device).
* ``"cuda"`` runs the compiled kernel. It is an explicit request, so it is never silently
  replaced: CPU tensors or a missing compiled extension raise an error that says why.
* ``"auto"`` picks the kernel for CUDA tensors when the compiled extension is loaded, and
  the PyTorch path otherwise. On CUDA without a usable extension (not built, stale, or built
  for another GPU architecture) it warns once per process, saying why, because the user
  would otherwise not know every op is on the slower path.

The compiled extension is built explicitly by ``python -m cuda_ext build`` (see
``cuda_ext/_build.py``); nothing is compiled or loaded at import time.

CPU kernels: the same command builds ``csrc/cpu`` (``cuda_ext/_build_cpu.py``; a C++ compiler
is all it needs). Ops that have one (the fused LIF) run it for ``"auto"`` on CPU tensors when it
is loaded (:func:`cpu_extension`); ``"torch"`` still forces the PyTorch reference.
"""

from __future__ import annotations

import warnings
from types import ModuleType

import torch

BACKENDS = ("auto", "torch", "cuda")

_extension: tuple[ModuleType | None, str] | None = None
_cpu_extension: tuple[ModuleType | None, str] | None = None
_warned: list[str] = []  # the op that triggered the one fallback warning, if any


def _load_extension() -> tuple[ModuleType | None, str]:
    global _extension
    if _extension is None:
        try:
            from cuda_ext import _build
        except ImportError as err:  # the build helper itself is missing or broken
            _extension = (None, f"cuda_ext._build could not be imported ({err})")
        else:
            _extension = _build.load()
    return _extension


def extension() -> ModuleType | None:
    """The loaded compiled extension, or ``None`` when it is not built or cannot load."""
    return _load_extension()[0]


def extension_status() -> tuple[bool, str]:
    """``(available, reason)``: whether the compiled extension is loaded, and why (not)."""
    module, reason = _load_extension()
    return module is not None, reason


def extension_available() -> bool:
    """Whether the compiled CUDA extension is loaded in this process."""
    return extension() is not None


def cpu_extension_status() -> tuple[bool, str]:
    """``(available, reason)``: whether the compiled CPU kernels are loaded, and why (not)."""
    global _cpu_extension
    if _cpu_extension is None:
        try:
            from cuda_ext import _build_cpu
        except ImportError as err:
            _cpu_extension = (None, f"cuda_ext._build_cpu could not be imported ({err})")
        else:
            _cpu_extension = _build_cpu.load()
    return _cpu_extension[0] is not None, _cpu_extension[1]


def cpu_extension() -> ModuleType | None:
    """The loaded CPU-kernel extension, or ``None``. Inside ``torch.compile`` tracing, only an
    earlier load counts (a first load reads files, which the tracer cannot follow)."""
    if _cpu_extension is None and torch.compiler.is_compiling():
        return None
    cpu_extension_status()
    return _cpu_extension[0]


def reset_extension_cache() -> None:
    """Forget the cached load attempts (after ``python -m cuda_ext build`` in the same process)."""
    global _extension, _cpu_extension
    _extension = None
    _cpu_extension = None
    _warned.clear()


def resolve_backend(op: str, requested: str, device: torch.device, cpu_kernel: bool = False) -> str:
    """Resolve ``requested`` to ``"torch"``, ``"cuda"`` or ``"cpu"`` for an op running on ``device``.

    Args:
        op: the op's name, used in messages (``"spmm"``).
        requested: ``"auto"``, ``"torch"`` or ``"cuda"``.
        device: the device of the op's main input.
        cpu_kernel: the op has a compiled CPU kernel for this input; ``"auto"`` on CPU then
            resolves to ``"cpu"`` when the CPU kernels are loaded (an internal name, not a
            backend a user passes).

    Raises:
        ValueError: unknown backend, or ``"cuda"`` requested for non-CUDA tensors.
        RuntimeError: ``"cuda"`` requested but the compiled extension is unavailable.
    """
    if requested not in BACKENDS:
        raise ValueError(f"{op}: backend must be one of {BACKENDS} (got {requested!r})")
    if requested == "torch":
        return "torch"
    if requested == "auto" and device.type != "cuda":
        # Decided without touching the CUDA extension: keeps CPU calls free of file-system probes
        # (which torch.compile(fullgraph=True) cannot trace; cpu_extension() only reads a cached load there).
        return "cpu" if cpu_kernel and device.type == "cpu" and cpu_extension() is not None else "torch"
    available, reason = extension_status()
    if requested == "cuda":
        if device.type != "cuda":
            raise ValueError(f"{op}: backend='cuda' needs CUDA tensors (got tensors on {device})")
        if not available:
            raise RuntimeError(
                f"{op}: backend='cuda' was requested but the compiled extension is unavailable "
                f"({reason}); build it with `python -m cuda_ext build` or pass backend='torch'"
            )
        return "cuda"
    if available:
        return "cuda"
    if not _warned:
        _warned.append(op)
        warnings.warn(
            f"{op}: graphspike's ops use their PyTorch implementations on CUDA because the compiled "
            f"extension is unavailable ({reason}); run `python -m cuda_ext build` for the kernels",
            stacklevel=3,
        )
    return "torch"
