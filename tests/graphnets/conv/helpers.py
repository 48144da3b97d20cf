"""Shared inputs for the conv-layer tests: random graphs in several forms, full-cover blocks, determinism."""

from __future__ import annotations

from typing import Callable

import scipy.sparse as sp
import torch

from sampling import Block, Graph


def random_edge_index(n: int, e: int, seed: int = 0, symmetric: bool = True, loops: bool = False) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    ei = torch.randint(0, n, (2, e), generator=gen)
    if not loops:
        ei = ei[:, ei[0] != ei[1]]
    if symmetric:
        ei = torch.cat([ei, ei.flip(0)], 1)
    key = torch.unique(ei[1] * n + ei[0])  # no duplicates, sorted by (target, source)
    return torch.stack([key % n, key // n])


def random_graph(
    n: int = 12,
    e: int = 30,
    seed: int = 0,
    *,
    symmetric: bool = True,
    weighted: bool = False,
    loops: bool = False,
    dtype=torch.float64,
) -> Graph:
    ei = random_edge_index(n, e, seed, symmetric, loops)
    w = None
    if weighted:
        w = torch.rand(ei.shape[1], generator=torch.Generator().manual_seed(seed + 1), dtype=dtype) + 0.5
    return Graph.from_edge_index(ei, num_nodes=n, weight=w)


def forms(graph: Graph) -> dict[str, Graph]:
    """The same graph built from an edge_index, CSR arrays, a dense matrix and a scipy matrix.

    The dense and scipy forms carry explicit weights (ones for an unweighted graph).
    """
    ei, w = graph.to_edge_index()
    dense = graph.to_dense()
    return {
        "edge_index": Graph.from_edge_index(ei, num_nodes=graph.num_rows, weight=w, num_cols=graph.num_cols),
        "csr": Graph(graph.indptr.clone(), graph.indices.clone(), None if w is None else w.clone(), graph.num_cols),
        "dense": Graph.from_torch_sparse(dense.to_sparse()),
        "scipy": Graph.from_scipy(sp.csr_matrix(dense.numpy())),
    }


def full_block(graph: Graph) -> Block:
    """The block of one full-graph layer: every node is a destination and a source."""
    return Block(graph, torch.arange(graph.num_rows))


def random_block(
    num_dst: int = 5, num_src: int = 11, e: int = 24, seed: int = 0, weighted: bool = False, dtype=torch.float64
) -> Block:
    """A rectangular sampled block (destinations first among the sources), each destination with >= 1 source."""
    gen = torch.Generator().manual_seed(seed)
    rows = torch.cat([torch.arange(num_dst), torch.randint(0, num_dst, (e - num_dst,), generator=gen)])
    cols = torch.randint(0, num_src, (e,), generator=gen)
    key = torch.unique(rows * num_src + cols)
    rows, cols = key // num_src, key % num_src
    w = torch.rand(rows.numel(), generator=gen, dtype=dtype) + 0.5 if weighted else None
    g = Graph.from_coo(rows, cols, w, num_dst, num_src)
    return Block(g, torch.randperm(100, generator=gen)[:num_src])


def assert_bitwise_deterministic(fn: Callable[[], torch.Tensor], runs: int = 2) -> None:
    """``fn()`` gives the same bits every run (forward and, when it requires grad, backward)."""
    outs = [fn() for _ in range(runs)]
    for o in outs[1:]:
        assert torch.equal(o, outs[0])


def assert_forward_backward_deterministic(forward: Callable[[], torch.Tensor], x: torch.Tensor) -> None:
    """``forward()`` (a function of the leaf ``x``) and the gradient of ``sum(out ** 2)`` w.r.t. ``x``
    give the same bits every run."""

    def run() -> torch.Tensor:
        x.grad = None
        out = forward()
        out.square().sum().backward()
        return torch.cat([out.detach().view(-1), x.grad.view(-1)])

    assert_bitwise_deterministic(run)
