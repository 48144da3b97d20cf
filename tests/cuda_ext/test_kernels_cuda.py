"""CUDA kernels (csrc/) held to their PyTorch references. Skipped without a GPU or a built extension.

The LIF kernel is tested in tests/cuda_ext/test_lif.py (the CPU tests parametrised by device)."""
from __future__ import annotations

import pytest
import torch

import cuda_ext
from cuda_ext._backend import extension_status
from cuda_ext.gather import gather_rows, gather_rows_async, pin_memory_inplace

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (none visible)"),
]


@pytest.fixture(scope="module", autouse=True)
def _need_extension():
    available, reason = extension_status()
    if not available:
        pytest.skip(f"compiled extension unavailable: {reason}")


def _tol(dtype):
    return {torch.float64: (1e-10, 1e-10), torch.float32: (1e-5, 1e-5), torch.float16: (2e-3, 2e-3),
            torch.bfloat16: (1.6e-2, 1.6e-2)}[dtype]


def _x(T, N, dtype, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(T, N, generator=g, dtype=torch.float64) * 1.5 + 0.6).to(dtype).cuda()


# ----------------------------------------------------------------------------- SpMM
def _graph(num_rows, num_cols, nnz, seed, empty_rows=True):
    g = torch.Generator().manual_seed(seed)
    rows = torch.randint(0, num_rows, (nnz,), generator=g)
    if empty_rows:
        rows = rows[rows % 7 != 3]  # some rows keep no entries
    cols = torch.randint(0, num_cols, (rows.numel(),), generator=g)
    order = torch.argsort(rows * num_cols + cols)
    rows, cols = rows[order], cols[order]
    indptr = torch.zeros(num_rows + 1, dtype=torch.int64)
    indptr[1:] = torch.cumsum(torch.bincount(rows, minlength=num_rows), 0)
    return indptr, cols


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16])
@pytest.mark.parametrize("F", [1, 33, 129, 300])
@pytest.mark.parametrize("weighted", [False, True])
def test_spmm_kernel_matches_reference(dtype, F, weighted):
    indptr, indices = _graph(1023, 113, 5000, seed=F)
    x = torch.randn(113, F, dtype=torch.float64).to(dtype)
    w = torch.rand(indices.numel(), dtype=torch.float64).to(dtype) if weighted else None
    want = cuda_ext.spmm_reference(indptr, indices, None if w is None else w.double(), x.double())
    ext = cuda_ext._backend.extension()
    got = ext.spmm_csr(indptr.cuda(), indices.cuda(), None if w is None else w.cuda(), x.cuda())
    rtol, atol = _tol(dtype)
    torch.testing.assert_close(got.double().cpu(), want, rtol=rtol * 10, atol=atol * 10)


def test_spmm_kernel_through_op_with_backward_and_determinism():
    indptr, indices = _graph(500, 500, 8000, seed=1)
    w = torch.rand(indices.numel(), device="cuda", dtype=torch.float64, requires_grad=True)
    x = torch.randn(500, 64, device="cuda", dtype=torch.float64, requires_grad=True)
    csr = (indptr.cuda(), indices.cuda())
    out = cuda_ext.spmm(csr, x, w, backend="cuda")
    gx, gw = torch.autograd.grad(out.square().sum(), (x, w))
    ref = cuda_ext.spmm(csr, x, w, backend="torch")
    rgx, rgw = torch.autograd.grad(ref.square().sum(), (x, w))
    torch.testing.assert_close(out, ref)
    torch.testing.assert_close(gx, rgx)
    torch.testing.assert_close(gw, rgw)
    assert torch.equal(cuda_ext.spmm(csr, x.detach().float(), backend="cuda"),
                       cuda_ext.spmm(csr, x.detach().float(), backend="cuda"))


# ----------------------------------------------------------------------------- gather
@pytest.mark.parametrize("dtype,width", [(torch.float32, 4), (torch.float32, 33), (torch.float32, 256),
                                         (torch.float16, 3), (torch.uint8, 5), (torch.float64, 128)])
def test_gather_zero_copy_matches_index_select(dtype, width):
    table = (torch.randn(1023, width) * 50).to(dtype)
    index = torch.randint(0, 1023, (2000,))
    with pin_memory_inplace(table):
        assert table.is_pinned()
        out = gather_rows(table, index.cuda(), backend="cuda")
        torch.testing.assert_close(out.cpu(), table[index], rtol=0, atol=0)
        handle = gather_rows_async(table, index.cuda())
        torch.testing.assert_close(handle.wait().cpu(), table[index], rtol=0, atol=0)
    assert not table.is_pinned()


def test_gather_out_of_range_raises_on_every_path():
    table = torch.randn(10, 4)
    bad = torch.tensor([0, 10], device="cuda")
    with pytest.raises(ValueError, match="out of range"):
        gather_rows(table, bad)
    with pytest.raises(ValueError, match="out of range"):
        gather_rows(table.cuda(), bad)
    with pin_memory_inplace(table), pytest.raises(ValueError, match="out of range"):
        gather_rows(table, bad, backend="cuda")


def test_gather_cuda_backend_needs_pinned_table():
    with pytest.raises(ValueError, match="pinned"):
        gather_rows(torch.randn(10, 4), torch.tensor([1], device="cuda"), backend="cuda")


def test_pin_in_chunks_and_unpin():
    table = torch.randn(1000, 16)
    handle = pin_memory_inplace(table, chunk_bytes=4096 * 4)
    assert len(handle._chunks) > 1 and table.is_pinned()
    out = gather_rows(table, torch.tensor([999, 0, 512], device="cuda"), backend="cuda")
    torch.testing.assert_close(out.cpu(), table[[999, 0, 512]], rtol=0, atol=0)
    handle.unpin()
    handle.unpin()  # idempotent
    assert not table.is_pinned()
