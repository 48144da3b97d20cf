"""spiking.sparse_spikes: coordinates and CSR spikes give the dense synaptic current and counts."""

from __future__ import annotations

import torch

from spiking.encoding import sparse_bernoulli_encode
from spiking.sparse_spikes import CSRSpikes, SparseSpikes


def test_coordinates_and_csr_equal_dense():
    gen = torch.Generator().manual_seed(0)
    s = sparse_bernoulli_encode(torch.rand(6, 30, generator=gen) * 0.5, 25, generator=gen)
    assert isinstance(s, SparseSpikes) and s.num_spikes > 0
    dense = s.to_dense()  # [T, B, F]
    w = torch.randn(30, 4, dtype=torch.float32, generator=gen)
    torch.testing.assert_close(s.matmul(w), dense @ w)
    csr = s.to_csr()
    assert isinstance(csr, CSRSpikes) and csr.num_spikes == s.num_spikes
    torch.testing.assert_close(csr.matmul(w), dense @ w)
    assert torch.equal(csr.per_node(), s.per_node()) and torch.equal(s.per_node(), dense.sum((0, 2)).long())


def test_matmul_gradient_reaches_the_weights():
    s = SparseSpikes(rows=torch.tensor([0, 3, 3]), cols=torch.tensor([1, 0, 2]), T=2, B=2, F=3)
    w = torch.randn(3, 2, requires_grad=True)
    s.matmul(w).sum().backward()
    torch.testing.assert_close(w.grad, s.to_dense().sum((0, 1))[:, None].expand(3, 2))
    w2 = w.detach().clone().requires_grad_()
    s.to_csr().matmul(w2).sum().backward()
    torch.testing.assert_close(w2.grad, w.grad)
