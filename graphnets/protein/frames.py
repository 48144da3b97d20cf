r"""Per-residue local coordinate frames from backbone atoms, in the official S-GCN convention.

S-GCN (Igashov et al. 2021) expresses the direction of every neighbour in a frame attached to
the residue, which makes the spherical-harmonic edge features (and so the network) invariant
to rotations and translations of the whole structure. The convention of the official
``sh-featurizer`` (established by fitting its output; the reference outputs ship in
``shared/data/proteins/sgcn_sh_reference``):

.. math::
    \hat x = \frac{N - C_\alpha}{\lVert N - C_\alpha \rVert},\qquad
    \hat z = \frac{(N - C_\alpha) \times (C - C_\alpha)}{\lVert (N - C_\alpha) \times (C - C_\alpha) \rVert},\qquad
    \hat y = \hat z \times \hat x .

The origin is :math:`C_\alpha`. A right-handed orthonormal frame; rotations act on all three
axes alike, so local coordinates are rotation invariant.

Shapes:
    backbone ``[R, 3, 3]`` (atoms N, CA, C; xyz) -> frames ``[R, 3, 3]`` whose rows are
    :math:`\hat x, \hat y, \hat z` (so ``frames[i] @ v`` gives ``v`` in frame ``i``).
"""

from __future__ import annotations

import torch
from torch import Tensor

from sampling.finite import check_finite

__all__ = ["local_frames", "local_directions"]


def local_frames(backbone: Tensor, eps: float = 1e-6) -> Tensor:
    """Frames ``[R, 3, 3]`` (rows x, y, z) of the residues whose backbone is ``[R, 3, 3]`` (N, CA, C).

    Raises:
        TypeError: ``backbone`` is not a floating-point tensor.
        ValueError: wrong shape, or a degenerate (collinear N-CA-C or coincident atoms) residue.
    """
    if not isinstance(backbone, Tensor) or not backbone.is_floating_point():
        raise TypeError(f"local_frames: backbone must be a floating-point tensor (got {type(backbone).__name__})")
    if backbone.dim() != 3 or backbone.shape[1:] != (3, 3):
        raise ValueError(f"local_frames: backbone must have shape [R, 3, 3] (N, CA, C) (got {tuple(backbone.shape)})")
    check_finite(backbone, "local_frames", "backbone coordinates", ("residue", "atom"))
    n, ca, c = backbone.unbind(1)  # each [R, 3]
    u = n - ca
    w = torch.linalg.cross(u, c - ca, dim=-1)
    u_norm = u.norm(dim=-1, keepdim=True)
    w_norm = w.norm(dim=-1, keepdim=True)
    bad = ((u_norm < eps) | (w_norm < eps)).squeeze(-1)
    if bool(bad.any()):
        idx = bad.nonzero().flatten()[:5].tolist()
        raise ValueError(
            f"local_frames: degenerate backbone (N at CA, or N, CA, C collinear) at residue index(es) {idx} "
            f"(got |N-CA| = {u_norm[bad].flatten()[:5].tolist()}, "
            f"|(N-CA)x(C-CA)| = {w_norm[bad].flatten()[:5].tolist()})"
        )
    x = u / u_norm
    z = w / w_norm
    y = torch.linalg.cross(z, x, dim=-1)
    return torch.stack([x, y, z], dim=1)  # [R, 3 axes, 3 xyz]


def local_directions(frames: Tensor, ca: Tensor, dst: Tensor, src: Tensor) -> Tensor:
    r"""Unit direction of :math:`C_\alpha^{src}` seen from residue ``dst``, in the frame of ``dst``.

    ``d_e = F_{dst_e} (CA_{src_e} - CA_{dst_e}) / ||...||``; shapes frames ``[R, 3, 3]``, ca ``[R, 3]``,
    dst/src ``[E]`` -> ``[E, 3]``.

    Raises:
        ValueError: two residues of an edge share a CA position (the direction is undefined).
    """
    diff = ca.index_select(0, src) - ca.index_select(0, dst)  # [E, 3]
    dist = diff.norm(dim=-1, keepdim=True)
    if dist.numel() and bool((dist == 0).any()):
        e = int((dist.squeeze(-1) == 0).nonzero()[0, 0])
        raise ValueError(
            f"local_directions: residues {int(dst[e])} and {int(src[e])} have the same CA position (got distance 0)"
        )
    local = torch.einsum("eab,eb->ea", frames.index_select(0, dst), diff)  # [E, 3]
    return local / dist
