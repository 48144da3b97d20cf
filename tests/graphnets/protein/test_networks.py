import dataclasses

import pytest
import torch

from graphnets.protein import (
    SGCN,
    ResidueGCN,
    SGCNScoring,
    collate_residue_graphs,
    global_scores,
    read_pdb,
    residue_graph,
    synthetic_native,
)
from tests.graphnets.protein._geometry import random_rotation
from tests.helpers import data_path

MODELS = [lambda: SGCN(order=3), lambda: SGCNScoring(order=3), lambda: ResidueGCN()]


@pytest.mark.parametrize("make", MODELS)
def test_shapes_range_and_batching(make):
    g = torch.Generator().manual_seed(0)
    a = residue_graph(synthetic_native(12, g), order=3)
    b = residue_graph(synthetic_native(9, g), order=3)
    model = make().eval()
    out = model(collate_residue_graphs([a, b]))
    assert out.shape == (21,) and bool(((out > 0) & (out < 1)).all())
    torch.testing.assert_close(out, torch.cat([model(a), model(b)]), atol=1e-6, rtol=1e-5)  # eval: per-graph = batched
    gs = global_scores(out, torch.tensor([0] * 12 + [1] * 9), 2)
    torch.testing.assert_close(gs, torch.stack([out[:12].mean(), out[12:].mean()]))
    with pytest.raises(ValueError, match="non-decreasing"):
        global_scores(out, torch.tensor([1] * 12 + [0] * 9), 2)


def test_official_widths_and_repr():
    m = SGCN()
    widths = [(c.in_channels, c.out_channels) for c in m.trunk.convs]
    assert widths == [(23, 20), (20, 16), (16, 8), (8, 4), (4, 1)]
    s = SGCNScoring()
    assert [(c.in_channels, c.out_channels) for c in s.trunk.convs][-1] == (12, 8)
    assert "order=5" in repr(m) and "mlp=(128, 64)" in repr(s)
    with pytest.raises(ValueError, match="hidden must list 4 widths"):
        SGCN(hidden=(4, 4))
    with pytest.raises(TypeError, match="expected a ResidueGraph"):
        m(torch.zeros(3, 23))


@pytest.mark.parametrize("make", MODELS[:2])
def test_invariant_to_rotation_and_translation_synthetic(make):
    # float64 throughout; tolerance 1e-9 (observed ~1e-13)
    s = synthetic_native(20, torch.Generator().manual_seed(4))
    model = make().double().eval()
    ref = model(residue_graph(s, order=3, dtype=torch.float64))
    for seed in range(3):
        t = s.transformed(random_rotation(seed), torch.randn(3, dtype=torch.float64) * 50)
        out = model(residue_graph(t, order=3, dtype=torch.float64))
        torch.testing.assert_close(out, ref, atol=1e-9, rtol=0)


@pytest.mark.data
def test_invariant_to_rigid_motion_real_structure_float32():
    s = read_pdb(data_path("proteins") / "proteingcn_decoys" / "1ezgA" / "tag0001.al.pdb")
    model = SGCN(order=5).eval()
    ref = model(residue_graph(s, order=5))
    for seed in range(3):
        t = s.transformed(random_rotation(seed), torch.randn(3, dtype=torch.float64) * 30)
        out = model(residue_graph(t, order=5))
        # float32 features; stated tolerance 1e-5 absolute on scores in [0, 1]
        torch.testing.assert_close(out, ref, atol=1e-5, rtol=0)


def test_sgcn_sees_directions_gcn_does_not():
    # mirror image: same distances (same graph, same GCN input) but flipped chirality -> S-GCN output changes
    s = synthetic_native(16, torch.Generator().manual_seed(5))
    mirror = torch.diag(torch.tensor([1.0, 1.0, -1.0], dtype=torch.float64))
    m = s.transformed(mirror, torch.zeros(3))
    a, b = residue_graph(s, order=3, dtype=torch.float64), residue_graph(m, order=3, dtype=torch.float64)
    b = dataclasses.replace(b, x=a.x)  # hse_up is chiral too; keep the node features identical
    assert torch.equal(a.graph.indices, b.graph.indices)
    gcn = ResidueGCN().double().eval()
    sgcn = SGCN(order=3).double().eval()
    torch.testing.assert_close(gcn(a), gcn(b))
    assert (sgcn(a) - sgcn(b)).abs().max() > 1e-4


def test_one_training_step_reduces_loss():
    g = torch.Generator().manual_seed(6)
    data = collate_residue_graphs([residue_graph(synthetic_native(15, g), order=3) for _ in range(3)])
    y = torch.rand(data.num_nodes, generator=g)
    model = SGCN(order=3, dropout=0.0)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(30):
        loss = torch.nn.functional.mse_loss(model(data), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.7 * losses[0]


def test_residue_gcn_uses_the_shared_gcn_conv_with_the_textbook_normalisation():
    from graphnets.conv import GCNConv, gcn_norm

    g = torch.Generator().manual_seed(3)
    data = residue_graph(synthetic_native(11, g), order=2)
    model = ResidueGCN().eval()
    conv = model.trunk.convs[0]
    assert isinstance(conv, GCNConv) and not conv.remaining_self_loops and conv.degree == "both"
    a = data.graph.to_dense() + torch.eye(11)
    d = a.sum(1).rsqrt()
    expected = (d[:, None] * a * d[None, :]) @ data.x @ conv.weight + conv.bias
    torch.testing.assert_close(conv(data.x, data.graph), expected)
    # the contact graph is symmetric without loops: PyG's normalisation gives the same numbers
    assert torch.equal(
        gcn_norm(data.graph).weight, gcn_norm(data.graph, remaining_self_loops=False, degree="both").weight
    )
