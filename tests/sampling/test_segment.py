"""sampling.segment: deterministic segment sums and means against a sequential loop, gradients, bad input."""

import pytest
import torch

from sampling import segment_mean, segment_sum


def test_segment_sum_and_mean_against_a_loop_with_empty_segments():
    gen = torch.Generator().manual_seed(0)
    ptr = torch.tensor([0, 3, 3, 7, 12, 12])
    src = torch.randn(12, 5, generator=gen, dtype=torch.float64)
    ref = torch.stack([src[a:b].sum(0) for a, b in zip(ptr[:-1], ptr[1:])])
    torch.testing.assert_close(segment_sum(src, ptr), ref)
    counts = (ptr[1:] - ptr[:-1]).clamp_min(1).double()
    torch.testing.assert_close(segment_mean(src, ptr), ref / counts[:, None])
    torch.testing.assert_close(segment_sum(src[:, 0], ptr), ref[:, 0])  # 1-D input


def test_bitwise_deterministic_and_gradcheck():
    gen = torch.Generator().manual_seed(1)
    ptr = torch.cat([torch.zeros(1, dtype=torch.int64), torch.randint(0, 40, (300,), generator=gen).cumsum(0)])
    src = torch.randn(int(ptr[-1]), 32, generator=gen)
    assert torch.equal(segment_sum(src, ptr), segment_sum(src.clone(), ptr.clone()))
    x = torch.randn(10, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: segment_mean(t, torch.tensor([0, 4, 4, 10])), (x,))


def test_bad_input():
    with pytest.raises(ValueError, match=r"end at len\(src\) = 4"):
        segment_sum(torch.ones(4, 2), torch.tensor([0, 2, 3]))
    with pytest.raises(ValueError, match="non-decreasing"):
        segment_sum(torch.ones(4, 2), torch.tensor([0, 3, 1, 4]))
    with pytest.raises(TypeError, match="int64"):
        segment_sum(torch.ones(4, 2), torch.tensor([0.0, 4.0]))
    with pytest.raises(TypeError, match="floating"):
        segment_sum(torch.ones(4, 2, dtype=torch.int64), torch.tensor([0, 4]))
