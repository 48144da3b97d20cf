"""RRWP pseudo-coordinates: hand tables, K=0 identity, supports, bad input."""

from __future__ import annotations

import pytest
import torch

from graphnets.ckgconv import AddRRWP, rrwp, rrwp_support
from sampling import Graph


def path3() -> Graph:
    ei = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    return Graph.from_edge_index(ei, num_nodes=3)


def random_graph(n: int, p: float, seed: int) -> Graph:
    g = torch.Generator().manual_seed(seed)
    a = torch.rand(n, n, generator=g) < p
    a = (a | a.T) & ~torch.eye(n, dtype=torch.bool)
    src, dst = a.nonzero(as_tuple=True)
    return Graph.from_edge_index(torch.stack([src, dst]), num_nodes=n)


def test_k0_is_identity():
    g = random_graph(7, 0.4, 0)
    rel, abs_pe = rrwp(g, 0)
    assert rel.shape == (7, 7, 1) and abs_pe.shape == (7, 0)
    torch.testing.assert_close(rel[:, :, 0], torch.eye(7))


def test_path_graph_hand_table():
    rel, abs_pe = rrwp(path3(), 2)
    m1 = torch.tensor([[0.0, 1.0, 0.0], [0.5, 0.0, 0.5], [0.0, 1.0, 0.0]])
    m2 = torch.tensor([[0.5, 0.0, 0.5], [0.0, 1.0, 0.0], [0.5, 0.0, 0.5]])
    torch.testing.assert_close(rel[:, :, 0], torch.eye(3))
    torch.testing.assert_close(rel[:, :, 1], m1)
    torch.testing.assert_close(rel[:, :, 2], m2)
    torch.testing.assert_close(abs_pe, torch.tensor([[0.0, 0.5], [0.0, 1.0], [0.0, 0.5]]))


def test_rows_are_probabilities_and_weights_count():
    g = random_graph(12, 0.3, 1)
    rel, _ = rrwp(g, 5, dtype=torch.float64)
    has_edges = g.degree() > 0
    sums = rel.sum(dim=1)  # [N, K+1]
    torch.testing.assert_close(sums[has_edges], torch.ones_like(sums[has_edges]))
    # weighted: node 1 walks to 0 with probability 3/4 when w(0 -> 1) = 3, w(2 -> 1) = 1
    ei = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    gw = Graph.from_edge_index(ei, num_nodes=3, weight=torch.tensor([3.0, 1.0, 1.0, 1.0]))
    relw, _ = rrwp(gw, 1)
    torch.testing.assert_close(relw[1, :, 1], torch.tensor([0.75, 0.0, 0.25]))


def test_self_loops_are_ignored():
    ei = torch.tensor([[0, 1, 1, 2, 1], [1, 0, 2, 1, 1]])
    rel, _ = rrwp(Graph.from_edge_index(ei, num_nodes=3), 2)
    torch.testing.assert_close(rel, rrwp(path3(), 2)[0])


def test_isolated_node_rows_stay_zero():
    ei = torch.tensor([[0, 1], [1, 0]])
    rel, abs_pe = rrwp(Graph.from_edge_index(ei, num_nodes=3), 3)
    assert torch.all(rel[2, :, 1:] == 0) and torch.all(abs_pe[2] == 0)


def test_supports():
    rel, _ = rrwp(path3(), 2)
    idx, attr = rrwp_support(rel, "full")
    assert idx.shape == (2, 9) and attr.shape == (9, 3)
    key = idx[1] * 3 + idx[0]
    assert torch.equal(key, torch.arange(9))  # sorted by (target, source)
    torch.testing.assert_close(attr, rel[idx[1], idx[0]])
    idx1, _ = rrwp_support(rel, "khop", hops=1)
    assert sorted(map(tuple, idx1.T.tolist())) == sorted([(0, 0), (1, 0), (0, 1), (1, 1), (2, 1), (1, 2), (2, 2)])
    idx0, _ = rrwp_support(rel, "khop", hops=0)
    assert torch.equal(idx0, torch.tensor([[0, 1, 2], [0, 1, 2]]))
    rel1, _ = rrwp(path3(), 1)
    assert rrwp_support(rel1, "nonzero")[0].shape[1] == 7  # (0, 2) needs two steps
    assert rrwp_support(rel, "nonzero")[0].shape[1] == 9


def test_transform_fields():
    from torch_geometric.data import Data

    d = AddRRWP(3, "khop", hops=1)(Data(edge_index=path3().to_edge_index()[0], num_nodes=3))
    assert d.abs_pe.shape == (3, 3) and d.pair_attr.shape == (7, 4) and d.pair_index.shape == (2, 7)
    torch.testing.assert_close(d.deg, torch.tensor([1.0, 2.0, 1.0]))
    assert "K=3" in repr(AddRRWP(3))


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: rrwp(path3(), -1), ValueError, "K must be >= 0"),
        (lambda: rrwp(path3(), 2.0), TypeError, "K must be an int"),
        (lambda: rrwp(torch.eye(3), 2), TypeError, "sampling.Graph"),
        (
            lambda: rrwp(Graph.from_edge_index(torch.zeros(2, 0, dtype=torch.long), num_nodes=1), 2),
            ValueError,
            "too small for K=2",
        ),
        (
            lambda: rrwp(Graph.from_edge_index(torch.zeros(2, 0, dtype=torch.long), num_nodes=4), 1),
            ValueError,
            "too small for K=1",
        ),
        (lambda: rrwp(path3(), 2, dtype=torch.int64), TypeError, "floating"),
        (lambda: rrwp_support(rrwp(path3(), 2)[0], "khop", hops=3), ValueError, "hops must be in"),
        (lambda: rrwp_support(rrwp(path3(), 2)[0], "khop"), TypeError, "needs an int hops"),
        (lambda: rrwp_support(rrwp(path3(), 2)[0], "full", hops=1), ValueError, "only used with support='khop'"),
        (lambda: rrwp_support(rrwp(path3(), 2)[0], "ring"), ValueError, "support must be one of"),
        (lambda: rrwp_support(torch.zeros(3, 4, 2), "full"), ValueError, r"\[N, N, K\+1\]"),
        (lambda: AddRRWP(-2), ValueError, "K must be an int >= 0"),
        (lambda: AddRRWP(2, "ring"), ValueError, "support must be one of"),
    ],
)
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_single_node_k0_is_fine():
    rel, abs_pe = rrwp(Graph.from_edge_index(torch.zeros(2, 0, dtype=torch.long), num_nodes=1), 0)
    assert rel.shape == (1, 1, 1) and rel.item() == 1.0 and abs_pe.shape == (1, 0)
