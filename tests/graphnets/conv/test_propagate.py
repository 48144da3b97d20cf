"""propagate: hops of a normalised graph against dense matrix powers."""

import pytest
import torch

from graphnets.conv import gcn_norm, propagate
from tests.graphnets.conv.helpers import full_block, random_graph


def test_propagate_equals_dense_matrix_powers():
    g = gcn_norm(random_graph(30, 80, seed=0))
    z = torch.randn(30, 5, dtype=torch.float64)
    hops = propagate(g, z, 6)
    assert hops.shape == (30, 7, 5)
    a = g.to_dense().double()
    for k in range(7):
        torch.testing.assert_close(hops[:, k], torch.linalg.matrix_power(a, k) @ z)
    assert torch.equal(propagate(full_block(g), z, 6), hops)


def test_bad_input():
    g = random_graph(6, 10, seed=1)
    with pytest.raises(ValueError, match="K must be a non-negative int"):
        propagate(g, torch.randn(6, 2), -1)
    with pytest.raises(TypeError, match=r"x must be a 2-D floating tensor \[N, C\]"):
        propagate(g, torch.randn(6), 2)
    with pytest.raises(ValueError, match="graph must be 5 x 5"):
        propagate(g, torch.randn(5, 2), 2)
