"""Building and loading graphspike's CUDA extension (``cuda_ext/csrc``).

Choice: **explicit JIT build**. ``python -m cuda_ext build [--arch "9.0;8.0"] [--require]``
compiles every source in ``csrc/`` into ONE Python extension module with
``torch.utils.cpp_extension.load`` (ninja, ``-O3``, only the requested architectures) and
writes a stamp next to it. Nothing is ever compiled on import or on first use: :func:`load`
only imports a module that was built for the same sources, the same torch and an architecture
that runs on every visible GPU, and otherwise reports why not, so a CPU-only install never
needs nvcc and never pays a surprise compile. Why not ahead-of-time wheels: the package is
pure Python on PyPI-only CI, and a JIT build matches the user's exact torch/CUDA pair (a
prebuilt ``.so`` must match both exactly, which is what breaks spikingjelly's native kernels).

Build directory: ``$GRAPHSPIKE_BUILD_DIR`` or ``~/.cache/graphspike/build``.

Architectures: ``build(arch_list=...)`` / ``--arch``, else ``$TORCH_CUDA_ARCH_LIST``, else the
compute capabilities of the visible GPUs, else ``9.0`` (H100/H200). Each entry ``M.m`` gives
machine code (SASS) for ``sm_Mm``, which runs on GPUs of major ``M`` and minor ``>= m``;
``M.ma`` runs on exactly ``M.m``; ``+PTX`` adds PTX that the driver compiles for any newer GPU.
The stamp records the list, and :func:`load` refuses a build that cannot run on a visible GPU
(an ``sm_90`` build on an A100 or a B200): every op then falls back to PyTorch with one warning
that says why, instead of failing at its first launch.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import re
import shutil
import sys
from pathlib import Path
from types import ModuleType

import torch

__all__ = [
    "DEFAULT_ARCH",
    "EXTENSION_NAME",
    "ToolchainMissing",
    "arch_runs_on",
    "build",
    "build_dir",
    "load",
    "parse_arch_list",
    "sources",
    "toolchain",
]

logger = logging.getLogger(__name__)

EXTENSION_NAME = "graphspike_cuda"
DEFAULT_ARCH = "9.0"
_CSRC = Path(__file__).resolve().parent / "csrc"
_STAMP = "graphspike_build.json"
_ARCH_RE = re.compile(r"^(\d+)\.(\d+)(a?)(\+PTX)?$")


class ToolchainMissing(RuntimeError):
    """No CUDA toolkit (nvcc) or a CPU-only torch: nothing can be compiled on this machine."""


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
    for path in sorted(_CSRC.iterdir()):
        if path.suffix in (".cu", ".cpp", ".cuh", ".h"):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def parse_arch_list(arch_list: str) -> list[tuple[int, int, bool, bool]]:
    """``"8.0;9.0a+PTX"`` -> ``[(8, 0, False, False), (9, 0, True, True)]`` as
    ``(major, minor, arch_specific, ptx)``.

    Raises:
        ValueError: an entry is not ``M.m``, ``M.ma`` or either with ``+PTX``.
    """
    entries = [a for a in re.split(r"[;\s,]+", arch_list.strip()) if a]
    if not entries:
        raise ValueError(f"cuda_ext build: empty architecture list (got {arch_list!r})")
    parsed = []
    for entry in entries:
        match = _ARCH_RE.match(entry)
        if match is None:
            raise ValueError(
                f"cuda_ext build: architectures look like '9.0', '9.0a' or '8.6+PTX' (got {entry!r} in {arch_list!r})"
            )
        parsed.append((int(match[1]), int(match[2]), bool(match[3]), bool(match[4])))
    return parsed


def arch_runs_on(arch_list: str, capability: tuple[int, int]) -> bool:
    """Whether code built for ``arch_list`` runs on a GPU of compute ``capability``.

    SASS for ``sm_Mm`` runs on the same major and any minor ``>= m`` (``sm_Mma``: exactly
    ``M.m``); PTX for ``compute_Mm`` is compiled by the driver for any GPU ``>= M.m``.
    """
    major, minor = capability
    for a_major, a_minor, specific, ptx in parse_arch_list(arch_list):
        if specific and (a_major, a_minor) == (major, minor):
            return True
        if not specific and a_major == major and a_minor <= minor:
            return True
        if ptx and (a_major, a_minor) <= (major, minor):
            return True
    return False


def _visible_capabilities() -> list[tuple[str, tuple[int, int]]]:
    if not torch.cuda.is_available():
        return []
    return [
        (torch.cuda.get_device_name(i), tuple(torch.cuda.get_device_capability(i)))
        for i in range(torch.cuda.device_count())
    ]


def _default_arch() -> str:
    caps = sorted({cap for _, cap in _visible_capabilities()})
    return ";".join(f"{major}.{minor}" for major, minor in caps) or DEFAULT_ARCH


def _toolkit_root() -> Path | None:
    """The CUDA toolkit root holding ``bin/nvcc`` and ``include/cuda_runtime.h``.

    An explicit ``$CUDA_HOME`` (or ``$CUDA_PATH``) is the only candidate when set (a user who
    names a toolkit means that one); otherwise the folder above the ``nvcc`` on ``PATH`` (torch's
    own guess), the same through symbolic links, then ``/usr/local/cuda``.
    """
    explicit = os.environ.get("CUDA_HOME") or os.environ.get("CUDA_PATH")
    nvcc = shutil.which("nvcc")
    if explicit:
        candidates = [explicit]
    elif nvcc:
        candidates = [str(Path(nvcc).parents[1]), str(Path(nvcc).resolve().parents[1]), "/usr/local/cuda"]
    else:
        candidates = ["/usr/local/cuda"]
    for candidate in candidates:
        root = Path(candidate)
        if (root / "bin" / "nvcc").exists() and (root / "include" / "cuda_runtime.h").exists():
            return root
    return None


def load() -> tuple[ModuleType | None, str]:
    """Import the built extension: ``(module, reason)`` or ``(None, why not)``.

    Never compiles and never raises for a missing toolchain, GPU or build. Refuses a build
    whose architectures do not run on a visible GPU (see the module docstring).
    """
    if torch.version.cuda is None:
        return None, "torch is a CPU-only build"
    stamp, reason = read_stamp(build_dir() / _STAMP, _fingerprint(), "build")
    if stamp is None:
        return None, reason
    try:
        arch_list = str(stamp["arch_list"])
        parse_arch_list(arch_list)
    except (ValueError, KeyError, TypeError) as err:
        return None, f"unreadable build stamp {build_dir() / _STAMP} ({err}); rebuild with `python -m cuda_ext build`"
    so_path = Path(stamp["path"])
    for name, capability in _visible_capabilities():
        if not arch_runs_on(arch_list, capability):
            cap = f"{capability[0]}.{capability[1]}"
            return None, (
                f"built for archs {arch_list!r}, which cannot run on {name} (compute capability {cap}); "
                f"rebuild with `python -m cuda_ext build --arch {cap}`"
            )
    return import_built(so_path, f" (archs {arch_list})")


def read_stamp(path: Path, fingerprint: str, what: str) -> tuple[dict | None, str]:
    """The stamp at ``path`` of a current build: ``(stamp, "")``, or ``(None, why not)`` when it
    is missing, unreadable, stale (``fingerprint`` differs) or its module file is gone."""
    rebuild = "rerun `python -m cuda_ext build`"
    if not path.is_file():
        return None, f"not built (no {path.name} in {path.parent}); run `python -m cuda_ext build`"
    try:
        stamp = json.loads(path.read_text())
        so_path = Path(stamp["path"])
        old = stamp["fingerprint"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        return None, f"unreadable build stamp {path} ({err}); rebuild with `python -m cuda_ext build`"
    if old != fingerprint:
        return None, f"the {what} is stale (sources or torch changed); {rebuild}"
    if not so_path.is_file():
        return None, f"built module {so_path} is missing; {rebuild}"
    return stamp, ""


def import_built(so_path: Path, note: str = "") -> tuple[ModuleType | None, str]:
    """Import a built extension module from ``so_path`` once per process: ``(module, reason)``
    or ``(None, why not)``; ``note`` is appended to the success reason."""
    module_name = so_path.name.split(".")[0]
    if module_name in sys.modules:
        return sys.modules[module_name], f"loaded from {so_path}{note}"
    try:
        spec = importlib.util.spec_from_file_location(module_name, so_path)
        if spec is None or spec.loader is None:
            return None, f"cannot create an import spec for {so_path}"
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    except (ImportError, OSError) as err:
        return None, f"failed to import {so_path} ({err})"
    sys.modules[module_name] = module
    return module, f"loaded from {so_path}{note}"


def toolchain() -> Path:
    """The root of the CUDA toolkit a build would use, found without compiling anything.

    Raises:
        ToolchainMissing: torch is a CPU-only build, or no toolkit holds ``bin/nvcc`` and
            ``include/cuda_runtime.h`` (see :func:`_toolkit_root` for where it looks).
    """
    if torch.version.cuda is None:
        raise ToolchainMissing("torch is a CPU-only build; install a CUDA build of torch")
    cuda_home = _toolkit_root()
    if cuda_home is None:
        explicit = os.environ.get("CUDA_HOME") or os.environ.get("CUDA_PATH")
        where = f"CUDA_HOME={explicit} has no bin/nvcc" if explicit else "no nvcc on PATH or in /usr/local/cuda"
        raise ToolchainMissing(f"nvcc not found ({where}); install the CUDA toolkit or set CUDA_HOME")
    return cuda_home


def build(arch_list: str | None = None, verbose: bool = True) -> Path:
    """Compile ``csrc/`` into the build directory and return the path of the built module.

    Args:
        arch_list: CUDA architectures, ``"9.0"`` or ``"8.0;9.0"`` (``a`` and ``+PTX`` allowed);
            default ``$TORCH_CUDA_ARCH_LIST``, the visible GPUs, else ``9.0``.
        verbose: print the compiler commands and output.

    Raises:
        ToolchainMissing: torch is a CPU-only build, or no CUDA toolkit with nvcc was found.
        ValueError: a malformed architecture list.
        RuntimeError: compilation fails.
    """
    cuda_home = toolchain()
    arch = arch_list or os.environ.get("TORCH_CUDA_ARCH_LIST") or _default_arch()
    parse_arch_list(arch)
    from torch.utils import cpp_extension  # after the checks: importing it warns when nvcc is missing

    # torch guesses CUDA_HOME as dirname(dirname(which nvcc)); with a wrapper script in
    # /usr/local/bin that is /usr/local, which has no CUDA headers. Point it at the toolkit.
    cpp_extension.CUDA_HOME = str(cuda_home)
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
    stamp = {
        "path": str(so_path),
        "fingerprint": _fingerprint(),
        "arch_list": arch,
        "archs": [f"sm_{a}{b}{'a' if s else ''}" + ("+ptx" if p else "") for a, b, s, p in parse_arch_list(arch)],
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
    }
    tmp = out_dir / (_STAMP + ".tmp")
    tmp.write_text(json.dumps(stamp, indent=2))
    os.replace(tmp, out_dir / _STAMP)
    logger.info("built %s for archs %s", so_path, arch)
    return so_path
