"""The shared equivariance helper must accept equivariant models and reject non-equivariant ones."""

import pytest
import torch

import cuda_ext
from sampling import Graph
from tests.equivariance import (
    assert_graph_invariant,
    assert_node_equivariant,
    permute_graph,
    random_permutation,
)


def _graph(n=7, seed=0):
    g = torch.Generator().manual_seed(seed)
    src = torch.randint(0, n, (20,), generator=g)
    dst = torch.randint(0, n, (20,), generator=g)
    w = torch.rand(20, generator=g, dtype=torch.float64)
    return Graph.from_edge_index(torch.stack([src, dst]), num_nodes=n, weight=w)


def _gcn(x, g):
    return torch.tanh(cuda_ext.spmm(g, x) + x)


def test_spmm_layer_is_equivariant_for_every_graph_form():
    g = _graph()
    x = torch.randn(7, 3, dtype=torch.float64)
    gen = torch.Generator().manual_seed(1)
    assert_node_equivariant(_gcn, x, g, generator=gen)
    dense = g.to_dense().double()
    assert_node_equivariant(lambda x, a: torch.tanh(a @ x + x), x, dense, generator=gen)
    ei, w = g.to_edge_index()
    assert_node_equivariant(
        lambda x, gw: torch.tanh(cuda_ext.spmm(Graph.from_edge_index(gw[0], 7, weight=gw[1]), x) + x),
        x,
        (ei, w),
        generator=gen,
    )


def test_position_dependent_model_is_rejected():
    g = _graph()
    x = torch.randn(7, 3, dtype=torch.float64)
    leaky = lambda x, g: _gcn(x, g) + torch.arange(7, dtype=x.dtype).unsqueeze(1)  # noqa: E731
    with pytest.raises(AssertionError, match="equivariance"):
        assert_node_equivariant(leaky, x, g, generator=torch.Generator().manual_seed(0))
    # ignoring the graph permutation (using the old graph) must also be caught
    with pytest.raises(AssertionError):
        assert_node_equivariant(lambda x, _: _gcn(x, g), x, g, generator=torch.Generator().manual_seed(0))


def test_graph_level_invariance_and_its_failure():
    g = _graph()
    x = torch.randn(7, 3, dtype=torch.float64)
    assert_graph_invariant(lambda x, g: _gcn(x, g).sum(0), x, g, generator=torch.Generator().manual_seed(2))
    with pytest.raises(AssertionError, match="invariance"):
        assert_graph_invariant(lambda x, g: _gcn(x, g)[0], x, g, generator=torch.Generator().manual_seed(2))


def test_tuple_inputs_with_node_dims_and_tuple_outputs():
    g = _graph()
    x = torch.randn(7, 3, dtype=torch.float64)
    noise = torch.rand(5, 7, 3, dtype=torch.float64)  # [T, N, F]: node dim 1

    def fn(xs, g):
        feats, u = xs
        h = cuda_ext.spmm(g, feats)  # [N, F]
        spikes = (u < torch.sigmoid(h)).to(h.dtype)  # [T, N, F]
        return spikes, h

    assert_node_equivariant(
        fn, (x, noise), g, node_dims=(0, 1), out_node_dims=(1, 0), generator=torch.Generator().manual_seed(3)
    )


def test_bad_permutations_and_graphs():
    g = _graph()
    x = torch.randn(7, 3)
    with pytest.raises(ValueError, match="permutation"):
        assert_node_equivariant(_gcn, x, g, perm=torch.tensor([0, 0, 1, 2, 3, 4, 5]))
    with pytest.raises(TypeError, match="perm"):
        assert_node_equivariant(_gcn, x, g, perm=[1, 0, 2, 3, 4, 5, 6])
    with pytest.raises(TypeError, match="permute_graph"):
        permute_graph("not a graph", torch.arange(3))
    perm = random_permutation(7, torch.Generator().manual_seed(0))
    assert not torch.equal(perm, torch.arange(7))
    assert torch.equal(torch.sort(perm).values, torch.arange(7))
