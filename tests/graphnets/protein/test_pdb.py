import pytest
import torch

from graphnets.protein import PDBFormatError, parse_pdb, read_pdb
from tests.graphnets.protein._pdbtext import atom, residue, three_residues
from tests.helpers import data_path


def test_three_residues_backbone_types_and_hydrogens():
    s = parse_pdb(three_residues())
    assert s.num_residues == 3
    assert s.residue_names == ("GLY", "ALA", "TRP")
    assert s.residue_type.tolist() == [7, 0, 17]
    assert s.backbone.shape == (3, 3, 3) and s.backbone.dtype == torch.float64
    torch.testing.assert_close(s.backbone[1, 1], torch.tensor([4.8, 0.0, 0.0], dtype=torch.float64))
    assert "H" not in s.atom_names and len(s.atom_names) == 12  # 4 heavy atoms x 3
    s_h = parse_pdb(three_residues(), keep_hydrogens=True)
    assert len(s_h.atom_names) == 15


def test_hydrogen_detected_from_name_when_element_blank():
    lines = residue(1, "GLY", 1, 0.0)
    lines.append(atom(9, "1HA", "GLY", "A", 1, 0.0, 0.0, 1.0, element=""))
    s = parse_pdb("\n".join(lines))
    assert "1HA" not in s.atom_names


def test_altloc_keeps_first_conformer_per_residue():
    lines = [
        atom(1, "N", "SER", "A", 1, 0.0, 1.0, 0.0, element="N"),
        atom(2, "CA", "SER", "A", 1, 1.0, 0.0, 0.0, altloc="A", element="C"),
        atom(3, "CA", "SER", "A", 1, 9.0, 9.0, 9.0, altloc="B", element="C"),
        atom(4, "C", "SER", "A", 1, 2.0, 0.8, 0.3, altloc="B", element="C"),
        atom(5, "C", "SER", "A", 1, 2.0, 0.8, 0.3, altloc="A", element="C"),
    ]
    s = parse_pdb("\n".join(lines))
    torch.testing.assert_close(s.ca[0], torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64))
    assert s.atom_names.count("CA") == 1


def test_insertion_codes_keep_skip_error():
    lines = residue(1, "GLY", 60, 0.0) + residue(6, "ALA", 60, 3.8, icode="A") + residue(11, "TRP", 61, 7.6)
    text = "\n".join(lines)
    kept = parse_pdb(text)
    assert kept.num_residues == 3 and kept.residue_ids[1] == ("A", 60, "A")
    assert parse_pdb(text, insertion_codes="skip").num_residues == 2
    with pytest.raises(PDBFormatError, match="insertion code"):
        parse_pdb(text, insertion_codes="error")
    with pytest.raises(ValueError, match="insertion_codes must be"):
        parse_pdb(text, insertion_codes="drop")


def test_hetatm_ignored_unless_requested_and_endmdl_stops():
    lines = residue(1, "GLY", 1, 0.0) + residue(6, "MSE", 2, 3.8, record="HETATM")
    lines += ["ENDMDL"] + residue(11, "ALA", 3, 7.6)
    text = "\n".join(lines)
    assert parse_pdb(text).num_residues == 1
    s = parse_pdb(text, hetatm=True)
    assert s.num_residues == 2 and s.residue_type.tolist() == [7, -1]  # MSE is non-standard


def test_missing_backbone_raises_or_drops():
    lines = residue(1, "GLY", 1, 0.0) + [l for l in residue(6, "ALA", 2, 3.8) if " CA " not in l]
    text = "\n".join(lines)
    with pytest.raises(PDBFormatError, match=r"ALA A2 .* lacks backbone atom\(s\) CA"):
        parse_pdb(text)
    with pytest.warns(UserWarning, match="dropping residue ALA"):
        s = parse_pdb(text, missing_backbone="drop")
    assert s.num_residues == 1


def test_empty_and_atomless_files(tmp_path):
    empty = tmp_path / "empty.pdb"
    empty.write_text("")
    with pytest.raises(PDBFormatError, match="is empty"):
        read_pdb(empty)
    header_only = tmp_path / "header.pdb"
    header_only.write_text("HEADER    NOTHING\nEND\n")
    with pytest.raises(PDBFormatError, match="no ATOM records"):
        read_pdb(header_only)
    with pytest.raises(FileNotFoundError, match="no such file"):
        read_pdb(tmp_path / "missing.pdb")
    with pytest.raises(TypeError, match="path must be"):
        read_pdb(3)


def test_non_numeric_coordinates_name_line_and_value():
    lines = residue(1, "GLY", 1, 0.0)
    bad = lines[1][:38] + "   abc.d" + lines[1][46:]
    text = "\n".join([lines[0], bad] + lines[2:])
    with pytest.raises(
        PDBFormatError, match=r"non-numeric y coordinate in <string>, line 2, columns 39-46 \(got '   abc.d'\)"
    ):
        parse_pdb(text)
    nan = lines[1][:30] + "     nan" + lines[1][38:]
    with pytest.raises(PDBFormatError, match="non-finite x"):
        parse_pdb("\n".join([lines[0], nan] + lines[2:]))
    with pytest.raises(PDBFormatError, match="truncated ATOM record"):
        parse_pdb(lines[0][:40])


def test_transformed_moves_every_coordinate():
    s = parse_pdb(three_residues())
    rot = torch.tensor([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], dtype=torch.float64)
    t = s.transformed(rot, torch.tensor([1.0, 2.0, 3.0]))
    torch.testing.assert_close(
        t.backbone[0, 1], rot @ s.backbone[0, 1] + torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    )
    with pytest.raises(ValueError, match="rotation \\[3, 3\\]"):
        s.transformed(torch.eye(2), torch.zeros(3))


@pytest.mark.data
def test_real_files_residue_counts():
    root = data_path("proteins")
    pocket = root / "pdbbind_sgpocket" / "1a4w_pocket.pdb"
    assert read_pdb(pocket).num_residues == 61
    assert read_pdb(pocket, insertion_codes="skip").num_residues == 54  # as the official featurizer
    decoy = read_pdb(root / "proteingcn_decoys" / "1ezgA" / "tag0001.al.pdb")
    assert decoy.num_residues == 82 and all(not n.startswith("H") for n in decoy.atom_names)
    two_chains = read_pdb(root / "pdbbind_sgpocket" / "1a30_protein_without_H.pdb")
    assert {c for c, _, _ in two_chains.residue_ids} == {"A", "B"}
