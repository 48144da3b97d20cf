"""Integer-delay fast path against its dense spec (one-tap kernel through conv1d)."""

from __future__ import annotations

import pytest
import torch

from spiking.delays import integer as integer_mod
from spiking.delays import integer_delay_linear, integer_delay_linear_reference


def _case(T, B, C_in, C_out, K, dtype=torch.float32, seed=0, integer_weights=False):
    g = torch.Generator().manual_seed(seed)
    x = (torch.rand(T, B, C_in, generator=g) < 0.3).to(dtype)
    w = (
        torch.randint(-4, 5, (C_out, C_in), generator=g).to(dtype)
        if integer_weights
        else torch.randn(C_out, C_in, generator=g, dtype=dtype)
    )
    d = torch.randint(0, K, (C_out, C_in), generator=g)
    return x, w, d


@pytest.mark.parametrize(
    "T,B,C_in,C_out,K", [(50, 4, 16, 8, 25), (1, 1, 1, 1, 1), (7, 3, 5, 2, 3), (30, 2, 113, 17, 31), (12, 5, 9, 1, 4)]
)
def test_bitwise_equal_when_sums_are_exact(T, B, C_in, C_out, K):
    """Integer weights and spikes: every partial sum is exact, so both paths agree bit for bit."""
    x, w, d = _case(T, B, C_in, C_out, K, integer_weights=True)
    assert torch.equal(integer_delay_linear(x, w, d, K), integer_delay_linear_reference(x, w, d, K))


@pytest.mark.parametrize("dtype,tol", [(torch.float32, 1e-5), (torch.float64, 1e-12)])
def test_random_weights_and_inputs(dtype, tol):
    x, w, d = _case(40, 6, 32, 24, 25, dtype)
    x = x * torch.rand_like(x)  # real-valued inputs too
    b = torch.randn(24, dtype=dtype)
    for rp in (None, 0, 3):
        out = integer_delay_linear(x, w, d, 25, b, rp)
        torch.testing.assert_close(out, integer_delay_linear_reference(x, w, d, 25, b, rp), rtol=tol, atol=tol)
        assert out.dtype == dtype and out.shape[0] == 40 + (12 if rp is None else rp)


def test_block_sizes():
    assert integer_mod.block_sizes(48, 256, 256) == (48, 16)
    assert integer_mod.block_sizes(256, 512, 512) == (32, 4)
    assert integer_mod.block_sizes(1, 4096, 4096) == (1, 1)


def test_blocks_cross_boundaries(monkeypatch):
    """Tiny cache budgets force many batch and time blocks (and partial last blocks)."""
    monkeypatch.setattr(integer_mod, "block_sizes", lambda B, C_in, C_out: (3, 4))  # 3 of B = 8, 4 of T' = 23
    x, w, d = _case(20, 8, 5, 6, 7, integer_weights=True)
    assert torch.equal(integer_delay_linear(x, w, d, 7), integer_delay_linear_reference(x, w, d, 7))


def test_non_contiguous_input_and_gradients():
    x, w, d = _case(15, 4, 6, 5, 9, torch.float64)
    x = x.transpose(0, 1).contiguous().transpose(0, 1).requires_grad_()  # [T, B, C] with batch-major strides
    w.requires_grad_()
    y = integer_delay_linear(x, w, d, 9)
    y_ref = integer_delay_linear_reference(x, w, d, 9)
    torch.testing.assert_close(y, y_ref)
    probe = torch.randn_like(y)
    g = torch.autograd.grad((y * probe).sum(), (x, w))
    g_ref = torch.autograd.grad((y_ref * probe).sum(), (x, w))
    for a, b in zip(g, g_ref):
        torch.testing.assert_close(a, b)


def test_empty_batch_and_no_inputs():
    x, w, d = _case(5, 1, 3, 2, 3)
    assert integer_delay_linear(x[:, :0], w, d, 3).shape == (6, 0, 2)
    b = torch.tensor([1.0, -2.0])
    out = integer_delay_linear(x[..., :0], w[:, :0], d[:, :0], 3, b)  # no synapses: the bias at every step
    assert torch.equal(out, b.expand(6, 1, 2))


def test_bad_input():
    x, w, d = _case(10, 2, 4, 3, 5)
    with pytest.raises(ValueError, match="a delay longer than the kernel of K=5 taps allows"):
        integer_delay_linear(x, w, d + 1, 5)
    with pytest.raises(ValueError, match=r"\[0, K - 1\]"):
        integer_delay_linear(x, w, d - 5, 5)
    with pytest.raises(TypeError, match="delays must be an integer tensor"):
        integer_delay_linear(x, w, d.float(), 5)
    with pytest.raises(ValueError, match="shaped like weight"):
        integer_delay_linear(x, w, d[:, :2], 5)
    with pytest.raises(ValueError, match="kernel_size.*>= 1"):
        integer_delay_linear(x, w, d, 0)
    with pytest.raises(ValueError, match="input has 5 channels but the layer expects C_in=4"):
        integer_delay_linear(torch.rand(10, 2, 5), w, d, 5)
    with pytest.raises(ValueError, match="bias must be"):
        integer_delay_linear(x, w, d, 5, torch.zeros(4))


def test_spmm_method_equals_gather():
    x, w, d = _case(17, 3, 6, 5, 7, integer_weights=True)
    b = torch.arange(5.0)
    assert torch.equal(integer_delay_linear(x, w, d, 7, b, method="spmm"), integer_delay_linear(x, w, d, 7, b))
    with pytest.raises(ValueError, match="method must be one of"):
        integer_delay_linear(x, w, d, 7, method="dense")


@pytest.mark.cuda
def test_cuda_matches_reference():
    x, w, d = _case(60, 70, 48, 40, 25, integer_weights=True)  # 70 > 64: several batch blocks
    x, w, d = x.cuda(), w.cuda(), d.cuda()
    out = integer_delay_linear(x, w, d, 25)
    assert out.is_cuda and torch.equal(out, integer_delay_linear_reference(x, w, d, 25))
    assert torch.equal(integer_delay_linear(x, w, d, 25, method="spmm"), out)
