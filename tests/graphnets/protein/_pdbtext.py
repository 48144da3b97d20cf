"""Tiny hand-written PDB texts for reader tests (fixed columns, wwPDB v3.3)."""

from __future__ import annotations


def atom(
    serial: int,
    name: str,
    res: str,
    chain: str,
    seq: int,
    x: float,
    y: float,
    z: float,
    altloc: str = " ",
    icode: str = " ",
    element: str = "",
    record: str = "ATOM",
) -> str:
    name_field = f" {name:<3}" if len(name) < 4 else name
    return (
        f"{record:<6}{serial:>5} {name_field}{altloc}{res:>3} {chain}{seq:>4}{icode}   "
        f"{x:>8.3f}{y:>8.3f}{z:>8.3f}{1.0:>6.2f}{0.0:>6.2f}          {element:>2}"
    )


def residue(serial: int, res: str, seq: int, origin: float, **kw) -> list[str]:
    """N, CA, C, O and one hydrogen of a residue placed near ``origin`` along x."""
    return [
        atom(serial, "N", res, "A", seq, origin, 1.0, 0.0, element="N", **kw),
        atom(serial + 1, "CA", res, "A", seq, origin + 1.0, 0.0, 0.0, element="C", **kw),
        atom(serial + 2, "C", res, "A", seq, origin + 2.0, 0.8, 0.3, element="C", **kw),
        atom(serial + 3, "O", res, "A", seq, origin + 2.2, 1.9, 0.5, element="O", **kw),
        atom(serial + 4, "H", res, "A", seq, origin - 0.5, 1.8, 0.0, element="H", **kw),
    ]


def three_residues() -> str:
    lines = ["HEADER    TEST"]
    lines += residue(1, "GLY", 1, 0.0)
    lines += residue(6, "ALA", 2, 3.8)
    lines += residue(11, "TRP", 3, 7.6)
    lines += ["TER", "END"]
    return "\n".join(lines) + "\n"
