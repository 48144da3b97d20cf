"""The LIF CUDA kernel (csrc/lif.cu) held to its PyTorch reference. The SpMM and gather kernels are tested
in test_spmm.py / test_gather.py through the ``device`` fixture. On a GPU machine these tests FAIL
when the extension is not built (tests/conftest.py); without a GPU they skip."""
from __future__ import annotations

import itertools

import pytest
import torch

from cuda_ext.lif import lif_multistep, lif_multistep_reference

pytestmark = pytest.mark.cuda


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
