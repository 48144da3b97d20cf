import pytest
import torch

from graphnets.protein import local_directions, local_frames, synthetic_native
from tests.graphnets.protein._geometry import random_rotation


def test_frames_are_right_handed_orthonormal_and_follow_convention():
    s = synthetic_native(12, torch.Generator().manual_seed(0))
    f = local_frames(s.backbone)
    torch.testing.assert_close(f @ f.transpose(1, 2), torch.eye(3, dtype=torch.float64).expand(12, 3, 3))
    torch.testing.assert_close(torch.det(f), torch.ones(12, dtype=torch.float64))
    n, ca = s.backbone[:, 0], s.backbone[:, 1]
    x = (n - ca) / (n - ca).norm(dim=1, keepdim=True)
    torch.testing.assert_close(f[:, 0], x)  # x axis = unit(N - CA)


def test_local_directions_invariant_to_rigid_motion():
    s = synthetic_native(15, torch.Generator().manual_seed(1))
    dst, src = (~torch.eye(15, dtype=torch.bool)).nonzero(as_tuple=True)
    d0 = local_directions(local_frames(s.backbone), s.ca, dst, src)
    t = s.transformed(random_rotation(3), torch.tensor([5.0, -7.0, 2.0]))
    d1 = local_directions(local_frames(t.backbone), t.ca, dst, src)
    torch.testing.assert_close(d0, d1, atol=1e-12, rtol=0)
    torch.testing.assert_close(d0.norm(dim=1), torch.ones(d0.shape[0], dtype=torch.float64))


def test_degenerate_backbone_raises():
    bb = torch.tensor([[[0.0, 0, 0], [1.0, 0, 0], [2.0, 0, 0]]], dtype=torch.float64)  # collinear
    with pytest.raises(ValueError, match="degenerate backbone .* residue index\\(es\\) \\[0\\]"):
        local_frames(bb)
    with pytest.raises(ValueError, match=r"shape \[R, 3, 3\]"):
        local_frames(torch.zeros(2, 3))
    with pytest.raises(TypeError, match="floating-point"):
        local_frames(torch.zeros(1, 3, 3, dtype=torch.int64))


def test_coincident_ca_raises():
    frames = torch.eye(3, dtype=torch.float64).expand(2, 3, 3)
    ca = torch.zeros(2, 3, dtype=torch.float64)
    with pytest.raises(ValueError, match="same CA position"):
        local_directions(frames, ca, torch.tensor([0]), torch.tensor([1]))
