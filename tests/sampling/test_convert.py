"""Converters compute what the source library means: checked against PyG itself (message passing,
``to_dense_adj``, ``ToSparseTensor``, ``to_scipy_sparse_matrix``) on multigraphs with duplicate
edges and self loops, and against scipy's / torch's own dense views."""

from __future__ import annotations

import sys
import types
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from sampling import Graph
from sampling.convert import from_dgl
from sampling.graph import InvalidGraphError

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import torch_geometric.transforms as T
    from torch_geometric.data import Data
    from torch_geometric.nn import SimpleConv
    from torch_geometric.utils import to_dense_adj, to_scipy_sparse_matrix


def multigraph(seed: int = 0, n: int = 7, e: int = 30):
    g = torch.Generator().manual_seed(seed)
    ei = torch.randint(0, n, (2, e), generator=g)
    ei = torch.cat([ei, ei[:, :5], torch.arange(3).repeat(2, 1)], 1)  # 5 duplicated edges, 3 self loops
    w = torch.rand(ei.shape[1], generator=g, dtype=torch.float64) + 0.1
    x = torch.randn(n, 4, generator=g, dtype=torch.float64)
    return ei, w, x, n


def test_edge_index_is_pyg_message_passing():
    ei, w, x, n = multigraph()
    g = Graph.from_edge_index(ei, n, w)
    assert g.num_edges == ei.shape[1]  # duplicates and self loops kept as given
    torch.testing.assert_close(g.to_dense() @ x, SimpleConv(aggr="sum")(x, ei, w))
    torch.testing.assert_close(g.to_dense(), to_dense_adj(ei, edge_attr=w, max_num_nodes=n)[0].T)
    ei_back, w_back = g.to_edge_index()
    torch.testing.assert_close(Graph.from_edge_index(ei_back, n, w_back).to_dense(), g.to_dense())


def test_pyg_data_with_edge_index_or_adj_t():
    ei, w, x, n = multigraph(1)
    data = Data(edge_index=ei, edge_weight=w, num_nodes=n)
    dense = Graph.from_edge_index(ei, n, w).to_dense()
    torch.testing.assert_close(Graph.from_pyg(data).to_dense(), dense)
    sparse = T.ToSparseTensor(attr="edge_weight")(data.clone())  # adj_t, duplicates summed by PyG
    g = Graph.from_pyg(sparse)
    torch.testing.assert_close(g.to_dense(), dense)
    torch.testing.assert_close(g.to_dense() @ x, SimpleConv(aggr="sum")(x, sparse.adj_t))
    with pytest.raises(TypeError, match="edge_index or a torch sparse adj_t"):
        Graph.from_pyg(object())


def test_scipy_is_the_operator_and_pygs_scipy_matrix_is_the_transpose():
    ei, w, x, n = multigraph(2)
    pyg_matrix = to_scipy_sparse_matrix(ei, w, n)  # A[src, dst]
    dense = Graph.from_edge_index(ei, n, w).to_dense()
    torch.testing.assert_close(Graph.from_scipy(pyg_matrix.T).to_dense(), dense)
    torch.testing.assert_close(Graph.from_scipy(pyg_matrix).to_dense(), dense.T)
    m = sp.random(6, 5, density=0.4, random_state=0, format="csr")
    torch.testing.assert_close(Graph.from_scipy(m).to_dense() @ x[:5], torch.from_numpy(m @ x[:5].numpy()))


def test_scipy_duplicates_summed_whatever_the_format_and_explicit_zeros_kept():
    rows, cols, vals = np.array([0, 0, 1, 2, 0]), np.array([1, 1, 0, 2, 2]), np.array([1.0, 2.0, 3.0, 4.0, 0.0])
    coo = sp.coo_matrix((vals, (rows, cols)), shape=(3, 3))
    csr = sp.csr_matrix(
        (np.array([1.0, 2.0, 0.0, 3.0, 4.0]), np.array([1, 1, 2, 0, 2]), np.array([0, 3, 4, 5])), shape=(3, 3)
    )  # the same matrix, non-canonical: (0, 1) twice
    assert not csr.has_canonical_format
    for m in (coo, csr, coo.tocsc()):
        g = Graph.from_scipy(m)
        assert g.num_edges == 4, type(m)  # (0,1) once with 1 + 2; the explicit zero at (0, 2) stays an edge
        torch.testing.assert_close(g.to_dense(), torch.from_numpy(m.toarray()))
        assert g.indptr.tolist() == [0, 2, 3, 4] and g.indices.tolist() == [1, 2, 0, 2]
    assert csr.nnz == 5  # the caller's matrix is not modified
    assert Graph.from_scipy(sp.csr_matrix(np.eye(2, dtype=bool))).weight.dtype == torch.float32
    with pytest.raises(TypeError, match="complex"):
        Graph.from_scipy(sp.csr_matrix(np.array([[1j, 0], [0, 1]])))
    with pytest.raises(InvalidGraphError, match="finite"):
        Graph.from_scipy(sp.csr_matrix(np.array([[np.nan, 0], [0, 1]])))


def test_torch_sparse_coo_uncoalesced_is_summed_and_checked():
    idx = torch.tensor([[0, 0, 1], [1, 1, 0]])
    coo = torch.sparse_coo_tensor(idx, torch.tensor([1.0, 2.0, 5.0]), (2, 2))  # uncoalesced
    g = Graph.from_torch_sparse(coo)
    assert g.num_edges == 2 and g.to_dense().tolist() == [[0.0, 3.0], [5.0, 0.0]]
    torch.testing.assert_close(Graph.from_torch_sparse(coo.to_sparse_csr()).to_dense(), coo.to_dense())
    with pytest.raises(InvalidGraphError, match="finite"):  # the COO path used to skip validation
        Graph.from_torch_sparse(torch.sparse_coo_tensor(idx, torch.tensor([1.0, float("nan"), 5.0]), (2, 2)))
    with pytest.raises(InvalidGraphError, match="finite"):
        Graph.from_torch_sparse(torch.tensor([[0.0, float("inf")], [1.0, 0.0]]).to_sparse_csr())
    with pytest.raises(TypeError, match="complex"):
        Graph.from_torch_sparse(torch.sparse_coo_tensor(idx, torch.tensor([1j, 2j, 3j]), (2, 2)))


def test_sizes_and_weights_are_checked():
    ei = torch.tensor([[0, 1], [1, 0]])
    assert Graph.from_edge_index(ei, np.int64(3)).num_nodes == 3
    assert Graph.from_edge_index(ei, torch.tensor(3)).num_nodes == 3
    with pytest.raises(InvalidGraphError, match="num_nodes must be a non-negative int"):
        Graph.from_edge_index(torch.zeros(2, 0, dtype=torch.long), -1)
    for bad in (2.0, True, "3"):
        with pytest.raises(TypeError, match="num_nodes must be a non-negative int"):
            Graph.from_edge_index(ei, bad)
    with pytest.raises(TypeError, match="num_cols"):
        Graph.from_edge_index(ei, 2, num_cols=2.5)
    with pytest.raises(TypeError, match=r"floating-point tensor \(got torch.int64\)"):
        Graph.from_edge_index(ei, 2, torch.tensor([1, 2]))
    with pytest.raises(InvalidGraphError, match=r"weight must be finite \(got nan at edge 1\)"):
        Graph.from_edge_index(ei, 2, torch.tensor([1.0, float("nan")]))


class _FakeDGLGraph:
    """The slice of ``dgl.DGLGraph`` that ``from_dgl``/``to_dgl`` use, with DGL's documented meaning:
    ``edges(order='eid')`` is ``(src, dst)`` in edge-id order, ``edata`` maps names to ``[E, ...]``."""

    def __init__(self, edges, num_nodes=None):
        self._src, self._dst = (torch.as_tensor(t) for t in edges)
        self._n = num_nodes if num_nodes is not None else int(torch.cat([self._src, self._dst]).max()) + 1
        self.edata, self.is_homogeneous, self.ntypes, self.etypes = {}, True, ["_N"], ["_E"]

    def edges(self, order="eid"):
        assert order == "eid"
        return self._src, self._dst

    def num_nodes(self):
        return self._n


@pytest.fixture
def fake_dgl(monkeypatch):
    mod = types.ModuleType("dgl")
    mod.DGLGraph = _FakeDGLGraph
    mod.graph = lambda edges, num_nodes=None: _FakeDGLGraph(edges, num_nodes)
    monkeypatch.setitem(sys.modules, "dgl", mod)
    return mod


def test_dgl_direction_and_weights_round_trip(fake_dgl):
    # a stand-in for dgl (which does not import beside torch >= 2.3): checks our side of DGL's API meaning
    ei, w, x, n = multigraph(3)
    g = Graph.from_edge_index(ei, n, w.float())
    d = g.to_dgl()
    src, dst = d.edges()
    assert torch.equal(torch.stack([src, dst]), g.to_edge_index()[0])  # u -> v with v the row
    back = Graph.from_dgl(d)
    torch.testing.assert_close(back.to_dense(), g.to_dense())  # weights come back from edata['w']
    assert from_dgl(d, weight=None).weight is None
    d.edata["w"] = torch.ones(len(src), 3)
    with pytest.raises(InvalidGraphError, match="must be 1-D edge weights"):
        from_dgl(d)
