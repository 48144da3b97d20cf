import pytest
import torch

from graphnets.protein import ProteinStructure, read_pdb, residue_graph, synthetic_native
from graphnets.protein.contacts import ca_contacts, voronoi_contacts
from tests.graphnets.protein._geometry import random_rotation
from tests.helpers import data_path


def _structure(atoms: torch.Tensor, owner: torch.Tensor) -> ProteinStructure:
    """Residues made of arbitrary atom clouds (backbone = first three atoms of each residue)."""
    r = int(owner.max()) + 1
    backbone = torch.stack([atoms[owner == i][:3] for i in range(r)])
    return ProteinStructure(
        residue_names=("ALA",) * r,
        residue_ids=tuple(("A", i + 1, "") for i in range(r)),
        residue_type=torch.zeros(r, dtype=torch.int64),
        backbone=backbone,
        atom_coords=atoms,
        atom_names=("X",) * atoms.shape[0],
        atom_residue=owner,
    )


def test_voronoi_neighbours_within_the_probe_cap_only():
    g = torch.Generator().manual_seed(0)
    cloud = torch.randn(4, 3, generator=g, dtype=torch.float64)  # four atoms per residue, ~1 Å spread
    # residues 0 and 1 touch (centres 4 Å apart); residue 2 faces residue 1 from 20 Å away:
    # Delaunay neighbours, but beyond 2 (1.8 + 1.4) = 6.4 Å, so no contact
    centres = torch.tensor([[0.0, 0, 0], [4.0, 0, 0], [24.0, 0, 0]], dtype=torch.float64)
    atoms = torch.cat([cloud + c for c in centres])
    owner = torch.arange(3).repeat_interleave(4)
    adj = voronoi_contacts(_structure(atoms, owner))
    expected = torch.tensor([[0, 1, 0], [1, 0, 0], [0, 0, 0]], dtype=torch.bool)
    assert torch.equal(adj, expected)
    assert torch.equal(
        voronoi_contacts(_structure(atoms, owner), probe=10.0),
        torch.tensor([[0, 1, 0], [1, 0, 1], [0, 1, 0]], dtype=torch.bool),
    )


def test_voronoi_contacts_symmetric_chain_connected_and_rigid_invariant():
    s = synthetic_native(40, torch.Generator().manual_seed(1))
    adj = voronoi_contacts(s)
    assert torch.equal(adj, adj.T) and not bool(adj.diagonal().any())
    # C_i's nearest atom is N_{i+1} (the 1.3 Å peptide bond), and nearest neighbours are Delaunay neighbours
    assert bool(adj.diagonal(1).all())
    q = random_rotation(2)
    assert torch.equal(voronoi_contacts(s.transformed(q, torch.tensor([5.0, -3.0, 40.0], dtype=torch.float64))), adj)
    rg = residue_graph(s, order=2, contacts="voronoi")
    assert torch.equal(rg.graph.to_dense().bool(), adj)


def test_contacts_bad_input():
    s = synthetic_native(10, torch.Generator().manual_seed(3))
    with pytest.raises(ValueError, match="contacts must be"):
        residue_graph(s, contacts="delaunay")
    with pytest.raises(ValueError, match="cutoff must be"):
        ca_contacts(s, -1.0)
    with pytest.raises(ValueError, match="at least 5 atoms"):
        voronoi_contacts(_structure(torch.randn(3, 3, dtype=torch.float64), torch.zeros(3, dtype=torch.int64)))
    flat = torch.randn(8, 3, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    flat[:, 2] = 0.0  # coplanar atoms cannot be tessellated in 3D
    with pytest.raises(ValueError, match="cannot tessellate"):
        voronoi_contacts(_structure(flat, torch.tensor([0, 0, 0, 0, 1, 1, 1, 1])))


def test_voronoi_contacts_on_a_real_decoy():
    s = read_pdb(data_path("proteins/proteingcn_decoys") / "1ezgA" / "tag0001.al.pdb")
    adj = voronoi_contacts(s)
    degree = adj.sum(1).double()
    assert 6.0 < float(degree.mean()) < 14.0  # residue-level Voronoi contacts: first shell only
    assert float(torch.cdist(s.ca, s.ca)[adj].max()) < 16.0  # contacts are local
    assert float((adj & ca_contacts(s, 10.0)).sum() / adj.sum()) > 0.9  # mostly inside the CA-10 Å graph
