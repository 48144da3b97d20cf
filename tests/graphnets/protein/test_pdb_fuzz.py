"""Fuzz test of the PDB reader: any byte string gives a :class:`ProteinStructure` or a
``ValueError`` (:class:`PDBFormatError`), and generated files are read back exactly."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from graphnets.protein.pdb import RESIDUE_TYPES, ProteinStructure, parse_pdb, read_pdb
from tests.fuzz import fuzz, fuzz_settings, mutated, read_or_value_error, scratch_dir
from tests.graphnets.protein._pdbtext import atom

pytestmark = fuzz

_COORD = st.floats(-999.0, 9999.0, allow_nan=False).map(lambda v: round(v, 3))
_NOISE = st.sampled_from(
    [
        "HEADER    FUZZ",
        "REMARK   1 x",
        "TER",
        "ANISOU    1  N",
        "CONECT    1    2",
        "HETATM    9  O   HOH A 900      1.000   2.000   3.000  1.00  0.00           O",
    ]
)


@st.composite
def pdb_files(draw):
    """A valid single-model PDB text, and the residues it must be read as: (key, name, backbone)."""
    lines: list[str] = []
    expected = []
    serial = 1
    chains = draw(st.lists(st.sampled_from("ABC"), min_size=1, max_size=2, unique=True))
    for chain in chains:
        seqs = draw(st.lists(st.integers(-999, 9999), min_size=1, max_size=4, unique=True))
        for seq in seqs:
            res = draw(st.sampled_from(RESIDUE_TYPES + ("MSE", "UNK")))
            xyz = [tuple(draw(_COORD) for _ in range(3)) for _ in range(4)]
            for name, el, c in zip(("N", "CA", "C", "O"), ("N", "C", "C", "O"), xyz):
                lines.append(atom(serial, name, res, chain, seq, *c, element=el))
                serial += 1
            if draw(st.booleans()):
                lines.append(atom(serial, "H", res, chain, seq, 0.0, 0.0, 0.0, element="H"))
                serial += 1
            if draw(st.booleans()):
                lines.append(draw(_NOISE))
            expected.append(((chain, seq, ""), res, xyz[:3]))
        lines.append("TER")
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    return eol.join(lines + ["END"]) + eol, expected


def _check(data: bytes):
    with scratch_dir() as d:
        f = d / "model.pdb"
        f.write_bytes(data)
        s = read_or_value_error(read_pdb, f)
    if s is None:
        return None
    assert isinstance(s, ProteinStructure)
    r = s.num_residues
    assert r >= 1 and s.backbone.shape == (r, 3, 3) and bool(np.isfinite(s.backbone.numpy()).all())
    assert s.residue_type.shape == (r,) and len(s.residue_ids) == len(set(s.residue_ids)) == r
    assert s.atom_coords.shape == (len(s.atom_names), 3) and s.atom_residue.shape == (len(s.atom_names),)
    assert s.atom_residue.numel() == 0 or int(s.atom_residue.max()) < r
    atom_lines = sum(1 for ln in data.split(b"\n") if ln.startswith(b"ATOM  "))
    assert len(s.atom_names) <= atom_lines
    return s


@fuzz_settings()
@given(st.binary(max_size=300))
def test_arbitrary_bytes(data):
    _check(data)


@fuzz_settings()
@given(pdb_files())
def test_valid_files_read_exactly(case):
    text, expected = case
    s = _check(text.encode())
    assert s is not None
    assert list(s.residue_ids) == [k for k, _, _ in expected]
    assert list(s.residue_names) == [n for _, n, _ in expected]
    np.testing.assert_array_equal(s.backbone.numpy(), np.array([b for _, _, b in expected], dtype=np.float64))
    assert len(s.atom_names) == 4 * len(expected)  # N, CA, C, O; hydrogens and HETATM water dropped


@fuzz_settings()
@given(mutated(pdb_files().map(lambda c: c[0].encode())))
def test_mutated_files(data):
    _check(data)


@pytest.mark.parametrize("bad", ["   1_0.000", "     nan", "  1.0e999", "     ١.٠"])
def test_coordinates_python_accepts_but_pdb_does_not(bad):
    line = atom(1, "CA", "GLY", "A", 1, 0.0, 0.0, 0.0, element="C")
    line = line[:30] + f"{bad[-8:]:>8}" + line[38:]
    with pytest.raises(ValueError, match="x coordinate"):
        parse_pdb(line + "\n")


def test_line_breaks_are_newlines_only():
    # a form feed inside a record is not a line break (str.splitlines() would split there)
    n, ca, c = (atom(i + 1, a, "GLY", "A", 1, float(i), 0.0, 0.0) for i, a in enumerate(("N", "CA", "C")))
    s = parse_pdb("REMARK 1 a\x0cb\n" + "\r".join([n, ca, c]) + "\r")
    assert s.num_residues == 1 and s.backbone[0, :, 0].tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(ValueError, match="line 3"):
        parse_pdb("REMARK\x0c\x1cx\n" + n + "\n" + ca[:40] + "\n")
    with pytest.raises(ValueError, match="residue number"):
        parse_pdb(n[:22] + " 1_0" + n[26:] + "\n")
