"""sampling.pyg: PyG's NodeLoader/LinkLoader on our sampler (no pyg-lib/torch-sparse), PyG store adapters."""

import importlib.util

import pytest
import torch
from torch_geometric.data import Data, EdgeAttr, TensorAttr
from torch_geometric.loader import LinkLoader, NeighborLoader, NodeLoader
from torch_geometric.sampler import BaseSampler, NegativeSampling

from sampling import FeatureStore, Graph, NeighborSampler, PyGFeatureStore, PyGGraphStore


def _data(n=300, e=2400, seed=0):
    g = torch.Generator().manual_seed(seed)
    ei = torch.randint(0, n, (2, e), generator=g)
    return Data(
        x=torch.randn(n, 8, generator=g),
        edge_index=ei,
        edge_attr=torch.arange(float(e)).view(-1, 1),
        y=torch.randint(0, 3, (n,), generator=g),
    )


@pytest.mark.filterwarnings("ignore:Using .NeighborSampler. without")
def test_stock_pyg_cannot_sample_here_so_ours_is_needed():
    if importlib.util.find_spec("pyg_lib") or importlib.util.find_spec("torch_sparse"):
        pytest.skip("pyg-lib or torch-sparse is installed: PyG's own sampler works")
    with pytest.raises(ImportError, match="requires either 'pyg-lib' or 'torch-sparse'"):
        next(iter(NeighborLoader(_data(), num_neighbors=[2], batch_size=4)))


def test_node_loader_runs_on_our_sampler_and_batches_are_pyg_subgraphs():
    data = _data()
    sampler = NeighborSampler(data, [10, 5], generator=torch.Generator().manual_seed(0))
    assert isinstance(sampler, BaseSampler)
    train = torch.arange(0, 300, 3)
    loader = NodeLoader(data, node_sampler=sampler, input_nodes=train, batch_size=32, shuffle=False)
    batches = list(loader)
    assert len(batches) == 4
    deg = torch.bincount(data.edge_index[1], minlength=300)
    for i, b in enumerate(batches):
        seeds = train[32 * i : 32 * (i + 1)]
        assert b.batch_size == seeds.numel() and torch.equal(b.n_id[: b.batch_size], seeds)
        assert torch.equal(b.input_id, torch.arange(32 * i, 32 * i + seeds.numel()))  # positions in input_nodes
        assert torch.equal(b.x, data.x[b.n_id]) and torch.equal(b.y, data.y[b.n_id])
        # every edge is an edge of the graph, and e_id / edge_attr point at it
        assert torch.equal(data.edge_index[0, b.e_id], b.n_id[b.edge_index[0]])
        assert torch.equal(data.edge_index[1, b.e_id], b.n_id[b.edge_index[1]])
        assert torch.equal(b.edge_attr.view(-1), b.e_id.float())
        # hop 1: each seed has min(degree, 10) sampled in-edges
        hop1 = b.edge_index[1, : b.num_sampled_edges[0]]
        got = torch.bincount(hop1, minlength=b.batch_size)[: b.batch_size]
        assert torch.equal(got, deg[seeds].clamp(max=10))
        assert sum(b.num_sampled_nodes) == b.num_nodes and sum(b.num_sampled_edges) == b.num_edges


def test_a_pyg_model_trains_on_the_loader():
    from torch_geometric.nn import SAGEConv

    data = _data()
    loader = NodeLoader(data, node_sampler=NeighborSampler(data, [5, 5]), input_nodes=torch.arange(200), batch_size=50)
    torch.manual_seed(0)
    conv1, conv2 = SAGEConv(8, 16), SAGEConv(16, 3)
    opt = torch.optim.Adam([*conv1.parameters(), *conv2.parameters()], lr=0.01)
    for b in loader:
        out = conv2(conv1(b.x, b.edge_index).relu(), b.edge_index)[: b.batch_size]
        loss = torch.nn.functional.cross_entropy(out, b.y[: b.batch_size])
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert torch.isfinite(loss)


def test_link_loader_with_negative_sampling():
    data = _data()
    loader = LinkLoader(
        data,
        link_sampler=NeighborSampler(data, [4]),
        edge_label_index=data.edge_index[:, :60],
        batch_size=20,
        neg_sampling=NegativeSampling("binary"),
    )
    b = next(iter(loader))
    assert b.edge_label_index.shape == (2, 40) and b.edge_label.tolist() == [1.0] * 20 + [0.0] * 20
    pos = b.n_id[b.edge_label_index[:, :20]]
    assert torch.equal(pos, data.edge_index[:, :20])


def test_pyg_feature_and_graph_store_adapters():
    data = _data()
    graph = Graph.from_pyg(data)
    fs = PyGFeatureStore({"x": FeatureStore(data.x)}, placement="cpu")
    gs = PyGGraphStore(graph)
    idx = torch.tensor([4, 0, 9])
    assert torch.equal(fs.get_tensor(group_name=None, attr_name="x", index=idx), data.x[idx])
    assert torch.equal(fs.get_tensor(group_name=None, attr_name="x", index=slice(2, 5)), data.x[2:5])
    assert fs.get_tensor_size(group_name=None, attr_name="x") == (300, 8)
    assert fs.put_tensor(data.y, group_name=None, attr_name="y", index=None)
    assert fs.put_tensor(torch.tensor([7, 7]), group_name=None, attr_name="y", index=torch.tensor([0, 1]))
    assert fs.get_tensor(group_name=None, attr_name="y", index=torch.tensor([0, 1, 2])).tolist()[:2] == [7, 7]
    got = fs.multi_get_tensor([TensorAttr(None, "x", idx), TensorAttr(None, "y", idx)])
    assert torch.equal(got[0], data.x[idx]) and len(fs.get_all_tensor_attrs()) == 2
    assert fs.remove_tensor(group_name=None, attr_name="y", index=None)
    assert not fs.remove_tensor(group_name=None, attr_name="y", index=None)

    row, col = gs.get_edge_index(edge_type=None, layout="coo")
    assert sorted(zip(row.tolist(), col.tolist())) == sorted(zip(*data.edge_index.tolist()))
    colptr_row = gs.get_edge_index(edge_type=None, layout="csc")
    assert torch.equal(colptr_row[1], graph.indptr)
    assert len(gs.get_all_edge_attrs()) == 3
    other = PyGGraphStore()
    assert other.put_edge_index(data.edge_index, EdgeAttr(None, "coo", size=(300, 300)))
    assert other.graph.num_edges == data.edge_index.shape[1]

    loader = NodeLoader(
        (fs, gs), node_sampler=NeighborSampler((fs, gs), [3]), input_nodes=torch.arange(16), batch_size=8
    )
    b = next(iter(loader))
    assert torch.equal(b.x, data.x[b.n_id]) and b.batch_size == 8
    fs.close()


def test_unsupported_pyg_inputs_are_clear():
    data = _data()
    sampler = NeighborSampler(data, [2])
    from torch_geometric.sampler import NodeSamplerInput

    with pytest.raises(ValueError, match="temporal sampling is not supported"):
        sampler.sample_from_nodes(NodeSamplerInput(None, torch.tensor([0]), time=torch.tensor([1.0])))
    with pytest.raises(TypeError, match="must carry edge_index"):
        NeighborSampler(Data(num_nodes=3), [2])
