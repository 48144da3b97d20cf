"""Block-wise spatial-temporal attention: dense (cN x cN) reference, c = 1 spatial path,
operation counts through spiking.energy, gradients, bad input."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from spiking.attention.functional import (
    blockwise_attention,
    blockwise_attention_dense,
    check_chunk,
    resolve_scale,
    token_sum,
)
from spiking.energy import estimate_energy


def spikes(*shape, p=0.3, dtype=torch.float64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(*shape, generator=g, dtype=dtype) < p).to(dtype)


def qkv(T=4, B=2, N=6, D=8, seed=0, dtype=torch.float64):
    return tuple(spikes(T, B, N, D, seed=seed + i, dtype=dtype) for i in range(3))


def spatial_reference(q, k, v, num_heads, scale):
    """Q_t K_t^T V_t s per step and head, straight from the definition (an explicit N x N matrix)."""
    T, B, N, D = q.shape
    d = D // num_heads
    split = [x.reshape(T, B, N, num_heads, d) for x in (q, k, v)]  # [T, B, N, h, d]
    scores = torch.einsum("tbnhd,tbmhd->tbhnm", split[0], split[1])  # [T, B, h, N, N]
    return (torch.einsum("tbhnm,tbmhd->tbnhd", scores, split[2]) * scale).reshape(T, B, N, D)


@pytest.mark.parametrize("chunk", [1, 2, 4])  # 4 = T
@pytest.mark.parametrize("heads", [1, 2, 4])
def test_blockwise_equals_dense_reference(chunk, heads):
    q, k, v = qkv(T=4, B=3, N=5, D=8)
    out = blockwise_attention(q, k, v, heads, chunk, 0.37)
    ref = blockwise_attention_dense(q, k, v, heads, chunk, 0.37)
    assert out.shape == (4, 3, 5, 8) and out.dtype == torch.float64
    assert (out - ref).abs().max().item() <= 1e-6
    assert ref.abs().max() > 0  # not a trivially zero comparison


def test_blockwise_real_inputs_and_chunk_T():
    g = torch.Generator().manual_seed(1)
    q, k, v = (torch.randn(6, 2, 7, 12, generator=g, dtype=torch.float64) for _ in range(3))
    for chunk in (1, 2, 3, 6):
        torch.testing.assert_close(
            blockwise_attention(q, k, v, 3, chunk, 0.1),
            blockwise_attention_dense(q, k, v, 3, chunk, 0.1),
            atol=1e-6,
            rtol=0,
        )


def test_chunk_T_attends_across_all_steps():
    # with c = T a query at t = 0 sees keys/values of the last step; with c = 1 it does not
    q, k, v = qkv(T=4, B=1, N=3, D=4)
    k2, v2 = k.clone(), v.clone()
    k2[-1], v2[-1] = 1.0, 1.0
    full = blockwise_attention(q, k, v, 1, 4, 1.0)[0]
    full2 = blockwise_attention(q, k2, v2, 1, 4, 1.0)[0]
    assert not torch.equal(full, full2)
    torch.testing.assert_close(blockwise_attention(q, k, v, 1, 1, 1.0)[0], blockwise_attention(q, k2, v2, 1, 1, 1.0)[0])


@pytest.mark.parametrize("heads", [1, 2])
def test_chunk_one_is_spatial_only(heads):
    q, k, v = qkv(T=3, B=2, N=9, D=4, seed=5)
    out = blockwise_attention(q, k, v, heads, 1, 1 / 3)
    torch.testing.assert_close(out, spatial_reference(q, k, v, heads, 1 / 3), atol=1e-12, rtol=0)


def test_token_sum_is_sum_over_tokens():
    p = spikes(3, 2, 5, 4)
    torch.testing.assert_close(token_sum(p), p.sum(2, keepdim=True))


def test_gradcheck():
    g = torch.Generator().manual_seed(2)
    q, k, v = (torch.randn(2, 1, 3, 4, generator=g, dtype=torch.float64, requires_grad=True) for _ in range(3))
    assert torch.autograd.gradcheck(lambda a, b, c: blockwise_attention(a, b, c, 2, 2, 0.5), (q, k, v))
    p = torch.randn(2, 1, 3, 4, generator=g, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(token_sum, (p,))


def test_dtype_and_noncontiguous():
    q, k, v = qkv(T=2, B=2, N=4, D=4, dtype=torch.float32)
    out = blockwise_attention(q.transpose(1, 2).contiguous().transpose(1, 2), k, v, 2, 2, 1.0)
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, blockwise_attention(q, k, v, 2, 2, 1.0))


class _Attn(nn.Module):
    def __init__(self, fn, heads, chunk):
        super().__init__()
        self.fn, self.heads, self.chunk = fn, heads, chunk

    def forward(self, q, k, v):
        return self.fn(q, k, v, self.heads, self.chunk, 1.0)


def _flops(fn, T, N, chunk, B=1, D=8, heads=2):
    return estimate_energy(_Attn(fn, heads, chunk), qkv(T=T, B=B, N=N, D=D, dtype=torch.float32)).flops


@pytest.mark.parametrize("T,N,chunk", [(2, 4, 1), (4, 4, 2), (4, 8, 4), (8, 16, 8), (8, 16, 2)])
def test_operation_counts(T, N, chunk):
    B, D, heads = 1, 8, 2
    d = D // heads
    # K^T V and Q A: 2 B T N h d^2 = 2 B T N D d, independent of the chunk
    assert _flops(blockwise_attention, T, N, chunk, B, D, heads) == 2 * B * T * N * D * d
    # Q K^T and S V over (cN) x (cN) blocks: 2 B T c N^2 D
    assert _flops(blockwise_attention_dense, T, N, chunk, B, D, heads) == 2 * B * T * chunk * N * N * D


def test_operation_count_growth_is_linear_in_T_and_N():
    lin = [_flops(blockwise_attention, T, N, T) for T, N in ((2, 4), (4, 4), (4, 8))]
    dense = [_flops(blockwise_attention_dense, T, N, T) for T, N in ((2, 4), (4, 4), (4, 8))]
    assert lin[1] == 2 * lin[0] and lin[2] == 2 * lin[1]  # O(T N d^2)
    assert dense[1] == 4 * dense[0] and dense[2] == 4 * dense[1]  # O(T^2 N^2 d) with c = T


def test_binary_operands_are_accumulates():
    r = estimate_energy(_Attn(blockwise_attention, 2, 2), qkv(T=4, N=6, D=8, dtype=torch.float32))
    assert r.mac == 0 and r.ac > 0
    r = estimate_energy(_Attn(lambda q, k, v, h, c, s: token_sum(k * v), 2, 2), qkv(T=4, N=6, D=8, dtype=torch.float32))
    assert r.mac == 0 and r.flops == 4 * 2 * 6 * 8


def test_bad_input():
    q, k, v = qkv(T=4, N=4, D=8)
    with pytest.raises(ValueError, match=r"chunk_size must divide the number of time steps T \(got T=4, chunk_size=3"):
        blockwise_attention(q, k, v, 2, 3, 1.0)
    with pytest.raises(ValueError, match=r"num_heads must divide the channel dimension D \(got D=8, num_heads=3\)"):
        blockwise_attention(q, k, v, 3, 2, 1.0)
    with pytest.raises(ValueError, match=r"q must be time-major tokens \[T, B, N, D\] \(got shape \(2, 4, 8\)\)"):
        blockwise_attention(q[0], k[0], v[0], 2, 2, 1.0)
    with pytest.raises(ValueError, match="same shape"):
        blockwise_attention_dense(q, k[:, :, :2], v, 2, 2, 1.0)
    with pytest.raises(TypeError, match="floating-point"):
        blockwise_attention(q.long(), k, v, 2, 2, 1.0)
    with pytest.raises(ValueError, match="positive int"):
        check_chunk("f", 4, 0)
    with pytest.raises(ValueError, match="pass hw"):
        resolve_scale("f", "static", 6, 1, None)
    with pytest.raises(ValueError, match="'static' or 'event'"):
        resolve_scale("f", "dvs", 6, 1, None)


def test_scales():
    assert resolve_scale("f", "event", 64, 4, None) == 1 / 256
    assert resolve_scale("f", "static", 64, 4, None) == 1 / 8
    assert resolve_scale("f", "static", 6, 1, (2, 3)) == 1 / 2
    assert resolve_scale("f", 0.125, 6, 1, None) == 0.125
