r"""Tiny synthetic proteins and decoys for quick starts, tests and CI (no download).

A *native* is a CA trace grown by the natural-extension (NeRF) rule with CA-CA bonds of
3.8 Å, CA-CA-CA angles of ~90-120° and dihedrals drawn per segment from helix-like (~50°) or
strand-like (~-170°) states; N and C are then placed from the trace (:func:`backbone_from_ca`).
A *decoy* moves every residue of a structure (synthetic or real) by a chain-smoothed random
field, then rotates the chain after a random hinge rigidly, at a per-decoy amplitude; its labels are
the lDDT-CA against the native (:func:`graphnets.protein.metrics.lddt_ca`) and their mean. Every draw takes a
``torch.Generator``.

These are geometric toys, not realistic proteins: they exercise the pipeline and give the
per-residue label a real dependence on local geometry, nothing more.
"""

from __future__ import annotations

import math
from typing import Optional

import torch
from torch import Tensor

from graphnets.protein.metrics import lddt_ca
from graphnets.protein.pdb import RESIDUE_TYPES, ProteinStructure

__all__ = ["backbone_from_ca", "synthetic_native", "synthetic_decoy", "structure_from_ca", "torsion_decoy"]


def _unit(v: Tensor) -> Tensor:
    return v / v.norm(dim=-1, keepdim=True).clamp_min(1e-9)


def backbone_from_ca(ca: Tensor) -> Tensor:
    """``[R, 3]`` CA trace -> ``[R, 3, 3]`` (N, CA, C) with N and C 1.46 / 1.52 Å from CA, off the trace plane."""
    if ca.dim() != 2 or ca.shape[1] != 3 or ca.shape[0] < 3:
        raise ValueError(f"backbone_from_ca: need a CA trace [R >= 3, 3] (got {tuple(ca.shape)})")
    prev = torch.cat([2 * ca[:1] - ca[1:2], ca[:-1]])  # extrapolated before the first residue
    nxt = torch.cat([ca[1:], 2 * ca[-1:] - ca[-2:-1]])
    u = _unit(prev - ca)
    v = _unit(nxt - ca)
    n = torch.linalg.cross(u, v, dim=-1)
    # straight stretches (u = -v) get a fixed perpendicular direction
    fallback = _unit(torch.linalg.cross(u, torch.tensor([0.3, 0.5, 0.81], dtype=ca.dtype).expand_as(u), dim=-1))
    n = torch.where(n.norm(dim=-1, keepdim=True) < 1e-3, fallback, _unit(n))
    n_atom = ca + 1.46 * _unit(0.8 * u + 0.6 * n)
    c_atom = ca + 1.52 * _unit(0.8 * v + 0.6 * n)
    return torch.stack([n_atom, ca, c_atom], dim=1)


def structure_from_ca(ca: Tensor, residue_type: Tensor, source: str = "<synthetic>") -> ProteinStructure:
    """A :class:`ProteinStructure` whose atoms are the N, CA, C built from a CA trace."""
    bb = backbone_from_ca(ca.to(torch.float64))
    r = bb.shape[0]
    return ProteinStructure(
        residue_names=tuple(RESIDUE_TYPES[int(t)] for t in residue_type),
        residue_ids=tuple(("A", i + 1, "") for i in range(r)),
        residue_type=residue_type.to(torch.int64),
        backbone=bb,
        atom_coords=bb.reshape(-1, 3),
        atom_names=("N", "CA", "C") * r,
        atom_residue=torch.arange(r).repeat_interleave(3),
        source=source,
    )


def synthetic_native(length: int, generator: torch.Generator, name: str = "<synthetic>") -> ProteinStructure:
    """A compact-ish CA trace of ``length >= 3`` residues with random residue types."""
    if not isinstance(length, int) or length < 3:
        raise ValueError(f"synthetic_native: length must be an int >= 3 (got {length!r})")
    g = generator
    angles = torch.empty(length).uniform_(math.radians(88), math.radians(120), generator=g)
    states = torch.rand(length // 6 + 1, generator=g) < 0.55  # True = helix-like segment of 6
    helix = states.repeat_interleave(6)[:length]
    dihedral = torch.where(
        helix, torch.full((length,), math.radians(50.0)), torch.full((length,), math.radians(-170.0))
    )
    dihedral = dihedral + torch.randn(length, generator=g) * math.radians(15.0)
    ca = torch.zeros(length, 3, dtype=torch.float64)
    ca[1] = torch.tensor([3.8, 0.0, 0.0])
    ca[2] = ca[1] + 3.8 * torch.tensor([-math.cos(angles[2]), math.sin(angles[2]), 0.0], dtype=torch.float64)
    for i in range(3, length):
        a, b, c = ca[i - 3], ca[i - 2], ca[i - 1]
        bc = _unit(c - b)
        nrm = _unit(torch.linalg.cross(b - a, bc, dim=-1))
        m = torch.stack([bc, torch.linalg.cross(nrm, bc, dim=-1), nrm], dim=1)
        th, ph = float(angles[i]), float(dihedral[i])
        d = torch.tensor([-math.cos(th), math.sin(th) * math.cos(ph), math.sin(th) * math.sin(ph)], dtype=torch.float64)
        ca[i] = c + 3.8 * (m @ d)
    types = torch.randint(0, len(RESIDUE_TYPES), (length,), generator=g)
    return structure_from_ca(ca, types, source=name)


def _rotation(axis: Tensor, angle: float) -> Tensor:
    k = _unit(axis)
    kx = torch.tensor([[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]], dtype=axis.dtype)
    return torch.eye(3, dtype=axis.dtype) + math.sin(angle) * kx + (1 - math.cos(angle)) * kx @ kx


def synthetic_decoy(
    native: ProteinStructure, amplitude: float, generator: torch.Generator, name: Optional[str] = None
) -> tuple[ProteinStructure, Tensor]:
    """A perturbed copy of ``native`` and its per-residue lDDT-CA labels ``[R]``.

    Every atom of a residue moves with the residue (a per-residue translation from a
    chain-smoothed random field whose envelope varies along the chain), then the chain after a
    random hinge rotates rigidly about the hinge CA. Works on real structures (near-native
    training decoys, as the official S-GCN adds NOLB decoys) and on synthetic ones.

    Args:
        amplitude: scale in Å of the displacement field (0 gives the native back).
    """
    if not isinstance(native, ProteinStructure):
        raise TypeError(f"synthetic_decoy: native must be a ProteinStructure (got {type(native).__name__})")
    if amplitude < 0:
        raise ValueError(f"synthetic_decoy: amplitude must be >= 0 (got {amplitude})")
    g = generator
    r = native.num_residues
    if r < 3:
        raise ValueError(f"synthetic_decoy: native needs >= 3 residues (got {r})")
    noise = torch.randn(r, 3, generator=g, dtype=torch.float64)
    kernel = torch.ones(1, 1, 5, dtype=torch.float64) / 5.0
    smooth = torch.nn.functional.conv1d(noise.T.unsqueeze(1), kernel, padding=2).squeeze(1).T  # [R, 3]
    envelope = 0.2 + torch.rand(r // 10 + 1, generator=g, dtype=torch.float64).repeat_interleave(10)[:r]  # [R]
    shift = amplitude * envelope.unsqueeze(1) * smooth  # [R, 3]
    backbone = native.backbone + shift.unsqueeze(1)  # [R, 3, 3]
    atoms = native.atom_coords + shift.index_select(0, native.atom_residue)  # [A, 3]
    hinge = int(torch.randint(1, r - 1, (1,), generator=g))
    angle = float(torch.randn(1, generator=g)) * 0.15 * amplitude
    rot = _rotation(torch.randn(3, generator=g, dtype=torch.float64), angle)
    pivot = backbone[hinge, 1].clone()
    backbone[hinge:] = (backbone[hinge:] - pivot) @ rot.T + pivot
    moved = native.atom_residue >= hinge
    atoms[moved] = (atoms[moved] - pivot) @ rot.T + pivot
    decoy = ProteinStructure(
        residue_names=native.residue_names,
        residue_ids=native.residue_ids,
        residue_type=native.residue_type,
        backbone=backbone,
        atom_coords=atoms,
        atom_names=native.atom_names,
        atom_residue=native.atom_residue,
        source=name or f"{native.source}/decoy",
    )
    return decoy, lddt_ca(decoy.ca, native.ca)


def _rotate_about(points: Tensor, origin: Tensor, axis: Tensor, angle: float) -> Tensor:
    return (points - origin) @ _rotation(axis, angle).T + origin


def torsion_decoy(
    native: ProteinStructure,
    amplitude: float,
    generator: torch.Generator,
    kink_fraction: float = 0.05,
    name: Optional[str] = None,
) -> tuple[ProteinStructure, Tensor]:
    """A decoy made by changing backbone torsions, with its per-residue lDDT-CA labels ``[R]``.

    Every residue's phi (rotation about N-CA) and psi (about CA-C) change by
    ``amplitude`` degrees times a standard normal, and a fraction ``kink_fraction`` of residues
    get an extra kick of ``6 * amplitude`` degrees; the rotations are applied to everything
    downstream in the chain, so bond lengths, bond angles and the local N-CA-C geometry stay
    exact (unlike :func:`synthetic_decoy`, whose per-residue translations stretch CA-CA
    bonds). The decoy keeps only the backbone atoms (N, CA, C): the residue graph and node
    features need nothing else. This plays the role of the near-native NOLB decoys the official
    S-GCN adds to its training set.
    """
    if not isinstance(native, ProteinStructure):
        raise TypeError(f"torsion_decoy: native must be a ProteinStructure (got {type(native).__name__})")
    if amplitude < 0 or not 0 <= kink_fraction <= 1:
        raise ValueError(
            f"torsion_decoy: need amplitude >= 0 and 0 <= kink_fraction <= 1 (got {amplitude}, {kink_fraction})"
        )
    g = generator
    r = native.num_residues
    bb = native.backbone.clone().reshape(-1, 3)  # [3R, 3]: N0, CA0, C0, N1, ...
    scale = math.radians(amplitude)
    dphi = torch.randn(r, generator=g, dtype=torch.float64) * scale
    dpsi = torch.randn(r, generator=g, dtype=torch.float64) * scale
    kinks = torch.rand(r, generator=g, dtype=torch.float64) < kink_fraction
    dphi = dphi + kinks * torch.randn(r, generator=g, dtype=torch.float64) * 6 * scale
    for i in range(r):
        n, ca, c = 3 * i, 3 * i + 1, 3 * i + 2
        if i > 0 and float(dphi[i]) != 0.0:  # phi: atoms after CA_i (C_i onwards)
            bb[c:] = _rotate_about(bb[c:], bb[ca], bb[ca] - bb[n], float(dphi[i]))
        if i < r - 1 and float(dpsi[i]) != 0.0:  # psi: atoms after C_i (N_{i+1} onwards)
            bb[c + 1 :] = _rotate_about(bb[c + 1 :], bb[c], bb[c] - bb[ca], float(dpsi[i]))
    backbone = bb.reshape(r, 3, 3)
    decoy = ProteinStructure(
        residue_names=native.residue_names,
        residue_ids=native.residue_ids,
        residue_type=native.residue_type,
        backbone=backbone,
        atom_coords=backbone.reshape(-1, 3).clone(),
        atom_names=("N", "CA", "C") * r,
        atom_residue=torch.arange(r).repeat_interleave(3),
        source=name or f"{native.source}/torsion_decoy",
    )
    return decoy, lddt_ca(decoy.ca, native.ca)
