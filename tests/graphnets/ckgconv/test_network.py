"""CKGCN and the GCN baseline: permutation equivariance/invariance, batching, config, bad input."""

from __future__ import annotations

import pytest
import torch
from torch_geometric.data import Batch, Data

from graphnets.ckgconv import (
    CKGCN,
    AddRRWP,
    CKGCNConfig,
    GCNRegressor,
    NodeStem,
    PairStem,
    cosine_with_warmup,
    synthetic_molecules,
)
from tests.equivariance import assert_graph_invariant, assert_node_equivariant

SMALL = CKGCNConfig(num_node_types=6, num_edge_types=4, K=6, dim=16, num_layers=2)


def molecules(n: int, seed: int = 0) -> list:
    return synthetic_molecules(n, torch.Generator().manual_seed(seed))


def as_batch(x: torch.Tensor, graph: tuple, K: int = SMALL.K, support: str = "full", hops=None) -> Batch:
    edge_index, edge_attr = graph
    d = AddRRWP(K, support, hops)(Data(x=x, edge_index=edge_index, edge_attr=edge_attr, num_nodes=x.shape[0]))
    return Batch.from_data_list([d])


def test_official_zinc_defaults():
    c = CKGCNConfig()
    assert (c.K, c.num_layers, c.dim, c.kernel_dropout, c.mlp_dropout, c.num_blocks, c.deg_scaler, c.rescale) == (
        21,
        10,
        64,
        0.5,
        0.1,
        2,
        True,
        True,
    )
    m = CKGCN()
    assert len(m.layers) == 10 and m.layers[0].conv.kernel_dropout == 0.5
    assert 400_000 < sum(p.numel() for p in m.parameters()) < 500_000  # ZINC's ~500k parameter budget


@pytest.mark.parametrize(
    "model_cls, support, hops",
    [(CKGCN, "full", None), (CKGCN, "khop", 2), (CKGCN, "nonzero", None), (GCNRegressor, "full", None)],
)
def test_permutation_equivariance_and_invariance(model_cls, support, hops):
    torch.manual_seed(0)
    model = model_cls(SMALL).double().eval()
    d = molecules(1, seed=3)[0]
    gen = torch.Generator().manual_seed(0)

    def node_fn(x, graph):
        b = as_batch(x, graph, support=support, hops=hops)
        b.abs_pe, b.pair_attr = b.abs_pe.double(), b.pair_attr.double()
        return model.node_embeddings(b)

    def graph_fn(x, graph):
        b = as_batch(x, graph, support=support, hops=hops)
        b.abs_pe, b.pair_attr = b.abs_pe.double(), b.pair_attr.double()
        return model(b)

    # float64 model; the RRWP itself is float32 and its summation order changes with the labels
    tol = {"rtol": 1e-6, "atol": 1e-7}
    assert_node_equivariant(node_fn, d.x, (d.edge_index, d.edge_attr), generator=gen, **tol)
    assert_graph_invariant(graph_fn, d.x, (d.edge_index, d.edge_attr), generator=gen, **tol)


@pytest.mark.parametrize("model_cls", [CKGCN, GCNRegressor])
def test_batched_equals_one_by_one(model_cls):
    model = model_cls(SMALL).eval()
    tr = AddRRWP(SMALL.K)
    graphs = [tr(d) for d in molecules(4, seed=5)]
    out = model(Batch.from_data_list(graphs))
    assert out.shape == (4,)
    single = torch.cat([model(Batch.from_data_list([g])) for g in graphs])
    torch.testing.assert_close(out, single, rtol=1e-5, atol=1e-5)


def test_ckgcn_learns_synthetic_task():
    torch.manual_seed(0)
    tr = AddRRWP(SMALL.K)
    batch = Batch.from_data_list([tr(d) for d in molecules(32, seed=7)])
    model = CKGCN(SMALL)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(40):
        opt.zero_grad()
        loss = (model(batch) - batch.y).abs().mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_edges_outside_support_are_rejected():
    d = molecules(1)[0]
    b = as_batch(d.x, (d.edge_index, d.edge_attr), support="khop", hops=0)
    with pytest.raises(ValueError, match="outside the kernel support"):
        CKGCN(SMALL).eval()(b)


def test_bad_input():
    d = molecules(1)[0]
    b = as_batch(d.x, (d.edge_index, d.edge_attr), K=4)
    with pytest.raises(ValueError, match="transformed with K=4 but the model has K=6"):
        CKGCN(SMALL)(b)
    with pytest.raises(ValueError, match=r"atom types must be in \[0, 6\)"):
        NodeStem(6, 0, 8)(torch.tensor([0, 7]), None)
    with pytest.raises(TypeError, match="x must be int64 atom types"):
        NodeStem(6, 0, 8)(torch.zeros(3), None)
    with pytest.raises(ValueError, match="abs_pe must be"):
        NodeStem(6, 3, 8)(torch.tensor([0, 1]), torch.zeros(2, 2))
    with pytest.raises(ValueError, match=r"pair_attr \[P, K\+1=4\]"):
        PairStem(3, 8)(torch.zeros(5, 3), torch.zeros(2, 5, dtype=torch.long), 3)
    with pytest.raises(TypeError, match="cfg must be a CKGCNConfig"):
        CKGCN({"K": 3})
    with pytest.raises(ValueError, match="need dim >= 4"):
        GCNRegressor(CKGCNConfig(num_layers=0))


def test_support_must_be_sorted_and_config_is_frozen():
    import dataclasses

    d = AddRRWP(SMALL.K)(molecules(1)[0])
    b = Batch.from_data_list([d])
    flip = torch.arange(b.pair_index.shape[1] - 1, -1, -1)
    b.pair_index, b.pair_attr = b.pair_index[:, flip], b.pair_attr[flip]
    with pytest.raises(ValueError, match=r"sorted by \(target, source\)"):
        CKGCN(SMALL).eval()(b)
    with pytest.raises(dataclasses.FrozenInstanceError):
        SMALL.dim = 8


def test_pooling_is_a_deterministic_segment_sum_per_graph():
    model = GCNRegressor(SMALL).eval()
    b = Batch.from_data_list([AddRRWP(SMALL.K)(d) for d in molecules(5, seed=2)])
    h = model.node_embeddings(b)
    expected = model.head(torch.stack([h[b.batch == k].sum(0) for k in range(5)]))
    torch.testing.assert_close(model(b), expected)
    assert torch.equal(model(b), model(b))


def test_cosine_with_warmup():
    opt = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=1e-3)
    sched = cosine_with_warmup(opt, epochs=20, warmup=4, min_lr=1e-6, warmup_init_lr=1e-6)
    lrs = []
    for _ in range(20):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs[0] == pytest.approx(1e-6) and lrs[4] == pytest.approx(1e-3)
    assert lrs[2] == pytest.approx(1e-6 + (1e-3 - 1e-6) * 0.5)
    assert lrs[12] == pytest.approx(1e-6 + 0.5 * (1e-3 - 1e-6))  # half-way through the cosine
    assert all(a >= b for a, b in zip(lrs[4:], lrs[5:]))
    with pytest.raises(ValueError, match="0 <= warmup < epochs"):
        cosine_with_warmup(opt, epochs=5, warmup=5)
