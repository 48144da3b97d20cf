"""Building and loading graphspike's CPU kernels (``cuda_ext/csrc/cpu``).

The CPU twin of :mod:`cuda_ext._build`: ``python -m cuda_ext build`` compiles the sources of
``csrc/cpu`` into one Python extension module (``graphspike_cpu``) with
``torch.utils.cpp_extension.load`` and the host C++ compiler only -- no CUDA toolkit, so it
builds on machines without nvcc and with CPU-only torch -- and writes a stamp beside it.
:func:`load` imports a module built from the same sources and torch, and otherwise reports why
not; nothing is compiled on import or on first use.

Flags: ``-O3`` (vectorised loops), ``-ffp-contract=off`` (no fused multiply-add: the forward
rounds exactly like PyTorch's separate ops, on every architecture) and ``-fno-trapping-math``
(lets the compiler turn the clamps and selects of the loops into vector blends; FP exceptions
are not observed by torch, so no result changes).

Build directory: ``<build_dir()>/cpu`` (``$GRAPHSPIKE_BUILD_DIR`` or ``~/.cache/graphspike/build``),
apart from the CUDA build, whose ninja file lives one level up.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import warnings
from pathlib import Path
from types import ModuleType

import torch

from cuda_ext._build import build_dir as _root_build_dir
from cuda_ext._build import import_built, read_stamp

__all__ = ["CPU_EXTENSION_NAME", "CompilerMissing", "build", "build_dir", "compiler", "load", "sources"]

logger = logging.getLogger(__name__)

CPU_EXTENSION_NAME = "graphspike_cpu"
_CSRC = Path(__file__).resolve().parent / "csrc" / "cpu"
_STAMP = "graphspike_cpu_build.json"
_CFLAGS = ["-O3", "-ffp-contract=off", "-fno-trapping-math"]


class CompilerMissing(RuntimeError):
    """No C++ compiler on this machine: the CPU kernels cannot be built."""


def build_dir() -> Path:
    """``<$GRAPHSPIKE_BUILD_DIR or ~/.cache/graphspike/build>/cpu``."""
    return _root_build_dir() / "cpu"


def sources() -> list[Path]:
    """The C++ sources of the CPU extension."""
    return sorted(_CSRC.glob("*.cpp"))


def _fingerprint() -> str:
    digest = hashlib.sha256(f"torch={torch.__version__};flags={' '.join(_CFLAGS)}".encode())
    for path in sources():
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def compiler() -> str:
    """The C++ compiler a build would use (``$CXX``, else ``c++``), found without compiling.

    Raises:
        CompilerMissing: neither is on ``PATH``.
    """
    name = os.environ.get("CXX", "c++")
    path = shutil.which(name)
    if path is None:
        raise CompilerMissing(f"no C++ compiler ({name!r} is not on PATH; set CXX or install g++)")
    return path


def load() -> tuple[ModuleType | None, str]:
    """Import the built CPU extension: ``(module, reason)`` or ``(None, why not)``. Never compiles."""
    stamp, reason = read_stamp(build_dir() / _STAMP, _fingerprint(), "CPU build")
    if stamp is None:
        return None, reason
    so_path = Path(stamp["path"])
    return import_built(so_path)


def build(verbose: bool = True) -> Path:
    """Compile ``csrc/cpu`` into :func:`build_dir` and return the path of the built module.

    Raises:
        CompilerMissing: no C++ compiler.
        RuntimeError: compilation fails.
    """
    compiler()
    with warnings.catch_warnings():  # torch warns that no CUDA toolkit is found: none is needed here
        warnings.simplefilter("ignore")
        from torch.utils import cpp_extension
    out_dir = build_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    module = cpp_extension.load(
        name=CPU_EXTENSION_NAME,
        sources=[str(p) for p in sources()],
        build_directory=str(out_dir),
        extra_cflags=_CFLAGS,
        with_cuda=False,
        verbose=verbose,
        is_python_module=True,
    )
    so_path = Path(module.__file__).resolve()
    stamp = {"path": str(so_path), "fingerprint": _fingerprint(), "torch": torch.__version__, "flags": _CFLAGS}
    tmp = out_dir / (_STAMP + ".tmp")
    tmp.write_text(json.dumps(stamp, indent=2))
    os.replace(tmp, out_dir / _STAMP)
    logger.info("built %s", so_path)
    return so_path
