"""The CUDA kernels' device code run on the CPU (no GPU needed): tests/cuda_ext/kernel_emulation.cpp
compiles csrc/spmm_kernels.cuh and csrc/gather_kernels.cuh as C++ and calls each kernel once per
(block, thread) of the grid the CUDA launcher would use. This checks the kernels' indexing -- lane
groups, vector widths, feature tiles, heavy-row segments and their fix-up, the 128-B shift, the
thread cap's grid-stride loop, bounds -- against the references, with the production schedule
(``cuda_ext.spmm._segment_schedule``). Timing and warp-level behaviour need the GPU tests."""

from __future__ import annotations

import ctypes
import importlib
import shutil
import subprocess
from pathlib import Path

import pytest
import torch

import cuda_ext

spmm_module = importlib.import_module("cuda_ext.spmm")
SOURCE = Path(__file__).with_name("kernel_emulation.cpp")
P, I64 = ctypes.c_void_p, ctypes.c_int64


@pytest.fixture(scope="module")
def emulation(tmp_path_factory):
    compiler = shutil.which("c++") or shutil.which("g++")
    if compiler is None:
        pytest.skip("no C++ compiler on this machine")
    library = tmp_path_factory.mktemp("emulation") / "kernel_emulation.so"
    subprocess.run(
        [compiler, "-O1", "-std=c++17", "-shared", "-fPIC", "-Wno-unknown-pragmas", "-o", str(library), str(SOURCE)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    lib = ctypes.CDLL(str(library))
    for name in ("emulate_spmm_f32", "emulate_spmm_f64"):
        getattr(lib, name).argtypes = [P] * 7 + [I64] * 5 + [P, P, ctypes.c_int]
    lib.emulate_gather.argtypes = [P, P, P, P, I64, I64, I64, P, I64, P]
    lib.emulate_stream_copy.argtypes = [P, P, I64, I64]
    return lib


def _ptr(t):
    return None if t is None else t.data_ptr()


def run_spmm(lib, indptr, indices, weight, x, seg_len=None):
    """The kernel's output and (vec, G, KV), with the schedule spmm's CUDA registration builds."""
    seg_len = seg_len or spmm_module._seg_len(x)
    extra_ptr, ws_ptr = spmm_module._segment_schedule(indptr, seg_len)
    out = torch.full((indptr.numel() - 1, x.shape[1]), float("nan"), dtype=x.dtype)  # poison: every row is written
    config = (ctypes.c_int * 3)()
    message = ctypes.create_string_buffer(256)
    fn = lib.emulate_spmm_f32 if x.dtype == torch.float32 else lib.emulate_spmm_f64
    status = fn(
        _ptr(indptr),
        _ptr(indices),
        _ptr(weight),
        _ptr(x),
        _ptr(out),
        _ptr(extra_ptr),
        _ptr(ws_ptr),
        indptr.numel() - 1,
        x.shape[0],
        indices.numel(),
        x.shape[1],
        seg_len,
        config,
        message,
        256,
    )
    if status:
        raise RuntimeError(message.value.decode())
    return out, tuple(config)


def graph(num_rows, num_cols, degrees, seed=0, weighted=True, dtype=torch.float32):
    """CSR with the given row degrees (a tensor), random columns and weights."""
    g = torch.Generator().manual_seed(seed)
    indptr = torch.zeros(num_rows + 1, dtype=torch.int64)
    indptr[1:] = torch.cumsum(degrees, 0)
    indices = torch.randint(0, num_cols, (int(indptr[-1]),), generator=g)
    weight = (torch.rand(indices.numel(), generator=g, dtype=torch.float64) - 0.3).to(dtype) if weighted else None
    return indptr, indices, weight


def heavy_degrees(num_rows, seed=0):
    g = torch.Generator().manual_seed(seed)
    degrees = torch.randint(0, 40, (num_rows,), generator=g)
    degrees[::11] = 0
    degrees[3], degrees[num_rows // 2], degrees[-1] = 1500, 257, 700  # heavy rows, one of them last
    return degrees


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("features", [1, 2, 4, 8, 16, 33, 64, 128, 256, 300, 513])
@pytest.mark.parametrize("seg_len", [None, 8])
def test_spmm_kernel_matches_reference(emulation, dtype, features, seg_len):
    indptr, indices, weight = graph(120, 90, heavy_degrees(120), seed=features, dtype=dtype)
    x = torch.randn(90, features, dtype=torch.float64).to(dtype)
    out, (vec, G, KV) = run_spmm(emulation, indptr, indices, weight, x, seg_len)
    want = cuda_ext.spmm_reference(indptr, indices, weight.double(), x.double())
    tol = 1e-12 if dtype == torch.float64 else 2e-5
    torch.testing.assert_close(out.double(), want, rtol=tol, atol=tol * 50)
    # the configuration the launcher picks for this width
    elem = x.element_size()
    assert vec == ((features * elem) % 16 == 0)
    if vec:
        vectors = features * elem // 16
        assert (G, KV) == ((min(32, 1 << max(vectors - 1, 0).bit_length()), 1) if vectors <= 32 else (32, 2))


def test_spmm_kernel_unweighted_empty_rows_and_no_edges(emulation):
    indptr, indices, _ = graph(50, 20, heavy_degrees(50), weighted=False)
    x = torch.randn(20, 64)
    out, _ = run_spmm(emulation, indptr, indices, None, x, seg_len=16)
    torch.testing.assert_close(out, cuda_ext.spmm_reference(indptr, indices, None, x), rtol=1e-5, atol=1e-4)
    empty = torch.zeros(8, dtype=torch.int64)
    out, _ = run_spmm(emulation, empty, torch.empty(0, dtype=torch.int64), None, torch.randn(5, 16))
    assert torch.equal(out, torch.zeros(7, 16))


def test_spmm_kernel_segment_sums_are_deterministic_and_ordered(emulation):
    # one row of 1000 edges cut into segments of 8: the fix-up adds the partials in segment order
    indptr = torch.tensor([0, 1000])
    indices = torch.arange(1000) % 7
    weight = torch.rand(1000) * 1e4
    x = torch.randn(7, 4)
    out1, _ = run_spmm(emulation, indptr, indices, weight, x, seg_len=8)
    out2, _ = run_spmm(emulation, indptr, indices, weight, x, seg_len=8)
    assert torch.equal(out1, out2)
    partials = [(weight[s : s + 8, None] * x[indices[s : s + 8]]).sum(0) for s in range(0, 1000, 8)]
    want = torch.zeros(4)
    for p in partials:
        want = want + p
    torch.testing.assert_close(out1[0], want, rtol=1e-5, atol=1e-2)


def test_spmm_kernel_stops_on_bad_structure(emulation):
    x = torch.randn(5, 16)
    with pytest.raises(RuntimeError, match="column index out of range"):
        run_spmm(emulation, torch.tensor([0, 2, 3]), torch.tensor([0, 5, 1]), None, x)
    with pytest.raises(RuntimeError, match="indptr must be non-decreasing from 0 to nnz"):
        run_spmm(emulation, torch.tensor([0, 3, 2]), torch.tensor([0, 1]), None, x)


def run_gather(lib, table, index, perm=None, max_threads=10240):
    flat = table.reshape(table.shape[0], -1)
    out = (
        torch.full((index.numel(), flat.shape[1]), 0x5A, dtype=torch.uint8).view(table.dtype)
        if table.dtype == torch.uint8
        else torch.full((index.numel(), flat.shape[1]), float("nan"), dtype=table.dtype)
    )
    invalid = torch.zeros(1, dtype=torch.int64)
    geometry = (ctypes.c_int * 3)()
    lib.emulate_gather(
        _ptr(flat),
        _ptr(index),
        _ptr(perm),
        _ptr(out),
        index.numel(),
        flat.shape[0],
        flat.shape[1] * flat.element_size(),
        _ptr(invalid),
        max_threads,
        geometry,
    )
    return out, int(invalid), tuple(geometry)


@pytest.mark.parametrize(
    "width,dtype",
    [
        (1, torch.float32),
        (4, torch.float32),
        (8, torch.float32),
        (16, torch.float32),
        (32, torch.float32),
        (33, torch.float32),
        (64, torch.float32),
        (256, torch.float32),
        (3, torch.float16),
        (5, torch.uint8),
        (128, torch.float64),
    ],
)
@pytest.mark.parametrize("max_threads", [256, 10240])
@pytest.mark.parametrize("sort", [False, True])
def test_gather_kernel_matches_index_select(emulation, width, dtype, max_threads, sort):
    g = torch.Generator().manual_seed(width)
    table = (torch.randn(700, width, generator=g) * 50).to(dtype)
    index = torch.randint(0, 700, (3000,), generator=g)
    perm = None
    if sort:
        index, perm = torch.sort(index)
    out, invalid, (w, G, blocks) = run_gather(emulation, table, index, perm, max_threads)
    want = torch.empty_like(out)
    want[perm if perm is not None else torch.arange(3000)] = table[index]
    assert invalid == 0 and torch.equal(out, want)
    assert blocks <= max_threads // 256
    row_bytes = width * table.element_size()
    assert row_bytes % w == 0 and G >= 1


def test_gather_kernel_misaligned_rows_and_line_shift(emulation):
    buffer = torch.randn(1 + 600 * 40)
    table = buffer[1:].view(600, 40)  # 160-B rows starting 4 bytes past an aligned address
    index = torch.randint(0, 600, (2000,))
    out, invalid, (w, G, _) = run_gather(emulation, table, index)
    assert w == 4 and G == 32 and invalid == 0
    assert torch.equal(out, table[index])


def test_gather_kernel_zero_fills_and_counts_out_of_range_rows(emulation):
    table = torch.randn(10, 12)
    index = torch.tensor([3, 10, -1, 9, 1 << 40, 0])
    out, invalid, _ = run_gather(emulation, table, index, max_threads=256)
    assert invalid == 3
    assert torch.equal(out[[0, 3, 5]], table[[3, 9, 0]])
    assert torch.equal(out[[1, 2, 4]], torch.zeros(3, 12))


@pytest.mark.parametrize("nbytes,max_threads", [(16, 256), (4096 * 16 + 48, 256), (1 << 20, 10240)])
def test_stream_copy_kernel(emulation, nbytes, max_threads):
    src = torch.randint(0, 255, (nbytes,), dtype=torch.uint8)
    dst = torch.zeros_like(src)
    emulation.emulate_stream_copy(_ptr(src), _ptr(dst), nbytes, max_threads)
    assert torch.equal(src, dst)
