"""ZINC loaders (offline .npz / PyG-processed .pt), synthetic molecules."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from graphnets.ckgconv import graphs_from_arrays, load_zinc, load_zinc_npz, load_zinc_pt, synthetic_molecules
from tests.helpers import data_path


def test_graphs_from_arrays_splits_graphs():
    x = torch.tensor([1, 2, 3, 4, 5])
    ei = torch.tensor([[0, 1, 0, 2], [1, 0, 2, 0]])
    gs = graphs_from_arrays(
        x, ei, torch.tensor([1, 1, 2, 2]), torch.tensor([0.5, -1.0]), torch.tensor([0, 2, 5]), torch.tensor([0, 2, 4])
    )
    assert [g.num_nodes for g in gs] == [2, 3]
    assert torch.equal(gs[1].x, torch.tensor([3, 4, 5])) and torch.equal(gs[1].edge_attr, torch.tensor([2, 2]))
    assert gs[1].y.item() == -1.0
    with pytest.raises(ValueError, match="edge ids outside"):
        graphs_from_arrays(
            x, ei + 2, torch.ones(4, dtype=torch.long), torch.zeros(2), torch.tensor([0, 2, 5]), torch.tensor([0, 2, 4])
        )
    with pytest.raises(ValueError, match=r"node_ptr and edge_ptr must be \[G\+1=3\]"):
        graphs_from_arrays(
            x, ei, torch.ones(4, dtype=torch.long), torch.zeros(2), torch.tensor([0, 5]), torch.tensor([0, 2, 4])
        )


def test_load_zinc_errors(tmp_path):
    with pytest.raises(ValueError, match="split must be one of"):
        load_zinc(tmp_path, "dev")
    with pytest.raises(FileNotFoundError, match="download_zinc"):
        load_zinc(tmp_path, "train")
    np.savez(tmp_path / "zinc_subset_val.npz", x=np.zeros(3, dtype=np.int64))
    with pytest.raises(ValueError, match="lacks arrays"):
        load_zinc(tmp_path, "val")
    torch.save({"a": 1}, tmp_path / "test.pt")
    with pytest.raises(ValueError, match="processed"):
        load_zinc_pt(tmp_path / "test.pt")


def test_synthetic_is_deterministic():
    a = synthetic_molecules(5, torch.Generator().manual_seed(1))
    b = synthetic_molecules(5, torch.Generator().manual_seed(1))
    for u, v in zip(a, b):
        assert torch.equal(u.edge_index, v.edge_index) and torch.equal(u.x, v.x) and torch.equal(u.y, v.y)
    with pytest.raises(TypeError, match="generator must be"):
        synthetic_molecules(2, 0)


@pytest.mark.data
def test_real_zinc_val_npz_matches_source_and_pt():
    root = data_path("zinc_subset")
    gs = load_zinc(root, "val")
    assert len(gs) == 1000 and sum(g.num_nodes for g in gs) == 23083 and sum(g.num_edges for g in gs) == 49692
    torch.testing.assert_close(
        torch.cat([g.y for g in gs[:5]]), torch.tensor([0.6299, 2.4658, 1.3505, 1.4167, 0.9932]), atol=1e-4, rtol=0
    )
    for g in gs[:50]:  # every bond stored in both directions
        fwd = set(map(tuple, g.edge_index.T.tolist()))
        assert fwd == {(j, i) for i, j in fwd}
    pt = load_zinc_pt(root / "val.pt")
    for a, b in zip(gs[:100], pt[:100]):
        assert torch.equal(a.x, b.x) and torch.equal(a.edge_index, b.edge_index)
        assert torch.equal(a.edge_attr, b.edge_attr) and torch.equal(a.y, b.y)
    assert len(load_zinc_npz(root / "zinc_subset_test.npz")) == 1000
