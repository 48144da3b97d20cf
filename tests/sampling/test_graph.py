"""sampling.Graph: validation, converters, normalisation, transpose, bipartite builder."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from sampling import Graph, InvalidGraphError

# 0 <- 1, 0 <- 2, 1 <- 0, 2 <- 2 (PyG: source row 0, target row 1)
EDGE_INDEX = torch.tensor([[1, 2, 0, 2], [0, 0, 1, 2]])


def small() -> Graph:
    return Graph.from_edge_index(EDGE_INDEX, num_nodes=3)


def test_from_edge_index_hand_table():
    g = small()
    assert g.indptr.tolist() == [0, 2, 3, 4]
    assert g.indices.tolist() == [1, 2, 0, 2]
    assert g.row.tolist() == [0, 0, 1, 2]
    assert g.shape == (3, 3) and g.num_edges == 4 and g.num_nodes == 3
    dense = torch.tensor([[0.0, 1, 1], [1, 0, 0], [0, 0, 1]])
    torch.testing.assert_close(g.to_dense(), dense)
    assert repr(g) == "Graph(num_rows=3, num_cols=3, num_edges=4, weighted=False, device=cpu)"


def test_roundtrip_edge_index_scipy_torch_sparse():
    w = torch.tensor([0.5, 1.5, 2.0, 3.0])
    g = Graph.from_edge_index(EDGE_INDEX, num_nodes=3, weight=w)
    ei, ew = g.to_edge_index()
    g2 = Graph.from_edge_index(ei, 3, ew)
    torch.testing.assert_close(g2.to_dense(), g.to_dense())
    g3 = Graph.from_scipy(g.to_scipy())
    torch.testing.assert_close(g3.to_dense(), g.to_dense())
    g4 = Graph.from_torch_sparse(g.to_torch_sparse())
    torch.testing.assert_close(g4.to_dense(), g.to_dense())
    g5 = Graph.from_torch_sparse(g.to_dense().to_sparse())  # COO
    torch.testing.assert_close(g5.to_dense(), g.to_dense())


def test_from_scipy_integer_matrix_and_rectangular():
    m = sp.coo_matrix((np.array([1, 2, 3]), (np.array([0, 1, 1]), np.array([3, 0, 2]))), shape=(2, 4))
    g = Graph.from_scipy(m)
    assert g.shape == (2, 4) and g.weight.dtype == torch.float32
    torch.testing.assert_close(g.to_dense(), torch.tensor(m.toarray(), dtype=torch.float32))


def test_from_pyg():
    from torch_geometric.data import Data

    g = Graph.from_pyg(Data(edge_index=EDGE_INDEX, num_nodes=4))
    assert g.num_nodes == 4 and g.num_edges == 4


@pytest.mark.parametrize(
    "indptr, indices, weight, exc, match",
    [
        (torch.tensor([0, 2, 1, 3]), torch.tensor([0, 1, 2]), None, InvalidGraphError, "non-decreasing"),
        (torch.tensor([0, 1, 3]), torch.tensor([0, 5, 1]), None, InvalidGraphError, "got 5"),
        (torch.tensor([0, 1, 3]), torch.tensor([0, -1, 1]), None, InvalidGraphError, "got -1"),
        (torch.tensor([1, 1, 3]), torch.tensor([0, 1, 1]), None, InvalidGraphError, r"indptr\[0\]"),
        (torch.tensor([0, 1, 2]), torch.tensor([0, 1, 1]), None, InvalidGraphError, r"indptr\[-1\]"),
        (torch.tensor([0, 1, 2], dtype=torch.int32), torch.tensor([0, 1]), None, TypeError, "int64"),
        (torch.tensor([0, 1, 2]), torch.tensor([0.0, 1.0]), None, TypeError, "int64"),
        (torch.tensor([0, 1, 2]), torch.tensor([0, 1]), torch.tensor([1.0, float("nan")]), InvalidGraphError, "finite"),
        (torch.tensor([0, 1, 2]), torch.tensor([0, 1]), torch.tensor([1, 2]), TypeError, "floating"),
        (torch.tensor([0, 1, 2]), torch.tensor([0, 1]), torch.tensor([1.0]), InvalidGraphError, "shape"),
        ([0, 1, 2], torch.tensor([0, 1]), None, TypeError, "torch.Tensor"),
    ],
)
def test_invalid_structure_raises(indptr, indices, weight, exc, match):
    with pytest.raises(exc, match=match):
        Graph(indptr, indices, weight)


def test_invalid_edge_index():
    with pytest.raises(InvalidGraphError, match=r"\[2, E\]"):
        Graph.from_edge_index(torch.tensor([0, 1, 2]))
    with pytest.raises(InvalidGraphError, match="num_nodes=2"):
        Graph.from_edge_index(torch.tensor([[0, 2], [1, 0]]), num_nodes=2)
    with pytest.raises(TypeError, match="integer"):
        Graph.from_edge_index(torch.tensor([[0.0, 1.0], [1.0, 0.0]]))


def test_immutable():
    g = small()
    with pytest.raises(AttributeError, match="immutable"):
        g.indptr = torch.tensor([0])


def test_transpose_cached_and_correct():
    w = torch.tensor([0.5, 1.5, 2.0, 3.0])
    g = Graph.from_edge_index(EDGE_INDEX, num_nodes=3, weight=w)
    t = g.transpose()
    assert t is g.transpose()
    torch.testing.assert_close(t.to_dense(), g.to_dense().T)
    t_indptr, t_indices, t_perm = g.transpose_csr()
    torch.testing.assert_close(g.weight[t_perm], t.weight)
    assert not g.is_symmetric()
    sym = Graph.from_edge_index(torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]))
    assert sym.is_symmetric()


def test_normalize_sym_row_col_against_dense():
    g = small()
    a = g.to_dense()
    dr, dc = a.sum(1), a.sum(0)

    def inv(d, p):
        return torch.where(d > 0, d.pow(p), torch.zeros_like(d))

    torch.testing.assert_close(g.normalize("sym").to_dense(), inv(dr, -0.5)[:, None] * a * inv(dc, -0.5)[None])
    torch.testing.assert_close(g.normalize("row").to_dense(), inv(dr, -1.0)[:, None] * a)
    torch.testing.assert_close(g.normalize("col").to_dense(), a * inv(dc, -1.0)[None])
    a1 = a + torch.eye(3)
    d1 = a1.sum(1)
    torch.testing.assert_close(g.normalize("row", add_self_loops=True).to_dense(), a1 / d1[:, None])
    with pytest.raises(ValueError, match="'sym', 'row' or 'col'"):
        g.normalize("both")


def test_zero_degree_node_gets_zero_not_inf():
    g = Graph.from_edge_index(torch.tensor([[0], [1]]), num_nodes=3).normalize("sym")
    assert torch.isfinite(g.weight).all()
    assert g.degree()[2] == 0


def test_self_loops():
    g = small()
    torch.testing.assert_close(g.add_self_loops().to_dense(), g.to_dense() + torch.eye(3))
    torch.testing.assert_close(g.remove_self_loops().to_dense(), g.to_dense() * (1 - torch.eye(3)))
    # rectangular (block convention: destination i is source i): loops on the leading diagonal
    rect = Graph(torch.tensor([0, 1]), torch.tensor([1]), num_cols=2)
    torch.testing.assert_close(rect.add_self_loops(2.0).to_dense(), torch.tensor([[2.0, 1.0]]))
    with pytest.raises(ValueError, match="num_rows <= num_cols"):
        rect.transpose().add_self_loops()


def test_add_remaining_self_loops_keeps_existing_loop_weights():
    # node 2 has a loop of weight 3; nodes 0 and 1 get a new one of weight 1
    g = Graph.from_edge_index(EDGE_INDEX, num_nodes=3, weight=torch.tensor([0.5, 1.5, 2.0, 3.0]))
    expected = g.to_dense() + torch.diag(torch.tensor([1.0, 1.0, 0.0]))
    torch.testing.assert_close(g.add_remaining_self_loops().to_dense(), expected)
    torch.testing.assert_close(g.add_self_loops().to_dense(), g.to_dense() + torch.eye(3))


def test_from_coo_sorts_stably_and_validates():
    g = Graph.from_coo(torch.tensor([1, 0, 1]), torch.tensor([2, 1, 0]), torch.tensor([1.0, 2.0, 3.0]), 2, 3)
    assert g.indptr.tolist() == [0, 1, 3] and g.indices.tolist() == [1, 0, 2]
    assert g.weight.tolist() == [2.0, 3.0, 1.0]
    assert Graph.from_coo(torch.tensor([0, 2]), torch.tensor([1, 0])).shape == (3, 3)
    with pytest.raises(InvalidGraphError, match="num_cols=2"):
        Graph.from_coo(torch.tensor([0]), torch.tensor([2]), num_rows=1, num_cols=2)
    with pytest.raises(TypeError, match="int64"):
        Graph.from_coo(torch.tensor([0.0]), torch.tensor([0]))
    with pytest.raises(InvalidGraphError, match="finite"):
        Graph.from_coo(torch.tensor([0]), torch.tensor([0]), torch.tensor([float("nan")]))


def test_degrees_are_deterministic_segment_sums():
    gen = torch.Generator().manual_seed(0)
    ei = torch.randint(0, 50, (2, 400), generator=gen)
    w = torch.rand(400, generator=gen)
    g = Graph.from_edge_index(ei, num_nodes=50, weight=w)
    dense = g.to_dense()
    torch.testing.assert_close(g.degree(), dense.sum(1))
    torch.testing.assert_close(g.in_degree(), dense.sum(0))
    # bitwise: the same edge-order sum as a sequential scatter over the CSR rows
    seq = torch.zeros(50).index_add_(0, g.row, g.weight)
    assert torch.equal(g.degree(), seq)
    g2 = Graph.from_edge_index(ei, num_nodes=50, weight=w)
    assert torch.equal(g.degree(), g2.degree()) and torch.equal(g.in_degree(), g2.in_degree())
    unweighted = Graph.from_edge_index(ei, num_nodes=50)
    assert torch.equal(unweighted.degree(), torch.bincount(ei[1], minlength=50).float())


def test_bipartite_layout_and_errors():
    users = torch.tensor([0, 0, 1])
    items = torch.tensor([0, 2, 1])
    g = Graph.bipartite(users, items, num_users=2, num_items=3)
    assert g.num_nodes == 5 and g.num_edges == 6 and g.is_symmetric()
    dense = g.to_dense()
    r = torch.zeros(2, 3)
    r[users, items] = 1
    torch.testing.assert_close(dense[:2, 2:], r)
    torch.testing.assert_close(dense[2:, :2], r.T)
    assert dense[:2, :2].sum() == 0 and dense[2:, 2:].sum() == 0
    with pytest.raises(InvalidGraphError, match="unique"):
        Graph.bipartite(torch.tensor([0, 0]), torch.tensor([1, 1]), 1, 2)
    with pytest.raises(InvalidGraphError, match="item ids"):
        Graph.bipartite(torch.tensor([0]), torch.tensor([3]), 1, 3)
    with pytest.raises(InvalidGraphError, match="user ids"):
        Graph.bipartite(torch.tensor([-1]), torch.tensor([0]), 1, 3)


def test_dgl_interop_or_clear_error():
    try:
        import dgl  # noqa: F401
    except Exception:
        with pytest.raises(ImportError, match="dgl"):
            small().to_dgl()
        return
    g = small()
    torch.testing.assert_close(Graph.from_dgl(g.to_dgl()).to_dense(), g.to_dense())


def test_select_rows_is_spmm_of_those_rows():
    import cuda_ext

    gen = torch.Generator().manual_seed(3)
    src, dst = torch.randint(0, 40, (300,), generator=gen), torch.randint(0, 25, (300,), generator=gen)
    g = Graph.from_edge_index(torch.stack([src, dst]), 25, torch.rand(300, generator=gen), num_cols=40)
    rows = torch.tensor([3, 0, 24, 3, 7])  # repeats allowed
    sub = g.select_rows(rows)
    assert sub.shape == (5, 40)
    x = torch.randn(40, 6, generator=gen)
    torch.testing.assert_close(cuda_ext.spmm(sub, x), cuda_ext.spmm(g, x)[rows])
    torch.testing.assert_close(sub.to_dense(), g.to_dense()[rows])
    assert g.select_rows(torch.zeros(0, dtype=torch.int64)).num_edges == 0
    with pytest.raises(IndexError, match=r"\[0, 25\) \(got 25\)"):
        g.select_rows(torch.tensor([25]))
    with pytest.raises(IndexError, match=r"got -1"):
        g.select_rows(torch.tensor([-1]))
    with pytest.raises(TypeError, match="1-D int64"):
        g.select_rows(torch.tensor([1.0]))
