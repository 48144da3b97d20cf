"""The graph-side normalisations refuse what would make them NaN, naming where (issue 19, kind 1)."""

import pytest
import torch

from graphnets.ckgconv.rrwp import rrwp
from graphnets.node import row_normalize
from graphnets.protein.frames import local_frames
from sampling import Graph


def test_row_normalize_refuses_nan_features_and_matches_pyg_otherwise():
    x = torch.tensor([[1.0, 3.0], [0.0, 0.0], [0.25, 0.25]])
    # PyG's NormalizeFeatures divides by max(1, row sum): rows summing below 1 are left as they are
    torch.testing.assert_close(row_normalize(x), torch.tensor([[0.25, 0.75], [0.0, 0.0], [0.25, 0.25]]))
    x[2, 1] = float("nan")
    with pytest.raises(ValueError, match=r"row_normalize: features must be finite .* first at node 2, feature 1"):
        row_normalize(x)


def test_rrwp_refuses_negative_weights_and_is_a_random_walk_otherwise():
    ei = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    rel, _ = rrwp(Graph.from_edge_index(ei, 3, torch.tensor([1.0, 1.0, 1.0, 3.0])), 2)
    torch.testing.assert_close(rel[:, :, 1].sum(1), torch.ones(3))  # rows of D^-1 A are distributions
    torch.testing.assert_close(rel[0, :, 1], torch.tensor([0.0, 1.0, 0.0]))
    torch.testing.assert_close(rel[1, :, 1], torch.tensor([0.25, 0.0, 0.75]))  # w(0->1)=1, w(2->1)=3
    with pytest.raises(
        ValueError,
        match=r"rrwp: random-walk probabilities need non-negative edge weights "
        r"\(got -3 at edge 2, row 1\)",
    ):
        rrwp(Graph.from_edge_index(ei, 3, torch.tensor([1.0, 1.0, 1.0, -3.0])), 2)


def test_local_frames_refuse_nan_coordinates():
    bb = torch.tensor([[[1.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 1.0, 0.0]]]).repeat(2, 1, 1)
    assert torch.isfinite(local_frames(bb)).all()
    bb[1, 2, 0] = float("nan")  # would pass the degeneracy test (NaN < eps is False) and give NaN frames
    with pytest.raises(ValueError, match=r"local_frames: backbone coordinates must be finite .* residue 1, atom 2"):
        local_frames(bb)
