r"""Decoy sets for model quality assessment: residue graphs with per-residue and global labels.

:func:`load_decoy_set` reads the ProteinGCN layout (``shared/data/proteins/proteingcn_decoys``)::

    <root>/<target>/native.pdb
    <root>/<target>/<decoy>.pdb                per-model structure
    <root>/<target>/<decoy>.pdb.error          "#RES Dist(A) lDDT_CA(%)" (lDDT_CA as a fraction)
    <root>/<target>/TM.dat                     "<n> <decoy>.pdb RMSD GDT-TS GDT-HA" (optional)

Per-residue label ``y`` = lDDT_CA from the ``.error`` file (residues matched by order; the
counts must agree), global label ``y_global`` = mean of ``y`` (S-GCN's global score is the mean
of its local predictions), and GDT-TS from ``TM.dat`` kept in :attr:`DecoySet.gdt_ts`. With
``include_native=True`` the native joins as a model with labels 1 (lDDT of itself).

:func:`synthetic_decoy_set` builds the same structure from :mod:`.synthetic` (no files).
Targets, never decoys of one target, are split with :func:`sampling.random_group_split` /
:func:`sampling.leave_one_group_out` over :attr:`DecoySet.targets`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence, Union

import torch

from graphnets.protein.pdb import PDBFormatError, read_pdb
from graphnets.protein.residue_graph import ResidueGraph, residue_graph
from graphnets.protein.synthetic import synthetic_decoy, synthetic_native

__all__ = ["DecoySet", "load_decoy_set", "read_error_file", "synthetic_decoy_set"]


@dataclass
class DecoySet:
    """Residue graphs of every model, with labels, and side tables."""

    graphs: list[ResidueGraph]
    gdt_ts: dict[str, float] = field(default_factory=dict)

    @property
    def targets(self) -> list[str]:
        return sorted({g.targets[0] for g in self.graphs})

    def subset(self, targets: Sequence[str]) -> "DecoySet":
        keep = set(targets)
        gs = [g for g in self.graphs if g.targets[0] in keep]
        return DecoySet(gs, {g.names[0]: self.gdt_ts[g.names[0]] for g in gs if g.names[0] in self.gdt_ts})

    def __len__(self) -> int:
        return len(self.graphs)


def read_error_file(path: Union[str, os.PathLike]) -> torch.Tensor:
    """lDDT_CA column of a ProteinGCN ``.error`` file -> float32 ``[R]``."""
    values: list[float] = []
    for lineno, line in enumerate(Path(path).read_text().splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split()
        if len(parts) < 3:
            raise PDBFormatError(f"read_error_file: {path}, line {lineno}: expected 'RES DIST LDDT' (got {line!r})")
        try:
            values.append(float(parts[2]))
        except ValueError:
            raise PDBFormatError(
                f"read_error_file: {path}, line {lineno}: non-numeric lDDT (got {parts[2]!r})"
            ) from None
    if not values:
        raise PDBFormatError(f"read_error_file: {path} holds no residue lines (got an empty table)")
    return torch.tensor(values, dtype=torch.float32)


def _read_tm(path: Path) -> dict[str, float]:
    out: dict[str, float] = {}
    if not path.is_file():
        return out
    for line in path.read_text().splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 4:
            try:
                out[parts[1]] = float(parts[3])
            except ValueError:
                continue
    return out


def load_decoy_set(
    root: Union[str, os.PathLike],
    *,
    order: int = 5,
    cutoff: float = 10.0,
    contacts: str = "ca",
    targets: Optional[Sequence[str]] = None,
    include_native: bool = False,
) -> DecoySet:
    """Read every ``<root>/<target>/*.pdb`` with a ``.error`` label file into a :class:`DecoySet`.

    ``order``, ``cutoff`` and ``contacts`` are passed to :func:`residue_graph`.

    Raises:
        FileNotFoundError: ``root`` is not a directory or holds no labelled model.
        PDBFormatError: unreadable structures or residue counts that disagree with the labels.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"load_decoy_set: no directory {str(root)!r}")
    dirs = sorted(p for p in root.iterdir() if p.is_dir())
    if targets is not None:
        dirs = [d for d in dirs if d.name in set(targets)]
    graphs: list[ResidueGraph] = []
    gdt: dict[str, float] = {}
    for tdir in dirs:
        tm = _read_tm(tdir / "TM.dat")
        for pdb in sorted(tdir.glob("*.pdb")):
            err = pdb.with_name(pdb.name + ".error")
            is_native = pdb.name == "native.pdb"
            if not err.is_file() and not (is_native and include_native):
                continue
            structure = read_pdb(pdb)
            name = f"{tdir.name}/{pdb.name[:-4]}"
            if is_native:
                y = torch.ones(structure.num_residues)
                gdt[name] = 1.0
            else:
                y = read_error_file(err)
                if y.numel() != structure.num_residues:
                    raise PDBFormatError(
                        f"load_decoy_set: {pdb} has {structure.num_residues} residues but {err.name} labels "
                        f"{y.numel()} (got mismatched files)"
                    )
                if pdb.name in tm:
                    gdt[name] = tm[pdb.name]
            g = residue_graph(structure, order=order, cutoff=cutoff, contacts=contacts, name=name, target=tdir.name)
            graphs.append(g.with_labels(y, y.mean().reshape(1)))
    if not graphs:
        raise FileNotFoundError(f"load_decoy_set: no labelled models (*.pdb with *.pdb.error) under {str(root)!r}")
    return DecoySet(graphs, gdt)


def synthetic_decoy_set(
    num_targets: int = 4,
    decoys_per_target: int = 6,
    length: int = 40,
    *,
    generator: torch.Generator,
    order: int = 5,
    cutoff: float = 10.0,
    max_amplitude: float = 6.0,
) -> DecoySet:
    """Synthetic targets (:func:`.synthetic.synthetic_native`) with decoys of increasing amplitude."""
    if num_targets < 1 or decoys_per_target < 2:
        raise ValueError(
            "synthetic_decoy_set: need num_targets >= 1 and decoys_per_target >= 2 "
            f"(got {num_targets}, {decoys_per_target})"
        )
    graphs: list[ResidueGraph] = []
    for t in range(num_targets):
        target = f"syn{t:03d}"
        native = synthetic_native(length, generator, name=target)
        for d in range(decoys_per_target):
            amp = max_amplitude * (0.1 + 0.9 * float(torch.rand(1, generator=generator)))
            decoy, y = synthetic_decoy(native, amp, generator, name=f"{target}/d{d:02d}")
            g = residue_graph(decoy, order=order, cutoff=cutoff, name=f"{target}/d{d:02d}", target=target)
            y = y.to(torch.float32)
            graphs.append(g.with_labels(y, y.mean().reshape(1)))
    return DecoySet(graphs)
