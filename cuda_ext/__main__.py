"""Command line of :mod:`cuda_ext`.

``python -m cuda_ext build [--arch "9.0;8.0"] [--quiet] [--require]``
    compile the CPU kernels (``csrc/cpu``, host C++ compiler only), then every CUDA source,
    into the build directory; exit status 1 on a compile error. A missing toolchain is not an
    error: without a CUDA toolkit (no nvcc) or with a CPU-only torch the CUDA part prints
    ``skipped: nvcc not found (...)``, without a C++ compiler the CPU part prints ``skipped``,
    and the command exits 0, so the README's test command works on any machine; ``--require``
    (CI) makes a skipped part an error (exit status 1).
``python -m cuda_ext info``
    print the extension status and, for each op, the backend ``"auto"`` resolves to on CPU
    and on CUDA tensors, and why.
"""

from __future__ import annotations

import argparse
import sys
import time

import torch

OPS = ("spmm", "lif_multistep", "gather_rows")
CPU_KERNEL_OPS = ("lif_multistep",)


def _build_cpu(args: argparse.Namespace) -> int:
    from cuda_ext import _build_cpu

    start = time.perf_counter()
    try:
        _build_cpu.compiler()
    except _build_cpu.CompilerMissing as err:
        if args.require:
            print(f"cuda_ext build FAILED (--require): CPU kernels: {err}", file=sys.stderr)
            return 1
        print(f"cuda_ext build: CPU kernels skipped: {err}; the LIF runs its PyTorch loop on CPU", flush=True)
        return 0
    print(f"building {_build_cpu.CPU_EXTENSION_NAME} into {_build_cpu.build_dir()}", flush=True)
    try:
        path = _build_cpu.build(verbose=not args.quiet)
    except (RuntimeError, OSError) as err:
        print(f"cuda_ext build FAILED after {time.perf_counter() - start:.0f} s: {err}", file=sys.stderr)
        return 1
    print(f"built {path} in {time.perf_counter() - start:.0f} s", flush=True)
    return 0


def _build(args: argparse.Namespace) -> int:

    cpu_status = _build_cpu(args)  # both parts run, so one command reports every missing piece
    return max(cpu_status, _build_cuda(args))


def _build_cuda(args: argparse.Namespace) -> int:
    from cuda_ext import _build

    start = time.perf_counter()
    try:
        _build.toolchain()
    except _build.ToolchainMissing as err:  # missing nvcc or a CPU-only torch: nothing to compile here
        if args.require:
            print(f"cuda_ext build FAILED (--require): {err}", file=sys.stderr)
            return 1
        print(
            f"cuda_ext build: skipped: {err}; the ops use their PyTorch implementations "
            f"(pass --require to make this an error)",
            flush=True,
        )
        return 0
    print(
        f"building {_build.EXTENSION_NAME} into {_build.build_dir()} "
        f"(archs: {args.arch or 'TORCH_CUDA_ARCH_LIST, the visible GPUs or ' + _build.DEFAULT_ARCH})",
        flush=True,
    )
    try:
        path = _build.build(args.arch, verbose=not args.quiet)
    except (RuntimeError, OSError, ValueError) as err:  # compiler failure or a malformed --arch
        print(f"cuda_ext build FAILED after {time.perf_counter() - start:.0f} s: {err}", file=sys.stderr)
        return 1
    print(f"built {path} in {time.perf_counter() - start:.0f} s")
    return 0


def _info(_: argparse.Namespace) -> int:
    from cuda_ext import _build
    from cuda_ext._backend import cpu_extension_status, extension_status

    available, reason = extension_status()
    cpu_available, cpu_reason = cpu_extension_status()
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    print(f"torch {torch.__version__} (CUDA {torch.version.cuda}); GPU: {gpu or 'none visible'}")
    print(f"build directory: {_build.build_dir()}")
    print(f"extension: {'available' if available else 'unavailable'} -- {reason}")
    print(f"CPU kernels: {'available' if cpu_available else 'unavailable'} -- {cpu_reason}")
    for op in OPS:
        cuda_choice = "cuda kernel" if available else "torch (extension unavailable: warns once)"
        if gpu is None:
            cuda_choice += " [no GPU here]"
        cpu_choice = "torch (reference/CPU path)"
        if op in CPU_KERNEL_OPS:
            cpu_choice = "CPU kernel (float32/float64)" if cpu_available else "torch (CPU kernels not built)"
        print(f"  {op:14s} auto on CPU tensors -> {cpu_choice}; auto on CUDA tensors -> {cuda_choice}")
    print("  gather_rows uses the zero-copy kernel only for a pinned CPU table with a CUDA index")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cuda_ext", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_build = sub.add_parser("build", help="compile the CPU kernels and the CUDA extension")
    p_build.add_argument(
        "--arch", default=None, help='CUDA arch list, e.g. "9.0" or "8.0;9.0" (default: the visible GPUs, else 9.0)'
    )
    p_build.add_argument("--quiet", action="store_true", help="do not print compiler commands")
    p_build.add_argument(
        "--require",
        action="store_true",
        help="fail (exit 1) instead of skipping when nvcc, a CUDA build of torch or a C++ compiler is missing",
    )
    p_build.set_defaults(func=_build)
    p_info = sub.add_parser("info", help="print which backend each op uses and why")
    p_info.set_defaults(func=_info)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
