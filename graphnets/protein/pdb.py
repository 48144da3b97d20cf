r"""A small, strict PDB reader: ATOM records -> residues with backbone N / CA / C coordinates.

Only what S-GCN needs (Igashov, Pavlichenko, Grudinin, *Spherical convolutions on molecular
graphs for protein model quality assessment*, Mach. Learn.: Sci. Technol. 2021): residue
types, backbone atoms for the local frames, heavy atoms for geometric node features.

Policies (explicit, because every PDB reader differs here):

* **Records.** Fixed-column ``ATOM`` records (columns per the wwPDB v3.3 format). ``HETATM``
  records are ignored unless ``hetatm=True`` (so modified residues such as MSE are dropped by
  default, as the official S-GCN cleaner drops unknown atoms). Only the first ``MODEL`` is read
  (reading stops at the first ``ENDMDL``); ``TER``/``END`` lines are skipped.
* **Hydrogens** (element ``H`` or ``D``; when the element columns 77-78 are blank, the first
  letter of the atom name after leading digits, e.g. ``1HB``) are dropped unless
  ``keep_hydrogens=True``. The official pipeline strips them before Voronota as well.
* **Alternate locations.** Per residue, records with a blank altloc are always kept; among
  non-blank altlocs the *first one met in the file* is kept and the others are dropped, so
  every atom name appears once. (Biopython keeps the highest-occupancy altloc instead; we
  keep the first one met, chosen per residue so a residue never mixes conformers. How the
  official binaries treat altlocs was not checked.)
* **Insertion codes.** A residue is keyed by ``(chain, resSeq, iCode)``, so insertion residues
  (``60A``, ``60B``...) are separate residues: ``insertion_codes="keep"`` (the default).
  ``"skip"`` drops them, reproducing the official ``sh-featurizer`` binary (which ignores
  residues with an insertion code: 1a4w pocket 61 -> 54 residues); ``"error"`` rejects them.
* **Residue types.** The 20 standard amino acids map to indices 0..19 in the order of
  :data:`RESIDUE_TYPES` (alphabetical three-letter codes, as the official one-hot); any other
  residue name gets -1 (an all-zero one-hot row).
* **Backbone.** Each residue needs ``N``, ``CA`` and ``C``. ``missing_backbone="error"`` (the
  default) raises a :class:`PDBFormatError` naming the residue; ``"drop"`` removes such residues
  with a warning.

Errors: an empty file, a file without ATOM records, a non-numeric coordinate or a missing
backbone atom raise :class:`PDBFormatError` (a ``ValueError``) that names the function, the
source, the line number where one applies and what was received.
"""

from __future__ import annotations

import math
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Union

import torch
from torch import Tensor

__all__ = ["PDBFormatError", "ProteinStructure", "RESIDUE_TYPES", "read_pdb", "parse_pdb"]

#: The 20 standard amino acids, in the order of the one-hot encoding.
RESIDUE_TYPES: tuple[str, ...] = (
    "ALA",
    "ARG",
    "ASN",
    "ASP",
    "CYS",
    "GLN",
    "GLU",
    "GLY",
    "HIS",
    "ILE",
    "LEU",
    "LYS",
    "MET",
    "PHE",
    "PRO",
    "SER",
    "THR",
    "TRP",
    "TYR",
    "VAL",
)
_TYPE_INDEX = {name: i for i, name in enumerate(RESIDUE_TYPES)}
_BACKBONE = ("N", "CA", "C")
# Fixed-column numbers as the format writes them (Real(8.3), Integer(4)); Python's float()/int()
# would also take '1_0.5' or non-ASCII digits, which no PDB writer produces. nan/inf pass here
# and are refused as non-finite.
_REAL = re.compile(r"[ ]*[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?[ ]*|[ ]*[-+]?(?i:nan|inf|infinity)[ ]*")
_INT = re.compile(r"[ ]*[-+]?[0-9]+[ ]*")


class PDBFormatError(ValueError):
    """A PDB file that cannot be turned into residues (empty, malformed, missing backbone)."""


@dataclass(frozen=True)
class ProteinStructure:
    """Residues of one protein model, in file order.

    Attributes:
        residue_names: three-letter residue names, ``[R]``.
        residue_ids: ``(chain, resSeq, iCode)`` per residue, ``[R]``.
        residue_type: int64 ``[R]``, index into :data:`RESIDUE_TYPES` or -1 for non-standard.
        backbone: float64 ``[R, 3, 3]``, coordinates of ``N``, ``CA``, ``C`` (in this order).
        atom_coords: float64 ``[A, 3]``, every kept atom (heavy atoms unless hydrogens kept).
        atom_names: atom names ``[A]``.
        atom_residue: int64 ``[A]``, residue index of each atom.
        source: where the structure came from (path or ``"<string>"``), for messages.
    """

    residue_names: tuple[str, ...]
    residue_ids: tuple[tuple[str, int, str], ...]
    residue_type: Tensor
    backbone: Tensor
    atom_coords: Tensor
    atom_names: tuple[str, ...]
    atom_residue: Tensor
    source: str = field(default="<string>")

    @property
    def num_residues(self) -> int:
        return len(self.residue_names)

    @property
    def ca(self) -> Tensor:
        """CA coordinates, float64 ``[R, 3]``."""
        return self.backbone[:, 1]

    def transformed(self, rotation: Tensor, translation: Tensor) -> "ProteinStructure":
        """A copy with every coordinate mapped ``x -> R x + t`` (``rotation`` ``[3, 3]``, ``translation`` ``[3]``)."""
        if rotation.shape != (3, 3) or translation.shape != (3,):
            raise ValueError(
                "ProteinStructure.transformed: expected rotation [3, 3] and translation [3] "
                f"(got {tuple(rotation.shape)} and {tuple(translation.shape)})"
            )
        rot = rotation.to(self.backbone)
        shift = translation.to(self.backbone)
        return ProteinStructure(
            residue_names=self.residue_names,
            residue_ids=self.residue_ids,
            residue_type=self.residue_type,
            backbone=self.backbone @ rot.T + shift,
            atom_coords=self.atom_coords @ rot.T + shift,
            atom_names=self.atom_names,
            atom_residue=self.atom_residue,
            source=self.source,
        )

    def __repr__(self) -> str:
        return (
            f"ProteinStructure(source={self.source!r}, num_residues={self.num_residues}, "
            f"num_atoms={len(self.atom_names)})"
        )


def _is_hydrogen(line: str, name: str) -> bool:
    element = line[76:78].strip() if len(line) >= 78 else ""
    if element:
        return element.upper() in ("H", "D")
    stripped = name.lstrip("0123456789")
    return stripped[:1].upper() in ("H", "D")


def _coordinate(line: str, start: int, stop: int, axis: str, lineno: int, source: str) -> float:
    text = line[start:stop]
    if not _REAL.fullmatch(text):
        raise PDBFormatError(
            f"read_pdb: non-numeric {axis} coordinate in {source}, line {lineno}, columns {start + 1}-{stop} "
            f"(got {text!r})"
        )
    value = float(text)
    if not math.isfinite(value):
        raise PDBFormatError(f"read_pdb: non-finite {axis} coordinate in {source}, line {lineno} (got {text!r})")
    return value


def parse_pdb(
    text: str,
    *,
    source: str = "<string>",
    hetatm: bool = False,
    keep_hydrogens: bool = False,
    insertion_codes: str = "keep",
    missing_backbone: str = "error",
) -> ProteinStructure:
    """Parse PDB text into a :class:`ProteinStructure` (see the module docstring for policies).

    Args:
        text: the content of a PDB file.
        source: a name used in error messages.
        hetatm: also read ``HETATM`` records.
        keep_hydrogens: keep hydrogen / deuterium atoms.
        insertion_codes: ``"keep"`` | ``"skip"`` | ``"error"``.
        missing_backbone: ``"error"`` | ``"drop"``.

    Raises:
        TypeError: ``text`` is not a string.
        PDBFormatError: empty input, no ATOM records, bad coordinates, missing backbone atoms.
        ValueError: an unknown policy.
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_pdb: text must be a str (got {type(text).__name__})")
    if insertion_codes not in ("keep", "skip", "error"):
        raise ValueError(f"parse_pdb: insertion_codes must be 'keep', 'skip' or 'error' (got {insertion_codes!r})")
    if missing_backbone not in ("error", "drop"):
        raise ValueError(f"parse_pdb: missing_backbone must be 'error' or 'drop' (got {missing_backbone!r})")
    if not text.strip():
        raise PDBFormatError(f"read_pdb: {source} is empty (got {len(text)} characters, no ATOM records)")

    records = ("ATOM  ", "HETATM") if hetatm else ("ATOM  ",)
    keys: list[tuple[str, int, str]] = []
    res_names: dict[tuple[str, int, str], str] = {}
    res_atoms: dict[tuple[str, int, str], dict[str, tuple[float, float, float]]] = {}
    res_altloc: dict[tuple[str, int, str], str] = {}
    # Universal newlines ('\n', '\r\n', '\r', as open() reads text); str.splitlines() would also cut
    # at form feeds, '\x1c'..'\x1e' or U+2028 and shift every later line number and record.
    for lineno, line in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), start=1):
        if line.startswith("ENDMDL"):
            break
        if not line[:6].ljust(6).startswith(records):
            continue
        if len(line) < 54:
            raise PDBFormatError(
                f"read_pdb: truncated {line[:6].strip()} record in {source}, line {lineno} "
                f"(expected at least 54 columns for x, y, z; got {len(line)})"
            )
        name = line[12:16].strip()
        if not keep_hydrogens and _is_hydrogen(line, name):
            continue
        altloc = line[16].strip()
        res_name = line[17:20].strip()
        chain = line[21].strip()
        seq_text = line[22:26]
        if not _INT.fullmatch(seq_text):
            raise PDBFormatError(
                f"read_pdb: non-numeric residue number in {source}, line {lineno}, columns 23-26 (got {seq_text!r})"
            )
        res_seq = int(seq_text)
        icode = line[26].strip()
        key = (chain, res_seq, icode)
        if icode and insertion_codes == "error":
            raise PDBFormatError(
                f"read_pdb: residue {res_name} {chain}{res_seq}{icode} in {source}, line {lineno} has an insertion "
                "code (insertion_codes='error'; use 'keep' or 'skip')"
            )
        if icode and insertion_codes == "skip":
            continue
        xyz = (
            _coordinate(line, 30, 38, "x", lineno, source),
            _coordinate(line, 38, 46, "y", lineno, source),
            _coordinate(line, 46, 54, "z", lineno, source),
        )
        if key not in res_atoms:
            keys.append(key)
            res_names[key] = res_name
            res_atoms[key] = {}
        if altloc:
            chosen = res_altloc.setdefault(key, altloc)
            if altloc != chosen:
                continue
        res_atoms[key].setdefault(name, xyz)  # the first record of an atom name wins

    if not keys:
        raise PDBFormatError(f"read_pdb: no {' or '.join(r.strip() for r in records)} records in {source} (got none)")

    kept: list[tuple[str, int, str]] = []
    for key in keys:
        missing = [a for a in _BACKBONE if a not in res_atoms[key]]
        if not missing:
            kept.append(key)
            continue
        label = f"{res_names[key]} {key[0] or '-'}{key[1]}{key[2]}"
        if missing_backbone == "error":
            raise PDBFormatError(
                f"read_pdb: residue {label} in {source} lacks backbone atom(s) {', '.join(missing)} "
                f"(got {sorted(res_atoms[key])}; pass missing_backbone='drop' to skip such residues)"
            )
        warnings.warn(f"read_pdb: dropping residue {label} of {source}: no {', '.join(missing)}", stacklevel=3)
    if not kept:
        raise PDBFormatError(f"read_pdb: no residue of {source} has a complete N/CA/C backbone")

    backbone = torch.tensor([[res_atoms[k][a] for a in _BACKBONE] for k in kept], dtype=torch.float64)  # [R, 3, 3]
    coords: list[tuple[float, float, float]] = []
    names: list[str] = []
    owner: list[int] = []
    for r, key in enumerate(kept):
        for atom_name, xyz in res_atoms[key].items():
            coords.append(xyz)
            names.append(atom_name)
            owner.append(r)
    return ProteinStructure(
        residue_names=tuple(res_names[k] for k in kept),
        residue_ids=tuple(kept),
        residue_type=torch.tensor([_TYPE_INDEX.get(res_names[k], -1) for k in kept], dtype=torch.int64),
        backbone=backbone,
        atom_coords=torch.tensor(coords, dtype=torch.float64).reshape(-1, 3),
        atom_names=tuple(names),
        atom_residue=torch.tensor(owner, dtype=torch.int64),
        source=source,
    )


def read_pdb(path: Union[str, os.PathLike], **kwargs) -> ProteinStructure:
    """Read a PDB file (``.pdb``; ``.gz`` is decompressed) into a :class:`ProteinStructure`.

    Keyword arguments are those of :func:`parse_pdb`.

    Example (two residues' backbone atoms, columns as the format fixes them):
        >>> import pathlib, tempfile
        >>> atoms = [("N", 1, "GLY", 11.104, 6.134, -6.504), ("CA", 1, "GLY", 11.639, 6.071, -5.147),
        ...          ("C", 1, "GLY", 13.149, 6.188, -5.168), ("N", 2, "ALA", 13.730, 6.330, -3.975),
        ...          ("CA", 2, "ALA", 15.180, 6.450, -3.870), ("C", 2, "ALA", 15.700, 7.860, -4.100)]
        >>> text = "".join(f"ATOM  {i:5d}  {name:<3s} {res} A{seq:4d}    {x:8.3f}{y:8.3f}{z:8.3f}  1.00  0.00\\n"
        ...                for i, (name, seq, res, x, y, z) in enumerate(atoms, 1))
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "two.pdb"
        >>> _ = path.write_text(text)
        >>> s = read_pdb(path)
        >>> s.num_residues, s.backbone.shape
        (2, torch.Size([2, 3, 3]))
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"read_pdb: path must be a str or os.PathLike (got {type(path).__name__})")
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"read_pdb: no such file {str(p)!r}")
    if p.suffix == ".gz":
        import gzip

        with gzip.open(p, "rt", encoding="ascii", errors="replace") as fh:
            text = fh.read()
    else:
        text = p.read_text(encoding="ascii", errors="replace")
    return parse_pdb(text, source=str(p), **kwargs)
