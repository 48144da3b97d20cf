"""Building and loading graphspike's CUDA extension (``cuda_ext/csrc``).

Choice: **explicit JIT build**. ``python -m cuda_ext build [--arch "9.0;8.0"]`` compiles every
source in ``csrc/`` into ONE Python extension module with ``torch.utils.cpp_extension.load``
(ninja, ``-O3``, only the requested architectures) and writes a stamp next to it. Nothing is
ever compiled on import or on first use: :func:`load` only imports a module that was built for
the same sources and torch version, and otherwise reports why not, so a CPU-only install never
needs nvcc and never pays a surprise compile. Why not ahead-of-time wheels: the package is
pure Python on PyPI-only CI, and a JIT build matches the user's exact torch/CUDA pair (a
prebuilt ``.so`` must match both exactly, which is what breaks spikingjelly's native kernels).

Build directory: ``$GRAPHSPIKE_BUILD_DIR`` or ``~/.cache/graphspike/build``.
Architectures: ``build(arch_list=...)`` / ``--arch``, else ``$TORCH_CUDA_ARCH_LIST``, else
``9.0`` (H100). The build works without a GPU (CI compiles on a CPU machine with nvcc).
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import sys
from pathlib import Path
from types import ModuleType

import torch

__all__ = ["EXTENSION_NAME", "DEFAULT_ARCH", "build", "build_dir", "load", "sources"]

logger = logging.getLogger(__name__)

EXTENSION_NAME = "graphspike_cuda"
DEFAULT_ARCH = "9.0"
_CSRC = Path(__file__).resolve().parent / "csrc"
_STAMP = "graphspike_build.json"


def build_dir() -> Path:
    """``$GRAPHSPIKE_BUILD_DIR`` or ``~/.cache/graphspike/build``."""
    env = os.environ.get("GRAPHSPIKE_BUILD_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "graphspike" / "build"


def sources() -> list[Path]:
    """The extension's sources: the binding file first, then every ``.cu`` file."""
    return [_CSRC / "bindings.cpp", *sorted(_CSRC.glob("*.cu"))]


def _fingerprint() -> str:
    digest = hashlib.sha256()
    digest.update(f"torch={torch.__version__};cuda={torch.version.cuda}".encode())
    for path in sources():
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _toolkit_root(guess: str | None) -> Path | None:
    """The CUDA toolkit root: ``$CUDA_HOME``, torch's guess, or ``/usr/local/cuda``, whichever
    holds both ``bin/nvcc`` and ``include/cuda_runtime.h``."""
    candidates = [os.environ.get("CUDA_HOME"), os.environ.get("CUDA_PATH"), guess, "/usr/local/cuda"]
    for candidate in candidates:
        if candidate and Path(candidate, "bin", "nvcc").exists() and Path(candidate, "include", "cuda_runtime.h").exists():
            return Path(candidate)
    return None


def load() -> tuple[ModuleType | None, str]:
    """Import the built extension: ``(module, reason)`` or ``(None, why not)``.

    Never compiles and never raises for a missing toolchain, GPU or build.
    """
    if torch.version.cuda is None:
        return None, "torch is a CPU-only build"
    stamp_path = build_dir() / _STAMP
    if not stamp_path.is_file():
        return None, f"not built (no {_STAMP} in {build_dir()}); run `python -m cuda_ext build`"
    try:
        stamp = json.loads(stamp_path.read_text())
        so_path = Path(stamp["path"])
        fingerprint = stamp["fingerprint"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        return None, f"unreadable build stamp {stamp_path} ({err}); rebuild with `python -m cuda_ext build`"
    if fingerprint != _fingerprint():
        return None, "the build is stale (sources or torch changed); rerun `python -m cuda_ext build`"
    if not so_path.is_file():
        return None, f"built module {so_path} is missing; rerun `python -m cuda_ext build`"
    name = so_path.name.split(".")[0]
    if name in sys.modules:
        return sys.modules[name], f"loaded from {so_path} (archs {stamp.get('arch_list')})"
    try:
        spec = importlib.util.spec_from_file_location(name, so_path)
        if spec is None or spec.loader is None:
            return None, f"cannot create an import spec for {so_path}"
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    except (ImportError, OSError) as err:
        return None, f"failed to import {so_path} ({err})"
    sys.modules[name] = module
    return module, f"loaded from {so_path} (archs {stamp.get('arch_list')})"


def build(arch_list: str | None = None, verbose: bool = True) -> Path:
    """Compile ``csrc/`` into the build directory and return the path of the built module.

    Args:
        arch_list: CUDA architectures, ``"9.0"`` or ``"8.0;9.0"`` (``+PTX`` allowed); default
            ``$TORCH_CUDA_ARCH_LIST`` or ``9.0``.
        verbose: print the compiler commands and output.

    Raises:
        RuntimeError: torch is a CPU-only build, nvcc is missing, or compilation fails.
    """
    from torch.utils import cpp_extension

    if torch.version.cuda is None:
        raise RuntimeError("cuda_ext build: torch is a CPU-only build; install a CUDA build of torch")
    cuda_home = _toolkit_root(cpp_extension.CUDA_HOME)
    if cuda_home is None:
        raise RuntimeError(
            f"cuda_ext build: no CUDA toolkit with nvcc and cuda_runtime.h found (torch guessed "
            f"CUDA_HOME={cpp_extension.CUDA_HOME}); set CUDA_HOME to the toolkit root"
        )
    # torch guesses CUDA_HOME as dirname(dirname(which nvcc)); with a wrapper script in
    # /usr/local/bin that is /usr/local, which has no CUDA headers. Point it at the toolkit.
    cpp_extension.CUDA_HOME = str(cuda_home)
    arch = arch_list or os.environ.get("TORCH_CUDA_ARCH_LIST") or DEFAULT_ARCH
    out_dir = build_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    previous = os.environ.get("TORCH_CUDA_ARCH_LIST")
    os.environ["TORCH_CUDA_ARCH_LIST"] = arch
    try:
        module = cpp_extension.load(
            name=EXTENSION_NAME,
            sources=[str(p) for p in sources()],
            build_directory=str(out_dir),
            extra_cflags=["-O3"],
            extra_cuda_cflags=["-O3", "--expt-relaxed-constexpr"],
            verbose=verbose,
            is_python_module=True,
        )
    finally:
        if previous is None:
            os.environ.pop("TORCH_CUDA_ARCH_LIST", None)
        else:
            os.environ["TORCH_CUDA_ARCH_LIST"] = previous
    so_path = Path(module.__file__).resolve()
    stamp = {"path": str(so_path), "fingerprint": _fingerprint(), "arch_list": arch,
             "torch": torch.__version__, "cuda": torch.version.cuda}
    tmp = out_dir / (_STAMP + ".tmp")
    tmp.write_text(json.dumps(stamp, indent=2))
    os.replace(tmp, out_dir / _STAMP)
    logger.info("built %s for archs %s", so_path, arch)
    return so_path
