r"""Residue contact maps: CA distance cutoff, or atom Voronoi faces (the official S-GCN contacts).

The official S-GCN featurizer links two residues when any of their atoms share a face of the
solvent-constrained Voronoi tessellation computed by Voronota (Olechnovič & Venclovas, J.
Comput. Chem. 2014). Voronota is an external binary; :func:`voronoi_contacts` rebuilds the
same notion from the heavy atoms with ``scipy.spatial.Delaunay``: two atoms have adjacent
Voronoi cells exactly when they are joined by an edge of the Delaunay triangulation (the dual
graph), and Voronota keeps a face only where it lies within reach of the solvent-probe-expanded
atom spheres, which we approximate by the distance cap :math:`d_{ab} < r_a + r_b + 2 r_{probe}`
(:math:`r = 1.8` Å for every heavy atom, :math:`r_{probe} = 1.4` Å: 6.4 Å).

Differences from Voronota: an ordinary (not radical/additively weighted) tessellation, one
radius for every element, and the distance cap in place of the exact face-versus-probe-sphere
clipping; contact areas are not computed, so S-GCN_r's area weights become uniform weights.

:func:`ca_contacts` is the simpler graph used when only backbone atoms exist (our synthetic and
torsion decoys): residues with CA atoms closer than a cutoff.

Shapes: both return a symmetric boolean ``[R, R]`` adjacency without self-loops.
"""

from __future__ import annotations

import torch
from torch import Tensor

from graphnets.protein.pdb import ProteinStructure

__all__ = ["ca_contacts", "voronoi_contacts"]


def ca_contacts(structure: ProteinStructure, cutoff: float = 10.0) -> Tensor:
    """Residues ``i != j`` whose CA atoms are closer than ``cutoff`` Å."""
    if not (isinstance(cutoff, (int, float)) and cutoff > 0):
        raise ValueError(f"ca_contacts: cutoff must be a positive number of Å (got {cutoff!r})")
    ca = structure.ca
    return (torch.cdist(ca, ca) < cutoff) & ~torch.eye(ca.shape[0], dtype=torch.bool)


def voronoi_contacts(structure: ProteinStructure, atom_radius: float = 1.8, probe: float = 1.4) -> Tensor:
    """Residues ``i != j`` with an atom pair whose Voronoi cells touch within the probe-expanded spheres."""
    from scipy.spatial import Delaunay, QhullError

    if atom_radius <= 0 or probe < 0:
        raise ValueError(f"voronoi_contacts: need atom_radius > 0 and probe >= 0 Å (got {atom_radius}, {probe})")
    xyz = structure.atom_coords.to(torch.float64)
    owner = structure.atom_residue
    r = structure.num_residues
    if xyz.shape[0] < 5:
        raise ValueError(
            f"voronoi_contacts: need at least 5 atoms to tessellate {structure.source} (got {xyz.shape[0]})"
        )
    try:
        simplices = torch.from_numpy(Delaunay(xyz.numpy()).simplices).to(torch.int64)  # [T, 4]
    except QhullError as err:  # coplanar / degenerate coordinates
        raise ValueError(f"voronoi_contacts: cannot tessellate the atoms of {structure.source} ({err})") from None
    pairs = torch.combinations(torch.arange(4), 2)  # the 6 edges of a tetrahedron
    a = simplices[:, pairs[:, 0]].flatten()
    b = simplices[:, pairs[:, 1]].flatten()
    near = (xyz[a] - xyz[b]).norm(dim=-1) < 2 * (atom_radius + probe)
    ra, rb = owner[a[near]], owner[b[near]]
    other = ra != rb
    adj = torch.zeros(r, r, dtype=torch.bool)
    adj[ra[other], rb[other]] = True
    return adj | adj.T
