"""CUDA kernels (csrc/) held to their PyTorch references. Skipped without a GPU or a built extension."""
from __future__ import annotations

import itertools

import pytest
import torch

import cuda_ext
from cuda_ext._backend import extension_status
from cuda_ext.gather import gather_rows, gather_rows_async, pin_memory_inplace
from cuda_ext.lif import lif_multistep, lif_multistep_reference

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


# ----------------------------------------------------------------------------- LIF
LIF_OPTIONS = list(itertools.product([True, False], [0.0, None], [False, True], ["sigmoid", "atan"]))


@pytest.mark.parametrize("decay_input,v_reset,detach_reset,surrogate", LIF_OPTIONS)
def test_lif_kernel_matches_reference_all_grads(decay_input, v_reset, detach_reset, surrogate):
    x = _x(6, 1023, torch.float64).requires_grad_()
    v0 = (torch.rand(1023, dtype=torch.float64, device="cuda") * 0.3).requires_grad_()
    tau = torch.tensor(2.5, dtype=torch.float64, device="cuda", requires_grad=True)
    kw = dict(tau=tau, v_reset=v_reset, decay_input=decay_input, detach_reset=detach_reset, surrogate=surrogate,
              alpha=3.0)
    gs, gv = torch.randn_like(x), torch.randn_like(x)
    s, v = lif_multistep(x, v0, return_v=True, backend="cuda", **kw)
    got = torch.autograd.grad((s * gs).sum() + (v * gv).sum(), (x, v0, tau))
    s_ref, v_ref = lif_multistep_reference(x, v0, **kw)
    want = torch.autograd.grad((s_ref * gs).sum() + (v_ref * gv).sum(), (x, v0, tau))
    torch.testing.assert_close(s, s_ref, rtol=0, atol=0)
    torch.testing.assert_close(v, v_ref)
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("T,N", [(1, 1), (1, 113), (4, 1023), (16, 4097)])
def test_lif_kernel_dtypes_and_sizes(dtype, T, N):
    x = _x(T, N, dtype, seed=T * N).requires_grad_()
    grad = torch.randn(T, N, device="cuda", dtype=dtype)
    s = lif_multistep(x, backend="cuda")
    (gx,) = torch.autograd.grad(s, x, grad)
    x_ref = x.detach().clone().requires_grad_()
    s_ref = lif_multistep(x_ref, backend="torch")
    (gx_ref,) = torch.autograd.grad(s_ref, x_ref, grad)
    # Both compute in float32; spikes may only differ where H is within rounding of V_th.
    mismatch = (s != s_ref).float().mean().item()
    assert mismatch < 1e-3
    if mismatch == 0:
        rtol, atol = _tol(dtype)
        torch.testing.assert_close(gx, gx_ref, rtol=rtol, atol=atol)


def test_lif_kernel_noncontiguous_multidim_and_if():
    x = _x(5, 2 * 3 * 7, torch.float32).reshape(5, 2, 3, 7).transpose(1, 3).requires_grad_()
    s, v = lif_multistep(x, tau=float("inf"), v_reset=None, return_v=True, backend="cuda")
    s_ref, v_ref = lif_multistep_reference(x.detach(), tau=float("inf"), v_reset=None)
    torch.testing.assert_close(s, s_ref, rtol=0, atol=0)
    torch.testing.assert_close(v, v_ref)


def test_lif_kernel_deterministic():
    x = _x(16, 100_000, torch.float32).requires_grad_()
    tau = torch.tensor(2.0, device="cuda", requires_grad=True)
    runs = []
    for _ in range(2):
        s = lif_multistep(x, tau=tau, backend="cuda")
        runs.append(torch.autograd.grad(s.sum(), (x, tau)))
    for a, b in zip(*runs):
        assert torch.equal(a, b)


def test_lif_opcheck_cuda():
    x = _x(4, 9, torch.float64).requires_grad_()
    args = (x, torch.zeros(9, dtype=torch.float64, device="cuda"),
            torch.tensor(2.0, dtype=torch.float64, device="cuda"), 1.0, 0.0, True, False, "sigmoid", 4.0, True, "cuda")
    torch.library.opcheck(torch.ops.graphspike.lif_multistep.default, args)


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
