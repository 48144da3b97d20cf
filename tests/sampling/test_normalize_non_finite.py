"""Normalisations never return NaN weights (issue 19, case 1)."""

import pytest
import torch

from graphnets.conv import GCNConv, gcn_norm
from sampling import Graph
from sampling.finite import NonFiniteError


def _negative_degree_graph():
    # 3 nodes, edges 1-0 and 2-0 in both directions, weights [1, 1, -2, -2]: weighted degrees -1, 1, -2
    return Graph.from_edge_index(torch.tensor([[1, 0, 2, 0], [0, 1, 0, 2]]), 3, torch.tensor([1.0, 1.0, -2.0, -2.0]))


def test_sym_with_a_negative_degree_raises_naming_the_node():
    g = _negative_degree_graph()
    with pytest.raises(
        ValueError,
        match=r"Graph.normalize: kind='sym' .* needs non-negative weighted degrees "
        r"\(got row \(target\) degree -1 at node 0; 2 such nodes\)",
    ):
        g.normalize("sym")
    # gcn_norm adds the self loops first: degrees 0, 2, -1; it used to blame "weight must be finite"
    with pytest.raises(ValueError, match=r"degree -1 with the added self loop at node 2; 1 such nodes"):
        gcn_norm(g)
    with pytest.raises(ValueError, match="non-negative weighted degrees"):
        GCNConv(2, 2)(torch.ones(3, 2), g)


def test_the_advice_row_or_col_gives_the_exact_finite_values():
    g = _negative_degree_graph()
    torch.testing.assert_close(
        g.normalize("row").to_dense(),  # D_r^-1 A: each row divided by its (signed) sum
        torch.tensor([[0.0, -1.0, 2.0], [1.0, 0.0, 0.0], [1.0, 0.0, 0.0]]),
    )
    torch.testing.assert_close(
        g.normalize("col").to_dense(), torch.tensor([[0.0, 1.0, 1.0], [-1.0, 0.0, 0.0], [2.0, 0.0, 0.0]])
    )


def test_zero_degree_gives_zero_and_overflow_is_refused():
    g = Graph.from_edge_index(torch.tensor([[1, 2], [0, 0]]), 3, torch.tensor([1.0, -1.0]))  # node 0: 1 - 1 = 0
    assert g.normalize("row").to_dense().tolist() == [[0.0] * 3] * 3  # documented: zero degree -> weight 0
    tiny = Graph.from_edge_index(torch.tensor([[1, 0], [0, 1]]), 2, torch.tensor([1e-45, 3e38]))
    with pytest.raises(NonFiniteError, match=r"Graph.normalize: the normalised weights must be finite .* edge"):
        tiny.normalize("row")
